"""Session state shared by the pages: the scenario being edited and the runs made so far.

Each browser session has its own scenario, runs and upload folder; nothing is shared between
users. Keys live here only, so pages stay thin.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
import weakref
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


def uploads_root() -> Path:
    """This server process's folder of upload folders (private to the user running the app)."""
    return Path(tempfile.gettempdir()) / f"safecity-uploads-{os.getuid()}" / f"server-{os.getpid()}"


def _clean_stale_uploads() -> None:
    """At server start: delete the upload folders of app processes that are gone."""
    parent = uploads_root().parent
    if not parent.is_dir():
        return
    for folder in parent.glob("server-*"):
        try:
            pid = int(folder.name.removeprefix("server-"))
            os.kill(pid, 0)
            alive = True
        except (ValueError, ProcessLookupError):
            alive = False
        except PermissionError:
            alive = True
        if not alive:
            shutil.rmtree(folder, ignore_errors=True)


_clean_stale_uploads()  # once per server process: this module is imported once


class _SessionFolder:
    """A session's upload folder (mode 0700), deleted when the session's state is let go."""

    def __init__(self) -> None:
        self.path = uploads_root() / uuid.uuid4().hex
        for p in (uploads_root().parent, uploads_root(), self.path):
            p.mkdir(mode=0o700, exist_ok=True)
            os.chmod(p, 0o700)
        self._finalizer = weakref.finalize(self, shutil.rmtree, str(self.path), True)


def upload_folder() -> Path:
    """This session's private folder for uploaded files (deleted with the session, or at the next start)."""
    holder = st.session_state.get(SESSION)
    if not isinstance(holder, _SessionFolder) or not holder.path.is_dir():
        holder = _SessionFolder()
        st.session_state[SESSION] = holder
    return holder.path


NOTICE = "state.notice"


def notify(kind: str, message: str, details: list[str] | tuple[str, ...] = ()) -> None:
    """A message that stays until the next action (shown by ``show_notice``); details are user text."""
    st.session_state[NOTICE] = (kind, message, list(details))


def show_notice() -> None:
    """The last notice, if any: our own words in the box, user text as plain text below it."""
    notice = st.session_state.get(NOTICE)
    if not notice:
        return
    kind, message, details = notice
    {"success": st.success, "warning": st.warning}.get(kind, st.info)(message)
    for line in details:
        st.text(line)


def show_problems(exc: api.InputError) -> None:
    """Field-named messages, as on the command line, shown as plain text (never Markdown) and
    with every file path reduced to its name (no server path reaches a browser)."""
    exc = api.public_problems(exc, uploads_root())
    st.error("Please correct the following:", icon="⚠️")
    st.code("\n".join(exc.lines()), language=None, wrap_lines=True)
