"""The compiled entry into arcs: :meth:`sim.engine.mover.Mover.enter_arcs` in one call.

The reference is the mover's numpy code: about twenty array operations a call (route choice,
the stranded, room on the road, first-come admission, who waits for what, the shared
carriageway, road flows, storage and the density counts), each allocating and gathering, and
``np.bincount`` with ``minlength`` filling a road-sized array every call. Here the same
operations run person by person in the reference's order, so every sum and maximum takes the
same floating-point steps; only the speeds from density stay in numpy (they call
:mod:`sim.core.fpmath`). ``tests/engine/test_kernels.py`` holds whole runs through both equal.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from sim.engine._compiled import admit, np_max, spread
from sim.engine._kernel_cache import njit


@njit(cache=True)
def _choose(
    arcs: Any,
    who: Any,
    member: Any,
    routes: Any,
    node: Any,
    t_ready: Any,
    out_ptr: Any,
    out_arcs: Any,
    arc_ok: Any,
    arc_head: Any,
    ref_time: Any,
    next_free: Any,
    headway: Any,
    t0: float,
) -> None:
    """``Mover.choose_arcs`` for the people ``who[k]`` with ``member[k]``: their arcs into ``arcs``.

    ``routes``: ``(closer_count, only_closer, source, dist)`` per node.
    """
    count, only, dist = routes[0], routes[1], routes[3]
    many = np.empty(len(who), dtype=np.int64)
    n_many = 0
    for k in range(len(who)):
        if not member[k]:
            continue
        nd = node[who[k]]
        c = count[nd]
        arcs[k] = only[nd] if c == 1 else -1
        if c > 1:
            many[n_many] = k
            n_many += 1
    if n_many == 0:
        return
    m_node = np.empty(n_many, dtype=np.int64)
    m_arrived = np.empty(n_many)
    m_who = np.empty(n_many, dtype=np.int64)
    for j in range(n_many):
        i = who[many[j]]
        m_node[j] = node[i]
        m_arrived[j] = t_ready[i]
        m_who[j] = i
    choice = spread(
        m_node, m_arrived, m_who, out_ptr, out_arcs, arc_ok, arc_head, ref_time, dist, next_free, headway, t0
    )
    for j in range(n_many):
        arcs[many[j]] = choice[j]


@njit(cache=True, error_model="numpy")  # a division by zero gives numpy's inf, as the reference's
def enter_arcs(
    who: Any,
    mode: int,
    t0: float,
    t1: float,
    informed: Any,
    familiar_routes: Any,
    informed_routes: Any,
    node: Any,
    t_ready: Any,
    p_mode: Any,
    p_state: Any,
    p_target: Any,
    codes: Any,
    out_ptr: Any,
    out_arcs: Any,
    arc_ok: Any,
    arc_head: Any,
    ref_time: Any,
    next_free: Any,
    headway: Any,
    walk_dist: Any,
    want_arc: Any,
    blocked: Any,
    with_store: bool,
    store_key: Any,
    capacity_m2: Any,
    taken_m2: Any,
    let_through: Any,
    came_by: Any,
    used_m2: Any,
    person_m2: float,
    shared: Any,
    other_free: Any,
    road: Any,
    with_flows: bool,
    bin_entered: Any,
    bin_delay_s: Any,
    longest_wait_s: Any,
    density_on: Any,
    free_speed: bool,
    arc_time: Any,
    length_m: Any,
    walk_speed: Any,
    p_arc: Any,
    p_t_entry: Any,
    scratch: Any,
    scratch_sum: Any,
) -> Any:
    """``Mover.enter_arcs`` up to the speeds (at free speeds, all of it): returns the admitted (people, arcs, entries).

    The arguments are the mover's arrays, changed in place as the reference changes them:
        informed: per person of ``who``, whether they follow the informed routes (empty: nobody does).
        familiar_routes, informed_routes: ``(closer_count, only_closer, source, dist)`` per node of
            each group's routes (the informed ones unused if nobody is informed).
        codes: ``(CAR, WALK, STRANDED)``.
        with_store: room on the road (``movement.storage``): this mode's key per arc, the room per
            key, taken and let through, and per person the key they take room on (``came_by``) and
            how much; ``person_m2`` what one person of this mode takes.
        shared: per arc, one carriageway for both modes (empty: none); ``other_free`` the other
            mode's next free times.
        with_flows: road flows (entries, summed and longest waits per road).
        density_on: walkers per road or cars per arc counted for speeds (empty: speeds are free).
        free_speed: speeds are free (no ``density_on``): the entrants' arcs, entry and ready times
            are written here, ``Mover.travel_times`` as it sums them: the arc's time (``arc_time``)
            by car, its length over the walker's speed on foot.
        scratch, scratch_sum: zeros, as long as the longest of roads and arcs; left zero.
    """
    car, walk, stranded = codes[0], codes[1], codes[2]
    n = len(who)
    arcs = np.full(n, -1, dtype=np.int64)
    one_group = len(informed) == 0
    args = (node, t_ready, out_ptr, out_arcs, arc_ok, arc_head, ref_time, next_free, headway, t0)
    if one_group:
        _choose(arcs, who, np.ones(n, dtype=np.bool_), familiar_routes, *args)
    else:
        _choose(arcs, who, ~informed, familiar_routes, *args)
        _choose(arcs, who, informed, informed_routes, *args)
    # The stranded (drivers with a walkable way leave the car and walk on next pass); they take
    # no room on any road now, released in their order.
    n_go = 0
    for k in range(n):
        if arcs[k] >= 0:
            n_go += 1
            continue
        i = who[k]
        if mode == car and np.isfinite(walk_dist[node[i]]):
            p_mode[i] = walk
            continue
        p_state[i] = stranded
        if with_store:
            if came_by[i] >= 0:
                taken_m2[came_by[i]] -= used_m2[i]
            came_by[i] = -1
            used_m2[i] = 0.0
    go_who = np.empty(n_go, dtype=np.int64)
    go_arc = np.empty(n_go, dtype=np.int64)
    go_informed = np.zeros(n_go, dtype=np.bool_)
    arrived = np.empty(n_go)
    a_eff = np.empty(n_go)
    j = 0
    for k in range(n):
        if arcs[k] >= 0:
            go_who[j] = who[k]
            go_arc[j] = arcs[k]
            if not one_group:
                go_informed[j] = informed[k]
            arrived[j] = t_ready[who[k]]
            a_eff[j] = np_max(arrived[j], t0)
            j += 1
    if n_go == 0:
        return go_who, go_arc, arrived
    room = np.empty(n_go if with_store else 0)
    size = np.empty(n_go if with_store else 0)
    if with_store:
        for k in range(n_go):
            key = store_key[go_arc[k]]
            room[k] = np.inf if let_through[key] else capacity_m2[key] - taken_m2[key]
            size[k] = 0.0 if came_by[go_who[k]] == key else person_m2
    entry, admitted = admit(go_arc, a_eff, arrived, go_who, next_free, headway, t1, room, size, with_store)
    n_in = 0
    for k in range(n_go):
        i = go_who[k]
        if admitted[k]:
            want_arc[i] = -1
            n_in += 1
        else:
            want_arc[i] = go_arc[k]
            if entry[k] >= t1:  # held back by the headway: next step (for room: maybe later this step)
                blocked[i] = True
    in_who = np.empty(n_in, dtype=np.int64)
    in_arc = np.empty(n_in, dtype=np.int64)
    in_entry = np.empty(n_in)
    in_informed = np.empty(n_in, dtype=np.bool_)
    j = 0
    for k in range(n_go):
        if admitted[k]:
            in_who[j] = go_who[k]
            in_arc[j] = go_arc[k]
            in_entry[j] = entry[k]
            in_informed[j] = go_informed[k]
            j += 1
    if len(shared) > 0:  # the other mode waits until this mode's last entrant has cleared
        for k in range(n_in):
            a = in_arc[k]
            if shared[a]:
                other_free[a] = np_max(other_free[a], next_free[a])
    if with_flows and n_in > 0:  # RoadFlows.entered: np.bincount's sums added, then the longest waits
        for k in range(n_in):
            r = road[in_arc[k]]
            wait = in_entry[k] - t_ready[in_who[k]]
            scratch[r] += 1
            scratch_sum[r] += wait
            longest_wait_s[r] = np_max(longest_wait_s[r], wait)
        for k in range(n_in):
            r = road[in_arc[k]]
            if scratch[r] > 0:
                bin_entered[r] += scratch[r]
                bin_delay_s[r] += scratch_sum[r]
                scratch[r] = 0
                scratch_sum[r] = 0.0
    if n_in == 0:
        return in_who, in_arc, in_entry
    if with_store:  # Storage.enter: the moved leave their room (all first, in order), then take the new
        for k in range(n_in):
            i = in_who[k]
            key = store_key[in_arc[k]]
            if came_by[i] != key and came_by[i] >= 0:
                taken_m2[came_by[i]] -= used_m2[i]
        for k in range(n_in):
            i = in_who[k]
            key = store_key[in_arc[k]]
            if came_by[i] != key:
                taken_m2[key] += person_m2
                came_by[i] = key
                used_m2[i] = person_m2
    if len(density_on) > 0:  # each entrant counts half (Mover.travel_times)
        for k in range(n_in):
            x = in_arc[k] if mode == car else road[in_arc[k]]
            scratch[x] += 1
        for k in range(n_in):
            x = in_arc[k] if mode == car else road[in_arc[k]]
            if scratch[x] > 0:
                density_on[x] += 0.5 * scratch[x]
                scratch[x] = 0
    for k in range(n_in):
        source = informed_routes[2] if in_informed[k] else familiar_routes[2]
        p_target[in_who[k]] = source[arc_head[in_arc[k]]]
    if free_speed:  # Mover.enter_arcs after the speeds, at free speeds
        for k in range(n_in):
            i = in_who[k]
            a = in_arc[k]
            p_arc[i] = a
            p_t_entry[i] = in_entry[k]
            t_ready[i] = in_entry[k] + (arc_time[a] if mode == car else length_m[a] / walk_speed[i])
    return in_who, in_arc, in_entry
