"""Forms built from the scenario schema (via ``sim.api.form_fields``), in a planner's words.

Labels and units come from ``ui.labels``; shares are edited as percentages and durations as
``h:mm`` (``h:mm:ss`` where seconds matter). The schema's description, with the technical
key, is the tooltip; its bounds are the widgets' bounds.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from sim import api
from ui.labels import clock, field


def _get(data: dict, dotted: str) -> Any:
    for part in dotted.split("."):
        data = data[part]
    return data


def _set(data: dict, dotted: str, value: Any) -> None:
    parts = dotted.split(".")
    for part in parts[:-1]:
        data = data[part]
    data[parts[-1]] = value


def duration_input(label: str, seconds: float, *, key: str, help: str, with_seconds: bool = False) -> str:
    """A duration as ``h:mm`` text (read back with ``read_duration``)."""
    return st.text_input(label, clock(seconds, with_seconds=with_seconds), key=key, help=help)


def read_duration(text: str, path: str, problems: list[tuple[str, str]]) -> float | None:
    """Seconds from ``h:mm`` (or any duration the scenario accepts); a problem named by ``path``."""
    try:
        return api.parse_duration(text)
    except ValueError as exc:
        problems.append((path, str(exc)))
        return None


def schema_form(section: str, data: dict, *, key: str) -> list[tuple[str, str]]:
    """Widgets for every simple field of ``section`` (inside a form); writes the values into
    ``data[section]`` (``data`` is the whole resolved scenario) and returns input problems.
    """
    part = _get(data, section)
    problems: list[tuple[str, str]] = []
    for f in api.form_fields(section):
        path = f"{section}.{f['key']}"
        lab = field(path)
        value = _get(part, f["key"])
        tip = f"{f['help']} ({path})"
        k = f"{key}.{f['key']}"
        if f["kind"] == "bool":
            new: Any = st.checkbox(lab.text, bool(value), help=tip, key=k)
        elif f["kind"] == "choice":
            new = st.selectbox(lab.text, f["choices"], index=f["choices"].index(value), help=tip, key=k)
        elif f["kind"] == "duration":
            text = duration_input(
                f"{lab.text} ({lab.unit or 'h:mm'})", value, key=k, help=tip, with_seconds=lab.unit == "h:mm:ss"
            )
            new = read_duration(text, path, problems)
            if new is None:
                continue
        elif lab.unit == "%":
            new = (
                st.number_input(
                    f"{lab.text} (%)",
                    min_value=0.0,
                    max_value=100.0,
                    value=round(float(value) * 100, 1),
                    help=tip,
                    key=k,
                )
                / 100.0
            )
        elif f["kind"] == "int":
            lo = int(f["min"]) if f["min"] is not None else None
            hi = int(f["max"]) if f["max"] is not None else None
            unit = f" ({lab.unit})" if lab.unit else ""
            new = int(
                st.number_input(lab.text + unit, min_value=lo, max_value=hi, value=int(value), step=1, help=tip, key=k)
            )
        else:
            lo = float(f["min"]) if f["min"] is not None else None
            hi = float(f["max"]) if f["max"] is not None else None
            unit = f" ({lab.unit})" if lab.unit else ""
            new = float(
                st.number_input(lab.text + unit, min_value=lo, max_value=hi, value=float(value), help=tip, key=k)
            )
        _set(part, f["key"], new)
    return problems
