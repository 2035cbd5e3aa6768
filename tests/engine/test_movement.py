"""The movement kernels, on hand-computed answers."""

from __future__ import annotations

import numpy as np
import pytest

from sim.engine.movement import admit_fifo, grouped_cummax, spread_over_arcs


def test_grouped_cummax_restarts_per_group():
    vals = np.array([3.0, 1.0, 4.0, 0.0, 2.0, 1.0])
    gid = np.array([0, 0, 0, 1, 1, 1])
    assert grouped_cummax(vals, gid).tolist() == [3.0, 3.0, 4.0, 0.0, 2.0, 2.0]


def test_admit_fifo_matches_the_recurrence():
    # Two servers; server 0 admits one person every 2 s and is busy until t=1.
    queue = np.array([0, 0, 0, 1, 0])
    ready = np.array([0.0, 0.5, 10.0, 3.0, 0.2])
    nf = np.array([1.0, -np.inf])
    entry, adm = admit_fifo(queue, ready, np.arange(5), nf, np.array([2.0, 1.0]), t_end=9.0)
    # Server 0 order by arrival: t=0 -> 1, t=0.2 -> 3, t=0.5 -> 5, t=10 -> 10 (not before 9).
    assert entry.tolist() == [1.0, 5.0, 10.0, 3.0, 3.0]
    assert adm.tolist() == [True, True, False, True, True]
    assert nf.tolist() == [7.0, 4.0]


def test_admit_fifo_brute_force(rng):
    for _ in range(20):
        n = int(rng.integers(1, 40))
        q = rng.integers(0, 3, size=n)
        a = np.round(rng.uniform(0, 20, size=n), 1)
        h = np.array([0.5, 1.5, 3.0])
        nf0 = rng.uniform(0, 5, size=3)
        nf = nf0.copy()
        entry, adm = admit_fifo(q, a, np.arange(n), nf, h, t_end=15.0)
        expect = np.empty(n)
        free = nf0.copy()
        for i in np.lexsort((np.arange(n), a, q)):
            expect[i] = max(a[i], free[q[i]])
            free[q[i]] = expect[i] + h[q[i]]
        assert entry == pytest.approx(expect)
        assert (adm == (expect < 15.0)).all()


def test_spread_uses_parallel_exits_in_proportion_to_capacity():
    # Node 0 has two arcs to node 1 (the shelter): arc 0 at 1 person/s, arc 1 at 0.5 person/s.
    out_ptr = np.array([0, 2, 2])
    out_arcs = np.array([0, 1])
    head = np.array([1, 1])
    dist = np.array([10.0, 0.0])
    nf = np.full(2, -np.inf)
    headway = np.array([1.0, 2.0])
    n = 300
    choice = spread_over_arcs(
        np.zeros(n, dtype=np.int64),
        np.zeros(n),
        np.arange(n),
        out_ptr,
        out_arcs,
        np.ones(2, dtype=bool),
        head,
        np.array([10.0, 10.0]),
        dist,
        nf,
        headway,
        0.0,
    )
    counts = np.bincount(choice, minlength=2)
    assert counts[0] == pytest.approx(200, abs=2)
    assert counts[1] == pytest.approx(100, abs=2)


def test_spread_prefers_the_short_way_for_a_lone_walker_and_never_goes_back():
    # Node 0 -> 1 (short, to the shelter) or 0 -> 2 (away from it).
    out_ptr = np.array([0, 2, 2, 2])
    out_arcs = np.array([0, 1])
    head = np.array([1, 2])
    dist = np.array([50.0, 0.0, 80.0])
    choice = spread_over_arcs(
        np.array([0]),
        np.array([0.0]),
        np.array([0]),
        out_ptr,
        out_arcs,
        np.ones(2, dtype=bool),
        head,
        np.array([50.0, 40.0]),
        dist,
        np.full(2, -np.inf),
        np.ones(2),
        0.0,
    )
    assert choice.tolist() == [0]
    # With the good arc closed there is no way closer: stranded (-1), not a step backwards.
    stuck = spread_over_arcs(
        np.array([0]),
        np.array([0.0]),
        np.array([0]),
        out_ptr,
        out_arcs,
        np.array([False, True]),
        head,
        np.array([50.0, 40.0]),
        dist,
        np.full(2, -np.inf),
        np.ones(2),
        0.0,
    )
    assert stuck.tolist() == [-1]
