"""Sweeps page: open any sweep folder under sweeps/ (response curves, bands, sensitivity), or run a small one."""

from __future__ import annotations

import math
import secrets
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import streamlit as st

from sim import api
from ui import charts, state
from ui.components import sweeps_root

KEY = "sweeps_page"
RUNNING = f"{KEY}.running"


def figures_of(points: pd.DataFrame) -> list[str]:
    """The figures a points table has (``<figure>.mean`` columns), the headline ones first."""
    have = [c[: -len(".mean")] for c in points.columns if c.endswith(".mean")]
    varying = [f for f in have if points[f"{f}.mean"].nunique(dropna=True) > 1]
    first = [f for f in api.SWEEP_HEADLINE if f in varying]
    return first + [f for f in varying if f not in first] + [f for f in have if f not in varying]


def _open(folder: Path) -> None:
    data = api.read_sweep(folder)
    man, points, sens = data["manifest"], data["points"], data["sensitivity"]
    params = [c for c in data["design"].columns if c != "point"]
    c1, c2, c3, c4 = st.columns(4)
    c1.metric("Points", f"{man.get('points', len(points)):,}")
    c2.metric("Runs", f"{man.get('runs', len(data['results'])):,}")
    c3.metric("Failed runs", f"{man.get('failed', 0):,}")
    c4.metric("State", str(man.get("state", "?")))
    if points.empty:
        st.info("This sweep has no finished points yet.")
        return
    figures = figures_of(points)
    a, b = st.columns(2)
    figure = a.selectbox("Figure", figures, key=f"{KEY}.figure")
    varied = [p for p in params if points[p].nunique() > 1] or params
    param = b.selectbox("Parameter", varied, key=f"{KEY}.param")
    st.subheader("Response: mean over seeds with its 95 % confidence band")
    st.pyplot(charts.sweep_response(points, param, figure), clear_figure=True)
    if len(sens) and figure in set(sens["figure"]):
        st.subheader("Sensitivity")
        st.pyplot(charts.sweep_sensitivity(sens, figure), clear_figure=True)
    st.subheader("Points")
    cols = ["point", *params, "n", f"{figure}.mean", f"{figure}.ci95_low", f"{figure}.ci95_high"]
    cols += ["target_met"] if "target_met" in points else []
    st.dataframe(points[[c for c in cols if c in points]], hide_index=True)
    report = folder / "report.html"
    if report.exists():
        st.download_button("Download report.html", report.read_bytes(), file_name=f"{folder.name}-report.html")


def _values(text: str) -> list[float]:
    out = []
    for part in text.replace(";", ",").split(","):
        part = part.strip()
        if part:
            v = float(part)
            if not math.isfinite(v):
                raise ValueError(part)
            out.append(v)
    return out


def _launch() -> None:
    label, scenario = state.current()
    st.text(f"Varying the scenario in use: {label}")
    offered = api.sweep_parameters(scenario)
    chosen = st.multiselect("Parameters (a grid over every combination)", offered, max_selections=3, key=f"{KEY}.p")
    values: dict[str, list[float]] = {}
    bad = []
    for p in chosen:
        text = st.text_input(f"Values of {p} (comma-separated)", key=f"{KEY}.v.{p}")
        try:
            values[p] = _values(text)
        except ValueError:
            bad.append(p)
    seeds = st.number_input("Seeds per point", min_value=1, max_value=20, value=3, key=f"{KEY}.seeds")
    runs = int(seeds) * math.prod(len(v) for v in values.values()) if values else 0
    st.caption(f"{runs} runs (the app runs at most {api.UI_SWEEP_RUNS}; larger sweeps: the command line)")
    if st.session_state.pop(RUNNING, False):
        st.warning("The last sweep was cancelled; its finished runs are kept in its folder.")
    if not st.button("Run sweep", type="primary", key=f"{KEY}.run", disabled=not chosen):
        return
    if bad:
        state.show_problems(api.InputError([(f"parameters.{p}", "values must be numbers") for p in bad]))
        return
    st.session_state[RUNNING] = True
    st.button("Cancel", key=f"{KEY}.cancel", help="stops the sweep; finished runs stay")
    bar = st.progress(0.0, text="Starting the workers…")

    def progress(done: int, total: int, failed: int) -> None:
        bar.progress(min(done / max(total, 1), 1.0), text=f"{done} of {total} runs · {failed} failed")

    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    out = sweeps_root() / f"app-sweep-{stamp}-{secrets.token_hex(3)}"
    try:
        api.ui_sweep(
            scenario,
            values,
            seeds=int(seeds),
            folder=state.upload_folder() / out.name,
            out=out,
            on_progress=progress,
        )
    except api.InputError as exc:
        state.show_problems(exc)
        st.session_state.pop(RUNNING, None)
        return
    st.session_state.pop(RUNNING, None)
    st.session_state[f"{KEY}.open"] = out.name
    st.rerun()


def render() -> None:
    """Draw the page."""
    st.title("Sweeps")
    state.show_notice()
    tab_open, tab_run = st.tabs(["Open a sweep", "Run a small sweep"])
    with tab_run:
        _launch()
    with tab_open:
        folders = api.sweep_folders(sweeps_root())
        if not folders:
            st.info(f"No sweep under {sweeps_root()}/ yet. Run one here or with `python -m sim sweep`.")
            return
        names = [f.name for f in folders]
        want = st.session_state.get(f"{KEY}.open")
        index = names.index(want) if want in names else 0
        name = st.selectbox("Sweep", names, index=index, key=f"{KEY}.pick")
        _open(folders[names.index(name)])
