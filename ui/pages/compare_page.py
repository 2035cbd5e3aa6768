"""Compare page: two or more runs side by side, with deltas and overlaid curves."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from ui import charts, state

ROWS = {
    "Ordered to leave (people)": ("evacuation", "ordered"),
    "In shelters at the end (people)": ("evacuation", "sheltered"),
    "Stayed home (people)": ("evacuation", "not_departed"),
    "Stranded (people)": ("evacuation", "stranded"),
    "Casualties (people)": ("evacuation", "casualties"),
    "T50 (min)": ("evacuation", "t50_s"),
    "T90 (min)": ("evacuation", "t90_s"),
    "T95 (min)": ("evacuation", "t95_s"),
    "Warned (%)": ("alerts", "reach_fraction"),
    "Relatives told (%)": (None, "relatives_notified_fraction"),
    "Devices compromised, peak": ("cyber", "devices_compromised_peak"),
    "Records exposed": ("cyber", "records_exposed"),
}


def _value(summary: dict, where: tuple[str | None, str]) -> float | None:
    part, key = where
    v = summary.get(key) if part is None else summary.get(part, {}).get(key)
    if v is None:
        return None
    if key.endswith("_s"):
        return round(v / 60.0, 1)
    if key.endswith("fraction"):
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
    values = {name: [_value(summaries[name], w) for w in ROWS.values()] for name in names}
    table = pd.DataFrame({short[n]: [_fmt(v) for v in values[n]] for n in names}, index=list(ROWS))
    for name in names[1:]:
        table[f"{short[name]} − A"] = [_delta(a, b) for a, b in zip(values[names[0]], values[name], strict=True)]
    return table


def render() -> None:
    """Draw the page."""
    st.title("Compare runs")
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
