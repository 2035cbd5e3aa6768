"""Earthquake: a ground-motion field at onset and fragility-based damage drawn per asset.

At ``at`` the hazard computes the peak ground acceleration (``ground.py``: Joyner and Boore
1981, measured from a finite rupture from M 6.5, an optional NEHRP site class, scatter of the
relation's sigma drawn per 2 km cell) at every building, household, bridge, shelter and
infrastructure asset, and draws damage from its own random stream (``hazards/<id>``) with
lognormal fragility curves:

- a building in complete damage collapses with Hazus's share for the building type; its
  occupants at home are hurt at Hazus's indoor casualty rates (severity 4: killed), and
  ``trapped_share`` of the survivors of a collapse are trapped for ``trapped_for``; debris of a
  collapse closes roads within ``debris_m``. Cities without building footprints draw one
  building per household.
- a damaged bridge closes; a damaged shelter closes (status ``damaged``); a damaged substation,
  tower, radio node, siren, server or sensor goes out of service.
"""

from __future__ import annotations

from typing import Any, cast

import numpy as np
import shapely
from shapely.geometry import LineString, Point, box

from sim.core import fpmath
from sim.hazards.base import Hazard, World, register
from sim.hazards.fragility import DEFAULT_FRAGILITY, damage_probability
from sim.hazards.ground import (
    HAZUS_COLLAPSE_SHARE,
    casualty_rates,
    distance_for,
    distance_to_rupture_km,
    pga_joyner_boore_1981,
    rupture_ends,
    rupture_length_km,
    site_factor,
)
from sim.scenario.hazards import EarthquakeConfig

PGA_BANDS_G = (0.05, 0.1, 0.2, 0.4, 0.8)
SEISMOMETER_QUANTITY = "pga_g"
SCATTER_CELL_M = 2000.0  # one draw of the ground motion's scatter per cell of this size
SCATTER_MARGIN_M = 5000.0


@register
class Earthquake(Hazard):
    """Ground shaking at ``at``; damage to buildings, roads, shelters and assets."""

    type_name = "earthquake"
    config: EarthquakeConfig

    def prepare(self, world: World) -> None:
        """Place the epicentre and the rupture; draw the strike (if not given) and the scatter field."""
        cfg = self.config
        self.epicentre_xy = world.city.xy_of_lonlat(np.array([cfg.epicentre], dtype=float))[0]
        rng = world.stream(f"hazards/{self.label}")
        length = rupture_length_km(cfg.magnitude)
        self.strike_deg = cfg.strike_deg if cfg.strike_deg is not None or length == 0 else float(rng.uniform(0, 360))
        self.rupture = rupture_ends(self.epicentre_xy, length, self.strike_deg or 0.0)
        xy = world.city.node_xy
        self.scatter_x0, self.scatter_y0 = xy.min(axis=0) - SCATTER_MARGIN_M
        span = xy.max(axis=0) - xy.min(axis=0) + 2 * SCATTER_MARGIN_M
        shape = (int(np.ceil(span[1] / SCATTER_CELL_M)) + 1, int(np.ceil(span[0] / SCATTER_CELL_M)) + 1)
        self.epsilon = fpmath.normal(rng, 0.0, 1.0, shape) if cfg.sigma > 0 else np.zeros(shape)

    def median_pga(self, distance_km: np.ndarray) -> np.ndarray:
        """Median PGA (g) at Joyner-Boore distances, with the site class and amplification."""
        cfg = self.config
        rock = pga_joyner_boore_1981(cfg.magnitude, distance_km)
        return cfg.site_amplification * site_factor(cfg.site_class, rock) * rock

    def curve(self, asset_class: str) -> tuple[float, float]:
        """(median g, beta) of an asset class, the scenario's override first."""
        own = cast(dict[str, Any], self.config.fragility).get(asset_class)
        if own is not None:
            return own.median_g, own.beta
        _, median, beta = DEFAULT_FRAGILITY[asset_class]
        return median, beta

    def pga_at(self, xy: np.ndarray) -> np.ndarray:
        """PGA (g) at metric points: rock motion with its scatter, then the site class."""
        xy = np.asarray(xy, dtype=float).reshape(-1, 2)
        cfg = self.config
        rock = pga_joyner_boore_1981(cfg.magnitude, distance_to_rupture_km(xy, self.rupture))
        rock = rock * fpmath.exp10(cfg.sigma * self._epsilon_at(xy))
        return cfg.site_amplification * site_factor(cfg.site_class, rock) * rock

    def _epsilon_at(self, xy: np.ndarray) -> np.ndarray:
        rows, cols = self.epsilon.shape
        c = np.clip(((xy[:, 0] - self.scatter_x0) // SCATTER_CELL_M).astype(np.int64), 0, cols - 1)
        r = np.clip(((xy[:, 1] - self.scatter_y0) // SCATTER_CELL_M).astype(np.int64), 0, rows - 1)
        return self.epsilon[r, c]

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
            f"rupture_km={rupture_length_km(self.config.magnitude):.1f}; strike={self.strike_deg or 0.0:.0f}; "
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
        """Complete damage from the fragility, collapse as Hazus's share of it, then the people inside."""
        city = world.city
        cfg = self.config
        collapse_share = HAZUS_COLLAPSE_SHARE[cfg.building_type]
        idx, home, household = world.citizens_at_home()
        in_collapse = np.zeros(len(idx), dtype=bool)
        in_complete = np.zeros(len(idx), dtype=bool)  # completely damaged, still standing
        b = city.buildings
        if len(b):
            centroids = shapely.get_coordinates(b.geometry.centroid.values)
            complete = self._draw(rng, self.pga_at(centroids), "building")
            collapsed = complete & (rng.random(len(b)) < collapse_share)
            rows = np.nonzero(collapsed)[0]
            ident = b["osm_id"].astype(str).to_numpy() if "osm_id" in b else np.arange(len(b)).astype(str)
            for r in rows:
                world.log_event("building_collapsed", f"building-{ident[r]}", f"cause={self.label}")
            if complete.any() and len(idx):
                # Share of each node's residents who live in a collapsed / a standing complete building.
                from sim.city.buildings import RESIDENTIAL_FACTOR

                kind = b["kind"].astype(str).to_numpy() if "kind" in b else np.full(len(b), "yes")
                weight = b["floor_area_m2"].to_numpy(dtype=float) if "floor_area_m2" in b else np.ones(len(b))
                weight = weight * np.array([RESIDENTIAL_FACTOR.get(k, 0.0) for k in kind])
                node_of = city.nearest_nodes(centroids)
                total = np.bincount(node_of, weights=weight, minlength=city.n_nodes)

                def share(mask: np.ndarray) -> np.ndarray:
                    lost = np.bincount(node_of[mask], weights=weight[mask], minlength=city.n_nodes)
                    return np.divide(lost, total, out=np.zeros(city.n_nodes), where=total > 0)

                u = rng.random(len(idx))
                s_collapse = share(collapsed)[home]
                in_collapse = u < s_collapse
                in_complete = ~in_collapse & (u < s_collapse + share(complete & ~collapsed)[home])
            if len(rows) and cfg.debris_m > 0:
                debris = shapely.union_all(shapely.buffer(b.geometry.values[rows], cfg.debris_m))
                tree = shapely.STRtree(city.roads.geometry.values)
                blocked = np.unique(tree.query(debris, predicate="intersects"))
                if len(blocked):
                    world.close_roads(blocked, cause=self.label)
        elif len(idx):
            # No footprints: every household is one building of the building type.
            hh, first = np.unique(household, return_index=True)
            p = damage_probability(self.pga_at(city.node_xy[home[first]]), *self.curve("building"))
            complete_hh = hh[rng.random(len(hh)) < p]
            collapsed_hh = complete_hh[rng.random(len(complete_hh)) < collapse_share]
            in_collapse = np.isin(household, collapsed_hh)
            in_complete = np.isin(household, complete_hh) & ~in_collapse
            if len(complete_hh):
                world.log_event(
                    "buildings_collapsed",
                    self.label,
                    f"households={len(collapsed_hh)}; complete={len(complete_hh)}; cause={self.label}",
                )
        self._occupants(world, rng, idx[in_collapse], idx[in_complete])

    def _occupants(self, world: World, rng: np.random.Generator, collapsed: np.ndarray, standing: np.ndarray) -> None:
        """Hazus's indoor casualty rates by severity; a share of a collapse's survivors are trapped."""
        cfg = self.config
        injured = np.zeros(3, dtype=np.int64)
        killed_all, trapped_all = [], []
        for who, is_collapse in ((collapsed, True), (standing, False)):
            if len(who) == 0:
                continue
            rates = np.array(casualty_rates(cfg.building_type, is_collapse))
            if is_collapse and cfg.casualty_share is not None:
                rates[3] = cfg.casualty_share
            # One draw per person: severity 4, 3, 2, 1 or unhurt, from the cumulative rates.
            edges = np.cumsum(rates[::-1])
            severity = 4 - np.searchsorted(edges, rng.random(len(who)), side="right")  # 4..1, 0 unhurt
            killed_all.append(who[severity == 4])
            injured += np.array([(severity == k).sum() for k in (1, 2, 3)])
            if is_collapse:
                survivors = who[severity < 4]
                trapped_all.append(survivors[rng.random(len(survivors)) < cfg.trapped_share])
        killed = np.concatenate(killed_all) if killed_all else np.zeros(0, dtype=np.int64)
        trapped = np.concatenate(trapped_all) if trapped_all else np.zeros(0, dtype=np.int64)
        if injured.sum():
            world.log_event(
                "injured",
                self.label,
                f"count={int(injured.sum())}; severity1={injured[0]}; severity2={injured[1]}; severity3={injured[2]}",
            )
        if len(killed):
            world.make_casualties(killed, cause="earthquake")
        if len(trapped):
            world.trap(trapped, until=float(world.env.now) + cfg.trapped_for, cause="earthquake")

    def _footprint(self, world: World) -> None:
        """Bands of the median PGA: rings around the epicentre, or around the rupture from M 6.5."""
        xy = world.city.node_xy
        frame = box(*(xy.min(axis=0) - 2000.0), *(xy.max(axis=0) + 2000.0))
        bands: list[tuple[str, float, Any]] = []
        ends = self.rupture
        source = Point(ends[0]) if np.allclose(ends[0], ends[1]) else LineString(ends)
        radii = [distance_for(self.median_pga, g) for g in PGA_BANDS_G]
        for i, g in enumerate(PGA_BANDS_G):
            if radii[i] <= 0:
                continue
            area = source.buffer(radii[i] * 1000.0, quad_segs=32)
            if i + 1 < len(PGA_BANDS_G) and radii[i + 1] > 0:
                area = area.difference(source.buffer(radii[i + 1] * 1000.0, quad_segs=32))
            part = area.intersection(frame)
            if not part.is_empty:
                bands.append((f"pga>={g:g}g", g, part))
        world.record_footprint(self.label, self.type_name, bands)

    def observe(self, quantity: str, xy: np.ndarray, t: float, window: float) -> np.ndarray | None:
        """Seismometers read the PGA (with its scatter) during the sampling window that holds the onset."""
        if quantity != SEISMOMETER_QUANTITY or not (self.config.at <= t < self.config.at + window):
            return None
        return self.pga_at(xy)


__all__ = ["Earthquake"]
