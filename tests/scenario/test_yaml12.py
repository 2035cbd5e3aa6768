"""YAML without surprises: plain scalars mean what a planner typed (YAML 1.2), duplicate keys are errors."""

from __future__ import annotations

import pytest

from sim.core.errors import InputError
from sim.scenario.loader import load_scenario, parse_yaml

BASE = "city: {builtin: kotka}\n"


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("1:30", "1:30"),  # YAML 1.1: the number 90
        ("no", "no"),  # YAML 1.1: False
        ("on", "on"),  # YAML 1.1: True
        ("Yes", "Yes"),
        ("0o17", "0o17"),
        ("017", "017"),  # YAML 1.1: octal 15
        ("0x1F", "0x1F"),
        ("1_000", "1_000"),
        ("2026-05-01", "2026-05-01"),  # YAML 1.1: a date object
        ("true", True),
        ("false", False),
        ("12", 12),
        ("-3.5", -3.5),
        ("1e3", 1000.0),  # YAML 1.1 (PyYAML): the text '1e3'
        ("null", None),
        ("~", None),
    ],
)
def test_plain_scalars_follow_yaml_1_2(text, value):
    got = parse_yaml(f"a: {text}")["a"]
    assert got == value
    assert type(got) is type(value)


def test_a_duration_typed_as_h_mm_is_hours_and_minutes_not_sexagesimal_seconds():
    s = load_scenario(parse_yaml(BASE + "duration: 1:30\nstep: 1e1\n"))
    assert s.duration == 5400.0  # YAML 1.1 would have read 1:30 as 90 seconds
    assert s.step == 10.0
    assert load_scenario(parse_yaml(BASE + "duration: 1:30:15\n")).duration == 5415.0


def test_names_that_yaml_1_1_would_have_turned_into_booleans_or_numbers_stay_names():
    s = load_scenario(
        parse_yaml(
            BASE
            + "name: no\n"
            + "shelters:\n"
            + "  - {id: on, location: [26.95, 60.53], capacity: 10}\n"
            + "  - {id: 0o17, location: [26.94, 60.53], capacity: 5}\n"
        )
    )
    assert s.name == "no"
    assert [x.id for x in s.shelters] == ["on", "0o17"]


def test_duplicate_keys_stay_errors():
    with pytest.raises(InputError, match="duplicate key 'duration'"):
        parse_yaml(BASE + "duration: 1h\nduration: 2h\n")
