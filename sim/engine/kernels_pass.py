"""The movement pass's compiled calls: the entry into arcs and the admission to shelters.

Wrappers that hand the mover's arrays (changed in place, as the references change them) to the
kernels of :mod:`sim.engine._compiled_enter` and :mod:`sim.engine._compiled_shelter`; call them
only when :func:`sim.engine.kernels.loaded`. The mover's numpy code is the reference.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from sim.agents.citizens import CAR, EVACUATING, SHELTERED, STRANDED, WALK
from sim.engine.kernels import _ints

ENTER_CODES = np.array([CAR, WALK, STRANDED], dtype=np.int64)
PASS_CODES = np.array([CAR, WALK, STRANDED, SHELTERED, EVACUATING], dtype=np.int64)
ADMIT_CODES = np.array([SHELTERED, EVACUATING], dtype=np.int64)
# Stand-ins for the arrays of a part a run does not have (storage, road flows, crowd speeds): never written.
NONE_F, NONE_I, NONE_B = np.zeros(0), np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.bool_)
# No storage: its keys, room, let through, came by, room used and room per person (per mode).
NO_STORE = (np.zeros((2, 0), dtype=np.int64), NONE_F, NONE_B, NONE_I, NONE_F, np.zeros(2))


def enter_arcs(mover: Any, who: np.ndarray, mode: int, t0: float, t1: float) -> tuple[np.ndarray, ...]:
    """:meth:`sim.engine.mover.Mover.enter_arcs` up to the speeds, compiled (call only when :func:`loaded`).

    Everything it changes is changed in place, as by the reference (at free speeds, the entrants'
    arcs, entry and ready times too); returns the admitted people, their arcs and entry times
    (:func:`sim.engine._compiled_enter.enter_arcs`).
    """
    from sim.engine import _compiled_enter

    m, p, net = mover.m, mover.m.pop, mover.m.net
    n_arcs = net.n_arcs
    familiar = mover.routes.of(mode)
    familiar_routes = (familiar.closer_count, familiar.only_closer, familiar.field.source, familiar.field.dist)
    informed, informed_routes = NONE_B, familiar_routes
    if mover.informed_routes is not None:
        informed = mover.informed[who]
        if informed.any():  # their routes are searched when first needed
            mine = mover.informed_routes.of(mode)
            informed_routes = (mine.closer_count, mine.only_closer, mine.field.source, mine.field.dist)
    st, flows = mover.storage, mover.flows
    density_on = NONE_F
    if m.scenario.movement.density_speed:
        density_on = mover.cars_on_arc if mode == CAR else mover.walkers_on_road
    out: tuple[np.ndarray, ...] = _compiled_enter.enter_arcs(
        _ints(who),
        int(mode),
        float(t0),
        float(t1),
        informed,
        familiar_routes,
        informed_routes,
        p.node,
        p.t_ready,
        p.mode,
        p.state,
        p.target,
        ENTER_CODES,
        net.out_ptr,
        net.out_arcs,
        m.arc_ok[mode],
        net.head,
        net.ref_time_s[mode],
        m.next_free[mode * n_arcs : (mode + 1) * n_arcs],
        net.headway_s[mode * n_arcs : (mode + 1) * n_arcs],
        mover.routes.field(WALK).dist,
        mover.want_arc,
        mover.blocked,
        st is not None,
        net.store_key[mode] if st is not None else NONE_I,
        st.capacity_m2 if st is not None else NONE_F,
        st.taken_m2 if st is not None else NONE_F,
        st.let_through if st is not None else NONE_B,
        st.came_by if st is not None else NONE_I,
        st.used_m2 if st is not None else NONE_F,
        float(st.person_m2[mode]) if st is not None else 0.0,
        net.shared if net.shared is not None else NONE_B,
        m.next_free[(1 - mode) * n_arcs : (2 - mode) * n_arcs],
        net.road,
        flows is not None,
        flows.bin_entered if flows is not None else NONE_I,
        flows.bin_delay_s if flows is not None else NONE_F,
        flows.longest_wait_s if flows is not None else NONE_F,
        density_on,
        not m.scenario.movement.density_speed,
        net.car_time_s,
        net.length_m,
        p.walk_speed_mps,
        p.arc,
        p.t_entry,
        *mover.scratch,
    )
    return out


def admit_at_shelters(mover: Any, waiting: np.ndarray, t0: float) -> tuple[np.ndarray, ...]:
    """:meth:`sim.engine.mover.Mover.admit` but the shelter agents, compiled (call only when :func:`loaded`).

    See :func:`sim.engine._compiled_shelter.admit` for what it changes and returns.
    """
    from sim.engine import _compiled_shelter

    p, st = mover.m.pop, mover.storage
    out: tuple[np.ndarray, ...] = _compiled_shelter.admit(
        _ints(waiting),
        float(t0),
        p.node,
        p.t_ready,
        p.target,
        p.state,
        p.shelter,
        p.arrival_t,
        mover.m.node_has_shelter,
        mover.node_room,
        mover.at_ptr,
        mover.at_rows,
        mover.rooms,
        ADMIT_CODES,
        st is not None,
        st.came_by if st is not None else NONE_I,
        st.used_m2 if st is not None else NONE_F,
        st.taken_m2 if st is not None else NONE_F,
    )
    return out


def passes(
    mover: Any,
    k: int,
    max_passes: int,
    active: np.ndarray | None,
    scan: np.ndarray | None,
    n_active: int,
    t0: float,
    t1: float,
    turned: dict[int, int],
) -> tuple[Any, ...]:
    """Passes ``k`` onwards of a step in one compiled call (:func:`sim.engine._compiled_passes.passes`).

    Call only when :func:`loaded`, at free speeds, with every route the passes may need searched
    (``sim.engine.passes``). What the admissions took is told to the shelter agents here, in
    order, as :meth:`Mover.admit` tells them. ``active`` None: everyone may be on the move (the
    kernel finds those who are). Returns ``(filled, k, active, n_active, scan, waiting,
    n_exiting, gone)`` (see the kernel): ``filled``, a shelter filled in pass ``k``.
    """
    from sim.engine import _compiled_passes

    bag = _structs(mover)
    st = mover.storage  # its room taken is counted anew (a new array) at every step's start
    everyone = active is None
    packed = _compiled_passes.passes(
        int(k), int(max_passes), NONE_I if active is None else _ints(active), NONE_I if scan is None else _ints(scan),
        int(n_active), float(t0), float(t1), bool(mover.drivers), st is not None, mover.flows is not None, bag,
        st.taken_m2 if st is not None else NONE_F, everyone,
    )  # fmt: skip
    n_head = _compiled_passes.N_HEAD
    head = packed[:n_head].tolist()
    parts, at = [], n_head
    for size in head[5:]:
        parts.append(packed[at : at + size] if size else NONE_I)
        at += size
    scan, waiting, gone, who, nodes, counts, rows, took, active, last = parts
    mover.tell_shelters(who, nodes, counts, rows, took, last.view(np.float64), turned)
    return head[0] == _compiled_passes.FILLED, head[1], active, head[2], scan, waiting, head[3], gone


def _structs(mover: Any) -> Any:
    """The passes' structs in one (:mod:`sim.engine._compiled_bags`), each made anew only when its arrays were.

    The first holds what a run never replaces; the routes' is made again when the routes, the open
    arcs or the informed routes are (``Mover._routes``); the shelters' when the room at them is
    (``Mover.refresh_fields``); the bag of the three with either. Kept on the mover
    (``pass_structs``) with the very objects they were made of: ``[fixed, its arrays, routes,
    their keys, shelters, their keys, bag]``.
    """
    from sim.engine import _compiled_bags as bags

    m = mover.m
    made = mover.pass_structs
    if made is None:
        fixed = fixed_arrays(mover)
        made = mover.pass_structs = [bags.make_fixed(*fixed), fixed, None, (None, None, None), None, (), None]
    # Identity checks written out: this runs at every step, and a tuple, zip and any cost microseconds.
    keys = made[3]
    if keys[0] is not mover.routes or keys[1] is not mover.informed_routes or keys[2] is not m.arc_ok:
        familiar = _routes_of(mover.routes, mover.drivers)
        informed, chosen = NONE_B, familiar
        if mover.informed_routes is not None:
            informed, chosen = mover.informed, _routes_of(mover.informed_routes, mover.drivers)
        walk_dist = familiar[0][3]
        routes = bags.make_routes(familiar, chosen, walk_dist, m.arc_ok[WALK], m.arc_ok[CAR], informed)
        made[2:4] = routes, (mover.routes, mover.informed_routes, m.arc_ok)
        made[6] = None
    keys = made[5]
    if (
        not keys
        or keys[0] is not m.node_has_shelter
        or keys[1] is not mover.node_room
        or keys[2] is not mover.at_ptr
        or keys[3] is not mover.at_rows
        or keys[4] is not mover.rooms
    ):
        room_keys = (m.node_has_shelter, mover.node_room, mover.at_ptr, mover.at_rows, mover.rooms)
        made[4:6] = bags.make_shelters(*room_keys), room_keys
        made[6] = None
    if made[6] is None:
        made[6] = bags.make_bag(made[0], made[2], made[4])
    return made[6]


def fixed_arrays(mover: Any) -> tuple[np.ndarray, ...]:
    """The arrays of the first struct (``_compiled_bags.FIXED_FIELDS``): those a run never replaces, only changes.

    The struct keeps the very arrays it was made of: code that put a new array in one of these
    places (``pop.t_ready = ...``) would leave the compiled passes on the old one.
    ``tests/engine/test_kernels.py`` checks after whole runs that they are still the run's.
    """
    p, net, st, flows = mover.m.pop, mover.m.net, mover.storage, mover.flows
    keys = (net.store_key, st.capacity_m2, st.let_through, st.came_by, st.used_m2, st.person_m2) if st else NO_STORE
    bins = (flows.bin_entered, flows.bin_delay_s, flows.longest_wait_s) if flows else (NONE_I, NONE_F, NONE_F)
    return (
        p.state, p.arc, p.t_ready, mover.blocked, p.node, p.mode, p.target, p.shelter, p.arrival_t,
        mover.want_arc, p.t_entry, p.walk_speed_mps, net.head, net.out_ptr, net.out_arcs, net.road,
        net.ref_time_s, mover.m.next_free, net.headway_s, net.car_time_s, net.length_m,
        net.shared if net.shared is not None else NONE_B, *keys, *bins, PASS_CODES, *mover.scratch,
    )  # fmt: skip


def _routes_of(routes: Any, drivers: bool) -> tuple[tuple[np.ndarray, ...], tuple[np.ndarray, ...]]:
    """Each mode's ``(closer_count, only_closer, source, dist)`` (walkers, then cars: the walkers' if nobody drives)."""
    out = []
    for mode in (WALK, CAR) if drivers else (WALK,):
        mine = routes.of(mode)
        out.append((mine.closer_count, mine.only_closer, mine.field.source, mine.field.dist))
    return out[0], out[-1]
