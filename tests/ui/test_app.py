"""The planner app under Streamlit's headless AppTest; chart builders without Streamlit."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from ui.charts import evacuation_curve, shelter_occupancy
from ui.labels import percent
from ui.maps import BLANK_STYLE

ROOT = Path(__file__).resolve().parents[2]


def test_run_page_runs_the_default_real_city_scenario():
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.run()
    assert not at.exception
    assert any("kotka_district_evacuation" in t.value for t in at.text)
    assert any("Press" in i.value for i in at.info)
    at.button(key="run_page.run").click().run()
    assert not at.exception
    labels = [m.label for m in at.metric]
    assert "Ordered to leave" in labels
    ordered = next(m for m in at.metric if m.label == "Ordered to leave")
    assert ordered.value.endswith("people")
    assert int(ordered.value.split()[0].replace(",", "")) > 500
    assert len(at.session_state["state.runs"]) == 1


def test_chart_builders_label_their_axes():
    ts = pd.DataFrame(
        {
            "t_s": [0, 60, 120],
            "at_home": [10, 5, 0],
            "evacuating": [0, 4, 2],
            "sheltered": [0, 1, 8],
            "casualties": [0, 0, 0],
            "stranded": [0, 0, 0],
            "shelter:A": [0, 1, 8],
        }
    )
    fig = evacuation_curve(ts)
    ax = fig.axes[0]
    assert ax.get_legend_handles_labels()[1] == ["On the way", "In a shelter", "Casualties", "Stranded (no route)"]
    assert "min" in ax.get_xlabel()
    assert ax.get_ylabel() == "People"
    fig2 = shelter_occupancy(ts, {"A": 10})
    assert fig2.axes[0].get_legend_handles_labels()[1] == ["A"]


def test_map_style_is_inline_so_no_basemap_is_fetched():
    assert BLANK_STYLE.startswith("data:application/json,")
    assert "http" not in BLANK_STYLE


def _page(name: str) -> AppTest:
    """An AppTest of one page's ``render`` (pages are functions registered by app.py)."""
    scripts = {
        "map": "from ui.pages import map_page\nmap_page.render()\n",
        "results": "from ui.pages import results_page\nresults_page.render()\n",
        "compare": "from ui.pages import compare_page\ncompare_page.render()\n",
        "report": "from ui.pages import report_page\nreport_page.render()\n",
        "scenario": "from ui.pages import scenario_page\nscenario_page.render()\n",
    }
    return AppTest.from_string(scripts[name], default_timeout=240)


_RUNS: dict = {}


def _with_run(page: str, sample: str = "coastal_quake_tsunami", overrides: tuple[str, ...] = ("duration=40min",)):
    """An AppTest of ``page`` with one finished run of a sample in the session."""
    from sim import api

    at = _page(page)
    scenario = api.load_scenario(api.sample_scenarios()[sample], list(overrides))
    if sample not in _RUNS:
        _RUNS[sample] = api.run(scenario)
    at.session_state["state.scenario"] = (sample, scenario)
    at.session_state["state.runs"] = {sample: _RUNS[sample]}
    return at


def test_map_page_draws_the_hazard_footprint_and_assets_at_the_chosen_time():
    import json

    at = _with_run("map").run()
    assert not at.exception
    spec = json.loads(at.get("deck_gl_json_chart")[0].proto.json)
    fills = [layer for layer in spec["layers"] if layer["@@type"] == "PolygonLayer"]
    assert any(len(layer["data"]) > 0 and "label" in layer["data"][0] for layer in fills)  # hazard bands
    points = [layer for layer in spec["layers"] if layer["@@type"] == "ScatterplotLayer"]
    assert any(layer["data"] and "state" in layer["data"][0] and "kind" in layer["data"][0] for layer in points)
    times = _track_times()
    at.select_slider(key="map_page.t").set_value(times[0]).run()
    assert not at.exception
    assert at.select_slider(key="map_page.t").value == times[0]


def _track_times(sample: str = "coastal_quake_tsunami") -> list[float]:
    return sorted(float(t) for t in _RUNS[sample].tracks["t_s"].unique())


def _deck(at) -> dict:
    import json

    return json.loads(at.get("deck_gl_json_chart")[0].proto.json)


def test_scenario_page_opens_a_scenario_without_orders():
    from sim import api

    at = _page("scenario")
    data = api.load_scenario(api.sample_scenarios()["kotka_district_evacuation"]).model_dump(mode="json")
    data["alerting"]["orders"] = []
    at.session_state["state.scenario"] = ("no orders", api.scenario_from_dict(data))
    at.run()
    assert not at.exception
    tables = [d.value for d in at.dataframe]
    assert any(list(t.columns) == ["time", "zone", "channels"] and t.empty for t in tables), "no empty orders table"


def test_map_units_reach_the_browser_as_literal_strings():
    at = _with_run("map").run()
    spec = _deck(at)
    raw = at.get("deck_gl_json_chart")[0].proto.json
    assert "\n" not in raw
    assert ": " not in raw[:2000]
    text = json.dumps(spec)
    assert "@@=pixels" not in text  # pydeck's accessor syntax would turn units into undefined values
    by_id = {layer["id"]: layer for layer in spec["layers"]}
    assert {"roads", "water", "shelters", "evacuees", "assets"} <= set(by_id)
    assert by_id["roads"]["widthUnits"] == "pixels"
    for name in ("shelters", "evacuees", "assets"):
        assert by_id[name]["radiusUnits"] == "pixels", name
    radii = [row["radius"] for row in by_id["shelters"]["data"]]
    assert 5 <= min(radii) <= max(radii) <= 16  # a few pixels, never the whole canvas


def test_map_play_steps_through_time_and_stops_at_the_end():
    at = _with_run("map").run()
    times = _track_times()
    at.select_slider(key="map_page.t").set_value(times[-3]).run()
    before = _deck(at)
    at.button(key="map_page.play").click().run()  # plays the last two frames, then stops
    assert not at.exception
    assert float(at.select_slider(key="map_page.t").value) == times[-1]
    assert at.session_state["map_page.playing"] is False
    assert _deck(at)["layers"] != before["layers"]


def test_results_page_has_cards_with_units_and_every_chart():
    at = _with_run("results").run()
    assert not at.exception
    labels = {m.label: m.value for m in at.metric}
    assert labels["Casualties"].endswith("people")
    assert re.fullmatch(r"\d{1,3} %", labels["Alerting worked"])  # short enough for a card
    assert {"Devices compromised (peak)", "Records exposed", "Relatives told"} <= set(labels)
    headers = [h.value for h in at.subheader]
    assert "Where people are over time" in headers
    assert "City services over time" in headers
    assert "Who each warning channel reached" in headers
    # People who left in an order's shadow are named apart from the ordered.
    shadow = _RUNS["coastal_quake_tsunami"].summary["evacuation"]["shadow_evacuees"]
    assert shadow > 0
    captions = [c.value for c in at.caption]
    assert any(c.startswith(f"Left without an order (in the order's shadow): {shadow:,} people.") for c in captions)
    # Services in words: up and served, one row per service of the summary.
    assert "City services: up, and what they served" in headers
    services = _RUNS["coastal_quake_tsunami"].summary["services"]
    table = next(d.value for d in at.dataframe if "Served (% of requests or people)" in d.value.columns)
    assert len(table) == len(services)
    sirens = table.set_index("Service").loc["Sirens"]
    assert sirens["Up (% of the time)"] == percent(services["alerting_siren"]["availability"])
    assert sirens["Served (% of requests or people)"] == percent(services["alerting_siren"]["level"])
    # Catchments: each shelter's people by home district, shares of that shelter, named shelters.
    assert "Catchments: the districts each shelter served" in headers
    result = _RUNS["coastal_quake_tsunami"]
    catch = result.tables["catchments"]
    table = next(d.value for d in at.dataframe if "From the districts" in d.value.columns)
    assert len(table) == catch["shelter"].nunique()
    busiest = catch.groupby("shelter")["people"].sum().idxmax()
    name = result.tables["shelters"].set_index("id").loc[busiest, "name"]
    top = table.iloc[0]
    assert top["Shelter"] == name
    assert top["People"] == f"{catch.groupby('shelter')['people'].sum().max():,}"
    first = catch[catch["shelter"] == busiest].iloc[0]
    assert top["From the districts"].startswith(f"{first['district']} {first['people']:,} (")
    assert catch.groupby("shelter")["share"].sum().round(3).eq(1.0).all()
    # Everyone in a shelter at the end is in some catchment (and those who were, then died there).
    assert result.summary["evacuation"]["sheltered"] <= catch["people"].sum() <= result.summary["population"]


def test_compare_page_shows_deltas_between_two_runs():
    from sim import api

    at = _page("compare")
    runs = {}
    for design in ("shared", "separate"):
        scn = api.load_scenario(api.sample_scenarios()[f"kotka_flood_{design}_network"], ["duration=60min"])
        runs[design] = api.run(scn)
    at.session_state["state.runs"] = runs
    at.run()
    assert not at.exception
    table = at.dataframe[0].value
    assert [t.value for t in at.text] == ["A: shared", "B: separate"]
    assert "B − A" in table.columns
    delta = table.loc["In shelters at the end (people)", "B − A"]
    assert delta.startswith("+")  # the shared design sent no order
    assert int(delta.replace(",", "")) > 0


def test_report_page_offers_html_and_pdf():
    from ui.report import figures as report_figures
    from ui.report import report_html, report_pdf

    at = _with_run("report").run()
    assert not at.exception
    result = at.session_state["state.runs"]["coastal_quake_tsunami"]
    page = report_html("<script>alert(1)</script>", result)
    assert "<script>alert(1)" not in page  # user text is escaped
    assert "data:image/png;base64," in page
    assert "http://" not in page
    assert "https://" not in page
    for moment in ("Map at start: 0:00", "Map at peak (most people on the move)", "Map at end: 0:40"):
        assert moment in page
    pdf = report_pdf("coastal", result)
    assert pdf.startswith(b"%PDF")
    pages = pdf.count(b"/Type /Page\n") + pdf.count(b"/Type /Page ")
    assert pages >= len(report_figures(result)) + 3 + 2  # figures, three maps, the summary and the scenario
    assert set(re.findall(rb"/MediaBox \[([^\]]*)\]", pdf)) == {b" 0 0 595.44 841.68 "}  # A4, every page
    assert len(pdf) > 10_000


def test_the_report_keeps_a_long_description_whole():
    from ui.report import report_html, report_pdf

    at = _with_run("report")
    result = at.session_state["state.runs"]["coastal_quake_tsunami"]
    long = " ".join(f"word{i}" for i in range(600))
    result = type(result)(**{**result.__dict__, "scenario": {**result.scenario, "description": long}})
    assert long in report_html("x", result)
    short = type(result)(**{**result.__dict__, "scenario": {**result.scenario, "description": "short"}})
    count = lambda pdf: pdf.count(b"/Type /Page\n") + pdf.count(b"/Type /Page ")  # noqa: E731
    # More pages for the long text, nothing cut (the scenario listing after it may shift by a page too).
    assert count(report_pdf("x", result)) > count(report_pdf("x", short))


def test_scenario_page_edits_the_scenario_and_rejects_what_is_over_the_caps():
    at = _page("scenario").run()
    assert not at.exception
    own = next(t.value for t in at.text if t.value.startswith("This city has "))
    assert own.startswith("This city has 13,402 residents")  # Kotka's own number, shown
    at.number_input(key="scenario_page.count").set_value(5000)
    at.number_input(key="scenario_page.seed").set_value(42)
    at.number_input(key="scenario_page.form.pop.phone_share").set_value(80.0)  # a percentage
    # Widgets built from the schema: a choice, a bound integer, a checkbox.
    at.selectbox(key="scenario_page.form.net.design").set_value("shared")
    at.number_input(key="scenario_page.form.net.redundancy").set_value(3)
    at.checkbox(key="scenario_page.form.def.device_identity").check()
    next(b for b in at.button if b.label == "Apply changes").click().run()
    assert not at.exception
    label, scenario = at.session_state["state.scenario"]
    assert scenario.population.count == 5000
    assert scenario.seed == 42
    assert scenario.population.phone_share == 0.8
    assert scenario.network.design == "shared"
    assert scenario.network.redundancy == 3
    assert scenario.defenses.device_identity
    assert label.endswith("(edited)")
    assert at.number_input(key="scenario_page.count").proto.max == 200_000  # the cap is in the widget too
    assert [s.value for s in at.success] == ["Changes applied. Run it on the Run page."]
    at.run()
    assert [s.value for s in at.success] == ["Changes applied. Run it on the Run page."]  # it stays


def test_run_page_refuses_a_scenario_over_the_caps_with_a_field_named_message():
    from sim import api

    at = AppTest.from_string("from ui.pages import run_page\nrun_page.render()\n", default_timeout=60)
    big = api.load_scenario({"population": {"count": 1_500_000}, "duration": "20h"})
    at.session_state["state.scenario"] = ("big", big)
    at.run()
    assert not at.exception
    lines = "\n".join(c.value for c in at.code).splitlines()
    assert any(e.startswith("population.count:") for e in lines)
    assert any(e.startswith("duration:") for e in lines)
    assert not [b for b in at.button if b.label == "Run scenario"]


def test_uploads_are_checked_on_the_server(tmp_path):
    from sim import api

    with pytest.raises(api.InputError) as err:
        api.save_upload("roads", "roads.exe", b"MZ...", folder=tmp_path)
    assert err.value.problems[0][0] == "upload.roads"
    with pytest.raises(api.InputError) as err:
        api.save_upload("roads", "roads.geojson", b"x" * 2_000_000, folder=tmp_path, max_mb=1)
    assert "cap" in err.value.problems[0][1]
    point = b'{"type":"Feature","properties":{},"geometry":{"type":"Point","coordinates":[26.9,60.5]}}'
    bad = b'{"type":"FeatureCollection","features":[' + point + b"]}"
    with pytest.raises(api.InputError) as err:
        api.save_upload("roads", "roads.geojson", bad, folder=tmp_path)
    assert err.value.problems[0][0].startswith("upload.roads")
    assert not (tmp_path / "roads-roads.geojson").exists()  # nothing half-kept
    with pytest.raises(api.InputError) as err:
        api.check_ui_limits(api.load_scenario({"population": {"count": 1_500_000}}))
    assert err.value.problems[0][0] == "population.count"


def test_hazard_polygons_take_the_latest_footprint_per_hazard():
    import geopandas as gpd
    from shapely.geometry import box

    from ui.maps import hazard_polygons

    fp = gpd.GeoDataFrame(
        {
            "t_s": [0.0, 60.0, 60.0],
            "hazard": ["f", "f", "q"],
            "type": ["flood", "flood", "earthquake"],
            "band": ["depth>=0.01m", "depth>=0.01m", "pga>=0.1g"],
            "value": [0.01, 0.01, 0.1],
            "area_m2": [1.0, 4.0, 9.0],
        },
        geometry=[box(0, 0, 1, 1), box(0, 0, 2, 2), box(5, 5, 8, 8)],
        crs="EPSG:4326",
    )
    out = hazard_polygons(fp)
    assert len(out) == 2
    assert max(max(x for x, _ in poly) for poly in out["polygon"]) == 8
    assert [2, 2] in out["polygon"].iloc[0]  # the flood at 60 s, not at 0 s
    assert len(hazard_polygons(fp, t_s=0.0)) == 1


def test_service_and_channel_charts_label_their_axes():
    from ui.charts import channel_reach, service_timeline

    ts = pd.DataFrame({"t_s": [0, 60, 120], "service:alerting": [1, 0, 1], "service:app_push": [1, 1, 0]})
    ax = service_timeline(ts).axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["Alerting (any channel)", "App push"]
    assert "min" in ax.get_xlabel()
    ax2 = channel_reach({"siren": {"reach_fraction": 0.5}, "radio": {"reach_fraction": None}}).axes[0]
    assert "%" in ax2.get_xlabel()
    assert [p.get_width() for p in ax2.patches] == [50.0, 0.0]


def test_an_uploaded_scenario_may_not_read_the_servers_files(tmp_path):
    from sim import api

    outside = tmp_path / "outside.geojson"
    outside.write_text('{"type":"FeatureCollection","features":[]}')
    scn = api.load_scenario({"city": {"roads": str(outside)}})
    with pytest.raises(api.InputError) as err:
        api.check_files_within(scn, [tmp_path / "uploads"])
    assert err.value.problems[0][0] == "city.roads"
    api.check_files_within(scn, [tmp_path])  # inside: fine


def test_sweeps_page_runs_a_small_sweep_and_opens_it_with_curves_and_points(tmp_path, monkeypatch):
    monkeypatch.setenv("SAFECITY_SWEEPS_DIR", str(tmp_path / "sweeps"))
    script = (
        "from sim import api\n"
        "from ui import state\n"
        "from ui.pages import sweeps_page\n"
        "s = api.load_scenario(api.sample_scenarios()['kotka_district_evacuation'], ['duration=30min'])\n"
        "state.set_current('kotka short', s)\n"
        "sweeps_page.render()\n"
    )
    at = AppTest.from_string(script, default_timeout=300)
    at.run()
    assert not at.exception
    assert any("No sweep under" in i.value for i in at.info)
    at.multiselect(key="sweeps_page.p").set_value(["alerting.channels.0.coverage"]).run()
    at.text_input(key="sweeps_page.v.alerting.channels.0.coverage").set_value("0.2, 0.9").run()
    at.number_input(key="sweeps_page.seeds").set_value(2).run()
    assert any("4 runs" in c.value for c in at.caption)
    at.button(key="sweeps_page.run").click().run()
    assert not at.exception, at.exception
    folders = list((tmp_path / "sweeps").iterdir())
    assert len(folders) == 1
    results = pd.read_parquet(folders[0] / "results.parquet")
    assert len(results) == 4
    assert set(results["status"]) == {"ok"}
    # The page opened it: cards, a response chart with its band, and the points table.
    assert {m.label for m in at.metric} >= {"Points", "Runs", "Failed runs"}
    assert next(m for m in at.metric if m.label == "Runs").value == "4"
    assert at.selectbox(key="sweeps_page.param").value == "alerting.channels.0.coverage"

    # Any run of the sweep opens on the other pages: run again, with the same figures.
    res = AppTest.from_string("from ui.pages import results_page\nresults_page.render()\n", default_timeout=300)
    res.run()
    assert not res.exception
    assert res.selectbox(key="results.run.sweep").value == folders[0].name
    res.selectbox(key="results.run.point").set_value(1).run()
    res.selectbox(key="results.run.seed").set_value(2).run()
    res.button(key="results.run.sweep_open").click().run()
    assert not res.exception, res.exception
    (label,) = res.session_state["state.runs"]
    assert label == f"{folders[0].name} point 1 seed 2"
    again = res.session_state["state.runs"][label]
    row = results[(results["point"] == 1) & (results["seed"] == 2)].iloc[0]
    assert again.summary["seed"] == 2
    assert again.summary["evacuation"]["sheltered"] == row["evacuation.sheltered"]
    assert again.summary["evacuation"]["t50_s"] == row["evacuation.t50_s"]
    assert again.summary["alerts"]["reach_fraction"] == row["alerts.reach_fraction"]
    assert "roads" in again.tables  # every table, unlike the sweep's figures-only runs
    # The Compare page offers the sweep's runs too.
    cmp_page = AppTest.from_string("from ui.pages import compare_page\ncompare_page.render()\n", default_timeout=300)
    cmp_page.run()
    assert not cmp_page.exception
    assert cmp_page.selectbox(key="compare.sweep").value == folders[0].name
    # Refused: a run the sweep does not have, and a sweep whose base scenario changed since.
    import yaml

    from sim import api

    with pytest.raises(api.InputError, match="no run of point 99"):
        api.sweep_point_scenario(folders[0], 99, 1)
    base = Path(yaml.safe_load((folders[0] / "sweep.yaml").read_text())["scenario"])
    data = yaml.safe_load(base.read_text())
    base.write_text(yaml.safe_dump({**data, "description": "edited after the sweep"}))
    with pytest.raises(api.InputError, match="changed since the sweep ran"):
        api.sweep_point_scenario(folders[0], 1, 2)

    table = at.dataframe[0].value
    assert len(table) == 2
    assert table["n"].tolist() == [2, 2]
    # Over the app's cap: a field-named refusal, nothing started.
    at.text_input(key="sweeps_page.v.alerting.channels.0.coverage").set_value(",".join(["0.5"] * 30)).run()
    at.number_input(key="sweeps_page.seeds").set_value(5).run()
    at.button(key="sweeps_page.run").click().run()
    assert any("seeds:" in c.value and "at most 100" in c.value for c in at.code)
    assert len(list((tmp_path / "sweeps").iterdir())) == 1


def test_a_run_made_on_the_command_line_opens_in_the_app_and_downloads_as_a_zip(tmp_path, monkeypatch):
    import io
    import zipfile

    from sim import api

    runs = tmp_path / "runs"
    scenario = api.load_scenario(api.sample_scenarios()["kotka_district_evacuation"], ["duration=20min"])
    api.write_run(api.run(scenario), runs / "cli-run")
    (runs / "not-a-run").mkdir()  # a folder we did not write is not offered
    monkeypatch.setenv("SAFECITY_RUNS_DIR", str(runs))
    at = AppTest.from_string("from ui.pages import results_page\nresults_page.render()\n", default_timeout=120)
    at.run()
    assert not at.exception
    assert at.selectbox(key="results.run.disk").options == ["cli-run"]
    at.button(key="results.run.open").click().run()
    assert not at.exception
    assert at.selectbox(key="results.run").value == "cli-run"
    assert "Ordered to leave" in [m.label for m in at.metric]
    at.toggle(key="results.run.zip").set_value(True).run()
    data = at.session_state["components.zips"]["cli-run"]
    names = zipfile.ZipFile(io.BytesIO(data)).namelist()
    assert {"summary.json", "timeseries.parquet", "events.parquet", "manifest.json"} <= set(names)


def test_map_page_colours_congested_roads_and_centres_on_the_worst_bottlenecks():
    at = _with_run("map", sample="kotka_shelter_operations", overrides=("duration=40min",)).run()
    assert not at.exception
    rows = [t.value for t in at.text if re.match(r"^\d+\. ", t.value)]
    assert len(rows) == 10, rows  # the ten worst, by name
    first = rows[0]
    assert " waiting at " in first
    assert "longest wait" in first
    roads = _RUNS["kotka_shelter_operations"].tables["roads"]
    worst = roads.sort_values(["peak_queue", "longest_wait_s"], ascending=False).iloc[0]
    assert f"{int(worst['peak_queue']):,} waiting" in first
    before = _deck(at)["initialViewState"]
    next(b for b in at.button if b.key == "map_page.centre.0").click().run()
    assert not at.exception
    spec = _deck(at)
    view = spec["initialViewState"]
    assert view["zoom"] == 17.0
    import shapely

    mid = shapely.line_interpolate_point(worst.geometry, 0.5, normalized=True)
    assert (view["longitude"], view["latitude"]) == pytest.approx((mid.x, mid.y))
    assert (view["longitude"], view["latitude"]) != (before["longitude"], before["latitude"])
    # The slider went to the time of that road's longest queue, where the road is drawn congested.
    t = at.select_slider(key="map_page.t").value
    assert t >= worst["peak_queue_t_s"]
    congestion = {layer["id"]: layer for layer in spec["layers"]}["congestion"]
    assert congestion["widthUnits"] == "pixels"
    tips = [row["tip"] for row in congestion["data"]]
    assert any(tip.startswith(f"{int(worst['peak_queue'])} waiting") for tip in tips), tips[:5]
    widest = max(congestion["data"], key=lambda row: row["width"])
    assert widest["color"][:3] == [110, 30, 0]  # the run's longest queue: the darkest colour


def test_the_map_makes_each_times_layers_when_first_shown_and_the_same_in_any_order():
    """Preparing a run's map makes no time's layers; showing a time makes its own, as made in
    any other order (a million-citizen run has 361 times: all of them took 18 s up front)."""
    from ui.pages import map_page

    _with_run("map")
    result = _RUNS["coastal_quake_tsunami"]
    lazy = [getattr(map_page.MapFrames.of(result), k) for k in ("shelters", "hazard", "seen_shelters", "picture")]
    assert [x.made() for x in lazy if isinstance(x, map_page.Frames)] == [0, 0, 0, 0]  # nothing made yet

    fresh = map_page.MapFrames.of(result)
    n = len(fresh.times)
    assert n > 3
    picks = [n - 1, 0, n // 2]
    shown = {(i, seen): fresh.deck(i, seen=seen).to_json() for i in picks for seen in (False, True)}
    assert isinstance(fresh.shelters, map_page.Frames)
    assert fresh.shelters.made() == len(picks)  # only the times shown
    every = map_page.MapFrames.of(result)
    for i in reversed(range(n)):  # every time made, last first
        every.deck(i, seen=True)
        every.deck(i)
    assert {(i, seen): every.deck(i, seen=seen).to_json() for i in picks for seen in (False, True)} == shown
    assert shown[(0, False)] != shown[(n - 1, False)]  # times differ
