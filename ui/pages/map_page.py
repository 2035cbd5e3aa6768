"""Map page: the city's own layers, the hazard, network assets and evacuees, on a time slider.

Everything that depends on the time is prepared once per run (``MapFrames``) and kept in the
session: the run's tables grouped by time at once, each time's layers when first shown (a
million-citizen run has 361 times; preparing them all took 18 s before the map appeared).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar, overload

import numpy as np
import pandas as pd
import streamlit as st

from sim import api
from ui import state
from ui.components import pick_run
from ui.maps import (
    LEGEND,
    base_layers,
    congestion_frame,
    deck_of,
    district_picture,
    hazard_polygons,
    road_label,
    road_paths,
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


T = TypeVar("T")


class Frames(Sequence[T], Generic[T]):
    """One value per recorded time, made by ``make(i)`` when first asked for, then kept."""

    def __init__(self, n: int, make: Callable[[int], T]):
        self._n = n
        self._make = make
        self._made: dict[int, T] = {}

    def __len__(self) -> int:
        return self._n

    @overload
    def __getitem__(self, i: int) -> T: ...
    @overload
    def __getitem__(self, i: slice) -> list[T]: ...
    def __getitem__(self, i: int | slice) -> T | list[T]:
        if isinstance(i, slice):
            return [self[k] for k in range(*i.indices(self._n))]
        k = range(self._n)[i]  # negative indices, and IndexError beyond the end
        if k not in self._made:
            self._made[k] = self._make(k)
        return self._made[k]

    def made(self) -> int:
        """How many frames were made so far."""
        return len(self._made)


@dataclass
class MapFrames:
    """A run's map at every recorded time (each time's layers made when first shown)."""

    times: list[float]
    layers: dict
    base: list
    shelters: Sequence[pd.DataFrame]
    tracks: Sequence[pd.DataFrame | None]
    hazard: Sequence[pd.DataFrame]
    assets: Sequence[pd.DataFrame | None]
    seen_shelters: Sequence[pd.DataFrame]  # occupancy as last reported to the command centre
    picture: Sequence[pd.DataFrame | None]  # districts shaded by the command centre's estimate
    congestion: Sequence[pd.DataFrame | None]  # roads with traffic in the recorded interval shown
    bottlenecks: pd.DataFrame  # the worst roads of the run (empty for runs without road tables)

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
        roads, flows = result.tables.get("roads"), result.tables.get("road_flows")
        n = len(times)
        congestion: Sequence[pd.DataFrame | None] = [None] * n
        if roads is not None and flows is not None and len(flows):
            paths = road_paths(roads)
            worst = float(flows["queue"].max())
            flows_at = dict(tuple(flows.groupby("t_s")))
            congestion = Frames(n, lambda i: congestion_frame(paths, flows_at.get(at[i]), worst))
        return cls(
            times=times,
            layers=layers,
            base=base_layers(layers),
            shelters=Frames(n, lambda i: shelter_frame(shelters, occ[max(rows[i], 0)])),
            tracks=[by_t.get(t) for t in times],
            hazard=Frames(n, lambda i: hazard_polygons(footprint, times[i])),
            assets=list(asset_frames),
            seen_shelters=Frames(n, lambda i: shelter_frame(shelters, seen[max(rows[i], 0)])),
            picture=(
                Frames(n, lambda i: district_picture(layers["districts"], by_rec.get(at[i]))) if by_rec else [None] * n
            ),
            congestion=congestion,
            bottlenecks=worst_roads(roads),
        )

    def deck(self, i: int, *, seen: bool = False, focus: tuple[float, float] | None = None):
        """The deck at the i-th time: the ground truth, or (``seen``) the command centre's picture.

        The command centre's view has no individual positions: districts shaded by its estimate,
        shelters by their last reported counts. ``focus`` centres the map on a point, close up.
        """
        if seen:
            timed = time_layers(
                self.seen_shelters[i], None, hazard=self.hazard[i], assets=self.assets[i], picture=self.picture[i]
            )
        else:
            timed = time_layers(
                self.shelters[i],
                self.tracks[i],
                hazard=self.hazard[i],
                assets=self.assets[i],
                congestion=self.congestion[i],
            )
        view = view_of(self.layers) if focus is None else view_of(self.layers, center=focus, zoom=17.0)
        return deck_of(self.base, timed, view)


def worst_roads(roads: pd.DataFrame | None, n: int = 10) -> pd.DataFrame:
    """The ``n`` worst bottlenecks: roads with a queue, by peak queue then longest wait."""
    cols = ["label", "peak_queue", "peak_queue_t_s", "longest_wait_s", "passed", "lon", "lat"]
    if roads is None or "peak_queue" not in roads or not (roads["peak_queue"] > 0).any():
        return pd.DataFrame({c: [] for c in cols})
    top = roads[roads["peak_queue"] > 0].sort_values(
        ["peak_queue", "longest_wait_s", "road_id"], ascending=[False, False, True], kind="stable"
    )
    top = top.head(n).copy()
    import shapely

    mid = shapely.line_interpolate_point(np.asarray(top.geometry.array), 0.5, normalized=True)  # about halfway
    top["lon"], top["lat"] = shapely.get_x(mid), shapely.get_y(mid)
    labels = zip(top["road_id"], top["name"], top["highway"], strict=True)
    top["label"] = [road_label(r, nm, hw) for r, nm, hw in labels]
    return top[cols].reset_index(drop=True)


def frames(name: str, result: api.RunResult) -> MapFrames:
    """The run's prepared frames (built on first view, kept for the session)."""
    store = st.session_state.setdefault(f"{KEY}.frames", {})
    if name not in store:
        with st.spinner("Preparing the map..."):
            store[name] = MapFrames.of(result)
        for old in [k for k in store if k not in state.runs()]:
            del store[old]
    return store[name]


def _centre_on(lon: float, lat: float, t_s: float, times: list[float], t_key: str) -> None:
    """Button callback (runs before the page): centre the map on a road at its worst moment."""
    st.session_state[f"{KEY}.focus"] = (lon, lat)
    later = [x for x in times if x >= t_s]
    st.session_state[t_key] = later[0] if later else times[-1]
    st.session_state[f"{KEY}.playing"] = False


def _bottlenecks(f: MapFrames, t_key: str) -> None:
    """The ten worst bottlenecks by name; each button centres the map on one at its peak queue."""
    st.subheader("Worst bottlenecks")
    if not len(f.bottlenecks):
        st.caption("No road had a queue in this run (or the run predates per-road results).")
        return
    st.caption(
        "Roads where most people waited at once (road_flows.parquet has every interval). "
        "The button centres the map on the road at the time of its longest queue."
    )
    for k, row in f.bottlenecks.iterrows():
        c1, c2 = st.columns([5, 1])
        c1.text(
            f"{k + 1}. {row['label']}: {int(row['peak_queue']):,} waiting at {clock(row['peak_queue_t_s'])}, "
            f"longest wait {row['longest_wait_s'] / 60:.1f} min, {int(row['passed']):,} passed"
        )
        c2.button(
            "Centre",
            key=f"{KEY}.centre.{k}",
            on_click=_centre_on,
            args=(float(row["lon"]), float(row["lat"]), float(row["peak_queue_t_s"]), f.times, t_key),
        )
    if st.session_state.get(f"{KEY}.focus") is not None:
        st.button("Show the whole city", key=f"{KEY}.unfocus", on_click=lambda: st.session_state.pop(f"{KEY}.focus"))


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
    focus = st.session_state.get(f"{KEY}.focus")
    st.pydeck_chart(f.deck(i, seen=view == SEEN, focus=focus), height=560, key=f"{KEY}.deck")
    st.markdown(LEGEND.html(), unsafe_allow_html=True)  # our own fixed text only
    _bottlenecks(f, t_key)
    if playing:
        time.sleep(PLAY_PAUSE_S)
        st.rerun()
