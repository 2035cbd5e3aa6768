"""``run_scenario`` is pure and usable from another process; outputs carry no personal data."""

from __future__ import annotations

import multiprocessing as mp
from concurrent.futures import ProcessPoolExecutor

import pandas as pd

from sim.experiments.runner import run_scenario
from sim.scenario import load_scenario
from tests.conftest import everyone_now

SCENARIO = {
    "name": "pure",
    "seed": 9,
    "duration": "30min",
    "city": {"synthetic": {"area_km2": 1, "population": 1500, "shelters": 5}},
    **everyone_now(alerting={"departure_delay": {"distribution": "exponential", "mean": 300}}),
}


def _run_in_child(data: dict) -> dict:
    return run_scenario(load_scenario(data)).summary


def test_run_scenario_gives_the_same_result_in_a_spawned_process():
    here = run_scenario(load_scenario(SCENARIO))
    with ProcessPoolExecutor(max_workers=1, mp_context=mp.get_context("spawn")) as pool:
        there = pool.submit(_run_in_child, SCENARIO).result(timeout=300)
    assert there == here.summary


def test_outputs_carry_pseudonyms_and_no_personal_fields():
    res = run_scenario(load_scenario(SCENARIO))
    personal = {
        "age",
        "age_group",
        "limited_mobility",
        "walk_speed_mps",
        "has_phone",
        "household",
        "home_node",
        "digital_id",
        "household_car",
        "index",
    }
    for table in (res.timeseries, res.events, res.tracks, *res.tables.values()):
        assert not personal & set(table.columns)
    ids = res.tracks["citizen"].astype(str)
    assert ids.str.fullmatch(r"T[0-9a-f]{16}").all()
    assert not ids.str.fullmatch(r"\d+").any()
    # Pseudonyms do not follow the citizens' row order.
    first = res.tracks[res.tracks["t_s"] == 0]["citizen"].tolist()
    assert first != sorted(first)
    assert isinstance(res.summary, dict)
    assert pd.Series(first).is_unique
