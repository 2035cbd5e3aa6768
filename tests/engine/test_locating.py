"""Locating evacuees: the command centre's picture against the truth, and how it fails (docs/verification.md)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sim import api
from sim.engine.model import EvacuationModel

KOTKA = api.sample_scenarios()["kotka_district_evacuation"]
PERFECT_LINKS = [
    f"network.link_types.{t}={{latency_s: 0.01, bandwidth_mbps: 1000, availability: 1.0, loss: 0.0}}"
    for t in ("fibre", "internet", "cellular", "lan", "radio")
]
AT_HOME_ONLY = [  # nobody ordered out: a still population, so every change is the sources'
    "alerting.orders=[]",
    "alerting.triggers=[]",
    "population.phone_share=1.0",
    "location.app_share=0.0",
    "output.record_every=300",
    *PERFECT_LINKS,
]


# Only the towers lack batteries: the outage takes the tower down and nothing else on the way to the COC.
BATTERIES = "network.battery_h={cell_tower: 0, hub: 1000, server: 1000, gateway: 1000, camera: 1000, operator: 1000}"


def _run(*overrides: str) -> api.RunResult:
    return api.run(api.load_scenario(KOTKA, list(overrides)))


def _total(result: api.RunResult) -> pd.Series:
    return result.tables["located"].groupby("t_s")["estimate"].sum()


def test_with_perfect_sources_the_picture_is_the_truth():
    """Full phone and app ownership, exact check-ins every recorded time, perfect links: estimate == truth."""
    result = _run(
        "duration=75min",
        "alerting.orders=[{at: 0, zone: all}]",
        "alerting.channels=[{type: ideal, coverage: 1.0}]",
        "population.phone_share=1.0",
        "population.smartphone_share=1.0",
        "location.app_share=1.0",
        "location.app_error_m=0",
        "location.checkin_every=60",
        "location.report_every=60",
        "location.cell_range_m=50000",
        "output.record_every=60",
        *PERFECT_LINKS,
    )
    located = result.tables["located"]
    assert result.tables["location_reports"]["delivered"].all()
    moving = located[(located["state"] == "on_the_move") & (located["truth"] > 0)]
    assert len(moving) > 20  # people really move in this run, and are placed while they do
    pd.testing.assert_series_equal(located["estimate"], located["truth"].astype(float), check_names=False)
    assert (located.loc[located["state"] == "unknown", "estimate"] == 0).all()
    assert result.summary["location"]["coverage"] == 1.0
    assert result.summary["location"]["mae_per_district"] == 0.0


def test_a_tower_outage_removes_exactly_its_attached_users_until_it_returns():
    scenario = api.load_scenario(
        KOTKA,
        [
            *AT_HOME_ONLY,
            "duration=3h",
            "location.cell_range_m=400",  # Kotka's towers are about 1 km apart: cells do not overlap
            BATTERIES,
        ],
    )
    assets = EvacuationModel(scenario).asset_table.set_index("id")
    tower = "tower-2"
    substation = assets.loc[tower, "power"]
    scenario = api.load_scenario(
        KOTKA,
        [
            *AT_HOME_ONLY,
            "duration=3h",
            "location.cell_range_m=400",
            BATTERIES,
            f"hazards=[{{type: power_outage, at: 1h, until: 2h, substations: [{substation}]}}]",
        ],
    )
    result = api.run(scenario)
    reports = result.tables["location_reports"]
    mine = reports[(reports["source"] == "tower") & (reports["device"] == tower)]
    attached = int(mine.loc[mine["t_s"] < 3600, "count"].iloc[-1])
    assert attached > 50
    assert mine["count"].iloc[0] == attached  # nobody moves: the cell holds the same people
    total = _total(result)
    before, during = total[total.index < 3600], total[(total.index >= 3600) & (total.index < 7200)]
    after = total[total.index >= 7500]
    assert before.nunique() == 1
    assert during.nunique() == 1
    assert after.nunique() == 1
    assert before.iloc[0] - during.iloc[0] == pytest.approx(attached, abs=1e-6)
    assert after.iloc[0] == before.iloc[0]
    assert mine[(mine["t_s"] >= 3600) & (mine["t_s"] < 7200)].empty  # a dead tower sends nothing


def test_a_ddos_on_the_coc_degrades_the_picture_by_the_share_of_reports_it_drops():
    from sim.cyber.queueing import mm1k_loss

    rate = 2800.0  # with the default server (2,000 req/s, queue 200, 50 req/s legitimate): loss ~ 0.3
    result = _run(
        *AT_HOME_ONLY,
        "duration=6h",
        "location.report_every=120",
        "output.record_every=120",
        f"cyber=[{{type: ddos, target: COC, rate_rps: {rate}, at: 0, duration: 6h}}]",
    )
    reports = result.tables["location_reports"]
    towers = reports[reports["source"] == "tower"]
    # Exactly: each recorded time, the picture lacks the people in the reports that were dropped.
    full = towers.groupby("t_s")["count"].sum()
    got = towers[towers["delivered"]].groupby("t_s")["count"].sum().reindex(full.index, fill_value=0)
    total = _total(result)
    pd.testing.assert_series_equal(total.loc[full.index], got.astype(float), check_names=False)
    # And the share dropped is the M/M/1/K loss of the attacked server (binomial band, 4 sigma).
    loss = mm1k_loss(rate + 50.0, 2000.0, 200)
    assert 0.2 < loss < 0.45
    dropped = 1.0 - towers["delivered"].mean()
    n = len(towers)
    assert abs(dropped - loss) < 4 * np.sqrt(loss * (1 - loss) / n), (dropped, loss, n)


def test_a_tampered_camera_moves_the_estimate_by_exactly_its_lie():
    base = [
        "duration=75min",
        "alerting.orders=[{at: 0, zone: all}]",
        "location.app_share=0.0",
        "location.report_every=60",
        "output.record_every=60",
        *PERFECT_LINKS,
    ]
    clean = _run(*base)
    cams = clean.tables["location_reports"]
    cams = cams[cams["source"] == "camera"]
    busiest = cams.groupby("device")["count"].sum().idxmax()
    lied = _run(*base, f"cyber=[{{type: spoofing, mode: tamper_counts, target: {busiest}, factor: 3, at: 0}}]")
    lies = lied.tables["location_reports"]
    lies = lies[(lies["source"] == "camera") & (lies["device"] == busiest)].set_index("t_s")["count"]
    truth = cams[cams["device"] == busiest].set_index("t_s")["count"]
    lie = lies - truth
    assert (lie == 2 * truth).all()
    assert lie.sum() > 0

    def moving(result: api.RunResult) -> pd.Series:
        loc = result.tables["located"]
        return loc[loc["state"] == "on_the_move"].groupby("t_s")["estimate"].sum()

    shift = moving(lied).sub(moving(clean), fill_value=0.0).reindex(lie.index, fill_value=0.0)
    pd.testing.assert_series_equal(shift, lie.astype(float), check_names=False)
    assert lied.summary["evacuation"] == clean.summary["evacuation"]  # the lie changes the picture, not the city


def test_the_unaccounted_list_is_pseudonymous_and_scored_against_the_truth():
    result = _run("duration=75min")
    listed = result.tables["unaccounted"]
    ts = result.timeseries
    assert len(listed) == ts["unaccounted_list"].iat[-1] > 0
    assert listed["citizen"].str.fullmatch(r"R[0-9a-f]{16}").all()
    assert int(listed["in_danger"].sum()) == ts["unaccounted_in_danger"].iat[-1]
    # Everyone on it was ordered out at least `unaccounted_after` before the end and never seen since.
    assert (listed["ordered_t_s"] <= ts["t_s"].iat[-1] - 1800).all()
    assert listed["last_seen_t_s"].isna().all() | (listed["last_seen_t_s"] < ts["t_s"].iat[-1] - 1800).all()
    # Towers report counts per cell, never people: no per-person column leaves the reports.
    assert list(result.tables["location_reports"].columns) == ["t_s", "source", "device", "count", "delivered"]
    loc = result.summary["location"]
    assert 0 < loc["coverage"] <= 1
    assert loc["unaccounted_final"] == len(listed)


def test_the_command_view_carries_the_picture_and_no_truth():
    sim = api.Simulation(api.load_scenario(KOTKA, ["duration=60min"]))
    sim.advance_to(45 * 60)
    view = sim.command_view()["location"]
    assert view["t_s"] == 45 * 60
    assert view["districts"]
    assert set(view["districts"]) <= set(sim.result().tables["located"]["district"])
    states = {s for d in view["districts"].values() for s in d}
    assert states <= {"at_home", "on_the_move", "sheltered", "unknown"}
    assert all(p.startswith("R") for p in view["unaccounted"])
    assert "truth" not in str(view)


def test_the_evacuation_zone_kept_by_the_orders_is_where_the_ordered_live():
    """The picture reads the zone the orders keep (issue 20); it is the homes of everyone ordered out."""
    scenario = api.load_scenario(api.sample_scenarios()["kotka_district_evacuation"], ["duration=40min"])
    model = EvacuationModel(scenario)
    model.run()
    p = model.pop
    zone = np.zeros(model.city.n_nodes, dtype=bool)
    zone[p.home_node[np.isfinite(p.ordered_t)]] = True
    assert 0 < zone.sum() < model.city.n_nodes  # some districts ordered out, not all
    np.testing.assert_array_equal(model.alerting.ordered_zone, zone)
