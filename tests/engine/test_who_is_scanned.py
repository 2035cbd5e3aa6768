"""Each step scans only those who can matter, not everyone (issue 20).

- Departures: a schedule by departure time (``sim.engine.departures``), told by the only two
  things that set one (a warning, a quake's trapped freed): a run must depart the very same
  people at the very same times as one that scans everyone at every step.
- On the move: those on the move at the last look, and those who set off or were given a route
  again since; at every step they must be exactly everyone whose state is on the move.
"""

from __future__ import annotations

import numpy as np
import pytest

import sim.engine.mover as mover_module
from sim.agents.citizens import AT_HOME, EVACUATING, STRANDED, TRAPPED
from sim.engine.departures import Departures
from sim.engine.model import EvacuationModel
from sim.engine.movement import queue_lengths
from sim.engine.mover import Mover
from sim.scenario import load_scenario
from tests.conftest import kotka_quake

# The quake traps people for 10 minutes; an order before it sends the others off meanwhile.
QUAKE = kotka_quake(
    alerting={
        "orders": [{"at": "30s", "zone": ["C1", "C2"], "id": "out"}],
        "channels": [{"type": "siren", "coverage": 0.9}],
        "departure_delay": {"distribution": "lognormal", "median": "5min", "sigma": 0.6},
    }
)


def _run(monkeypatch: pytest.MonkeyPatch, everyone: bool) -> tuple[EvacuationModel, list[int]]:
    """A quake run; ``everyone``: departures found by a scan of everyone at every step instead of the schedule."""
    advance, due = Mover.advance, Departures.due
    looked: list[int] = []  # per step: how many schedule entries the step took off (or everyone scanned)

    def scan(self: Departures, state: np.ndarray, depart_t: np.ndarray, at_home: int, t_end: float) -> np.ndarray:
        looked.append(len(state))
        return np.flatnonzero((state == at_home) & (depart_t < t_end))

    def counted(self: Departures, state: np.ndarray, depart_t: np.ndarray, at_home: int, t_end: float) -> np.ndarray:
        before = len(self.who) + sum(len(t) for t in self.told)
        out = due(self, state, depart_t, at_home, t_end)
        looked.append(before - len(self.who))
        return out

    def step(self: Mover, t0: float, t1: float) -> None:
        if everyone:
            self.departures.next = -np.inf  # every step looks
        advance(self, t0, t1)

    monkeypatch.setattr(Mover, "advance", step)
    monkeypatch.setattr(Departures, "due", scan if everyone else counted)
    m = EvacuationModel(load_scenario(QUAKE))
    m.run()
    monkeypatch.setattr(Mover, "advance", advance)
    monkeypatch.setattr(Departures, "due", due)
    return m, looked


@pytest.mark.parametrize("kernels", ["0", "1"])
def test_the_schedule_of_departures_departs_as_a_scan_of_everyone(monkeypatch, kernels):
    monkeypatch.setenv("SAFECITY_KERNELS", kernels)  # the numpy passes, and the compiled ones
    kept, looked = _run(monkeypatch, everyone=False)
    full, scanned = _run(monkeypatch, everyone=True)
    p, q = kept.pop, full.pop
    for name in ("state", "t_ready", "node", "arc", "shelter", "arrival_t", "depart_t"):
        np.testing.assert_array_equal(getattr(p, name), getattr(q, name), err_msg=name)
    # Not trivial: people were trapped, freed at 660 s and left home after; the schedule looked at
    # far fewer than a scan (each entry once, and only in steps when somebody may leave).
    freed = kept.events()
    assert list(freed.loc[freed["kind"] == "freed", "t_s"]) == [660.0]
    left_after_freed = (p.state != AT_HOME) & (p.state != TRAPPED) & (p.depart_t >= 660.0) & np.isfinite(p.depart_t)
    assert left_after_freed.any()
    assert len(looked) < len(scanned)
    assert 0 < sum(looked) < sum(scanned) / 50
    # Nobody left at home was due: the schedule missed nobody.
    assert not ((p.state == AT_HOME) & (p.depart_t < kept.env.now)).any()


FLOODED = (
    "scenarios/synthetic_large_city.yaml",
    [
        "city.synthetic.population=8000",
        "city.synthetic.area_km2=9",
        "duration=70min",
        "movement.informed_share=0.3",
        "hazards=[{type: flood, at: 0, update_every: 120, stages: [{at: 0, level_m: 0.5}, {at: 1h, level_m: 3}]}]",
    ],
)


@pytest.mark.parametrize("kernels", ["0", "1"])
@pytest.mark.parametrize("case", ["quake", "flood"])
def test_those_looked_at_as_on_the_move_are_everyone_on_the_move_at_every_step(monkeypatch, kernels, case):
    monkeypatch.setenv("SAFECITY_KERNELS", kernels)
    # Never a scan of everyone but the first (in a small city, those on the move are often many).
    monkeypatch.setattr(mover_module, "LOOK_AT_ALL_ABOVE", 0)
    looked = Mover.on_the_move
    steps, rejoined = [], []
    refresh = Mover.refresh_fields

    def checked(self: Mover) -> np.ndarray:
        out = looked(self)
        np.testing.assert_array_equal(out, np.flatnonzero(self.m.pop.state == EVACUATING))
        steps.append(len(out))
        return out

    def counted(self: Mover) -> None:
        before = self.m.pop.state == STRANDED
        refresh(self)
        rejoined.append(int((before & (self.m.pop.state == EVACUATING)).sum()))

    counted_queues = []

    def queues_checked(self: Mover) -> np.ndarray:
        out = queues(self)
        p = self.m.pop
        np.testing.assert_array_equal(out, queue_lengths(p.state, p.arc, self.want_arc, p.mode, self.m.net.n_arcs))
        counted_queues.append(int(out.sum()))
        return out

    queues = Mover.queue_lengths
    monkeypatch.setattr(Mover, "on_the_move", checked)
    monkeypatch.setattr(Mover, "queue_lengths", queues_checked)
    monkeypatch.setattr(Mover, "refresh_fields", counted)
    scn = load_scenario(QUAKE) if case == "quake" else load_scenario(*FLOODED)
    EvacuationModel(scn).run()
    assert len(steps) > 100
    assert max(steps) > 100  # people did set off
    if case == "flood":  # the stranded were given routes again and moved on; people queued
        assert sum(rejoined) > 0
        assert max(counted_queues) > 0


def test_one_stranded_and_routed_again_before_the_next_look_is_on_the_move_once(monkeypatch):
    """Stranded in a pass (still among the last look's) and given a route again: in both, listed once."""
    monkeypatch.setattr(mover_module, "LOOK_AT_ALL_ABOVE", 0)  # always the look among the few
    path, overrides = FLOODED
    # Nobody informed: no look for the queues' delays in between drops the stranded first.
    model = EvacuationModel(load_scenario(path, [*overrides, "movement.informed_share=0"]))
    model.advance_to(1200)
    mover, p = model.mover, model.pop
    before = mover.on_the_move()
    assert len(before) > 10
    stuck = before[::3]
    p.state[stuck] = STRANDED  # as the entry into arcs strands people
    mover.fields_dirty = True
    mover.refresh_fields()  # routes again: the stranded are on the move again, and join
    assert sum(len(j) for j in mover.joining) == len(stuck)
    now = mover.on_the_move()
    np.testing.assert_array_equal(now, before)
    np.testing.assert_array_equal(now, np.flatnonzero(p.state == EVACUATING))
