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
ADMIT_CODES = np.array([SHELTERED, EVACUATING], dtype=np.int64)
# Stand-ins for the arrays of a part a run does not have (storage, road flows, crowd speeds): never written.
NONE_F, NONE_I, NONE_B = np.zeros(0), np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.bool_)


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
