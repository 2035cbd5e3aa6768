"""Map page: the city's own layers, the hazard, network assets and evacuees, on a time slider.

Everything that depends on the time is computed once per run (``MapFrames``) and kept in the
session; moving the slider or playing only picks a prepared frame.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import pandas as pd
import streamlit as st

from sim import api
from ui import state
from ui.components import pick_run
from ui.maps import (
    LEGEND,
    base_layers,
    deck_of,
    district_picture,
    hazard_polygons,
    shelter_frame,
    time_layers,
    view_of,
)

KEY = "map_page"
TRUTH, SEEN = "Ground truth", "As the command centre sees it"
PLAY_PAUSE_S = 0.7


@st.cache_data(show_spinner=False, max_entries=8)
def _layers(scenario_json: str) -> dict:
    return api.city_layers(api.Scenario.model_validate_json(scenario_json))


@dataclass
class MapFrames:
    """A run's map, prepared for every recorded time."""

    times: list[float]
    layers: dict
    base: list
    shelters: list[pd.DataFrame]
    tracks: list[pd.DataFrame | None]
    hazard: list[pd.DataFrame]
    assets: list[pd.DataFrame | None]
    seen_shelters: list[pd.DataFrame]  # occupancy as last reported to the command centre
    picture: list[pd.DataFrame | None]  # districts shaded by the command centre's estimate

    @classmethod
    def of(cls, result: api.RunResult) -> MapFrames:
        """Prepare every frame of a run (one pass over its events and tables)."""
        scenario = api.Scenario.model_validate(result.scenario)
        layers = _layers(scenario.model_dump_json())
        tracks = result.tracks
        ts = result.timeseries
        times = sorted(float(t) for t in tracks["t_s"].unique()) if len(tracks) else [float(ts["t_s"].max())]
        shelters = result.tables["shelters"]
        rows = np.searchsorted(ts["t_s"].to_numpy(), times, side="right") - 1
        cols = [f"shelter:{sid}" for sid in shelters["id"]]
        occ = np.column_stack([ts[c].to_numpy() if c in ts else np.zeros(len(ts)) for c in cols])
        seen_cols = [f"observed:{sid}" for sid in shelters["id"]]
        seen = np.column_stack([ts[c].to_numpy() if c in ts else np.zeros(len(ts)) for c in seen_cols])
        located = result.tables.get("located")
        rec = ts["t_s"].to_numpy()
        at = [float(rec[max(r, 0)]) for r in rows]  # the recorded time each frame shows
        by_rec = dict(tuple(located.groupby("t_s"))) if located is not None and len(located) else {}
        footprint = result.tables.get("hazard")
        assets = result.tables.get("assets")
        asset_frames = (
            api.asset_state_frames(assets, result.events, times) if assets is not None else [None] * len(times)
        )
        by_t = dict(tuple(tracks.groupby("t_s"))) if len(tracks) else {}
        return cls(
            times=times,
            layers=layers,
            base=base_layers(layers),
            shelters=[shelter_frame(shelters, occ[max(r, 0)]) for r in rows],
            tracks=[by_t.get(t) for t in times],
            hazard=[hazard_polygons(footprint, t) for t in times],
            assets=list(asset_frames),
            seen_shelters=[shelter_frame(shelters, seen[max(r, 0)]) for r in rows],
            picture=[district_picture(layers["districts"], by_rec.get(t)) if by_rec else None for t in at],
        )

    def deck(self, i: int, *, seen: bool = False):
        """The deck at the i-th time: the ground truth, or (``seen``) the command centre's picture.

        The command centre's view has no individual positions: districts shaded by its estimate,
        shelters by their last reported counts.
        """
        if seen:
            timed = time_layers(
                self.seen_shelters[i], None, hazard=self.hazard[i], assets=self.assets[i], picture=self.picture[i]
            )
        else:
            timed = time_layers(self.shelters[i], self.tracks[i], hazard=self.hazard[i], assets=self.assets[i])
        return deck_of(self.base, timed, view_of(self.layers))


def frames(name: str, result: api.RunResult) -> MapFrames:
    """The run's prepared frames (built on first view, kept for the session)."""
    store = st.session_state.setdefault(f"{KEY}.frames", {})
    if name not in store:
        with st.spinner("Preparing the map..."):
            store[name] = MapFrames.of(result)
        for old in [k for k in store if k not in state.runs()]:
            del store[old]
    return store[name]


def clock(t_s: float) -> str:
    """Simulated time as h:mm."""
    m = round(t_s / 60)
    return f"{m // 60}:{m % 60:02d}"


def render() -> None:
    """Draw the page."""
    st.title("Map")
    name = pick_run(f"{KEY}.run")
    if name is None:
        return
    f = frames(name, state.runs()[name])
    t_key, play_key = f"{KEY}.t", f"{KEY}.playing"
    # The slider's value is set here, before the widget exists (Streamlit forbids it after).
    if st.session_state.get(t_key) not in f.times:
        st.session_state[t_key] = f.times[-1]
    playing = st.session_state.get(play_key, False)
    if playing:
        later = [x for x in f.times if x > st.session_state[t_key]]
        if later:
            st.session_state[t_key] = later[0]
        else:
            st.session_state[play_key] = playing = False
    c1, c2 = st.columns([5, 1])
    t = c1.select_slider("Time (h:mm)", options=f.times, format_func=clock, key=t_key)
    if c2.button("⏸ Pause" if playing else "▶ Play", key=f"{KEY}.play", help="step through the recorded times"):
        if not playing and t == f.times[-1]:
            st.session_state[t_key] = f.times[0]
        st.session_state[play_key] = not playing
        st.rerun()
    i = f.times.index(t)
    view = st.radio(
        "View",
        [TRUTH, SEEN],
        horizontal=True,
        key=f"{KEY}.view",
        help="the command centre's picture comes from what its location sources reported (docs/location.md)",
    )
    if view == SEEN and f.picture[i] is None:
        st.info("This run has no location picture (location.enabled was off).")
    st.pydeck_chart(f.deck(i, seen=view == SEEN), height=560, key=f"{KEY}.deck")
    st.markdown(LEGEND.html(), unsafe_allow_html=True)  # our own fixed text only
    if playing:
        time.sleep(PLAY_PAUSE_S)
        st.rerun()
