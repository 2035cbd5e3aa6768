"""Map page: the city's own layers, the hazard, network assets and evacuees, on a time slider."""

from __future__ import annotations

import streamlit as st

from sim import api
from ui import state
from ui.maps import city_deck
from ui.pages.results_page import pick_run

KEY = "map_page"


@st.cache_data(show_spinner=False, max_entries=8)
def _layers(scenario_json: str) -> dict:
    return api.city_layers(api.Scenario.model_validate_json(scenario_json))


def render() -> None:
    """Draw the page."""
    st.title("Map")
    name = pick_run(f"{KEY}.run")
    if name is None:
        return
    result = state.runs()[name]
    tracks = result.tracks
    times = sorted(tracks["t_s"].unique()) if len(tracks) else [float(result.timeseries["t_s"].max())]
    c1, c2 = st.columns([4, 1])
    t = c1.select_slider(
        "Time (min)",
        options=times,
        value=times[-1],
        format_func=lambda v: f"{v / 60:.0f}",
        key=f"{KEY}.t",
    )
    playing = st.session_state.get(f"{KEY}.playing", False)
    if c2.button("⏸ Pause" if playing else "▶ Play", key=f"{KEY}.play", help="step through the recorded times"):
        st.session_state[f"{KEY}.playing"] = not playing
        st.rerun()
    _draw(result, t)
    if st.session_state.get(f"{KEY}.playing"):
        nxt = [x for x in times if x > t]
        if nxt:
            st.session_state[f"{KEY}.t"] = nxt[0]
            st.rerun()
        st.session_state[f"{KEY}.playing"] = False


def _draw(result: api.RunResult, t: float) -> None:
    scenario = api.Scenario.model_validate(result.scenario)
    ts = result.timeseries
    row = ts[ts["t_s"] <= t].iloc[-1]
    shelters = result.tables["shelters"].copy()
    shelters["occupancy"] = [int(row.get(f"shelter:{sid}", 0)) for sid in shelters["id"]]
    shelters["share"] = shelters["occupancy"] / shelters["capacity"].clip(lower=1)
    shelters["radius"] = 4 + (shelters["capacity"] / max(shelters["capacity"].max(), 1)) ** 0.5 * 14
    tracks = result.tracks
    now = tracks[tracks["t_s"] == t] if len(tracks) else None
    footprint = result.tables.get("hazard")
    if footprint is not None and len(footprint):
        footprint = footprint[footprint["t_s"] <= t]
    assets = result.tables.get("assets")
    if assets is not None:
        assets = api.asset_states_at(assets, result.events, t)
    deck = city_deck(_layers(scenario.model_dump_json()), shelters, now, footprint=footprint, assets=assets)
    st.pydeck_chart(deck, height=560)
    st.caption(
        "Shelters: size by capacity; green < 80 % full, orange < 100 %, vermillion full. Water: blue "
        "(darker: deeper than the casualty depth). Shaking: orange rings. Assets: blue working, "
        "light blue on battery, vermillion down, purple compromised. Dots: sampled evacuees (pseudonymous)."
    )
