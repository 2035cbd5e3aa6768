"""A step's movement passes in one compiled call: exits, admission to shelters, entry into arcs.

The reference is the loop of :func:`sim.engine.passes.run`, which calls :func:`exit_and_wait`,
the admission to shelters (:mod:`sim.engine._compiled_shelter`) and the entry into arcs
(:mod:`sim.engine._compiled_enter`) once each per pass, a few Python calls and a dozen arrays
handed over every time (about a hundred microseconds a step, whoever moves). Here the same
kernels run in the same order, pass after pass. What the Python side does after an admission
(telling the shelter agents, counting the turned away) is handed back in order, for it to do
after the call: nothing in the passes reads it. The one exception stops the call: a shelter
that fills makes the routes change before anyone enters an arc, so the call returns right after
that admission and the loop goes on in Python from there.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from sim.engine._compiled import exit_and_wait
from sim.engine._compiled_enter import enter_arcs
from sim.engine._compiled_shelter import admit
from sim.engine._kernel_cache import njit

DONE, FILLED = 0, 1


@njit(cache=True)
def _append(buf: Any, n: int, values: Any) -> Any:
    """``values`` appended to ``buf[:n]``, grown by doubling: the buffer (maybe a new one)."""
    need = n + len(values)
    if need > len(buf):
        grown = np.empty(max(need, 2 * len(buf)), dtype=buf.dtype)
        grown[:n] = buf[:n]
        buf = grown
    buf[n:need] = values
    return buf


N_HEAD = 5 + 10  # the packed answer's head: five numbers, then the length of each of its ten parts


@njit(cache=True)
def _packed(status: int, k: int, n_active: int, n_exiting: int, n_entered: int, parts: Any) -> Any:
    """The answer in one array (each array handed back to Python costs about a microsecond).

    ``[status, k, n_active, n_exiting, n_entered, len(part) for each part, *parts]``; a part of
    floats is handed in as its bits (``view(np.int64)``).
    """
    total = N_HEAD
    for part in parts:
        total += len(part)
    out = np.empty(total, dtype=np.int64)
    out[0], out[1], out[2], out[3], out[4] = status, k, n_active, n_exiting, n_entered
    at = N_HEAD
    j = 5
    for part in parts:
        out[j] = len(part)
        out[at : at + len(part)] = part
        at += len(part)
        j += 1
    return out


@njit(cache=True, error_model="numpy")  # as the entry into arcs: a division by zero gives inf
def passes(
    k: int,
    max_passes: int,
    active: Any,
    scan: Any,
    n_active: int,
    t0: float,
    t1: float,
    drivers: bool,
    with_store: bool,
    with_flows: bool,
    bag: Any,
    taken_m2: Any,
    everyone: bool,
) -> Any:
    """Passes ``k`` onwards of a step (``scan``: pass ``k``'s people to look at), at free speeds.

    ``active``: everyone on the move at the step's start, or some more (ascending; the first
    pass's scan keeps those who are, as :func:`sim.engine.passes.run` keeps it), or with
    ``everyone`` (``k`` 0) all people, looked at here; ``n_active`` how many are still on the move.
    ``bag``: the structs ``fixed``, ``routes`` and ``shelters`` of :mod:`sim.engine._compiled_bags`;
    ``taken_m2``: the storage's room taken per key (made anew at each step's start). ``fixed.codes``:
    ``(CAR, WALK, STRANDED, SHELTERED, EVACUATING)``; ``routes.familiar`` and ``routes.chosen``
    (the informed share's): per mode (walk, car) ``(closer_count, only_closer, source, dist)``;
    ``routes.informed`` per person (empty: nobody follows informed routes now).

    Returns one array (:func:`_packed`): ``status, k, n_active, n_exiting, n_entered`` and the
    parts ``scan, waiting, gone, admitted, refused_node, refused_count, take_row, take_count,
    active, take_last`` (``take_last`` as the bits of its floats). ``status`` is DONE (``k`` the
    pass the loop stopped at) or FILLED (a shelter filled in pass ``k``'s admission: ``waiting``
    are those still waiting after it, ``scan`` the next pass's to look at, ``n_exiting`` how many
    left an arc in pass ``k``; both empty when DONE). ``gone``: those who left the move in passes
    after the first (for the storage's gridlock check). Then, in the order of the admissions:
    who each admitted, the turned away per node, and what each shelter took (its row, how many,
    and in ``take_last`` their last arrival); ``n_entered``: how many entered an arc.
    """
    f, routes, shelters = bag.fixed, bag.routes, bag.shelters
    state, arc, t_ready, blocked, node, p_mode = f.state, f.arc, f.t_ready, f.blocked, f.node, f.mode
    target, shelter, arrival_t, want_arc = f.target, f.shelter, f.arrival_t, f.want_arc
    t_entry, speed = f.t_entry, f.walk_speed
    head, out_ptr, out_arcs, road, ref_time, next_free = f.head, f.out_ptr, f.out_arcs, f.road, f.ref_time, f.next_free
    headway, car_time, length_m, shared = f.headway, f.car_time, f.length_m, f.shared
    store_key, capacity_m2, let_through = f.store_key, f.capacity_m2, f.let_through
    came_by, used_m2, person_m2 = f.came_by, f.used_m2, f.person_m2
    bin_entered, bin_delay_s, longest_wait_s = f.bin_entered, f.bin_delay_s, f.longest_wait_s
    codes, scratch, scratch_sum = f.codes, f.scratch, f.scratch_sum
    familiar, informed_routes, walk_dist = routes.familiar, routes.chosen, routes.walk_dist
    walk_ok, car_ok, informed = routes.walk_ok, routes.car_ok, routes.informed
    node_has_shelter, node_room, at_ptr = shelters.node_has_shelter, shelters.node_room, shelters.at_ptr
    at_rows, rooms = shelters.at_rows, shelters.rooms
    car, walk, evacuating = codes[0], codes[1], codes[4]
    enter_codes = codes[:3]
    admit_codes = codes[3:5]
    n_arcs = len(head)
    none_f = np.zeros(0)
    some = np.zeros(0, dtype=np.int64)
    admitted, n_admitted = some, 0
    r_node, r_count, n_refused = some, some, 0
    t_row, t_count, t_last, n_took = some, some, none_f, 0
    gone, n_gone = some, 0
    waiting = some
    n_exiting = n_entered = 0
    modes = np.array([car, walk]) if drivers else np.array([walk])
    if k == 0 and everyone:  # Mover.on_the_move's scan of everyone, without the array of states compared
        active = np.empty(len(state), dtype=np.int64)
        n_active = 0
        for i in range(len(state)):  # (no branch: the states vary at random across people)
            active[n_active] = i
            n_active += state[i] == evacuating
        active = active[:n_active]
        scan = active
    if k == 0:  # those a queue could not take last step try again (sim.engine.passes.run)
        for i in active:
            blocked[i] = False
    while k < max_passes:
        if n_active == 0:
            break
        still, exiting, waiting = exit_and_wait(scan, state, evacuating, arc, t_ready, blocked, node, head, t1)
        n_exiting = len(exiting)
        if k == 0:
            active, n_active = still, len(still)
        elif len(still) < len(scan):
            n_active -= len(scan) - len(still)
            if with_store:  # who left: in ``scan`` but not ``still`` (both ascending)
                left_now = np.empty(len(scan) - len(still), dtype=np.int64)
                j = c = 0
                for i in scan:
                    if j < len(still) and still[j] == i:
                        j += 1
                    else:
                        left_now[c] = i
                        c += 1
                gone = _append(gone, n_gone, left_now)
                n_gone += c
        if n_active == 0:
            break
        scan = waiting
        left, who, nodes, counts, rows, took, last = admit(
            waiting, t0, node, t_ready, target, state, shelter, arrival_t, node_has_shelter, node_room,
            at_ptr, at_rows, rooms, admit_codes, with_store, came_by, used_m2, taken_m2,
        )  # fmt: skip
        admitted = _append(admitted, n_admitted, who)
        n_admitted += len(who)
        r_node = _append(r_node, n_refused, nodes)
        r_count = _append(r_count, n_refused, counts)
        n_refused += len(nodes)
        t_row = _append(t_row, n_took, rows)
        t_count = _append(t_count, n_took, took)
        t_last = _append(t_last, n_took, last)
        n_took += len(rows)
        waiting = left
        filled = False
        for r in rows:
            filled |= rooms[r] == 0
        if filled:  # the routes change before anyone enters an arc: Python goes on from here
            parts = (scan, waiting, gone[:n_gone], admitted[:n_admitted], r_node[:n_refused], r_count[:n_refused],
                     t_row[:n_took], t_count[:n_took], active, t_last[:n_took].view(np.int64))  # fmt: skip
            return _packed(FILLED, k, n_active, n_exiting, n_entered, parts)
        moved = 0
        for mode in modes:  # drivers who abandon their car walk in the same pass
            if drivers:
                n_sel = 0
                for i in waiting:
                    n_sel += p_mode[i] == mode
                sel = np.empty(n_sel, dtype=np.int64)
                n_sel = 0
                for i in waiting:
                    if p_mode[i] == mode:
                        sel[n_sel] = i
                        n_sel += 1
            else:
                sel = waiting
            if len(sel) == 0:
                continue
            lo, hi = mode * n_arcs, (mode + 1) * n_arcs
            other = (1 - mode) * n_arcs
            informed_sel = informed[sel] if len(informed) else informed
            arc_ok = car_ok if mode == car else walk_ok
            entered = enter_arcs(
                sel, mode, t0, t1, informed_sel,
                familiar[mode], informed_routes[mode], node, t_ready, p_mode, state, target, enter_codes,
                out_ptr, out_arcs, arc_ok, head, ref_time[mode],
                next_free[lo:hi], headway[lo:hi], walk_dist, want_arc, blocked,
                with_store, store_key[mode], capacity_m2, taken_m2, let_through, came_by, used_m2,
                person_m2[mode], shared, next_free[other:other + n_arcs], road,
                with_flows, bin_entered, bin_delay_s, longest_wait_s,
                none_f, True, car_time, length_m, speed, arc, t_entry, scratch, scratch_sum,
            )  # fmt: skip
            moved += len(entered[0])
        n_entered += moved
        k += 1
        if n_exiting == 0 and moved == 0:
            break
    parts = (some, some, gone[:n_gone], admitted[:n_admitted], r_node[:n_refused], r_count[:n_refused],
             t_row[:n_took], t_count[:n_took], active, t_last[:n_took].view(np.int64))  # fmt: skip
    return _packed(DONE, k, n_active, n_exiting, n_entered, parts)
