"""Forms built from the scenario schema (via ``sim.api.form_fields``): one widget per simple field."""

from __future__ import annotations

from typing import Any

import streamlit as st

from sim import api


def _get(data: dict, dotted: str) -> Any:
    for part in dotted.split("."):
        data = data[part]
    return data


def _set(data: dict, dotted: str, value: Any) -> None:
    parts = dotted.split(".")
    for part in parts[:-1]:
        data = data[part]
    data[parts[-1]] = value


def schema_form(section: str, data: dict, *, key: str) -> None:
    """Widgets for every simple field of ``section`` (inside a form); writes the values into
    ``data[section]`` (``data`` is the whole resolved scenario).

    Labels are the field names in plain words; the schema's description (with the technical key)
    is the tooltip. Bounds come from the schema, so the widgets cannot leave them.
    """
    part = _get(data, section)
    for f in api.form_fields(section):
        value = _get(part, f["key"])
        label = f["key"].replace(".", ": ").replace("_", " ")
        tip = f"{f['help']} ({section}.{f['key']})"
        k = f"{key}.{f['key']}"
        if f["kind"] == "bool":
            new = st.checkbox(label, bool(value), help=tip, key=k)
        elif f["kind"] == "choice":
            new = st.selectbox(label, f["choices"], index=f["choices"].index(value), help=tip, key=k)
        elif f["kind"] == "duration":
            new = 60.0 * st.number_input(
                f"{label} (min)", min_value=0.0, value=float(value) / 60.0, step=1.0, help=tip, key=k
            )
        elif f["kind"] == "int":
            lo = int(f["min"]) if f["min"] is not None else None
            hi = int(f["max"]) if f["max"] is not None else None
            new = int(st.number_input(label, min_value=lo, max_value=hi, value=int(value), step=1, help=tip, key=k))
        else:
            lo = float(f["min"]) if f["min"] is not None else None
            hi = float(f["max"]) if f["max"] is not None else None
            new = float(st.number_input(label, min_value=lo, max_value=hi, value=float(value), help=tip, key=k))
        _set(part, f["key"], new)
