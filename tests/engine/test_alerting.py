"""Warning delivery: the channel coverage rule of SPEC section 2, and word of mouth."""

from __future__ import annotations

import math

import numpy as np
import pytest

from sim.engine.model import EvacuationModel
from tests.conftest import scenario_from


def _city(layer_city):
    return layer_city().road((0, 0), (0, 300)).people_at((0, 0), 20000).shelter("S", (0, 300), 30000).write()


@pytest.mark.parametrize("coverages", [[1.0], [0.5], [0.6, 0.3], [0.2, 0.2, 0.2, 0.5]])
def test_independent_channels_reach_one_minus_product(layer_city, coverages):
    n = 20000
    channels = [
        {"type": t, "coverage": c} for t, c in zip(("siren", "cell_broadcast", "radio", "sms"), coverages, strict=False)
    ]
    scn = scenario_from(
        _city(layer_city),
        duration="10min",
        population={"count": n},
        alerting={"orders": [{"at": 0, "zone": "all"}], "channels": channels},
    )
    m = EvacuationModel(scn)
    m.advance_to(600)
    reached = np.isfinite(m.pop.warned_t).mean()
    expected = 1 - math.prod(1 - c for c in coverages)
    sigma = math.sqrt(expected * (1 - expected) / n)
    assert abs(reached - expected) <= 4 * sigma + 1e-12


def test_ideal_channel_reaches_at_the_moment_of_the_order(layer_city):
    scn = scenario_from(
        _city(layer_city),
        duration="10min",
        population={"count": 100},
        alerting={"orders": [{"at": 120, "zone": "all"}], "channels": [{"type": "ideal", "coverage": 1}]},
    )
    m = EvacuationModel(scn)
    m.advance_to(600)
    assert (m.pop.warned_t == 120).all()


def test_an_order_limited_to_some_channels_uses_only_those(layer_city):
    scn = scenario_from(
        _city(layer_city),
        duration="10min",
        population={"count": 5000},
        alerting={
            "orders": [{"at": 0, "zone": "all", "channels": ["siren"]}],
            "channels": [{"type": "siren", "coverage": 0.3}, {"type": "cell_broadcast", "coverage": 1.0}],
        },
    )
    m = EvacuationModel(scn)
    m.advance_to(600)
    assert np.isfinite(m.pop.warned_t).mean() == pytest.approx(0.3, abs=0.03)
    warned = m.pop.warned_t[np.isfinite(m.pop.warned_t)]
    assert ((warned >= 60) & (warned < 61)).all()  # the siren's default delay + the network's milliseconds


def test_word_of_mouth_alone_follows_the_bass_model(layer_city):
    """Bass diffusion: with p and q per hour, half are told at ln(1 + q/p) / (p + q) hours."""
    p_h, q_h, n = 0.1, 2.0, 20000
    scn = scenario_from(
        _city(layer_city),
        duration="4h",
        population={"count": n},
        alerting={
            "orders": [{"at": 0, "zone": "all"}],
            "channels": [{"type": "ideal", "coverage": 0.0}],
            "word_of_mouth": {"p_per_h": p_h, "q_per_h": q_h},
        },
    )
    m = EvacuationModel(scn)
    m.advance_to(4 * 3600)
    t50 = float(np.median(m.pop.warned_t)) / 3600
    assert t50 == pytest.approx(math.log(1 + q_h / p_h) / (p_h + q_h), rel=0.05)
