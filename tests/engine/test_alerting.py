"""Warning delivery: the channel coverage rule of SPEC section 2, and word of mouth."""

from __future__ import annotations

import math

import numpy as np
import pytest

from sim.engine.model import EvacuationModel
from tests.conftest import scenario_from


def _city(layer_city):
    return layer_city().road((0, 0), (0, 300)).people_at((0, 0), 20000).shelter("S", (0, 300), 30000).write()


def expected_reach(coverages: list[float], types: list[str], phone_share: float) -> float:
    """The share reached as the engine computes it (docs/networks.md).

    Channels that need no phone reach each citizen independently with their coverage; a phone
    channel's coverage is a share of all citizens, drawn among phone owners (``c / phi``), so
    two phone channels overlap among the owners: miss = prod(1 - c_i) over the others x
    ((1 - phi) + phi x prod(1 - c_j / phi) over the phone channels).
    """
    phone = {"cell_broadcast", "sms"}
    miss_other = math.prod(1 - c for c, t in zip(coverages, types, strict=True) if t not in phone)
    phone_cs = [c for c, t in zip(coverages, types, strict=True) if t in phone]
    miss_phone = (1 - phone_share) + phone_share * math.prod(1 - min(1.0, c / phone_share) for c in phone_cs)
    return 1 - miss_other * (miss_phone if phone_cs else 1.0)


@pytest.mark.parametrize(
    ("coverages", "phone_share"),
    [([1.0], 0.95), ([0.5], 0.95), ([0.6, 0.3], 0.95), ([0.2, 0.2, 0.2, 0.5], 0.95), ([0.2, 0.4, 0.2, 0.4], 0.5)],
)
def test_channels_reach_the_share_of_the_documented_formula(layer_city, coverages, phone_share):
    n = 20000
    types = ["siren", "cell_broadcast", "radio", "sms"][: len(coverages)]
    channels = [{"type": t, "coverage": c} for t, c in zip(types, coverages, strict=True)]
    scn = scenario_from(
        _city(layer_city),
        duration="10min",
        population={"count": n, "phone_share": phone_share},
        alerting={"orders": [{"at": 0, "zone": "all"}], "channels": channels},
    )
    m = EvacuationModel(scn)
    m.advance_to(600)
    reached = np.isfinite(m.pop.warned_t).mean()
    expected = expected_reach(coverages, types, float(m.pop.has_phone.mean()))
    sigma = math.sqrt(expected * (1 - expected) / n)
    assert abs(reached - expected) <= 4 * sigma + 1e-12
    if phone_share == 0.5:
        # Two phone channels when half own a phone: 1 - prod(1 - c) would say 0.8272, far off.
        naive = 1 - math.prod(1 - c for c in coverages)
        assert abs(reached - naive) > 10 * sigma


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
    """Bass diffusion over the whole curve: F(t) = (1 - e^-(p+q)t) / (1 + (q/p) e^-(p+q)t).

    Its median is ln(2 + q/p) / (p + q) (1.4719 h here; the docs once gave ln(1 + q/p) / (p + q),
    1.4498 h, which this test now tells apart).
    """
    p_h, q_h, n = 0.1, 2.0, 80000
    scn = scenario_from(
        _city(layer_city),
        duration="4h",
        population={"count": n, "households_together": False},  # the diffusion itself, person by person
        alerting={
            "orders": [{"at": 0, "zone": "all"}],
            "channels": [{"type": "ideal", "coverage": 0.0}],
            "word_of_mouth": {"p_per_h": p_h, "q_per_h": q_h},
        },
    )
    m = EvacuationModel(scn)
    m.advance_to(4 * 3600)
    told_h = m.pop.warned_t / 3600

    def bass(t: np.ndarray) -> np.ndarray:
        e = np.exp(-(p_h + q_h) * t)
        return (1 - e) / (1 + (q_h / p_h) * e)

    grid = np.linspace(0.25, 4.0, 16)
    got = np.array([(told_h <= t).mean() for t in grid])
    expected = bass(grid)
    # 4 binomial standard errors, plus the engine's step (10 s: it updates the told share per step).
    tol = 4 * np.sqrt(expected * (1 - expected) / n) + 0.002
    assert np.abs(got - expected).max() <= tol.max()
    assert np.all(np.abs(got - expected) <= tol)
    t50 = math.log(2 + q_h / p_h) / (p_h + q_h)
    assert t50 == pytest.approx(1.4719, abs=1e-4)
    density = (p_h + q_h) ** 2 / (4 * q_h)  # dF/dt at the median, per hour
    se = np.sqrt(0.25 / n) / density
    # The engine updates the told share once per 10 s step: its median lags the closed form by
    # about one to two steps (16 s in the deterministic version of its scheme).
    assert float(np.median(told_h)) == pytest.approx(t50, abs=4 * se + 20 / 3600)
    assert abs(float(np.median(told_h)) - math.log(1 + q_h / p_h) / (p_h + q_h)) > 4 * se + 20 / 3600
