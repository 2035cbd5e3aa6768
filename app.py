"""SafeCity Twin planner app: page registration only (``streamlit run app.py``)."""

import streamlit as st

from ui.pages import run_page

st.set_page_config(page_title="SafeCity Twin", layout="wide")
st.navigation([st.Page(run_page.render, title="Run a scenario", url_path="run", default=True)]).run()
