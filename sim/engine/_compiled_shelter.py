"""The compiled admission to shelters: :meth:`sim.engine.mover.Mover.admit` in one call, but the agents.

The reference sorts the people at shelter nodes (``np.lexsort`` by node, arrival and row), ranks
them per node, takes the first ones up to the node's room, splits a node's newcomers over its
shelters in row order, and marks them sheltered. Here the same steps run in one pass; what each
shelter took (count and last arrival, in the reference's order) is handed back, and the mover
tells the shelter agents, as the reference does. ``tests/engine/test_kernels.py`` holds whole
runs through both equal, step by step.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from sim.engine._compiled import np_max
from sim.engine._kernel_cache import njit


@njit(cache=True)
def admit(
    waiting: Any,
    t0: float,
    node: Any,
    t_ready: Any,
    target: Any,
    state: Any,
    shelter: Any,
    arrival_t: Any,
    node_has_shelter: Any,
    node_room: Any,
    at_ptr: Any,
    at_rows: Any,
    rooms: Any,
    codes: Any,
    with_store: bool,
    came_by: Any,
    used_m2: Any,
    taken_m2: Any,
) -> Any:
    """Admit the waiting at shelter nodes with room (``at_ptr``/``at_rows``: each node's shelter rows).

    ``codes``: ``(SHELTERED, EVACUATING)``. Changes ``target`` (turned away: -1), ``state``,
    ``shelter``, ``arrival_t``, the room left per shelter and node, and the storage arrays in
    place. Returns the people still waiting, the admitted (in the reference's order), the turned
    away per node (nodes ascending, counts), and per shelter that took people, in order: its row,
    how many, their last arrival.
    """
    sheltered, evacuating = codes[0], codes[1]
    n = len(waiting)
    none_i = np.zeros(0, dtype=np.int64)
    none_f = np.zeros(0)
    n_cand = 0
    for k in range(n):
        if node_has_shelter[node[waiting[k]]]:
            n_cand += 1
    if n_cand == 0:
        return waiting, none_i, none_i, none_i, none_i, none_i, none_f
    # Turned away: came for this shelter, found it full or closed.
    refused_at = np.empty(n_cand, dtype=np.int64)
    n_refused = 0
    cand = np.empty(n_cand, dtype=np.int64)
    c = 0
    for k in range(n):
        i = waiting[k]
        nd = node[i]
        if not node_has_shelter[nd]:
            continue
        if node_room[nd] > 0:
            cand[c] = i
            c += 1
        elif target[i] == nd:
            refused_at[n_refused] = nd
            n_refused += 1
            target[i] = -1
    refused_at = refused_at[:n_refused]
    # (the stable sort the rows below need anyway: np.sort would compile a second one, about 2 s)
    refused_at = refused_at[np.argsort(refused_at, kind="mergesort")]
    r_nodes = np.empty(n_refused, dtype=np.int64)
    r_counts = np.empty(n_refused, dtype=np.int64)
    g = -1
    for k in range(n_refused):
        if k == 0 or refused_at[k] != refused_at[k - 1]:
            g += 1
            r_nodes[g] = refused_at[k]
            r_counts[g] = 0
        r_counts[g] += 1
    r_nodes, r_counts = r_nodes[: g + 1], r_counts[: g + 1]
    cand = cand[:c]
    if c == 0:
        return waiting, none_i, r_nodes, r_counts, none_i, none_i, none_f
    # np.lexsort((cand, t_ready[cand], node[cand])): stable sorts, the last key first.
    order = np.argsort(cand, kind="mergesort")
    order = order[np.argsort(t_ready[cand[order]], kind="mergesort")]
    nodes_c = np.empty(c, dtype=np.int64)
    for k in range(c):
        nodes_c[k] = node[cand[k]]
    order = order[np.argsort(nodes_c[order], kind="mergesort")]
    cand = cand[order]
    nodes_c = nodes_c[order]
    # Per node, the first ones up to its room; the node's newcomers over its shelters in row order.
    who = np.empty(c, dtype=np.int64)
    rank = np.empty(c, dtype=np.int64)
    n_who = 0
    start = 0
    for k in range(c):
        if k > 0 and nodes_c[k] != nodes_c[k - 1]:
            start = k
        if k - start < node_room[nodes_c[k]]:
            who[n_who] = cand[k]
            rank[n_who] = k - start
            n_who += 1
    if n_who == 0:
        return waiting, none_i, r_nodes, r_counts, none_i, none_i, none_f
    who, rank = who[:n_who], rank[:n_who]
    rows = np.empty(n_who, dtype=np.int64)
    arrival = np.empty(n_who)
    take_row = np.empty(n_who, dtype=np.int64)
    take_count = np.empty(n_who, dtype=np.int64)
    take_last = np.empty(n_who)
    n_take = 0
    s0 = 0
    while s0 < n_who:
        nd = node[who[s0]]
        s1 = s0 + 1
        while s1 < n_who and node[who[s1]] == nd:
            s1 += 1
        for k in range(s0, s1):
            arrival[k] = np_max(t_ready[who[k]], t0)
        lo, hi = at_ptr[nd], at_ptr[nd + 1]
        if hi - lo == 1:  # most nodes: one shelter takes them all
            for k in range(s0, s1):
                rows[k] = at_rows[lo]
        else:  # np.searchsorted(np.cumsum(rooms), rank, side="right")
            for k in range(s0, s1):
                total = 0
                e = lo
                while e < hi:
                    total += rooms[at_rows[e]]
                    if rank[k] < total:
                        break
                    e += 1
                rows[k] = at_rows[e]
        for e in range(lo, hi):
            r = at_rows[e]
            count = 0
            last = -np.inf
            for k in range(s0, s1):
                if rows[k] == r:
                    count += 1
                    last = arrival[k] if count == 1 else max(last, arrival[k])
            if count > 0:  # an open shelter with room: its room after is exactly this much less
                rooms[r] -= count
                node_room[nd] -= count
                take_row[n_take] = r
                take_count[n_take] = count
                take_last[n_take] = last
                n_take += 1
        s0 = s1
    for k in range(n_who):
        i = who[k]
        state[i] = sheltered
        shelter[i] = rows[k]
        arrival_t[i] = arrival[k]
        if with_store:  # Storage.leave, in their order
            if came_by[i] >= 0:
                taken_m2[came_by[i]] -= used_m2[i]
            came_by[i] = -1
            used_m2[i] = 0.0
    n_left = 0
    for k in range(n):
        if state[waiting[k]] == evacuating:
            n_left += 1
    left = np.empty(n_left, dtype=np.int64)
    j = 0
    for k in range(n):
        if state[waiting[k]] == evacuating:
            left[j] = waiting[k]
            j += 1
    return left, who, r_nodes, r_counts, take_row[:n_take], take_count[:n_take], take_last[:n_take]
