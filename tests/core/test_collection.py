"""Runs spare what outlives them from the garbage collector's walks, and give it all back (issue 20)."""

from __future__ import annotations

import gc
import weakref

import pytest

from sim.api import sample_scenarios
from sim.core.memory import spared_from_collection
from sim.experiments.runner import run_scenario
from sim.scenario import load_scenario


class Node:
    """A container the collector tracks; two of them referring to each other are a cycle."""

    other: Node | None = None


def _cycle() -> weakref.ref[Node]:
    a, b = Node(), Node()
    a.other, b.other = b, a
    return weakref.ref(a)


def test_what_existed_is_left_alone_within_the_block_and_collected_after():
    gc.collect()
    before = _cycle()  # garbage only once the block has begun
    with spared_from_collection() as spare_now:
        assert gc.get_freeze_count() > 0
        later = _cycle()
        spare_now()
        gc.collect()
        assert before() is not None  # spared: the walk did not look at it
        assert later() is not None  # spared from when spare_now() was called
        made_inside = _cycle()
        gc.collect()
        assert made_inside() is None  # what the block makes itself is walked as ever
    assert gc.get_freeze_count() == 0
    gc.collect()
    assert before() is None  # nothing lost for good
    assert later() is None


def test_the_block_gives_everything_back_when_it_fails():
    with pytest.raises(RuntimeError), spared_from_collection():
        raise RuntimeError("a run stopped")
    assert gc.get_freeze_count() == 0


def test_a_run_spares_its_model_while_it_runs_and_gives_it_back():
    scn = load_scenario(sample_scenarios()["kotka_district_evacuation"], ["duration=10min"])
    seen: list[int] = []
    run_scenario(scn, figures_only=True, progress=lambda t, d: seen.append(gc.get_freeze_count()))
    assert len(seen) > 1
    assert min(seen) > 0  # the run's steps walk only what the run makes
    assert gc.get_freeze_count() == 0  # and the caller's process gets its collector back whole

    def stop(t: float, d: float) -> None:
        raise KeyboardInterrupt  # an operator's Ctrl-C in the middle of a run

    with pytest.raises(KeyboardInterrupt):
        run_scenario(scn, figures_only=True, progress=stop)
    assert gc.get_freeze_count() == 0
