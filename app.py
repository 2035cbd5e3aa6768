"""SafeCity Twin planner app: page registration only (``streamlit run app.py``)."""

import streamlit as st

from ui.pages import (
    compare_page,
    exercise_page,
    map_page,
    report_page,
    results_page,
    run_page,
    scenario_page,
    sweeps_page,
)

st.set_page_config(page_title="SafeCity Twin", layout="wide")
st.navigation(
    [
        st.Page(scenario_page.render, title="Scenario", url_path="scenario"),
        st.Page(run_page.render, title="Run", url_path="run", default=True),
        st.Page(map_page.render, title="Map", url_path="map"),
        st.Page(results_page.render, title="Results", url_path="results"),
        st.Page(compare_page.render, title="Compare", url_path="compare"),
        st.Page(report_page.render, title="Report", url_path="report"),
        st.Page(sweeps_page.render, title="Sweeps", url_path="sweeps"),
        st.Page(exercise_page.render, title="Exercise", url_path="exercise"),
    ]
).run()
