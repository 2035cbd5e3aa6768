"""Run page: run the scenario in use, with simulated time, an estimate of the time left, and cancel."""

from __future__ import annotations

import time

import streamlit as st

from sim import api
from ui import state
from ui.labels import KPIS, clock, people

KEY = "run_page"
RUNNING = f"{KEY}.running"


def not_reached(summary: dict, share: int) -> str:
    """Why a TXX time is missing, in plain words (for example "93 % were warned; T95 needs 95 %")."""
    ev, al = summary["evacuation"], summary["alerts"]
    ordered = ev["ordered"] or 0
    if not ordered:
        return "nobody was ordered to leave"
    warned = al.get("reach_fraction") or 0.0
    sheltered = (ev.get("sheltered") or 0) / ordered
    if warned * 100 < share:
        return f"{round(warned * 100)} % were warned; T{share} needs {share} %"
    return f"{round(sheltered * 100)} % reached a shelter by the end; T{share} needs {share} %"


def stayed_home(summary: dict) -> tuple[int, int, int]:
    """People ordered out who never left: (all, of them not warned, of them warned who chose to stay)."""
    ev = summary["evacuation"]
    ordered = ev["ordered"] or 0
    home = int(ev.get("not_departed") or 0)
    not_warned = min(home, round(ordered * (1 - (summary["alerts"].get("reach_fraction") or 0.0))))
    return home, not_warned, home - not_warned


def _time_card(col, summary: dict, share: int, key: str) -> None:
    value = summary["evacuation"].get(f"t{share}_s")
    lab = KPIS[key]
    if value is None:
        col.metric(lab.text, "not reached", help=f"T{share}: {not_reached(summary, share)}")
    else:
        col.metric(
            lab.text, clock(value), help=f"T{share}: time (h:mm) until {share} % of those ordered out were in a shelter"
        )


def kpi_cards(result: api.RunResult) -> None:
    """The headline figures of a run, with units; the technical term is in the tooltip."""
    s = result.summary
    ev, al = s["evacuation"], s["alerts"]
    cols = st.columns(4) + st.columns(4)  # two rows, so that values are never cut
    cols[0].metric(
        KPIS["ordered"].text, f"{people(ev['ordered'])} people", help="citizens covered by an evacuation order"
    )
    _time_card(cols[1], s, 50, "t50")
    _time_card(cols[2], s, 90, "t90")
    _time_card(cols[3], s, 95, "t95")
    reach = al["reach_fraction"]
    cols[4].metric(
        KPIS["warned"].text,
        "-" if reach is None else f"{reach:.0%}",
        help="share of those ordered out who received the order",
    )
    home, not_warned, chose = stayed_home(s)
    cols[5].metric(
        KPIS["stayed_home"].text,
        f"{people(home)} people",
        help=f"ordered out but never left: {not_warned:,} not warned, {chose:,} warned but chose to stay",
    )
    cols[6].metric(
        KPIS["stranded"].text, f"{people(ev.get('stranded', 0))} people", help="no usable route to a shelter with room"
    )
    by_cause = ", ".join(f"{k}: {v:,}" for k, v in ev.get("casualties_by_cause", {}).items()) or "none"
    cols[7].metric(
        KPIS["casualties"].text,
        f"{people(ev.get('casualties', 0))} people",
        help=f"killed or caught by the hazards ({by_cause})",
    )
    missing = [share for share in (50, 90, 95) if ev.get(f"t{share}_s") is None]
    if missing:
        st.caption("Not reached: " + "; ".join(f"T{m}: {not_reached(s, m)}" for m in missing) + ".")
    if home:
        st.caption(f"Stayed home: {not_warned:,} were never warned, {chose:,} were warned but chose to stay.")


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
