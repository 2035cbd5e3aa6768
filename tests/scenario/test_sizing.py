"""A run's memory need from its scenario, and the warning when the machine has less (sim/scenario/sizing.py)."""

from __future__ import annotations

import pytest

from sim.city.build import build_city
from sim.scenario import load_scenario
from sim.scenario.sizing import BASE_BYTES, PER_CITIZEN_BYTES, PER_SEGMENT_BYTES, memory_warning, run_size

LARGE = "scenarios/synthetic_large_city.yaml"


@pytest.mark.parametrize(("area", "block"), [(1.0, 120.0), (4.0, 100.0), (2.5, 60.0)])
def test_a_synthetic_citys_segments_are_its_full_grid_less_a_few(area, block):
    scn = load_scenario(LARGE, [f"city.synthetic.area_km2={area}", f"city.synthetic.block_m={block}",
                                "city.synthetic.population=500"])  # fmt: skip
    size = run_size(scn)
    assert size is not None
    built = build_city(scn.city).n_roads
    assert 0.8 * size.road_segments <= built <= size.road_segments  # the river drops some, never adds


def test_where_the_citizens_come_from():
    scn = load_scenario(LARGE, ["city.synthetic.population=300000"])
    size = run_size(scn)
    assert (size.field, size.citizens) == ("city.synthetic.population", 300_000)
    assert size.peak_bytes == BASE_BYTES + PER_CITIZEN_BYTES * 300_000 + PER_SEGMENT_BYTES * size.road_segments
    scaled = run_size(load_scenario(LARGE, ["population.count=40000"]))
    assert (scaled.field, scaled.citizens) == ("population.count", 40_000)  # the count wins over the city's
    kotka = load_scenario("scenarios/kotka_district_evacuation.yaml")
    assert run_size(kotka) is None  # a real city's people are in its data: no estimate before it is read
    kotka_scaled = run_size(load_scenario("scenarios/kotka_district_evacuation.yaml", ["population.count=2000000"]))
    assert (kotka_scaled.field, kotka_scaled.citizens, kotka_scaled.road_segments) == ("population.count", 2_000_000, 0)


def test_the_warning_names_the_field_and_the_amounts_and_only_when_short():
    scn = load_scenario(LARGE, ["city.synthetic.population=5000000", "city.synthetic.area_km2=1500"])
    need = run_size(scn).peak_bytes
    assert memory_warning(scn, None) is None  # unknown machine: nothing said
    assert memory_warning(scn, need) is None  # just enough
    field, text = memory_warning(scn, need - 1)
    assert field == "city.synthetic.population"
    assert text.startswith("a run of 5,000,000 citizens and about ")
    assert f"needs about {need / 1e9:.1f} GB" in text
    assert f"has {(need - 1) / 1e9:.1f} GB available" in text
    assert memory_warning(scn, 2 * need - 1, processes=2)[1].startswith("2 runs side by side of 5,000,000 citizens")
    assert memory_warning(scn, 2 * need, processes=2) is None
