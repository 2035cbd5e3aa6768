"""Earthquake: the attenuation relation, lognormal fragility, and damage in a running city."""

from __future__ import annotations

import json

import numpy as np
import pytest

from sim.engine.model import EvacuationModel
from sim.hazards.fragility import damage_probability
from sim.hazards.ground import (
    distance_for_pga,
    distance_to_rupture_km,
    pga_joyner_boore_1981,
    rupture_length_km,
    site_factor,
)
from sim.metrics.figures import casualties_by_cause
from sim.scenario import load_scenario
from tests.conftest import kotka_quake


def test_joyner_boore_uses_its_own_7_3_km():
    # Hand values, h = 7.3 km: M 6.5 at 10 km: r = sqrt(100 + 53.29) = 12.3811 km,
    # log10 PGA = -1.02 + 1.6185 - 1.092758 - 0.031572 = -0.525830 -> 0.29797 g;
    # M 7.0 at 0 km: log10 PGA = -1.02 + 1.743 - 0.863323 - 0.018615 = -0.158938 -> 0.69353 g.
    assert pga_joyner_boore_1981(6.5, np.array([10.0]))[0] == pytest.approx(0.29797, rel=1e-4)
    assert pga_joyner_boore_1981(7.0, np.array([0.0]))[0] == pytest.approx(0.69353, rel=1e-4)
    d = np.array([0.0, 5.0, 20.0, 80.0])
    assert np.all(np.diff(pga_joyner_boore_1981(6.5, d)) < 0)  # falls with distance
    r = distance_for_pga(6.5, 0.1)
    assert pga_joyner_boore_1981(6.5, np.array([r]))[0] == pytest.approx(0.1, rel=1e-9)


def _hazard(**quake):
    """A prepared earthquake hazard on the small synthetic city (no run)."""
    m = EvacuationModel(_synthetic_quake(**quake))
    hz = m.hazards[0]
    hz.prepare(m)
    return m, hz


def test_the_depth_does_not_change_the_motion_at_the_epicentre():
    """Before issue 19 the depth replaced the 7.3 km: 10 km gave 28 % less at the epicentre."""
    pgas = []
    for depth in (5.0, 10.0, 40.0):
        _m, hz = _hazard(magnitude=6.4, depth_km=depth, sigma=0.0)
        pgas.append(hz.pga_at(hz.epicentre_xy[None, :])[0])
    assert pgas == pytest.approx(
        [0.491657] * 3, rel=1e-5
    )  # M 6.4 at 0 km: 10 ** (-1.02 + 1.5936 - 0.863323 - 0.018615)


def test_the_distance_is_measured_to_a_finite_rupture_from_m_6_5():
    # M 7.0: Wells & Coppersmith's subsurface length 10 ** (-2.44 + 0.59 x 7) = 48.978 km, strike north,
    # centred on the epicentre: it reaches 24.489 km north and south.
    assert rupture_length_km(7.0) == pytest.approx(48.978, rel=1e-4)
    assert rupture_length_km(6.4) == 0.0
    _m, hz = _hazard(magnitude=7.0, strike_deg=0.0, sigma=0.0)
    e = hz.epicentre_xy
    sites = e + np.array([[10_000.0, 0.0], [0.0, 30_000.0], [3_000.0, -40_000.0], [0.0, 20_000.0]])
    expected_km = np.array([10.0, 30.0 - 24.489, np.hypot(3.0, 40.0 - 24.489), 0.0])
    assert distance_to_rupture_km(sites, hz.rupture) == pytest.approx(expected_km, abs=2e-3)
    assert hz.pga_at(sites) == pytest.approx(pga_joyner_boore_1981(7.0, expected_km), rel=1e-3)
    # An east-west rupture puts the site 10 km east right on it.
    _m, hz = _hazard(magnitude=7.0, strike_deg=90.0, sigma=0.0)
    assert distance_to_rupture_km(sites[:1], hz.rupture)[0] == pytest.approx(0.0, abs=1e-9)


def test_site_classes_scale_the_motion_by_nehrp_fa():
    # Fa at Ss = 2.5 x rock PGA: class D at 0.1 g (Ss 0.25) 1.6, at 0.15 g (Ss 0.375) 1.5,
    # at 0.3 g (Ss 0.75) 1.2, at 0.6 g (Ss >= 1.25) 1.0; class B always 1.
    rock = np.array([0.1, 0.15, 0.3, 0.6])
    assert site_factor("D", rock) == pytest.approx([1.6, 1.5, 1.2, 1.0], abs=1e-12)
    assert site_factor("E", rock) == pytest.approx([2.5, 2.1, 1.2, 0.9], abs=1e-12)
    assert site_factor("B", rock) == pytest.approx([1.0] * 4)
    assert site_factor(None, rock) == pytest.approx([1.0] * 4)
    m, hz = _hazard(magnitude=6.4, sigma=0.0, site_class="D")
    _m0, hz0 = _hazard(magnitude=6.4, sigma=0.0)
    xy = m.city.node_xy
    assert hz.pga_at(xy) == pytest.approx(site_factor("D", hz0.pga_at(xy)) * hz0.pga_at(xy), rel=1e-12)


def test_scatter_follows_the_published_sigma_per_cell():
    m, hz = _hazard(magnitude=6.4)  # the default: Joyner-Boore's 0.26
    _m0, hz0 = _hazard(magnitude=6.4, sigma=0.0)
    xy = m.city.node_xy
    ratio = np.log10(hz.pga_at(xy) / hz0.pga_at(xy))
    # Exactly sigma x the standard normal draw of each point's cell.
    assert ratio == pytest.approx(0.26 * hz._epsilon_at(xy), abs=1e-12)
    eps = hz.epsilon.ravel()
    assert len(eps) >= 30
    assert abs(eps.mean()) < 4 / np.sqrt(len(eps))
    assert abs(eps.std() - 1.0) < 4 / np.sqrt(2 * len(eps))
    # The same seed draws the same field; sigma 0 is the median.
    _, again = _hazard(magnitude=6.4)
    assert np.array_equal(again.epsilon, hz.epsilon)
    assert not hz0.epsilon.any()


def test_fragility_curve_at_plus_and_minus_beta(rng):
    """P(damage) = Phi(+-1) = 0.8413 / 0.1587 at median x exp(+-beta), and 0 at zero intensity."""
    n = 40_000
    median, beta = 0.45, 0.6
    for k, expected in ((1.0, 0.841345), (-1.0, 0.158655), (0.0, 0.5)):
        p = damage_probability(np.full(n, median * np.exp(k * beta)), median, beta)
        assert p[0] == pytest.approx(expected, abs=1e-6)
        share = (rng.random(n) < p).mean()
        assert abs(share - expected) < 4 * np.sqrt(expected * (1 - expected) / n)
    assert not (rng.random(n) < damage_probability(np.zeros(n), median, beta)).any()


def _synthetic_quake(**quake):
    return load_scenario(
        {
            "name": "quake",
            "seed": 5,
            "duration": "10min",
            "city": {"synthetic": {"area_km2": 1, "population": 12000, "water": "none", "seed": 1}},
            "population": {"household_size_mean": 1.2},
            "hazards": [{"type": "earthquake", "at": 0, "epicentre": [26.95, 59.2], "magnitude": 7.0, **quake}],
        }
    )


@pytest.mark.parametrize(("k", "expected"), [(1.0, 0.841345), (-1.0, 0.158655)])
def test_households_at_median_times_exp_plus_minus_beta(k, expected):
    """Through the engine: complete damage in Phi(+-1) of the homes, collapse in 13 % of those (C2L)."""
    # A point source (M 6.4) about 140 km away: the PGA varies by 1.4 % over a 1 km city.
    quake = {"magnitude": 6.4, "sigma": 0.0, "casualty_share": 0.0, "trapped_share": 0.0}
    m, hz = _hazard(**quake)
    pga = hz.pga_at(m.city.node_xy)
    assert pga.max() / pga.min() < 1.02
    beta = 0.64
    median = float(np.median(pga)) / np.exp(k * beta)
    m = EvacuationModel(_synthetic_quake(fragility={"building": {"median_g": median, "beta": beta}}, **quake))
    m.run()
    ev = m.events()
    row = ev[ev["kind"] == "buildings_collapsed"].iloc[0]
    complete, collapsed = int(json.loads(row["detail"])["complete"]), int(row["count"])
    households = len(np.unique(m.pop.household))
    # The tolerance: 4 binomial standard errors, plus the PGA's 1.4 % spread (0.5 % of probability at most).
    assert complete / households == pytest.approx(
        expected, abs=4 * np.sqrt(expected * (1 - expected) / households) + 0.006
    )
    assert collapsed / complete == pytest.approx(0.13, abs=4 * np.sqrt(0.13 * 0.87 / complete))


def test_hazus_casualty_rates_in_completely_damaged_homes():
    """Everyone's home completely damaged: deaths and injuries at Hazus's rates for C2L."""
    m = EvacuationModel(
        _synthetic_quake(
            magnitude=6.4, sigma=0.0, trapped_share=0.0, fragility={"building": {"median_g": 1e-6, "beta": 0.1}}
        )
    )
    at_home = m.pop.n
    m.run()
    ev = m.events()
    row = ev[ev["kind"] == "buildings_collapsed"].iloc[0]
    households = len(np.unique(m.pop.household))
    assert int(json.loads(row["detail"])["complete"]) == households
    in_collapse = float(row["count"]) / households * at_home  # about: households are of similar size
    killed = casualties_by_cause(m.casualty_cause, m.cause_names).get("earthquake", 0)
    expected_killed = 0.10 * in_collapse + 0.0001 * (at_home - in_collapse)
    assert killed == pytest.approx(expected_killed, abs=4 * np.sqrt(expected_killed) + 0.02 * expected_killed)
    injured = json.loads(ev[ev["kind"] == "injured"].iloc[0]["detail"])
    expected_s1 = 0.40 * in_collapse + 0.05 * (at_home - in_collapse)
    assert injured["severity1"] == pytest.approx(expected_s1, abs=4 * np.sqrt(expected_s1) + 0.02 * expected_s1)
    # Before issue 19 every complete damage was a collapse and killed 10 %: about 1,200 here.
    assert killed < 0.03 * at_home


def test_a_distant_small_quake_breaks_nothing():
    m = EvacuationModel(_synthetic_quake(magnitude=4.0, epicentre=[20.0, 50.0]))
    m.run()
    kinds = set(m.events()["kind"])
    assert not kinds & {"asset_failed", "buildings_collapsed", "shelter_damaged", "road_closed", "casualties"}
    assert not m.network.damaged.any()


def test_quake_in_kotka_collapses_buildings_closes_roads_and_traps_people():
    scn = load_scenario(kotka_quake())
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
