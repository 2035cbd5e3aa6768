"""Earthquake: the attenuation relation, lognormal fragility, and damage in a running city."""

from __future__ import annotations

import numpy as np
import pytest

from sim.engine.model import EvacuationModel
from sim.hazards.fragility import damage_probability, distance_for_pga, pga_joyner_boore_1981
from sim.metrics.figures import casualties_by_cause
from sim.scenario import load_scenario


def test_joyner_boore_value_and_trends():
    # Hand value: M 6.5 at 10 km epicentral distance, h = 7.3 km:
    # r = 12.383 km; log10 PGA = -1.02 + 1.6185 - 1.09283 - 0.03158 = -0.52591 -> 0.2979 g.
    assert pga_joyner_boore_1981(6.5, np.array([10.0]), 7.3)[0] == pytest.approx(0.2979, rel=2e-3)
    d = np.array([0.0, 5.0, 20.0, 80.0])
    pga = pga_joyner_boore_1981(6.5, d, 10.0)
    assert np.all(np.diff(pga) < 0)  # falls with distance
    assert pga_joyner_boore_1981(7.0, d, 10.0)[0] > pga[0]  # grows with magnitude
    r = distance_for_pga(6.5, 10.0, 0.1)
    assert pga_joyner_boore_1981(6.5, np.array([r]), 10.0)[0] == pytest.approx(0.1, rel=1e-6)


def test_fragility_median_damages_half_and_zero_intensity_nothing(rng):
    n = 40_000
    median, beta = 0.45, 0.6
    p = damage_probability(np.full(n, median), median, beta)
    share = (rng.random(n) < p).mean()
    assert abs(share - 0.5) < 4 * np.sqrt(0.25 / n)
    assert not (rng.random(n) < damage_probability(np.zeros(n), median, beta)).any()
    # Monotone in intensity.
    x = np.array([0.05, 0.2, 0.45, 1.0, 3.0])
    assert np.all(np.diff(damage_probability(x, median, beta)) > 0)


def _synthetic_quake(**quake):
    return load_scenario(
        {
            "name": "quake",
            "seed": 5,
            "duration": "10min",
            "city": {"synthetic": {"area_km2": 1, "population": 12000, "water": "none", "seed": 1}},
            "population": {"household_size_mean": 1.2},
            "hazards": [{"type": "earthquake", "at": 0, "epicentre": [26.95, 60.02], "magnitude": 7.0, **quake}],
        }
    )


def test_households_at_the_fragility_median_collapse_half_the_time():
    # Epicentre ~50 km away: PGA nearly uniform over a 1 km city; set the building median to it.
    probe = EvacuationModel(_synthetic_quake(casualty_share=0.0, trapped_share=0.0))
    hz = probe.hazards[0]
    hz.prepare(probe)
    pga = hz.pga_at(probe.city.node_xy)
    assert pga.max() / pga.min() < 1.05
    median = float(np.median(pga))
    m = EvacuationModel(
        _synthetic_quake(fragility={"building": {"median_g": median, "beta": 0.64}}, casualty_share=0.0)
    )
    m.run()
    ev = m.events()
    row = ev[ev["kind"] == "buildings_collapsed"]
    collapsed = int(row["count"].iloc[0])  # households, a typed column
    households = len(np.unique(m.pop.household))
    share = collapsed / households
    assert abs(share - 0.5) < 4 * np.sqrt(0.25 / households) + 0.02  # + the small PGA spread
    assert m.pop.state_counts()["trapped"] > 0


def test_a_distant_small_quake_breaks_nothing():
    m = EvacuationModel(_synthetic_quake(magnitude=4.0, epicentre=[20.0, 50.0]))
    m.run()
    kinds = set(m.events()["kind"])
    assert not kinds & {"asset_failed", "buildings_collapsed", "shelter_damaged", "road_closed", "casualties"}
    assert not m.network.damaged.any()


def test_quake_in_kotka_collapses_buildings_closes_roads_and_traps_people():
    scn = load_scenario(
        {
            "name": "kotka-quake",
            "seed": 3,
            "duration": "20min",
            "hazards": [
                {
                    "type": "earthquake",
                    "id": "q",
                    "at": 60,
                    "epicentre": [26.95, 60.53],
                    "magnitude": 7.0,
                    "depth_km": 8,
                    "trapped_for": "10min",
                }
            ],
        }
    )
    m = EvacuationModel(scn)
    m.run()
    ev = m.events()
    assert (ev["kind"] == "building_collapsed").sum() > 10
    debris = ev[(ev["kind"] == "road_closed") & (ev["cause"] == "q")]
    assert len(debris) > 0
    assert (debris["t_s"] == 60).all()
    assert (ev["kind"] == "asset_failed").any()
    assert casualties_by_cause(m.casualty_cause, m.cause_names).get("earthquake", 0) > 0
    freed = ev[ev["kind"] == "freed"]
    assert list(freed["t_s"]) == [660.0]
    assert m.pop.state_counts()["trapped"] == 0
    ts = m.timeseries()
    states = ["at_home", "evacuating", "sheltered", "casualties", "stranded", "trapped"]
    assert (ts[states].sum(axis=1) == m.pop.n).all()
    assert ts.loc[ts["t_s"] == 120, "trapped"].iloc[0] > 0


def test_the_hazard_stream_leaves_citizens_untouched():
    base = load_scenario({"name": "a", "seed": 9, "duration": "5min"})
    quake = load_scenario(
        {
            "name": "a",
            "seed": 9,
            "duration": "5min",
            "hazards": [{"type": "earthquake", "at": 0, "epicentre": [26.95, 60.53], "magnitude": 6.5}],
        }
    )
    a, b = EvacuationModel(base), EvacuationModel(quake)
    for name in ("walk_speed_mps", "u_delay", "u_comply", "home_node", "mode", "has_phone"):
        assert np.array_equal(getattr(a.pop, name), getattr(b.pop, name)), name
    assert np.array_equal(a.recorder.track_ids, b.recorder.track_ids)
