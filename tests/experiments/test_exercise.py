"""Training exercises headless (SPEC section 6): run, replay, baseline, report, validation."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TRAINING = ROOT / "training"
TABLETOP = TRAINING / "kotka_flood_tabletop.yaml"
ACTIONS = TRAINING / "kotka_flood_tabletop_actions.csv"


def _cli(*args: str, timeout: float = 600) -> subprocess.CompletedProcess:
    env = os.environ | {"PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "sim", *args], capture_output=True, text=True, timeout=timeout, cwd=ROOT, env=env
    )


def _summary(folder: Path) -> dict:
    s = json.loads((folder / "summary.json").read_text())
    return s


@pytest.fixture(scope="module")
def tabletop(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("ex") / "tabletop"
    proc = _cli("exercise", "run", str(TABLETOP), "--actions", str(ACTIONS), "--out", str(out), "--quiet")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().endswith(str(out))
    return out


def test_the_headless_run_writes_the_run_files_the_log_and_the_report(tabletop):
    for name in ("summary.json", "timeseries.parquet", "events.parquet", "tracks.parquet", "scenario.yaml"):
        assert (tabletop / name).exists(), name
    assert (tabletop / "manifest.json").exists()
    db = sqlite3.connect(tabletop / "exercise.sqlite")
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    log = db.execute("SELECT kind, ref, role, sim_t, wall_t FROM log ORDER BY seq").fetchall()
    injects = [r for r in log if r[0] == "inject"]
    actions = [r for r in log if r[0] == "action"]
    assert [r[1] for r in injects] == [f"I{i}" for i in range(1, 10)]
    assert len(actions) == 7
    assert all(r[4] for r in log)  # every entry has its wall time
    # Each inject at its MSEL time, each scripted action at its own.
    assert injects[1][3] == 20 * 60
    assert actions[0][1:4] == ("issue_order", "ccc", 29 * 60)
    summary = _summary(tabletop)
    assert summary["exercise"]["injects"] == 9
    assert summary["exercise"]["actions"] == 7
    html = (tabletop / "aar.html").read_text()
    for needle in ("Objectives", "met in 9 min", "missed", "Improvement plan", "without (baseline)", "<img"):
        assert needle in html, needle
    assert "https://" not in html
    assert (tabletop / "aar.pdf").read_bytes().startswith(b"%PDF")


def test_a_replay_gives_the_same_summary_and_without_actions_the_baseline(tabletop, tmp_path):
    again = tmp_path / "replay"
    proc = _cli("exercise", "replay", str(tabletop), "--out", str(again))
    assert proc.returncode == 0, proc.stderr
    assert _summary(again) == _summary(tabletop)
    base = tmp_path / "baseline"
    proc = _cli("exercise", "replay", str(tabletop), "--out", str(base), "--without-actions")
    assert proc.returncode == 0, proc.stderr
    b = _summary(base)
    assert b["exercise"]["actions"] == 0
    # The players' orders are what moved people: without them nobody is ordered out at all.
    assert b["evacuation"]["ordered"] == 0
    assert _summary(tabletop)["evacuation"]["sheltered"] > 5000
    db = sqlite3.connect(base / "exercise.sqlite")
    assert db.execute("SELECT count(*) FROM log WHERE kind = 'action'").fetchone()[0] == 0
    assert db.execute("SELECT count(*) FROM log WHERE kind = 'inject'").fetchone()[0] == 9


def test_report_rewrites_the_aar_with_the_controllers_edits(tabletop, tmp_path):
    import shutil

    folder = tmp_path / "copy"
    shutil.copytree(tabletop, folder)
    db = sqlite3.connect(folder / "exercise.sqlite")
    with db:
        db.execute("INSERT OR REPLACE INTO notes VALUES ('strengths', 'Calm <b>radio</b> discipline')")
    db.close()
    proc = _cli("exercise", "report", str(folder))
    assert proc.returncode == 0, proc.stderr
    html = (folder / "aar.html").read_text()
    assert "Calm &lt;b&gt;radio&lt;/b&gt; discipline" in html  # the edit, escaped


def test_shelters_the_player_opens_shelter_more_people_than_the_baseline(tmp_path):
    out = tmp_path / "out"
    ex, acts = TRAINING / "kotka_shelter_overflow.yaml", TRAINING / "kotka_shelter_overflow_actions.csv"
    proc = _cli("exercise", "run", str(ex), "--actions", str(acts), "--out", str(out), "--quiet")
    assert proc.returncode == 0, proc.stderr
    base = tmp_path / "base"
    assert _cli("exercise", "replay", str(out), "--out", str(base), "--without-actions").returncode == 0
    shelters = _summary(out)["shelters"]
    assert shelters["sports-hall-north"]["peak_occupancy"] > 500
    assert "sports-hall-north" not in _summary(base)["shelters"]
    with_it, without = _summary(out)["evacuation"]["sheltered"], _summary(base)["evacuation"]["sheltered"]
    assert with_it > without + 1000
    assert _summary(out)["evacuation"]["ordered"] == _summary(base)["evacuation"]["ordered"]  # the inject ordered all
    html = (out / "aar.html").read_text()
    assert "O2: Shelter at least 8,000 people within three hours" in html


@pytest.mark.parametrize(
    ("msel_row", "expected"),
    [
        (
            "{id: I1, at: 10min, to: ccc, message: x, effect: {close_road: {names: [Nowhere Street]}}}",
            "msel.0.effect.close_road.names: no road is named",
        ),
        ("{id: I1, at: 10min, to: nobody, message: x}", "msel.0.to: unknown role 'nobody'"),
        ("{id: I1, at: 10min, to: ccc, message: x, expected_action: fly}", "msel.0.expected_action: "),
        (
            "{id: I1, at: 10min, to: ccc, message: x, effect: {close_shelter: {id: S-none}}}",
            "msel.0.effect.close_shelter.id: no shelter has id 'S-none'",
        ),
        (
            "{id: I1, at: 10min, to: ccc, message: x, effect: {isolate_device: {id: cam-99}}}",
            "msel.0.effect.isolate_device.id: no device has id 'cam-99'",
        ),
        ("{id: I1, at: 9h, to: ccc, message: x}", "msel.0.at: at or after the end"),
    ],
)
def test_an_invalid_msel_is_exit_2_naming_the_field_with_nothing_written(tmp_path, msel_row, expected):
    ex = tmp_path / "bad.yaml"
    ex.write_text(
        f"name: bad\nscenario: {ROOT / 'scenarios' / 'kotka_district_evacuation.yaml'}\n"
        f"msel:\n  - {msel_row}\nroles: [controller, ccc]\n"
    )
    out = tmp_path / "out"
    proc = _cli("exercise", "run", str(ex), "--out", str(out))
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    assert expected in proc.stderr
    assert not out.exists()


def test_an_msel_csv_with_a_bad_effect_names_its_row(tmp_path):
    (tmp_path / "m.csv").write_text(
        'id,at,to,message,effect\nI1,5min,ccc,ok,\nI2,6min,ccc,road,"{close_road: {names: [No Such Road]}}"\n'
    )
    ex = tmp_path / "e.yaml"
    ex.write_text(
        f"name: csv\nscenario: {ROOT / 'scenarios' / 'kotka_district_evacuation.yaml'}\nmsel: m.csv\n"
        "roles: [controller, ccc]\n"
    )
    proc = _cli("exercise", "run", str(ex), "--out", str(tmp_path / "o"))
    assert proc.returncode == 2
    assert "msel.1.effect.close_road.names: no road is named" in proc.stderr
    bad_actions = tmp_path / "a.csv"
    bad_actions.write_text("at,role,action,args\n5min,ccc,fly,\n")
    (tmp_path / "m.csv").write_text("id,at,to,message\nI1,5min,ccc,ok\n")
    proc = _cli("exercise", "run", str(ex), "--actions", str(bad_actions), "--out", str(tmp_path / "o"))
    assert proc.returncode == 2
    assert "actions.0.action: unknown action 'fly'" in proc.stderr


def test_every_action_has_a_title_and_arguments_read_as_words():
    from sim.core.actions import ACTION_TITLES, action_details, action_title
    from sim.experiments.exercisefile import ACTIONS

    assert set(ACTION_TITLES) == set(ACTIONS)
    assert action_title("open_shelter") == "Open a shelter"
    assert action_title(None) == "-"
    assert action_details({"zone": ["B2", "C2"], "channels": None, "capacity": 800}) == "zone: B2, C2 · capacity: 800"
