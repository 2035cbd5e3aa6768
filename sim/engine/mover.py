"""The mover: departures, routing fields, movement passes and admission to shelters.

It owns the routing fields (familiar and informed, one per mode toward the nearest open shelter
with room, rebuilt when shelters fill or roads close: ``fields_dirty``), who is blocked and for
which arc, the next departure time and the room left at each shelter node. The queue kernels it
calls are in ``movement.py`` and ``routing.py``, speeds from density in ``crowding.py`` and the
room on the roads in ``storage.py``; docs/movement.md describes the model.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np

from sim.agents.citizens import AT_HOME, CAR, EVACUATING, NEVER, SHELTERED, STRANDED, TRAPPED, WALK
from sim.engine import kernels, kernels_pass, passes
from sim.engine.crowding import car_speed, walking_speed
from sim.engine.movement import (
    admit_fifo,
    closer_arcs,
    closer_arcs_update,
    count_on,
    due_to_leave,
    group_starts,
    held_back,
    leave_home,
    positions_now,
    queue_lengths,
    spread_over_arcs,
)
from sim.engine.roadflows import RoadFlows
from sim.engine.routing import Field, arcs_into, compute_field, repair_field
from sim.engine.settled import Settled
from sim.engine.storage import Storage


class ModeRoutes(NamedTuple):
    """One mode's routing field, with the arcs that lead closer from each node."""

    field: Field
    closer_count: np.ndarray  # arcs leading closer from each node
    only_closer: np.ndarray  # that arc where there is just one, else -1


class Routes:
    """Routes per mode, each searched when first used: nobody on the move in a mode, no search.

    ``build(mode)`` must depend only on what was fixed when the routes were made (the open
    roads, the shelters with room, the delays then), so a mode searched late equals one searched
    at once.
    """

    def __init__(self, build: Callable[[int], ModeRoutes]):
        self._build = build
        self._modes: dict[int, ModeRoutes] = {}

    def of(self, mode: int) -> ModeRoutes:
        """Mode ``mode``'s field and closer arcs (searched now if not yet)."""
        if mode not in self._modes:
            self._modes[mode] = self._build(mode)
        return self._modes[mode]

    def field(self, mode: int) -> Field:
        """Mode ``mode``'s routing field."""
        return self.of(mode).field

    def searched(self, mode: int) -> bool:
        """Whether mode ``mode``'s routes are searched already."""
        return mode in self._modes


def _not_yet(mode: int) -> ModeRoutes:
    msg = f"routes for mode {mode} are searched by refresh_fields before the first step"
    raise RuntimeError(msg)


class _FreeField(NamedTuple):
    """A mode's free-flow field, the inputs it was searched on, and its closer arcs."""

    field: Field
    open_arcs: np.ndarray
    targets: np.ndarray
    closer_count: np.ndarray
    only_closer: np.ndarray


def _lost_only(last: _FreeField, open_arcs: np.ndarray, targets: np.ndarray) -> bool:
    """Whether the inputs only lost since ``last``: no arc reopened, no shelter came back."""
    if (open_arcs & ~last.open_arcs).any():
        return False
    if len(targets) == 0:
        return True
    known = np.zeros(int(max(targets.max(), last.targets.max(initial=0))) + 1, dtype=bool)
    known[last.targets] = True  # targets are node numbers: a mask, where np.isin would sort both
    return bool(known[targets].all())


# Closer arcs are updated from the last free-flow field's when at most one node in FEW_CHANGED changed its
# time (else counted over every arc: the update reads arcs out of order; a tenth of the nodes cost twice).
FEW_CHANGED = 16

# Those on the move are looked for among the last look's and the newcomers while fewer than an
# eighth of everyone (a merge and a gather cost five to ten times a scan, per person).
LOOK_AT_ALL_ABOVE = 8


class Mover:
    """The movement part of a running model (see the module docstring)."""

    def __init__(self, model: Any):
        self.m = model  # the EvacuationModel (read through, never imported: no cycle)
        self.blocked = np.zeros(model.pop.n, dtype=bool)
        self.next_departure = NEVER
        self.drivers = bool((model.pop.mode == CAR).any())  # modes only ever change from car to walk
        self.fields_dirty = True
        self.routes = Routes(_not_yet)  # the familiar (free-flow) routes, built by refresh_fields
        # Traffic per road (road_flows, run.gpkg): only when the run records its tables.
        self.flows = RoadFlows(model.city.n_roads) if model.recorder.tables else None
        # Walkers per road and cars per arc (speeds from density), counted at every step's start.
        self.walkers_on_road = np.zeros(model.city.n_roads)
        self.cars_on_arc = np.zeros(model.net.n_arcs)
        # Everyone starts on the familiar (free-flow) routes; the informed share re-plans (reroute_every).
        cfg = model.scenario.movement
        self.informed = model.streams.get("routes").random(model.pop.n) < cfg.informed_share
        self.want_arc = np.full(model.pop.n, -1, dtype=np.int32)  # the arc a blocked citizen waits for
        self.next_reroute = float(cfg.reroute_every)
        self.informed_routes: Routes | None = None
        # Per mode: its last free-flow field with its inputs (open arcs, targets) and closer arcs. A change
        # that leaves a mode's inputs alone (a flood closing roads to cars only) reuses the field; a loss
        # (shelters filled, roads closed) repairs it (routing.repair_field); anything else searches anew.
        self._free: list[_FreeField | None] = [None, None]
        # Queues take room on the road and spill back (movement.storage; sim/engine/storage.py).
        self.storage = Storage(model.net, model.pop.n) if cfg.storage else None
        # The compiled entry's counts per road or arc (kernels_pass.enter_arcs): zeros, left zero.
        n_keys = max(model.net.n_arcs, model.city.n_roads)
        self.scratch = (np.zeros(n_keys, dtype=np.int64), np.zeros(model.city.n_roads))
        # Everyone at home or trapped there, and maybe some who have left since (ascending): the
        # departures' scan looks at them alone, and keeps those still there (nobody comes home).
        self.home = np.arange(model.pop.n, dtype=np.int64)
        self.settled = Settled(model)  # everyone not yet sheltered or a casualty, and where everyone is
        # Everyone on the move, and maybe some who have stopped since (ascending; None before the first
        # look, a scan), and who set off or got a new route since: the only ways onto the move.
        self.moving: np.ndarray | None = None
        self.joining: list[np.ndarray] = []
        # Set by refresh_fields: room per shelter row and node, and each node's shelter rows (CSR).
        self.rooms = np.zeros(0, dtype=np.int64)
        self.node_room = np.zeros(0, dtype=np.int64)
        self.at_ptr = np.zeros(1, dtype=np.int64)
        self.at_rows = np.zeros(0, dtype=np.int64)
        self.pass_structs: list | None = None  # kept by kernels_pass.passes

    def depart(self, idx: np.ndarray) -> None:
        """Citizens ``idx`` leave home now, on foot or by car (drivers without a car route walk)."""
        p = self.m.pop
        drivers = leave_home(idx, p, EVACUATING, CAR)
        self.joining.append(idx)
        if self.storage is not None:
            self.storage.leave(idx)  # at home: they take no room on any road yet
        # Drivers without a drivable route to any shelter walk instead.
        if len(drivers):
            no_car_route = ~np.isfinite(self.routes.field(CAR).dist[p.node[drivers]])
            p.mode[drivers[no_car_route]] = WALK

    # ------------------------------------------------------------------ fields

    def _routes(self, delays: list[np.ndarray] | None) -> Routes:
        """Routing fields per mode (free-flow, or with ``delays`` per arc) and their closer arcs.

        Free-flow routes are searched at once (everyone follows them, and they are repaired from
        the last), the cars' only if somebody drives; routes on ``delays`` (the informed share's)
        when a mode first needs them.
        """
        open_arcs = [self.m.roads.open[m][self.m.net.road] for m in (WALK, CAR)]
        targets = np.flatnonzero(self.node_room > 0)  # the nodes of shelters with room (kept by admit)
        arc_ok = self.m.arc_ok = [self.m.net.usable[m] & open_arcs[m] for m in (WALK, CAR)]
        free = list(self._free)  # the free-flow fields now (routes on delays are repaired from them)

        def build(m: int) -> ModeRoutes:
            last = free[m]
            if (
                delays is None
                and last is not None
                and np.array_equal(last.open_arcs, open_arcs[m])
                and np.array_equal(last.targets, targets)
            ):
                return ModeRoutes(last.field, last.closer_count, last.only_closer)
            net, n = self.m.net, self.m.net.n_nodes
            same = last if last is not None and np.array_equal(last.open_arcs, open_arcs[m]) else None  # same roads
            if last is not None and _lost_only(last, open_arcs[m], targets):
                # A loss since the last free-flow field, or delays on top of it (queues only add
                # time): only routes through what got dearer are searched again.
                delay = None if delays is None else delays[m]
                field = repair_field(net, m, open_arcs[m], targets, last.field, delay, same_roads=same is not None)
            else:
                field = compute_field(net, m, open_arcs[m], targets, None if delays is None else delays[m])
            if same is not None and FEW_CHANGED * len(changed := np.flatnonzero(field.dist != same.field.dist)) <= n:
                # The last field's closer arcs, counted again only around the nodes whose time changed
                # (more than a few: one pass over every arc is quicker than hopping around them).
                count, only = closer_arcs_update(
                    same.closer_count, same.only_closer, changed, arc_ok[m], net.tail, net.head, field.dist,
                    net.out_ptr, net.out_arcs, *arcs_into(net),
                )  # fmt: skip
            else:
                count, only = closer_arcs(arc_ok[m], net.tail, net.head, field.dist, n)
            if delays is None:
                self._free[m] = _FreeField(field, open_arcs[m], targets, count, only)
            return ModeRoutes(field, count, only)

        routes = Routes(build)
        if delays is None:  # cars' routes only where somebody drives (nobody ever starts to)
            for m in (WALK, CAR) if self.drivers else (WALK,):
                routes.of(m)
        return routes

    def queue_lengths(self) -> np.ndarray:
        """People waiting at each arc's entrance now, per mode (``2 x n_arcs``).

        Waiting: on the move, at a node, held back from the arc they want (``want_arc``).
        """
        p = self.m.pop
        if not self._few_to_look_at():  # many on the move: one pass over everyone, no look first
            return queue_lengths(p.state, p.arc, self.want_arc, p.mode, self.m.net.n_arcs)
        who = self.on_the_move()
        return queue_lengths(p.state[who], p.arc[who], self.want_arc[who], p.mode[who], self.m.net.n_arcs)

    def delays(self, now: float) -> list[np.ndarray]:
        """Per mode and arc: how long a newcomer would wait at its entrance now (queue x headway)."""
        net = self.m.net
        n_arcs = net.n_arcs
        queue = self.queue_lengths()
        out = []
        for m in (WALK, CAR):
            nf = self.m.next_free[m * n_arcs : (m + 1) * n_arcs]
            h = net.headway_s[m * n_arcs : (m + 1) * n_arcs]
            count = queue[m]
            out.append(np.maximum(nf - now, 0.0) + count * np.where(np.isfinite(h), h, 0.0))
        return out

    def reroute(self, now: float) -> None:
        """The informed share's routes on current travel times (``movement.reroute_every``)."""
        if self.m.scenario.movement.informed_share > 0:
            self.informed_routes = self._routes(self.delays(now))

    def refresh_fields(self) -> None:
        """Rebuild the routing fields if shelters filled or roads closed since the last step."""
        if not self.fields_dirty:
            return
        self.node_room = np.zeros(self.m.city.n_nodes, dtype=np.int64)
        self.rooms = np.zeros(len(self.m.shelters), dtype=np.int64)  # per shelter row (kept by _take)
        for row, s in enumerate(self.m.shelters):
            room = s.room
            self.node_room[s.node] += room
            self.rooms[row] = room
        self.routes = self._routes(None)
        if self.informed_routes is not None:  # the informed learn of closures and full shelters at once
            self.informed_routes = self._routes(self.delays(float(self.m.env.now)))
        self.m.node_has_shelter = np.zeros(self.m.city.n_nodes, dtype=bool)
        self.m.node_has_shelter[self.m.book.node] = True
        self.m.shelters_at = {}
        for row, node in enumerate(self.m.book.node.tolist()):
            self.m.shelters_at.setdefault(node, []).append(row)
        # The same, as arrays: node k's shelter rows are at_rows[at_ptr[k]:at_ptr[k + 1]], in row order.
        self.at_rows = np.argsort(self.m.book.node, kind="stable").astype(np.int64)
        self.at_ptr = np.zeros(self.m.city.n_nodes + 1, dtype=np.int64)
        np.cumsum(np.bincount(self.m.book.node, minlength=self.m.city.n_nodes), out=self.at_ptr[1:])
        self.fields_dirty = False
        # Whoever was stuck gets another try with the new routes.
        stuck = np.nonzero(self.m.pop.state == STRANDED)[0]
        if len(stuck):
            self.m.pop.state[stuck] = EVACUATING
            self.joining.append(stuck)
            self.m.pop.t_ready[stuck] = np.maximum(self.m.pop.t_ready[stuck], float(self.m.env.now))

    # ------------------------------------------------------------------ movement

    def advance(self, t0: float, t1: float) -> None:
        """One movement step from ``t0`` to ``t1``: word of mouth, departures, passes, admission."""
        p = self.m.pop
        kernels.note_progress(t1 / self.m.duration)  # (whether the compiled kernels would pay yet)
        self.refresh_fields()
        if t0 + 1e-9 >= self.next_reroute:
            self.reroute(t0)
            every = float(self.m.scenario.movement.reroute_every)
            self.next_reroute = (np.floor(t0 / every + 1e-9) + 1) * every
        if self.m.scenario.alerting.word_of_mouth is not None:
            self.m.alerting.word_of_mouth(t0, t1)
        if self.next_departure < t1:  # a full scan only when somebody is due to leave
            dep, self.next_departure, self.home = due_to_leave(self.home, p.state, p.depart_t, AT_HOME, TRAPPED, t1)
            if len(dep):
                self.depart(dep)
        turned: dict[int, int] = {}
        if self.storage is None and passes.compiled_here(self):  # the compiled passes' first scan finds
            self.moving = active = passes.run(self, self._may_be_moving(), t0, t1, turned)  # those on the move
        else:
            active = self.on_the_move()
            self.count_on_arcs(active, 0.5 * (t0 + t1))
            if self.storage is not None:
                self.storage.recount(active)
            active = passes.run(self, active, t0, t1, turned)
        for row, count in sorted(turned.items()):
            sh = self.m.shelters[row]
            reason = "damaged" if sh.damaged else "closed" if not sh.is_open else "full"
            self.m.log_event("shelter_turned_away", sh.shelter_id, f"count={count}; reason={reason}")
        if self.storage is not None:
            self.gridlock(active, t1)

    def on_the_move(self) -> np.ndarray:
        """Everyone on the move now, ascending: ``np.flatnonzero(state == EVACUATING)``, from those who may be."""
        state, may = self.m.pop.state, self._may_be_moving()
        self.moving = np.flatnonzero(state == EVACUATING) if may is None else may[state[may] == EVACUATING]
        return self.moving

    def _may_be_moving(self) -> np.ndarray | None:
        """Those on the move at the last look and the newcomers since (ascending), or None: a scan is as quick."""
        if self.moving is None or not self._few_to_look_at():  # the first look, or a scan is as quick
            self.joining = []
            return None
        if self.joining:  # both ascending: a stable sort merges them; one stranded and back is in both
            both = np.sort(np.concatenate([self.moving, *self.joining]), kind="stable")
            self.moving = both[np.concatenate(([True], both[1:] != both[:-1]))] if len(both) else both
        self.joining = []
        return self.moving

    def _few_to_look_at(self) -> bool:
        """Whether the last look's people and the newcomers are fewer than ``1 / LOOK_AT_ALL_ABOVE`` of everyone."""
        if self.moving is None:  # no look yet
            return False
        return LOOK_AT_ALL_ABOVE * (len(self.moving) + sum(len(j) for j in self.joining)) <= self.m.pop.n

    def gridlock(self, active: np.ndarray, t: float) -> None:
        """Find rings of full roads waiting for each other, record them and let them through next step.

        ``active``: the step's people on the move, as the passes left them (those still evacuating count).
        """
        assert self.storage is not None
        p = self.m.pop
        waiting = held_back(active, p.state, p.arc, self.want_arc, EVACUATING)
        rings = self.storage.find_gridlock(waiting, p.mode, self.want_arc)
        if not rings:
            return
        active = active[p.state[active] == EVACUATING]
        n_roads = self.m.city.n_roads
        ids = self.m.city.roads["road_id"].astype(str).to_numpy()
        for ring in rings:
            roads = np.unique(np.where(ring < n_roads, ring, self.m.net.road[np.maximum(ring - n_roads, 0)]))
            people = int(np.isin(self.storage.came_by[active], ring).sum())
            self.m.recorder.log_event(
                t, "gridlock", str(ids[roads[0]]), f"roads={','.join(ids[roads])}; people={people}"
            )

    def count_on_arcs(self, active: np.ndarray, t_mid: float) -> None:
        """Walkers per road and cars per arc at the step's middle, for speeds from density.

        Those on an arc at the step's start who are still on it at ``t_mid`` (``movement.density_speed``).
        """
        if not self.m.scenario.movement.density_speed:
            return
        p, net = self.m.pop, self.m.net
        self.walkers_on_road, self.cars_on_arc = count_on(
            active, p.arc, p.t_ready, p.mode, CAR, net.road, t_mid, self.m.city.n_roads, net.n_arcs
        )

    def travel_times(self, who: np.ndarray, arcs: np.ndarray, mode: int, counted: bool = False) -> np.ndarray:
        """Seconds to cross ``arcs`` for people entering them now: free speed, or slowed by the crowd.

        With ``movement.density_speed`` the density is the people on the road at the step's middle:
        those on it at the start who are still there, and half of everyone entering it this step
        (each entrant meets, on average, half of the others of its step; docs/movement.md).
        ``counted``: the entrants were already counted (the compiled entry counts them).
        """
        p, net, cfg = self.m.pop, self.m.net, self.m.scenario.movement
        length = net.length_m[arcs]
        if mode == CAR:
            if not cfg.density_speed:
                return net.car_time_s[arcs]
            if not counted:
                self.cars_on_arc += 0.5 * np.bincount(arcs, minlength=net.n_arcs)  # drivers and passengers
            free = length / net.car_time_s[arcs]
            per_km_lane = self.cars_on_arc[arcs] / cfg.car_occupancy / net.car_lane_km[arcs]  # vehicles
            return length / car_speed(free, per_km_lane, cfg.vehicle_spacing_m)
        if not cfg.density_speed:
            return length / p.walk_speed_mps[who]
        roads = net.road[arcs]
        if not counted:
            self.walkers_on_road += 0.5 * np.bincount(roads, minlength=self.m.city.n_roads)
        density = self.walkers_on_road[roads] / net.walk_area_m2[roads]
        return length / walking_speed(p.walk_speed_mps[who], density, cfg.speed_relation)

    def admit(self, waiting: np.ndarray, t0: float, turned: dict[int, int]) -> np.ndarray:
        """Admit waiting people at nodes with room; return those still waiting."""
        p = self.m.pop
        if len(waiting) == 0:
            return waiting
        if kernels.loaded():  # the same steps in one compiled call; the shelter agents are told here
            left, who, nodes, refused, rows, counts, last = kernels_pass.admit_at_shelters(self, waiting, t0)
            self.tell_shelters(who, nodes, refused, rows, counts, last, turned)
            return left
        at_shelter = self.m.node_has_shelter[p.node[waiting]]
        if not at_shelter.any():
            return waiting
        cand = waiting[at_shelter]
        room = self.node_room[p.node[cand]]
        # Turned away: came for this shelter, found it full or closed.
        refused = cand[(room == 0) & (p.target[cand] == p.node[cand])]
        if len(refused):
            for node, count in zip(*np.unique(p.node[refused], return_counts=True), strict=True):
                row = self.m.shelters_at[int(node)][0]
                self.m.shelters[row].turned_away += int(count)
                turned[row] = turned.get(row, 0) + int(count)
            p.target[refused] = -1
        cand = cand[room > 0]
        if len(cand) == 0:
            return waiting
        o = np.lexsort((cand, p.t_ready[cand], p.node[cand]))
        cand = cand[o]
        nodes = p.node[cand]
        _, _, rank = group_starts(nodes)
        admitted = rank < self.node_room[nodes]
        who = cand[admitted]
        if len(who) == 0:
            return waiting
        at = nodes[admitted]
        rank = rank[admitted]
        rows = np.empty(len(who), dtype=np.int64)
        arrival = np.maximum(p.t_ready[who], t0)
        bounds = np.flatnonzero(np.diff(at)) + 1
        starts, ends = np.concatenate(([0], bounds)), np.append(bounds, len(who))
        for s0, s1, node in zip(starts.tolist(), ends.tolist(), at[starts].tolist(), strict=True):
            here = self.m.shelters_at[node]
            if len(here) == 1:  # most nodes: one shelter takes them all
                rows[s0:s1] = here[0]
                self.node_room[node] = self._take(here[0], s1 - s0, float(arrival[s0:s1].max()))
                continue
            # Several shelters at one node fill in the order of their rows.
            rooms = np.array([self.m.shelters[r].room for r in here])
            rows[s0:s1] = np.asarray(here)[np.searchsorted(np.cumsum(rooms), rank[s0:s1], side="right")]
            for r in here:
                mine = rows[s0:s1] == r
                if mine.any():
                    self._take(r, int(mine.sum()), float(arrival[s0:s1][mine].max()))
            self.node_room[node] = sum(self.m.shelters[r].room for r in here)
        p.state[who] = SHELTERED
        if self.storage is not None:
            self.storage.leave(who)
        self.m.ops.new_sheltered.append(who)
        p.shelter[who] = rows
        p.arrival_t[who] = arrival
        return waiting[p.state[waiting] == EVACUATING]

    def tell_shelters(
        self,
        who: np.ndarray,
        refused_nodes: np.ndarray,
        refused_counts: np.ndarray,
        rows: np.ndarray,
        counts: np.ndarray,
        last: np.ndarray,
        turned: dict[int, int],
    ) -> None:
        """Tell the shelter agents what a compiled admission did (it already took the places from the rooms).

        ``who`` were admitted; ``refused_counts`` turned away at each of ``refused_nodes`` (added
        to ``turned`` per row); shelter ``rows`` took ``counts``, the last arriving at ``last``.
        """
        if not (len(who) or len(refused_nodes) or len(rows)):  # most steps' passes: nothing to tell
            return
        for node, count in zip(refused_nodes.tolist(), refused_counts.tolist(), strict=True):
            row = self.m.shelters_at[node][0]
            self.m.shelters[row].turned_away += count
            turned[row] = turned.get(row, 0) + count
        for row, count, t_last in zip(rows.tolist(), counts.tolist(), last.tolist(), strict=True):
            self._take(row, count, t_last)
        if len(who):
            self.m.ops.new_sheltered.append(who)

    def _take(self, row: int, count: int, last: float) -> int:
        """Shelter ``row`` takes ``count`` people, the last arriving at ``last``; returns its room left.

        A shelter that fills records ``shelter_full`` at the last arrival, and the routes are redone.
        """
        sh = self.m.shelters[row]
        room = self.rooms[row] = sh.admit(count)
        if room == 0:
            self.m.recorder.log_event(last, "shelter_full", sh.shelter_id, f"capacity={sh.capacity}")
            self.fields_dirty = True
        return room

    def choose_arcs(self, who: np.ndarray, mode: int, t0: float, routes: Routes) -> np.ndarray:
        """The next arc of each of ``who`` on ``routes`` (-1: none leads closer to a shelter)."""
        p, net = self.m.pop, self.m.net
        arrived = p.t_ready[who]
        q_offset = mode * net.n_arcs
        mine = routes.of(mode)
        count = mine.closer_count[p.node[who]]
        arcs = np.where(count == 1, mine.only_closer[p.node[who]], -1)
        many = np.flatnonzero(count > 1)
        if len(many):
            arcs[many] = spread_over_arcs(
                p.node[who[many]],
                np.maximum(arrived[many], t0),
                who[many],
                net.out_ptr,
                net.out_arcs,
                self.m.arc_ok[mode],
                net.head,
                net.ref_time_s[mode],
                mine.field.dist,
                self.m.next_free[q_offset : q_offset + net.n_arcs],
                net.headway_s[q_offset : q_offset + net.n_arcs],
                t0,
                arrived[many],
            )
        return arcs

    def enter_arcs(self, who: np.ndarray, mode: int, t0: float, t1: float) -> int:
        """Choose arcs (familiar or informed routes) and admit people into them; return how many entered."""
        p = self.m.pop
        if kernels.loaded():  # the same steps in one compiled call, but the speeds
            who, arcs, entry = kernels_pass.enter_arcs(self, who, mode, t0, t1)
            if len(who) == 0 or not self.m.scenario.movement.density_speed:  # at free speeds, all done
                return len(who)
            travel = self.travel_times(who, arcs, mode, counted=True)
            p.arc[who] = arcs
            p.t_entry[who] = entry
            p.t_ready[who] = entry + travel
            return len(who)
        net = self.m.net
        q_offset = mode * net.n_arcs
        headway = net.headway_s[q_offset : q_offset + net.n_arcs]
        nf_view = self.m.next_free[q_offset : q_offset + net.n_arcs]
        arcs = np.empty(len(who), dtype=np.int64)
        for group, routes in self.route_groups(who):  # each group chooses; all queue together
            if group.any():  # nobody in a group: its routes need no search
                arcs[group] = self.choose_arcs(who[group], mode, t0, routes)
        arrived = p.t_ready[who]  # the queue order: true arrival, however long ago
        a_eff = np.maximum(arrived, t0)
        stuck = who[arcs < 0]
        if len(stuck) and mode == CAR:
            # Drivers with no drivable way left leave the car and walk on (next pass).
            walkable = np.isfinite(self.routes.field(WALK).dist[p.node[stuck]])
            p.mode[stuck[walkable]] = WALK
            stuck = stuck[~walkable]
        if len(stuck):
            p.state[stuck] = STRANDED
            if self.storage is not None:
                self.storage.leave(stuck)
        go = arcs >= 0
        who, arcs, a_eff, arrived = who[go], arcs[go], a_eff[go], arrived[go]
        if len(who) == 0:
            return 0
        room, size = self.storage.room(who, mode, arcs) if self.storage is not None else (None, None)
        entry, admitted = admit_fifo(arcs, a_eff, who, nf_view, headway, t1, arrived, room, size)
        self.want_arc[who[~admitted]] = arcs[~admitted]  # they queue for it (route costs, road flows)
        self.want_arc[who[admitted]] = -1
        # Held back for room (the road ahead is full): they may get in later this step, when
        # somebody ahead moves on; held back by the headway: next step.
        self.blocked[who[~admitted & (entry >= t1)]] = True
        if net.shared is not None:
            # One carriageway: the other mode waits until this mode's last entrant has cleared.
            touched = arcs[admitted][net.shared[arcs[admitted]]]
            other = self.m.next_free[(1 - mode) * net.n_arcs : (2 - mode) * net.n_arcs]
            other[touched] = np.maximum(other[touched], nf_view[touched])
        if self.flows is not None:
            # The wait at the entrance (since reaching the node, or leaving home) is the delay.
            self.flows.entered(net.road[arcs[admitted]], entry[admitted] - p.t_ready[who[admitted]])
        who, arcs, entry = who[admitted], arcs[admitted], entry[admitted]
        if len(who) == 0:
            return 0
        if self.storage is not None:
            self.storage.enter(who, mode, arcs)
        travel = self.travel_times(who, arcs, mode)
        p.arc[who] = arcs
        p.t_entry[who] = entry
        p.t_ready[who] = entry + travel
        for group, routes in self.route_groups(who):
            if group.any():
                p.target[who[group]] = routes.field(mode).source[net.head[arcs[group]]]
        return len(who)

    def route_groups(self, who: np.ndarray) -> list[tuple[np.ndarray, Routes]]:
        """``who`` split by the routes they follow: (mask, routes), familiar and informed."""
        if self.informed_routes is None:
            return [(np.ones(len(who), dtype=bool), self.routes)]
        informed = self.informed[who]
        return [(~informed, self.routes), (informed, self.informed_routes)]

    def node_now(self) -> np.ndarray:
        """Every citizen's node now: their shelter's once sheltered, else where they last were (read only)."""
        return self.settled.nodes()

    def positions(self, idx: np.ndarray, t: float) -> np.ndarray:
        """Metric positions of citizens ``idx`` at time ``t`` (interpolated along their arc)."""
        net = self.m.net
        return positions_now(idx, t, self.m.pop, net.tail, net.head, self.m.city.node_xy, self.m.book.xy_m)
