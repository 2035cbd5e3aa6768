"""Repairing a routing field after a loss gives a full search's times, bit for bit (issue 20).

A synthetic city with a river (bridges, parallel streets): shelters fill and roads close in
random steps, and after each the repaired field is held against a full multi-source Dijkstra.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra

from sim.agents.citizens import CAR, WALK
from sim.engine.model import EvacuationModel
from sim.engine.routing import _pair_cost, _reversed_graph, compute_field, repair_field
from sim.scenario import load_scenario


@pytest.fixture(scope="module")
def net():
    scn = load_scenario(
        {
            "name": "repair",
            "seed": 3,
            "city": {"synthetic": {"area_km2": 2.0, "population": 500, "block_m": 90, "water": "river", "bridges": 2}},
        }
    )
    return EvacuationModel(scn).net


def _check(net, mode, open_arcs, targets, field, delay_s=None):
    full = compute_field(net, mode, open_arcs, targets, delay_s)
    np.testing.assert_array_equal(field.dist, full.dist)  # the same floats, not just close
    n = net.n_nodes
    reached = np.isfinite(field.dist)
    assert ((field.source >= 0) == reached).all()
    # Each node's target is one of the nearest: its own search from that target gives the time.
    _arcs, _starts, perm, indices, indptr = _reversed_graph(net, mode)
    graph = csr_matrix((_pair_cost(net, mode, open_arcs, delay_s)[perm], indices, indptr), shape=(n, n))
    t = np.unique(targets)
    per_target = dijkstra(graph, directed=True, indices=t)
    row = np.searchsorted(t, field.source[reached])
    np.testing.assert_array_equal(per_target[row, np.flatnonzero(reached)], field.dist[reached])
    # The next node is one step on: its time plus that step's cost, and the same target.
    step = reached & (field.pred >= 0)
    u = np.flatnonzero(step)
    v = field.pred[u]
    np.testing.assert_array_equal(field.dist[v] + np.asarray(graph[v, u]).ravel(), field.dist[u])
    np.testing.assert_array_equal(field.source[v], field.source[u])
    assert (field.pred[t] == -1).all()


@pytest.mark.parametrize("mode", [WALK, CAR])
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_repairs_after_shelters_fill_and_roads_close_equal_a_full_search(net, mode, seed):
    rng = np.random.default_rng(seed)
    n = net.n_nodes
    targets = np.sort(rng.choice(n, 12, replace=False))
    open_arcs = np.ones(net.n_arcs, dtype=bool)
    field = compute_field(net, mode, open_arcs, targets)
    for step in range(8):
        roads_closed = not (step % 2 == 0 and len(targets) > 1)
        if not roads_closed:  # a shelter fills
            targets = np.delete(targets, rng.integers(len(targets)))
        else:  # a few roads close (both directions of each)
            roads = rng.choice(net.road.max() + 1, 15, replace=False)
            open_arcs = open_arcs & ~np.isin(net.road, roads)
        repaired = repair_field(net, mode, open_arcs, targets, field)
        if not roads_closed:  # the roads as the last field's: its pair costs are the costs, the same field
            kept = repair_field(net, mode, open_arcs, targets, field, same_roads=True)
            for name in ("dist", "source", "pred", "pair_cost"):
                np.testing.assert_array_equal(getattr(kept, name), getattr(repaired, name))
        field = repaired
        _check(net, mode, open_arcs, targets, field)


def test_a_repair_with_no_loss_keeps_the_field(net):
    targets = np.array([0, 50, 100])
    open_arcs = np.ones(net.n_arcs, dtype=bool)
    field = compute_field(net, WALK, open_arcs, targets)
    again = repair_field(net, WALK, open_arcs, targets, field)
    assert again.dist is field.dist
    assert again.source is field.source


def test_closing_a_road_on_no_route_changes_nothing(net):
    open_arcs = np.ones(net.n_arcs, dtype=bool)
    targets = np.array([0, 50, 100])
    field = compute_field(net, WALK, open_arcs, targets)
    # An arc no route uses: no node steps along it.
    used = np.zeros(net.n_arcs, dtype=bool)
    for a in range(net.n_arcs):
        used[a] = field.pred[net.tail[a]] == net.head[a]
    spare = np.flatnonzero(~used & net.usable[WALK])[0]
    closed = open_arcs.copy()
    closed[spare] = False
    again = repair_field(net, WALK, closed, targets, field)
    assert again.dist is field.dist
    _check(net, WALK, closed, targets, again)


def test_after_every_shelter_is_full_a_road_closing_still_gives_a_field(net):
    """No targets left: the field is empty; a later loss (a road closing) must not need its tree."""
    open_arcs = np.ones(net.n_arcs, dtype=bool)
    field = compute_field(net, WALK, open_arcs, np.array([0, 50]))
    none = np.zeros(0, dtype=np.int64)
    field = repair_field(net, WALK, open_arcs, none, field)  # the last shelters fill
    assert np.isinf(field.dist).all()
    closed = open_arcs.copy()
    closed[:10] = False
    field = repair_field(net, WALK, closed, none, field)  # then the flood closes roads
    assert np.isinf(field.dist).all()
    assert (field.source == -1).all()


@pytest.mark.parametrize("mode", [WALK, CAR])
@pytest.mark.parametrize("seed", [4, 5, 6])
def test_routes_on_current_travel_times_repaired_from_the_free_flow_field_equal_a_full_search(net, mode, seed):
    """Queues only add time: the informed share's field is the free-flow field repaired (issue 20)."""
    rng = np.random.default_rng(seed)
    n = net.n_nodes
    targets = np.sort(rng.choice(n, 10, replace=False))
    open_arcs = np.ones(net.n_arcs, dtype=bool)
    free = compute_field(net, mode, open_arcs, targets)
    changed = 0
    for step in range(6):
        delay = np.where(rng.random(net.n_arcs) < 0.05, rng.choice([1.0, 30.0, 600.0], net.n_arcs), 0.0)
        if step >= 3:  # and a loss since the free-flow field: a shelter full, roads closed
            targets = np.delete(targets, rng.integers(len(targets))) if len(targets) > 1 else targets
            open_arcs = open_arcs & ~np.isin(net.road, rng.choice(net.road.max() + 1, 10, replace=False))
        field = repair_field(net, mode, open_arcs, targets, free, delay)
        _check(net, mode, open_arcs, targets, field, delay)
        changed += int((field.dist != free.dist).sum())
    assert changed > 0  # the delays did change routes


def test_rows_of_a_csr_are_what_scipy_slices():
    from scipy.sparse import random as sparse_random

    from sim.engine.routing import _rows_of

    rng = np.random.default_rng(5)
    for n, density in ((1, 0.5), (40, 0.05), (300, 0.01), (300, 0.0)):
        m = sparse_random(n, n, density=density, format="csr", random_state=rng)
        m.data[rng.random(len(m.data)) < 0.2] = np.inf  # closed pairs are stored too
        for rows in (np.arange(n), np.flatnonzero(rng.random(n) < 0.3), rng.permutation(n)[: n // 2]):
            expect = m[rows].tocoo()
            perm = rng.permutation(len(m.data))  # the values in another order, found through perm
            values = np.empty(len(m.data))
            values[perm] = m.data
            u, v, w = _rows_of(m.indptr, m.indices, perm, values, rows)
            np.testing.assert_array_equal(u, expect.row)
            np.testing.assert_array_equal(v, expect.col)
            np.testing.assert_array_equal(w, expect.data)


def test_a_csr_built_directly_is_scipys_own():
    from sim.engine.routing import _csr

    rng = np.random.default_rng(9)
    for n in (1, 5, 400):
        pairs = np.unique(rng.integers(0, n * n, size=3 * n))  # distinct (row, col)
        pairs = rng.permutation(pairs)
        rows, cols = pairs // n, pairs % n
        data = rng.choice([1e-9, 0.5, 2.0, 7.25, np.inf], len(pairs))
        got = _csr(data, rows, cols, n)
        expect = csr_matrix((data, (rows, cols)), shape=(n, n))
        np.testing.assert_array_equal(got.indptr, expect.indptr)
        np.testing.assert_array_equal(got.indices, expect.indices)
        np.testing.assert_array_equal(got.data, expect.data)
        d0, p0 = dijkstra(got, directed=True, indices=0, return_predecessors=True)
        d1, p1 = dijkstra(expect, directed=True, indices=0, return_predecessors=True)
        np.testing.assert_array_equal(d0, d1)
        np.testing.assert_array_equal(p0, p1)


@pytest.mark.parametrize("mode", [WALK, CAR])
@pytest.mark.parametrize("seed", [7, 8])
def test_a_repairs_graph_compiled_equals_the_vectorised_reference(net, mode, seed):
    """The graph a repair searches (its arcs, entries from unchanged neighbours, ties) the same from the kernel."""
    from sim.engine import kernels
    from sim.engine.routing import _forward_graph, _subgraph_compiled, downstream, subgraph_vectorised

    assert kernels.enabled()
    rng = np.random.default_rng(seed)
    n = net.n_nodes
    open_arcs = rng.random(net.n_arcs) < 0.9
    field = compute_field(net, mode, open_arcs, np.sort(rng.choice(n, 8, replace=False)))
    # Whole-second costs: equal offers from different neighbours, for the tie rule.
    costs = np.where(np.isfinite(field.pair_cost), np.round(field.pair_cost), field.pair_cost)
    dist = np.where(np.isfinite(field.dist), np.round(field.dist), field.dist)
    seen = []
    for share in (0.001, 0.05, 0.5):
        affected = downstream(rng.random(n) < share, field.pred)
        nodes = np.flatnonzero(affected)
        pos = np.full(n, -1, dtype=np.int64)
        pos[nodes] = np.arange(len(nodes))
        args = (*_forward_graph(net, mode), costs, nodes, affected, pos, dist)
        want, got = subgraph_vectorised(*args), _subgraph_compiled(*args)
        for a, b in zip(want, got, strict=True):
            np.testing.assert_array_equal(a, b)
        seen.append(len(want[3]) > 0 and len(want[0]) > len(want[3]))
    assert any(seen)  # entries, and arcs inside
