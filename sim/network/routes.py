"""Which way a message goes: the paths of fewest links through the communication network.

:class:`sim.network.state.NetworkState` searches each tier's graph of working links with
:func:`fewest_hops_vectorised` (or a compiled copy with the same predecessors, which the engine
swaps in for large networks); docs/networks.md states the rule for equally short paths.
"""

from __future__ import annotations

import numpy as np
from scipy.sparse import csr_matrix


def fewest_hops_vectorised(graph: csr_matrix, source: int) -> np.ndarray:
    """Predecessors on paths of fewest links from ``source`` (-9999: not reached).

    Of equally short paths, each device's predecessor is its highest-numbered neighbour one hop
    closer to the source: the paths SciPy's Dijkstra (1.17, on unit weights) returns, defined here
    so that no library version decides which way a message goes. A breadth-first search, one hop
    at a time; the engine swaps in a compiled copy (:attr:`sim.network.state.NetworkState.fewest_hops`).
    """
    n = graph.shape[0]
    indptr, indices = graph.indptr, graph.indices
    pred = np.full(n, -9999, dtype=np.int32)
    claim = np.full(n, -1, dtype=np.int64)  # the highest-numbered claimant so far
    seen = np.zeros(n, dtype=bool)
    seen[source] = True
    frontier = np.array([source], dtype=np.int64)
    while len(frontier):
        starts = indptr[frontier].astype(np.int64)
        counts = indptr[frontier + 1] - starts
        # every link out of this hop's devices, as (from, to)
        ends = np.cumsum(counts)
        at = np.arange(int(ends[-1])) + np.repeat(starts - (ends - counts), counts)
        dst = indices[at]
        new = ~seen[dst]
        np.maximum.at(claim, dst[new], np.repeat(frontier, counts)[new])
        frontier = np.flatnonzero((claim >= 0) & ~seen)
        pred[frontier] = claim[frontier]
        seen[frontier] = True
    return pred
