"""End to end in a real headless Chromium: start the app, run the default scenario, look at it.

Uses Debian's Chromium (installed by ``./run.sh test``), never a downloaded browser. Saves
screenshots in ``test-artifacts/`` (the page before and after the run; screenshots of the map
itself stall the software-rendered WebGL of headless Chromium, so the map is checked by its
canvas instead). Fails on any browser console error and on any request to
an address other than 127.0.0.1.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlparse

import pytest

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
    # Belt and braces: no host name resolves except the app's own address.
    "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
]

pytestmark = pytest.mark.browser


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def app_url():
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium is not installed (./run.sh test installs it with apt-get)")
    port = _free_port()
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    ARTIFACTS.mkdir(exist_ok=True)
    log = open(ARTIFACTS / "streamlit.log", "w")  # noqa: SIM115 - closed at teardown
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "streamlit",
            "run",
            str(ROOT / "app.py"),
            "--server.address",
            "127.0.0.1",
            "--server.port",
            str(port),
            "--server.headless",
            "true",
            "--server.fileWatcherType",
            "none",
            "--browser.gatherUsageStats",
            "false",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                if r.status == 200:
                    break
        except OSError:
            time.sleep(0.5)
    else:
        proc.kill()
        log.close()
        pytest.fail("the app did not start: " + (ARTIFACTS / "streamlit.log").read_text())
    yield url
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    log.close()


def test_default_scenario_end_to_end_in_chromium(app_url):
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    console_errors: list[str] = []
    outside: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        page = context.new_page()
        page.on("console", lambda m: console_errors.append(m.text) if m.type == "error" else None)

        def watch(request):
            url = request.url
            if not url.startswith(("data:", "blob:")) and urlparse(url).hostname != "127.0.0.1":
                outside.append(url)

        # Observed, not intercepted: every request of the page and its workers is recorded.
        context.on("request", watch)
        page.goto(app_url, wait_until="domcontentloaded")
        page.get_by_role("button", name="Run scenario").wait_for(timeout=60_000)
        page.screenshot(path=str(ARTIFACTS / "run-page-before.png"), full_page=True)
        page.get_by_role("button", name="Run scenario").click()
        page.get_by_text("Ordered to leave").wait_for(timeout=120_000)
        assert page.get_by_text("Half in shelters (T50)").count() == 1
        page.screenshot(path=str(ARTIFACTS / "run-page-results.png"))
        # The other pages, through the sidebar (the session and its run stay).
        page.get_by_role("link", name="Results").click()
        page.get_by_text("Where people are over time").wait_for(timeout=60_000)
        time.sleep(2)
        page.screenshot(path=str(ARTIFACTS / "results-page.png"), full_page=True)
        page.get_by_role("link", name="Scenario").click()
        page.get_by_text("Warning channels").wait_for(timeout=60_000)
        time.sleep(3)  # let the form's widgets replace their placeholders
        page.screenshot(path=str(ARTIFACTS / "scenario-page.png"), full_page=True)
        page.get_by_role("link", name="Map").click()
        # Single-shot queries and plain sleeps from here on: in-page waiting (wait_for) competes
        # with deck.gl's software-rendered frames and can stall the headless renderer.
        canvases = 0
        for _ in range(90):
            canvases = page.locator("canvas").count()
            if canvases:
                break
            time.sleep(0.5)
        assert canvases > 0, "the map was not drawn"
        browser.close()
    assert outside == [], f"requests left the machine: {outside[:5]}"
    assert console_errors == [], console_errors[:5]
