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
