"""Floods and tsunamis: closures per mode, casualties only in deep water, footprints, triggers, DEMs."""

from __future__ import annotations

import numpy as np
import pytest

from sim.agents.citizens import CAR, WALK
from sim.core.errors import InputError
from sim.engine.crowding import critical
from sim.engine.model import EvacuationModel
from tests.conftest import everyone_now, lonlat, scenario_from

# A street from homes at x=0 to a shelter at x=600, crossing a river (a line across x=300,
# 30 m wide) on the segment 250-350. Derived ground: 1 m at the bank, +5 m per 100 m.
RIVER = {"water": [lonlat(300, -60), lonlat(300, 60)], "water_width_m": 30, "bank_m": 1.0, "slope": 0.05}


def _river_city(layer_city, *, people=100, capacity_pph=3600, detour=False):
    c = layer_city()
    c.road((0, 0), (250, 0), id="west", capacity_pph=capacity_pph)
    c.road((250, 0), (350, 0), id="crossing", capacity_pph=capacity_pph)
    c.road((350, 0), (600, 0), id="east", capacity_pph=capacity_pph)
    if detour:  # a long dry way round, far from the water
        c.road((0, 0), (0, 400), id="d1")
        c.road((0, 400), (600, 400), id="d2")
        c.road((600, 400), (600, 0), id="d3")
    c.shelter("S", (600, 0), 10_000)
    c.people_at((0, 0), people)
    city = c.write()
    city["terrain"] = {**RIVER, "resolution_m": 2}
    return city


def _walkers(n):
    return {"population": {"count": n, "walk_speed_mps": {"mean": 1.0, "sd": 0}, "mode_share": {"walk": 1.0}}}


def _flood(at, level, **extra):
    return {"type": "flood", "id": "f", "at": at, "stages": [{"at": 0, "level_m": level}], **extra}


def _road_row(m, road_id):
    return int(np.nonzero(m.city.roads["road_id"].to_numpy() == road_id)[0][0])


def test_a_flooded_road_is_never_entered_after_it_closes(layer_city):
    scn = scenario_from(_river_city(layer_city), hazards=[_flood(60, 1.7)], **_walkers(100), **everyone_now())
    m = EvacuationModel(scn)
    crossing = _road_row(m, "crossing")
    arcs = np.nonzero(m.net.road == crossing)[0]
    while m.now < m.duration:
        m.step()
        on = np.isin(m.pop.arc, arcs)
        if m.now > 60:
            assert not (on & (m.pop.t_entry >= 60)).any()
        if m.now > 600:
            break
    m.run()
    counts = m.pop.state_counts()
    assert counts["sheltered"] == 0
    assert counts["casualties"] == 0
    assert counts["stranded"] == 100
    assert not m.roads.open[:, crossing].any()
    assert m.roads.open[:, _road_row(m, "west")].all()


def test_people_on_a_road_when_it_floods_follow_the_documented_rule(layer_city):
    # 3600 people/h: one person per second enters, so at 330 s they stand 1 m apart from x=330 back.
    # The water is judged every 10 s, less than the 38 m deep stretch takes to walk through.
    scn = scenario_from(
        _river_city(layer_city),
        # One depth limit for everyone (0.5 m), so the rule under test is where people stand.
        hazards=[_flood(330, 1.7, update_every=10, casualty_depth_m=0.5, casualty_depth_vulnerable_m=0.5)],
        **_walkers(100),
        **everyone_now(duration="30min"),
    )
    m = EvacuationModel(scn)
    m.advance_to(330)
    x = m.positions(np.arange(m.pop.n), 330.0)[:, 0] - m.city.node_xy[:, 0].min()
    m.run()
    state = m.pop.state
    # Ground = 1 m within 15 m of the river line, then +5 cm per m; level 1.7 m: deeper than 0.5 m
    # exactly where |x - 300| < 15 + (1.2 - 1.0) / 0.05 = 19 m.
    deep = np.abs(x - 300) < 19 - 1.5
    dry = np.abs(x - 300) > 19 + 1.5
    assert deep.sum() > 10
    assert (state[deep] == 3).all()  # casualties where they stood
    ahead = dry & (x > 300) & (x < 350)
    assert ahead.sum() > 5
    assert (state[ahead] == 2).all()  # walked on to the end of the closed road, then to the shelter
    into = dry & (x > 250) & (x < 300)
    assert into.sum() > 5
    assert (state[into] == 3).all()  # walked on into the deep water and were caught there
    behind = dry & (x < 249)
    assert behind.sum() > 5
    assert (state[behind] == 4).all()  # stranded: the crossing was closed when they reached it


def test_cars_are_stopped_at_shallower_water_than_walkers(layer_city):
    # Level 1.2 m: the crossing is 0.2 m deep: closed to cars (0.15 m), open to walkers (0.3 m).
    scn = scenario_from(_river_city(layer_city), hazards=[_flood(0, 1.2)], **_walkers(10), **everyone_now())
    m = EvacuationModel(scn)
    m.advance_to(30)
    crossing = _road_row(m, "crossing")
    assert not m.roads.open[CAR, crossing]
    assert m.roads.open[WALK, crossing]
    ts = m.timeseries()
    assert ts["roads_closed_car"].iloc[-1] > ts["roads_closed_walk"].iloc[-1]


def test_a_road_flooded_before_departure_slows_clearance(layer_city):
    common = {**_walkers(200), **everyone_now(duration="1h")}
    common["alerting"]["departure_delay"] = {"distribution": "fixed", "value": 120}
    dry = EvacuationModel(scenario_from(_river_city(layer_city, detour=True), **common))
    wet = EvacuationModel(scenario_from(_river_city(layer_city, detour=True), hazards=[_flood(0, 1.7)], **common))
    dry.run()
    wet.run()
    t90_dry = np.quantile(dry.pop.arrival_t, 0.9)
    t90_wet = np.quantile(wet.pop.arrival_t, 0.9)
    # Exact: everyone leaves at 120 s and walks 1 m/s; the 180th of 200 (quantile 0.9 lies at
    # 179.1 headways) queues at the first road. Dry: 600 m, the first road takes 3,600 p/h (1 s).
    # Wet: the crossing is closed, the detour is 1,400 m and its first road a 6 m street of
    # 1.225 p/(m s) x (6 - 2 x 0.3) m (docs/movement.md).
    assert t90_dry == pytest.approx(120 + 600 + 179.1 * 1.0, abs=1e-6)
    headway = 1.0 / (min(1.3, critical("weidmann")[1]) * (6.0 - 2 * 0.3))
    assert t90_wet == pytest.approx(120 + 1400 + 179.1 * headway, abs=1e-6)


def test_flooded_area_and_depth_grow_with_the_level(layer_city):
    stages = [{"at": 0, "level_m": 1.0}, {"at": 600, "level_m": 3.0}, {"at": 1200, "level_m": 5.0}]
    scn = scenario_from(
        _river_city(layer_city),
        hazards=[{"type": "flood", "id": "f", "at": 0, "stages": stages, "update_every": 120, "casualty_depth_m": 0.5}],
        **_walkers(5),
        **everyone_now(duration="25min"),
    )
    m = EvacuationModel(scn)
    m.run()
    fp = m.hazard_footprints()
    wet = fp[fp["band"] == "depth>=0.01m"]
    deep = fp[fp["band"] == "depth>=0.5m"]
    assert len(wet) >= 5
    assert np.all(np.diff(wet["area_m2"].to_numpy()) > 0)
    assert np.all(np.diff(deep["area_m2"].to_numpy()) > 0)
    # Deep water lies inside the wet area, and the footprint is in lon/lat.
    last = fp["t_s"].max()
    w = wet[wet["t_s"] == last].geometry.iloc[0]
    d = deep[deep["t_s"] == last].geometry.iloc[0]
    assert w.buffer(1e-6).contains(d)
    assert fp.crs.to_epsg() == 4326
    assert -180 <= w.bounds[0] <= 180


def test_gauge_trigger_orders_the_zone_out_when_the_level_passes(layer_city):
    city = _river_city(layer_city)
    scn = scenario_from(
        city,
        **_walkers(20),
        duration="1h",
        hazards=[
            {
                "type": "flood",
                "id": "f",
                "at": 0,
                "stages": [{"at": 0, "level_m": 0.0}, {"at": 3600, "level_m": 3.0}],
            }
        ],
        network={"sensors": [{"id": "g", "type": "river_gauge", "location": lonlat(300, 0), "every": 60}]},
        alerting={
            "triggers": [{"sensor": "g", "above": 1.5, "id": "auto"}],
            "channels": [{"type": "ideal", "coverage": 1.0}],
            "departure_delay": {"distribution": "fixed", "value": 0},
        },
    )
    m = EvacuationModel(scn)
    m.run()
    ev = m.events()
    fired = ev[ev["kind"] == "trigger_fired"]
    # 1.5 m at 1800 s; the first reading above it is taken at 1860 s and reaches the CCC a few
    # milliseconds later over the fibre.
    assert len(fired) == 1
    assert 1860.0 < fired["t_s"].iloc[0] < 1860.1
    order = ev[(ev["kind"] == "order_issued") & (ev["subject"] == "auto")]
    assert list(order["t_s"]) == list(fired["t_s"])
    ts = m.timeseries().set_index("t_s")
    # The timeseries shows the command centre's view: at 1200 s the reading taken at 1200 s is
    # still on its way, so the last one in is from 1140 s (0.95 m).
    assert ts.loc[1200.0, "sensor:g"] == pytest.approx(0.95)
    assert (m.pop.ordered_t == fired["t_s"].iloc[0]).all()


def test_trigger_on_an_unknown_sensor_is_an_input_error(layer_city):
    scn = scenario_from(
        _river_city(layer_city), alerting={"triggers": [{"sensor": "nope", "above": 1.0}]}, **_walkers(5)
    )
    with pytest.raises(InputError) as err:
        EvacuationModel(scn)
    assert err.value.problems[0][0] == "alerting.triggers.0.sensor"


def test_tsunami_zone_floods_inside_the_zone_only(layer_city):
    zone = {"polygon": [lonlat(200, -50), lonlat(400, -50), lonlat(400, 50), lonlat(200, 50)]}
    scn = scenario_from(
        _river_city(layer_city, detour=True),
        hazards=[{"type": "tsunami", "id": "t", "at": 0, "run_up_m": 2.0, "rise_time": 0, "zone": zone}],
        **_walkers(10),
        **everyone_now(),
    )
    m = EvacuationModel(scn)
    m.advance_to(30)
    for inside in ("west", "crossing", "east"):  # each has an end or its middle in the zone
        assert not m.roads.open[:, _road_row(m, inside)].any(), inside
    for outside in ("d1", "d2", "d3"):
        assert m.roads.open[:, _road_row(m, outside)].all(), outside
    m.run()
    assert m.pop.state_counts()["sheltered"] == 10  # the dry way round


def test_a_city_without_water_needs_a_dem_for_a_flood(layer_city):
    c = layer_city()
    c.road((0, 0), (300, 0), id="r")
    c.shelter("S", (300, 0), 10)
    c.people_at((0, 0), 5)
    scn = scenario_from(c.write(), hazards=[_flood(0, 1.0)])
    with pytest.raises(InputError) as err:
        EvacuationModel(scn)
    assert err.value.problems[0][0] == "city.terrain"


@pytest.mark.parametrize("scenario", ["kotka_river_flood", "coastal_quake_tsunami"])
def test_the_depth_judged_per_node_is_the_depth_at_everyone_exposed(scenario):
    """Issue 20: people at a node take the node's depth; it is the depth at their own position."""
    from sim import api

    model = EvacuationModel(api.load_scenario(api.sample_scenarios()[scenario], ["duration=2h"]))
    water = next(h for h in model.hazards if hasattr(h, "depth_at"))
    checked = 0
    for minutes in (20, 45, 70, 100):
        model.advance_to(minutes * 60.0)
        t = float(model.env.now)
        idx, node, along = model.exposed_citizens()
        at_node = node >= 0
        assert len(along) == int((~at_node).sum())
        everyone = water.depth_at(model.positions(idx, t), t)  # each person's own position
        by_node = np.empty(len(idx))
        by_node[at_node] = water.depth_at(model.city.node_xy, t, water._node_cells)[node[at_node]]
        by_node[~at_node] = water.depth_at(along, t)
        np.testing.assert_array_equal(by_node, everyone)
        checked += int((everyone > 0).sum())
    if scenario == "kotka_river_flood":
        assert checked > 0  # somebody stood in water


@pytest.mark.parametrize("scenario", ["kotka_river_flood", "coastal_quake_tsunami"])
def test_leaving_out_those_at_dry_nodes_catches_the_same_people(scenario, monkeypatch):
    """Issue 20: the water lists only those at wet nodes (and on roads); judging everyone kills the same."""
    from sim import api

    def run() -> tuple[np.ndarray, np.ndarray, list[int]]:
        model = EvacuationModel(api.load_scenario(api.sample_scenarios()[scenario], ["duration=2h"]))
        listed: list[int] = []
        real = model.exposed_citizens

        def counted(wet=None):
            out = real(wet)
            listed.append(len(out[0]))
            return out

        model.exposed_citizens = counted
        model.run()
        return model.pop.state.copy(), model.casualty_cause.copy(), listed

    state, cause, listed = run()
    real = EvacuationModel.exposed_citizens
    monkeypatch.setattr(EvacuationModel, "exposed_citizens", lambda self, wet=None: real(self))  # everyone
    state_all, cause_all, listed_all = run()
    np.testing.assert_array_equal(state, state_all)
    np.testing.assert_array_equal(cause, cause_all)
    assert (cause >= 0).sum() > 0  # the water caught somebody
    assert sum(listed) < sum(listed_all)  # and fewer were looked at


def test_depths_and_footprints_kept_per_level_are_those_made_afresh(layer_city, monkeypatch):
    """Issue 20: depths at roads and nodes, the footprint and each unchanged band's shape are kept."""
    import sim.hazards.water as water_module
    from sim.hazards.water import WaterHazard

    traced = []
    real_polygonize = water_module.polygonize

    def counting(mask, terrain):
        traced.append(int(mask.sum()))
        return real_polygonize(mask, terrain)

    monkeypatch.setattr(water_module, "polygonize", counting)

    stages = [{"at": 0, "level_m": 1.0}, {"at": 1200, "level_m": 1.6}, {"at": 1500, "level_m": 1.6}]
    hazard = {
        "type": "flood",
        "id": "f",
        "at": 0,
        "stages": stages,
        "update_every": 60,
        "until": 2100,
        "casualty_depth_m": 0.3,
    }
    city = _river_city(layer_city)
    city["terrain"]["resolution_m"] = 10  # whole columns of cells flood at once: one band at a time
    scn = scenario_from(city, hazards=[hazard], **_walkers(20), **everyone_now(duration="40min"))
    m = EvacuationModel(scn)
    water = next(h for h in m.hazards if isinstance(h, WaterHazard))
    for minutes in range(1, 40):  # rising, holding, gone at 35 min
        m.advance_to(minutes * 60.0)
        t = float(m.env.now)
        for which, xy, cells in (
            ("roads", water.road_points, water._road_cells),
            ("nodes", m.city.node_xy, water._node_cells),
        ):
            np.testing.assert_array_equal(water._fixed_depth(which, xy, t, cells), water.depth_at(xy, t, cells))
    kept = m.hazard_footprints()
    drawn = kept[kept["band"] != "none"]
    assert len(traced) < len(drawn)  # a band whose cells did not change was not traced again

    original = WaterHazard._record

    def afresh(self, world, t):
        self._recorded_level = None
        self._band_shapes = {}  # every band traced again
        original(self, world, t)

    monkeypatch.setattr(WaterHazard, "_record", afresh)
    m2 = EvacuationModel(scn)
    m2.run()
    fresh = m2.hazard_footprints()
    assert len(kept) >= 3
    assert kept.drop(columns="geometry").equals(fresh.drop(columns="geometry"))
    assert list(kept.geometry.to_wkb()) == list(fresh.geometry.to_wkb())  # gone: no geometry in both
