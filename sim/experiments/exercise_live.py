"""The live exercise runner: one process per exercise that advances the city at the chosen speed.

``python -m sim.experiments.exercise_live DIR`` (the app starts it; docs/exercises.md). It holds
``DIR/.runner.lock`` so there is only ever one. On start it replays the log (every inject and
action at its simulated time) and catches up with the last simulated time it reached, so a
runner that was killed, or an app that restarted, resumes with nothing lost. Then, in a loop:
it reads the controller's settings (speed, paused, end), delivers the MSEL's injects that are
due (and their effects), advances the city, applies the actions the browsers queued at the
current simulated time, logs everything, and writes a snapshot (the ground truth for the
controller, the command centre's picture for the players) for every browser to read.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from sim.core.errors import InputError
from sim.experiments.control import Simulation
from sim.experiments.exercise import (
    ExerciseLog,
    Step,
    apply,
    finish_files,
    inject_rows,
    play,
    scenario_of,
    steps_from_log,
)

TICK_S = 0.2  # wall seconds between loop turns
_STARTED: list[subprocess.Popen] = []  # runners this process started (kept, so they are never reaped early)
SNAPSHOT_EVERY_S = 0.5  # a snapshot reaches the browsers at least this often
HEARTBEAT_STALE_S = 6.0  # a runner silent this long is considered dead


def resume(log: ExerciseLog) -> tuple[Simulation, set[str]]:
    """A simulation at the state the log describes: every entry replayed, then on to the last time reached."""
    meta, entries, control = log.meta(), log.entries(), log.control()
    sim = Simulation(scenario_of(meta))
    for step in steps_from_log(entries):
        sim.advance_to(step.at)
        play(sim, step, None, strict=False)
    sim.advance_to(float(control.get("sim_t", 0.0)))
    return sim, {e["ref"] for e in entries if e["kind"] == "inject"}


def _snapshot(log: ExerciseLog, sim: Simulation) -> None:
    truth = sim.truth()
    command = sim.command_view()
    log.write_snapshot(sim.now, truth, command)


def run_live(folder: Path) -> int:
    """Run (or resume) the exercise in ``folder`` until its end; returns an exit code."""
    lock = open(folder / ".runner.lock", "w")  # noqa: SIM115 (held for the life of the process)
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return 0  # another runner has it
    log = ExerciseLog(folder / "exercise.sqlite")
    beat = threading.Event()
    threading.Thread(target=_heartbeat, args=(folder, beat), daemon=True).start()  # alive, even while busy
    sim, delivered = resume(log)
    injects = [inj for inj in inject_rows(log.meta()) if inj.id not in delivered]
    last = time.monotonic()
    last_snap = 0.0
    log.set_control(runner_pid=os.getpid(), heartbeat=time.time(), sim_t=sim.now)
    if log.control().get("state") not in ("finishing",):
        log.set_control(state="running")
    _snapshot(log, sim)
    while not sim.finished:
        control = log.control()
        now = time.monotonic()
        dt, last = now - last, now
        speed = float(control.get("speed", 30.0))
        finishing = control.get("state") == "finishing"
        if finishing:
            target = sim.duration
        elif control.get("paused"):
            target = sim.now
        else:
            target = min(sim.now + dt * speed, sim.duration)
        while injects and injects[0].at <= target:  # the MSEL's injects that are due, in order
            inj = injects.pop(0)
            sim.advance_to(inj.at)
            effect = next(iter(inj.effect.items())) if inj.effect else (None, {})
            play(sim, Step(inj.at, "inject", inj.id, inj.to, effect[0], effect[1]), log, strict=False)
        sim.advance_to(target)
        for seq, role, action, args in log.take_pending():  # the players' (and controller's) queued actions
            if action == "inject":  # an unscheduled inject from the controller
                eff = args.get("effect") or {}
                name, eargs = next(iter(eff.items())) if eff else (None, {})
                ref = str(args.get("id") or f"X{seq}")
                log.add_message(ref, to=str(args.get("to", "")), message=str(args.get("message", "")))
                step = Step(sim.now, "inject", ref, str(args.get("to", "")), name, eargs)
                play(sim, step, log, strict=False, pending=seq)
            else:
                play(sim, Step(sim.now, "action", action, role, action, args), log, strict=False, pending=seq)
        log.set_control(sim_t=sim.now, heartbeat=time.time())
        if time.monotonic() - last_snap >= SNAPSHOT_EVERY_S or sim.finished:
            _snapshot(log, sim)
            last_snap = time.monotonic()
        if not finishing:
            time.sleep(TICK_S)
    result = sim.result()
    finish_files(result, log)
    result.files.pop("exercise.sqlite", None)  # the live log is already here
    from sim.io.rundir import write_run_into

    write_run_into(result, folder)
    beat.set()
    log.set_control(state="done", sim_t=sim.duration, heartbeat=time.time())
    log.close()
    return 0


def _heartbeat(folder: Path, stop: threading.Event) -> None:
    """Every second, tell the browsers this runner is alive (its own connection to the log)."""
    log = ExerciseLog(folder / "exercise.sqlite")
    try:
        while not stop.wait(1.0):
            log.set_control(heartbeat=time.time())
    finally:
        log.close()


def runner_alive(log: ExerciseLog) -> bool:
    """Whether a runner has written a heartbeat recently."""
    control = log.control()
    return control.get("state") == "done" or time.time() - float(control.get("heartbeat", 0)) < HEARTBEAT_STALE_S


def start_runner(folder: Path) -> int:
    """Start a runner process for ``folder`` (detached: it outlives the app); returns its pid."""
    root = Path(__file__).resolve().parents[2]
    env = os.environ | {"PYTHONPATH": os.pathsep.join([str(root), os.environ.get("PYTHONPATH", "")])}
    with open(folder / "runner.log", "ab") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "sim.experiments.exercise_live", str(folder)],
            stdout=out,
            stderr=out,
            stdin=subprocess.DEVNULL,
            env=env,
            start_new_session=True,
        )
    _STARTED.append(proc)
    return proc.pid


def ensure_runner(folder: Path) -> bool:
    """Start a runner when the exercise is not done and nobody is running it (resumes from the log)."""
    log = ExerciseLog(folder / "exercise.sqlite")
    try:
        if runner_alive(log) or time.time() - float(log.control().get("spawned", 0)) < 3 * HEARTBEAT_STALE_S:
            return False
        log.set_control(spawned=time.time())
    finally:
        log.close()
    start_runner(folder)
    return True


def main(argv: list[str] | None = None) -> int:
    """Entry point of the runner process."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        sys.stderr.write("usage: python -m sim.experiments.exercise_live DIR\n")
        return 2
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    try:
        return run_live(Path(args[0]))
    except InputError as exc:
        sys.stderr.write("\n".join(exc.lines()) + "\n")
        return 2


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        sys.exit(main())


__all__ = ["apply", "ensure_runner", "resume", "run_live", "runner_alive", "start_runner"]
