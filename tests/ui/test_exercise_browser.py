"""A live exercise in real headless Chromium: a controller and a player at once, and an app restart.

Two browser contexts (two people): the controller starts the Kotka flood tabletop, the player
joins as the command centre, gets an inject in the inbox and orders people out; the controller
sees the action and its effect on the city; the after-action report lists it. Then the app and
the exercise's runner are killed mid-exercise and started again: the exercise resumes from its
log with nothing lost.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.ui.test_browser import ARTIFACTS, CHROMIUM, FLAGS, ROAD, SHELTERS, _pixels, _share, start_app, stop_app

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.browser
PASS = {"controller": "control-pass-1", "ccc": "ccc-pass-123", "shelter_manager": "shelter-pass-1"}


def _start_app(exercises: Path, log_name: str) -> tuple[subprocess.Popen, str]:
    return start_app(log_name, SAFECITY_EXERCISES_DIR=str(exercises))


def _stop(proc: subprocess.Popen, *, kill: bool = False) -> None:
    stop_app(proc, kill=kill)


def _control(folder: Path) -> dict:
    db = sqlite3.connect(folder / "exercise.sqlite", timeout=30)
    try:
        return {k: json.loads(v) for k, v in db.execute("SELECT key, value FROM control")}
    finally:
        db.close()


def _pick(page, label: str, option: str) -> None:
    page.get_by_label(label).first.click()
    page.get_by_role("option", name=option, exact=True).first.click()


def _join(page, url: str, role: str) -> None:
    page.goto(f"{url}/exercise", wait_until="domcontentloaded")
    page.get_by_role("tab", name="Join as a player").wait_for(timeout=60_000)
    page.get_by_label("Your role").first.wait_for(timeout=60_000)
    _pick(page, "Your role", role)
    page.get_by_label("Passphrase", exact=True).fill(PASS[role])
    page.get_by_role("button", name="Join").click()
    page.get_by_text("Exercise time").first.wait_for(timeout=60_000)


@pytest.fixture
def chromium():
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium is not installed (./run.sh test installs it with apt-get)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        yield browser
        browser.close()


def test_controller_and_player_in_two_browsers_and_the_aar_lists_the_players_action(chromium, tmp_path):
    exercises = tmp_path / "exercises"
    app, url = _start_app(exercises, "exercise-app.log")
    try:
        controller = chromium.new_context(viewport={"width": 1400, "height": 1100}).new_page()
        player = chromium.new_context(viewport={"width": 1400, "height": 1100}).new_page()
        errors: list[str] = []
        bad: list[str] = []
        for page in (controller, player):
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("response", lambda r: bad.append(f"{r.status} {r.url}") if r.status >= 400 else None)
        # The controller starts the Kotka flood tabletop at 120 simulated seconds per second.
        controller.goto(f"{url}/exercise", wait_until="domcontentloaded")
        controller.get_by_role("tab", name="Start (controller)").click()
        controller.get_by_label("Speed (simulated seconds per second)").fill("120")
        for role, phrase in PASS.items():
            controller.get_by_label(f"Passphrase of {role}").fill(phrase)
        controller.get_by_role("button", name="Start the exercise").click()
        controller.get_by_text("MSEL").first.wait_for(timeout=90_000)
        folder = next(exercises.iterdir())
        # The player joins as the command centre: a wrong passphrase first.
        player.goto(f"{url}/exercise", wait_until="domcontentloaded")
        player.get_by_label("Your role").first.wait_for(timeout=60_000)
        _pick(player, "Your role", "ccc")
        player.get_by_label("Passphrase", exact=True).fill("not-the-passphrase")
        player.get_by_role("button", name="Join").click()
        player.get_by_text("Wrong role or passphrase.").wait_for(timeout=30_000)
        player.get_by_label("Passphrase", exact=True).fill(PASS["ccc"])
        player.get_by_role("button", name="Join").click()
        # The inject of 10 minutes reaches the player's inbox; the truth never does.
        player.get_by_text("Gauge K2 on the Kymijoki reads 1.1 m").first.wait_for(timeout=90_000)
        assert player.get_by_text("(truth)").count() == 0
        assert player.get_by_text("MSEL").count() == 0
        player.screenshot(path=str(ARTIFACTS / "exercise-player.png"), full_page=True)
        # The player orders the whole city out (the form's defaults: every district, every channel).
        player.get_by_role("button", name="Send").click()
        player.get_by_text("Sent: it takes effect at the current exercise time.").wait_for(timeout=30_000)
        # The controller sees the action, and its effect: people on their way, in the truth.
        controller.get_by_role("cell", name="Issue an evacuation order").first.wait_for(timeout=60_000)
        deadline = time.time() + 60
        moving = 0
        while time.time() < deadline and moving == 0:
            metric = controller.get_by_test_id("stMetric").filter(has_text="On the way (truth)").first
            text = metric.inner_text().splitlines()[-1].replace(",", "")
            moving = int(text) if text.isdigit() else 0
            time.sleep(1)
        assert moving > 0
        # The controller's map of the truth: the city's roads and its shelters are drawn.
        deck = controller.locator("[data-testid=stDeckGlJsonChart] canvas").first
        deck.wait_for(timeout=60_000)
        time.sleep(4)  # let deck.gl draw
        deck.screenshot(path=str(ARTIFACTS / "exercise-controller-map.png"))
        px = _pixels(ARTIFACTS / "exercise-controller-map.png")
        assert _share(px, ROAD) > 0.01
        # Shelter markers are drawn slightly transparent over the background: their colours, blended.
        assert sum(_share(px, c, tol=40) for c in SHELTERS) * len(px) > 200
        controller.screenshot(path=str(ARTIFACTS / "exercise-controller.png"), full_page=True)
        # The controller ends it; the report lists the player's action.
        controller.get_by_role("button", name="End the exercise and write the report").click()
        deadline = time.time() + 180
        while time.time() < deadline and _control(folder).get("state") != "done":
            time.sleep(1)
        assert _control(folder)["state"] == "done"
        html = (folder / "aar.html").read_text()
        assert "Issue an evacuation order" in html  # in words, never the action's field name
        assert "issue_order" not in html
        assert ">ccc<" in html
        assert json.loads((folder / "summary.json").read_text())["exercise"]["actions"] == 1
        # Streamlit's front end probes <page>/_stcore/health and host-config before the root ones: 404s of its own.
        bad = [b for b in bad if "/exercise/_stcore/" not in b]
        assert bad == [], bad[:5]
        errors = [e for e in errors if not e.startswith("Failed to load resource")]
        assert errors == [], errors[:5]
    finally:
        _stop(app)


def test_an_app_restart_mid_exercise_resumes_from_the_log(chromium, tmp_path):
    from sim import api

    exercises = tmp_path / "exercises"
    folder = api.start_exercise(
        api.exercise_files()["kotka_shelter_overflow"], root=exercises, speed=60, passphrases=PASS
    )
    app, url = _start_app(exercises, "exercise-restart-1.log")
    try:
        page = chromium.new_context(viewport={"width": 1400, "height": 1000}).new_page()
        _join(page, url, "shelter_manager")
        deadline = time.time() + 120
        while time.time() < deadline and float(_control(folder).get("sim_t", 0)) < 20 * 60:
            time.sleep(1)
        api.exercise_act(
            folder, "shelter_manager", "open_shelter", {"id": "hall-r", "location": [26.94, 60.538], "capacity": 2000}
        )
        deadline = time.time() + 60
        while time.time() < deadline and not any(
            e["kind"] == "action" for e in api.exercise_view(folder, "controller")["log"]
        ):
            time.sleep(0.5)
        before = api.exercise_view(folder, "controller")
        sim_t_before = before["sim_t"]
        entries_before = [(e["kind"], e["ref"], e["sim_t"]) for e in before["log"]]
        assert ("action", "open_shelter") in {(k, r) for k, r, _ in entries_before}
        # Kill everything: the app and the runner (a power cut on the server).
        os.killpg(os.getpgid(int(_control(folder)["runner_pid"])), signal.SIGKILL)
    finally:
        _stop(app, kill=True)
    time.sleep(7)  # the runner's heartbeat goes stale
    app, url = _start_app(exercises, "exercise-restart-2.log")
    try:
        page = chromium.new_context(viewport={"width": 1400, "height": 1000}).new_page()
        _join(page, url, "shelter_manager")  # a browser arrives: the runner is started again, from the log
        deadline = time.time() + 120
        while time.time() < deadline and float(_control(folder).get("sim_t", 0)) <= sim_t_before + 60:
            time.sleep(1)
        after = api.exercise_view(folder, "controller")
        assert after["sim_t"] > sim_t_before
        assert [(e["kind"], e["ref"], e["sim_t"]) for e in after["log"]][: len(entries_before)] == entries_before
        hall = after["truth"]["shelters"]["hall-r"]  # the action made before the restart holds
        assert hall["open"]
        assert hall["capacity"] == 2000
        api.exercise_control(folder, finish=True)
        deadline = time.time() + 180
        while time.time() < deadline and _control(folder).get("state") != "done":
            time.sleep(1)
        assert _control(folder)["state"] == "done"
    finally:
        _stop(app)
    # The resumed exercise equals a replay of its log.
    replayed = tmp_path / "replay"
    proc = subprocess.run(
        [sys.executable, "-m", "sim", "exercise", "replay", str(folder), "--out", str(replayed)],
        capture_output=True, text=True, cwd=ROOT, timeout=300,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    a = json.loads((folder / "summary.json").read_text())
    b = json.loads((replayed / "summary.json").read_text())
    assert a["evacuation"] == b["evacuation"]
    assert a["shelters"] == b["shelters"]
    assert a["shelters"]["hall-r"]["peak_occupancy"] > 0
