"""Session state shared by the pages: the scenario being edited and the runs made so far.

Each browser session has its own scenario, runs and upload folder; nothing is shared between
users. Keys live here only, so pages stay thin.
"""

from __future__ import annotations

import tempfile
import uuid
from pathlib import Path

import streamlit as st

from sim import api

SCENARIO = "state.scenario"  # (label, Scenario)
RUNS = "state.runs"  # {label: RunResult}, in run order
SESSION = "state.session"
DEFAULT_SAMPLE = "kotka_district_evacuation"
MAX_RUNS = 6  # kept per session (older ones are dropped)


def current() -> tuple[str, api.Scenario]:
    """The scenario being edited (the default sample at first)."""
    if SCENARIO not in st.session_state:
        samples = api.sample_scenarios()
        name = DEFAULT_SAMPLE if DEFAULT_SAMPLE in samples else next(iter(samples))
        st.session_state[SCENARIO] = (name, api.load_scenario(samples[name]))
    return st.session_state[SCENARIO]


def set_current(label: str, scenario: api.Scenario) -> None:
    """Make ``scenario`` the one the Run page runs."""
    st.session_state[SCENARIO] = (label, scenario)


def runs() -> dict[str, api.RunResult]:
    """Runs of this session, oldest first."""
    return st.session_state.setdefault(RUNS, {})


def add_run(label: str, result: api.RunResult) -> str:
    """Keep a run under a unique label; returns the label."""
    store = runs()
    n = 1
    name = label
    while name in store:
        n += 1
        name = f"{label} ({n})"
    store[name] = result
    while len(store) > MAX_RUNS:
        store.pop(next(iter(store)))
    return name


def upload_folder() -> Path:
    """This session's private folder for uploaded files."""
    if SESSION not in st.session_state:
        st.session_state[SESSION] = uuid.uuid4().hex
    return Path(tempfile.gettempdir()) / "safecity-uploads" / st.session_state[SESSION]


def show_problems(exc: api.InputError) -> None:
    """Field-named messages, as on the command line."""
    for field, message in exc.problems:
        st.error(f"{field}: {message}")


def minutes(seconds: float | None) -> str:
    """A KPI time in minutes, or 'not reached'."""
    return "not reached" if seconds is None else f"{seconds / 60:.0f} min"
