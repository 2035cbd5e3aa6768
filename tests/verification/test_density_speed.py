"""Speed from density (issue 18, docs/verification.md): a steady stream through a corridor.

A door lets q = 2 persons/s (6,000 people, 50 min) into a corridor 2 m wide (an open passage: no boundary strip) and
300 m long. On the free-flow branch the density D* solves D v(D) W = q, and everyone who walks
faster than v(D*) crosses in L / v(D*). SFPE's relation has a closed form; Weidmann's is solved
numerically here. With ``movement.density_speed: false`` everyone keeps their own speed.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.optimize import brentq

from sim.engine.crowding import WEIDMANN_V0_MPS, critical, weidmann_speed
from sim.engine.model import EvacuationModel
from tests.conftest import everyone_now, scenario_from

N, Q_PPS, WIDTH_M, LENGTH_M, OWN_MPS = 6000, 2.0, 2.0, 300.0, 1.6


def _corridor(layer_city, **movement):
    city = (
        layer_city()
        .road((0, 0), (0, 10), capacity_pph=Q_PPS * 3600, width_m=40.0)  # the door: wide, so not crowded
        .road((0, 10), (0, 10 + LENGTH_M), width_m=WIDTH_M, passage="passage", highway="footway")
        .people_at((0, 0), N)
        .shelter("S", (0, 10 + LENGTH_M), N)
        .write()
    )
    scn = scenario_from(
        city,
        population={"count": N, "walk_speed_mps": {"mean": OWN_MPS, "sd": 0.0}},
        duration="1h",
        movement=movement,
        **everyone_now(),
    )
    model = EvacuationModel(scn)
    model.run()
    lengths = model.city.roads["length_m"].to_numpy()
    order = np.argsort(model.pop.arrival_t)
    k = np.arange(N)
    # Arrival of the k-th through the door, minus its door entry k / q: the time to cross both roads.
    crossing = model.pop.arrival_t[order] - k / Q_PPS
    # The stream builds up over a few crossing times (each ~270 s, converging by about half per
    # crossing): judge the steady part, door entries from 30 to 45 min.
    return crossing[int(1800 * Q_PPS) : int(2700 * Q_PPS)], lengths


def test_weidmann_steady_stream_crosses_at_the_free_flow_speed_of_its_density(layer_city):
    steady, (door, corridor) = _corridor(layer_city)
    d_star = brentq(lambda d: d * weidmann_speed(d) * WIDTH_M - Q_PPS, 0.01, critical("weidmann")[0])
    v_star = float(weidmann_speed(d_star))
    expected = door / WEIDMANN_V0_MPS + corridor / v_star  # the door is nearly empty: Weidmann's v0
    assert v_star < OWN_MPS  # the crowd, not the walker, sets the pace
    assert np.median(steady) == pytest.approx(expected, rel=0.01)
    assert np.ptp(steady) < 0.02 * expected  # steady: everyone in the middle takes about as long


def test_sfpe_steady_stream_matches_the_closed_form(layer_city):
    steady, (door, corridor) = _corridor(layer_city, speed_relation="sfpe")
    # D 1.40 (1 - 0.266 D) W = q  ->  0.3724 D^2 - 1.4 D + q / W = 0, the free-flow root.
    a, b, c = 1.40 * 0.266, -1.40, Q_PPS / WIDTH_M
    d_star = (-b - math.sqrt(b * b - 4 * a * c)) / (2 * a)
    v_star = 1.40 * (1 - 0.266 * d_star)
    assert v_star == pytest.approx(1.0427, abs=1e-3)
    expected = door / (0.85 * 1.40) + corridor / v_star  # the door is nearly empty: SFPE's 1.19 m/s
    assert np.median(steady) == pytest.approx(expected, rel=0.01)


def test_without_density_speed_everyone_keeps_their_own_speed(layer_city):
    steady, (door, corridor) = _corridor(layer_city, density_speed=False)
    assert steady == pytest.approx(np.full(len(steady), (door + corridor) / OWN_MPS), abs=1e-6)


def test_passage_kinds_set_the_boundary_strip(layer_city):
    """Capacity = specific flow x (width - 2 x boundary): street 0.3 m, door 0.15 m, passage 0 m, or as given."""
    city = layer_city()
    for i, kind in enumerate(("street", "door", "gate", "passage")):
        city = city.road((i * 100, 0), (i * 100, 50), width_m=1.2, passage=kind, id=kind)
        city = city.road((i * 100, 50), (i * 100 + 100, 50))
    city = city.road((400, 0), (400, 50), width_m=1.2, boundary_m=0.05, id="given")
    city = city.people_at((0, 0), 1).shelter("S", (400, 50), 10).write()
    model = EvacuationModel(scenario_from(city, **everyone_now()))
    roads = model.city.roads.set_index("road_id")
    flow = critical("weidmann")[1]  # 1.3 asked, but never above Weidmann's maximum (1.225)
    assert flow == pytest.approx(1.2249, abs=1e-3)
    for rid, strip in (("street", 0.3), ("door", 0.15), ("gate", 0.15), ("passage", 0.0), ("given", 0.05)):
        row = roads.index.get_loc(rid)
        headway = model.net.headway_s[row]
        assert 3600.0 / headway == pytest.approx(flow * (1.2 - 2 * strip) * 3600.0, rel=1e-9), rid
    sfpe = EvacuationModel(scenario_from(city, movement={"speed_relation": "sfpe"}, **everyone_now()))
    row = sfpe.city.roads.set_index("road_id").index.get_loc("passage")
    assert 3600.0 / sfpe.net.headway_s[row] == pytest.approx(1.3 * 1.2 * 3600.0)  # asked 1.3 < SFPE's 1.316


def test_cars_settle_at_greenshields_free_flow_speed(layer_city):
    """900 vehicles/h into a one-lane, one-way 2 km road at 30 km/h: v^2 - v_f v + v_f q / k_jam = 0."""
    q_vph, v_free_kph, k_jam = 900.0, 30.0, 1000.0 / 7.5
    n = 2400  # persons; 1.5 per car: 1,600 cars over 107 min
    city = (
        layer_city()
        .road((0, 0), (0, 2000), highway="residential", oneway="yes", lanes=1, speed_kph=v_free_kph)
        .people_at((0, 0), n)
        .shelter("S", (0, 2000), n)
        .write()
    )
    scn = scenario_from(
        city,
        population={"count": n, "mode_share": {"walk": 0.0, "car": 1.0}, "car_household_share": 1.0},
        movement={"lane_capacity_vph": q_vph, "car_occupancy": 1.5},
        duration="3h",
        **everyone_now(),
    )
    model = EvacuationModel(scn)
    model.run()
    length = float(model.city.roads["length_m"].iloc[0])
    assert (model.pop.mode == 1).all()
    order = np.argsort(model.pop.arrival_t)
    entry = np.arange(n) * 3600.0 / (q_vph * 1.5)  # persons enter one headway apart
    crossing = (model.pop.arrival_t[order] - entry)[int(0.6 * n) : int(0.8 * n)]  # steady by then
    v_kph = (v_free_kph + math.sqrt(v_free_kph**2 - 4 * v_free_kph * q_vph / k_jam)) / 2
    assert v_kph == pytest.approx(19.74, abs=0.01)
    assert np.median(crossing) == pytest.approx(length / (v_kph / 3.6), rel=0.01)
