"""The compiled kernels themselves (numba, imported on first use by :mod:`sim.engine.kernels`).

Module-level functions with ``cache=True``: numba compiles each once per machine and caches it
beside this file; later processes load it in a few hundredths of a second.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from sim.engine._compiled_graph import (  # noqa: F401 (re-exported)
    arc_cost,
    closer_arcs,
    closer_arcs_update,
    downstream,
    fewest_hops,
    pair_cost,
    repair_subgraph,
)
from sim.engine._compiled_record import (  # noqa: F401 (re-exported)
    app_part,
    due_to_leave,
    exposed_where_wet,
    leave_home,
    picture_among,
    settle,
    time_counts,
)
from sim.engine._compiled_terrain import distance_on_grid, spill_levels  # noqa: F401 (re-exported)
from sim.engine._kernel_cache import njit


@njit(cache=True)
def before_float(x: float, y: float) -> int:
    """-1, 0 or 1: ``x`` before, tied with or after ``y`` in numpy's sort order (NaN last)."""
    if x != x:
        return 0 if y != y else 1
    if y != y or x < y:
        return -1
    return 1 if x > y else 0


@njit(cache=True)
def person_before(i: int, j: int, arrived: Any, tiebreak: Any) -> bool:
    """Whether person ``i`` comes strictly before ``j`` at one node: by arrival, tiebreak, input order."""
    c = before_float(arrived[i], arrived[j])
    if c != 0:
        return c < 0
    if tiebreak[i] != tiebreak[j]:
        return tiebreak[i] < tiebreak[j]
    return i < j


@njit(cache=True)
def sort_at_node(a: Any, arrived: Any, tiebreak: Any) -> None:
    """Sort the people ``a`` of one node in place by :func:`person_before` (stable)."""
    m = len(a)
    if m <= 16:  # insertion sort: most nodes hold a handful of people
        for i in range(1, m):
            x = a[i]
            j = i - 1
            while j >= 0 and person_before(x, a[j], arrived, tiebreak):
                a[j + 1] = a[j]
                j -= 1
            a[j + 1] = x
        return
    # ``np.lexsort((tiebreak, arrived))`` over the group: stable sorts, the last key first
    # (numba's stable argsort puts NaN last, as numpy's).
    order = np.argsort(tiebreak[a], kind="mergesort")
    order = order[np.argsort(arrived[a[order]], kind="mergesort")]
    a[:] = a[order]


@njit(cache=True)
def stable_order(keys: Any, n_keys: int) -> Any:
    """``np.argsort(keys, kind="mergesort")`` for whole numbers in ``[0, n_keys)``: the same order.

    A counting sort when the keys are many for their range (numba's merge sort took 1.6 ms for
    20,000 keys, the counting sort 0.13 ms over 112,000 possible keys); the merge sort otherwise.
    """
    n = len(keys)
    if n * 64 < n_keys:
        return np.argsort(keys, kind="mergesort")
    start = np.zeros(n_keys + 1, dtype=np.int64)
    for i in range(n):
        k = keys[i]
        if k < 0 or k >= n_keys:  # not in range: the general sort
            return np.argsort(keys, kind="mergesort")
        start[k + 1] += 1
    for k in range(n_keys):
        start[k + 1] += start[k]
    out = np.empty(n, dtype=np.int64)
    for i in range(n):  # in input order within a key: stable
        k = keys[i]
        out[start[k]] = i
        start[k] += 1
    return out


@njit(cache=True)
def sort_slots(cost: Any, arc: Any, pair: Any) -> Any:
    """One node's slots in the order ``np.lexsort((pair, arc, cost))``: by cost (NaN last), arc, pair."""
    order = np.argsort(pair, kind="mergesort")
    order = order[np.argsort(arc[order], kind="mergesort")]
    return order[np.argsort(cost[order], kind="mergesort")]


@njit(cache=True)
def lone_choice(
    nd: int,
    out_ptr: Any,
    out_arcs: Any,
    arc_ok: Any,
    arc_head: Any,
    arc_cost_s: Any,
    dist_s: Any,
    next_free_s: Any,
    headway_s: Any,
    t_now: float,
) -> int:
    """:func:`spread`'s choice for one person alone at node ``nd``: the exit whose slot 0 comes first.

    The slot costs the very sum :func:`spread` makes (``0 * headway`` included: NaN where the
    headway is infinite), and the order is :func:`sort_slots`': by cost with NaN last, then arc
    (a node's exits are distinct arcs). -1: no exit leads closer.
    """
    best = -1
    best_cost = 0.0
    for e in range(out_ptr[nd], out_ptr[nd + 1]):
        a = out_arcs[e]
        if not (arc_ok[a] and dist_s[arc_head[a]] < dist_s[nd]):
            continue
        free = next_free_s[a]
        base = free if (free != free or free > t_now) else t_now
        cost = base + 0 * headway_s[a] + arc_cost_s[a] + dist_s[arc_head[a]]
        if best < 0:
            better = True
        elif cost != cost:  # NaN: only before another NaN of a higher arc
            better = best_cost != best_cost and a < best
        elif best_cost != best_cost:
            better = True
        else:
            better = cost < best_cost or (cost == best_cost and a < best)
        if better:
            best = a
            best_cost = cost
    return best


@njit(cache=True)
def spread(
    node: Any,
    arrived: Any,
    tiebreak: Any,
    out_ptr: Any,
    out_arcs: Any,
    arc_ok: Any,
    arc_head: Any,
    arc_cost_s: Any,
    dist_s: Any,
    next_free_s: Any,
    headway_s: Any,
    t_now: float,
) -> Any:
    """:func:`sim.engine.movement.spread_over_arcs_vectorised`, node by node (see its docstring)."""
    m = len(node)
    choice = np.full(m, -1, dtype=np.int64)
    order = stable_order(node, len(dist_s))  # by node, ties in input order
    cand = np.empty(8, dtype=np.int64)  # a node's exits, their merge heads and slot 0's start
    head = np.empty(8, dtype=np.int64)
    base = np.empty(8)
    start = 0
    while start < m:
        nd = node[order[start]]
        end = start + 1
        while end < m and node[order[end]] == nd:
            end += 1
        size = end - start
        if size == 1:  # most groups: one person, the best slot 0, chosen without building slots
            choice[order[start]] = lone_choice(
                nd, out_ptr, out_arcs, arc_ok, arc_head, arc_cost_s, dist_s, next_free_s, headway_s, t_now
            )
            start = end
            continue
        sort_at_node(order[start:end], arrived, tiebreak)
        # The node's candidate arcs, in out_arcs order (strictly closer, usable), and their slot 0's start.
        deg = out_ptr[nd + 1] - out_ptr[nd]
        if deg > len(cand):  # scratch for the node's exits, grown as needed (most nodes have a few)
            cand, head, base = np.empty(deg, dtype=np.int64), np.empty(deg, dtype=np.int64), np.empty(deg)
        n_cand = 0
        for e in range(out_ptr[nd], out_ptr[nd + 1]):
            a = out_arcs[e]
            if arc_ok[a] and dist_s[arc_head[a]] < dist_s[nd]:
                free = next_free_s[a]
                cand[n_cand] = a
                base[n_cand] = free if (free != free or free > t_now) else t_now
                n_cand += 1
        if n_cand == 0:
            start = end
            continue
        # Slot of rank k on exit c costs base[c] + k * headway + cost + dist(head), as the reference
        # sums it. Every exit's slots non-decreasing and none NaN: merge the exits' lists, each
        # slot's cost made again as needed (the same sum, the same number).
        in_order = True
        for c in range(n_cand):
            a = cand[c]
            prev = 0.0
            for k in range(size):
                cost = base[c] + k * headway_s[a] + arc_cost_s[a] + dist_s[arc_head[a]]
                if cost != cost or (k > 0 and cost < prev):
                    in_order = False
                prev = cost
        if in_order:
            # The next slot is the cheapest head (lower arc on a tie); equal slots of one exit are
            # interchangeable, as only the exit is chosen.
            head[:n_cand] = 0
            for k in range(size):
                best = -1
                best_cost = 0.0
                for c in range(n_cand):
                    if head[c] < size:
                        a = cand[c]
                        cost = base[c] + head[c] * headway_s[a] + arc_cost_s[a] + dist_s[arc_head[a]]
                        if best < 0 or cost < best_cost or (cost == best_cost and a < cand[best]):
                            best = c
                            best_cost = cost
                choice[order[start + k]] = cand[best]
                head[best] += 1
        else:  # every slot, sorted (``sort_slots``)
            n_slots = size * n_cand
            cost_s = np.empty(n_slots)
            arc = np.empty(n_slots, dtype=np.int64)
            pair = np.empty(n_slots, dtype=np.int64)
            for c in range(n_cand):
                a = cand[c]
                for k in range(size):
                    s = c * size + k
                    cost_s[s] = base[c] + k * headway_s[a] + arc_cost_s[a] + dist_s[arc_head[a]]
                    arc[s] = a
                    pair[s] = order[start + k] * n_cand + c  # the reference's pair order: person, then exit
            taken = sort_slots(cost_s, arc, pair)
            for k in range(size):
                choice[order[start + k]] = arc[taken[k]]
        start = end
    return choice


@njit(cache=True)
def np_max(x: float, y: float) -> float:
    """``np.maximum(x, y)``: NaN if either is NaN."""
    if x != x:
        return x
    if y != y:
        return y
    return x if x >= y else y


@njit(cache=True)
def admit(
    queue: Any,
    ready: Any,
    arrived: Any,
    tiebreak: Any,
    next_free: Any,
    headway: Any,
    t_end: float,
    room: Any,
    size: Any,
    with_room: bool,
) -> Any:
    """:func:`sim.engine.movement.admit_fifo`, with its grouped running maximum and sums as it computes them."""
    n = len(queue)
    order = stable_order(queue, len(next_free))  # by queue, ties in input order
    gid = np.empty(n, dtype=np.int64)
    rank = np.empty(n, dtype=np.int64)
    first = np.empty(n, dtype=np.int64)  # each element's group start (sorted position)
    g = -1
    start = 0
    while start < n:
        end = start + 1
        while end < n and queue[order[end]] == queue[order[start]]:
            end += 1
        if end - start > 1:
            sort_at_node(order[start:end], arrived, tiebreak)
        g += 1
        for k in range(start, end):
            gid[k] = g
            rank[k] = k - start
            first[k] = start
        start = end
    # grouped_cummax(a - rank * h, gid): shifted by the whole call's minimum and span, as there.
    values = np.empty(n)
    for k in range(n):
        values[k] = ready[order[k]] - rank[k] * headway[queue[order[k]]]
    lo = values[0]
    hi = values[0]
    for k in range(1, n):
        v = values[k]
        if lo == lo:
            lo = v if (v != v or v < lo) else lo
        if hi == hi:
            hi = v if (v != v or v > hi) else hi
    span = hi - lo + 1.0
    entry = np.empty(n)
    admitted = np.empty(n, dtype=np.bool_)
    acc = 0.0
    for k in range(n):
        shifted = (values[k] - lo) + gid[k] * span
        acc = shifted if k == 0 else np_max(acc, shifted)
        run = acc - gid[k] * span + lo
        qk = queue[order[k]]
        entry[k] = rank[k] * headway[qk] + np_max(next_free[qk], run)
        admitted[k] = entry[k] < t_end
    if with_room:
        total = np.empty(n)
        running = 0.0
        for k in range(n):
            running += size[order[k]]
            total[k] = running
        blocked = 0
        for k in range(n):
            s0 = first[k]
            if k == s0:
                blocked = 0
            before = total[s0] - size[order[s0]]
            if not (total[k] - before <= room[order[k]] + 1e-9):
                blocked += 1
            if blocked != 0:
                admitted[k] = False
    for k in range(n):
        if admitted[k]:
            qk = queue[order[k]]
            next_free[qk] = np_max(next_free[qk], entry[k] + headway[qk])
    out_entry = np.empty(n)
    out_adm = np.empty(n, dtype=np.bool_)
    for k in range(n):
        out_entry[order[k]] = entry[k]
        out_adm[order[k]] = admitted[k]
    return out_entry, out_adm


@njit(cache=True)
def exit_and_wait(
    active: Any,
    state: Any,
    evacuating: int,
    arc: Any,
    t_ready: Any,
    blocked: Any,
    node: Any,
    arc_head: Any,
    t_end: float,
) -> Any:
    """:func:`sim.engine.movement.exit_and_wait_vectorised` in one pass over ``active``."""
    n = len(active)
    still = np.empty(n, dtype=np.int64)
    exiting = np.empty(n, dtype=np.int64)
    waiting = np.empty(n, dtype=np.int64)
    n_still = 0
    n_exit = 0
    n_wait = 0
    for k in range(n):
        i = active[k]
        if state[i] != evacuating:
            continue
        still[n_still] = i
        n_still += 1
        a = arc[i]
        if a >= 0 and t_ready[i] < t_end:
            node[i] = arc_head[a]
            arc[i] = -1
            exiting[n_exit] = i
            n_exit += 1
            a = -1
        if a < 0 and t_ready[i] < t_end and not blocked[i]:
            waiting[n_wait] = i
            n_wait += 1
    return still[:n_still], exiting[:n_exit].copy(), waiting[:n_wait].copy()


@njit(cache=True)
def count_on(
    active: Any, arc: Any, t_ready: Any, mode: Any, car: int, arc_road: Any, t_mid: float, n_roads: int, n_arcs: int
) -> Any:
    """:func:`sim.engine.movement.count_on_vectorised` in one pass over ``active``."""
    walkers = np.zeros(n_roads)
    cars = np.zeros(n_arcs)
    for k in range(len(active)):
        i = active[k]
        a = arc[i]
        if a >= 0 and t_ready[i] > t_mid:
            if mode[i] == car:
                cars[a] += 1.0
            else:
                walkers[arc_road[a]] += 1.0
    return walkers, cars


@njit(cache=True)
def room_taken(active: Any, came_by: Any, used_m2: Any, n_keys: int) -> Any:
    """:func:`sim.engine.movement.room_taken_vectorised`: the same sums, in the same order."""
    taken = np.zeros(n_keys)
    for k in range(len(active)):
        i = active[k]
        key = came_by[i]
        if key >= 0:
            taken[key] += used_m2[i]
    return taken


@njit(cache=True)
def clip01(x: float) -> float:
    """``np.clip(x, 0.0, 1.0)``: NaN stays NaN."""
    if x != x:
        return x
    x = x if x >= 0.0 else 0.0
    return x if x <= 1.0 else 1.0


@njit(cache=True)
def positions_now(
    idx: Any,
    t: float,
    node: Any,
    arc: Any,
    t_entry: Any,
    t_ready: Any,
    state: Any,
    shelter: Any,
    node_xy: Any,
    arc_tail: Any,
    arc_head: Any,
    shelter_xy: Any,
    sheltered: int,
) -> Any:
    """:func:`sim.engine.movement.positions_now_vectorised`, person by person, the same operations."""
    n = len(idx)
    xy = np.empty((n, 2))
    for k in range(n):
        i = idx[k]
        if state[i] == sheltered:
            xy[k, 0] = shelter_xy[shelter[i], 0]
            xy[k, 1] = shelter_xy[shelter[i], 1]
            continue
        a = arc[i]
        if a >= 0:
            span = np_max(t_ready[i] - t_entry[i], 1e-9)
            frac = clip01((t - t_entry[i]) / span)
            u = arc_tail[a]
            v = arc_head[a]
            xy[k, 0] = node_xy[u, 0] + frac * (node_xy[v, 0] - node_xy[u, 0])
            xy[k, 1] = node_xy[u, 1] + frac * (node_xy[v, 1] - node_xy[u, 1])
        else:
            xy[k, 0] = node_xy[node[i], 0]
            xy[k, 1] = node_xy[node[i], 1]
    return xy


@njit(cache=True)
def _sift_down(heap: Any, a: int, n: int, i: int) -> None:
    """Restore the min-heap ``heap[a:a + n]`` below its position ``i``."""
    x = heap[a + i]
    while True:
        c = 2 * i + 1
        if c >= n:
            break
        if c + 1 < n and heap[a + c + 1] < heap[a + c]:
            c += 1
        if heap[a + c] < x:
            heap[a + i] = heap[a + c]
            i = c
        else:
            break
    heap[a + i] = x


@njit(cache=True)
def desk_starts(free: Any, ptr: Any, shelter: Any, arrival_t: Any, dur: Any) -> Any:
    """:func:`sim.agents.registry.desk_starts_reference` with each shelter's desks as a heap in place.

    Person ``k`` takes the desk of ``free[ptr[shelter[k]]:ptr[shelter[k] + 1]]`` that frees first
    (the heap's top) and leaves it at their end: the same times leave and enter as in the
    reference's heap, so the starts are the same, in log(desks) a person.
    """
    start = np.empty(len(arrival_t))
    k, m = 0, len(arrival_t)
    while k < m:
        s = shelter[k]
        a, n = ptr[s], ptr[s + 1] - ptr[s]
        for i in range(n // 2 - 1, -1, -1):  # a heap of this shelter's desks, whatever order they came in
            _sift_down(free, a, n, i)
        while k < m and shelter[k] == s:
            top = free[a]
            begin = top if top >= arrival_t[k] else arrival_t[k]  # Python's max(free, arrival)
            start[k] = begin
            free[a] = begin + dur[k]
            _sift_down(free, a, n, 0)
            k += 1
    return start


@njit(cache=True)
def queue_lengths(state: Any, arc: Any, want_arc: Any, mode: Any, n_arcs: int, evacuating: int) -> Any:
    """:func:`sim.engine.movement.queue_lengths_vectorised` in one pass over everyone."""
    out = np.zeros((2, n_arcs), dtype=np.int64)
    for i in range(len(state)):
        if (state[i] == evacuating) & (arc[i] < 0) & (want_arc[i] >= 0):
            out[mode[i], want_arc[i]] += 1
    return out


@njit(cache=True)
def scatter_add(target: Any, idx: Any, values: Any) -> None:
    """``np.add.at(target, idx, values)``: one addition per index, in order."""
    for i in range(len(idx)):
        target[idx[i]] += values[i]


@njit(cache=True)
def scatter_subtract(target: Any, idx: Any, values: Any) -> None:
    """``np.subtract.at(target, idx, values)``: one subtraction per index, in order."""
    for i in range(len(idx)):
        target[idx[i]] -= values[i]


@njit(cache=True)
def scatter_max(target: Any, idx: Any, values: Any) -> None:
    """``np.maximum.at(target, idx, values)``: a NaN on either side wins, as numpy's maximum."""
    for i in range(len(idx)):
        a, b = target[idx[i]], values[i]
        if a != a:
            continue
        if b != b or b > a:
            target[idx[i]] = b


@njit(cache=True)
def held_back(active: Any, state: Any, arc: Any, want_arc: Any, evacuating: int) -> Any:
    """:func:`sim.engine.movement.held_back_vectorised` in one pass over ``active``."""
    out = np.empty(len(active), dtype=np.int64)
    k = 0
    for j in range(len(active)):
        i = active[j]
        if state[i] == evacuating and arc[i] < 0 and want_arc[i] >= 0:
            out[k] = i
            k += 1
    return out[:k].copy()


@njit(cache=True)
def full_waits(
    waiting: Any, mode: Any, want_arc: Any, came_by: Any, key: Any, taken_m2: Any, person_m2: Any, capacity_m2: Any
) -> Any:
    """:func:`sim.engine.movement.full_waits_vectorised` in one pass over ``waiting``."""
    n = len(waiting)
    came = np.empty(n, dtype=np.int64)
    want = np.empty(n, dtype=np.int64)
    k = 0
    for j in range(n):
        i = waiting[j]
        c = came_by[i]
        if c < 0:
            continue
        md = mode[i]
        w = key[md, want_arc[i]]
        if w != c and taken_m2[w] + person_m2[md] > capacity_m2[w] + 1e-9:
            came[k] = c
            want[k] = w
            k += 1
    return came[:k].copy(), want[:k].copy()
