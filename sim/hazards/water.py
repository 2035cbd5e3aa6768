"""Floods and tsunamis: water that rises over the terrain while people move.

Both are connected bathtub models (a flat water surface, no flow dynamics) re-evaluated every
``update_every`` seconds from onset:

- depth = water level - ground height (``city.terrain``) on ground below the level that is
  connected (4-neighbour cells) to the water's source: the terrain's water, the ``source``
  points, or else its lowest cells. A basin behind a dyke stays dry until the level tops the
  dyke. Only inside the hazard's area if given; a tsunami with a ``zone`` instead floods the zone
  to the level, whatever the terrain;
- a road deeper than ``drive_closed_depth_m`` at its ends or middle closes to cars, and deeper
  than ``walk_closed_depth_m`` to walkers; it reopens when the water falls back;
- an asset deeper than ``asset_failed_depth_m`` fails (gauges excepted: they stand in water);
  a shelter deeper than ``walk_closed_depth_m`` closes as damaged; people inside stay
  (they go to upper floors);
- anyone outside a shelter loses their footing and becomes a casualty where the water is deeper
  than their group's limit, or where depth x velocity is above it (Cox et al. 2010: adults
  1.2 m / 0.6 m²/s, people with limited mobility 0.5 m / 0.4 m²/s); the velocity is the flood's
  ``velocity_mps`` or, for a tsunami, ``froude x sqrt(g x depth)``. People on a road that closes
  under them walk on to its end as long as they are not caught.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import numpy as np
import shapely
import simpy

from sim.city.terrain import Terrain
from sim.hazards.base import Hazard, World, register
from sim.scenario.hazards import FloodConfig, TsunamiConfig

WET_M = 0.01  # depth below which a cell counts as dry in the footprint
GRAVITY = 9.81


class WaterHazard(Hazard):
    """Shared machinery of floods and tsunamis."""

    config: FloodConfig | TsunamiConfig
    needs_terrain = True
    zone_only = False  # True: depth = level inside the zone, terrain ignored

    # -------------------------------------------------------------- subclasses
    def level(self, t: float) -> float:
        """Water surface elevation at ``t`` (-inf: no water)."""
        raise NotImplementedError

    def area(self) -> Any:
        """Area limit from the config (None: everywhere)."""
        return None

    def sensor_quantities(self) -> tuple[str, ...]:
        """Gauge quantities this hazard shows on."""
        return ("water_level_m", "sea_level_m")

    # -------------------------------------------------------------- setup
    def prepare(self, world: World) -> None:
        """Sample the terrain at roads, nodes, assets and shelters once."""
        from sim.city.select import area_polygon

        city = world.city
        area = self.area()
        self.mask_geom = area_polygon(city, area) if area is not None else None
        if self.mask_geom is not None:
            shapely.prepare(self.mask_geom)
        self.terrain: Terrain | None = world.terrain() if self.needs_terrain else None
        # Road sample points: both ends and the middle of every segment.
        geoms = city.roads.geometry.values
        pts = np.vstack(
            [
                shapely.get_coordinates(shapely.line_interpolate_point(geoms, f, normalized=True))
                for f in (0.0, 0.5, 1.0)
            ]
        )
        n = len(geoms)
        self.road_points = pts  # both ends and the middle of every road, (3 n, 2)
        self.closed = {"walk": np.zeros(n, dtype=bool), "car": np.zeros(n, dtype=bool)}
        self.footprint_key: bytes | None = None
        self._band_shapes: dict[float, tuple[bytes, Any]] = {}  # per depth band: its cells and their shape
        self._wet_level: float | None = None
        self._wet = np.zeros((0, 0), dtype=bool)
        self._depth_level: float | None = None
        self._depth = np.zeros((0, 0))
        # Depths at the fixed points (roads, nodes) and the footprint depend on the time only
        # through the level: kept while it holds (a flood's crest, hours of standing water).
        self._fixed: dict[str, tuple[float, np.ndarray]] = {}
        self._recorded_level: float | None = None
        # Connected bathtub: depth only on the cells below the level that the source reaches.
        self.connected = self.terrain is not None and not self.zone_only and self.config.connected
        self._spill: np.ndarray | None = None
        self._road_cells: np.ndarray | None = None  # the road points' cells, raveled (connected)
        self._node_cells: np.ndarray | None = None  # the road nodes' cells, raveled (connected)
        if self.connected:
            assert self.terrain is not None
            self._road_cells = self.terrain.flat_cells_of(self.road_points)
            self._node_cells = self.terrain.flat_cells_of(city.node_xy)
            self._prepare_sources(city)
            # Each cell's spill level, when the engine has a quick way to it: then every level's
            # wet cells are one comparison instead of a labelling of the grid (the same cells).
            self._spill = world.spill_levels(self.terrain.height, self.cell_inside, self.source_cells)

    def _prepare_sources(self, city: Any) -> None:
        """The cells the water comes from: ``source`` points, the terrain's water, or its lowest cells."""
        terrain = self.terrain
        assert terrain is not None
        gx, gy = terrain.cell_centres()
        centres = np.column_stack([gx.ravel(), gy.ravel()])
        self.cell_inside = (
            np.ones(terrain.height.shape, dtype=bool)
            if self.mask_geom is None
            else shapely.contains_xy(self.mask_geom, centres[:, 0], centres[:, 1]).reshape(terrain.height.shape)
        )
        src = np.zeros(terrain.height.shape, dtype=bool)
        if self.config.source:
            r, c = terrain.cells_of(city.xy_of_lonlat(np.asarray(self.config.source, dtype=float)))
            src[r, c] = True
        elif terrain.water is not None and not terrain.water.is_empty:
            src = shapely.contains_xy(terrain.water, centres[:, 0], centres[:, 1]).reshape(src.shape)
        if not src.any():
            low = np.where(self.cell_inside, terrain.height, np.inf)
            src = self.cell_inside & (low <= low.min() + 0.01)
        self.source_cells = src

    def wet_cells(self, level: float) -> np.ndarray:
        """Cells under water at ``level``: below it and connected to the source (cached per level)."""
        if self._wet_level == level:
            return self._wet
        if self._spill is not None:  # the same cells as the labelling below, by one comparison
            self._wet = self._spill < level
        else:
            from scipy import ndimage  # here alone: 80 ms of imports that runs with the kernels never need

            assert self.terrain is not None
            below = self.cell_inside & (self.terrain.height < level)
            labels, count = ndimage.label(below)  # 4-neighbour connectivity
            # Per label, whether a source cell lies in it (label 0, the cells above the level, never does).
            reached = np.zeros(count + 1, dtype=bool)
            reached[labels[self.source_cells & below]] = True
            self._wet = reached[labels]
        self._wet_level = level
        return self._wet

    def depth_grid(self, level: float) -> np.ndarray:
        """Depth in every cell at ``level`` for connected water (cached per level)."""
        if self._depth_level != level:
            assert self.terrain is not None
            self._depth = np.where(self.wet_cells(level), np.maximum(level - self.terrain.height, 0.0), 0.0)
            self._depth_level = level
        return self._depth

    def _ground(self, xy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Ground height used for depth, and whether the point can be flooded at all."""
        xy = np.asarray(xy, dtype=float).reshape(-1, 2)
        inside = (
            np.ones(len(xy), dtype=bool)
            if self.mask_geom is None
            else shapely.contains_xy(self.mask_geom, xy[:, 0], xy[:, 1])
        )
        if self.zone_only or self.terrain is None:
            return np.zeros(len(xy)), inside
        return self.terrain.height_at(xy), inside

    def depth_at(self, xy: np.ndarray, t: float, cells: np.ndarray | None = None) -> np.ndarray:
        """Water depth (m, >= 0) at metric points at time ``t`` (``cells``: theirs raveled, if known).

        It depends on ``t`` only through ``level(t)``: depths at fixed points are kept per level.
        """
        level = self.level(t)
        xy = np.asarray(xy, dtype=float).reshape(-1, 2)
        if not np.isfinite(level):
            return np.zeros(len(xy))
        if self.connected:
            assert self.terrain is not None
            # One cell lookup: the depth grid already holds the area limit and the connection.
            flat = self.terrain.flat_cells_of(xy) if cells is None else cells
            out: np.ndarray = self.depth_grid(level).ravel().take(flat)
            return out
        h, inside = self._ground(xy)
        return np.where(inside, np.maximum(level - h, 0.0), 0.0)

    def _fixed_depth(self, which: str, xy: np.ndarray, t: float, cells: np.ndarray | None) -> np.ndarray:
        """``depth_at`` of the fixed points ``which`` (road points, nodes), computed once per level."""
        level = self.level(t)
        kept = self._fixed.get(which)
        if kept is None or kept[0] != level:
            kept = self._fixed[which] = (level, self.depth_at(xy, t, cells))
        return kept[1]

    def velocity(self, depth: np.ndarray) -> np.ndarray | None:
        """Flow velocity (m/s) where the water has ``depth``, or None where it is unknown."""
        return None

    def caught(self, depth: np.ndarray, vulnerable: np.ndarray) -> np.ndarray:
        """Who loses their footing: deeper than their limit, or depth x velocity above it."""
        cfg = self.config
        limit = np.where(vulnerable, cfg.casualty_depth_vulnerable_m, cfg.casualty_depth_m)
        out = depth > limit
        v = self.velocity(depth)
        if v is not None:
            dv_limit = np.where(vulnerable, cfg.casualty_dv_vulnerable_m2s, cfg.casualty_dv_m2s)
            out |= (depth > 0) & (depth * v > dv_limit)
        return out

    # -------------------------------------------------------------- running
    def _run(self, world: World) -> Generator[simpy.Event, Any, None]:
        cfg = self.config
        yield world.env.timeout(max(0.0, cfg.at - world.env.now))  # at is absolute
        world.log_event(self.type_name, self.label, "onset")
        while True:
            self.update(world)
            t = float(world.env.now)
            if cfg.until is not None and t >= cfg.until and not np.isfinite(self.level(t)):
                world.log_event(self.type_name, self.label, "water gone")
                return
            step = cfg.update_every
            if cfg.until is not None and t < cfg.until < t + step:
                step = cfg.until - t
            yield world.env.timeout(step)

    def update(self, world: World) -> None:
        """Judge roads, assets, shelters and people against the water now."""
        cfg = self.config
        t = float(world.env.now)
        level = self.level(t)
        n = len(self.closed["walk"])
        depth_road = self._fixed_depth("roads", self.road_points, t, self._road_cells).reshape(3, n).max(axis=0)
        for mode, limit in (("car", cfg.drive_closed_depth_m), ("walk", cfg.walk_closed_depth_m)):
            now_closed = depth_road > limit
            newly = np.nonzero(now_closed & ~self.closed[mode])[0]
            freed = np.nonzero(~now_closed & self.closed[mode])[0]
            if len(newly):
                world.close_roads(newly, cause=self.label, modes=(mode,))
            if len(freed):
                world.reopen_roads(freed, cause=self.label, modes=(mode,))
            self.closed[mode] = now_closed
        if not np.isfinite(level):
            self._record(world, t)
            return
        live, live_xy = world.intact_assets(but=("sensor",))
        if live:
            d = self.depth_at(live_xy, t)
            drowned = [a for a, wet in zip(live, d > cfg.asset_failed_depth_m, strict=True) if wet]
            if drowned:
                world.fail_assets(drowned, cause=self.label)
        ids = world.shelter_ids()
        if ids:
            d = self.depth_at(world.shelter_xy(), t)
            wet = [sid for sid, x in zip(ids, d, strict=True) if x > cfg.walk_closed_depth_m]
            if wet:
                world.close_shelters(wet, cause=self.label, damaged=True)
        # Everyone at a node stands where the node is: its depth is judged once for all of them.
        # Nobody is caught in no water (every limit is above zero), so those at dry nodes, most
        # of a city at home, are not listed at all.
        node_depth = self._fixed_depth("nodes", world.city.node_xy, t, self._node_cells)
        idx, node, along_xy = world.exposed_citizens(wet=node_depth > 0)
        if len(idx):
            at_node = node >= 0
            depth = np.empty(len(idx))
            depth[at_node] = node_depth[node[at_node]]
            depth[~at_node] = self.depth_at(along_xy, t)
            caught = idx[self.caught(depth, world.vulnerable(idx))]
            if len(caught):
                world.make_casualties(caught, cause=self.type_name)
        self._record(world, t)

    def _record(self, world: World, t: float) -> None:
        """The footprint as depth bands, recorded whenever the wet area changes."""
        level = self.level(t)
        if self._recorded_level == level:  # the same level: the same footprint
            return
        self._recorded_level = level
        if self.zone_only or self.terrain is None:
            geom = self.mask_geom
            key = b"wet" if np.isfinite(level) and level > WET_M else b"dry"
            if key == self.footprint_key:
                return
            self.footprint_key = key
            bands = []
            if key == b"wet" and geom is not None:
                bands.append((f"depth>={WET_M:g}m", WET_M, geom))
                if level > self.config.casualty_depth_m:
                    bands.append((f"depth>={self.config.casualty_depth_m:g}m", self.config.casualty_depth_m, geom))
            world.record_footprint(self.label, self.type_name, bands)
            return
        terrain = self.terrain
        if self.connected and np.isfinite(level):
            depth = self.depth_grid(level)  # every cell centre lies in its own cell
        else:
            gx, gy = terrain.cell_centres()
            depth = self.depth_at(np.column_stack([gx.ravel(), gy.ravel()]), t).reshape(terrain.shape)
        thresholds = (WET_M, self.config.casualty_depth_m)
        masks = [depth > th for th in thresholds]
        keys = [np.packbits(m).tobytes() for m in masks]
        key = b"".join(keys)
        if key == self.footprint_key:
            return
        self.footprint_key = key
        bands = []
        for th, m, band_key in zip(thresholds, masks, keys, strict=True):
            if m.any():
                kept = self._band_shapes.get(th)
                if kept is None or kept[0] != band_key:  # only a band whose cells changed is traced again
                    kept = self._band_shapes[th] = (band_key, polygonize(m, terrain))
                bands.append((f"depth>={th:g}m", th, kept[1]))
        world.record_footprint(self.label, self.type_name, bands)

    def observe(self, quantity: str, xy: np.ndarray, t: float, window: float) -> np.ndarray | None:
        """Gauges read the water level where this hazard's water reaches them."""
        if quantity not in self.sensor_quantities() or t < self.config.at:
            return None
        level = self.level(t)
        if not np.isfinite(level):
            return None
        _, inside = self._ground(xy)
        return np.where(inside, level, np.nan)


def polygonize(mask: np.ndarray, terrain: Terrain) -> Any:
    """Metric (multi)polygon of the True cells of a grid mask.

    Only the rows and columns that hold wet cells are traced (a flood wets a few per cent of the
    grid, and tracing costs by the cells searched), in cell units, then placed as tracing the
    whole grid with its transform places them: corner ``(c, r)`` of the grid at
    ``(x0 + c * cell, y0 + r * cell)``, the same operations, so the same bits
    (``tests/hazards/test_polygonize.py`` holds it to tracing the whole grid, as it was done before).
    """
    from rasterio import features
    from rasterio.transform import Affine

    rows = np.flatnonzero(mask.any(axis=1))
    cols = np.flatnonzero(mask.any(axis=0))
    if not len(rows):
        return shapely.simplify(shapely.union_all([]), terrain.cell_m / 2.0)
    r0, c0 = int(rows[0]), int(cols[0])
    window = np.ascontiguousarray(mask[r0 : rows[-1] + 1, c0 : cols[-1] + 1])
    traced = [
        g["coordinates"]
        for g, v in features.shapes(window.astype(np.uint8), mask=window, transform=Affine.identity())
        if v == 1
    ]
    cell, x0, y0 = terrain.cell_m, terrain.x0, terrain.y0

    def place(corners: np.ndarray) -> np.ndarray:  # each corner on its own: placed before or after building, the same
        return np.column_stack([x0 + (corners[:, 0] + c0) * cell, y0 + (corners[:, 1] + r0) * cell])

    merged = shapely.union_all(_polygons(traced, place))
    return shapely.simplify(merged, terrain.cell_m / 2.0)


def _polygons(rings_per_polygon: list[list[list[tuple[float, float]]]], place: Any = None) -> np.ndarray:
    """Polygons of GeoJSON rings (shell, then holes), as ``shapely.geometry.shape`` makes them, all at once.

    A flood's band is one polygon with hundreds of holes; building ring by ring in Python cost
    more than tracing them. ``place`` maps the corners (an array of x, y rows) first, as
    ``shapely.transform`` of the polygons would, without taking their coordinates out again.
    """
    rings = [ring for polygon in rings_per_polygon for ring in polygon]
    per_polygon = np.fromiter((len(p) for p in rings_per_polygon), dtype=np.int64, count=len(rings_per_polygon))
    per_ring = np.fromiter((len(r) for r in rings), dtype=np.int64, count=len(rings))
    corners = np.array([xy for ring in rings for xy in ring], dtype=np.float64).reshape(-1, 2)
    if place is not None:
        corners = place(corners)
    linear = shapely.linearrings(corners, indices=np.repeat(np.arange(len(rings)), per_ring))
    out: np.ndarray = shapely.polygons(linear, indices=np.repeat(np.arange(len(rings_per_polygon)), per_polygon))
    return out


@register
class Flood(WaterHazard):
    """A river flood or storm surge following a hydrograph of stages."""

    type_name = "flood"
    config: FloodConfig

    def level(self, t: float) -> float:
        """Linear between stages, constant beyond them; gone after ``until``."""
        cfg = self.config
        if t < cfg.at or (cfg.until is not None and t >= cfg.until):
            return -np.inf
        times = np.array([s.at for s in cfg.stages])
        levels = np.array([s.level_m for s in cfg.stages])
        return float(np.interp(t, times, levels))

    def area(self) -> Any:
        """The flood's area limit."""
        return self.config.area

    def velocity(self, depth: np.ndarray) -> np.ndarray | None:
        """The flood's ``velocity_mps`` everywhere, or None if not given."""
        v = self.config.velocity_mps
        return None if v is None else np.full(len(depth), v)


@register
class Tsunami(WaterHazard):
    """A tsunami: the sea rises to the run-up height over ``rise_time`` after arrival."""

    type_name = "tsunami"
    config: TsunamiConfig

    def __init__(self, config: TsunamiConfig, *, index: int):
        super().__init__(config, index=index)
        self.zone_only = config.zone is not None
        self.needs_terrain = config.zone is None

    def level(self, t: float) -> float:
        """Rising linearly from 0 at arrival to the run-up, held until ``until``."""
        cfg = self.config
        if t < cfg.at or (cfg.until is not None and t >= cfg.until):
            return -np.inf
        if cfg.rise_time <= 0:
            return cfg.run_up_m
        return float(cfg.run_up_m * min(1.0, (t - cfg.at) / cfg.rise_time))

    def area(self) -> Any:
        """The inundation zone."""
        return self.config.zone

    def sensor_quantities(self) -> tuple[str, ...]:
        """Only sea gauges see a tsunami."""
        return ("sea_level_m",)

    def velocity(self, depth: np.ndarray) -> np.ndarray | None:
        """The inundation flow: ``froude x sqrt(g x depth)`` (None with ``froude: 0``)."""
        if self.config.froude <= 0:
            return None
        return self.config.froude * np.sqrt(GRAVITY * np.maximum(depth, 0.0))


__all__ = ["Flood", "Tsunami", "WaterHazard", "polygonize"]
