"""Compiled kernels give exactly the vectorised references' results (issue 20).

The references in sim/engine/movement.py are the model (tested on hand-computed answers in
test_movement.py); the kernels only make them fast, so they are held to the references bit for
bit on random networks with ties in arrival, cost and headway, closed arcs and nodes no exit
leads closer from.
"""

from __future__ import annotations

import hashlib
import time
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from sim.agents.citizens import CASUALTY, SHELTERED
from sim.api import sample_scenarios
from sim.engine import kernels, movement
from sim.engine.model import EvacuationModel
from sim.scenario import load_scenario

pytestmark = pytest.mark.skipif(not kernels.enabled(), reason="numba is not installed")


def random_case(rng: np.random.Generator, n_nodes: int, people: int, *, closed_headway: bool = False) -> dict:
    deg = rng.integers(0, 5, n_nodes)
    out_ptr = np.concatenate([[0], np.cumsum(deg)])
    n_arcs = int(out_ptr[-1])
    head = rng.integers(0, n_nodes, n_arcs)
    # Node v's arcs are out_arcs[out_ptr[v]:out_ptr[v + 1]], in an order unlike their ids (ties
    # between exits go to the lower arc id, not the first listed).
    out_arcs = rng.permutation(n_arcs)
    dist = np.round(rng.uniform(0, 50, n_nodes))  # equal distances: ties between exits
    dist[rng.random(n_nodes) < 0.05] = np.inf
    headway = rng.choice([0.0, 0.5, 1.0, 1.5, 2.0], n_arcs)
    if closed_headway:  # an infinite headway: the first slot costs NaN (0 x inf), sorted last
        headway[rng.random(n_arcs) < 0.2] = np.inf
    next_free = rng.choice([-np.inf, 0.0, 3.0, 7.5, 12.0], n_arcs)
    node = rng.integers(0, n_nodes, people)
    arrived = np.round(rng.uniform(0, 10, people))  # many equal arrival times
    return {
        "node": node,
        "ready_s": np.maximum(arrived, 5.0),
        "tiebreak": rng.permutation(people * 3)[:people],
        "out_ptr": out_ptr,
        "out_arcs": out_arcs,
        "arc_ok": rng.random(n_arcs) < 0.85,
        "arc_head": head,
        "arc_cost_s": rng.choice([1.0, 2.0, 2.5], n_arcs),
        "dist_s": dist,
        "next_free_s": next_free,
        "headway_s": headway,
        "t_now": 5.0,
        "arrived_s": arrived,
    }


def random_times(rng: np.random.Generator, n: int, p_never: float) -> np.ndarray:
    """Whole seconds (many ties), never (inf) with ``p_never``, and a few NaN (never compares true)."""
    x = np.round(rng.uniform(0, 100, n))
    x[rng.random(n) < p_never] = np.inf
    x[rng.random(n) < 0.01] = np.nan
    return x


def compiled(case: dict) -> np.ndarray:
    return kernels.spread_over_arcs(**case)


@pytest.mark.parametrize("closed_headway", [False, True])
# (3000, 2000): most people alone at their node, the compiled lone walker's own path.
@pytest.mark.parametrize(("n_nodes", "people"), [(1, 1), (3, 50), (20, 400), (200, 3000), (40, 5000), (3000, 2000)])
def test_spreading_compiled_equals_the_vectorised_reference(n_nodes, people, closed_headway):
    went = stranded = 0
    for seed in range(6):
        rng = np.random.default_rng(1000 * n_nodes + seed)
        case = random_case(rng, n_nodes, people, closed_headway=closed_headway)
        with np.errstate(invalid="ignore"):  # 0 x inf in the reference: NaN, sorted last
            expect = movement.spread_over_arcs_vectorised(**case)
        got = compiled(case)
        assert got.dtype == expect.dtype
        np.testing.assert_array_equal(got, expect)
        went += int((got >= 0).sum())
        stranded += int((got < 0).sum())
    if people >= 400:  # the cases are not trivial: people go, some have nowhere to go
        assert went > people
        assert stranded > 0


def test_spreading_with_an_empty_crowd():
    case = random_case(np.random.default_rng(1), 5, 0)
    assert len(compiled(case)) == 0


def test_loaded_kernels_run_every_call_and_switched_off_none(monkeypatch):
    monkeypatch.setenv("SAFECITY_KERNELS", "1")
    case = random_case(np.random.default_rng(7), 30, kernels.MIN_PEOPLE)
    calls = []
    real = kernels._compiled.spread
    monkeypatch.setattr(kernels._compiled, "spread", lambda *a: calls.append(len(a[0])) or real(*a))
    big = movement.spread_over_arcs(**case)
    small_case = {**case, "node": case["node"][:10], "ready_s": case["ready_s"][:10]}
    small_case.update(tiebreak=case["tiebreak"][:10], arrived_s=case["arrived_s"][:10])
    small = movement.spread_over_arcs(**small_case)
    assert calls == [kernels.MIN_PEOPLE, 10]  # loaded (paid for): small calls too
    np.testing.assert_array_equal(big, movement.spread_over_arcs_vectorised(**case))
    np.testing.assert_array_equal(small, movement.spread_over_arcs_vectorised(**small_case))
    monkeypatch.setenv("SAFECITY_KERNELS", "0")
    movement.spread_over_arcs(**case)
    assert calls == [kernels.MIN_PEOPLE, 10]  # switched off: the reference only


def test_the_mode_follows_the_environment_at_every_look(monkeypatch):
    """The setting is read from os.environ's own dict: a change within the process takes at once."""
    monkeypatch.delenv("SAFECITY_KERNELS", raising=False)
    assert kernels._mode() == "auto"
    for value in ("1", "0", "auto", "1"):
        monkeypatch.setenv("SAFECITY_KERNELS", value)
        assert kernels._mode() == value
    monkeypatch.delenv("SAFECITY_KERNELS")
    assert kernels._mode() == "auto"


def test_by_default_the_kernels_load_after_a_second_of_large_calls(monkeypatch):
    """A small run never imports numba; a long one switches once its large calls add up."""
    monkeypatch.delenv("SAFECITY_KERNELS", raising=False)
    monkeypatch.setattr(kernels, "_compiled", None)  # as in a fresh process
    monkeypatch.setattr(kernels, "_tried", False)
    monkeypatch.setattr(kernels, "_spent_s", 0.0)
    monkeypatch.setattr(kernels, "AFTER_S", 0.05)
    monkeypatch.setattr(kernels, "_progress", 0.0)  # no run going on
    used = []

    def compiled():
        used.append("kernel")

    def reference():
        used.append("reference")
        t = time.perf_counter()
        while time.perf_counter() - t < 0.02:  # a large call's reference takes time
            pass

    for _ in range(3):
        kernels.run(10, kernels.MIN_PEOPLE, compiled, reference)  # small calls never count
    assert used == ["reference"] * 3
    assert kernels._spent_s == 0.0
    assert kernels._compiled is None
    used.clear()
    for _ in range(6):
        kernels.run(kernels.MIN_PEOPLE, kernels.MIN_PEOPLE, compiled, reference)
    assert used == ["reference"] * 3 + ["kernel"] * 3  # 3 x 0.02 s > 0.05 s: then compiled
    assert kernels._compiled is not None
    used.clear()
    kernels.run(10, kernels.MIN_PEOPLE, compiled, reference)
    assert used == ["kernel"]  # once loaded, small calls too


@pytest.mark.parametrize(
    ("progress", "loads_after"),
    [
        (0.01, 2),  # 0.04 s spent a hundredth of the way in: 4 s at that pace, the loading pays
        (0.5, None),  # the same half-way: 0.08 s at that pace, less than PAYS_S (the references go on)
        (0.0, None),  # no run said how far it is: only AFTER_S counts
    ],
)
def test_a_run_that_spends_early_loads_the_kernels_sooner(monkeypatch, progress, loads_after):
    """Large calls at a pace that would add up to ``PAYS_S`` over the run load the kernels at ``EARLY_S``."""
    monkeypatch.delenv("SAFECITY_KERNELS", raising=False)
    monkeypatch.setattr(kernels, "_compiled", None)  # as in a fresh process
    monkeypatch.setattr(kernels, "_tried", False)
    monkeypatch.setattr(kernels, "_spent_s", 0.0)
    monkeypatch.setattr(kernels, "AFTER_S", 10.0)
    monkeypatch.setattr(kernels, "EARLY_S", 0.04)
    monkeypatch.setattr(kernels, "_progress", 0.0)
    kernels.note_progress(progress)
    used = []

    def reference():
        used.append("reference")
        time.sleep(0.021)  # a large call's reference takes time

    for _ in range(5):
        kernels.run(kernels.MIN_ACTIVE, kernels.MIN_ACTIVE, lambda: used.append("kernel"), reference)
    if loads_after is None:
        assert used == ["reference"] * 5
        assert kernels._compiled is None
    else:
        assert used == ["reference"] * loads_after + ["kernel"] * (5 - loads_after)
        assert kernels._compiled is not None


def test_the_mover_says_how_far_the_run_is(monkeypatch):
    monkeypatch.setattr(kernels, "_progress", 0.0)
    scn = load_scenario(sample_scenarios()["kotka_district_evacuation"], ["duration=20min"])
    model = EvacuationModel(scn)
    model.advance_to(600)
    assert kernels._progress == pytest.approx(0.5)  # the step that ends at 10 of 20 minutes
    model.run()
    assert kernels._progress == 1.0


def test_a_call_that_repays_the_loading_by_itself_loads_the_kernels_at_once(monkeypatch):
    """``outright`` (a derived terrain's large grid): compiled on the first large call, small ones not."""
    monkeypatch.delenv("SAFECITY_KERNELS", raising=False)
    monkeypatch.setattr(kernels, "_compiled", None)  # as in a fresh process
    monkeypatch.setattr(kernels, "_tried", False)
    monkeypatch.setattr(kernels, "_spent_s", 0.0)
    used = []
    kernels.run(10, kernels.MIN_CELLS, lambda: used.append("kernel"), lambda: used.append("reference"), outright=True)
    assert used == ["reference"]  # a small grid: GEOS, numba not imported
    assert kernels._compiled is None
    kernels.run(kernels.MIN_CELLS, kernels.MIN_CELLS, lambda: used.append("kernel"), lambda: used.append("x"))
    assert used == ["reference", "x"]  # without outright, the first large call is still the reference's
    kernels.run(
        kernels.MIN_CELLS, kernels.MIN_CELLS, lambda: used.append("kernel"), lambda: used.append("x"), outright=True
    )
    assert used == ["reference", "x", "kernel"]
    assert kernels._compiled is not None


def random_queues(rng: np.random.Generator, servers: int, people: int, *, with_room: bool) -> dict:
    # Equal arrival times, and times with many binary digits (the grouped running maximum's
    # shift by the call's span rounds: the kernel must round alike).
    arrived = np.round(rng.uniform(0, 30, people)) + rng.choice([0.0, 0.1, 1 / 7, np.pi * 1e-3], people)
    headway = rng.choice([0.0, 0.7, 1.0, 2.5, 1 / 3], servers)
    return {
        "queue": rng.integers(0, servers, people),
        "ready_s": np.maximum(arrived, 10.0),
        "tiebreak": rng.permutation(people * 2)[:people],
        "next_free_s": rng.choice([-np.inf, 0.0, 12.5, 20.0, 35.0], servers),
        "headway_s": headway,
        "t_end": 20.0,
        "arrived_s": arrived,
        "room": rng.uniform(0, 40, people) if with_room else None,
        "size": rng.choice([0.0, 0.5, 2.0, 9.0], people) if with_room else None,
    }


@pytest.mark.parametrize("with_room", [False, True])
@pytest.mark.parametrize(("servers", "people"), [(1, 1), (1, 300), (5, 60), (50, 2000), (400, 6000)])
def test_fifo_admission_compiled_equals_the_vectorised_reference(servers, people, with_room):
    admitted_somewhere = held = 0
    for seed in range(5):
        case = random_queues(np.random.default_rng(100 * servers + seed), servers, people, with_room=with_room)
        nf_ref, nf_ker = case["next_free_s"].copy(), case["next_free_s"].copy()
        entry, adm = movement.admit_fifo_vectorised(**{**case, "next_free_s": nf_ref})
        got_entry, got_adm = kernels.admit_fifo(**{**case, "next_free_s": nf_ker})
        np.testing.assert_array_equal(got_entry, entry)  # bit for bit, not approximately
        np.testing.assert_array_equal(got_adm, adm)
        np.testing.assert_array_equal(nf_ker, nf_ref)  # the servers' next free times, updated in place
        admitted_somewhere += int(adm.sum())
        held += int((~adm & (entry < case["t_end"])).sum())
    if people >= 300:
        assert admitted_somewhere > 0
    if servers >= 50 and with_room:
        assert held > 0  # room held somebody back who was due


def test_fifo_admission_hands_back_a_copied_next_free():
    case = random_queues(np.random.default_rng(3), 20, 500, with_room=False)
    nf32 = case["next_free_s"].astype(np.float32)  # another dtype: the kernel works on a copy
    expect = case["next_free_s"].astype(np.float32).astype(float)
    movement.admit_fifo_vectorised(**{**case, "next_free_s": expect})
    kernels.admit_fifo(**{**case, "next_free_s": nf32})
    np.testing.assert_array_equal(nf32, expect.astype(np.float32))


def test_admissions_run_the_kernel_once_loaded(monkeypatch):
    monkeypatch.setenv("SAFECITY_KERNELS", "1")
    case = random_queues(np.random.default_rng(9), 30, kernels.MIN_PEOPLE, with_room=True)
    calls = []
    real = kernels._compiled.admit
    monkeypatch.setattr(kernels._compiled, "admit", lambda *a: calls.append(len(a[0])) or real(*a))
    movement.admit_fifo(**case)
    movement.admit_fifo(
        **{k: (v[:10] if isinstance(v, np.ndarray) and len(v) == kernels.MIN_PEOPLE else v) for k, v in case.items()}
    )
    assert calls == [kernels.MIN_PEOPLE, 10]  # once loaded, small admissions too


def crowd_state(rng: np.random.Generator, n: int, n_arcs: int) -> dict:
    arc = np.where(rng.random(n) < 0.6, rng.integers(0, n_arcs, n), -1).astype(np.int64)
    return {
        "active": np.sort(rng.choice(n, size=n // 2, replace=False)),
        "arc": arc,
        "t_ready": np.where(rng.random(n) < 0.1, np.inf, np.round(rng.uniform(0, 20, n), 1)),
        "blocked": rng.random(n) < 0.2,
        "node": rng.integers(0, 50, n).astype(np.int64),
        "mode": rng.integers(0, 2, n).astype(np.int8),
        "came_by": np.where(rng.random(n) < 0.7, rng.integers(0, 40, n), -1).astype(np.int64),
        "used_m2": rng.choice([0.0, 0.3, 1 / 3, 7.0], n) + rng.uniform(0, 1e-3, n),
    }


@pytest.mark.parametrize("n", [0, 5, 3000, 40_000])
def test_a_pass_bookkeeping_compiled_equals_the_vectorised_reference(n):
    rng = np.random.default_rng(n)
    n_arcs, n_roads = 300, 170
    head = rng.integers(0, 50, n_arcs)
    road = rng.integers(0, n_roads, n_arcs)
    ref = crowd_state(rng, n, n_arcs)
    ker = {k: v.copy() for k, v in ref.items()}
    # Some of ``active`` left the state in the last pass (sheltered, stranded): they are dropped.
    pop_state = np.where(rng.random(int(ref["active"].max(initial=-1)) + 1) < 0.2, 2, 1).astype(np.int8)
    a = movement.exit_and_wait_vectorised(
        ref["active"], pop_state, 1, ref["arc"], ref["t_ready"], ref["blocked"], ref["node"], head, 10.0
    )
    b = kernels.exit_and_wait(
        ker["active"], pop_state, 1, ker["arc"], ker["t_ready"], ker["blocked"], ker["node"], head, 10.0
    )
    for x, y in zip(a, b, strict=True):
        np.testing.assert_array_equal(y, x)
    assert n < 100 or 0 < len(a[0]) < len(ref["active"])
    np.testing.assert_array_equal(ker["node"], ref["node"])  # moved to the arcs' heads, in place
    np.testing.assert_array_equal(ker["arc"], ref["arc"])
    args = (ref["active"], ref["arc"], ref["t_ready"], ref["mode"], 1, road, 9.5, n_roads, n_arcs)
    for x, y in zip(movement.count_on_vectorised(*args), kernels.count_on(*args), strict=True):
        np.testing.assert_array_equal(y, x)
    args2 = (ref["active"], ref["came_by"], ref["used_m2"], 40)
    np.testing.assert_array_equal(kernels.room_taken(*args2), movement.room_taken_vectorised(*args2))
    state = rng.integers(0, 6, n).astype(np.int8)  # every state; 0 at home, 5 trapped
    due = np.where(rng.random(n) < 0.3, np.inf, np.round(rng.uniform(0, 30, n)))
    # The candidates: everyone at home or trapped, and some who are not (they left since).
    cand = np.flatnonzero((state == 0) | (state == 5) | (rng.random(n) < 0.3))
    expect = movement.due_to_leave_vectorised(cand, state, due, 0, 5, 12.0)
    got = kernels.due_to_leave(cand, state, due, 0, 5, 12.0)
    np.testing.assert_array_equal(got[0], expect[0])
    assert got[1] == expect[1]
    np.testing.assert_array_equal(got[2], expect[2])
    np.testing.assert_array_equal(expect[2], np.flatnonzero((state == 0) | (state == 5)))
    home = state == 0  # a scan over everyone, as it was before the candidates
    np.testing.assert_array_equal(expect[0], np.flatnonzero(home & (due < 12.0)))
    if n >= 3000:  # not trivial: people exit, wait, are counted, take room and leave
        assert len(a[0]) > 0
        assert len(a[1]) > 0
        assert movement.room_taken_vectorised(*args2).sum() > 0
        assert len(expect[0]) > 0
        assert np.isfinite(expect[1])


def test_nobody_left_at_home_has_no_next_departure():
    state = np.ones(5000, dtype=np.int8)
    for f in (movement.due_to_leave_vectorised, kernels.due_to_leave):
        due, nxt, kept = f(np.arange(5000), state, np.zeros(5000), 0, 5, 1.0)
        assert len(due) == 0
        assert nxt == np.inf
        assert len(kept) == 0


@pytest.mark.parametrize("n", [0, 7, 5000])
def test_leaving_home_compiled_equals_the_vectorised_reference(n):
    """Those due leave from their home's node, ready at their departure; both return the drivers."""
    from types import SimpleNamespace

    rng = np.random.default_rng(n + 11)
    changed = {
        "state": rng.integers(0, 6, n).astype(np.int8),
        "node": rng.integers(0, 50, n).astype(np.int64),
        "arc": rng.integers(-1, 80, n).astype(np.int64),
        "t_ready": rng.uniform(0, 100, n),
    }
    kept = {
        "home_node": rng.integers(0, 50, n).astype(np.int64),
        "depart_t": np.round(rng.uniform(0, 30, n)),
        "mode": rng.integers(0, 2, n).astype(np.int8),  # 0 walk, 1 car
    }
    idx = np.flatnonzero(rng.random(n) < 0.4)
    ref = SimpleNamespace(**{k: v.copy() for k, v in changed.items()}, **kept)
    ker = SimpleNamespace(**{k: v.copy() for k, v in changed.items()}, **kept)
    want = movement.leave_home_vectorised(idx, ref, 1, 1)
    got = movement._leave_home_compiled(idx, ker, 1, 1)
    np.testing.assert_array_equal(got, want)
    assert got.dtype == want.dtype
    for k in changed:
        np.testing.assert_array_equal(getattr(ker, k), getattr(ref, k))
    # Against what leaving means, not against each other alone:
    assert (ref.state[idx] == 1).all()
    assert (ref.arc[idx] == -1).all()
    np.testing.assert_array_equal(ref.node[idx], kept["home_node"][idx])
    np.testing.assert_array_equal(ref.t_ready[idx], kept["depart_t"][idx])
    np.testing.assert_array_equal(want, idx[kept["mode"][idx] == 1])
    others = np.setdiff1d(np.arange(n), idx)
    for k, before in changed.items():
        np.testing.assert_array_equal(getattr(ref, k)[others], before[others])  # nobody else touched
    if n >= 5000:
        assert 0 < len(want) < len(idx)


@pytest.mark.parametrize("n", [0, 7, 5000])
def test_those_a_hazard_can_reach_compiled_equal_the_vectorised_reference(n):
    from sim.engine import _compiled
    from sim.engine.movement import _exposed_compiled, exposed_vectorised

    assert kernels.enabled()
    assert _compiled is not None
    rng = np.random.default_rng(n + 5)
    state = rng.integers(0, 6, n).astype(np.int8)
    arc = np.where(rng.random(n) < 0.4, rng.integers(0, 300, n), -1).astype(np.int64)
    node = rng.integers(0, 60, n).astype(np.int64)
    want = exposed_vectorised(state, arc, node, 2, 4)
    got = _exposed_compiled(state, arc, node, 2, 4)
    for a, b in zip(got, want, strict=True):
        np.testing.assert_array_equal(a, b)
        assert a.dtype == b.dtype
    if n >= 5000:  # some sheltered, some casualties, some on roads, some at nodes
        assert 0 < len(want[0]) < n
        assert (want[1] == -1).any()
        assert (want[1] >= 0).any()
    # With a flood's wet nodes: those at dry nodes are left out, everyone along a road stays.
    wet = rng.random(60) < 0.3
    want_wet = exposed_vectorised(state, arc, node, 2, 4, wet)
    got_wet = _exposed_compiled(state, arc, node, 2, 4, wet)
    for a, b in zip(got_wet, want_wet, strict=True):
        np.testing.assert_array_equal(a, b)
        assert a.dtype == b.dtype
    # Independently: the unfiltered list less those standing at a dry node, in the same order.
    idx, at = want
    keep = (at == -1) | wet[np.maximum(at, 0)]
    np.testing.assert_array_equal(want_wet[0], idx[keep])
    np.testing.assert_array_equal(want_wet[1], at[keep])
    if n >= 5000:
        assert 0 < len(want_wet[0]) < len(idx)
    # Looking only among a superset of the unsettled (ascending) finds the same people.
    among = np.flatnonzero((state != 2) & (state != 4) | (rng.random(n) < 0.2))
    for fn in (exposed_vectorised, _exposed_compiled):
        for a, b in zip(fn(state, arc, node, 2, 4, wet, among), want_wet, strict=True):
            np.testing.assert_array_equal(a, b)
    if n >= 5000:
        assert len(among) < n


@pytest.mark.parametrize("n", [0, 7, 5000])
def test_where_everyone_is_compiled_equals_the_vectorised_reference(n):
    rng = np.random.default_rng(n + 1)
    n_nodes, n_arcs, n_shelters = 60, 200, 4
    state = rng.integers(0, 6, n).astype(np.int8)
    shelter = np.where(state == 2, rng.integers(0, n_shelters, n), -1).astype(np.int64)
    node = rng.integers(0, n_nodes, n).astype(np.int64)
    shelter_node = rng.integers(0, n_nodes, n_shelters)
    got = movement.nodes_now_vectorised(state, shelter, shelter_node, node, 2)
    district = rng.integers(0, 5, n_nodes)
    independent = np.zeros((5, 6), dtype=np.int64)  # the reference the looks are held to, against a loop
    np.add.at(independent, (district[got], state), 1)
    np.testing.assert_array_equal(movement.district_state_counts_vectorised(got, district, state, 5, 6), independent)
    t_entry = np.round(rng.uniform(0, 100, n), 1)
    t_ready = t_entry + rng.choice([0.0, 1e-12, 3.3, 17.0, np.inf], n)  # instant, tiny and endless crossings
    idx = np.sort(rng.choice(n, size=n // 2, replace=False))
    t = 50.0 + 1 / 3
    pop = SimpleNamespace(
        node=node,
        arc=np.where(rng.random(n) < 0.5, rng.integers(0, n_arcs, n), -1).astype(np.int64),
        t_entry=t_entry,
        t_ready=t_ready,
        state=state,
        shelter=shelter,
    )
    args = (
        idx,
        t,
        pop,
        rng.integers(0, n_nodes, n_arcs),
        rng.integers(0, n_nodes, n_arcs),
        rng.uniform(-5000, 5000, (n_nodes, 2)),
        rng.uniform(-5000, 5000, (n_shelters, 2)),
    )
    expect = movement.positions_now_vectorised(*args)
    np.testing.assert_array_equal(kernels.positions_now(*args), expect)
    if n >= 5000:  # people at nodes, along arcs (some partway) and in shelters
        assert int((got != node).sum()) > 0
        on = pop.arc[idx] >= 0
        te, tr = t_entry[idx][on], t_ready[idx][on]
        assert ((te < t) & (t < tr) & np.isfinite(tr)).sum() > 0  # partway along an arc


@pytest.mark.parametrize("n", [0, 9, 20_000])
def test_a_records_time_counts_compiled_equal_the_vectorised_reference(n):
    from sim.engine.recorder import _time_counts_compiled, time_counts_vectorised

    assert kernels.enabled()
    rng = np.random.default_rng(n + 5)
    arrays = [random_times(rng, n, p) for p in (0.3, 0.3, 0.4)]  # ordered, warned, departed (ties, NaN, never)
    for t in (50.0, -np.inf, np.inf):
        expect = time_counts_vectorised(t, *arrays)
        assert _time_counts_compiled(t, *arrays) == expect
    if n >= 20_000:  # not trivial: some counted, some not
        assert all(0 < c < n for c in time_counts_vectorised(50.0, *arrays))


@pytest.mark.parametrize("n", [0, 9, 20_000])
def test_the_pictures_passes_compiled_equal_the_pass_over_everyone(n):
    from sim.engine.locating import _picture_among_compiled, people_in_picture_vectorised, picture_among_vectorised

    assert kernels.enabled()
    rng = np.random.default_rng(n + 11)
    n_nodes, n_shelters = 300, 7

    def times(p_never: float) -> np.ndarray:
        return random_times(rng, n, p_never)

    in_shelter = rng.random(n) < 0.4
    pop = SimpleNamespace(
        n=n,
        state=np.where(in_shelter, 2, rng.integers(0, 6, n)).astype(np.int8),
        ordered_t=times(0.3),
        shelter=np.where(in_shelter, rng.integers(0, n_shelters, n), -1).astype(np.int64),
    )
    zone = rng.random(n_nodes) < 0.5
    users = np.flatnonzero(rng.random(n) < 0.3)
    fresh = rng.random(len(users)) < 0.5
    seen_in = fresh & (rng.random(len(users)) < 0.5)
    node = rng.integers(0, n_nodes, n).astype(np.int64)
    args = (60.0, 30.0, pop, times(0.5), node, users, fresh, seen_in, n_shelters, zone)
    expect = people_in_picture_vectorised(*args)
    # Danger looked for only among those outside shelters (any order), named counted apart: the same.
    outside = rng.permutation(np.flatnonzero(pop.state != 2))
    among = (*args[:8], zone, outside)
    for got in (picture_among_vectorised(*among), _picture_among_compiled(*among)):
        assert len(got) == len(expect) - 1
        for x, y in zip(got, expect[1:], strict=True):
            np.testing.assert_array_equal(x, y)
            assert np.asarray(x).dtype == np.asarray(y).dtype
    if n >= 20_000:  # not trivial: every count and mask has both answers
        assert all(0 < c < n for c in expect[4:])
        assert 0 < expect[2].sum() < n
        assert 0 < expect[3].sum() < n
        assert 0 < expect[1].sum() < len(users)


@pytest.mark.parametrize("n", [0, 9, 20_000])
def test_the_app_users_part_of_the_picture_compiled_equals_the_vectorised_reference(n):
    from sim.engine.locating import _app_part_compiled, app_part_vectorised

    assert kernels.enabled()
    rng = np.random.default_rng(n + 17)
    n_nodes, n_shelters, n_d, n_cells = 300, 7, 9, 11
    in_shelter = rng.random(n) < 0.4
    pop = SimpleNamespace(
        n=n,
        state=np.where(in_shelter, 2, rng.choice([0, 1, 3, 4, 5], n)).astype(np.int8),  # sheltered: in one
        shelter=np.where(in_shelter, rng.integers(0, n_shelters, n), -1).astype(np.int64),
    )
    users = np.flatnonzero(rng.random(n) < 0.3)
    seen_t = np.where(rng.random(len(users)) < 0.2, -np.inf, np.round(rng.uniform(0, 100, len(users))))
    seen = (seen_t, rng.integers(0, 5, len(users)).astype(np.int64), rng.integers(0, n_nodes, len(users)))
    node_tower = np.where(rng.random(n_nodes) < 0.2, -1, rng.integers(0, n_cells, n_nodes))
    args = (60.0, 30.0, users, seen, pop, random_times(rng, n, 0.5), rng.integers(0, n_d, n_nodes), node_tower)
    sizes = (n_shelters, n_d, n_nodes, n_cells)
    expect = app_part_vectorised(*args, sizes)
    got = _app_part_compiled(*args, sizes)
    assert len(got) == len(expect) == 7
    for x, y in zip(got, expect, strict=True):
        np.testing.assert_array_equal(x, y)
        assert x.dtype == y.dtype
    if n >= 20_000:  # not trivial: fresh and stale, placed by the app, seen at home and on the move
        fresh, seen_in, placed, home_d, move_d, move_at, app_cell = expect
        assert 0 < fresh.sum() < len(users)
        assert seen_in.sum() > 0
        assert placed.sum() > 0
        assert home_d.sum() > 0
        assert move_d.sum() == move_at.sum() > 0
        assert 0 < app_cell.sum() < home_d.sum() + move_d.sum()


@pytest.mark.parametrize(("people", "most_desks"), [(0, 5), (1, 5), (150, 5), (5000, 5), (30000, 1000)])
def test_the_desk_queue_compiled_equals_the_heap_reference(people, most_desks):
    from sim.agents.registry import desk_starts_reference

    rng = np.random.default_rng(people + 3)
    n_shelters = 6
    ptr = np.concatenate(([0], np.cumsum(rng.integers(1, most_desks, n_shelters)))).astype(np.int64)
    desks = rng.choice([0.0, 30.0, 60.0], ptr[-1])  # some desks busy at first
    shelter = rng.integers(0, n_shelters, people)
    arrival = np.round(rng.uniform(0, 300, people) / 10) * 10  # ties with each other and with desks
    order = np.lexsort((arrival, shelter))
    shelter, arrival = shelter[order], arrival[order]
    dur = rng.choice([20.0, 45.0, 300.0], people)
    ours, ref = desks.copy(), desks.copy()
    np.testing.assert_array_equal(
        kernels.desk_starts(ours, ptr, shelter, arrival, dur), desk_starts_reference(ref, ptr, shelter, arrival, dur)
    )
    for s in range(n_shelters):  # the same times at each shelter's desks, for the next wave
        np.testing.assert_array_equal(np.sort(ours[ptr[s] : ptr[s + 1]]), np.sort(ref[ptr[s] : ptr[s + 1]]))
    # A second wave after it, by the reference on either: the same starts.
    more = np.sort(rng.integers(0, n_shelters, 50))
    at, du = np.full(50, 400.0), np.full(50, 20.0)
    np.testing.assert_array_equal(
        desk_starts_reference(ours, ptr, more, at, du), desk_starts_reference(ref, ptr, more, at, du)
    )
    if people >= 150:  # people waited for a desk
        assert (desk_starts_reference(desks.copy(), ptr, shelter, arrival, dur) > arrival).any()


@pytest.mark.parametrize("n_arcs", [0, 7, 30_000])
def test_closer_arcs_compiled_equal_the_vectorised_reference(n_arcs):
    rng = np.random.default_rng(n_arcs + 17)
    n_nodes = max(1, n_arcs // 3)
    tail, head = rng.integers(0, n_nodes, n_arcs), rng.integers(0, n_nodes, n_arcs)
    dist = np.round(rng.uniform(0, 20, n_nodes))  # equal distances: not closer
    dist[rng.random(n_nodes) < 0.1] = np.inf
    arc_ok = rng.random(n_arcs) < 0.8
    got = kernels.closer_arcs(arc_ok, tail, head, dist, n_nodes)
    expect = movement.closer_arcs_vectorised(arc_ok, tail, head, dist, n_nodes)
    for x, y in zip(got, expect, strict=True):
        np.testing.assert_array_equal(x, y)
        assert x.dtype == y.dtype
    if n_arcs >= 30_000:  # nodes with none, one and several closer arcs
        assert {0, 1, 2} <= set(expect[0].tolist())


@pytest.mark.parametrize("n_arcs", [0, 7, 30_000])
@pytest.mark.parametrize("share", [0.0, 0.01, 0.3])
def test_closer_arcs_updated_where_times_changed_equal_a_count_from_scratch(n_arcs, share):
    rng = np.random.default_rng(n_arcs + 31)
    n_nodes = max(1, n_arcs // 3)
    tail, head = rng.integers(0, n_nodes, n_arcs), rng.integers(0, n_nodes, n_arcs)
    out_arcs = np.argsort(tail, kind="stable")
    out_ptr = np.r_[0, np.cumsum(np.bincount(tail, minlength=n_nodes))]
    in_arcs = np.argsort(head, kind="stable")
    in_ptr = np.r_[0, np.cumsum(np.bincount(head, minlength=n_nodes))]
    arc_ok = rng.random(n_arcs) < 0.8
    before = np.round(rng.uniform(0, 20, n_nodes))  # equal times: not closer
    before[rng.random(n_nodes) < 0.1] = np.inf
    count, only = movement.closer_arcs_vectorised(arc_ok, tail, head, before, n_nodes)
    after = before.copy()
    changed = np.flatnonzero(rng.random(n_nodes) < share)
    after[changed] = np.where(rng.random(len(changed)) < 0.1, np.inf, np.round(rng.uniform(0, 20, len(changed))))
    changed = np.flatnonzero(after != before)  # as the mover finds them (inf to inf is no change)
    expect = movement.closer_arcs_vectorised(arc_ok, tail, head, after, n_nodes)
    kept = count.copy(), only.copy()
    args = (count, only, changed, arc_ok, tail, head, after, out_ptr, out_arcs, in_ptr, in_arcs)
    for got in (movement.closer_arcs_update_vectorised(*args), kernels.closer_arcs_update(*args)):
        for x, y in zip(got, expect, strict=True):
            np.testing.assert_array_equal(x, y)
            assert x.dtype == y.dtype
    np.testing.assert_array_equal(count, kept[0])  # the answer given is not changed
    np.testing.assert_array_equal(only, kept[1])
    if n_arcs >= 30_000 and share:  # the change changed closer arcs
        assert not np.array_equal(expect[0], count)
        assert not np.array_equal(expect[1], only)


@pytest.mark.parametrize("with_delay", [False, True])
@pytest.mark.parametrize("n_arcs", [0, 1, 40_000])
def test_the_cheapest_open_arc_per_pair_compiled_equals_the_vectorised_reference(n_arcs, with_delay):
    from sim.engine.routing import pair_cost_vectorised

    rng = np.random.default_rng(n_arcs + with_delay)
    arcs = rng.permutation(n_arcs)
    starts = np.flatnonzero(np.r_[True, rng.random(max(n_arcs - 1, 0)) < 0.6]) if n_arcs else np.zeros(0, np.int64)
    ref = rng.choice([0.0, 1e-12, 2.0, 2.5, 7.0], n_arcs)  # below the floor, ties between parallel arcs
    delay = rng.choice([0.0, 0.5, 3.0, np.inf], n_arcs) if with_delay else None
    if with_delay and n_arcs:
        ref[rng.random(n_arcs) < 0.01] = np.nan  # a NaN wins its run, as numpy's minimum
    open_arcs = rng.random(n_arcs) < 0.8
    got = kernels.pair_cost(arcs, starts, open_arcs, ref, delay)
    expect = pair_cost_vectorised(arcs, starts, open_arcs, ref, delay)
    np.testing.assert_array_equal(got, expect)
    if n_arcs >= 40_000:  # every kind of run: the floor, closed (inf) and, with delays, NaN
        assert (expect == 1e-9).any()
        assert np.isinf(expect).any()
        assert np.isnan(expect).any() == with_delay


@pytest.mark.parametrize("n", [0, 9, 30_000])
def test_queue_lengths_compiled_equal_the_vectorised_reference(n):
    rng = np.random.default_rng(n + 29)
    n_arcs = 500
    state = rng.integers(0, 6, n).astype(np.int8)
    arc = np.where(rng.random(n) < 0.5, -1, rng.integers(0, n_arcs, n)).astype(np.int64)
    want = np.where(rng.random(n) < 0.4, -1, rng.integers(0, n_arcs, n)).astype(np.int32)
    mode = rng.integers(0, 2, n).astype(np.int8)
    got = kernels.queue_lengths(state, arc, want, mode, n_arcs)
    expect = movement.queue_lengths_vectorised(state, arc, want, mode, n_arcs)
    np.testing.assert_array_equal(got, expect)
    assert got.dtype == expect.dtype
    assert got.shape == (2, n_arcs)
    if n >= 30_000:  # both modes queue
        assert expect[0].sum() > 0
        assert expect[1].sum() > 0


@pytest.mark.parametrize("n", [0, 5, 5000])
@pytest.mark.parametrize("name", ["scatter_add", "scatter_subtract", "scatter_max"])
def test_scatters_compiled_equal_numpys_at(n, name):
    """Repeated indices accumulate in order (rounding alike); a NaN wins a maximum, as numpy's."""
    rng = np.random.default_rng(n + len(name))
    target = rng.uniform(0, 1, 50) * 1e3
    target[3] = np.nan
    idx = rng.integers(0, 50, n)
    values = rng.uniform(0, 1, n) / 3.0  # sums that round
    if n:
        values[rng.random(n) < 0.01] = np.nan
    ours, ref = target.copy(), target.copy()
    getattr(kernels, name)(ours, idx, values)
    with np.errstate(invalid="ignore"):  # numpy warns of the NaN it keeps
        getattr(movement, f"{name}_vectorised")(ref, idx, values)
    np.testing.assert_array_equal(ours, ref)
    ours, ref = target.copy(), target.copy()  # one value for all, as the storage adds a person's room
    getattr(kernels, name)(ours, idx, np.float64(0.7))
    with np.errstate(invalid="ignore"):
        getattr(movement, f"{name}_vectorised")(ref, idx, np.float64(0.7))
    np.testing.assert_array_equal(ours, ref)
    if n >= 5000:
        assert not np.array_equal(ref, target)


PEOPLE = ("state", "arrival_t", "depart_t", "shelter", "node", "warned_t")
PEOPLE += ("target", "arc", "t_entry", "t_ready", "mode")


def _outcome(model) -> dict:
    p = model.pop
    out = {name: getattr(p, name).copy() for name in PEOPLE}
    out["timeseries"] = model.timeseries()
    out["events"] = model.events()
    out["registrations"] = model.registrations()
    out["road_flows"] = model.mover.flows.table(model.city.roads["road_id"])
    return out


SYNTHETIC_SMALL = ["city.synthetic.population=8000", "city.synthetic.area_km2=9"]
WHOLE_RUNS = {
    # flood, DDoS, storage, crowd speeds, informed routes, cars and walkers, shelter desks
    "synthetic": (
        "scenarios/synthetic_large_city.yaml",
        [
            *SYNTHETIC_SMALL,
            "duration=70min",
            "movement.informed_share=0.3",
            "hazards=[{type: flood, at: 0, update_every: 120, stages: [{at: 0, level_m: 0.5}, {at: 1h, level_m: 3}]}]",
            "cyber=[{type: ddos, target: COC, rate_rps: 50000, at: 10min, duration: 30min}]",
        ],
    ),
    # point queues at free speed on familiar routes, on foot (the per-agent comparison's rule)
    "free-flow": (
        "scenarios/synthetic_large_city.yaml",
        [
            *SYNTHETIC_SMALL,
            "duration=45min",
            "movement.storage=false",
            "movement.density_speed=false",
            "movement.informed_share=0",
            "population.mode_share.walk=1",
            "population.mode_share.car=0",
        ],
    ),
    # the same with drivers: their free-flow times per arc, written by the compiled entry too
    "free-flow-cars": (
        "scenarios/synthetic_large_city.yaml",
        [
            *SYNTHETIC_SMALL,
            "duration=45min",
            "movement.storage=false",
            "movement.density_speed=false",
            "movement.informed_share=0.3",
            "population.mode_share.walk=0.5",
            "population.mode_share.car=0.5",
        ],
    ),
    # the same with room on the road: a step's passes in one call at free speeds keep who left for the gridlock check
    "free-flow-storage": (
        "scenarios/synthetic_large_city.yaml",
        [
            *SYNTHETIC_SMALL,
            "duration=45min",
            "movement.storage=true",
            "movement.density_speed=false",
            "movement.informed_share=0.3",
            "population.mode_share.walk=0.5",
            "population.mode_share.car=0.5",
        ],
    ),
    # a real city: shared carriageways (walkers and cars take turns), a river flood
    "kotka": ("scenarios/kotka_river_flood.yaml", ["duration=60min", "movement.informed_share=0.2"]),
}


@pytest.mark.parametrize("case", list(WHOLE_RUNS))
def test_a_whole_run_is_the_same_with_every_call_compiled_and_with_none(monkeypatch, case):
    """Every kernel, small calls too, the compiled entry into arcs and admission included: the same run."""
    from sim.engine import _compiled_enter, _compiled_passes, _compiled_shelter
    from sim.engine.model import EvacuationModel
    from sim.engine.mover import Mover
    from sim.scenario import load_scenario

    path, overrides = WHOLE_RUNS[case]
    scn = load_scenario(path, overrides)
    outcomes, steps = {}, {}
    advance, entries, real = Mover.advance, [], _compiled_enter.enter_arcs
    admitted, real_admit, real_passes, fused = [], _compiled_shelter.admit, _compiled_passes.passes, []

    def passes(*a):  # a step's passes in one call (free speeds): it admits and lets in as the calls above
        packed = real_passes(*a)
        fused.append(packed[0])
        admitted.append(packed[5 + 3])  # the head's length of the admitted
        entries.append(packed[4])
        return packed

    for mode in ("0", "1"):
        monkeypatch.setenv("SAFECITY_KERNELS", mode)
        model = EvacuationModel(scn)
        if mode == "1":  # the compiled entry and admission serve the run
            monkeypatch.setattr(_compiled_enter, "enter_arcs", lambda *a: entries.append(len(a[0])) or real(*a))
            monkeypatch.setattr(
                _compiled_shelter, "admit", lambda *a: (out := real_admit(*a), admitted.append(len(out[1])))[0]
            )
            monkeypatch.setattr(_compiled_passes, "passes", passes)
        # Everyone's state after every step, not only at the end: a target or an arc set wrong is
        # often set again at the next junction.
        steps[mode] = []

        def stepped(mover, t0, t1, seen=steps[mode]):
            advance(mover, t0, t1)
            seen.append(hashlib.sha256(b"".join(getattr(mover.m.pop, n).tobytes() for n in PEOPLE)).hexdigest())

        monkeypatch.setattr(Mover, "advance", stepped)
        model.run()
        outcomes[mode] = _outcome(model)
        if model.mover.pass_structs is not None:  # the compiled passes' arrays are still the run's own
            from sim.engine.kernels_pass import fixed_arrays

            kept, now = model.mover.pass_structs[1], fixed_arrays(model.mover)
            assert len(kept) == len(now)
            assert all(a is b for a, b in zip(kept, now, strict=True))
    assert kernels._compiled is not None  # the kernels did run
    assert sum(entries) > 1000
    assert sum(admitted) > 1000
    if case.startswith("free-flow"):  # at free speeds the passes ran in one call, and shelters filled in some
        assert fused.count(_compiled_passes.DONE) > 100
        assert fused.count(_compiled_passes.FILLED) > 0
    else:  # crowd speeds: the loop in Python
        assert not fused
    assert len(steps["0"]) > 100
    assert steps["1"] == steps["0"]
    ref, ker = outcomes["0"], outcomes["1"]
    assert (ref["state"] == SHELTERED).sum() > 1000  # people moved
    if not case.startswith("free-flow"):
        assert (ref["state"] == CASUALTY).sum() > 0  # and the flood caught some
    for name in PEOPLE:
        np.testing.assert_array_equal(ker[name], ref[name], err_msg=name)
    for name in ("timeseries", "events", "registrations", "road_flows"):
        pd.testing.assert_frame_equal(ker[name], ref[name], check_exact=True, obj=name)


@pytest.mark.parametrize("n", [1, 50, 3000])
def test_nodes_downstream_compiled_equal_the_pointer_jumping_reference(n):
    from sim.engine.routing import downstream_vectorised

    rng = np.random.default_rng(n)
    for _ in range(20):
        # A forest: each node's next node is an earlier one (or none), in a shuffled numbering;
        # long chains (the nearest earlier nodes) and wide fans (any earlier node).
        order = rng.permutation(n)
        pred = np.full(n, -1, dtype=np.int64)
        for pos in range(1, n):
            if rng.random() < 0.97:
                back = int(rng.integers(1, min(pos, 3) + 1)) if rng.random() < 0.7 else int(rng.integers(1, pos + 1))
                pred[order[pos]] = order[pos - back]
        hit = rng.random(n) < rng.choice([0.0, 0.001, 0.02, 0.3])
        expect = downstream_vectorised(hit, pred)
        np.testing.assert_array_equal(kernels.downstream(hit, pred), expect)
        assert expect[hit].all()


@pytest.mark.parametrize("n", [0, 9, 30_000])
def test_who_is_held_back_compiled_equals_the_vectorised_reference(n):
    rng = np.random.default_rng(n + 5)
    people = 2 * n + 1
    state = rng.integers(0, 6, people).astype(np.int8)
    arc = np.where(rng.random(people) < 0.5, rng.integers(0, 300, people), -1).astype(np.int64)
    want = np.where(rng.random(people) < 0.5, rng.integers(0, 300, people), -1).astype(np.int32)  # as the mover's
    active = rng.permutation(people)[:n]  # in no particular order: the order is kept
    got = kernels.held_back(active, state, arc, want, 1)
    expect = movement.held_back_vectorised(active, state, arc, want, 1)
    np.testing.assert_array_equal(got, expect)
    if n > 1000:
        assert 0 < len(expect) < n


@pytest.mark.parametrize("n", [0, 9, 30_000])
def test_waits_for_full_roads_compiled_equal_the_vectorised_reference(n):
    rng = np.random.default_rng(n + 8)
    people, n_arcs, n_keys = 2 * n + 1, 400, 250
    mode = rng.integers(0, 2, people).astype(np.int8)
    want_arc = rng.integers(0, n_arcs, people).astype(np.int32)  # as the mover keeps it
    came_by = np.where(rng.random(people) < 0.7, rng.integers(0, n_keys, people), -1).astype(np.int64)
    key = rng.integers(0, n_keys, (2, n_arcs))
    capacity = rng.choice([0.0, 10.0, 35.0, np.inf], n_keys)
    taken = np.round(capacity * rng.uniform(0.5, 1.2, n_keys), 1)
    taken[np.isinf(taken)] = 0.0
    person_m2 = np.array([0.2, 17.5])
    brim = rng.random(n_keys) < 0.3  # one more walker fills these exactly: not over the room
    taken[brim] = (capacity[brim] + 1e-9) - person_m2[0]
    exact = brim & (taken + person_m2[0] == capacity + 1e-9)
    waiting = rng.permutation(people)[:n]
    args = (waiting, mode, want_arc, came_by, key, taken, person_m2, capacity)
    got, expect = kernels.full_waits(*args), movement.full_waits_vectorised(*args)
    for x, y in zip(got, expect, strict=True):
        np.testing.assert_array_equal(x, y)
    if n > 1000:
        assert 0 < len(expect[0]) < n
        assert exact.sum() > 10  # walkers wanting a road they would fill to the brim are among them


@pytest.mark.parametrize(("n", "degree"), [(1, 0.0), (2, 1.0), (12, 1.5), (300, 1.2), (300, 4.0), (3000, 2.8)])
def test_route_search_compiled_equals_the_vectorised_reference(n, degree):
    from sim.network.routes import fewest_hops_vectorised
    from tests.network.test_route_search import random_graph

    rng = np.random.default_rng([n, int(degree * 10)])
    for _ in range(6):
        g = random_graph(rng, n, degree)
        for source in rng.choice(n, size=min(n, 8), replace=False):
            np.testing.assert_array_equal(kernels.fewest_hops(g, source), fewest_hops_vectorised(g, int(source)))


@pytest.mark.parametrize("key_len", [1, 16, 32, 64])
def test_pseudonyms_compiled_equal_hashlibs_keyed_blake2b(key_len):
    """RFC 7693 compiled: the same pseudonyms as ``hashlib`` for any key, prefix and row."""
    from sim.core import privacy

    rng = np.random.default_rng(key_len)
    key = rng.bytes(key_len)
    idx = np.concatenate([np.arange(2000), rng.integers(0, 2**63 - 1, 2000), [2**63 - 1, 0, 0]])
    for prefix in ("R", "T", "P"):
        ours = kernels.keyed_pseudonyms(idx, key=key, prefix=prefix)
        ref = privacy.pseudonyms(idx, key=key, prefix=prefix)
        assert ours.dtype == object
        assert all(type(x) is str for x in ours[:10])
        np.testing.assert_array_equal(ours, ref)
    assert len(set(ref.tolist())) == len(set(idx.tolist()))  # distinct rows, distinct pseudonyms


def test_pseudonyms_of_nobody_and_of_a_negative_row():
    from sim.core import privacy

    assert len(kernels.keyed_pseudonyms(np.zeros(0, dtype=np.int64), key=b"k" * 32)) == 0
    with pytest.raises(OverflowError):  # a row is never negative: as the reference, no pseudonym
        kernels.keyed_pseudonyms(np.array([3, -1]), key=b"k" * 32)
    with pytest.raises(OverflowError):
        privacy.pseudonyms(np.array([3, -1]), key=b"k" * 32)


def _admission(model, waiting, t0):
    """``Mover.admit`` on a copy of everything it changes; returns what it changed, the model untouched."""
    import copy

    mover, p, st = model.mover, model.pop, model.mover.storage
    arrays = {
        "target": p.target,
        "state": p.state,
        "shelter": p.shelter,
        "arrival_t": p.arrival_t,
        "came_by": st.came_by,
        "used_m2": st.used_m2,
        "taken_m2": st.taken_m2,
        "node_room": mover.node_room,
        "rooms": mover.rooms,
    }
    saved = {name: a.copy() for name, a in arrays.items()}
    agents = [(s.occupancy, s.peak_occupancy, s.turned_away) for s in model.shelters]
    n_events, dirty = len(model.recorder.raw_events), mover.fields_dirty
    turned: dict[int, int] = {}
    left = mover.admit(waiting.copy(), t0, turned)
    out = {name: a.copy() for name, a in arrays.items()}
    out["left"] = left.copy()
    out["agents"] = [(s.occupancy, s.peak_occupancy, s.turned_away) for s in model.shelters]
    out["turned"] = dict(turned)
    out["events"] = copy.deepcopy(model.recorder.raw_events[n_events:])
    out["sheltered"] = [w.copy() for w in model.ops.new_sheltered]
    out["fields_dirty"] = mover.fields_dirty
    for name, a in arrays.items():  # put everything back
        a[:] = saved[name]
    for s, (occupancy, peak, away) in zip(model.shelters, agents, strict=True):
        s.occupancy, s.peak_occupancy, s.turned_away = occupancy, peak, away
    del model.recorder.raw_events[n_events:]
    model.ops.new_sheltered.clear()
    mover.fields_dirty = dirty
    return out


def test_the_admission_to_shelters_compiled_equals_the_reference(monkeypatch):
    """Crowds at shelters: one node with two shelters, a full one, people on the road's room; the same steps."""
    from sim.agents.citizens import EVACUATING
    from sim.engine.model import EvacuationModel
    from sim.scenario import load_scenario

    base = ["city.synthetic.population=8000", "city.synthetic.area_km2=9", "duration=40min"]
    first = EvacuationModel(load_scenario("scenarios/synthetic_large_city.yaml", base))
    lon, lat = first.shelters[0].lon, first.shelters[0].lat  # a second shelter on the first one's node
    twin = f"shelters=[{{id: twin, location: [{lon!r}, {lat!r}], capacity: 7}}]"
    monkeypatch.setenv("SAFECITY_KERNELS", "0")
    model = EvacuationModel(load_scenario("scenarios/synthetic_large_city.yaml", [*base, twin]))
    model.advance_to(20 * 60)
    book, p, mover = model.book, model.pop, model.mover
    assert len(model.shelters_at[int(book.node[0])]) == 2
    full = 1  # shelter 1 is full: those who came for it are turned away
    model.shelters[full].occupancy = model.shelters[full].capacity
    model.shelters[0].occupancy = model.shelters[0].capacity - 110  # 110 places, then the twin's 7
    mover.fields_dirty = True
    mover.refresh_fields()
    rng = np.random.default_rng(5)
    on_road = np.flatnonzero((p.state == EVACUATING) & (mover.storage.came_by >= 0))
    assert len(on_road) > 500
    waiting = rng.permutation(on_road)[:600]
    nodes = np.array([book.node[0], book.node[full], book.node[2], book.node[3]])
    p.node[waiting] = rng.choice(nodes, len(waiting))
    p.target[waiting[:300]] = p.node[waiting[:300]]  # half came for the shelter where they are
    p.t_ready[waiting] = model.env.now + rng.integers(-3, 4, len(waiting)) * 2.0  # ties; some during the step
    t0 = float(model.env.now)
    ref = _admission(model, waiting, t0)
    monkeypatch.setenv("SAFECITY_KERNELS", "1")
    assert kernels.loaded()
    ours = _admission(model, waiting, t0)
    assert ref["turned"]  # some were turned away
    assert [e[1] for e in ref["events"]] == ["shelter_full", "shelter_full"]  # the first and the twin filled
    assert (ref["shelter"][waiting] == len(model.shelters) - 1).any()  # the twin took some
    assert not np.array_equal(ref["taken_m2"], model.mover.storage.taken_m2)  # room on roads was freed
    for name, value in ref.items():
        if isinstance(value, np.ndarray):
            np.testing.assert_array_equal(ours[name], value, err_msg=name)
        elif name == "sheltered":
            assert len(ours[name]) == len(value)
            assert all(np.array_equal(a, b) for a, b in zip(ours[name], value, strict=True))
        else:
            assert ours[name] == value, name


@pytest.mark.parametrize(("n", "n_keys"), [(0, 5), (7, 1000), (500, 30), (20_000, 112_000), (3000, 3)])
def test_the_stable_order_equals_numpys_stable_argsort(n, n_keys):
    """Counting sort (many keys for their range) or merge sort: ties in input order either way."""
    rng = np.random.default_rng(n)
    keys = rng.integers(0, n_keys, n)
    np.testing.assert_array_equal(kernels._compiled.stable_order(keys, n_keys), np.argsort(keys, kind="stable"))
    if n:  # a key out of range: the general sort, the same order
        keys[n // 2] = n_keys + 3
        np.testing.assert_array_equal(kernels._compiled.stable_order(keys, n_keys), np.argsort(keys, kind="stable"))
        keys[n // 2] = -1
        np.testing.assert_array_equal(kernels._compiled.stable_order(keys, n_keys), np.argsort(keys, kind="stable"))
