"""The public control surface, sim.api.Simulation: clock, operator actions, truth vs command view."""

from __future__ import annotations

import pandas as pd
import pytest

from sim import api

KOTKA = api.sample_scenarios()["kotka_district_evacuation"]


def _sim(name: str = "kotka_district_evacuation", *overrides: str) -> api.Simulation:
    return api.Simulation(api.load_scenario(api.sample_scenarios()[name], list(overrides)))


def test_stepping_without_actions_gives_the_same_run():
    scenario = api.load_scenario(KOTKA, ["duration=30min"])
    sim = api.Simulation(scenario)
    assert sim.now == 0.0
    sim.advance_to(600)
    assert sim.now == 600.0
    sim.step()
    assert sim.now == 600.0 + scenario.step
    driven = sim.result()
    plain = api.run(scenario)
    pd.testing.assert_frame_equal(driven.timeseries, plain.timeseries)
    assert driven.summary["evacuation"] == plain.summary["evacuation"]


def test_operator_actions_act_at_the_current_time_and_show_in_the_truth():
    sim = _sim("kotka_district_evacuation", "duration=40min")
    sim.advance_to(300)
    before = sim.truth()
    assert before["t_s"] == 300.0
    newly = sim.issue_order("all", channels=["siren", "cell_broadcast"])
    assert newly > 10_000  # the sample ordered only C1 and C2 so far
    centre = (26.95, 60.53)
    sim.open_shelter("field-hall", location=centre, capacity=500)
    assert sim.truth()["shelters"]["field-hall"] == {
        "name": "field-hall",
        "present": 0,
        "capacity": 500,
        "open": True,
        "lon": 26.95,
        "lat": 60.53,
    }
    sim.close_shelter("field-hall")
    assert sim.truth()["shelters"]["field-hall"]["open"] is False
    closed = sim.close_road(area={"center": list(centre), "radius_m": 300})
    assert closed > 0
    assert sim.truth()["roads_closed"] >= closed
    assert sim.reopen_road(area={"center": list(centre), "radius_m": 300}) == closed
    sim.isolate_device("camera-1")
    sim.inject_hazard({"type": "power_outage", "until": 2000})
    sim.inject_attack({"type": "ddos", "target": "COC", "rate_rps": 100000, "duration": 600})
    sim.advance_to(900)
    result = sim.result()
    ev = result.events
    order = ev[(ev["kind"] == "order_issued") & (ev["subject"] == "operator")]
    assert list(order["t_s"]) == [300.0]
    assert list(ev.loc[ev["kind"] == "power_cut", "t_s"].unique()) == [300.0]  # now, not 2 x now
    assert list(ev.loc[ev["kind"] == "attack_started", "t_s"]) == [300.0]
    assert list(ev.loc[(ev["kind"] == "device_isolated"), "subject"]) == ["camera-1"]
    with pytest.raises(api.InputError, match="the simulation has ended"):
        sim.issue_order("all")


def test_the_command_centre_sees_reports_and_spoofed_readings_not_the_truth():
    sim = _sim("cyber_spoofed_gauge", "duration=40min")
    sim.advance_to(22 * 60)  # the attacker has sent fake readings (2.8 m) since 20 min
    truth, seen = sim.truth(), sim.command_view()
    received = [v for _, v in seen["readings"]["kymijoki-gauge"]]
    assert 2.8 in received
    assert 0.0 in received  # the real gauge still reports too
    assert truth["sensors"]["kymijoki-gauge"] == 0.0
    # Shelter counts: the command centre has the last report, the truth is now.
    reported = {k: v["reported"] for k, v in seen["shelters"].items()}
    present = {k: v["present"] for k, v in truth["shelters"].items()}
    assert set(reported) == set(present)
    assert any(reported[k] != present[k] for k in present)
    assert all(v["reported_at_s"] is None or v["reported_at_s"] <= sim.now for v in seen["shelters"].values())
    assert "people" not in seen  # no ground truth in the command view


def test_bad_actions_name_the_field():
    sim = _sim("kotka_district_evacuation", "duration=20min")
    with pytest.raises(api.InputError) as err:
        sim.inject_hazard({"type": "flood"})
    assert err.value.lines()[0].startswith("hazard.stages: ")
    with pytest.raises(api.InputError, match=r"action\.id: no device has id 'nope'"):
        sim.isolate_device("nope")
    with pytest.raises(api.InputError, match=r"action\.shelter"):
        sim.close_shelter("nope")


def test_an_attack_injected_mid_run_tampers_with_the_reports_the_command_centre_gets():
    """Attacks act through the engine's hooks, so one injected during a run works like one in the file."""
    sim = _sim("kotka_district_evacuation", "duration=50min")
    sim.advance_to(20 * 60)
    shelters = sim.truth()["shelters"]
    target = max(shelters, key=lambda k: shelters[k]["present"])
    sim.inject_attack({"type": "spoofing", "mode": "tamper_counts", "target": target, "factor": 3.0})
    sim.advance_to(40 * 60)
    seen = sim.command_view()["shelters"][target]
    present = sim.truth()["shelters"][target]["present"]
    assert seen["reported_at_s"] > 20 * 60
    assert seen["reported"] > present  # three times a count taken at most one report interval ago
    assert seen["reported"] % 3 == 0
