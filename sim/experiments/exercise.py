"""Training exercises: the log (SQLite), applying injects and actions, headless runs, replays, reports.

SPEC section 6, docs/exercises.md. The exercise's log in ``exercise.sqlite`` (WAL mode) is the
source of truth: every inject delivered and every action taken, with its role and its simulated
and wall time. Replaying the log on the same scenario gives the same run; replaying it without
the actions gives the baseline that the after-action report compares against.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import os
import sqlite3
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sim.core.errors import InputError
from sim.core.records import RunResult
from sim.experiments.control import Simulation
from sim.experiments.exercisefile import Action, Exercise, Inject, check_args
from sim.scenario.loader import dump_yaml, load_scenario, parse_yaml
from sim.scenario.schema import Scenario

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS log(
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL CHECK (kind IN ('inject', 'action')),
    ref TEXT NOT NULL,            -- the inject id, or the action's name
    role TEXT NOT NULL,           -- who acted (actions) or who received it (injects)
    action TEXT,                  -- the action or the inject's effect (NULL: none)
    args TEXT NOT NULL,           -- JSON arguments
    sim_t REAL NOT NULL,
    wall_t TEXT NOT NULL,
    outcome TEXT NOT NULL         -- JSON: applied, or the problem
);
CREATE TABLE IF NOT EXISTS pending(
    seq INTEGER PRIMARY KEY AUTOINCREMENT, role TEXT NOT NULL, action TEXT NOT NULL, args TEXT NOT NULL,
    wall_t TEXT NOT NULL, inject TEXT
);
CREATE TABLE IF NOT EXISTS control(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS passphrases(role TEXT PRIMARY KEY, salt BLOB NOT NULL, hash BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS snapshot(id INTEGER PRIMARY KEY CHECK (id = 1), sim_t REAL, wall_t TEXT, truth TEXT,
    command TEXT);
CREATE TABLE IF NOT EXISTS notes(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS messages(ref TEXT PRIMARY KEY, to_role TEXT NOT NULL, message TEXT NOT NULL);
"""
SCRYPT = {"n": 2**14, "r": 8, "p": 1, "dklen": 32}


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


class ExerciseLog:
    """``exercise.sqlite``: meta, the log, queued actions, control, passphrase hashes, the latest snapshot."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.db = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=False)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.executescript(SCHEMA)

    def close(self) -> None:
        """Close the connection."""
        self.db.close()

    # -- meta and control --------------------------------------------------------------------

    def set_meta(self, **values: Any) -> None:
        """Store meta values (JSON)."""
        with self.db:
            for k, v in values.items():
                self.db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (k, json.dumps(v)))

    def meta(self) -> dict[str, Any]:
        """Every meta value."""
        return {k: json.loads(v) for k, v in self.db.execute("SELECT key, value FROM meta")}

    def set_control(self, **values: Any) -> None:
        """Set control values (speed, paused, state, heartbeat...)."""
        with self.db:
            for k, v in values.items():
                self.db.execute("INSERT OR REPLACE INTO control VALUES (?, ?)", (k, json.dumps(v)))

    def control(self) -> dict[str, Any]:
        """Every control value."""
        return {k: json.loads(v) for k, v in self.db.execute("SELECT key, value FROM control")}

    # -- the log -----------------------------------------------------------------------------

    def append(
        self,
        *,
        kind: str,
        ref: str,
        role: str,
        action: str | None,
        args: Any,
        sim_t: float,
        outcome: Any,
        pending: int | None = None,
    ) -> None:
        """Add one entry to the log; with ``pending``, remove that queued action in the same transaction."""
        self.db.execute("BEGIN IMMEDIATE")
        try:
            self.db.execute(
                "INSERT INTO log(kind, ref, role, action, args, sim_t, wall_t, outcome) VALUES (?,?,?,?,?,?,?,?)",
                (kind, ref, role, action, json.dumps(args), float(sim_t), _now(), json.dumps(outcome)),
            )
            if pending is not None:
                self.db.execute("DELETE FROM pending WHERE seq = ?", (pending,))
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    def entries(self) -> list[dict[str, Any]]:
        """The log in order."""
        cur = self.db.execute("SELECT seq, kind, ref, role, action, args, sim_t, wall_t, outcome FROM log ORDER BY seq")
        cols = [d[0] for d in cur.description]
        out = []
        for row in cur:
            e = dict(zip(cols, row, strict=True))
            e["args"] = json.loads(e["args"])
            e["outcome"] = json.loads(e["outcome"])
            out.append(e)
        return out

    # -- queued actions (live) ---------------------------------------------------------------

    def queue(self, role: str, action: str, args: Any, *, inject: str | None = None) -> None:
        """Queue a player's action; the runner applies it at the current simulated time."""
        with self.db:
            self.db.execute(
                "INSERT INTO pending(role, action, args, wall_t, inject) VALUES (?,?,?,?,?)",
                (role, action, json.dumps(args), _now(), inject),
            )

    def take_pending(self) -> list[tuple[int, str, str, Any]]:
        """The queued actions, oldest first (they stay queued until ``done``)."""
        rows = self.db.execute("SELECT seq, role, action, args FROM pending ORDER BY seq").fetchall()
        return [(seq, role, action, json.loads(args)) for seq, role, action, args in rows]

    def done(self, seq: int) -> None:
        """Remove a queued action once it is in the log."""
        with self.db:
            self.db.execute("DELETE FROM pending WHERE seq = ?", (seq,))

    # -- passphrases -------------------------------------------------------------------------

    def set_passphrase(self, role: str, passphrase: str) -> None:
        """Store a role's passphrase as an scrypt hash (never the passphrase)."""
        if len(passphrase) < 8:
            raise InputError.single(f"passphrases.{role}", "at least 8 characters")
        salt = os.urandom(16)
        digest = hashlib.scrypt(passphrase.encode(), salt=salt, **SCRYPT)
        with self.db:
            self.db.execute("INSERT OR REPLACE INTO passphrases VALUES (?, ?, ?)", (role, salt, digest))

    def check_passphrase(self, role: str, passphrase: str) -> bool:
        """Whether ``passphrase`` is ``role``'s (constant-time comparison)."""
        row = self.db.execute("SELECT salt, hash FROM passphrases WHERE role = ?", (role,)).fetchone()
        if row is None:
            return False
        digest = hashlib.scrypt(passphrase.encode(), salt=row[0], **SCRYPT)
        return hmac.compare_digest(digest, row[1])

    # -- snapshot ----------------------------------------------------------------------------

    def write_snapshot(self, sim_t: float, truth: dict[str, Any], command: dict[str, Any]) -> None:
        """The latest state, for every browser (one row, replaced)."""
        with self.db:
            self.db.execute(
                "INSERT OR REPLACE INTO snapshot VALUES (1, ?, ?, ?, ?)",
                (float(sim_t), _now(), json.dumps(truth), json.dumps(command)),
            )

    def snapshot(self) -> dict[str, Any] | None:
        """The latest snapshot, or None."""
        row = self.db.execute("SELECT sim_t, wall_t, truth, command FROM snapshot WHERE id = 1").fetchone()
        if row is None:
            return None
        return {"sim_t": row[0], "wall_t": row[1], "truth": json.loads(row[2]), "command": json.loads(row[3])}

    # -- messages and inboxes ----------------------------------------------------------------

    def add_message(self, ref: str, *, to: str, message: str) -> None:
        """The text of an unscheduled inject (the MSEL's own are in the meta)."""
        with self.db:
            self.db.execute("INSERT OR REPLACE INTO messages VALUES (?, ?, ?)", (ref, to, message))

    def inbox(self, role: str | None = None) -> list[dict[str, Any]]:
        """Delivered injects (to ``role``, or all), newest first: id, time, from, method, message."""
        msel = {m["id"]: m for m in self.meta().get("msel", [])}
        extra = {r: (to, msg) for r, to, msg in self.db.execute("SELECT ref, to_role, message FROM messages")}
        out = []
        for e in self.entries():
            if e["kind"] != "inject" or (role is not None and e["role"] != role):
                continue
            m = msel.get(e["ref"])
            text = m["message"] if m else extra.get(e["ref"], ("", ""))[1]
            out.append(
                {
                    "id": e["ref"],
                    "t_s": e["sim_t"],
                    "to": e["role"],
                    "from": (m or {}).get("from", "exercise control"),
                    "method": (m or {}).get("method", "control"),
                    "message": text,
                }
            )
        return out[::-1]

    # -- notes (the controller's AAR edits) --------------------------------------------------

    def set_note(self, key: str, value: str) -> None:
        """Store an edited AAR text."""
        with self.db:
            self.db.execute("INSERT OR REPLACE INTO notes VALUES (?, ?)", (key, value))

    def notes(self) -> dict[str, str]:
        """Every edited AAR text."""
        return dict(self.db.execute("SELECT key, value FROM notes"))


# ---------------------------------------------------------------------------------------- applying


def apply(sim: Simulation, action: str, args: dict[str, Any], *, field: str = "action") -> dict[str, Any]:
    """Apply an action (or an inject's effect) now; returns what it did.

    Raises:
        InputError: bad arguments, or the city refuses (an unknown road, shelter or device).
    """
    parsed = check_args(action, args, field)
    if action == "issue_order":
        return {"ordered": sim.issue_order(parsed.zone, channels=parsed.channels, label="exercise")}
    if action == "open_shelter":
        sim.open_shelter(parsed.id, capacity=parsed.capacity, location=parsed.location)
        return {"opened": parsed.id}
    if action == "close_shelter":
        sim.close_shelter(parsed.id)
        return {"closed": parsed.id}
    if action in ("close_road", "reopen_road"):
        pick = {"ids": parsed.ids, "names": parsed.names, "area": args.get("area")}
        n = sim.close_road(**pick) if action == "close_road" else sim.reopen_road(**pick)
        return {"roads": n}
    if action == "isolate_device":
        sim.isolate_device(parsed.id)
        return {"isolated": parsed.id}
    if action == "hazard":
        sim.inject_hazard({k: v for k, v in args.items() if k != "at"})
        return {"hazard": args.get("type")}
    if action == "attack":
        sim.inject_attack({k: v for k, v in args.items() if k != "at"})
        return {"attack": args.get("type")}
    return {"note": parsed.text}


@dataclass
class Step:
    """One thing that happens in an exercise: an inject delivered, or an action taken."""

    at: float
    kind: str  # "inject" or "action"
    ref: str
    role: str
    action: str | None
    args: dict[str, Any]


def steps_of(ex: Exercise, actions: list[Action]) -> list[Step]:
    """The MSEL's injects and the scripted actions in time order (an inject before an action at the same time)."""
    out = [
        Step(
            at=float(inj.at),
            kind="inject",
            ref=inj.id,
            role=inj.to,
            action=next(iter(inj.effect)) if inj.effect else None,
            args=next(iter(inj.effect.values())) if inj.effect else {},
        )
        for inj in ex.injects
    ]
    out += [Step(at=a.at, kind="action", ref=a.action, role=a.role, action=a.action, args=a.args) for a in actions]
    return sorted(out, key=lambda s: (s.at, 0 if s.kind == "inject" else 1))


def play(
    sim: Simulation, step: Step, log: ExerciseLog | None, *, strict: bool = True, pending: int | None = None
) -> dict[str, Any]:
    """Deliver an inject (and its effect) or take an action at the current time, and log it."""
    outcome: dict[str, Any] = {"applied": True}
    if step.action is not None:
        try:
            outcome |= apply(sim, step.action, step.args, field=step.ref)
        except InputError as exc:
            if strict:
                raise
            outcome = {"applied": False, "problem": exc.lines()}
    if log is not None:
        log.append(
            kind=step.kind,
            ref=step.ref,
            role=step.role,
            action=step.action,
            args=step.args,
            sim_t=sim.now,
            outcome=outcome,
            pending=pending,
        )
    return outcome


def _wait_wall(started: float, sim_t: float, speed: float) -> None:
    if speed > 0:
        delay = started + sim_t / speed - time.perf_counter()
        if delay > 0:
            time.sleep(delay)


def run_steps(
    scenario: Scenario,
    steps: list[Step],
    log: ExerciseLog | None,
    *,
    speed: float = 0.0,
    progress: Callable[[float, float], None] | None = None,
    figures_only: bool = False,
) -> RunResult:
    """Run a scenario with these steps at their simulated times (at ``speed``; 0 as fast as possible).

    ``figures_only``: a baseline for comparison, with the summary and timeseries only.
    """
    sim = Simulation(scenario, figures_only=figures_only)
    started = time.perf_counter()
    for step in steps:
        if step.at > sim.duration:
            break
        _wait_wall(started, step.at, speed)
        sim.advance_to(step.at, progress=progress)
        play(sim, step, log, strict=False)
    if speed > 0:  # the rest of the exercise at the same speed, in one-minute strides
        while not sim.finished:
            t = min(sim.now + 60.0, sim.duration)
            _wait_wall(started, t, speed)
            sim.advance_to(t, progress=progress)
    return sim.result()


def steps_from_log(entries: list[dict[str, Any]], *, with_actions: bool = True) -> list[Step]:
    """The log's entries as steps (in their order), optionally without the players' actions."""
    return [
        Step(at=e["sim_t"], kind=e["kind"], ref=e["ref"], role=e["role"], action=e["action"], args=e["args"])
        for e in entries
        if with_actions or e["kind"] == "inject"
    ]


# ---------------------------------------------------------------------------------------- headless


@contextlib.contextmanager
def _temp_log() -> Iterator[ExerciseLog]:
    with tempfile.TemporaryDirectory() as tmp:
        log = ExerciseLog(Path(tmp) / "exercise.sqlite")
        try:
            yield log
        finally:
            log.close()


def _log_bytes(log: ExerciseLog) -> bytes:
    with log.db:
        log.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return log.path.read_bytes()


def store_exercise(log: ExerciseLog, ex: Exercise) -> None:
    """Write the exercise's definition (resolved scenario, MSEL, roles, objectives) into the log's meta."""
    log.set_meta(
        name=ex.config.name,
        description=ex.config.description,
        scenario_yaml=dump_yaml(ex.scenario),
        scenario_dir=str(Path(ex.path).resolve().parent),
        msel=[inj.model_dump(mode="json", by_alias=True) for inj in ex.injects],
        roles=ex.roles,
        objectives=[o.model_dump(mode="json") for o in ex.config.objectives],
        created=_now(),
    )


def scenario_of(meta: dict[str, Any]) -> Scenario:
    """The exercise's scenario, from the resolved copy in its log."""
    data = parse_yaml(meta["scenario_yaml"], source="exercise.sqlite")
    return load_scenario(data, base_dir=meta.get("scenario_dir"))


def headless(
    ex: Exercise,
    out: Path,
    *,
    speed: float = 0.0,
    progress: Callable[[float, float], None] | None = None,
) -> Path:
    """``sim exercise run``: the MSEL and scripted actions on the city, the log, the run files and the AAR."""
    from sim.io.rundir import reserve_run_dir

    with reserve_run_dir(out) as slot, _temp_log() as log:
        store_exercise(log, ex)
        log.set_control(state="running", speed=speed)
        result = run_steps(ex.scenario, steps_of(ex, ex.actions), log, speed=speed, progress=progress)
        log.set_control(state="done", sim_t=float(result.summary["duration_s"]))
        finish_files(result, log)
        return slot.commit(result)


def finish_files(result: RunResult, log: ExerciseLog, *, baseline: RunResult | None = None) -> None:
    """Add the log, the baseline comparison and the after-action report to a run's files."""
    from sim.io.aar import aar_html, aar_pdf, build_aar

    meta = log.meta()
    if baseline is None:
        baseline = _baseline(meta, log.entries())
    report = build_aar(meta, log.entries(), result, baseline, log.notes())
    result.summary["exercise"] = report["summary"]
    result.files["aar.html"] = aar_html(report)
    result.files["aar.pdf"] = aar_pdf(report)
    result.files["exercise.sqlite"] = _log_bytes(log)


def _baseline(meta: dict[str, Any], entries: list[dict[str, Any]]) -> RunResult:
    """The same exercise without the players' actions: the figures the report compares against."""
    return run_steps(scenario_of(meta), steps_from_log(entries, with_actions=False), None, figures_only=True)


def replay(source: Path, out: Path, *, with_actions: bool = True) -> Path:
    """``sim exercise replay``: the same exercise from its log (or its baseline without the actions)."""
    from sim.io.rundir import reserve_run_dir

    original = open_log(source)
    try:
        meta, entries = original.meta(), original.entries()
    finally:
        original.close()
    with reserve_run_dir(out) as slot, _temp_log() as log:
        log.set_meta(**meta)
        steps = steps_from_log(entries, with_actions=with_actions)
        result = run_steps(scenario_of(meta), steps, log)
        log.set_control(state="done", replay_of=str(source), with_actions=with_actions)
        finish_files(result, log)
        return slot.commit(result)


def open_log(folder: Path) -> ExerciseLog:
    """The log of an exercise folder.

    Raises:
        InputError: the folder has no exercise.sqlite, or it is not an exercise log.
    """
    path = Path(folder) / "exercise.sqlite"
    if not path.is_file():
        raise InputError.single("DIR", f"{folder} holds no exercise.sqlite")
    try:
        log = ExerciseLog(path)
        meta = log.meta()
    except sqlite3.DatabaseError as exc:
        raise InputError.single("DIR", f"exercise.sqlite is not an exercise log: {exc}") from None
    if "scenario_yaml" not in meta:
        log.close()
        raise InputError.single("DIR", "exercise.sqlite holds no exercise")
    return log


def report(folder: Path) -> list[Path]:
    """``sim exercise report``: (re)write ``aar.html`` and ``aar.pdf`` of an exercise folder."""
    from sim.io.aar import aar_html, aar_pdf, build_aar
    from sim.io.rundir import read_run

    log = open_log(folder)
    try:
        meta, entries, notes = log.meta(), log.entries(), log.notes()
    finally:
        log.close()
    run = read_run(folder)
    result = RunResult(
        summary=run["summary"],
        timeseries=run["timeseries"],
        events=run["events"],
        tracks=run.get("tracks"),
        scenario=run.get("scenario", {}),
        manifest=run.get("manifest", {}),
    )
    baseline = _baseline(meta, entries)
    rep = build_aar(meta, entries, result, baseline, notes)
    written = []
    for name, content in (("aar.html", aar_html(rep)), ("aar.pdf", aar_pdf(rep))):
        fd, tmp = tempfile.mkstemp(prefix=f".{name}.", dir=folder)
        with os.fdopen(fd, "wb") as fh:
            fh.write(content.encode() if isinstance(content, str) else content)
        os.replace(tmp, folder / name)
        written.append(folder / name)
    return written


def inject_rows(meta: dict[str, Any]) -> list[Inject]:
    """The stored MSEL as injects."""
    return [Inject.model_validate(m) for m in meta.get("msel", [])]
