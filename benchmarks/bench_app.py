"""The Map page's responsiveness on Kotka: the first view of a run and a move of the time slider.

Measured on the server with Streamlit's AppTest (the page's own work: preparing frames, building
the deck, serialising it), and the size of what each move sends to the browser. The browser's
own drawing is checked, not timed, by tests/ui/test_browser.py.

Run: ``.venv/bin/python -m benchmarks.bench_app``; numbers go to docs/performance.md by hand.
"""

from __future__ import annotations

import json
import statistics
import time

from streamlit.testing.v1 import AppTest

from sim import api


def main() -> None:
    """Print the timings."""
    scenario = api.load_scenario(api.sample_scenarios()["kotka_district_evacuation"])
    result = api.run(scenario)
    times = sorted(float(t) for t in result.tracks["t_s"].unique())
    at = AppTest.from_string("from ui.pages import map_page\nmap_page.render()\n", default_timeout=300)
    at.session_state["state.scenario"] = ("kotka", scenario)
    at.session_state["state.runs"] = {"kotka": result}
    t0 = time.perf_counter()
    at.run()
    first = time.perf_counter() - t0
    moves = []
    for t in times[:: max(1, len(times) // 12)][:12]:
        t0 = time.perf_counter()
        at.select_slider(key="map_page.t").set_value(t).run()
        moves.append(time.perf_counter() - t0)
    size = len(at.get("deck_gl_json_chart")[0].proto.json)
    print(f"Kotka, {len(times)} recorded times, {len(result.tracks):,} track rows")
    print(f"first view (frames prepared once): {first:.2f} s")
    print(f"slider move: median {statistics.median(moves):.3f} s, max {max(moves):.3f} s over {len(moves)} moves")
    print(f"deck sent per move: {size / 1e6:.2f} MB")
    json.loads(at.get("deck_gl_json_chart")[0].proto.json)


def browser() -> None:
    """In headless Chromium (SwiftShader WebGL): a slider step until the canvas shows the new frame."""
    import hashlib
    import socket
    import subprocess
    import sys
    import urllib.request
    from pathlib import Path

    from playwright.sync_api import sync_playwright

    root = Path(__file__).resolve().parents[1]
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(root / "app.py"), "--server.port", str(port)],
        cwd=root,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(120):
            try:
                urllib.request.urlopen(f"{url}/_stcore/health", timeout=2)
                break
            except OSError:
                time.sleep(0.5)
        flags = [
            "--no-sandbox",
            "--disable-gpu",
            "--use-gl=angle",
            "--use-angle=swiftshader",
            "--enable-unsafe-swiftshader",
        ]
        with sync_playwright() as pw:
            b = pw.chromium.launch(executable_path="/usr/bin/chromium", args=flags, headless=True)
            page = b.new_page(viewport={"width": 1400, "height": 1000})
            page.goto(url)
            page.get_by_role("button", name="Run scenario").click()
            page.get_by_text("Ordered to leave").wait_for(timeout=120_000)
            page.get_by_role("link", name="Map").click()
            page.locator("canvas").first.wait_for(timeout=60_000)
            time.sleep(4)
            slider = page.get_by_role("slider").first
            slider.focus()
            page.keyboard.press("Home")
            for _ in range(10):  # to 0:10, when people are on the move and every step changes the map
                page.keyboard.press("ArrowRight")
            time.sleep(5)
            waits = []
            shot = lambda: hashlib.sha1(page.locator("canvas").first.screenshot()).hexdigest()  # noqa: E731
            for _ in range(8):
                t0 = time.perf_counter()
                page.keyboard.press("ArrowRight")
                seen: list[tuple[float, str]] = []
                while True:  # until the picture has been the same for 1.5 s: the final frame
                    seen.append((time.perf_counter() - t0, shot()))
                    final = seen[-1][1]
                    first_final = next(
                        t for t, h in seen if h == final and all(x == final for _, x in seen[seen.index((t, h)) :])
                    )
                    if seen[-1][0] - first_final > 1.5 or seen[-1][0] > 30:
                        break
                waits.append(first_final)
            b.close()
        print(f"browser: slider step to a redrawn map: median {statistics.median(waits):.2f} s, max {max(waits):.2f} s")
    finally:
        server.terminate()


if __name__ == "__main__":
    main()
    if "--browser" in __import__("sys").argv:
        browser()
