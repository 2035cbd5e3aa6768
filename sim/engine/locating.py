"""Locating evacuees: the command centre's picture of where people are, built from what arrives.

Four sources, each carried by the network that really carries it (docs/location.md):

- **cell towers**: every phone attaches to the nearest working tower within ``cell_range_m``;
  every ``report_every`` each tower sends its attached count (a number per cell, never a
  person) through the operator and the internet to the city operation centre (COC);
- **app check-ins**: smartphone owners who consented send a position (with an error of
  ``app_error_m``) and whether they are moving, every ``checkin_every``, through their tower;
- **cameras** count people on the move at the road nodes in view and report to the COC over
  the smart subnetwork (a tampered camera reports its lie);
- **shelters**: registrations that reached the registry (exact, by person) and the head counts
  reported to the command centre.

A report reaches the COC only if its device works and a route does, with the losses of links
and overloaded servers (a DDoS) on the way. Reports are small: they do not compete with alerts
for bandwidth. The picture (``Locating.picture``) fuses what arrived; the method is in
docs/location.md. The ground truth is kept beside it for scoring, never mixed in.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

from sim.agents.citizens import AT_HOME, CASUALTY, EVACUATING, SHELTERED, STRANDED, TRAPPED
from sim.core import fpmath
from sim.engine import kernels

PICTURE_STATES = ("at_home", "on_the_move", "sheltered", "casualties", "unknown")
HOME, MOVE, SHELT, DEAD, UNKNOWN = range(5)
# Citizen state code -> picture state.
_STATE_OF = np.array([HOME, MOVE, SHELT, DEAD, MOVE, HOME], dtype=np.int64)
_PICTURE_OF = np.eye(len(PICTURE_STATES), dtype=np.int64)[_STATE_OF]  # citizen state x picture state, 0/1
assert (AT_HOME, EVACUATING, SHELTERED, CASUALTY, STRANDED, TRAPPED) == (0, 1, 2, 3, 4, 5)
SOURCES = ("towers", "app", "cameras", "registry", "shelter_reports")
SOURCE_BITS = 1 << np.arange(len(SOURCES))
SOURCE_TEXT = np.array(
    [",".join(s for i, s in enumerate(SOURCES) if mask >> i & 1) for mask in range(1 << len(SOURCES))], dtype=object
)


class People(NamedTuple):
    """What the picture needs of everyone at one time (see :func:`people_in_picture_vectorised`)."""

    named: np.ndarray  # people per shelter known there by name (registered, or checked in there)
    known_users: np.ndarray  # per app user (``Locating.app_idx``): known in a shelter
    listed: np.ndarray  # per citizen: on the unaccounted list
    danger: np.ndarray  # per citizen: truly in danger
    n_listed: int
    n_listed_danger: int
    n_false_alarms: int  # listed, not in danger
    n_missed: int  # in danger, ordered out long enough ago, not listed


def people_in_picture_vectorised(
    t: float,
    after: float,
    pop: Any,
    entry_t: np.ndarray,
    node: np.ndarray,
    users: np.ndarray,
    fresh: np.ndarray,
    seen_in: np.ndarray,
    n_shelters: int,
    zone: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, int, int, int, int]:
    """The picture's passes over everyone at ``t`` (:class:`People`'s fields), with numpy.

    ``entry_t``: when each citizen reached the registry; ``node``: where everyone is now;
    ``users``: the app users, with per user whether their last check-in is ``fresh`` (not older
    than ``after``) and whether it placed them in the shelter they are in (``seen_in``);
    ``zone``: per road node, whether someone ordered out lives there (the evacuation zone).
    """
    registered = entry_t <= t
    known_in = registered.copy()
    known_in[users] |= seen_in
    named = np.bincount(pop.shelter[known_in & (pop.shelter >= 0)], minlength=n_shelters)
    # The unaccounted list: ordered out, not in the registry, not seen by the app for ``after``.
    old_enough = pop.ordered_t <= t - after
    listed = old_enough & ~registered
    listed[users] &= ~fresh
    # Truly in danger: alive or not, still outside a shelter in the zone they were ordered out of.
    danger = np.isfinite(pop.ordered_t) & (pop.state != SHELTERED) & zone[node]
    return (
        named,
        known_in[users],
        listed,
        danger,
        int(np.count_nonzero(listed)),
        int(np.count_nonzero(listed & danger)),
        int(np.count_nonzero(listed & ~danger)),
        int(np.count_nonzero(danger & ~listed & old_enough)),
    )


def picture_among_vectorised(
    t: float,
    after: float,
    pop: Any,
    entry_t: np.ndarray,
    node: np.ndarray,
    users: np.ndarray,
    fresh: np.ndarray,
    seen_in: np.ndarray,
    zone: np.ndarray,
    outside: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, int, int, int, int]:
    """:func:`people_in_picture_vectorised`'s answers but ``named``, danger looked for ``outside`` only.

    ``outside``: everyone not in a shelter, in any order, none twice (the only ones who can be in
    danger). The people known by name per shelter are the registry's (those in it, counted as
    entered) and the app users placed in a shelter (:meth:`Locating._people` adds them).
    """
    registered = entry_t <= t
    old_enough = pop.ordered_t <= t - after
    listed = old_enough & ~registered
    listed[users] &= ~fresh
    o = outside
    in_danger = np.isfinite(pop.ordered_t[o]) & (pop.state[o] != SHELTERED) & zone[node[o]]
    danger = np.zeros(pop.n, dtype=bool)
    danger[o] = in_danger
    n_listed = int(np.count_nonzero(listed))
    n_listed_danger = int(np.count_nonzero(listed[o] & in_danger))
    n_missed = int(np.count_nonzero(in_danger & ~listed[o] & old_enough[o]))
    known_users = registered[users] | seen_in
    return known_users, listed, danger, n_listed, n_listed_danger, n_listed - n_listed_danger, n_missed


def _picture_among_compiled(
    t: float, after: float, pop: Any, entry_t: np.ndarray, node: np.ndarray, users: np.ndarray, *rest: Any
) -> tuple[np.ndarray, np.ndarray, np.ndarray, int, int, int, int]:
    fresh, seen_in, zone, outside = rest
    ints, flags = kernels._ints, np.ascontiguousarray
    known, listed, danger, *counts = kernels.loaded_module().picture_among(
        float(t), float(after), pop.ordered_t, entry_t, pop.state, ints(node), flags(zone, dtype=np.bool_),
        ints(users), flags(fresh, dtype=np.bool_), flags(seen_in, dtype=np.bool_), ints(outside), SHELTERED,
    )  # fmt: skip
    n_listed, n_listed_danger, n_false, n_missed = (int(c) for c in counts)
    return known, listed, danger, n_listed, n_listed_danger, n_false, n_missed


_among = kernels.when_large(kernels.MIN_POPULATION, _picture_among_compiled, size=lambda t, after, pop, *_: pop.n)(
    picture_among_vectorised
)


def app_part_vectorised(
    t: float,
    after: float,
    users: np.ndarray,
    seen: tuple[np.ndarray, np.ndarray, np.ndarray],
    pop: Any,
    entry_t: np.ndarray,
    node_district: np.ndarray,
    node_tower: np.ndarray,
    sizes: tuple[int, int, int, int],
) -> tuple[np.ndarray, ...]:
    """The app users' part of the picture at ``t``: per user, then counted where the app saw them.

    ``seen``: per user, the last check-in's time, picture state and node. Returns per user whether
    the check-in is ``fresh`` (not older than ``after``) and whether it placed them in the shelter
    they are in (``seen_in``); then, of the ``sizes`` (shelters, districts, nodes, cells): per
    shelter those known by the app alone (not in the registry), and of the fresh not known in a
    shelter, those seen at home per district, on the move per district and per node, and both
    per cell (nodes without a cell left out).
    """
    seen_t, seen_state, seen_node = seen
    n_shelters, n_d, n_nodes, n_cells = sizes
    fresh = (t - seen_t) <= after
    seen_in = fresh & (seen_state == SHELT) & (pop.state[users] == SHELTERED)
    registered = entry_t[users] <= t
    placed = np.bincount(pop.shelter[users[seen_in & ~registered]], minlength=n_shelters)
    app = fresh & ~(registered | seen_in) & ((seen_state == HOME) | (seen_state == MOVE))
    home_d = np.bincount(node_district[seen_node[app & (seen_state == HOME)]], minlength=n_d)
    move_d = np.bincount(node_district[seen_node[app & (seen_state == MOVE)]], minlength=n_d)
    move_at = np.bincount(seen_node[app & (seen_state == MOVE)], minlength=n_nodes)
    cell = node_tower[seen_node[app]]
    app_cell = np.bincount(cell[cell >= 0], minlength=n_cells)
    return fresh, seen_in, placed, home_d, move_d, move_at, app_cell


def _app_part_compiled(
    t: float, after: float, users: np.ndarray, seen: tuple[np.ndarray, np.ndarray, np.ndarray], pop: Any, *rest: Any
) -> tuple[np.ndarray, ...]:
    entry_t, node_district, node_tower, sizes = rest
    ints = kernels._ints
    seen_t, seen_state, seen_node = seen
    out: tuple[np.ndarray, ...] = kernels.loaded_module().app_part(
        float(t), float(after), ints(users), seen_t, ints(seen_state), ints(seen_node), pop.state, entry_t,
        ints(pop.shelter), ints(node_district), ints(node_tower), np.array(sizes, dtype=np.int64),
        np.array([HOME, MOVE, SHELT, SHELTERED], dtype=np.int64),
    )  # fmt: skip
    return out


_app_part = kernels.when_large(kernels.MIN_POPULATION, _app_part_compiled, size=lambda t, after, u, s, pop, *_: pop.n)(
    app_part_vectorised
)


class Locating:
    """Location sources, their reports and the command centre's picture (see the module docstring)."""

    def __init__(self, model: Any):
        self.m = model  # the EvacuationModel (read only, never imported: no cycle)
        cfg = model.scenario.location
        self.cfg = cfg
        city = model.city
        p = model.pop
        self.node_xy = city.nodes[["x", "y"]].to_numpy(dtype=float)
        self.node_district = city.nodes["district"].to_numpy().astype(np.int64)
        self.n_d = len(city.districts)
        self.district_names = city.districts["name"].to_numpy().astype(str)
        rng = model.streams.get("location")
        self.app_user = p.has_smartphone & (rng.random(p.n) < cfg.app_share)
        self.app_idx = np.flatnonzero(self.app_user)  # the only citizens a check-in can ever place
        self._error_rng = model.streams.get("location/app_error")
        self._msg_rng = model.streams.get("location/reports")
        assets = model.asset_table
        kind = assets["kind"].to_numpy()
        self.tower_rows = np.nonzero(kind == "cell_tower")[0]
        self.tower_ids = assets["id"].to_numpy()[self.tower_rows].astype(str)
        self.tower_xy = assets[["x", "y"]].to_numpy(dtype=float)[self.tower_rows]
        self.camera_rows = np.nonzero(kind == "camera")[0]
        self.camera_ids = assets["id"].to_numpy()[self.camera_rows].astype(str)
        cam_xy = assets[["x", "y"]].to_numpy(dtype=float)[self.camera_rows]
        tree = cKDTree(self.node_xy)
        views = tree.query_ball_point(cam_xy, cfg.camera_range_m) if len(cam_xy) else []
        self.cam_nodes = np.array([n for v in views for n in v], dtype=np.int64)
        self.cam_of = np.repeat(np.arange(len(views)), [len(v) for v in views]).astype(np.int64)
        self.cam_node = assets["node"].to_numpy().astype(np.int64)[self.camera_rows]  # the node at each camera
        self.cam_district = self.node_district[self.cam_node]
        # Cell layout: recomputed when the set of working towers changes.
        self._layout_key: bytes | None = None
        self.node_tower = np.full(city.n_nodes, -1, dtype=np.int64)
        self.cell_weights = np.zeros((len(self.tower_rows), self.n_d))
        # What arrived: the latest round of tower and camera reports, and each person's last check-in.
        self.tower_count = np.zeros(len(self.tower_rows))
        self.tower_ok = np.zeros(len(self.tower_rows), dtype=bool)
        self.camera_count = np.zeros(len(self.camera_rows))
        self.camera_ok = np.zeros(len(self.camera_rows), dtype=bool)
        # Each app user's last check-in, by position in ``app_idx`` (nobody else is ever seen).
        self.seen_t = np.full(len(self.app_idx), -np.inf)
        self.seen_node = np.zeros(len(self.app_idx), dtype=np.int64)
        self.seen_state = np.zeros(len(self.app_idx), dtype=np.int64)
        self.reports: list[tuple[float, str, str, int, bool]] = []  # (t, source, device, count, delivered)
        self.frames: list[dict[str, np.ndarray]] = []  # per recorded time, joined by ``located``
        self.last: dict[str, Any] = {}

    # ------------------------------------------------------------------ processes

    def start(self) -> None:
        """Register the reporting processes on the model's clock."""
        if not self.cfg.enabled:
            return
        env = self.m.env
        env.process(self._every(self.cfg.report_every, self._tower_round))
        env.process(self._every(self.cfg.report_every, self._camera_round))
        env.process(self._every(self.cfg.checkin_every, self._checkin_round))

    def _every(self, every: float, round_: Any):
        while self.m.env.now < self.m.duration:
            round_(float(self.m.env.now))
            yield self.m.env.timeout(every)

    def _layout(self) -> None:
        """Attach every road node to its nearest working tower in range (cells), when towers change."""
        working = self.m.network.operational()[self.tower_rows]
        key = working.tobytes()
        if key == self._layout_key:
            return
        self._layout_key = key
        self.node_tower[:] = -1
        rows = np.nonzero(working)[0]
        if len(rows):
            dist, k = cKDTree(self.tower_xy[rows]).query(self.node_xy, distance_upper_bound=self.cfg.cell_range_m)
            ok = np.isfinite(dist)
            self.node_tower[ok] = rows[k[ok]]
        # The prior split of each cell among districts: where its residents live.
        home_tower = self.node_tower[self.m.pop.home_node]
        has = home_tower >= 0
        n_t = len(self.tower_rows)  # residents per cell and district, counted (whole numbers, as np.add.at's)
        cell_district = home_tower[has] * self.n_d + self.node_district[self.m.pop.home_node[has]]
        w = np.bincount(cell_district, minlength=n_t * self.n_d).reshape(n_t, self.n_d).astype(float)
        totals = w.sum(axis=1, keepdims=True)
        self.cell_weights = np.divide(w, totals, out=np.zeros_like(w), where=totals > 0)

    def _deliver(self, device: str) -> bool:
        return self.m.network.reaches(device, "COC", self._msg_rng)

    def _tower_round(self, t: float) -> None:
        self._layout()
        settled = self.m.mover.settled
        settled.look()  # people with a phone per node, then per cell (whole numbers: exact as floats)
        phones, has = settled.phones_now(), self.node_tower >= 0
        counts = np.bincount(self.node_tower[has], weights=phones[has], minlength=len(self.tower_rows))
        counts = counts.astype(np.int64)
        working = self.m.network.operational()[self.tower_rows]
        for k, tid in enumerate(self.tower_ids):
            if not working[k]:
                self.tower_ok[k] = False
                continue
            ok = self._deliver(tid)
            self.tower_ok[k] = ok
            self.tower_count[k] = counts[k] if ok else 0
            self.reports.append((t, "tower", tid, int(counts[k]), ok))

    def _camera_round(self, t: float) -> None:
        p = self.m.pop
        live = self.m.mover.settled.live  # everyone on the move is among them
        s = p.state[live]
        at_node = np.bincount(p.node[live[(s == EVACUATING) | (s == STRANDED)]], minlength=self.m.city.n_nodes)
        counts = np.bincount(self.cam_of, weights=at_node[self.cam_nodes], minlength=len(self.camera_rows))
        working = self.m.network.operational()[self.camera_rows]
        for c, cid in enumerate(self.camera_ids):
            if not working[c]:
                self.camera_ok[c] = False
                continue
            count = int(counts[c])
            factor = self.m.cyber.count_factor(cid)
            if factor is not None:  # a tampered camera reports its lie
                count = round(count * factor)
                self.m.cyber.false_readings += 1
            ok = self._deliver(cid)
            self.camera_ok[c] = ok
            self.camera_count[c] = count if ok else 0
            self.reports.append((t, "camera", cid, count, ok))

    def _checkin_round(self, t: float) -> None:
        self._layout()
        p = self.m.pop
        node = self.m.mover.node_now()
        alive = np.flatnonzero(p.state[self.app_idx] != CASUALTY)  # positions in app_idx
        users = self.app_idx[alive]
        cell = self.node_tower[node[users]]
        if not self.m.network.service_up.get("app_push", False):
            cell = np.full(len(users), -1)
        sent = np.zeros(len(users), dtype=bool)
        for k in np.unique(cell[cell >= 0]):  # one batch per tower, through it to the COC
            mine = cell == k
            ok = self._deliver(self.tower_ids[k])
            sent[mine] = ok
            self.reports.append((t, "app", self.tower_ids[k], int(mine.sum()), ok))
        who = users[sent]
        at = alive[sent]  # their positions in app_idx
        seen = node[who]
        if self.cfg.app_error_m > 0 and len(who):
            xy = self.node_xy[seen] + fpmath.normal(self._error_rng, 0.0, self.cfg.app_error_m, (len(who), 2))
            seen = self.m.city.nearest_nodes(xy)
        self.seen_t[at] = t
        self.seen_node[at] = seen
        self.seen_state[at] = _STATE_OF[p.state[who]]
        old = self.seen_t < t - self.cfg.retention  # retention: older check-ins are deleted
        self.seen_t[old] = -np.inf

    # ------------------------------------------------------------------ the picture

    def picture(self, t: float, node: np.ndarray | None = None, counts: np.ndarray | None = None) -> dict[str, Any]:
        """The command centre's estimate per district and state now, scored against the truth.

        Appends the rows of ``located.parquet`` and returns the timeseries columns
        (``located_estimate``, ``unaccounted_list``...).
        """
        if not self.cfg.enabled:
            return {}
        node = self.m.mover.node_now() if node is None else node  # everyone's node now (the recorder's, if given)
        truth, est, used, people = self._estimate(t, node, counts)
        return self._finish(t, truth, est, used, people)

    def estimate(
        self, t: float, node: np.ndarray | None = None, counts: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """``(truth, estimate, sources used, on the unaccounted list)`` at ``t``; records nothing.

        ``truth`` and ``estimate`` are districts x ``PICTURE_STATES``; ``sources used`` adds a
        last axis over ``SOURCES``; the list is a mask over citizens.
        """
        node = self.m.mover.node_now() if node is None else node
        truth, est, used, people = self._estimate(t, node, counts)
        return truth, est, used, people.listed

    def _people(self, t: float, node: np.ndarray, fresh: np.ndarray, seen_in: np.ndarray, placed: np.ndarray) -> People:
        """Everyone's part in the picture at ``t`` (``fresh``, ``seen_in``, ``placed``: :func:`app_part_vectorised`'s).

        ``node`` must be the last look's (:class:`sim.engine.settled.Settled`). One compiled pass
        over everyone for the list; danger is looked for among those outside shelters only, and
        the people known by name come from the registry's counts (:class:`sim.agents.registry.Passing`)
        and the app users placed in a shelter. ``SAFECITY_CHECK_SETTLED=1`` holds every answer to
        :func:`people_in_picture_vectorised`, the pass over everyone.
        """
        p, users, reg, settled = self.m.pop, self.app_idx, self.m.ops.registry, self.m.mover.settled
        zone, n_shelters, after = self.m.alerting.ordered_zone, len(self.m.shelters), self.cfg.unaccounted_after
        reference = (t, after, p, reg.entry_t, node, users, fresh, seen_in, n_shelters, zone)
        if t < reg.entered_at.asked:  # (asked about the past: nothing in a run does)
            return People(*people_in_picture_vectorised(*reference))
        reg.entered_at.passed(t)
        known, listed, danger, n_listed, n_listed_danger, n_false, n_missed = _among(
            t, after, p, reg.entry_t, node, users, fresh, seen_in, zone, settled.outside()
        )
        named = reg.entered_at.per(n_shelters) + placed  # in the registry, or known by the app alone
        people = People(named, known, listed, danger, n_listed, n_listed_danger, n_false, n_missed)
        if settled.check:
            full = People(*people_in_picture_vectorised(*reference))
            for name, got, want in zip(People._fields, people, full, strict=True):
                if not np.array_equal(np.asarray(got), np.asarray(want)):
                    raise AssertionError(f"settled: the picture's {name} at {t} s differs from a full pass")
        return people

    def _estimate(
        self, t: float, node: np.ndarray, counts: np.ndarray | None
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, People]:
        m, p, n_d = self.m, self.m.pop, self.n_d
        n_s = len(PICTURE_STATES)
        # Ground truth: where everyone is now (``node`` and the counts are always a look's).
        if counts is None:  # people per district and citizen state (the recorder's, when it has them)
            counts = m.mover.settled.counts()
        truth = counts @ _PICTURE_OF  # summed into picture states: exact integers
        est = np.zeros((n_d, n_s))
        used = np.zeros((n_d, n_s, len(SOURCES)), dtype=bool)
        # App check-ins: only app users are ever seen, so only their rows are read.
        seen = (self.seen_t, self.seen_state, self.seen_node)
        sizes = (len(m.shelters), n_d, m.city.n_nodes, len(self.tower_rows))
        app_args: tuple[Any, ...] = (t, self.cfg.unaccounted_after, self.app_idx, seen, p, m.ops.registry.entry_t)
        app_args += (self.node_district, self.node_tower, sizes)
        fresh, seen_in, placed, home_d, move_d, app_move_at, app_cell = _app_part(*app_args)
        if m.mover.settled.check:
            for got, want in zip(_app_part(*app_args), app_part_vectorised(*app_args), strict=True):
                if not np.array_equal(got, want):
                    raise AssertionError(f"settled: the app users' part of the picture at {t} s differs")
        people = self._people(t, node, fresh, seen_in, placed)
        # Shelters: people known by name (registered, or checked in there), or the reported head count.
        named = people.named.astype(float)
        reported = m.ops.observed.astype(float)
        in_shelter = np.maximum(named, reported)
        sh_d = self.node_district[m.book.node]
        est[:, SHELT] = np.bincount(sh_d, weights=in_shelter, minlength=n_d)
        used[:, SHELT, 3] = np.bincount(sh_d, weights=named, minlength=n_d) > 0
        used[:, SHELT, 4] = np.bincount(sh_d, weights=reported, minlength=n_d) > 0
        # App check-ins of people not in a shelter's count.
        for state, seen_there in ((HOME, home_d), (MOVE, move_d)):
            est[:, state] += seen_there
            used[:, state, 1] |= est[:, state] > 0
        # Cameras: people on the move in view, less those the app already placed there.
        in_view = np.bincount(self.cam_of, weights=app_move_at[self.cam_nodes], minlength=len(self.camera_rows))
        cam_extra = np.where(self.camera_ok, np.maximum(self.camera_count - in_view, 0.0), 0.0)
        cam_add = np.bincount(self.cam_district, weights=cam_extra, minlength=n_d)
        est[:, MOVE] += cam_add
        used[:, MOVE, 2] = np.bincount(self.cam_district, weights=self.camera_ok, minlength=n_d) > 0
        # Towers: people in each reporting cell (phones / phone ownership), less those already placed.
        n_k = len(self.tower_rows)
        if n_k:
            people_in_cell = self.tower_count / max(m.scenario.population.phone_share, 1e-9)
            sh_cell = self.node_tower[m.book.node]
            known = np.bincount(sh_cell[sh_cell >= 0], weights=in_shelter[sh_cell >= 0], minlength=n_k)
            known += app_cell
            cam_cell = self.node_tower[self.cam_node]
            known += np.bincount(cam_cell[cam_cell >= 0], weights=cam_extra[cam_cell >= 0], minlength=n_k)
            rest = np.where(self.tower_ok, np.maximum(people_in_cell - known, 0.0), 0.0)
            est[:, UNKNOWN] = rest @ self.cell_weights
            used[:, UNKNOWN, 0] = (self.tower_ok.astype(float) @ self.cell_weights) > 0
        return truth, est, used, people

    def _finish(self, t: float, truth: np.ndarray, est: np.ndarray, used: np.ndarray, people: People) -> dict[str, Any]:
        self.last = {"t_s": t, "listed": people.listed, "danger": people.danger}
        d_idx, s_idx = np.nonzero((truth > 0) | (est > 0.05))
        self.frames.append(
            {
                "t_s": np.full(len(d_idx), float(t)),
                "district": self.district_names[d_idx].astype(object),
                "state": np.array(PICTURE_STATES, dtype=object)[s_idx],
                "estimate": np.round(est[d_idx, s_idx], 1),
                "truth": truth[d_idx, s_idx].astype(np.int64),
                "sources": SOURCE_TEXT[(used[d_idx, s_idx] * SOURCE_BITS).sum(axis=1)],
            }
        )
        return {
            "located_estimate": round(float(est.sum()), 1),
            "located_matched": round(float(np.minimum(est.sum(axis=1), truth.sum(axis=1)).sum()), 1),
            "unaccounted_list": people.n_listed,
            "unaccounted_in_danger": people.n_listed_danger,
            "unaccounted_false_alarms": people.n_false_alarms,
            "in_danger_not_listed": people.n_missed,
        }

    # ------------------------------------------------------------------ tables

    def located(self) -> pd.DataFrame:
        """``located.parquet``: per recorded time, district and state: estimate, truth, sources."""
        cols = ["t_s", "district", "state", "estimate", "truth", "sources"]
        if not self.frames:
            return pd.DataFrame(columns=cols)
        return pd.DataFrame({c: np.concatenate([f[c] for f in self.frames]) for c in cols})

    def report_table(self) -> pd.DataFrame:
        """``location_reports.parquet``: every count report (towers, cameras, app batches) and its fate."""
        return pd.DataFrame(self.reports, columns=["t_s", "source", "device", "count", "delivered"])

    def unaccounted(self, key: bytes) -> pd.DataFrame:
        """``unaccounted.parquet``: the search-and-rescue list at the end, pseudonymous."""
        listed = self.last.get("listed", np.zeros(self.m.pop.n, dtype=bool))
        idx = np.nonzero(listed)[0]
        p = self.m.pop
        seen_all = np.full(p.n, -np.inf)
        seen_all[self.app_idx] = self.seen_t
        seen = seen_all[idx]
        return pd.DataFrame(
            {
                "citizen": kernels.pseudonyms(idx, key=key, prefix="R"),
                "home_district": self.district_names[self.node_district[p.home_node[idx]]],
                "ordered_t_s": p.ordered_t[idx],
                "last_seen_t_s": np.where(np.isfinite(seen), seen, np.nan),
                "in_danger": self.last.get("danger", np.zeros(p.n, dtype=bool))[idx],
            }
        )

    def command_view(self, t: float) -> dict[str, Any]:
        """The picture as the command centre has it at ``t`` (no ground truth): per district and state."""
        if not self.cfg.enabled:
            return {"t_s": t, "districts": {}, "unaccounted": []}
        _, est, _, listed = self.estimate(t)
        districts: dict[str, dict[str, float]] = {}
        for d, s in zip(*np.nonzero(est > 0.05), strict=True):
            districts.setdefault(str(self.district_names[d]), {})[PICTURE_STATES[s]] = round(float(est[d, s]), 1)
        return {
            "t_s": t,
            "districts": districts,
            "unaccounted": kernels.pseudonyms(np.nonzero(listed)[0], key=self.m.registry_key, prefix="R").tolist(),
        }
