"""The City record: geography in one metric CRS, ready for the engine."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from sim.city.crs import from_lonlat, to_lonlat


@dataclass
class City:
    """A city projected once to a metric CRS.

    Attributes:
        name: short name (``kotka``, ``synthetic``, a file stem).
        crs: the metric CRS every geometry is in (a UTM zone, EPSG code string).
        nodes: one row per road node: ``x``, ``y`` (metres), ``lon``, ``lat``, ``district``.
        roads: one row per road segment (undirected) with ``road_id``, ``u``, ``v`` (node rows),
            ``length_m``, ``width_m``, ``highway``, ``name``, ``oneway``, ``lanes``, ``speed_kph``,
            ``walkable``, ``drivable``, ``bridge``, ``capacity_pph`` (user override or NaN), and a
            metric LineString ``geometry``.
        homes: where people live: ``node`` and ``weight`` (expected residents), one row per
            building or population feature.
        shelters: ``id``, ``name``, ``node``, ``capacity``, ``x``, ``y``, ``lon``, ``lat``, ``source``.
        districts: ``name`` and square or generated polygons (metric).
        buildings: footprints (metric) with ``kind``, ``levels``, ``floor_area_m2``.
        water: water polygons or lines (metric), possibly empty.
        population_total: residents before any ``population.count`` scaling.
    """

    name: str
    crs: str
    nodes: pd.DataFrame
    roads: gpd.GeoDataFrame
    homes: pd.DataFrame
    shelters: pd.DataFrame
    districts: gpd.GeoDataFrame
    buildings: gpd.GeoDataFrame
    water: gpd.GeoDataFrame
    population_total: float
    sources: dict[str, str] = field(default_factory=dict)

    @property
    def n_nodes(self) -> int:
        """Number of road nodes."""
        return len(self.nodes)

    @property
    def n_roads(self) -> int:
        """Number of road segments."""
        return len(self.roads)

    @cached_property
    def node_xy(self) -> np.ndarray:
        """Node coordinates (n, 2), metres."""
        return self.nodes[["x", "y"]].to_numpy()

    def lonlat_of_xy(self, xy: np.ndarray) -> np.ndarray:
        """Convert metric coordinates (n, 2) to longitude/latitude (n, 2) (sim.city.crs)."""
        return to_lonlat(np.asarray(xy, dtype=float).reshape(-1, 2), self.crs)

    def xy_of_lonlat(self, lonlat: np.ndarray) -> np.ndarray:
        """Convert longitude/latitude (n, 2) to metric coordinates (n, 2) (sim.city.crs)."""
        return from_lonlat(np.asarray(lonlat, dtype=float).reshape(-1, 2), self.crs)

    def snap(self, xy: np.ndarray, *, max_m: float, fields: list[str]) -> np.ndarray:
        """Nearest walkable road node of each metric point, refusing points farther than ``max_m``.

        Raises:
            InputError: naming ``fields[i]`` for each point too far from any road (up to 20).
        """
        from sim.core.errors import InputError

        xy = np.asarray(xy, dtype=float).reshape(-1, 2)
        nodes = self.nearest_nodes(xy)
        if len(xy) == 0:
            return nodes
        dist = np.hypot(*(self.node_xy[nodes] - xy).T)
        far = np.nonzero(~(dist <= max_m))[0]
        if len(far):
            problems = [
                (fields[i], f"is {dist[i]:,.0f} m from the nearest road; at most city.snap_max_m = {max_m:g} m")
                for i in far[:20]
            ]
            raise InputError(problems)
        return nodes

    def nearest_nodes(self, xy: np.ndarray, *, walkable_only: bool = True) -> np.ndarray:
        """Row index of the nearest road node to each metric point.

        The search tree is built once per city and kind (asset placement asks thousands of
        times), and rebuilt only if the roads or nodes are replaced.
        """
        candidates, tree = self._node_tree(walkable_only)
        _, idx = tree.query(np.asarray(xy, dtype=float).reshape(-1, 2))
        return candidates[idx]

    def _node_tree(self, walkable_only: bool) -> tuple[np.ndarray, Any]:
        from scipy.spatial import cKDTree

        shape = (id(self.roads), id(self.nodes), len(self.roads), len(self.nodes))
        cache = self.__dict__.setdefault("_node_trees", {})
        if cache.get("shape") != shape:  # new city, or the roads or nodes were replaced
            cache.clear()
            cache["shape"] = shape
        if walkable_only not in cache:
            if walkable_only:
                ok = np.zeros(self.n_nodes, dtype=bool)
                w = self.roads["walkable"].to_numpy()
                ok[self.roads["u"].to_numpy()[w]] = True
                ok[self.roads["v"].to_numpy()[w]] = True
                candidates = np.nonzero(ok)[0]
            else:
                candidates = np.arange(self.n_nodes)
            cache[walkable_only] = (candidates, cKDTree(self.nodes[["x", "y"]].to_numpy()[candidates]))
        return cache[walkable_only]
