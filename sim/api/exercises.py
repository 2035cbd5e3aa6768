"""Live exercises for the app (``sim.api`` re-exports these; docs/exercises.md)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import sim.api as _api
from sim.core.errors import InputError
from sim.scenario.loader import parse_yaml

# -- live exercises (the app's Exercise page; docs/exercises.md) -------------------------------

TRAINING_DIR = Path(__file__).resolve().parents[2] / "training"


def exercise_files() -> dict[str, Path]:
    """The exercise files shipped in ``training/`` (the app offers only these), by name."""
    out = {}
    for p in sorted(TRAINING_DIR.glob("*.yaml")):
        try:
            if "msel" in (parse_yaml(p.read_text(encoding="utf-8"), source="exercise") or {}):
                out[p.stem] = p
        except (InputError, OSError):
            continue
    return out


def start_exercise(path: str | Path, *, root: str | Path, speed: float, passphrases: Mapping[str, str]) -> Path:
    """Create a live exercise under ``root`` (its log, passphrase hashes) and start its runner.

    Raises:
        InputError: the exercise, a passphrase (``passphrases.<role>``) or the speed is invalid.
    """
    import secrets
    import time
    from datetime import UTC, datetime

    from sim.experiments.exercise import ExerciseLog, store_exercise
    from sim.experiments.exercise_live import start_runner
    from sim.experiments.exercisefile import load_exercise

    ex = load_exercise(path)
    _api.check_ui_limits(ex.scenario)
    problems = []
    if not 0 < speed <= 3600:
        problems.append(("speed", f"must be in (0, 3600] simulated seconds per second, got {speed}"))
    for role in ex.roles:
        if len(passphrases.get(role, "")) < 8:
            problems.append((f"passphrases.{role}", "at least 8 characters"))
    if problems:
        raise InputError(problems)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    folder = Path(root) / f"{ex.config.name}-{stamp}-{secrets.token_hex(3)}"
    folder.mkdir(parents=True)
    log = ExerciseLog(folder / "exercise.sqlite")
    try:
        store_exercise(log, ex)
        for role in ex.roles:
            log.set_passphrase(role, passphrases[role])
        log.set_control(
            speed=float(speed), paused=False, state="running", sim_t=0.0, heartbeat=0.0, duration_s=ex.scenario.duration
        )
        log.set_control(spawned=time.time())
    finally:
        log.close()
    start_runner(folder)
    return folder


def live_exercises(root: str | Path) -> list[Path]:
    """Exercise folders under ``root``, newest first."""
    base = Path(root)
    if not base.is_dir():
        return []
    found = [d for d in base.iterdir() if (d / "exercise.sqlite").is_file()]
    return sorted(found, key=lambda d: d.stat().st_mtime, reverse=True)


def _exercise_log(folder: str | Path) -> Any:
    from sim.experiments.exercise import open_log

    return open_log(Path(folder))


def exercise_login(folder: str | Path, role: str, passphrase: str) -> bool:
    """Whether ``passphrase`` opens ``role`` in this exercise (checked against its scrypt hash)."""
    log = _exercise_log(folder)
    try:
        return role in log.meta().get("roles", []) and log.check_passphrase(role, passphrase)
    finally:
        log.close()


def exercise_view(folder: str | Path, role: str) -> dict[str, Any]:
    """What ``role`` may see now. Players: the command centre's picture, their inbox and their actions.

    Only the controller gets the ground truth, every inject (delivered or pending) and every action.
    """
    from sim.experiments.exercise_live import ensure_runner

    folder = Path(folder)
    ensure_runner(folder)  # a runner that died (or an app restart) resumes from the log
    log = _exercise_log(folder)
    try:
        meta, control, snap = log.meta(), log.control(), log.snapshot() or {}
        entries = log.entries()
        view: dict[str, Any] = {
            "name": meta.get("name"),
            "roles": meta.get("roles", []),
            "sim_t": float(control.get("sim_t", 0.0)),
            "duration_s": float(control.get("duration_s", 0.0)),
            "state": control.get("state"),
            "paused": bool(control.get("paused", False)),
            "speed": float(control.get("speed", 0)),
            "command": snap.get("command", {}),
            "snapshot_wall": snap.get("wall_t"),
        }
        if role == "controller":
            delivered = {e["ref"]: e["sim_t"] for e in entries if e["kind"] == "inject"}
            view["truth"] = snap.get("truth", {})
            view["msel"] = [m | {"delivered_s": delivered.get(m["id"])} for m in meta.get("msel", [])]
            view["log"] = entries
            view["inbox"] = log.inbox()
            view["notes"] = log.notes()
        else:
            view["inbox"] = log.inbox(role)
            view["log"] = [e for e in entries if e["kind"] == "action" and e["role"] == role]
        return view
    finally:
        log.close()


def exercise_act(folder: str | Path, role: str, action: str, args: Mapping[str, Any]) -> None:
    """Queue a player's action; the runner applies it at the current simulated time.

    Raises:
        InputError: an unknown action or bad arguments (``action.<name>.<arg>``).
    """
    from sim.experiments.exercisefile import check_args

    check_args(action, dict(args), "action")  # the city checks the rest when it is applied
    log = _exercise_log(folder)
    try:
        if role not in log.meta().get("roles", []):
            raise InputError.single("role", f"unknown role {role!r}")
        log.queue(role, action, dict(args))
    finally:
        log.close()


def exercise_inject(folder: str | Path, *, to: str, message: str, effect: Mapping[str, Any] | None = None) -> None:
    """Deliver an unscheduled inject now (the controller), with or without an effect.

    Raises:
        InputError: an unknown role, an empty message or a bad effect (``effect.<action>...``).
    """
    from sim.experiments.exercisefile import check_args

    problems = []
    if not message.strip():
        problems.append(("message", "write the message"))
    if effect:
        if len(effect) != 1:
            problems.append(("effect", "one action per effect"))
        else:
            ((name, args),) = effect.items()
            try:
                check_args(name, args, "effect")
            except InputError as exc:
                problems.extend(exc.problems)
    log = _exercise_log(folder)
    try:
        if to not in log.meta().get("roles", []):
            problems.append(("to", f"unknown role {to!r}"))
        if problems:
            raise InputError(problems)
        log.queue("controller", "inject", {"to": to, "message": message[:5000], "effect": dict(effect or {})})
    finally:
        log.close()


def exercise_control(
    folder: str | Path, *, speed: float | None = None, paused: bool | None = None, finish: bool = False
) -> None:
    """The controller's settings: speed, pause or resume, or run the rest at once and write the report."""
    log = _exercise_log(folder)
    try:
        values: dict[str, Any] = {}
        if speed is not None:
            if not 0 < speed <= 3600:
                raise InputError.single("speed", f"must be in (0, 3600], got {speed}")
            values["speed"] = float(speed)
        if paused is not None:
            values["paused"] = bool(paused)
        if finish:
            values["state"] = "finishing"
        log.set_control(**values)
    finally:
        log.close()


def exercise_notes(folder: str | Path, *, strengths: str, improvements: str) -> None:
    """The controller's edits of the drafted strengths and areas for improvement (used by the report)."""
    log = _exercise_log(folder)
    try:
        log.set_note("strengths", strengths[:20_000])
        log.set_note("improvements", improvements[:20_000])
    finally:
        log.close()


def exercise_report(folder: str | Path) -> list[Path]:
    """(Re)write ``aar.html`` and ``aar.pdf`` of a finished exercise."""
    from sim.experiments.exercise import report

    return report(Path(folder))


def exercise_setup(folder: str | Path) -> dict[str, Any]:
    """What the forms of an exercise offer: its name, roles, districts, channel types and the scenario."""
    from sim.experiments.exercise import scenario_of

    log = _exercise_log(folder)
    try:
        meta = log.meta()
    finally:
        log.close()
    scenario = scenario_of(meta)
    summary = _api.city_summary(scenario)
    return {
        "name": meta.get("name"),
        "roles": list(meta.get("roles", [])),
        "districts": list(summary.get("districts", [])),
        "channels": sorted({c.type for c in scenario.alerting.channels}),
        "scenario": scenario,
    }
