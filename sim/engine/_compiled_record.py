"""The passes over everyone, compiled: the timeseries' counts, the command centre's picture, departures due.

Each count is a whole number, so any order of summing gives it; the passes are split into
simple loops, one condition each, which the compiler turns into vector instructions, instead of
one loop with every condition (whose branches on conditions close to random across people cost
more than the arithmetic: 11 ms a million people for the counts, 10 ms for the picture, against
about 3 and 5 ms so). The references are :func:`sim.engine.recorder.time_counts_vectorised`,
:func:`sim.engine.locating.people_in_picture_vectorised` and
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
def people_in_picture(
    t: float,
    after: float,
    ordered_t: Any,
    entry_t: Any,
    state: Any,
    shelter: Any,
    node: Any,
    users: Any,
    fresh: Any,
    seen_in: Any,
    n_shelters: int,
    zone: Any,
    sheltered: int,
) -> Any:
    """:func:`sim.engine.locating.people_in_picture_vectorised`, in simple passes over everyone.

    The times are read once, into a byte per person (bit 0: ordered long enough ago; 1: ordered;
    2: in the registry; 3: a fresh check-in; 4: it placed them in their shelter), which the later
    passes read instead: the passes are limited by memory, and this halves what they read (6.5
    against 4.5 ms a million people).
    """
    n = len(state)
    cut = t - after
    code = np.empty(n, dtype=np.uint8)
    for i in range(n):
        o = ordered_t[i]
        code[i] = np.uint8(o <= cut) | (np.uint8(np.isfinite(o)) << 1) | (np.uint8(entry_t[i] <= t) << 2)
    for k in range(len(users)):
        code[users[k]] |= (np.uint8(fresh[k]) << 3) | (np.uint8(seen_in[k]) << 4)
    # Known in a shelter by name: registered, or checked in there (everyone adds 0 or 1; those
    # in no shelter add 0 to row 0), in four partial counts taken in turn.
    named4 = np.zeros((4, max(n_shelters, 1)), dtype=np.int64)
    for i in range(n):
        sh = shelter[i]
        known = ((code[i] & 0b10100) != 0) & (sh >= 0)
        named4[i & 3, max(sh, 0)] += known
    listed = np.empty(n, dtype=np.bool_)  # ordered long enough ago, not registered, not checked in
    for i in range(n):
        listed[i] = (code[i] & 0b01101) == 0b00001
    danger = np.empty(n, dtype=np.bool_)  # ordered, not in a shelter, where the order was for
    for i in range(n):
        danger[i] = ((code[i] & 0b00010) != 0) & (state[i] != sheltered) & zone[node[i]]
    n_listed = n_listed_danger = n_false = n_missed = 0
    for i in range(n):
        on_list = listed[i]
        in_danger = danger[i]
        n_listed += on_list
        n_listed_danger += on_list & in_danger
        n_false += on_list & (not in_danger)
        n_missed += in_danger & (not on_list) & ((code[i] & 0b00001) != 0)
    known_users = np.empty(len(users), dtype=np.bool_)
    for k in range(len(users)):
        known_users[k] = (entry_t[users[k]] <= t) | seen_in[k]
    named = (named4[0] + named4[1] + named4[2] + named4[3])[:n_shelters]
    return named, known_users, listed, danger, n_listed, n_listed_danger, n_false, n_missed


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
    n_kept = 0
    for k in range(len(live)):
        i = live[k]
        s = state[i]
        here = shelter_node[max(shelter[i], 0)] if s == sheltered else node[i]
        out_node[i] = here
        if (s == sheltered) | (s == casualty):
            settled[node_district[here], s] += 1
            phones_at[here] += has_phone[i]
        else:
            live_counts[node_district[here], s] += 1
            kept[n_kept] = i
            n_kept += 1
    return kept[:n_kept].copy()
