"""The schema and the one loader: durations, overrides, strictness, field-named errors."""

from __future__ import annotations

import pytest

from sim.core.errors import InputError
from sim.core.units import parse_duration
from sim.scenario import dump_yaml, load_scenario
from sim.scenario.loader import apply_override, parse_yaml


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        (3600, 3600.0),
        ("90s", 90.0),
        ("15min", 900.0),
        ("6h", 21600.0),
        ("1h30min", 5400.0),
        ("2.5", 2.5),
        ("1d", 86400.0),
        (0, 0.0),
    ],
)
def test_durations(text, seconds):
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("bad", ["abc", "-5", "5 parsecs", True, None, [], float("inf"), -1])
def test_bad_durations(bad):
    with pytest.raises(ValueError):
        parse_duration(bad)


def _problems(data, overrides=()):
    with pytest.raises(InputError) as err:
        load_scenario(data, overrides)
    return err.value.lines()


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (
            {"shelters": [{"id": "a"}, {"id": "b"}, {"id": "c", "capacity": -5}]},
            "shelters.2.capacity: must be >= 0, got -5",
        ),
        ({"colour": "red"}, "colour: unknown key"),
        ({"population": {"count": "many"}}, "population.count: must be a whole number"),
        ({"population": {"mode_share": {"walk": 0.5, "car": 0.4}}}, "population.mode_share: walk + car must sum to 1"),
        ({"duration": "soon"}, "duration: cannot read 'soon' as a duration"),
        ({"hazards": [{"type": "meteor"}]}, "hazards.0: unknown 'type' 'meteor'"),
        ({"hazards": [{"type": "road_closure", "at": 0}]}, "hazards.0: name the roads to close"),
        ({"city": {"osm": "missing.osm.pbf"}}, "city.osm: file not found"),
        ({"city": {"builtin": "atlantis"}}, "city.builtin: must be one of"),
        ({"city": {"builtin": "kotka", "synthetic": {}}}, "city: give exactly one city source"),
        (
            {"alerting": {"channels": [{"type": "siren", "coverage": 1.5}]}},
            "alerting.channels.0.coverage: must be <= 1",
        ),
        ({"alerting": {"orders": [{"at": 0, "zone": 7}]}}, "alerting.orders.0.zone: must be 'all'"),
        ({"alerting": {"departure_delay": {"distribution": "gamma"}}}, "alerting.departure_delay: unknown"),
        ({"step": 120}, "step: must be <= 60"),
        ({"seed": -1}, "seed: must be >= 0"),
        # Issues 18 and 19's new inputs.
        (
            {
                "alerting": {
                    "channels": [{"type": "siren", "coverage": 0.5}, {"type": "radio", "coverage": 1, "id": "siren"}]
                }
            },
            "alerting: channel ids must be unique, repeated: siren",
        ),
        ({"alerting": {"channels": [{"type": "siren", "coverage": 0.5, "id": "a b"}]}}, "alerting.channels.0.id:"),
        ({"movement": {"vehicle_spacing_m": 0}}, "movement.vehicle_spacing_m: must be >= 4"),
        ({"movement": {"storage": "maybe"}}, "movement.storage:"),
        ({"population": {"children_share": 0.5}}, "population: children_share (0.5) cannot exceed"),
        ({"population": {"shadow_share": 1.5}}, "population.shadow_share: must be <= 1"),
        (
            {"hazards": [{"type": "earthquake", "epicentre": [26.9, 60.4], "magnitude": 7, "site_class": "F"}]},
            "hazards.0.site_class: must be one of",
        ),
        (
            {"hazards": [{"type": "earthquake", "epicentre": [26.9, 60.4], "magnitude": 7, "sigma": -0.1}]},
            "hazards.0.sigma: must be >= 0",
        ),
        (
            {"hazards": [{"type": "flood", "stages": [{"at": 0, "level_m": 1}], "source": [[500, 60]]}]},
            "hazards.0.source.0.0: must be <= 180",
        ),
    ],
)
def test_invalid_values_name_the_field(data, expected):
    lines = _problems(data)
    assert any(line.startswith(expected) for line in lines), lines


def test_every_problem_is_reported_at_once():
    lines = _problems({"seed": -1, "step": 0, "unknown": 1})
    assert len(lines) == 3


def test_defaults_are_filled_and_resolved_dump_reloads():
    s = load_scenario({})
    assert s.city.builtin == "kotka"
    assert s.step <= 10
    again = load_scenario(parse_yaml(dump_yaml(s)))
    assert again == s


def test_overrides_by_dotted_path_and_list_index():
    s = load_scenario(
        {"shelters": [{"id": "a", "capacity": 1, "location": [26.95, 60.52]}]},
        ["population.count=20000", "shelters.0.capacity=50", "alerting.orders=[{at: 5min, zone: all}]", "duration=2h"],
    )
    assert s.population.count == 20000
    assert s.shelters[0].capacity == 50
    assert s.alerting.orders[0].at == 300
    assert s.duration == 7200


@pytest.mark.parametrize(
    ("override", "expected"),
    [
        ("cyber.0.rate_rps=50000", "cyber.0: no item 0"),
        ("population.count=-3", "population.count: must be >= 1"),
        ("nonsense", "--set: expected PATH=VALUE"),
        ("population..count=1", "--set: empty part"),
        ("seed.x=1", "seed.x: cannot set a key inside a value that is not a mapping"),
    ],
)
def test_bad_overrides(override, expected):
    lines = _problems({"seed": 5}, [override])
    assert any(line.startswith(expected) for line in lines), lines


def test_override_creates_missing_sections():
    data: dict = {}
    apply_override(data, "population.walk_speed_mps.mean=1.2")
    assert data == {"population": {"walk_speed_mps": {"mean": 1.2}}}


def test_yaml_is_loaded_safely_and_duplicates_rejected(tmp_path):
    bad = tmp_path / "dup.yaml"
    bad.write_text("seed: 1\nseed: 2\n")
    with pytest.raises(InputError) as err:
        load_scenario(bad)
    assert "duplicate key 'seed'" in str(err.value)
    evil = tmp_path / "evil.yaml"
    evil.write_text("name: !!python/object/apply:os.system ['echo hi']\n")
    with pytest.raises(InputError) as err:
        load_scenario(evil)
    assert err.value.problems[0][0] == "scenario"


def test_relative_paths_resolve_against_the_scenario_folder(tmp_path):
    (tmp_path / "maps").mkdir()
    (tmp_path / "maps" / "roads.geojson").write_text('{"type": "FeatureCollection", "features": []}')
    f = tmp_path / "s.yaml"
    f.write_text("city: {roads: maps/roads.geojson}\n")
    s = load_scenario(f)
    assert s.city.roads == (tmp_path / "maps" / "roads.geojson").resolve()


def test_union_tags_come_from_the_schema():
    from sim.scenario.loader import _KNOWN_TAGS

    assert {"road_closure", "shelter_closure", "fixed", "lognormal", "weibull"} <= _KNOWN_TAGS
    lines = _problems({"hazards": [{"type": "shelter_closure", "at": "later", "shelters": ["a"]}]})
    assert lines == ["hazards.0.at: cannot read 'later' as a duration (examples: 3600, '90s', '15min', '6h')"]
