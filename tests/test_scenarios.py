"""Every sample scenario validates, runs (shortened) and reproduces its recorded KPIs.

After a deliberate change of the model, regenerate the records with
``UPDATE_GOLDEN=1 ./run.sh test tests/test_scenarios.py`` and review the diff.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from sim.api import sample_scenarios
from sim.experiments.runner import run_scenario
from sim.scenario import load_scenario

GOLDEN = Path(__file__).parent / "golden"
# Short versions that keep each scenario's character but run in seconds.
SHORTEN = {
    "synthetic_large_city": ["duration=45min", "city.synthetic.population=8000", "city.synthetic.area_km2=9"],
    "kotka_river_flood": ["duration=80min"],  # past the gauge trigger at 45 min
    "kotka_flood_shared_network": ["duration=80min"],
    "kotka_flood_separate_network": ["duration=80min"],
    "cyber_ddos_coc_flood": ["duration=80min"],
    "kotka_flood_locating": ["duration=80min"],
    "cyber_camera_takeover_segmented": ["duration=75min"],
    "cyber_camera_takeover_misconfigured": ["duration=75min"],
    "cyber_registry_theft_encrypted": ["duration=75min"],
    "cyber_registry_theft_plain": ["duration=75min"],
}
DEFAULT_SHORTEN = ["duration=45min"]


def test_there_are_sample_scenarios():
    names = set(sample_scenarios())
    assert {
        "kotka_district_evacuation",
        "kotka_riverside_flood_order",
        "kotka_river_flood",
        "coastal_quake_tsunami",
        "synthetic_large_city",
        "kotka_flood_shared_network",
        "kotka_flood_separate_network",
        "kotka_shelter_operations",
        "cyber_ddos_coc_flood",
        "cyber_camera_takeover_segmented",
        "cyber_camera_takeover_misconfigured",
        "cyber_registry_theft_encrypted",
        "cyber_registry_theft_plain",
        "cyber_spoofed_gauge",
        "kotka_flood_locating",
    } <= names


@pytest.mark.parametrize("name", sorted(sample_scenarios()))
def test_sample_scenario_reproduces_its_kpis(name):
    path = sample_scenarios()[name]
    scenario = load_scenario(path, SHORTEN.get(name, DEFAULT_SHORTEN))
    result = run_scenario(scenario)
    keys = ("population", "evacuation", "alerts", "hazards", "services", "shelter_operations", "cyber", "location")
    got = {k: result.summary[k] for k in (*keys, "relatives_notified_fraction")}
    got["shelters_used"] = sum(1 for s in result.summary["shelters"].values() if s["peak_occupancy"] > 0)
    got["events"] = result.events["kind"].value_counts().sort_index().to_dict()
    record = GOLDEN / f"{name}.json"
    if os.environ.get("UPDATE_GOLDEN") or not record.exists():
        record.write_text(json.dumps(got, indent=2, sort_keys=True) + "\n")
        if not os.environ.get("UPDATE_GOLDEN"):
            pytest.fail(f"recorded new golden KPIs in {record}; review and commit them")
    expected = json.loads(record.read_text())
    assert json.loads(json.dumps(got)) == expected
