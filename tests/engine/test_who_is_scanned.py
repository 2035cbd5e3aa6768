"""Each step scans only those who can matter, not everyone (issue 20).

- Departures: those the last scan found at home or trapped. Nobody comes home but the trapped,
  freed: a run whose scan keeps only those must depart the very same people at the very same
  times as one that scans everyone at every step.
- On the move: those on the move at the last look, and those who set off or were given a route
  again since; at every step they must be exactly everyone whose state is on the move.
"""

from __future__ import annotations

import numpy as np
import pytest

import sim.engine.mover as mover_module
from sim.agents.citizens import AT_HOME, EVACUATING, STRANDED, TRAPPED
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
    advance = Mover.advance
    scanned: list[int] = []

    def scan_everyone(self: Mover, t0: float, t1: float) -> None:
        if everyone:
            self.home = np.arange(self.m.pop.n, dtype=np.int64)
        scanned.append(len(self.home))
        advance(self, t0, t1)

    monkeypatch.setattr(Mover, "advance", scan_everyone)
    m = EvacuationModel(load_scenario(QUAKE))
    m.run()
    monkeypatch.setattr(Mover, "advance", advance)
    return m, scanned


@pytest.mark.parametrize("kernels", ["0", "1"])
def test_the_scan_of_those_at_home_departs_as_a_scan_of_everyone(monkeypatch, kernels):
    monkeypatch.setenv("SAFECITY_KERNELS", kernels)  # the numpy reference, and the compiled scan
    kept, scanned = _run(monkeypatch, everyone=False)
    full, _ = _run(monkeypatch, everyone=True)
    p, q = kept.pop, full.pop
    for name in ("state", "t_ready", "node", "arc", "shelter", "arrival_t", "depart_t"):
        np.testing.assert_array_equal(getattr(p, name), getattr(q, name), err_msg=name)
    # Not trivial: people were trapped, freed at 660 s and left home after, and the scan shrank.
    freed = kept.events()
    assert list(freed.loc[freed["kind"] == "freed", "t_s"]) == [660.0]
    assert scanned[-1] < scanned[0] == p.n
    left_after_freed = (p.state != AT_HOME) & (p.state != TRAPPED) & (p.depart_t >= 660.0) & np.isfinite(p.depart_t)
    assert left_after_freed.any()
    # Everyone still at home or trapped is among those the mover will scan.
    assert np.isin(np.flatnonzero((p.state == AT_HOME) | (p.state == TRAPPED)), kept.mover.home).all()


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
