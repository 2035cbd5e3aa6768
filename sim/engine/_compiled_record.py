"""The passes over everyone, compiled: the timeseries' counts, the command centre's picture, departures due.

Each count is a whole number, so any order of summing gives it; the passes are split into
simple loops, one condition each, which the compiler turns into vector instructions, instead of
one loop with every condition (whose branches on conditions close to random across people cost
more than the arithmetic: 11 ms a million people for the counts, 10 ms for the picture, against
about 3 and 5 ms so). The references are :func:`sim.engine.recorder.time_counts_vectorised`,
:func:`sim.engine.locating.picture_among_vectorised`, :func:`sim.engine.locating.app_part_vectorised` and
:func:`sim.engine.movement.due_to_leave_vectorised` (with the leaving themselves,
:func:`sim.engine.movement.leave_home_vectorised`); ``tests/engine/test_kernels.py`` holds these to them,
and ``tests/engine/test_settled.py`` the look at the unsettled (:func:`sim.engine.settled.settle_vectorised`).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from sim.engine._kernel_cache import njit


@njit(cache=True)
def _count_at_most(values: Any, t: float) -> int:
    """How many of ``values`` are at most ``t`` (NaN never)."""
    c = 0
    for i in range(len(values)):
        c += values[i] <= t
    return c


@njit(cache=True)
def time_counts(t: float, ordered_t: Any, warned_t: Any, depart_t: Any) -> Any:
    """:func:`sim.engine.recorder.time_counts_vectorised`: the ordered, the warned and the departed by ``t``."""
    ordered = 0
    for i in range(len(ordered_t)):
        ordered += np.isfinite(ordered_t[i])
    return ordered, _count_at_most(warned_t, t), _count_at_most(depart_t, t)


@njit(cache=True)
def picture_among(
    t: float, after: float, ordered_t: Any, entry_t: Any, state: Any, node: Any, zone: Any,
    users: Any, fresh: Any, seen_in: Any, outside: Any, sheltered: int,
) -> Any:  # fmt: skip
    """:func:`sim.engine.locating.picture_among_vectorised`: one pass over everyone, the rest over few.

    Everyone: on the unaccounted list or not (ordered long enough ago, not in the registry). The
    app users: not if a check-in is fresh; known in a shelter. Those ``outside`` (everyone not in
    a shelter, in any order, none twice): truly in danger, and the counts that pair it with the list.
    """
    n = len(ordered_t)
    cut = t - after
    listed = np.empty(n, dtype=np.bool_)
    for i in range(n):
        listed[i] = (ordered_t[i] <= cut) & (not (entry_t[i] <= t))
    known_users = np.empty(len(users), dtype=np.bool_)
    for k in range(len(users)):
        i = users[k]
        known_users[k] = (entry_t[i] <= t) | seen_in[k]
        if fresh[k]:
            listed[i] = False
    n_listed = 0
    for i in range(n):
        n_listed += listed[i]
    danger = np.zeros(n, dtype=np.bool_)
    n_listed_danger = n_missed = 0
    for k in range(len(outside)):
        i = outside[k]
        d = np.isfinite(ordered_t[i]) & (state[i] != sheltered) & zone[node[i]]
        danger[i] = d
        n_listed_danger += listed[i] & d
        n_missed += d & (not listed[i]) & (ordered_t[i] <= cut)
    return known_users, listed, danger, n_listed, n_listed_danger, n_listed - n_listed_danger, n_missed


@njit(cache=True)
def app_part(
    t: float, after: float, users: Any, seen_t: Any, seen_state: Any, seen_node: Any, state: Any, entry_t: Any,
    shelter: Any, node_district: Any, node_tower: Any, sizes: Any, codes: Any,
) -> Any:  # fmt: skip
    """:func:`sim.engine.locating.app_part_vectorised` in one pass over the app users."""
    home, move, shelt, sheltered = codes[0], codes[1], codes[2], codes[3]
    n_shelters, n_districts, n_nodes, n_cells = sizes[0], sizes[1], sizes[2], sizes[3]
    n = len(users)
    fresh = np.empty(n, dtype=np.bool_)
    seen_in = np.empty(n, dtype=np.bool_)
    placed = np.zeros(max(n_shelters, 1), dtype=np.int64)
    home_d = np.zeros(n_districts, dtype=np.int64)
    move_d = np.zeros(n_districts, dtype=np.int64)
    move_at = np.zeros(n_nodes, dtype=np.int64)
    app_cell = np.zeros(max(n_cells, 1), dtype=np.int64)
    for k in range(n):
        i = users[k]
        f = (t - seen_t[k]) <= after
        s = seen_state[k]
        inside = f & (s == shelt) & (state[i] == sheltered)
        registered = entry_t[i] <= t
        fresh[k] = f
        seen_in[k] = inside
        if inside and not registered:
            placed[shelter[i]] += 1
        if f and not (registered or inside) and ((s == home) | (s == move)):
            at = seen_node[k]
            if s == home:
                home_d[node_district[at]] += 1
            else:
                move_d[node_district[at]] += 1
                move_at[at] += 1
            if node_tower[at] >= 0:
                app_cell[node_tower[at]] += 1
    return fresh, seen_in, placed[:n_shelters].copy(), home_d, move_d, move_at, app_cell[:n_cells].copy()


@njit(cache=True)
def due_to_leave(cand: Any, state: Any, depart_t: Any, at_home: int, trapped: int, t_end: float) -> Any:
    """:func:`sim.engine.movement.due_to_leave_vectorised` in one pass over ``cand``."""
    n = len(cand)
    due = np.empty(n, dtype=np.int64)
    kept = np.empty(n, dtype=np.int64)
    n_due = n_kept = 0
    earliest = np.inf
    for k in range(n):
        i = cand[k]
        if state[i] == at_home:
            kept[n_kept] = i
            n_kept += 1
            d = depart_t[i]
            if d < t_end:
                due[n_due] = i
                n_due += 1
            elif earliest == earliest:  # NaN stays NaN, as numpy's minimum
                earliest = d if (d != d or d < earliest) else earliest
        elif state[i] == trapped:
            kept[n_kept] = i
            n_kept += 1
    return due[:n_due].copy(), earliest, kept[:n_kept].copy()


@njit(cache=True)
def leave_home(
    idx: Any, state: Any, node: Any, home_node: Any, arc: Any, t_ready: Any, depart_t: Any, mode: Any,
    evacuating: int, car: int,
) -> Any:  # fmt: skip
    """:func:`sim.engine.movement.leave_home_vectorised` person by person."""
    drivers = np.empty(len(idx), dtype=np.int64)
    n_drivers = 0
    for k in range(len(idx)):
        i = idx[k]
        state[i] = evacuating
        node[i] = home_node[i]
        arc[i] = -1
        t_ready[i] = depart_t[i]
        if mode[i] == car:
            drivers[n_drivers] = i
            n_drivers += 1
    return drivers[:n_drivers].copy()


@njit(cache=True)
def exposed_where_wet(among: Any, state: Any, arc: Any, node: Any, sheltered: int, casualty: int, wet: Any) -> Any:
    """:func:`sim.engine.movement.exposed_vectorised` in one pass over ``among``: those at dry nodes left out."""
    n = len(among)
    idx = np.empty(n, dtype=np.int64)
    at = np.empty(n, dtype=np.int64)
    c = 0
    for k in range(n):
        i = among[k]
        if state[i] == sheltered or state[i] == casualty:
            continue
        if arc[i] >= 0:
            idx[c] = i
            at[c] = -1
            c += 1
        elif wet[node[i]]:
            idx[c] = i
            at[c] = node[i]
            c += 1
    return idx[:c].copy(), at[:c].copy()


@njit(cache=True)
def settle(
    live: Any, state: Any, shelter: Any, shelter_node: Any, node: Any, node_district: Any,
    sheltered: int, casualty: int, out_node: Any, settled: Any, live_counts: Any,
    has_phone: Any, phones_at: Any,
) -> Any:  # fmt: skip
    """:func:`sim.engine.settled.settle_vectorised` in one pass over ``live``."""
    kept = np.empty(len(live), dtype=np.int64)
    fallen = np.empty(len(live), dtype=np.int64)
    n_kept = n_fallen = 0
    for k in range(len(live)):
        i = live[k]
        s = state[i]
        here = shelter_node[max(shelter[i], 0)] if s == sheltered else node[i]
        out_node[i] = here
        if (s == sheltered) | (s == casualty):
            settled[node_district[here], s] += 1
            phones_at[here] += has_phone[i]
            if s == casualty:
                fallen[n_fallen] = i
                n_fallen += 1
        else:
            live_counts[node_district[here], s] += 1
            kept[n_kept] = i
            n_kept += 1
    return kept[:n_kept].copy(), fallen[:n_fallen].copy()
