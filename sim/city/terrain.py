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

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import shapely
from shapely.geometry import LineString, Polygon

from sim.city.model import City
from sim.core.errors import InputError
from sim.scenario.schema import TerrainConfig

GRID_MARGIN_M = 200.0
MAX_GRID_CELLS = 4_000_000
# Measures the distance to the water at every point of a grid: (water, gx, gy) -> distances, gx's shape.
GridDistance = Callable[[shapely.Geometry, np.ndarray, np.ndarray], np.ndarray]


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

    def flat_cells_of(self, xy: np.ndarray) -> np.ndarray:
        """Each metric point's cell as one index into the raveled grid (row x columns + column).

        Gathering from a grid by one index is about 4 x quicker than by row and column.
        """
        r, c = self.cells_of(xy)
        flat: np.ndarray = r * self.height.shape[1] + c
        return flat

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


def derived_terrain(city: City, config: TerrainConfig, distance: GridDistance | None = None) -> Terrain:
    """Height rising with distance from the water (see the module docstring).

    ``distance``: how the distance to the water is measured on the grid (:func:`distance_on_grid`
    unless given; the engine gives its compiled kernel, which returns the same numbers).
    """
    water = _water_geometry(city, config)
    cell = float(config.resolution_m)
    x0, y0, rows, cols = _grid_frame(city, cell)
    if rows * cols > MAX_GRID_CELLS:
        cell *= float(np.sqrt(rows * cols / MAX_GRID_CELLS))
        x0, y0, rows, cols = _grid_frame(city, cell)
    t = Terrain(x0=x0, y0=y0, cell_m=cell, height=np.zeros((rows, cols)), source="derived", water=water)
    gx, gy = t.cell_centres()
    dist = (distance or distance_on_grid)(water, gx, gy).ravel()
    # Inside the water the "ground" is the bank height: the river or sea in its normal bed is not
    # a flood, and bridges cross it at bank level.
    h = config.bank_m + config.slope * dist
    t.height = h.reshape(rows, cols)
    return t


BLOCK = 8  # cells per side of a block of the grid that shares its candidate edges (distance_on_grid)


def water_edges(water: shapely.Geometry) -> np.ndarray | None:
    """Every edge of the water's rings, ``(edges, 2 ends, xy)``, or None.

    None when the water is not polygons: GEOS then measures it directly.
    """
    parts = shapely.get_parts(water)
    if len(parts) == 0 or not (shapely.get_type_id(parts) == shapely.GeometryType.POLYGON).all():
        return None
    edges = []
    for ring in shapely.get_rings(parts):
        c = shapely.get_coordinates(ring)
        edges.append(np.stack([c[:-1], c[1:]], axis=1))
    return np.concatenate(edges)


def grid_axes(gx: np.ndarray, gy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The x of each column and the y of each row of a regular grid (``np.meshgrid(xs, ys)``).

    Raises:
        ValueError: the points are not such a grid (the blocks of :func:`distance_on_grid` need one).
    """
    regular = gx.ndim == 2 and gx.shape == gy.shape
    xs, ys = (gx[0], gy[:, 0]) if regular else (gx, gy)
    if not (
        regular
        and np.array_equal(gx, np.broadcast_to(xs, gx.shape))
        and np.array_equal(gy, np.broadcast_to(ys[:, None], gy.shape))
    ):
        msg = "distance_on_grid needs a regular grid, as np.meshgrid(xs, ys) makes it"
        raise ValueError(msg)
    return xs, ys


def in_water(water: shapely.Geometry, gx: np.ndarray, gy: np.ndarray) -> np.ndarray:
    """Whether each point is inside the water or on its shore (where GEOS's distance is 0)."""
    shapely.prepare(water)
    return np.asarray(shapely.intersects_xy(water, gx, gy))


def distance_on_grid(water: shapely.Geometry, gx: np.ndarray, gy: np.ndarray) -> np.ndarray:
    """``shapely.distance(water, point)`` at every point of a regular grid, the same numbers, faster.

    GEOS measures a point outside a polygon against every edge of every ring and keeps the least
    (0 inside). Here each block of ``BLOCK`` x ``BLOCK`` points is measured by GEOS against only
    the edges that can be nearest to one of its points: those within the least distance from the
    block's centre plus the block's diameter (by the triangle inequality, with room for rounding).
    The least of those is the least of all, computed by the same GEOS code, so the result equals
    ``shapely.distance`` exactly; water that is not polygons is measured by it directly. The
    compiled kernel (:func:`sim.engine.kernels.distance_on_grid`) does the same without GEOS.
    """
    xs, ys = grid_axes(gx, gy)
    pts = shapely.points(gx.ravel(), gy.ravel())
    seg = water_edges(water)
    if seg is None:
        shapely.prepare(water)
        return np.asarray(shapely.distance(water, pts)).reshape(gx.shape)
    a, b = seg[:, 0], seg[:, 1]
    ab = b - a
    len2 = np.maximum((ab**2).sum(axis=1), 1e-300)
    # Blocks row by row; each block's extent from the grid's axes (x along a row, y along a column).
    rows, cols = gx.shape
    lo_x, hi_x = _block_extent(xs)
    lo_y, hi_y = _block_extent(ys)
    block_of = ((np.arange(rows)[:, None] // BLOCK) * len(lo_x) + np.arange(cols)[None, :] // BLOCK).ravel()
    n_blocks = len(lo_y) * len(lo_x)
    cx, cy = np.meshgrid((lo_x + hi_x) / 2.0, (lo_y + hi_y) / 2.0)
    centre = np.column_stack([cx.ravel(), cy.ravel()])
    rx, ry = np.meshgrid(hi_x - lo_x, hi_y - lo_y)
    radius = np.hypot(rx.ravel(), ry.ravel()) / 2.0
    lines = shapely.linestrings(seg)
    per_block = np.empty(n_blocks, dtype=object)
    chunk = max(1, 2_000_000 // len(seg))  # blocks at a time: a few tens of MB whatever the water
    for k0 in range(0, n_blocks, chunk):
        c = centre[k0 : k0 + chunk]
        # Distance from each block's centre to each edge (close to GEOS's; only to pick candidates).
        ac = c[:, None, :] - a[None, :, :]
        r = np.clip((ac * ab[None, :, :]).sum(axis=2) / len2[None, :], 0.0, 1.0)
        near = a[None, :, :] + r[..., None] * ab[None, :, :]
        d_centre = np.hypot(c[:, None, 0] - near[..., 0], c[:, None, 1] - near[..., 1])
        least = d_centre.min(axis=1)
        rad = radius[k0 : k0 + chunk]
        slack = 1e-6 * (1.0 + least + rad)  # rounding of these estimates, generously
        candidate = d_centre <= (least + 2.0 * rad + slack)[:, None]
        for j in range(len(c)):
            per_block[k0 + j] = shapely.multilinestrings(lines[candidate[j]])
    dist = np.asarray(shapely.distance(per_block[block_of], pts))
    dist[in_water(water, gx.ravel(), gy.ravel())] = 0.0  # inside the water (or on its shore): GEOS says 0
    return dist.reshape(gx.shape)


def _block_extent(axis: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Lowest and highest coordinate of each run of ``BLOCK`` points along a grid axis."""
    first = np.arange(0, len(axis), BLOCK)
    last = np.minimum(first + BLOCK, len(axis)) - 1
    return np.minimum(axis[first], axis[last]), np.maximum(axis[first], axis[last])


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


def build_terrain(city: City, config: TerrainConfig, distance: GridDistance | None = None) -> Terrain:
    """The city's terrain: the DEM if given, else derived from the water (``distance``: see :func:`derived_terrain`)."""
    if config.dem is not None:
        return dem_terrain(city, config)
    return derived_terrain(city, config, distance)


__all__ = ["Terrain", "build_terrain", "dem_terrain", "derived_terrain"]
