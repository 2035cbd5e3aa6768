"""Run page: pick a sample scenario, run it, read the KPIs, the curves and the map."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from sim import api
from ui.charts import channel_reach, evacuation_curve, service_timeline, shelter_occupancy
from ui.maps import city_deck

KEY = "run_page"


@st.cache_data(show_spinner=False, max_entries=8)
def _layers(scenario_json: str) -> dict:
    return api.city_layers(api.Scenario.model_validate_json(scenario_json))


def _minutes(seconds: float | None) -> str:
    return "not reached" if seconds is None else f"{seconds / 60:.0f} min"


def render() -> None:
    """Draw the page."""
    st.title("SafeCity Twin: evacuation planner")
    st.caption("A digital twin of a city's evacuation: real streets and buildings from OpenStreetMap.")
    samples = api.sample_scenarios()
    names = list(samples)
    default = names.index("kotka_district_evacuation") if "kotka_district_evacuation" in names else 0
    choice = st.selectbox("Scenario", names, index=default, key=f"{KEY}.choice")
    try:
        scenario = api.load_scenario(samples[choice])
    except api.InputError as exc:
        for line in exc.lines():
            st.error(line)
        return
    st.write(scenario.description or scenario.name)

    if st.button("Run scenario", type="primary", key=f"{KEY}.run"):
        bar = st.progress(0.0, text="Starting…")

        def progress(t_s: float, duration_s: float) -> None:
            bar.progress(
                min(t_s / duration_s, 1.0),
                text=f"Simulated {api.format_duration(t_s)} of {api.format_duration(duration_s)}",
            )

        result = api.run(scenario, progress=progress)
        bar.empty()
        st.session_state[f"{KEY}.result"] = (choice, result)

    stored = st.session_state.get(f"{KEY}.result")
    if not stored or stored[0] != choice:
        st.info("Press **Run scenario** to simulate.")
        return
    result = stored[1]
    ev = result.summary["evacuation"]
    al = result.summary["alerts"]
    cols = st.columns(6)
    cols[0].metric("Ordered to leave", f"{ev['ordered']:,} people")
    cols[1].metric(
        "Half in shelters (T50)",
        _minutes(ev["t50_s"]),
        help="T50: time until 50 % of those ordered out reached a shelter",
    )
    cols[2].metric("90 % in shelters (T90)", _minutes(ev["t90_s"]), help="T90: time until 90 % reached a shelter")
    reach = al["reach_fraction"]
    cols[3].metric(
        "Warned", "-" if reach is None else f"{reach:.0%}", help="Share of those ordered out who received the order"
    )
    cols[4].metric("Stranded", f"{ev.get('stranded', 0):,} people", help="No usable route to a shelter with room")
    by_cause = ", ".join(f"{k}: {v:,}" for k, v in ev.get("casualties_by_cause", {}).items()) or "none"
    cols[5].metric(
        "Casualties", f"{ev.get('casualties', 0):,} people", help=f"Killed or caught by the hazards ({by_cause})"
    )

    st.subheader("Where people are over time")
    st.pyplot(evacuation_curve(result.timeseries), clear_figure=True)
    caps = {k: v["capacity"] for k, v in result.summary["shelters"].items()}
    st.subheader("Busiest shelters (dashed: capacity)")
    st.pyplot(shelter_occupancy(result.timeseries, caps), clear_figure=True)

    if result.summary["alerts"].get("channels"):
        st.subheader("Who each warning channel reached")
        st.pyplot(channel_reach(result.summary["alerts"]["channels"]), clear_figure=True)
    if any(c.startswith("service:") for c in result.timeseries.columns):
        st.subheader("City services over time")
        st.pyplot(service_timeline(result.timeseries), clear_figure=True)

    st.subheader("Map at the end of the run")
    st.caption(
        "Blue areas: water (darker: deeper than the casualty depth); orange rings: ground shaking bands. "
        "Dots: infrastructure assets (blue working, vermillion failed)."
    )
    shelters = result.tables["shelters"].copy()
    shelters["occupancy"] = shelters["final_occupancy"]
    shelters["share"] = shelters["final_occupancy"] / shelters["capacity"].clip(lower=1)
    shelters["radius"] = 4 + (shelters["capacity"] / max(shelters["capacity"].max(), 1)) ** 0.5 * 14
    tracks = result.tracks
    last = tracks[tracks["t_s"] == tracks["t_s"].max()] if len(tracks) else pd.DataFrame()
    deck = city_deck(
        _layers(scenario.model_dump_json()),
        shelters,
        last,
        footprint=result.tables.get("hazard"),
        assets=result.tables.get("assets"),
    )
    st.pydeck_chart(deck, height=520)
