"""Issue 20: looks at the unsettled only (``sim/engine/settled.py``) give what full passes give."""

from __future__ import annotations

import numpy as np
import pytest

from sim.agents.citizens import CASUALTY, EVACUATING, SHELTERED
from sim.engine import kernels
from sim.engine.model import EvacuationModel
from sim.engine.movement import district_state_counts_vectorised, nodes_now_vectorised
from sim.engine.settled import _settle_compiled, settle_vectorised

N_NODES, N_SHELTERS, N_DISTRICTS, N_STATES = 50, 4, 5, 6


def _evolve(rng, state, shelter, node, live):
    """A step of a city: of the live, some move, some change state, some settle; the settled never change."""
    k = len(live)
    moved = live[rng.random(k) < 0.4]
    node[moved] = rng.integers(0, N_NODES, len(moved))
    other = live[rng.random(k) < 0.3]
    state[other] = rng.choice([0, 1, 4, 5], len(other))
    into = live[rng.random(k) < 0.3]
    state[into] = SHELTERED
    shelter[into] = rng.integers(0, N_SHELTERS, len(into))
    dead = live[rng.random(k) < 0.05]
    dead = dead[state[dead] != SHELTERED]
    state[dead] = CASUALTY


@pytest.mark.parametrize("n", [0, 7, 5000])
def test_looks_at_the_live_alone_equal_full_passes_compiled_or_not(n):
    assert kernels.enabled()
    rng = np.random.default_rng(n + 11)
    state = rng.choice([0, 1, 4, 5], n).astype(np.int8)  # nobody settled yet
    shelter = np.full(n, -1, dtype=np.int64)
    node = rng.integers(0, N_NODES, n).astype(np.int64)
    shelter_node = rng.integers(0, N_NODES, N_SHELTERS).astype(np.int64)
    district = rng.integers(0, N_DISTRICTS, N_NODES).astype(np.int64)
    shape = (N_DISTRICTS, N_STATES)
    has_phone = rng.random(n) < 0.7
    sides = {
        impl: (np.arange(n, dtype=np.int64), np.full(n, -7, dtype=np.int64), np.zeros(shape, dtype=np.int64))
        for impl in (settle_vectorised, _settle_compiled)
    }
    phones_at = {impl: np.zeros(N_NODES, dtype=np.int64) for impl in sides}
    sizes = []
    for _ in range(5):
        full_node = nodes_now_vectorised(state, shelter, shelter_node, node, SHELTERED)
        full_counts = district_state_counts_vectorised(full_node, district, state, *shape)
        unsettled = np.flatnonzero((state != SHELTERED) & (state != CASUALTY))
        for impl, (live, out_node, settled) in list(sides.items()):
            live_counts = np.zeros(shape, dtype=np.int64)
            args = (shelter_node, node, district, SHELTERED, CASUALTY, out_node, settled, live_counts)
            was_live = live
            live, fallen = impl(live, state, shelter, *args, has_phone, phones_at[impl])
            sides[impl] = (live, out_node, settled)
            np.testing.assert_array_equal(live, unsettled)
            np.testing.assert_array_equal(fallen, was_live[state[was_live] == CASUALTY])
            assert live.dtype == fallen.dtype == np.int64
            np.testing.assert_array_equal(out_node, full_node)
            np.testing.assert_array_equal(settled + live_counts, full_counts)
            done = (state == SHELTERED) | (state == CASUALTY)
            want_phones = np.bincount(full_node[done & has_phone], minlength=N_NODES)
            np.testing.assert_array_equal(phones_at[impl], want_phones)
        sizes.append(len(unsettled))
        _evolve(rng, state, shelter, node, unsettled)
    if n >= 5000:
        assert sizes[0] == n > sizes[1] > sizes[-1] > 0


@pytest.mark.parametrize(
    "name", ["kotka_river_flood", "coastal_quake_tsunami", "kotka_flood_locating", "kotka_shelter_operations"]
)
def test_every_look_of_a_run_equals_the_full_passes(name, monkeypatch):
    """With SAFECITY_CHECK_SETTLED=1 each look is held to the full passes over everyone (and raises)."""
    from sim import api

    monkeypatch.setenv("SAFECITY_CHECK_SETTLED", "1")
    model = EvacuationModel(api.load_scenario(api.sample_scenarios()[name], ["duration=90min"]))
    looks = []
    real = model.mover.settled.look

    def counted():
        looks.append(len(model.mover.settled.live))
        real()

    model.mover.settled.look = counted
    model.run()
    assert looks
    assert looks[0] == model.pop.n
    assert looks[-1] < looks[0]  # those settled were left out of later looks
    settled = (model.pop.state == SHELTERED) | (model.pop.state == CASUALTY)
    assert settled.any()
    if name in ("kotka_river_flood", "coastal_quake_tsunami"):
        assert (model.pop.state == CASUALTY).any()


def test_the_check_catches_someone_leaving_a_settled_state(monkeypatch):
    """The check can fail: a sheltered citizen sent back on the move (nothing in the engine does) is caught."""
    from sim import api

    monkeypatch.setenv("SAFECITY_CHECK_SETTLED", "1")
    model = EvacuationModel(api.load_scenario(api.sample_scenarios()["kotka_river_flood"], ["duration=90min"]))
    model.run()
    inside = np.flatnonzero(model.pop.state == SHELTERED)
    assert len(inside)
    model.pop.state[inside[0]] = EVACUATING
    with pytest.raises(AssertionError, match="settled"):
        model.mover.node_now()


def test_everyones_node_now_is_read_only():
    from sim import api

    model = EvacuationModel(api.load_scenario(api.sample_scenarios()["kotka_river_flood"], ["duration=10min"]))
    model.run()
    node = model.mover.node_now()
    with pytest.raises(ValueError):
        node[0] = 1


def test_times_counted_as_the_clock_passes_them_equal_full_counts():
    """``Passing``: times written once each, asked in time order, counted as full passes count them."""
    from sim.agents.registry import Passing

    rng = np.random.default_rng(4)
    n, n_groups = 3000, 5
    times = np.full(n, np.inf)
    group = rng.integers(0, n_groups, n)
    passing = Passing()
    order = rng.permutation(n)
    seen: list[np.ndarray] = []
    for k, t in enumerate(np.arange(0.0, 1000.0, 50.0)):
        idx = order[k * 140 : (k + 1) * 140]  # written now: some past, some ahead, ties, a few NaN
        values = np.round(t + rng.uniform(-60, 200, len(idx)))
        values[rng.random(len(idx)) < 0.03] = np.nan
        times[idx] = values
        passing.write(idx, values, group[idx])
        seen.append(passing.passed(t))
        due = times <= t
        assert passing.total == int(due.sum())
        np.testing.assert_array_equal(passing.per(n_groups), np.bincount(group[due], minlength=n_groups))
        np.testing.assert_array_equal(np.sort(np.concatenate(seen)), np.flatnonzero(due))  # each once
    assert 0 < passing.total < n
    assert len(passing.idx) < n  # only those still ahead are kept
    passing.passed(950.0)  # the same time again: nothing new
    with pytest.raises(ValueError, match="in order"):
        passing.passed(10.0)


def test_the_check_catches_a_registry_time_written_behind_its_back(monkeypatch):
    """The check can fail: a registry entry written without its ``Passing`` makes the counts differ."""
    from sim import api

    monkeypatch.setenv("SAFECITY_CHECK_SETTLED", "1")
    model = EvacuationModel(api.load_scenario(api.sample_scenarios()["kotka_shelter_operations"], ["duration=40min"]))
    model.run()
    reg = model.ops.registry
    outside = np.flatnonzero(~np.isfinite(reg.entry_t))
    assert len(outside)
    reg.entry_t[outside[0]] = float(model.env.now)
    with pytest.raises(AssertionError, match="in_registry"):
        model.recorder.snapshot_row(float(model.env.now))
