"""Compare page: two or more runs side by side, with deltas and overlaid curves."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from ui import charts, state
from ui.components import open_from_disk, open_from_sweep
from ui.labels import FIGURES, Figure, figure_value

UNITS = {"people": "people", "time": "min", "share": "%", "devices": "devices", "records": "records"}


def _row(f: Figure) -> str:
    return f"{f.text} ({UNITS[f.unit]})"


def _value(summary: dict, f: Figure) -> float | None:
    v = figure_value(summary, f)
    if v is None:
        return None
    if f.unit == "time":
        return round(v / 60.0, 1)
    if f.unit == "share":
        return round(100.0 * v, 1)
    return v


def letters(names: list[str]) -> dict[str, str]:
    """Short column names for runs: A, B, C... (the full names are listed beside the table)."""
    return {name: chr(ord("A") + i) for i, name in enumerate(names)}


def _fmt(v: float | None) -> str:
    if v is None:
        return "not reached"
    return f"{v:,.0f}" if float(v).is_integer() else f"{v:,.1f}"


def _delta(a: float | None, b: float | None) -> str:
    if a is None or b is None:
        return "-"
    d = round(b - a, 1)
    if d == 0:
        return "0"
    return f"{d:+,.0f}" if float(d).is_integer() else f"{d:+,.1f}"


def comparison_table(summaries: dict[str, dict]) -> pd.DataFrame:
    """KPIs per run (columns A, B...) and each run's difference from the first (``B − A``), as text."""
    names = list(summaries)
    short = letters(names)
    values = {name: [_value(summaries[name], f) for f in FIGURES] for name in names}
    table = pd.DataFrame({short[n]: [_fmt(v) for v in values[n]] for n in names}, index=[_row(f) for f in FIGURES])
    for name in names[1:]:
        table[f"{short[name]} − A"] = [_delta(a, b) for a, b in zip(values[names[0]], values[name], strict=True)]
    return table


def render() -> None:
    """Draw the page."""
    st.title("Compare runs")
    open_from_disk("compare")
    open_from_sweep("compare")
    names = list(state.runs())
    if len(names) < 2:
        st.info("Make at least two runs (for example the same disaster on two network designs) to compare them.")
        return
    chosen = st.multiselect("Runs", names, default=names[-2:], key="compare.runs")
    if len(chosen) < 2:
        st.info("Choose two or more runs.")
        return
    runs = {n: state.runs()[n] for n in chosen}
    for name, letter in letters(chosen).items():
        st.text(f"{letter}: {name}")  # user text: plain
    st.dataframe(comparison_table({n: r.summary for n, r in runs.items()}), width="stretch")
    st.pyplot(charts.compare_curves({n: r.timeseries for n, r in runs.items()}), clear_figure=True)
