"""Alert channels are plug-ins: a test-only channel registers, validates and runs end to end."""

from __future__ import annotations

import numpy as np
import pytest

from sim import api
from sim.network import channels
from sim.scenario.schema import DEFAULT_CHANNEL_DELAY_S


@pytest.fixture
def pigeon_post():
    """A channel that reaches half of everyone (by household parity) 10 minutes after the order."""

    class PigeonPost(channels.AlertChannel):
        type_name = "pigeon_post"
        default_delay_s = 600.0

        def receivers(self, world):
            return world.pop.household % 2 == 0

        def deliver(self, world, *, index, config, who, t, reach):
            reach(who, t + config.delay_s)

    channels.register(PigeonPost)
    yield PigeonPost
    del channels.CHANNELS["pigeon_post"]
    del DEFAULT_CHANNEL_DELAY_S["pigeon_post"]


def test_unknown_channels_are_refused_by_name():
    with pytest.raises(api.InputError) as err:
        api.load_scenario({"alerting": {"channels": [{"type": "pigeon_post", "coverage": 1.0}]}})
    assert err.value.lines()[0].startswith("alerting.channels.0.type: unknown channel type 'pigeon_post'")


def test_a_registered_channel_runs_end_to_end(pigeon_post):
    scenario = api.load_scenario(
        api.sample_scenarios()["kotka_district_evacuation"],
        [
            "duration=30min",
            "alerting.channels=[{type: pigeon_post, coverage: 0.5}]",
            "alerting.orders=[{at: 0, zone: all}]",
            "alerting.departure_delay={distribution: fixed, value: 0}",
        ],
    )
    sim = api.Simulation(scenario)
    receivers = sim._model.pop.household % 2 == 0
    result = sim.result()
    pigeons = result.summary["alerts"]["channels"]["pigeon_post"]
    assert pigeons["median_delay_s"] == 600.0  # the channel's own default delay
    # coverage 0.5 of everyone, drawn among those who can receive it (even households)
    assert pigeons["reached"] == pytest.approx(0.5 * len(receivers), rel=0.03)
    assert result.summary["alerts"]["first_issued_s"] == 0.0
    warned = result.timeseries.set_index("t_s")["warned"]
    assert warned.loc[540.0] == 0
    assert warned.loc[600.0] == pigeons["reached"]
    assert np.isclose(pigeons["reach_fraction"], pigeons["reached"] / len(receivers))
