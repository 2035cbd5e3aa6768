"""A step's passes: people cross as many short roads in one step as its passes allow, on hand-computed times.

Each pass of a step lets everyone at a node who is ready enter their next road, and everyone
whose road ends before the step does leave it (``Mover.advance``). The exits' scan looks at
everyone on the move in the first pass and then only at those who may have changed (the last
pass's waiting): these tests fail if a later pass misses someone who entered a road and reached
its end within the same step.
"""

from __future__ import annotations

import numpy as np
import pytest

from sim.agents.citizens import SHELTERED
from sim.engine.model import EvacuationModel
from tests.conftest import everyone_now, scenario_from

SEGMENT_M, SEGMENTS = 2.0, 10  # a 20 m street in 2 m pieces: 2 s each at 1 m/s


def _street(layer_city, walkers: int):
    c = layer_city()
    for k in range(SEGMENTS):
        c.road((0, SEGMENT_M * k), (0, SEGMENT_M * (k + 1)), id=f"s{k}")
    return c.people_at((0, 0), walkers).shelter("END", (0, SEGMENT_M * SEGMENTS), 100).write()


def _run(layer_city, passes: int, walkers: int = 1, **movement):
    parts = everyone_now(
        population={"count": walkers, "walk_speed_mps": {"mean": 1.0, "sd": 0.0}, "mode_share": {"walk": 1.0}},
        movement={"max_passes_per_step": passes, "density_speed": False, "storage": False, **movement},
        shelter_operations={"enabled": False},
        location={"enabled": False},
    )
    scn = scenario_from(_street(layer_city, walkers), duration=600, step=10, **parts)
    m = EvacuationModel(scn)
    m.run()
    assert (m.pop.state == SHELTERED).all()
    return m


def test_a_walker_crosses_every_short_road_within_the_step_it_reaches_it(layer_city):
    """Ten 2 m roads at 1 m/s: at the shelter after 20 s, as if the roads were one (passes to spare)."""
    m = _run(layer_city, passes=64)
    length = m.net.length_m[m.net.length_m > 0]
    assert length.max() == pytest.approx(SEGMENT_M, abs=0.01)
    assert m.pop.arrival_t[0] == pytest.approx(SEGMENTS * SEGMENT_M / 1.0, abs=0.05)


def test_passes_cap_the_roads_crossed_in_a_step(layer_city):
    """Four passes a step: four roads in the first 10 s step (the fourth left at 8 s), the rest later.

    Step [0, 10): roads 1-4 entered at 0, 2, 4, 6; road 4 ends at 8 s but no pass is left.
    Step [10, 20): road 5 entered at 10 (8 s was in the last step), then 12, 14, 16; road 8 ends
    at 18 s. Step [20, 30): roads 9 and 10 entered at 20 and 22: at the shelter at 24 s.
    """
    m = _run(layer_city, passes=4)
    assert m.pop.arrival_t[0] == pytest.approx(24.0, abs=0.05)
    # One pass a step: road k entered at 10 (k - 1) s; road 10 at 90 s ends at 92 s, and the
    # shelter takes the walker in the next step's pass, at its start.
    one = _run(layer_city, passes=1)
    assert one.pop.arrival_t[0] == pytest.approx(100.0, abs=0.05)


def test_a_crowd_on_short_roads_moves_as_it_does_in_one_road(layer_city):
    """Forty walkers: every one arrives, and the last no later than the road's own queue allows."""
    m = _run(layer_city, passes=64, walkers=40)
    arrival = np.sort(m.pop.arrival_t)
    assert arrival[0] == pytest.approx(20.0, abs=0.05)
    assert np.isfinite(arrival).all()
