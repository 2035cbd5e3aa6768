"""Layers that are valid files but impossible cities: refused with the feature named."""

from __future__ import annotations

import pytest

from sim.core.errors import InputError
from sim.engine.model import EvacuationModel
from tests.conftest import everyone_now, lonlat, scenario_from


def _city(layer_city, *, count=40, capacity=30, shelter_at=(0, 400), people_at=(0, 0)):
    return layer_city().road((0, 0), (0, 400)).people_at(people_at, count).shelter("S1", shelter_at, capacity).write()


def _build_problems(city, **parts):
    with pytest.raises(InputError) as err:
        EvacuationModel(scenario_from(city, **everyone_now(**parts)))
    return err.value.lines()


def test_a_population_point_of_a_trillion_is_refused(layer_city):
    lines = _build_problems(_city(layer_city, count=1e12))
    assert lines == ["city.population.0.count: must be <= 5e+06, got 1e+12"]


def test_a_population_layer_over_the_cap_in_total_is_refused(layer_city):
    c = layer_city().road((0, 0), (0, 400)).shelter("S1", (0, 400), 30)
    for i in range(3):
        c.people_at((0, 100 * i), 2_000_000)
    lines = _build_problems(c.write())
    assert lines == ["city.population: the layer holds 6,000,000 people; at most 5,000,000"]


def test_a_population_layer_of_zeros_is_refused(layer_city):
    assert _build_problems(_city(layer_city, count=0)) == [
        "city.population: every count is 0: nobody lives in this city"
    ]


def test_a_shelter_capacity_beyond_any_building_is_refused(layer_city):
    lines = _build_problems(_city(layer_city, capacity=1e300))
    assert lines == ["city.shelters.0.capacity: must be <= 1e+06, got 1e+300"]


def test_points_far_from_every_road_are_refused_naming_the_feature(layer_city):
    lines = _build_problems(_city(layer_city, people_at=(5000, 0)))
    assert lines == ["city.population.0: is 5,000 m from the nearest road; at most city.snap_max_m = 500 m"]
    lines = _build_problems(_city(layer_city, shelter_at=(0, 100_000)))
    assert lines == ["city.shelters.0: is 99,600 m from the nearest road; at most city.snap_max_m = 500 m"]


def test_scenario_shelters_and_sensors_far_from_roads_are_refused(layer_city):
    city = _city(layer_city)
    lines = _build_problems(city, shelters=[{"id": "far", "capacity": 10, "location": lonlat(2000, 0)}])
    assert lines == ["shelters.0.location: is 2,000 m from the nearest road; at most city.snap_max_m = 500 m"]
    sensor = {"id": "g", "type": "river_gauge", "location": lonlat(0, 3000)}
    lines = _build_problems(city, network={"sensors": [sensor]})
    assert lines == ["network.sensors.0.location: is 2,600 m from the nearest road; at most city.snap_max_m = 500 m"]


def test_snap_max_m_is_the_users_to_widen(layer_city):
    city = _city(layer_city, people_at=(600, 0))
    model = EvacuationModel(scenario_from({**city, "snap_max_m": 1000}, **everyone_now()))
    assert model.pop.n == 40
