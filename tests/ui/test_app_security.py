"""The app on an office network: nothing a user types is interpreted, nothing of the server leaks."""

from __future__ import annotations

import gc
import io
import os
import stat
import subprocess
import sys
import tomllib
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from sim import api

ROOT = Path(__file__).resolve().parents[2]
BEACON = "![x](https://evil.example/beacon.png) **bold** <img src=x onerror=alert(1)>"


def test_problems_are_shown_as_plain_text_never_markdown():
    def page():
        from sim import api
        from ui import state

        state.show_problems(
            api.InputError(
                [
                    ("city.roads", "![x](https://evil.example/beacon.png) **bold**"),
                    ("city.terrain.dem", "cannot read /srv/safecity/secret/dem.tif"),
                ]
            )
        )

    at = AppTest.from_function(page).run()
    assert not at.exception
    assert [e.value for e in at.error] == ["Please correct the following:"]
    assert at.code[0].value == (
        "city.roads: ![x](https://evil.example/beacon.png) **bold**\ncity.terrain.dem: cannot read dem.tif"
    )
    assert not at.markdown  # nothing went through the Markdown renderer


def test_dollar_signs_in_user_text_never_start_mathtext():
    from ui.charts import compare_curves

    ts = pd.DataFrame({"t_s": [0, 60], "at_home": [5, 0], "evacuating": [0, 1], "sheltered": [0, 4]})
    for c in ("casualties", "stranded", "trapped"):
        ts[c] = 0
    fig = compare_curves({"cost $\\frac{$ and 5": ts, "plain": ts})
    fig.savefig(io.BytesIO(), format="png")  # mathtext would raise on the unbalanced '$'
    texts = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert "cost $\\frac{$ and 5" in texts


def test_an_uploaded_scenario_cannot_probe_the_servers_files(tmp_path):
    folder = tmp_path / "uploads"
    folder.mkdir()
    answers = []
    for target in ("/etc/passwd", "/etc/no-such-file-here", "../../etc/passwd", "roads.geojson"):
        try:
            api.scenario_from_upload(f"city: {{roads: {target}}}\n", folder=folder)
        except api.InputError as exc:
            answers.append(exc.lines())
    # An existing and a missing server file get the same answer, with no path in it.
    assert answers[0] == answers[1] == answers[2] == ["city.roads: must name a file uploaded on this page"]
    # A name inside the folder that was never uploaded: named, but without the server's folder.
    assert len(answers[3]) == 1
    assert answers[3][0].startswith("city.roads: ")
    assert str(tmp_path) not in answers[3][0]
    assert "/" not in answers[3][0].removeprefix("city.roads: ")


def test_paths_in_any_problem_are_reduced_to_file_names(tmp_path):
    exc = api.InputError([("city.dem", f"cannot read {tmp_path}/uploads/dem.tif: broken; see /usr/lib/x.so")])
    (line,) = api.public_problems(exc, tmp_path / "uploads").lines()
    assert line == "city.dem: cannot read dem.tif: broken; see x.so"


def test_the_server_config_binds_locally_hides_errors_and_never_looks_itself_up():
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert config["server"]["address"] == "127.0.0.1"
    assert config["server"]["enableXsrfProtection"] is True
    assert config["client"]["showErrorDetails"] == "none"
    assert config["browser"]["serverAddress"]  # set: no outside IP lookup at start-up
    assert config["browser"]["gatherUsageStats"] is False
    run_sh = (ROOT / "run.sh").read_text()
    assert '--browser.serverAddress "$shown"' in run_sh


def test_no_element_is_sent_by_reference_so_a_browser_never_misses_one():
    # Streamlit sends an element it believes the browser has cached as a reference to it; a
    # browser that had dropped it showed "Cached ForwardMsg MISS" and the session died (seen on
    # the Map page). With the app's config, Streamlit itself finds a 1 MB element not cacheable.
    code = (
        "from streamlit import config; config.get_config_options(force_reparse=True)\n"
        "from streamlit.proto.ForwardMsg_pb2 import ForwardMsg\n"
        "from streamlit.runtime.forward_msg_cache import populate_hash_if_needed\n"
        "msg = ForwardMsg(); msg.delta.new_element.markdown.body = 'x' * 1_000_000\n"
        "populate_hash_if_needed(msg); print(msg.metadata.cacheable)"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip() == "False"


def test_upload_folders_are_private_and_go_with_their_session():
    from ui import state

    holder = state._SessionFolder()
    path = holder.path
    assert stat.S_IMODE(path.stat().st_mode) == 0o700
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    (path / "roads-x.geojson").write_text("{}")
    del holder
    gc.collect()
    assert not path.exists()


def test_upload_folders_of_dead_servers_are_deleted_at_start():
    from ui import state

    parent = state.uploads_root().parent
    parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    dead = parent / "server-999999999"
    (dead / "session").mkdir(parents=True, exist_ok=True)
    mine = state.uploads_root()
    mine.mkdir(mode=0o700, exist_ok=True)
    state._clean_stale_uploads()
    assert not dead.exists()
    assert mine.exists()
    assert os.getpid() == int(mine.name.removeprefix("server-"))


def test_a_run_over_its_memory_limit_ends_with_a_message_and_the_app_carries_on(monkeypatch):
    from sim.experiments import isolated

    monkeypatch.setattr(isolated, "DEFAULT_MEMORY_MB", 300)  # far below what any run needs
    at = AppTest.from_string("from ui.pages import run_page\nrun_page.render()\n", default_timeout=120)
    at.run()
    at.button(key="run_page.run").click().run()
    assert not at.exception
    assert [e.value for e in at.error] == ["The run was stopped:"]
    assert any("more than 300 MB" in t.value for t in at.text)
    assert "state.runs" not in at.session_state or not at.session_state["state.runs"]  # nothing half-kept
    monkeypatch.setattr(isolated, "DEFAULT_MEMORY_MB", 6144)
    at.button(key="run_page.run").click().run()  # the same session runs again, within limits
    assert not at.exception
    assert "Ordered to leave" in [m.label for m in at.metric]


def test_runs_in_their_own_process_match_runs_in_this_one():
    scenario = api.load_scenario(api.sample_scenarios()["kotka_district_evacuation"], ["duration=20min"])
    seen = []
    isolated = api.run_isolated(scenario, progress=lambda t, d: seen.append(t))
    plain = api.run(scenario)
    pd.testing.assert_frame_equal(isolated.timeseries, plain.timeseries)
    assert isolated.summary["evacuation"] == plain.summary["evacuation"]
    assert seen
    assert seen[-1] == 1200.0


def test_cpu_time_and_caps_on_the_built_city_are_enforced():
    scenario = api.load_scenario(api.sample_scenarios()["kotka_district_evacuation"])
    with pytest.raises(api.RunLimitError, match="CPU time"):
        api.run_isolated(scenario, cpu_s=1)
    crowded = api.load_scenario({"city": {"synthetic": {"population": 300_000, "area_km2": 4}}})
    with pytest.raises(api.InputError) as err:
        api.run_isolated(crowded)
    assert err.value.lines() == ["city.synthetic: the city holds 300,000 people; here at most 200,000"]


def test_a_population_layer_over_the_apps_cap_is_refused_before_it_runs(tmp_path):
    from tests.conftest import LayerCity

    city = (
        LayerCity(tmp_path / "c")
        .road((0, 0), (0, 400))
        .people_at((0, 0), 150_000)
        .people_at((0, 200), 150_000)
        .shelter("S1", (0, 400), 30)
        .write()
    )
    scenario = api.load_scenario({"city": city, "duration": "10min"})
    with pytest.raises(api.InputError) as err:
        api.run_isolated(scenario)
    assert err.value.lines() == ["city.roads: the city holds 300,000 people; here at most 200,000"]
