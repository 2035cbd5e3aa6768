"""Ground height over the city, on a regular metric grid: from a DEM, or derived from the water.

Floods and tsunamis judge depth as water level minus ground height, so every city needs a
terrain. A user's GeoTIFF DEM (any CRS) is sampled onto the city's grid; it must cover every
road node of the city. Without a DEM the terrain is derived: the ground rises linearly with the
distance from the nearest water, ``bank_m + slope * distance`` (``bank_m`` over the water itself,
so the water in its normal bed is no flood and bridges cross at bank level), where the
water is ``city.terrain.water`` if given, else the city's own water (OSM water, the synthetic
river or coast). docs/hazards.md explains the choice.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely
from shapely.geometry import LineString, Polygon

from sim.city.model import City
from sim.core.errors import InputError
from sim.scenario.schema import TerrainConfig

GRID_MARGIN_M = 200.0
MAX_GRID_CELLS = 4_000_000


@dataclass
class Terrain:
    """Ground height (m, the water's normal level is 0 for derived terrain) on a metric grid.

    Attributes:
        x0, y0: the grid's lower-left corner (metric, the city's CRS).
        cell_m: cell size.
        height: array (rows, cols); row 0 is the southern edge.
        source: ``dem`` or ``derived``.
        water: metric water geometry the derived terrain was built from (None for a DEM).
    """

    x0: float
    y0: float
    cell_m: float
    height: np.ndarray
    source: str
    water: shapely.Geometry | None = None

    @property
    def shape(self) -> tuple[int, int]:
        """(rows, cols) of the grid."""
        return self.height.shape

    def cell_centres(self) -> tuple[np.ndarray, np.ndarray]:
        """Metric x and y of every cell centre, each of the grid's shape."""
        rows, cols = self.height.shape
        xs = self.x0 + (np.arange(cols) + 0.5) * self.cell_m
        ys = self.y0 + (np.arange(rows) + 0.5) * self.cell_m
        return np.meshgrid(xs, ys)

    def cells_of(self, xy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Row and column of the cell holding each metric point (clamped to the grid)."""
        rows, cols = self.height.shape
        c = np.clip(((xy[:, 0] - self.x0) / self.cell_m).astype(np.int64), 0, cols - 1)
        r = np.clip(((xy[:, 1] - self.y0) / self.cell_m).astype(np.int64), 0, rows - 1)
        return r, c

    def height_at(self, xy: np.ndarray) -> np.ndarray:
        """Ground height at metric points (the height of the cell they fall in)."""
        xy = np.asarray(xy, dtype=float).reshape(-1, 2)
        r, c = self.cells_of(xy)
        return self.height[r, c]


def _grid_frame(city: City, cell_m: float) -> tuple[float, float, int, int]:
    xy = city.node_xy
    x0, y0 = xy.min(axis=0) - GRID_MARGIN_M
    x1, y1 = xy.max(axis=0) + GRID_MARGIN_M
    for poly in city.buildings.geometry if len(city.buildings) else []:
        bx0, by0, bx1, by1 = poly.bounds
        x0, y0, x1, y1 = min(x0, bx0), min(y0, by0), max(x1, bx1), max(y1, by1)
    cols = max(1, int(np.ceil((x1 - x0) / cell_m)))
    rows = max(1, int(np.ceil((y1 - y0) / cell_m)))
    return float(x0), float(y0), rows, cols


def _water_geometry(city: City, config: TerrainConfig) -> shapely.Geometry:
    if config.water is not None:
        xy = city.xy_of_lonlat(np.array(config.water, dtype=float))
        closed = len(xy) >= 4 and np.allclose(xy[0], xy[-1])
        if closed:
            return Polygon(xy).buffer(0)
        return LineString(xy).buffer(max(config.water_width_m / 2.0, 0.5))
    if len(city.water):
        return shapely.union_all(city.water.geometry.values)
    raise InputError.single(
        "city.terrain",
        "the city has no water to derive the ground height from: give city.terrain.dem (a GeoTIFF) "
        "or city.terrain.water (the river or shore as [[lon, lat], ...])",
    )


def derived_terrain(city: City, config: TerrainConfig) -> Terrain:
    """Height rising with distance from the water (see the module docstring)."""
    water = _water_geometry(city, config)
    cell = float(config.resolution_m)
    x0, y0, rows, cols = _grid_frame(city, cell)
    if rows * cols > MAX_GRID_CELLS:
        cell *= float(np.sqrt(rows * cols / MAX_GRID_CELLS))
        x0, y0, rows, cols = _grid_frame(city, cell)
    t = Terrain(x0=x0, y0=y0, cell_m=cell, height=np.zeros((rows, cols)), source="derived", water=water)
    gx, gy = t.cell_centres()
    pts = shapely.points(gx.ravel(), gy.ravel())
    shapely.prepare(water)
    dist = shapely.distance(water, pts)
    # Inside the water the "ground" is the bank height: the river or sea in its normal bed is not
    # a flood, and bridges cross it at bank level.
    h = config.bank_m + config.slope * dist
    t.height = h.reshape(rows, cols)
    return t


def dem_terrain(city: City, config: TerrainConfig) -> Terrain:
    """Sample a GeoTIFF DEM onto the city's grid; it must cover every road node.

    Raises:
        InputError: (``city.terrain.dem``) unreadable file, no CRS, not covering the city, or
            no-data cells under the city.
    """
    import rasterio
    from pyproj import Transformer

    field = "city.terrain.dem"
    path = config.dem
    try:
        src = rasterio.open(path)
    except Exception as exc:  # rasterio raises its own error types for every unreadable file
        raise InputError.single(field, f"not a readable raster (GeoTIFF expected): {exc}") from None
    with src:
        if src.crs is None:
            raise InputError.single(field, "the raster has no coordinate reference system")
        band = src.read(1, masked=True).astype(float)
        to_dem = Transformer.from_crs(city.crs, src.crs, always_xy=True)
        inverse = ~src.transform

        def sample(xy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
            dx, dy = to_dem.transform(xy[:, 0], xy[:, 1])
            dx, dy = np.asarray(dx), np.asarray(dy)
            col = np.floor(inverse.a * dx + inverse.b * dy + inverse.c).astype(np.int64)
            row = np.floor(inverse.d * dx + inverse.e * dy + inverse.f).astype(np.int64)
            inside = (row >= 0) & (row < src.height) & (col >= 0) & (col < src.width)
            values = np.full(len(xy), np.nan)
            rr, cc = row[inside], col[inside]
            vals = band[rr, cc]
            values[inside] = np.where(np.ma.getmaskarray(vals), np.nan, np.ma.getdata(vals))
            return values, inside

        node_h, inside = sample(city.node_xy)
        covered = np.isfinite(node_h)
        if not covered.all():
            share = covered.mean()
            b = src.bounds
            raise InputError.single(
                field,
                f"does not cover the city: {share:.0%} of its road nodes lie on the raster "
                f"({int((~inside).sum())} outside its bounds [{b.left:g}, {b.bottom:g}, {b.right:g}, {b.top:g}] "
                f"in {src.crs}, {int((inside & ~covered).sum())} on no-data cells)",
            )
        cell = float(config.resolution_m)
        x0, y0, rows, cols = _grid_frame(city, cell)
        if rows * cols > MAX_GRID_CELLS:
            cell *= float(np.sqrt(rows * cols / MAX_GRID_CELLS))
            x0, y0, rows, cols = _grid_frame(city, cell)
        t = Terrain(x0=x0, y0=y0, cell_m=cell, height=np.zeros((rows, cols)), source="dem")
        gx, gy = t.cell_centres()
        h, _ = sample(np.column_stack([gx.ravel(), gy.ravel()]))
        # Margin cells beyond the raster get the highest height found under the city's nodes,
        # so no water appears where the DEM says nothing.
        h = np.where(np.isfinite(h), h, float(np.nanmax(node_h)))
        t.height = h.reshape(rows, cols)
    return t


def build_terrain(city: City, config: TerrainConfig) -> Terrain:
    """The city's terrain: the DEM if given, else derived from the water."""
    if config.dem is not None:
        return dem_terrain(city, config)
    return derived_terrain(city, config)


__all__ = ["Terrain", "build_terrain", "dem_terrain", "derived_terrain"]
