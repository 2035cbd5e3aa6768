"""Earthquake: a ground-motion field at onset and fragility-based damage drawn per asset.

At ``at`` the hazard computes the median peak ground acceleration (Joyner and Boore 1981) at
every building, household, bridge, shelter and infrastructure asset, and draws damage from its
own random stream (``hazards/<id>``) with lognormal fragility curves:

- a collapsed building kills ``casualty_share`` of the people at home in it and traps
  ``trapped_share`` of the survivors for ``trapped_for``; its debris closes roads within
  ``debris_m``. Cities without building footprints draw one building per household.
- a damaged bridge closes; a damaged shelter closes (status ``damaged``); a damaged substation,
  tower, radio node, siren, server or sensor goes out of service.
"""

from __future__ import annotations

from typing import Any, cast

import numpy as np
import shapely
from shapely.geometry import Point, box

from sim.hazards.base import Hazard, World, register
from sim.hazards.fragility import (
    DEFAULT_FRAGILITY,
    damage_probability,
    distance_for_pga,
    pga_joyner_boore_1981,
)
from sim.scenario.hazards import EarthquakeConfig

PGA_BANDS_G = (0.05, 0.1, 0.2, 0.4, 0.8)
SEISMOMETER_QUANTITY = "pga_g"


@register
class Earthquake(Hazard):
    """Ground shaking at ``at``; damage to buildings, roads, shelters and assets."""

    type_name = "earthquake"
    config: EarthquakeConfig

    def prepare(self, world: World) -> None:
        """Place the epicentre in the city's metric frame."""
        self.epicentre_xy = world.city.xy_of_lonlat(np.array([self.config.epicentre], dtype=float))[0]

    def curve(self, asset_class: str) -> tuple[float, float]:
        """(median g, beta) of an asset class, the scenario's override first."""
        own = cast(dict[str, Any], self.config.fragility).get(asset_class)
        if own is not None:
            return own.median_g, own.beta
        _, median, beta = DEFAULT_FRAGILITY[asset_class]
        return median, beta

    def pga_at(self, xy: np.ndarray) -> np.ndarray:
        """Median PGA (g) at metric points, with the site amplification."""
        xy = np.asarray(xy, dtype=float).reshape(-1, 2)
        d_km = np.hypot(xy[:, 0] - self.epicentre_xy[0], xy[:, 1] - self.epicentre_xy[1]) / 1000.0
        cfg = self.config
        return cfg.site_amplification * pga_joyner_boore_1981(cfg.magnitude, d_km, cfg.depth_km)

    def _draw(self, rng: np.random.Generator, pga: np.ndarray, asset_class: str) -> np.ndarray:
        median, beta = self.curve(asset_class)
        return rng.random(len(pga)) < damage_probability(pga, median, beta)

    def onset(self, world: World) -> None:
        """Shake the city: draw damage for every asset class in a fixed order."""
        rng = world.stream(f"hazards/{self.label}")
        city = world.city
        cause = self.label
        world.log_event(
            "earthquake",
            self.label,
            f"M{self.config.magnitude:g}; depth={self.config.depth_km:g}km; "
            f"pga_max={float(self.pga_at(city.node_xy).max()):.3f}g",
        )
        self._footprint(world)

        # Buildings and the people in them.
        self._buildings(world, rng)

        # Bridges.
        roads = city.roads
        bridges = np.nonzero(roads["bridge"].to_numpy(dtype=bool))[0] if "bridge" in roads else np.zeros(0, int)
        if len(bridges):
            mid = shapely.line_interpolate_point(roads.geometry.values[bridges], 0.5, normalized=True)
            pga = self.pga_at(shapely.get_coordinates(mid))
            broken = bridges[self._draw(rng, pga, "bridge")]
            if len(broken):
                world.close_roads(broken, cause=cause)

        # Shelters.
        ids = world.shelter_ids()
        if ids:
            pga = self.pga_at(world.shelter_xy())
            hit = self._draw(rng, pga, "shelter")
            damaged = [sid for sid, h in zip(ids, hit, strict=True) if h]
            if damaged:
                world.close_shelters(damaged, cause=cause, damaged=True)

        # Infrastructure assets, by kind.
        assets = world.assets()
        if len(assets):
            pga = self.pga_at(assets[["x", "y"]].to_numpy())
            u = rng.random(len(assets))
            p = np.zeros(len(assets))
            for kind in assets["kind"].unique():
                sel = (assets["kind"] == kind).to_numpy()
                median, beta = self.curve(kind if kind in DEFAULT_FRAGILITY else "server")
                p[sel] = damage_probability(pga[sel], median, beta)
            failed = assets["id"][(u < p) & ~assets["damaged"].to_numpy()].tolist()
            if failed:
                world.fail_assets(failed, cause=cause)

    def _buildings(self, world: World, rng: np.random.Generator) -> None:
        city = world.city
        cfg = self.config
        idx, home, household = world.citizens_at_home()
        in_collapse = np.zeros(len(idx), dtype=bool)
        b = city.buildings
        if len(b):
            centroids = shapely.get_coordinates(b.geometry.centroid.values)
            collapsed = self._draw(rng, self.pga_at(centroids), "building")
            rows = np.nonzero(collapsed)[0]
            ident = b["osm_id"].astype(str).to_numpy() if "osm_id" in b else np.arange(len(b)).astype(str)
            for r in rows:
                world.log_event("building_collapsed", f"building-{ident[r]}", f"cause={self.label}")
            if len(rows) and len(idx):
                # Share of each node's residents who live in a collapsed building.
                from sim.city.buildings import RESIDENTIAL_FACTOR

                kind = b["kind"].astype(str).to_numpy() if "kind" in b else np.full(len(b), "yes")
                weight = b["floor_area_m2"].to_numpy(dtype=float) if "floor_area_m2" in b else np.ones(len(b))
                weight = weight * np.array([RESIDENTIAL_FACTOR.get(k, 0.0) for k in kind])
                node_of = city.nearest_nodes(centroids)
                total = np.bincount(node_of, weights=weight, minlength=city.n_nodes)
                lost = np.bincount(node_of[rows], weights=weight[rows], minlength=city.n_nodes)
                share = np.divide(lost, total, out=np.zeros(city.n_nodes), where=total > 0)
                in_collapse = rng.random(len(idx)) < share[home]
            if len(rows) and cfg.debris_m > 0:
                debris = shapely.union_all(shapely.buffer(b.geometry.values[rows], cfg.debris_m))
                tree = shapely.STRtree(city.roads.geometry.values)
                blocked = np.unique(tree.query(debris, predicate="intersects"))
                if len(blocked):
                    world.close_roads(blocked, cause=self.label)
        elif len(idx):
            # No footprints: every household is one building of the default class.
            hh, first = np.unique(household, return_index=True)
            p = damage_probability(self.pga_at(city.node_xy[home[first]]), *self.curve("building"))
            collapsed_hh = hh[rng.random(len(hh)) < p]
            in_collapse = np.isin(household, collapsed_hh)
            if len(collapsed_hh):
                world.log_event(
                    "buildings_collapsed", self.label, f"households={len(collapsed_hh)}; cause={self.label}"
                )
        victims = idx[in_collapse]
        if len(victims):
            u = rng.random(len(victims))
            killed = victims[u < cfg.casualty_share]
            rest = victims[u >= cfg.casualty_share]
            trapped = rest[rng.random(len(rest)) < cfg.trapped_share]
            if len(killed):
                world.make_casualties(killed, cause="earthquake")
            if len(trapped):
                world.trap(trapped, until=float(world.env.now) + cfg.trapped_for, cause="earthquake")

    def _footprint(self, world: World) -> None:
        cfg = self.config
        xy = world.city.node_xy
        frame = box(*(xy.min(axis=0) - 2000.0), *(xy.max(axis=0) + 2000.0))
        bands: list[tuple[str, float, Any]] = []
        centre = Point(self.epicentre_xy)
        radii = [distance_for_pga(cfg.magnitude, cfg.depth_km, g / cfg.site_amplification) for g in PGA_BANDS_G]
        for i, g in enumerate(PGA_BANDS_G):
            if radii[i] <= 0:
                continue
            disk = centre.buffer(radii[i] * 1000.0, quad_segs=32)
            if i + 1 < len(PGA_BANDS_G) and radii[i + 1] > 0:
                disk = disk.difference(centre.buffer(radii[i + 1] * 1000.0, quad_segs=32))
            part = disk.intersection(frame)
            if not part.is_empty:
                bands.append((f"pga>={g:g}g", g, part))
        world.record_footprint(self.label, self.type_name, bands)

    def observe(self, quantity: str, xy: np.ndarray, t: float, window: float) -> np.ndarray | None:
        """Seismometers read the PGA during the sampling window that holds the onset."""
        if quantity != SEISMOMETER_QUANTITY or not (self.config.at <= t < self.config.at + window):
            return None
        return self.pga_at(xy)


__all__ = ["Earthquake"]
