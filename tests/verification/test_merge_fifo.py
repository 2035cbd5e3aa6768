"""Queues at merges are first come, first served across every inflow (issue 18, docs/verification.md).

Two equal streams, each through a road of 1,800 p/h, meet before one road of 1,800 p/h. Served
in order of arrival, both streams wait alike: their median arrival times at the shelter agree,
whichever order the population is listed in. (The old model let everyone who had waited longer
than one step tie at the step's start, broken by citizen index: here medians of 2,704 s and
6,577 s instead of about 4,600 s each.)
"""

from __future__ import annotations

import numpy as np
import pytest

from sim.engine.model import EvacuationModel
from tests.conftest import everyone_now, scenario_from

MERGE_PPH = 1800.0  # one entrant every 2 s


def _merge(layer_city, n: int, *, a_first: bool, speed: dict | None = None):
    city = (
        layer_city()
        .road((-400, 0), (0, 0), capacity_pph=MERGE_PPH)
        .road((400, 0), (0, 0), capacity_pph=MERGE_PPH)
        .road((0, 0), (0, 300), capacity_pph=MERGE_PPH)
        .shelter("S", (0, 300), 2 * n)
    )
    streams = [(-400, 0), (400, 0)] if a_first else [(400, 0), (-400, 0)]
    for at in streams:
        city = city.people_at(at, n)
    population = {"count": 2 * n, **({"walk_speed_mps": speed} if speed else {})}
    scn = scenario_from(city.write(), population=population, duration="6h", **everyone_now())
    model = EvacuationModel(scn)
    model.run()
    x = model.city.node_xy[:, 0]
    mid = (x.min() + x.max()) / 2  # the merge node's x (the city is symmetric about it)
    x0 = x[model.pop.home_node]
    west, east = model.pop.arrival_t[x0 < mid], model.pop.arrival_t[x0 > mid]
    assert len(west) == len(east) == n
    assert np.isfinite(west).all()
    assert np.isfinite(east).all()
    return west, east


@pytest.mark.parametrize("a_first", [True, False])
def test_equal_streams_at_a_merge_wait_alike(layer_city, a_first):
    """Same speed for all: both streams reach the merge at the same instants and alternate."""
    west, east = _merge(layer_city, 1000, a_first=a_first, speed={"mean": 1.25, "sd": 0.0})
    headway = 3600.0 / MERGE_PPH
    # Exact: the k-th of each stream enters within one headway of the other's k-th.
    assert np.abs(np.sort(west) - np.sort(east)).max() <= headway + 1e-6
    # And the merge serves at capacity: the last of 2,000 about 2,000 x 2 s after the first.
    both = np.sort(np.concatenate([west, east]))
    assert both[-1] - both[0] == pytest.approx((2000 - 1) * headway, abs=headway)


def test_random_speeds_merge_medians_within_2_percent_in_either_order(layer_city):
    """Speeds from the age model: medians within 2 %, and listing the streams the other way round changes nothing."""
    medians = []
    for a_first in (True, False):
        west, east = _merge(layer_city, 2000, a_first=a_first)
        mw, me = float(np.median(west)), float(np.median(east))
        assert mw == pytest.approx(me, rel=0.02), (a_first, mw, me)
        medians.append((mw, me))
    (w1, e1), (w2, e2) = medians
    assert w1 == pytest.approx(w2, rel=0.02)
    assert e1 == pytest.approx(e2, rel=0.02)
