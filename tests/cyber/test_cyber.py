"""Cyberattacks and defenses: queue theory, lateral movement, theft, spoofing, detection, baseline."""

from __future__ import annotations

import json

import numpy as np
import pytest

from sim.api import sample_scenarios
from sim.cyber.queueing import mm1_response, mm1k_loss, mm1k_response, simulate_queue
from sim.engine.model import EvacuationModel
from sim.experiments.runner import collect_results
from sim.metrics.figures import CyberRecord, channel_figures, cyber_figures
from sim.metrics.timelines import service_timeline
from sim.scenario import load_scenario
from tests.experiments.test_cli import _assert_invalid, sim, write_scenario


def _cyber(model) -> dict:
    """The summary's cyber block, computed as the runner does (sim.metrics)."""
    return cyber_figures(CyberRecord(**model.recorder.cyber_record()))


def _channels(model) -> dict:
    alerting = model.scenario.alerting
    types = [ch.type for ch in alerting.channels]
    return channel_figures(model.pop.ordered_t, model.channel_receipts(), alerting.channel_ids(), types)


def test_a_server_without_attack_matches_mm1_mean_response():
    rng = np.random.default_rng(3)
    got = simulate_queue(8.0, 10.0, k=None, horizon_s=40_000, rng=rng)
    assert got["mean_response_s"] == pytest.approx(mm1_response(8.0, 10.0), rel=0.05)
    assert got["loss"] == 0.0


@pytest.mark.parametrize(("lam", "k"), [(12.0, 5), (9.0, 3), (30.0, 10)])
def test_a_finite_queue_matches_mm1k_loss_and_response(lam, k):
    rng = np.random.default_rng(int(lam * 10 + k))
    got = simulate_queue(lam, 10.0, k=k, horizon_s=20_000, rng=rng)
    assert got["loss"] == pytest.approx(mm1k_loss(lam, 10.0, k), abs=0.01)
    assert got["mean_response_s"] == pytest.approx(mm1k_response(lam, 10.0, k), rel=0.05)


def _kotka(**parts):
    base = {
        "name": "cyber",
        "seed": 8,
        "duration": "40min",
        "population": {"count": 3000},
        "alerting": {
            "orders": [{"at": "10min", "zone": "all"}],
            "channels": [{"type": "siren", "coverage": 0.7}, {"type": "app_push", "coverage": 0.6}],
        },
    }
    base.update(parts)
    return load_scenario(base)


def test_a_zero_strength_attack_changes_nothing():
    plain = EvacuationModel(_kotka())
    plain.run()
    weak = EvacuationModel(
        _kotka(
            cyber=[
                {"type": "ddos", "target": "COC", "rate_rps": 0, "at": "5min"},
                {"type": "takeover", "entry": ["camera"], "success": 0.0, "at": "5min"},
            ]
        )
    )
    weak.run()
    cols = list(plain.timeseries().columns)
    assert weak.timeseries()[cols].equals(plain.timeseries()[cols])
    assert np.array_equal(weak.pop.warned_t, plain.pop.warned_t)
    assert np.array_equal(weak.pop.arrival_t, plain.pop.arrival_t)
    assert _cyber(weak)["devices_compromised_peak"] == 0


def _short(name: str, *extra: str) -> EvacuationModel:
    m = EvacuationModel(load_scenario(sample_scenarios()[name], ["duration=80min", *extra]))
    m.run()
    return m


def test_segmentation_keeps_a_camera_takeover_away_from_the_sirens():
    held = _short("cyber_camera_takeover_segmented")
    broken = _short("cyber_camera_takeover_misconfigured")
    role = {m: dict(zip(m.inventory["id"], m.inventory["role"], strict=True)) for m in (held, broken)}

    def compromised(m):
        return {str(a) for a in m.network.asset_ids[m.network.compromised]}

    assert compromised(held)
    assert {role[held][a] for a in compromised(held)} == {"smart"}
    assert any(role[broken][a] == "safety" for a in compromised(broken))
    silenced = broken.events()
    assert (silenced["kind"] == "siren_silent").any()
    reach = {m: np.isfinite(m.pop.warned_t).mean() for m in (held, broken)}
    assert reach[broken] < reach[held] - 0.1


def test_on_a_separate_network_even_a_misconfigured_firewall_cannot_reach_the_sirens():
    m = _short(
        "cyber_camera_takeover_misconfigured", "network.design=separate", "defenses.segmentation_misconfigured=true"
    )
    role = dict(zip(m.inventory["id"], m.inventory["role"], strict=True))
    hit = {str(a) for a in m.network.asset_ids[m.network.compromised]}
    assert hit
    assert all(role[a] == "smart" for a in hit)


def test_registry_theft_exposes_nothing_readable_when_encrypted():
    enc = _short("cyber_registry_theft_encrypted")
    plain = _short("cyber_registry_theft_plain")
    e, p = _cyber(enc), _cyber(plain)
    assert e["records_exposed"] == 0
    assert e["records_exposed_by_class"].get("ciphertext", 0) > 0
    assert p["records_exposed"] > 0
    assert p["records_exposed_by_class"]["health"] > 0  # health is stored in this scenario
    assert p["records_exposed_by_class"]["identity"] == p["records_exposed"]
    pseudo = _cyber(_short("cyber_registry_theft_plain", "privacy.pseudonymise=true"))
    assert pseudo["records_exposed_by_class"].get("identity", 0) == 0
    assert pseudo["records_exposed_by_class"]["pseudonym"] > 0


def test_a_spoofed_gauge_triggers_a_false_evacuation_unless_identities_are_validated():
    spoofed = _short("cyber_spoofed_gauge")
    ev = spoofed.events()
    assert (ev["kind"] == "trigger_fired").sum() == 1
    assert _cyber(spoofed)["people_given_a_false_alarm"] > 1000
    assert _cyber(spoofed)["false_readings"] > 0
    guarded = _short("cyber_spoofed_gauge", "defenses.device_identity=true")
    gev = guarded.events()
    assert (gev["kind"] == "trigger_fired").sum() == 0
    assert (gev["kind"] == "spoof_rejected").sum() > 0
    assert _cyber(guarded)["people_given_a_false_alarm"] == 0


def test_a_false_alarm_lowers_compliance_with_the_next_real_order():
    scn = _kotka(
        duration="2h",
        population={"count": 4000, "compliance": 0.9},
        alerting={
            "orders": [{"at": "1h", "zone": "all", "id": "real"}],
            "channels": [{"type": "ideal", "coverage": 1.0}],
            "false_alarm_trust_loss": 0.5,
        },
        cyber=[{"type": "spoofing", "mode": "false_alarm", "zone": "all", "at": 0}],
        shelters=[],
    )
    m = EvacuationModel(scn)
    m.advance_to(30 * 60)
    at_home = m.pop.state == 0  # did not follow the false alarm
    m.run()
    later = at_home & np.isfinite(m.pop.depart_t) & (m.pop.depart_t >= 3600)
    share = later.sum() / at_home.sum()
    # Those at home after the false alarm: u_comply >= 0.9 * 0.5 kept them home; the real order
    # reaches them at 0.9 * 0.5 again: none of them goes now (their draw is unchanged).
    assert share == pytest.approx(0.0, abs=0.01)
    assert _cyber(m)["people_given_a_false_alarm"] > 3000


def test_monitoring_detects_alerts_stakeholders_and_isolates():
    m = _short(
        "cyber_camera_takeover_misconfigured",
        "defenses.monitoring.enabled=true",
        "defenses.monitoring.mean_time_to_detect=10min",
        "defenses.monitoring.response_time=2min",
    )
    ev = m.events()
    detected = ev[ev["kind"] == "attack_detected"]
    assert len(detected) == 1
    t = detected["t_s"].iloc[0]
    alerted = ev[ev["kind"] == "stakeholder_alerted"]
    assert set(alerted["subject"]) == {"CCC operators", "COC operators", "city CERT", "national CSIRT"}
    isolated = ev[ev["kind"] == "device_isolated"]
    assert len(isolated) > 0
    assert (isolated["t_s"] == t + 120).all()
    after = ev[(ev["kind"] == "device_compromised") & (ev["t_s"] > t + 120)]
    assert len(after) == 0
    assert m.timeseries()["devices_isolated"].iloc[-1] == len(isolated)


def test_tampered_counts_mislead_the_ccc_unless_reports_are_authenticated():
    parts = {
        "duration": "50min",
        "shelter_operations": {"report_every": 60},
        "cyber": [{"type": "spoofing", "mode": "tamper_counts", "target": "all", "factor": 0.5, "at": "20min"}],
        "output": {"record_every": 60},
    }
    m = EvacuationModel(_kotka(**parts))
    m.run()
    ts = m.timeseries().set_index("t_s")
    s = max(m.shelters, key=lambda x: x.occupancy).shelter_id
    assert ts.loc[3000.0, f"observed:{s}"] == round(0.5 * ts.loc[2940.0, f"shelter:{s}"])
    guarded = EvacuationModel(_kotka(**parts, defenses={"encrypt_transit": True}))
    guarded.run()
    gts = guarded.timeseries().set_index("t_s")
    assert gts.loc[3000.0, f"observed:{s}"] == gts.loc[1200.0, f"observed:{s}"]  # stale, not false


def test_ddos_on_the_coc_takes_app_push_down_and_failover_restores_it():
    attack = {"cyber": [{"type": "ddos", "target": "COC", "rate_rps": 50_000, "at": "5min"}]}
    m = EvacuationModel(_kotka(**attack))
    m.run()
    av = m.service_availability()
    assert av["app_push"]["availability"] == pytest.approx(5 / 40, abs=0.01)
    assert av["alerting_siren"]["availability"] == 1.0
    # The COC serves 2,000 of 50,050 requests/s: every phone's push gets through with 1 - loss.
    served = 1.0 - mm1k_loss(50_050.0, 2000.0, 200)
    assert served == pytest.approx(0.04, abs=0.001)
    base = EvacuationModel(_kotka())
    base.run()
    pushed, reachable = _channels(m)["app_push"]["reached"], _channels(base)["app_push"]["reached"]
    assert pushed == pytest.approx(served * reachable, abs=4 * np.sqrt(served * reachable))
    over = EvacuationModel(_kotka(**attack, defenses={"ddos_protection": {"failover_to_safety": True}}))
    over.run()
    assert _channels(over)["app_push"]["reached"] == reachable  # the same draws, all through the operator


@pytest.mark.parametrize("attack_rps", [2_150.0, 3_950.0, 19_950.0])
def test_app_push_under_a_ddos_reaches_the_share_the_server_serves(attack_rps):
    """Through the engine's own path (the attack's M/M/1/K state at the COC), at three loads."""
    parts = {
        "population": {"count": 20000},
        "alerting": {"orders": [{"at": "10min", "zone": "all"}], "channels": [{"type": "app_push", "coverage": 1.0}]},
    }
    base = EvacuationModel(_kotka(**parts))
    base.run()
    attacked = EvacuationModel(
        _kotka(**parts, cyber=[{"type": "ddos", "target": "COC", "rate_rps": attack_rps, "at": "5min"}])
    )
    attacked.run()
    served = 1.0 - mm1k_loss(attack_rps + 50.0, 2000.0, 200)  # + the legitimate 50 requests/s
    n = _channels(base)["app_push"]["reached"]
    got = _channels(attacked)["app_push"]["reached"]
    assert n > 5000
    assert got / n == pytest.approx(served, rel=4 * np.sqrt((1 - served) / (served * n)))


def test_cli_baseline_reports_the_deltas(tmp_path):
    out = tmp_path / "run"
    res = sim(
        "run",
        "scenarios/cyber_camera_takeover_misconfigured.yaml",
        "--baseline",
        "--out",
        str(out),
        "--quiet",
        "--set",
        "duration=75min",
    )
    assert res.returncode == 0, res.stderr
    summary = json.loads((out / "summary.json").read_text())
    delta = summary["baseline"]["delta"]
    assert delta["reach_fraction"] < 0
    assert summary["baseline"]["without_attacks"]["reach_fraction"] > summary["alerts"]["reach_fraction"]
    assert summary["cyber"]["devices_compromised_peak"] > 10
    assert "availability" in delta


@pytest.mark.parametrize(
    ("cyber", "field"),
    [
        ([{"type": "ddos", "target": "nowhere", "rate_rps": 10}], "cyber.0.target"),
        ([{"type": "ddos", "target": "COC", "rate_rps": -10}], "cyber.0.rate_rps"),
        ([{"type": "takeover", "entry": ["toaster"]}], "cyber.0.entry.0"),
        ([{"type": "spoofing", "mode": "fake_reading", "target": "g"}], "cyber.0"),
        ([{"type": "worm"}], "cyber.0"),
    ],
)
def test_bad_attacks_exit_2_naming_the_field(tmp_path, cyber, field):
    path = write_scenario(tmp_path, {"duration": "5min", "cyber": cyber})
    _assert_invalid(sim("validate", str(path)), field)


def test_collect_results_has_the_spec_cyber_keys():
    m = EvacuationModel(_kotka(duration="5min"))
    m.run()
    cyber = collect_results(m, wall_time_s=0).summary["cyber"]
    assert {"devices_total", "devices_compromised_peak", "records_exposed", "false_readings"} <= set(cyber)
    assert cyber["devices_total"] == len(m.inventory) > 50


def test_tampered_counts_delay_the_overflow_policy_and_overflow_the_shelters():
    honest = _short("kotka_shelter_operations")
    lied = _short(
        "kotka_shelter_operations",
        "cyber=[{type: spoofing, mode: tamper_counts, target: all, factor: 0.5, at: 0}]",
    )

    def opened(m):
        ev = m.events()
        return list(ev.loc[ev["kind"] == "overflow_policy", "t_s"])

    assert opened(honest)
    assert not opened(lied) or opened(lied)[0] > opened(honest)[0]  # the CCC thought there was room
    counts = {m: m.pop.state_counts() for m in (honest, lied)}
    assert counts[lied]["sheltered"] < counts[honest]["sheltered"] - 1000
    assert counts[lied]["stranded"] > counts[honest]["stranded"] + 1000  # no place left, none opened


def test_the_device_inventory_describes_every_networked_device():
    m = EvacuationModel(_kotka(duration="1min", defenses={"encrypt_transit": True, "patched_share": 1.0}))
    inv = m.inventory
    assert {"siren", "camera", "hub", "server", "terminal"} <= set(inv["kind"])
    assert "cell_tower" not in set(inv["kind"])
    assert inv["patched"].all()
    assert inv["link_encrypted"].all()
    assert inv.loc[inv["id"] == "CCC", "storage_encrypted"].item()
    assert not inv.loc[inv["kind"] == "siren", "internet_exposed"].any()  # separate safety network
    assert inv.loc[inv["kind"] == "camera", "internet_exposed"].all()


def test_a_service_under_a_partial_ddos_reports_the_share_it_serves():
    """Up by the binary rule all along, yet it served only 1 - loss of its requests while attacked."""
    attack = {"cyber": [{"type": "ddos", "target": "COC", "rate_rps": 2_150.0, "at": "5min"}]}
    m = EvacuationModel(_kotka(**attack))
    m.run()
    av = m.service_availability()
    served = 1.0 - mm1k_loss(2_200.0, 2000.0, 200)  # 0.90909
    assert av["app_push"]["availability"] == 1.0  # the binary rule: loss below one half is "up"
    # 5 min at level 1, then 35 min at the share served (the attack's first tick is at 5 min).
    assert av["app_push"]["level"] == pytest.approx((5 + 35 * served) / 40, abs=1e-6)
    assert av["alerting_siren"]["level"] == pytest.approx(1.0)
    assert av["alerting"]["sirens_dark"] is False
    timeline = service_timeline(m.timeseries())
    during = timeline[(timeline["service"] == "app_push") & (timeline["t_s"] > 600)]
    assert during["level"].to_numpy() == pytest.approx(served, abs=1e-6)


def test_dark_sirens_are_reported_with_the_alerting_kpi():
    cut = {
        "hazards": [{"type": "power_outage", "at": "10min", "until": "30min"}],
        "network": {"battery_h": {"siren": 0.0}},
    }
    m = EvacuationModel(_kotka(**cut))
    m.run()
    av = m.service_availability()
    assert av["alerting"]["sirens_dark"] is True
    assert av["alerting"]["sirens_dark_share"] == pytest.approx(1.0 - av["alerting_siren"]["availability"])
    assert av["alerting"]["sirens_dark_share"] > 0
