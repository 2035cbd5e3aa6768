"""Verification with known answers, after the RiMEA test cases (docs/verification.md)."""

from __future__ import annotations

import numpy as np
import pytest

from sim.agents.citizens import AGE_GROUPS, EVACUATING, SPEED_RANGES_MPS, create_population
from sim.engine.model import EvacuationModel
from sim.experiments.runner import run_scenario
from sim.scenario.schema import PopulationConfig
from tests.conftest import everyone_now, scenario_from

FIXED_SPEED = {"walk_speed_mps": {"mean": 1.25, "sd": 0.0}}


def test_corridor_arrival_is_length_over_speed(layer_city):
    """RiMEA 1: one road of known length at a fixed speed: arrival at L / v."""
    city = layer_city().road((0, 0), (0, 800)).people_at((0, 0), 1).shelter("S", (0, 800), 10).write()
    scn = scenario_from(city, population=FIXED_SPEED, **everyone_now())
    model = EvacuationModel(scn)
    length = float(model.city.roads["length_m"].iloc[0])
    model.run()
    arrival = float(model.pop.arrival_t[0])
    assert arrival == pytest.approx(length / 1.25, abs=scn.step)
    result = run_scenario(scn)
    assert result.summary["evacuation"]["t100_s"] == pytest.approx(length / 1.25, abs=scn.step)


def test_bottleneck_clearance_follows_capacity(layer_city):
    """N people through a road of capacity C: the last arrives near t_free + (N - 1) / C."""
    n, cap_pph = 1000, 3600.0
    city = (
        layer_city().road((0, 0), (0, 100), capacity_pph=cap_pph).people_at((0, 0), n).shelter("S", (0, 100), n).write()
    )
    scn = scenario_from(
        city, population={"walk_speed_mps": {"mean": 1.0, "sd": 0.0}, "count": n}, **everyone_now(duration="1h")
    )
    model = EvacuationModel(scn)
    length = float(model.city.roads["length_m"].iloc[0])
    model.run()
    expected = length / 1.0 + (n - 1) / (cap_pph / 3600.0)
    last = float(np.max(model.pop.arrival_t))
    assert last == pytest.approx(expected, rel=0.03)
    # First come, first served at one-second headways: arrivals are evenly spaced.
    gaps = np.diff(np.sort(model.pop.arrival_t))
    assert gaps == pytest.approx(np.ones(n - 1), abs=1e-6)


def test_fixed_delays_each_leaves_at_own_time(layer_city):
    """RiMEA 5: people with their own pre-movement times each leave at that time."""
    city = layer_city().road((0, 0), (0, 300)).people_at((0, 0), 20).shelter("S", (0, 300), 50).write()
    scn = scenario_from(
        city,
        population={**FIXED_SPEED, "count": 20, "households_together": False},  # one delay each
        **everyone_now(alerting={"departure_delay": {"distribution": "uniform", "low": 0, "high": 600}}),
    )
    model = EvacuationModel(scn)
    length = float(model.city.roads["length_m"].iloc[0])
    model.run()
    depart = model.pop.depart_t
    assert len(np.unique(np.round(depart, 6))) == 20  # twenty different departure times
    assert depart.min() >= 0
    assert depart.max() <= 600
    # The road is wide enough that nobody queues: each arrives L / v after their own departure.
    assert model.pop.arrival_t - depart == pytest.approx(np.full(20, length / 1.25), abs=1e-6)

    fixed = scenario_from(
        city,
        population={**FIXED_SPEED, "count": 20, "households_together": False},  # one delay each
        **everyone_now(alerting={"departure_delay": {"distribution": "fixed", "value": 120}}),
    )
    m2 = EvacuationModel(fixed)
    m2.run()
    assert m2.pop.depart_t == pytest.approx(np.full(20, 120.0))


def test_group_speeds_stay_in_their_ranges(rng):
    """RiMEA 7: sampled speeds stay within each group's range and fill it."""
    import pandas as pd

    homes = pd.DataFrame({"node": [0], "residents": [1.0]})
    pop = create_population(homes, 20000, PopulationConfig(limited_mobility_share=0.1), rng=rng, behaviour_rng=rng)
    for g, name in enumerate(AGE_GROUPS):
        sel = (pop.age_group == g) & ~pop.limited_mobility
        lo, hi = SPEED_RANGES_MPS[name]
        speeds = pop.walk_speed_mps[sel]
        assert speeds.min() >= lo
        assert speeds.max() <= hi
        assert speeds.min() < lo + 0.05 * (hi - lo)
        assert speeds.max() > hi - 0.05 * (hi - lo)
    lo, hi = SPEED_RANGES_MPS["limited_mobility"]
    lm = pop.walk_speed_mps[pop.limited_mobility]
    assert lm.min() >= lo
    assert lm.max() <= hi
    assert pop.limited_mobility.mean() == pytest.approx(0.1, abs=0.01)


def _four_exit_city(layer_city):
    c = layer_city()
    for k, dx in enumerate((-30, -10, 10, 30)):
        c.road((0, 0), (dx, 50), (0, 100), id=f"exit{k}", capacity_pph=1800)
    return c.people_at((0, 0), 800).shelter("S", (0, 100), 1000).write()


def test_closing_half_the_exits_doubles_clearance(layer_city):
    """RiMEA 9: four equal exits, then two of them closed: clearance roughly doubles."""
    city = _four_exit_city(layer_city)
    parts = {"population": {**FIXED_SPEED, "count": 800}, **everyone_now(duration="2h")}
    open_all = run_scenario(scenario_from(city, **parts)).summary["evacuation"]["t100_s"]
    closed = run_scenario(
        scenario_from(city, hazards=[{"type": "road_closure", "at": 0, "ids": ["exit0", "exit1"]}], **parts)
    ).summary["evacuation"]["t100_s"]
    # Pure queueing part: 800 people at 4 x 0.5 /s versus 2 x 0.5 /s.
    assert closed / open_all == pytest.approx(2.0, rel=0.15)


def test_nearer_shelter_first_then_overflow(layer_city):
    """RiMEA 10/11: the nearer shelter fills first; the rest go on; no shelter above capacity."""
    city = (
        layer_city()
        .road((0, 0), (0, 200))
        .road((0, 0), (0, -600))
        .people_at((0, 0), 100)
        .shelter("near", (0, 200), 40)
        .shelter("far", (0, -600), 100)
        .write()
    )
    scn = scenario_from(city, population={**FIXED_SPEED, "count": 100}, **everyone_now())
    res = run_scenario(scn)
    sh = res.summary["shelters"]
    assert sh["near"]["final_occupancy"] == 40
    assert sh["far"]["final_occupancy"] == 60
    for s in sh.values():
        assert s["peak_occupancy"] <= s["capacity"]
    # With room for everybody, nobody walks to the far one.
    roomy = scenario_from(
        city, shelters=[{"id": "near", "capacity": 200}], population={**FIXED_SPEED, "count": 100}, **everyone_now()
    )
    assert run_scenario(roomy).summary["shelters"]["far"]["final_occupancy"] == 0


def test_full_shelter_turns_newcomers_away_to_the_next(layer_city):
    """A shelter that fills while people walk to it sends them on, with the count recorded."""
    city = (
        layer_city()
        .road((0, 0), (0, 200))
        .road((0, 200), (0, 400))
        .road((300, 0), (0, 200))
        .people_at((0, 0), 30)
        .people_at((300, 0), 30)
        .shelter("first", (0, 200), 30)
        .shelter("second", (0, 400), 100)
        .write()
    )
    res = run_scenario(scenario_from(city, population={**FIXED_SPEED, "count": 60}, **everyone_now()))
    sh = res.summary["shelters"]
    assert sh["first"]["final_occupancy"] == 30
    assert sh["second"]["final_occupancy"] == 30
    assert sh["first"]["turned_away"] > 0
    assert (res.events["kind"] == "shelter_full").sum() == 1


def test_queue_before_the_tightest_road_not_after(layer_city):
    """RiMEA 12/13: a queue forms before a lower-capacity road, none downstream of the tightest one."""
    city = (
        layer_city()
        .road((0, 0), (0, 100), capacity_pph=20000)
        .road((0, 100), (0, 200), capacity_pph=1800)
        .road((0, 200), (0, 300), capacity_pph=20000)
        .people_at((0, 0), 600)
        .shelter("S", (0, 300), 1000)
        .write()
    )
    scn = scenario_from(city, population={**FIXED_SPEED, "count": 600}, **everyone_now(duration="1h"))
    model = EvacuationModel(scn)
    node_xy = model.city.nodes[["x", "y"]].to_numpy()
    start = int(np.argmin(np.hypot(*(node_xy - node_xy.min(axis=0)).T)))
    order = np.argsort(np.hypot(*(node_xy - node_xy[start]).T))
    before_tight, after_tight = order[1], order[2]
    max_before = max_after = 0
    while model.now < scn.duration:
        model.step()
        p = model.pop
        waiting = (p.state == EVACUATING) & (p.arc < 0)
        max_before = max(max_before, int((waiting & (p.node == before_tight)).sum()))
        max_after = max(max_after, int((waiting & (p.node == after_tight)).sum()))
    assert max_before > 100  # the crowd waits at the entrance of the 1,800 p/h road
    assert max_after == 0  # behind it the flow is below every capacity: no queue


@pytest.mark.parametrize("seed", [1, 2])
def test_closed_road_is_never_entered_after_closing(layer_city, seed):
    """Nobody enters a road after it closes; those on it walk on to its end."""
    city = (
        layer_city()
        .road((0, 0), (0, 500), id="short")
        .road((0, 0), (400, 250), (0, 500), id="long")
        .people_at((0, 0), 300)
        .shelter("S", (0, 500), 1000)
        .write()
    )
    closing = 120.0
    scn = scenario_from(
        city,
        seed=seed,
        population={"count": 300},
        hazards=[{"type": "road_closure", "at": closing, "ids": ["short"]}],
        **everyone_now(alerting={"departure_delay": {"distribution": "uniform", "high": 600}}),
    )
    model = EvacuationModel(scn)
    short = int(np.nonzero(model.city.roads["road_id"].to_numpy() == "short")[0][0])
    short_arcs = np.nonzero(model.net.road == short)[0]
    entered_before = entered_after = 0
    while model.now < scn.duration:
        model.step()
        p = model.pop
        on_short = np.isin(p.arc, short_arcs)
        entered_after += int((on_short & (p.t_entry >= closing)).sum())
        entered_before = max(entered_before, int((on_short & (p.t_entry < closing)).sum()))
    assert entered_before > 0  # the short road was used before it closed
    assert entered_after == 0
    assert model.pop.state_counts()["sheltered"] == 300  # the rest took the long way


def test_road_closed_before_departure_slows_clearance(layer_city):
    """A road closed before anyone leaves makes clearance slower than the same run without it."""
    city = (
        layer_city()
        .road((0, 0), (0, 500), id="short")
        .road((0, 0), (400, 250), (0, 500), id="long")
        .people_at((0, 0), 100)
        .shelter("S", (0, 500), 1000)
        .write()
    )
    parts = {"population": {**FIXED_SPEED, "count": 100}, **everyone_now()}
    base = run_scenario(scenario_from(city, **parts)).summary["evacuation"]["t90_s"]
    closed = run_scenario(
        scenario_from(city, hazards=[{"type": "road_closure", "at": 0, "ids": ["short"]}], **parts)
    ).summary["evacuation"]["t90_s"]
    assert closed > base * 1.3
