"""The planner app under Streamlit's headless AppTest; chart builders without Streamlit."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from streamlit.testing.v1 import AppTest

from ui.charts import evacuation_curve, shelter_occupancy
from ui.maps import BLANK_STYLE

ROOT = Path(__file__).resolve().parents[2]


def test_run_page_runs_the_default_real_city_scenario():
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.run()
    assert not at.exception
    assert at.selectbox[0].value == "kotka_district_evacuation"
    assert any("Press" in i.value for i in at.info)
    at.button[0].click().run()
    assert not at.exception
    labels = [m.label for m in at.metric]
    assert "Ordered to leave" in labels
    ordered = next(m for m in at.metric if m.label == "Ordered to leave")
    assert ordered.value.endswith("people")
    assert int(ordered.value.split()[0].replace(",", "")) > 500
    assert len(at.get("deck_gl_json_chart")) == 1


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


def test_run_page_shows_hazard_casualties_and_the_footprint_on_the_map():
    import json

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180)
    at.run()
    at.selectbox[0].select("coastal_quake_tsunami").run()
    at.button[0].click().run()
    assert not at.exception
    casualties = next(m for m in at.metric if m.label == "Casualties")
    assert int(casualties.value.split()[0].replace(",", "")) > 0
    assert "tsunami" in casualties.help
    spec = json.loads(at.get("deck_gl_json_chart")[0].proto.json)
    fills = [layer for layer in spec["layers"] if layer["@@type"] == "PolygonLayer"]
    assert any(len(layer["data"]) > 0 and "label" in layer["data"][0] for layer in fills)  # hazard bands


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
