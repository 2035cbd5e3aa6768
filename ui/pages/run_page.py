"""Run page: run the scenario in use, with simulated time, an estimate of the time left, and cancel."""

from __future__ import annotations

import time

import streamlit as st

from sim import api
from ui import state
from ui.components import kpi_cards

KEY = "run_page"
RUNNING = f"{KEY}.running"


def render() -> None:
    """Draw the page."""
    st.title("SafeCity Twin: evacuation planner")
    st.caption("A digital twin of a city's evacuation: real streets and buildings from OpenStreetMap.")
    label, scenario = state.current()
    st.markdown("**Scenario:**")
    st.text(f"{label}: {scenario.description or scenario.name}")  # user text: never markdown or HTML
    if st.session_state.pop(RUNNING, False):
        st.warning("The last run was cancelled.")
    try:
        api.check_ui_limits(scenario)
    except api.InputError as exc:
        state.show_problems(exc)
        return
    if st.button("Run scenario", type="primary", key=f"{KEY}.run"):
        st.session_state[RUNNING] = True
        cancel = st.empty()
        cancel.button("Cancel", key=f"{KEY}.cancel", help="stops the run")
        st.session_state.pop(state.NOTICE, None)  # a new action: old messages go
        bar = st.progress(0.0, text="Starting…")
        started = time.perf_counter()

        def progress(t_s: float, duration_s: float) -> None:
            frac = min(t_s / duration_s, 1.0)
            elapsed = time.perf_counter() - started
            eta = elapsed * (1 - frac) / frac if frac > 0 else 0.0
            bar.progress(
                frac,
                text=(
                    f"Simulated {api.format_duration(t_s)} of {api.format_duration(duration_s)}"
                    f" · about {eta:.0f} s left"
                ),
            )

        try:
            # A separate process with memory and CPU-time limits: one run cannot hurt other users.
            result = api.run_isolated(scenario, progress=progress)
        except api.InputError as exc:
            result = None
            state.show_problems(exc)
        except api.RunLimitError as exc:
            result = None
            st.error("The run was stopped:", icon="⛔")
            st.text(str(exc))
        except Exception as exc:  # anything else: a plain message, never a traceback
            result = None
            st.error("The run failed unexpectedly.", icon="⛔")
            st.text(type(exc).__name__)
        finally:
            bar.empty()
            cancel.empty()
        st.session_state[RUNNING] = False  # not reached when Cancel stops the script: then it says so
        if result is None:
            return
        name = state.add_run(label, result)
        st.session_state[f"{KEY}.last"] = name
    last = st.session_state.get(f"{KEY}.last")
    if not last or last not in state.runs():
        st.info("Press **Run scenario** to simulate.")
        return
    st.subheader("Last run")
    st.text(last)
    kpi_cards(state.runs()[last])
    st.caption("More on the Results, Map, Compare and Report pages.")
