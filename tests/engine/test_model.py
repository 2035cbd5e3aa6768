"""Driving the engine from outside: advance, operator actions, injected events."""

from __future__ import annotations

import numpy as np
import pytest

from sim.core.errors import InputError
from sim.engine.model import EvacuationModel
from sim.scenario import load_scenario
from sim.scenario.hazards import ShelterClosureConfig
from tests.conftest import everyone_now, scenario_from


def _city(layer_city):
    c = layer_city().road((0, 0), (0, 300), id="north")
    for k in range(10):  # the southern way in 90 m segments: people can turn round at each node
        c.road((0, -90 * k), (0, -90 * (k + 1)), id=f"south{k}")
    return c.people_at((0, 0), 50).shelter("N", (0, 300), 100).shelter("S", (0, -900), 100).write()


def test_advance_step_and_clock(layer_city):
    scn = scenario_from(_city(layer_city), population={"count": 50}, **everyone_now())
    m = EvacuationModel(scn)
    assert m.now == 0
    m.step()
    assert m.now == scn.step
    m.advance_to(600)
    assert m.now == 600
    m.advance_to(300)  # time never goes back
    assert m.now == 600
    m.advance_to(10 * scn.duration)
    assert m.now == scn.duration


def test_operator_closes_a_shelter_and_people_go_elsewhere(layer_city):
    parts = {"population": {"count": 50, "walk_speed_mps": {"mean": 1.0, "sd": 0}}, **everyone_now()}
    m = EvacuationModel(scenario_from(_city(layer_city), **parts))
    m.advance_to(60)
    m.close_shelter("N")
    m.run()
    occ = {s.shelter_id: s.occupancy for s in m.shelters}
    assert occ["N"] == 0
    assert occ["S"] == 50
    ev = m.events()
    assert ((ev["kind"] == "shelter_closed") & (ev["subject"] == "N") & (ev["t_s"] == 60)).any()


def test_operator_opens_a_new_shelter(layer_city):
    parts = {"population": {"count": 50, "walk_speed_mps": {"mean": 1.0, "sd": 0}}, **everyone_now()}
    m = EvacuationModel(scenario_from(_city(layer_city), shelters=[{"id": "N", "open": False}], **parts))
    m.advance_to(30)
    from tests.conftest import lonlat

    m.open_shelter("NEW", capacity=60, location=tuple(lonlat(0, 300)))
    m.run()
    occ = {s.shelter_id: s.occupancy for s in m.shelters}
    assert occ["NEW"] == 50  # the new one is nearer than S for everyone still walking
    # Everyone inside is drawn at the new shelter, which did not exist when the run started.
    inside = np.nonzero(m.pop.shelter == len(m.shelters) - 1)[0]
    np.testing.assert_allclose(
        m.positions(inside, m.now), m.city.xy_of_lonlat(np.array([lonlat(0, 300)])).repeat(len(inside), axis=0)
    )
    with pytest.raises(InputError):
        m.open_shelter("OTHER")


def test_operator_order_and_road_closure(layer_city):
    scn = scenario_from(
        _city(layer_city),
        population={"count": 50},
        alerting={
            "channels": [{"type": "ideal", "coverage": 1.0}],
            "departure_delay": {"distribution": "fixed", "value": 0},
        },
    )
    m = EvacuationModel(scn)
    m.advance_to(100)
    assert m.pop.state_counts()["at_home"] == 50  # no order yet
    assert m.close_road(ids=["north"]) == 1
    assert m.issue_order("all") == 50
    m.run()
    occ = {s.shelter_id: s.occupancy for s in m.shelters}
    assert occ == {"N": 0, "S": 50}
    assert float(np.nanmin(m.pop.ordered_t)) == 100.0


def test_injected_hazard_acts_on_the_running_simulation(layer_city):
    parts = {"population": {"count": 50, "walk_speed_mps": {"mean": 1.0, "sd": 0}}, **everyone_now()}
    m = EvacuationModel(scenario_from(_city(layer_city), **parts))
    m.advance_to(20)
    m.inject_hazard(ShelterClosureConfig(type="shelter_closure", at=20, shelters=["N"]))
    m.run()
    assert {s.shelter_id: s.occupancy for s in m.shelters}["N"] == 0
    with pytest.raises(InputError):
        m.inject_hazard(ShelterClosureConfig(type="shelter_closure", at=20, shelters=["nope"]))


def test_unknown_district_in_an_order_is_an_input_error():
    scn = load_scenario({"alerting": {"orders": [{"at": 0, "zone": ["A1", "Q7"]}]}})
    with pytest.raises(InputError) as err:
        EvacuationModel(scn)
    assert err.value.problems[0][0] == "alerting.orders.0.zone"
    assert "Q7" in err.value.problems[0][1]


def test_closures_with_until_reopen(layer_city):
    parts = {"population": {"count": 50, "walk_speed_mps": {"mean": 1.0, "sd": 0}}, **everyone_now()}
    m = EvacuationModel(
        scenario_from(
            _city(layer_city),
            hazards=[
                {"type": "road_closure", "at": 0, "until": 600, "ids": ["north"], "id": "cordon"},
                {"type": "shelter_closure", "at": 0, "until": 300, "shelters": ["S"]},
            ],
            **parts,
        )
    )
    m.advance_to(100)
    assert not m.roads.open[:, np.nonzero(m.city.roads["road_id"].to_numpy() == "north")[0]].any()
    assert m.pop.state_counts()["stranded"] == 50  # north road closed, south shelter closed: nowhere to go
    m.run()
    ev = m.events()
    kinds = dict(zip(ev["kind"], ev["t_s"], strict=False))
    assert kinds["road_reopened"] == 600
    assert kinds["shelter_opened"] == 300
    assert m.pop.state_counts()["sheltered"] == 50  # everyone got going once a way opened


def test_intact_assets_are_the_assets_table_without_the_damaged_and_the_kinds_left_out():
    m = EvacuationModel(load_scenario("scenarios/kotka_district_evacuation.yaml", ["duration=10min"]))
    table = m.assets()
    rng = np.random.default_rng(3)
    hit = table["id"][rng.random(len(table)) < 0.3].tolist()
    m.fail_assets(hit, cause="test")
    for but in ((), ("sensor",), ("sensor", "siren")):
        table = m.assets()
        expect = table[~table["damaged"] & ~table["kind"].isin(but)]
        ids, xy = m.intact_assets(but=but)
        assert ids == expect["id"].tolist()
        np.testing.assert_array_equal(xy, expect[["x", "y"]].to_numpy())
    assert len(m.intact_assets()[0]) == len(table) - len(set(hit))
