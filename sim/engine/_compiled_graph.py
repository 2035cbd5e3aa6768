"""Compiled kernels of graphs (numba): per-arc costs, closer arcs, a repair's downstream nodes, network routes.

Part of :mod:`sim.engine._compiled` (which re-exports them), kept apart to keep modules short;
the same ``cache=True`` rules apply.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from sim.engine._kernel_cache import njit


@njit(cache=True)
def closer_arcs(arc_ok: Any, arc_tail: Any, arc_head: Any, dist_s: Any, n_nodes: int) -> Any:
    """:func:`sim.engine.movement.closer_arcs_vectorised` in one pass over the arcs."""
    count = np.zeros(n_nodes, dtype=np.int64)
    only = np.full(n_nodes, -1, dtype=np.int64)
    for a in range(len(arc_tail)):
        if arc_ok[a] and dist_s[arc_head[a]] < dist_s[arc_tail[a]]:
            count[arc_tail[a]] += 1
            only[arc_tail[a]] = a  # the last closer arc, as numpy's assignment leaves it
    return count, only


@njit(cache=True)
def closer_arcs_update(
    count: Any,
    only: Any,
    changed: Any,
    arc_ok: Any,
    arc_tail: Any,
    arc_head: Any,
    dist_s: Any,
    out_ptr: Any,
    out_arcs: Any,
    in_ptr: Any,
    in_arcs: Any,
) -> Any:
    """:func:`sim.engine.movement.closer_arcs_update_vectorised`: the changed nodes and the tails into them, again."""
    count, only = count.copy(), only.copy()
    seen = np.zeros(len(count), dtype=np.bool_)
    todo = np.empty(len(count), dtype=np.int64)  # the nodes to count again, each once
    n_todo = 0
    for c in changed:
        if not seen[c]:
            seen[c] = True
            todo[n_todo] = c
            n_todo += 1
        for j in range(in_ptr[c], in_ptr[c + 1]):
            v = arc_tail[in_arcs[j]]
            if not seen[v]:
                seen[v] = True
                todo[n_todo] = v
                n_todo += 1
    for k in range(n_todo):  # (in one loop: a kernel called per node cost five times the whole count)
        v = todo[k]
        n, last = 0, -1
        for j in range(out_ptr[v], out_ptr[v + 1]):
            a = out_arcs[j]
            if arc_ok[a] and dist_s[arc_head[a]] < dist_s[arc_tail[a]]:
                n += 1
                last = max(last, a)
        count[v] = n
        only[v] = last
    return count, only


@njit(cache=True)
def repair_subgraph(
    f_perm: Any, f_indices: Any, f_indptr: Any, pair_cost: Any, nodes: Any, affected: Any, pos: Any, old_dist: Any
) -> Any:
    """:func:`sim.engine.routing.subgraph_vectorised`: the same graph, counted and filled in two passes."""
    k = len(nodes)
    best_t = np.full(k, np.inf)  # per affected node: the least offer from an unchanged neighbour
    best_v = np.full(k, -1, dtype=np.int64)
    count = np.zeros(k + 1, dtype=np.int64)  # arcs per row (the virtual source's row last)
    for r in range(k):
        node = nodes[r]
        for at in range(f_indptr[node], f_indptr[node + 1]):
            w = pair_cost[f_perm[at]]
            if not np.isfinite(w):
                continue
            v = f_indices[at]
            if affected[v]:
                count[pos[v]] += 1
                continue
            offer = old_dist[v] + w
            if np.isfinite(offer) and (offer < best_t[r] or (offer == best_t[r] and v < best_v[r])):
                best_t[r] = offer
                best_v[r] = v
    n_entries = 0
    for r in range(k):
        n_entries += best_v[r] >= 0
    count[k] = n_entries
    indptr = np.zeros(k + 2, dtype=np.int64)
    for r in range(k + 1):
        indptr[r + 1] = indptr[r] + count[r]
    data = np.empty(indptr[k + 1])
    indices = np.empty(indptr[k + 1], dtype=np.int64)
    fill = indptr[:-1].copy()
    entry_u = np.empty(n_entries, dtype=np.int64)
    entry_v = np.empty(n_entries, dtype=np.int64)
    e = 0
    for r in range(k):  # rows filled in the order of their columns (r ascending)
        node = nodes[r]
        for at in range(f_indptr[node], f_indptr[node + 1]):
            w = pair_cost[f_perm[at]]
            v = f_indices[at]
            if np.isfinite(w) and affected[v]:
                row = pos[v]
                data[fill[row]] = w
                indices[fill[row]] = r
                fill[row] += 1
        if best_v[r] >= 0:
            data[fill[k]] = best_t[r]
            indices[fill[k]] = r
            fill[k] += 1
            entry_u[e] = r
            entry_v[e] = best_v[r]
            e += 1
    return data, indices, indptr, entry_u, entry_v


@njit(cache=True)
def arc_cost(a: int, open_arcs: Any, ref_time_s: Any, delay_s: Any, with_delay: bool) -> float:
    """One arc's cost as ``pair_cost_vectorised`` makes it: closed inf, else at least 1e-9 (NaN kept)."""
    if not open_arcs[a]:
        return np.inf
    c = ref_time_s[a] + delay_s[a] if with_delay else ref_time_s[a]
    return c if (c != c or c >= 1e-9) else 1e-9  # np.maximum(c, 1e-9)


@njit(cache=True)
def pair_cost(arcs: Any, starts: Any, open_arcs: Any, ref_time_s: Any, delay_s: Any, with_delay: bool) -> Any:
    """:func:`sim.engine.routing.pair_cost_vectorised`: the same sums, maxima and minima."""
    n_runs = len(starts)
    out = np.empty(n_runs)
    for j in range(n_runs):
        end = starts[j + 1] if j + 1 < n_runs else len(arcs)
        best = arc_cost(arcs[starts[j]], open_arcs, ref_time_s, delay_s, with_delay)
        for k in range(starts[j] + 1, end):
            c = arc_cost(arcs[k], open_arcs, ref_time_s, delay_s, with_delay)
            if best != best:  # np.minimum: a NaN stays
                break
            if c != c or c < best:
                best = c
        out[j] = best
    return out


@njit(cache=True)
def downstream(hit: Any, pred: Any) -> Any:
    """:func:`sim.engine.routing.downstream_vectorised`: each chain walked once, its answer kept."""
    n = len(pred)
    state = np.zeros(n, dtype=np.int8)  # 0: not known yet, 1: a hit node on its chain, 2: none
    path = np.empty(n, dtype=np.int64)
    for u in range(n):
        if state[u] != 0:
            continue
        k = 0
        v = u
        val = 2
        while True:
            if state[v] != 0:
                val = state[v]
                break
            path[k] = v
            k += 1
            if hit[v]:
                val = 1
                break
            p = pred[v]
            if p < 0 or k >= n:  # a root (or a loop without a hit node)
                break
            v = p
        for j in range(k):
            state[path[j]] = val
    return state == 1


@njit(cache=True)
def fewest_hops(indptr: Any, indices: Any, source: int) -> Any:
    """:func:`sim.network.routes.fewest_hops_vectorised` as one breadth-first search.

    A device first reached in this hop is claimed, and any later claimant in the same hop with a
    higher number takes it over: its highest-numbered neighbour one hop closer, as the reference.
    """
    n = len(indptr) - 1
    pred = np.full(n, -9999, dtype=np.int32)
    hop = np.full(n, -1, dtype=np.int64)
    hop[source] = 0
    frontier = np.empty(n, dtype=np.int64)
    found = np.empty(n, dtype=np.int64)
    frontier[0] = source
    size = 1
    d = 0
    while size:
        d += 1
        size_next = 0
        for k in range(size):
            v = frontier[k]
            for j in range(indptr[v], indptr[v + 1]):
                w = indices[j]
                if hop[w] == -1:
                    hop[w] = d
                    pred[w] = v
                    found[size_next] = w
                    size_next += 1
                elif hop[w] == d and v > pred[w]:
                    pred[w] = v
        frontier, found = found, frontier
        size = size_next
    return pred
