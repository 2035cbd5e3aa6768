"""Forms in a planner's words, and a city of one's own that runs end to end."""

from __future__ import annotations

import pandas as pd

from sim import api
from tests.experiments.test_cli import small_city
from ui import labels
from ui.pages.scenario_page import AREA_ZONE, _orders_table, _read_orders

SECTIONS = ("population", "network", "defenses", "shelter_operations")


def test_every_form_field_has_words_and_a_unit_from_one_table():
    for section in SECTIONS:
        for f in api.form_fields(section):
            key = f"{section}.{f['key']}"
            assert key in labels.FIELDS, key
            label = labels.FIELDS[key]
            assert "_" not in label.text, key
            if f["kind"] == "float" and f["min"] == 0.0 and f["max"] == 1.0:
                assert label.unit == "%", key  # shares are percentages
            if f["kind"] == "duration":
                assert label.unit in ("h:mm", "h:mm:ss"), key


def test_clock_and_people_formats():
    assert labels.clock(5400) == "1:30"
    assert labels.clock(330, with_seconds=True) == "0:05:30"
    assert labels.people(13402) == "13,402"
    assert api.parse_duration(labels.clock(5400)) == 5400


def test_orders_round_trip_through_the_table():
    data = {
        "alerting": {
            "orders": [
                {"at": 0.0, "zone": "all"},
                {"at": 900.0, "zone": ["C1", "C2"], "channels": ["siren"]},
                {"at": 1800.0, "zone": {"bbox": [26.9, 60.4, 27.0, 60.5]}},
            ]
        }
    }
    table = _orders_table(data)
    assert list(table["time"]) == ["0:00", "0:15", "0:30"]
    assert list(table["zone"]) == ["everyone", "C1, C2", AREA_ZONE]
    table.loc[0, "zone"] = "B2"
    table.loc[1, "time"] = "1:05"
    problems: list = []
    orders = _read_orders(data, table, problems)
    assert problems == []
    assert orders[0] == {"at": 0.0, "zone": "B2"}
    assert orders[1] == {"at": 3900.0, "zone": ["C1", "C2"], "channels": ["siren"]}
    assert orders[2]["zone"] == {"bbox": [26.9, 60.4, 27.0, 60.5]}  # an area stays as it was
    table.loc[2, "time"] = "half past"
    _read_orders(data, pd.DataFrame(table), problems)
    assert problems[0][0] == "alerting.orders.2.at"


def test_own_city_drops_what_named_the_old_city_and_runs(layer_city):
    city = small_city(layer_city)
    old = api.resolved_dict(api.load_scenario(api.sample_scenarios()["cyber_ddos_coc_flood"]))
    assert old["hazards"]
    assert old["cyber"]
    data, notes = api.rebase_on_city(old, city)
    assert data["hazards"] == []
    assert data["cyber"] == []
    assert [o["zone"] for o in data["alerting"]["orders"]] == ["all"]
    assert data["alerting"]["triggers"] == []  # they named the old city's river gauge
    assert any("hazards" in n for n in notes)
    assert any("attacks" in n for n in notes)
    scenario = api.scenario_from_dict({**data, "duration": "20min"})
    result = api.run(scenario)
    assert result.summary["population"] == 40
    assert result.summary["evacuation"]["sheltered"] > 0


def _summary(**ev):
    base = {"ordered": 1000, "sheltered": 900, "not_departed": 70, "t50_s": 600.0, "t90_s": 1800.0, "t95_s": None}
    return {"evacuation": {**base, **ev}, "alerts": {"reach_fraction": 0.93}}


def test_not_reached_says_why():
    from ui.components import not_reached, stayed_home

    assert not_reached(_summary(), 95) == "93 % were warned; T95 needs 95 %"
    s = _summary()
    s["alerts"]["reach_fraction"] = 0.99
    assert not_reached(s, 95) == "90 % reached a shelter by the end; T95 needs 95 %"
    assert stayed_home(_summary()) == (70, 70, 0)
    s = _summary(not_departed=100)
    assert stayed_home(s) == (100, 70, 30)


def test_comparison_table_is_readable():
    from ui.pages.compare_page import comparison_table

    a, b = _summary(), _summary(sheltered=12345, t95_s=3000.0)
    table = comparison_table({"a very long run name that would be cut": a, "another long one": b})
    assert list(table.columns) == ["A", "B", "B − A"]
    row = table.loc["In shelters at the end (people)"]
    assert list(row) == ["900", "12,345", "+11,445"]
    assert list(table.loc["95 % in shelters (T95) (min)"]) == ["not reached", "50", "-"]


def test_pages_never_import_each_other_and_kpi_words_live_in_one_place():
    from pathlib import Path

    ui = Path(__file__).resolve().parents[2] / "ui"
    for page in (ui / "pages").glob("*.py"):
        assert "from ui.pages" not in page.read_text(), page.name
    for f in labels.FIGURES:
        users = [p.name for p in ui.rglob("*.py") if f'"{f.text}"' in p.read_text()]
        assert users == ["labels.py"], (f.text, users)
