"""Components shared by the pages (pages never import each other): run picker, KPI cards."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import streamlit as st

from sim import api
from ui import state
from ui.labels import KPIS, clock, people, percent


def runs_root() -> Path:
    """Where run directories made on the command line live (``SAFECITY_RUNS_DIR``, default ``runs/``)."""
    return Path(os.environ.get("SAFECITY_RUNS_DIR", "runs"))


def open_from_disk(key: str) -> None:
    """Open a run directory under ``runs/`` (made on the command line, or by a colleague) in this session."""
    folders = api.run_folders(runs_root())
    with st.expander(f"Open a run directory from {runs_root()}/ ({len(folders)})", expanded=not state.runs()):
        if not folders:
            st.caption("None there yet: `python -m sim run SCENARIO` writes one.")
            return
        names = [f.name for f in folders]
        name = st.selectbox("Run directory", names, key=f"{key}.disk")
        if st.button("Open", key=f"{key}.open"):
            try:
                result = api.load_run(folders[names.index(name)])
            except api.InputError as exc:
                state.show_problems(exc)
                return
            st.session_state[key] = state.add_run(name, result)
            st.rerun()


def sweeps_root() -> Path:
    """Where sweep folders live (``SAFECITY_SWEEPS_DIR``, default ``sweeps/``)."""
    return Path(os.environ.get("SAFECITY_SWEEPS_DIR", "sweeps"))


@st.cache_data(show_spinner=False, max_entries=16)
def _sweep_runs(folder: str, stamp: float) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A sweep's (point, seed) runs and its design, read once per change of its manifest (``stamp``).

    Every page that shows a run draws the sweep picker on each rerun (a Play step too): the
    folder is not read again until the sweep writes its manifest.
    """
    data = api.read_sweep(folder)
    results = data["results"]
    return results[["point", "seed"]] if len(results) else results, data["design"]


def open_from_sweep(key: str) -> None:
    """Open one run of a sweep: it is run again (same scenario and seed) with every table."""
    folders = api.sweep_folders(sweeps_root())
    if not folders:
        return
    with st.expander(f"Open a run of a sweep from {sweeps_root()}/ ({len(folders)})"):
        st.caption(
            "A sweep keeps only each run's figures; the run you pick is run again, with the same "
            "scenario and seed (the same figures), to show it on the map and in the charts."
        )
        names = [f.name for f in folders]
        name = st.selectbox("Sweep", names, key=f"{key}.sweep")
        folder = folders[names.index(name)]
        try:
            results, design = _sweep_runs(str(folder), (folder / "manifest.json").stat().st_mtime)
        except (OSError, ValueError):
            st.text("This sweep cannot be read.")
            return
        if not len(results):
            st.text("This sweep has no finished run yet.")
            return
        params = [c for c in design.columns if c != "point"]

        def describe(point: int) -> str:
            row = design[design["point"] == point]
            values = ", ".join(f"{p} = {row[p].iloc[0]:g}" for p in params) if len(row) else ""
            return f"point {point}: {values}" if values else f"point {point}"

        points = sorted(int(p) for p in results["point"].unique())
        point = st.selectbox("Point", points, format_func=describe, key=f"{key}.point")
        seeds = sorted(int(s) for s in results.loc[results["point"] == point, "seed"].unique())
        seed = st.selectbox("Seed", seeds, key=f"{key}.seed")
        kept = api.sweep_kept_run(folder, point, seed)
        if kept is not None and st.button("Open it (the sweep kept its run directory)", key=f"{key}.sweep_kept"):
            try:
                result = api.load_run(kept)
            except api.InputError as exc:
                state.show_problems(exc)
                return
            st.session_state[key] = state.add_run(f"{name} point {point} seed {seed}", result)
            st.rerun()
        if kept is None and st.button("Run it again and open it", key=f"{key}.sweep_open"):
            try:
                scenario = api.sweep_point_scenario(folder, point, seed)
                api.check_ui_limits(scenario)
                with st.spinner("Running..."):
                    result = api.run_isolated(scenario)
            except api.InputError as exc:
                state.show_problems(exc)
                return
            except api.RunLimitError as exc:
                st.text(f"The run stopped: {exc}")
                return
            st.session_state[key] = state.add_run(f"{name} point {point} seed {seed}", result)
            st.rerun()


def pick_run(key: str) -> str | None:
    """A run of this session, from disk or from a sweep, chosen by the user (the latest first), with a zip download."""
    open_from_disk(key)
    open_from_sweep(key)
    names = list(state.runs())[::-1]
    if not names:
        st.info("No run yet: run a scenario on the Run page, or open a run directory above.")
        return None
    name = st.selectbox("Run", names, key=key)
    if name is not None and st.toggle("Prepare a download of this run (zip)", key=f"{key}.zip"):
        st.download_button(
            "Download the run directory (zip)",
            _zip(name),
            file_name=f"{name}.zip".replace(" ", "_"),
            mime="application/zip",
            key=f"{key}.dl",
        )
    return name


def _zip(name: str) -> bytes:
    cache = st.session_state.setdefault("components.zips", {})
    if name not in cache:
        cache.clear()  # one zip at a time in memory
        cache[name] = api.run_zip(state.runs()[name])
    return cache[name]


def not_reached(summary: dict, share: int) -> str:
    """Why a TXX time is missing, in plain words (for example "93 % were warned; T95 needs 95 %")."""
    ev, al = summary["evacuation"], summary["alerts"]
    ordered = ev["ordered"] or 0
    if not ordered:
        return "nobody was ordered to leave"
    warned = al.get("reach_fraction") or 0.0
    sheltered = (ev.get("sheltered_ordered", ev.get("sheltered")) or 0) / ordered
    if warned * 100 < share:
        return f"{percent(warned)} were warned; T{share} needs {share} %"
    return f"{percent(sheltered)} reached a shelter by the end; T{share} needs {share} %"


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
        percent(reach),
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
    shadow = int(s["evacuation"].get("shadow_evacuees") or 0)
    if shadow:
        st.caption(
            f"Left without an order (in the order's shadow): {shadow:,} people. They use the same roads and "
            "shelters, but the times above count only those ordered out."
        )
