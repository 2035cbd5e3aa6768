"""Which of equally short paths a message takes (sim.network.routes.fewest_hops_vectorised).

The rule is defined by the model, not left to a library: of a device's neighbours one hop closer
to the source, the highest-numbered is its predecessor. These tests hold the search to that rule
directly, and to SciPy 1.17's Dijkstra on unit weights, whose paths the rule reproduces (so the
goldens recorded with SciPy's search stand).
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra, shortest_path

from sim.network.routes import fewest_hops_vectorised

SIZES = [(1, 0.0), (2, 1.0), (12, 1.5), (300, 1.2), (300, 4.0), (3000, 2.8)]


def random_graph(rng: np.random.Generator, n: int, degree: float) -> csr_matrix:
    """A directed graph with repeated links, self-loops, dead ends and unreachable parts, many ties."""
    m = int(rng.poisson(degree * n))
    src = rng.integers(0, n, m)
    near = (src + rng.integers(1, 6, m)) % n
    dst = np.where(rng.random(m) < 0.7, near, rng.integers(0, n, m))
    return csr_matrix((np.ones(m), (src, dst)), shape=(n, n))


@pytest.mark.parametrize(("n", "degree"), SIZES)
def test_each_device_comes_from_its_highest_numbered_neighbour_one_hop_closer(n, degree):
    rng = np.random.default_rng([n, int(degree * 10), 1])
    for _ in range(6):
        g = random_graph(rng, n, degree)
        coo = g.tocoo()
        for source in rng.choice(n, size=min(n, 8), replace=False):
            hops = shortest_path(g, directed=True, unweighted=True, indices=source)
            pred = fewest_hops_vectorised(g, int(source))
            reached = np.isfinite(hops)
            assert pred[source] == -9999
            assert (pred[~reached] == -9999).all()
            for w in np.flatnonzero(reached & (np.arange(n) != source)):
                closer = coo.row[(coo.col == w) & (hops[coo.row] == hops[w] - 1)]
                assert pred[w] == closer.max(), (source, w)


@pytest.mark.skipif(
    tuple(int(p) for p in scipy.__version__.split(".")[:2]) < (1, 17),
    reason="SciPy before 1.17 kept Dijkstra's queue in a Fibonacci heap, with other ties",
)
@pytest.mark.parametrize(("n", "degree"), SIZES)
def test_the_paths_are_scipys_dijkstra_on_unit_weights(n, degree):
    rng = np.random.default_rng([n, int(degree * 10), 2])
    for _ in range(6):
        g = random_graph(rng, n, degree)
        for source in rng.choice(n, size=min(n, 8), replace=False):
            _, expect = dijkstra(g, directed=True, indices=source, return_predecessors=True, unweighted=True)
            np.testing.assert_array_equal(fewest_hops_vectorised(g, int(source)), expect)
