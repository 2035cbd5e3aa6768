"""The recorder: everything a run writes down, and the tables made from it.

It owns the event log, the recorded rows (timeseries), the per-district counts, the sampled
tracks (with their pseudonyms, shown at the district centre until a citizen leaves) and the
hazards' footprints. The model calls :meth:`Recorder.record` at every tick; only ``sim/io``
writes the tables to disk.
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from sim.agents.citizens import STATE_NAMES, Population
from sim.agents.registry import Registry
from sim.core.events import EVENT_COLUMNS, event_row
from sim.engine import kernels
from sim.network.state import BATTERY, OFF


class Tallies(NamedTuple):
    """Counts over everyone at one recorded time (see :func:`population_tallies`)."""

    states: np.ndarray  # people per state code
    ordered: int
    warned: int
    departed: int
    registered: np.ndarray  # registered people per shelter
    in_registry: int
    relatives_notified: int
    unaccounted: int  # ordered out, relatives not told yet


def population_tallies_vectorised(
    t: float, pop: Population, registry: Registry, n_shelters: int
) -> tuple[np.ndarray, int, int, int, np.ndarray, int, int, int]:
    """The timeseries' counts over everyone at ``t``, with numpy (see :class:`Tallies`)."""
    ordered = np.isfinite(pop.ordered_t)
    told = registry.notified_t <= t
    return (
        np.bincount(pop.state, minlength=len(STATE_NAMES)),
        int(np.count_nonzero(ordered)),
        int(np.count_nonzero(pop.warned_t <= t)),
        int(np.count_nonzero(pop.depart_t <= t)),
        registry.counts(t, pop.shelter, n_shelters),
        int(np.count_nonzero(registry.entry_t <= t)),
        int(np.count_nonzero(told)),
        int(np.count_nonzero(ordered & ~told)),
    )


def time_counts_vectorised(
    t: float, ordered_t: np.ndarray, warned_t: np.ndarray, depart_t: np.ndarray
) -> tuple[int, int, int]:
    """How many are ordered out (ever), warned by ``t`` and departed by ``t``."""
    return (
        int(np.count_nonzero(np.isfinite(ordered_t))),
        int(np.count_nonzero(warned_t <= t)),
        int(np.count_nonzero(depart_t <= t)),
    )


def _time_counts_compiled(
    t: float, ordered_t: np.ndarray, warned_t: np.ndarray, depart_t: np.ndarray
) -> tuple[int, int, int]:
    ordered, warned, departed = kernels.loaded_module().time_counts(float(t), ordered_t, warned_t, depart_t)
    return int(ordered), int(warned), int(departed)


time_counts = kernels.when_large(kernels.MIN_POPULATION, _time_counts_compiled, size=lambda t, o, *_: len(o))(
    time_counts_vectorised
)


def population_tallies(t: float, pop: Population, registry: Registry, n_shelters: int) -> Tallies:
    """The timeseries' counts over everyone at ``t``, by full passes (what :meth:`Recorder.tallies` must give)."""
    return Tallies(*population_tallies_vectorised(t, pop, registry, n_shelters))


class Recorder:
    """Records a run (see the module docstring)."""

    def __init__(self, model: Any):
        self.m = model  # the EvacuationModel it records (read only, never imported: no cycle)
        self.raw_events: list[tuple[float, str, str, str]] = []
        self.rows: list[dict[str, Any]] = []
        self.track_frames: list[dict[str, np.ndarray]] = []  # columns per sampled time, joined at the end
        self.district_rows: list[dict[str, np.ndarray]] = []
        self.tables = True  # False (sweeps): only the figures, no tracks or district counts
        self.footprints: list[tuple[float, str, str, str, float, float, Any]] = []
        self.next_record = 0.0
        self.next_track = 0.0
        self.district_t = -1.0
        self.track_idx = np.zeros(0, dtype=np.int64)
        self.track_ids = np.zeros(0, dtype=object)
        self.track_home_xy = np.zeros((0, 2))
        self._track_last: np.ndarray | None = None  # the last sample's positions (metres)
        self._projected = 0  # the sampled frames whose positions are in lon/lat (the rest wait: _project)
        self._keys: tuple[list[str], Any] = ([], ([], [], []))  # shelter ids, their columns (_shelter_keys)
        self._told_ordered = 0  # relatives told of people ordered out (ordered_t is written once)
        self._told_first = np.zeros(0, dtype=np.int64)  # relatives told before the person was ordered out

    def log_event(self, t: float, kind: str, subject: str, detail: str = "") -> None:
        """Record an event at ``t``."""
        self.raw_events.append((float(t), kind, subject, detail))

    def record_footprint(self, t: float, hazard: str, kind: str, bands: list[tuple[str, float, Any]]) -> None:
        """Record a hazard's footprint now (metric geometries, stored in lon/lat)."""
        if not bands:
            self.footprints.append((t, hazard, kind, "none", 0.0, 0.0, None))
        for label, value, geom in bands:
            ll = shapely.transform(geom, self.m.city.lonlat_of_xy)
            self.footprints.append((t, hazard, kind, label, float(value), float(geom.area), ll))

    def setup_tracks(self, tracks_key: bytes) -> None:
        """Choose the tracked citizens and their pseudonyms (keyed by ``tracks_key``, never the seed)."""
        n = self.m.pop.n
        k = min(self.m.scenario.output.tracks.max_citizens, n)
        rng = self.m.streams.get("tracks")
        self.track_idx = np.sort(rng.choice(n, size=k, replace=False)) if k else np.zeros(0, dtype=np.int64)
        linked = self.m.scenario.privacy.link_tracks_to_registry  # tracks in the registry's space
        self.track_ids = kernels.pseudonyms(self.track_idx, key=tracks_key, prefix="R" if linked else "T")
        # Before departure a tracked citizen is shown at their district's centre, never at home.
        city = self.m.city
        centre = np.column_stack([city.districts.geometry.centroid.x, city.districts.geometry.centroid.y])
        district = city.nodes["district"].to_numpy()[self.m.pop.home_node[self.track_idx]]
        self.track_home_xy = centre[district] if len(centre) else np.zeros((len(self.track_idx), 2))
        self._track_last = None  # other citizens: nothing to keep

    def record(self, t: float, *, force: bool = False) -> None:
        """At ``t``: a row, district counts and tracks, when each is due (or ``force``)."""
        now: dict[str, np.ndarray] = {}  # where everyone is: found once per call, for the row and the districts
        if t + 1e-9 >= self.next_record or force:
            if not self.rows or self.rows[-1]["t_s"] != t:
                self.rows.append(self.snapshot_row(t, now))
            self.next_record = (math.floor(t / self.m.scenario.output.record_every + 1e-9) + 1) * (
                self.m.scenario.output.record_every
            )
        if not self.tables:
            return
        if self.rows and self.rows[-1]["t_s"] == t and self.district_t != t:
            self.district_rows.append(self.district_counts_now(t, now))
            self.district_t = t
            mover = self.m.mover
            if mover.flows is not None:
                per_arc = mover.queue_lengths().sum(axis=0)
                mover.flows.close_bin(t, np.bincount(self.m.net.road, weights=per_arc, minlength=self.m.city.n_roads))
        if (t + 1e-9 >= self.next_track or force) and len(self.track_idx):
            if not self.track_frames or self.track_frames[-1]["t_s"][0] != t:
                self.track_frames.append(self.track_rows(t))
            self.next_track = (math.floor(t / self.m.scenario.output.tracks.every + 1e-9) + 1) * (
                self.m.scenario.output.tracks.every
            )

    def _where_now(self, now: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Everyone's node now and the people per district and state there, found once per call (kept in ``now``)."""
        if "node" not in now:
            now["node"] = self.m.mover.node_now()
            now["counts"] = self.m.mover.settled.counts()  # that look's
        return now

    def tallies(self, t: float, now: dict[str, np.ndarray]) -> Tallies:
        """The timeseries' counts at ``t`` (rows ask in time order), without a pass over everyone but one.

        The states come from the look at the unsettled (``now``: see ``_where_now``), the registry's
        counts from its times as written (:class:`sim.agents.registry.Passing`); one compiled pass
        counts the ordered, warned and departed. ``SAFECITY_CHECK_SETTLED=1`` holds every count to
        :func:`population_tallies`.
        """
        p, reg, n_shelters = self.m.pop, self.m.ops.registry, len(self.m.shelters)
        states = self._where_now(now)["counts"].sum(axis=0)
        ordered, warned, departed = time_counts(t, p.ordered_t, p.warned_t, p.depart_t)
        reg.registered_at.passed(t)
        reg.entered_at.passed(t)
        told = np.concatenate([self._told_first, reg.told_at.passed(t)])
        ordered_now = np.isfinite(p.ordered_t[told])
        self._told_ordered += int(np.count_nonzero(ordered_now))
        self._told_first = told[~ordered_now]
        unaccounted = ordered - self._told_ordered
        tally = Tallies(
            states, ordered, warned, departed, reg.registered_at.per(n_shelters),
            reg.entered_at.total, reg.told_at.total, unaccounted,
        )  # fmt: skip
        if self.m.mover.settled.check:
            full = population_tallies(t, p, reg, n_shelters)
            for name, got, want in zip(Tallies._fields, tally, full, strict=True):
                if not np.array_equal(np.asarray(got), np.asarray(want)):
                    raise AssertionError(f"settled: the count {name} at {t} s is {got}, a full pass says {want}")
        return tally

    def snapshot_row(self, t: float, now: dict[str, np.ndarray] | None = None) -> dict[str, Any]:
        """The timeseries row at ``t``: states, network, shelters, registry, sensors (``now``: see ``_where_now``)."""
        now = {} if now is None else now
        tally = self.tallies(t, now)
        row: dict[str, Any] = {"t_s": float(t)}
        row.update({name: int(tally.states[i]) for i, name in enumerate(STATE_NAMES)})
        row["ordered"] = tally.ordered
        row["warned"] = tally.warned
        row["departed"] = tally.departed
        row.update(self.m.roads.closed_count())
        row["assets_failed"] = int(self.m.network.damaged.sum())
        row["assets_on_battery"] = int((self.m.network.power == BATTERY).sum())
        row["assets_unpowered"] = int((self.m.network.power == OFF).sum())
        row["links_down"] = int((~self.m.network.usable_links()).sum())
        row["devices_compromised"] = int(self.m.network.compromised.sum())
        row["devices_isolated"] = int(self.m.network.isolated.sum())
        for name, up in self.m.network.service_up.items():
            row[f"service:{name}"] = int(up)
        for name, level in self.m.network.service_level.items():
            row[f"level:{name}"] = round(level, 6)
        row["shelters_open"] = int(sum(s.is_open for s in self.m.shelters))
        row["shelters_damaged"] = int(sum(s.damaged for s in self.m.shelters))
        registered = tally.registered
        row["registered"] = int(registered.sum())
        row["in_registry"] = tally.in_registry
        row["relatives_notified"] = tally.relatives_notified
        row["unaccounted"] = tally.unaccounted
        shelters = self.m.shelters
        keys = self._shelter_keys()
        for k_reg, k_obs, reg, obs in zip(*keys[:2], registered.tolist(), self.m.ops.observed.tolist(), strict=True):
            row[k_reg] = reg
            row[k_obs] = obs
        for sid, value in self.m.sensing.reading.items():
            row[f"sensor:{sid}"] = value
        row.update(zip(keys[2], [s.occupancy for s in shelters], strict=True))
        if self.m.locating.cfg.enabled:  # the command centre's picture, scored against the truth
            now = self._where_now(now)
            row.update(self.m.locating.picture(t, now["node"], now["counts"]))
        return row

    def _shelter_keys(self) -> tuple[list[str], list[str], list[str]]:
        """The timeseries' column names per shelter (registered, observed, occupancy), made once per shelter."""
        ids = [s.shelter_id for s in self.m.shelters]
        if self._keys[0] != ids:
            kinds = ("registered", "observed", "shelter")
            self._keys = (ids, tuple([f"{kind}:{sid}" for sid in ids] for kind in kinds))
        return self._keys[1]

    def district_counts_now(self, t: float, now: dict[str, np.ndarray] | None = None) -> dict[str, np.ndarray]:
        """People per district and state now (where they are, not where they live)."""
        counts = self._where_now({} if now is None else now)["counts"]
        d_idx, s_idx = np.nonzero(counts)
        names = self.m.city.districts["name"].to_numpy()
        return {
            "t_s": np.full(len(d_idx), float(t)),
            "district": names[d_idx],
            "state": np.array(STATE_NAMES, dtype=object)[s_idx],
            "count": counts[d_idx, s_idx],
        }

    def track_rows(self, t: float) -> dict[str, np.ndarray]:
        """Sampled positions at ``t`` (at the district centre until a citizen leaves home).

        The positions are kept in metres with who moved since the last sample; they are made
        longitude and latitude when the tracks are asked for (:meth:`_project`), all at once.
        """
        idx = self.track_idx
        xy = self.m.mover.positions(idx, t)
        home = ~(self.m.pop.depart_t[idx] <= t)  # not left (yet): coarsened to the district centre
        xy[home] = self.track_home_xy[home]
        last, self._track_last = self._track_last, xy
        names = np.array(STATE_NAMES, dtype=object)
        return {
            "t_s": np.full(len(idx), float(t)),
            "citizen": self.track_ids,
            "xy": xy,
            "moved": np.ones(len(idx), dtype=bool) if last is None else (xy != last).any(axis=1),
            "state": names[self.m.pop.state[idx]],
        }

    def _project(self) -> None:
        """Longitude and latitude of the frames not yet projected, in one call.

        Only those who moved since the last sample are projected; the others keep the last
        sample's values. The projection works point by point, so each point has the bits it
        would be given on its own (most of the sampled stand still: at home, in a queue or in a
        shelter); one call instead of one per sample saves its fixed cost hundreds of times.
        """
        frames = self.track_frames[self._projected :]
        if not frames:
            return
        moved = [f.pop("moved") for f in frames]
        xy = [f.pop("xy") for f in frames]
        ll_moved = self.m.city.lonlat_of_xy(np.concatenate([p[m] for p, m in zip(xy, moved, strict=True)]))
        at = 0
        ll = (
            None
            if self._projected == 0
            else np.column_stack([self.track_frames[self._projected - 1][c] for c in ("lon", "lat")])
        )
        for frame, mask in zip(frames, moved, strict=True):
            ll = np.empty((len(mask), 2)) if ll is None else ll.copy()
            n = int(mask.sum())
            ll[mask] = ll_moved[at : at + n]
            at += n
            frame["lon"], frame["lat"] = ll[:, 0], ll[:, 1]
        self._projected = len(self.track_frames)

    def timeseries(self) -> pd.DataFrame:
        """One row per recorded time."""
        return pd.DataFrame(self.rows).fillna(0)

    def events(self) -> pd.DataFrame:
        """One row per event, in time order (stable)."""
        rows = [event_row(*e) for e in self.raw_events]
        ev = pd.DataFrame(rows, columns=list(EVENT_COLUMNS))
        ev["count"] = pd.array([r[4] for r in rows], dtype="Int64")  # a whole number, or missing
        ev["cause"] = ev["cause"].astype(object)
        return ev.sort_values("t_s", kind="stable").reset_index(drop=True)

    def tracks(self) -> pd.DataFrame:
        """Sampled pseudonymous positions."""
        self._project()
        return _joined(self.track_frames, ("t_s", "citizen", "lon", "lat", "state"))

    def hazard_footprints(self) -> gpd.GeoDataFrame:
        """The hazards' footprints over time: one row per (time, hazard, band), lon/lat geometry."""
        cols = ["t_s", "hazard", "type", "band", "value", "area_m2", "geometry"]
        frame = pd.DataFrame(self.footprints, columns=cols)
        return gpd.GeoDataFrame(frame, geometry="geometry", crs="EPSG:4326")

    def district_counts(self) -> pd.DataFrame:
        """People per district and state at every recorded time (for heatmaps)."""
        return _joined(self.district_rows, ("t_s", "district", "state", "count"))

    # ------------------------------------------------------------------ the final state, as tables

    def shelter_stats(self) -> pd.DataFrame:
        """Per shelter: capacity, peak and final occupancy, turned away, status, position."""
        m = self.m
        reg = m.ops.registry
        registered = np.bincount(m.pop.shelter[reg.queued & (m.pop.shelter >= 0)], minlength=len(m.shelters))
        return pd.DataFrame(
            [
                {
                    "id": s.shelter_id,
                    "name": s.name,
                    "capacity": s.capacity,
                    "peak_occupancy": s.peak_occupancy,
                    "final_occupancy": s.occupancy,
                    "turned_away": s.turned_away,
                    "status": s.status,
                    "registered": int(registered[row]),
                    "observed": int(m.ops.observed[row]),
                    "desks": m.ops.registry.desks(row),
                    "lon": s.lon,
                    "lat": s.lat,
                }
                for row, s in enumerate(m.shelters)
            ]
        )

    def outcomes(self) -> pd.DataFrame:
        """Per citizen (row order, no identifiers): the times that KPIs are computed from."""
        p = self.m.pop
        return pd.DataFrame(
            {
                "ordered_t": p.ordered_t,
                "warned_t": p.warned_t,
                "depart_t": p.depart_t,
                "arrival_t": p.arrival_t,
                "state": p.state,
            }
        )

    def cyber_record(self) -> dict[str, Any]:
        """What the attacks did, as recorded (``sim.metrics.figures.CyberRecord``'s fields)."""
        m = self.m
        c = m.cyber
        return {
            "devices_total": len(m.inventory),
            "internet_exposed_devices": int(m.inventory["internet_exposed"].sum()),
            "peak_compromised": int(c.peak_compromised),
            "records_exposed": dict(c.records_exposed),
            "false_readings": int(c.false_readings),
            "rejected_spoofs": int(c.rejected),
            "people_given_a_false_alarm": int(m.alerting.false_alarmed.sum()),
            "messages_intercepted": dict(m.network.intercepted),
            "attacks": [
                {
                    "label": a.label,
                    "type": a.type_name,
                    "at_s": float(a.config.at),
                    "detected_at_s": c.detected.get(a.label),
                }
                for a in m.cyber_attacks
            ],
        }


def _joined(parts: list[dict[str, np.ndarray]], columns: tuple[str, ...]) -> pd.DataFrame:
    """One table from per-time column arrays (one concatenation, not a DataFrame per time)."""
    if not parts:
        return pd.DataFrame({c: [] for c in columns})
    return pd.DataFrame({c: np.concatenate([p[c] for p in parts]) for c in columns})
