"""The command line: ``python -m sim run | validate | schema | sweep | exercise run | replay | report``.

Exit codes: 0 done, 2 invalid input (each problem on stderr as ``field.path: what is wrong``,
no traceback), 1 anything unexpected.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import re
import secrets
import signal
import sys
import time
import warnings
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sim.core.errors import InputError
from sim.core.units import format_duration

EXIT_OK, EXIT_UNEXPECTED, EXIT_INVALID = 0, 1, 2


class _ArgumentParser(argparse.ArgumentParser):
    """argparse that reports usage errors as exit 2 with a field-style line."""

    def error(self, message: str) -> None:  # type: ignore[override]
        sys.stderr.write(f"arguments: {message}\n")
        sys.exit(EXIT_INVALID)


class Progress:
    """Progress on stderr: a bar on a terminal, plain lines otherwise; silent with --quiet."""

    def __init__(self, *, quiet: bool, label: str):
        self.quiet = quiet
        self.label = label
        self.tty = sys.stderr.isatty()
        self.started = time.perf_counter()
        self.last_pct = -1

    def __call__(self, t_s: float, duration_s: float) -> None:
        """Report simulated time ``t_s`` of ``duration_s``."""
        if self.quiet:
            return
        pct = int(100 * t_s / duration_s) if duration_s > 0 else 100
        if pct == self.last_pct:
            return
        elapsed = time.perf_counter() - self.started
        eta = elapsed * (100 - pct) / pct if pct > 0 else float("nan")
        if self.tty:
            bar = "#" * (pct // 4) + "-" * (25 - pct // 4)
            sys.stderr.write(f"\r{self.label} [{bar}] {pct:3d}%  sim {format_duration(t_s)}  eta {eta:5.1f}s")
            if pct >= 100:
                sys.stderr.write("\n")
        elif pct // 10 != self.last_pct // 10 or pct >= 100:
            sys.stderr.write(f"{self.label}: {pct}% (simulated {format_duration(t_s)}, {elapsed:.1f}s wall)\n")
        sys.stderr.flush()
        self.last_pct = pct


class Interrupted(BaseException):
    """SIGTERM, SIGINT or SIGHUP arrived: unwind (temporary folders are removed) and exit 128 + signal."""

    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum = signum


def _on_signal(signum: int, _frame: object) -> None:
    raise Interrupted(signum)


def _default_out(name: str) -> Path:
    """``runs/<name>-<UTC time to the millisecond>-<random>``: two runs never pick the same name."""
    slug = re.sub(r"[^A-Za-z0-9_.-]+", "-", name).strip("-.")[:80] or "run"
    now = datetime.now(UTC)
    stamp = now.strftime("%Y%m%dT%H%M%S") + f".{now.microsecond // 1000:03d}Z"
    return Path("runs") / f"{slug}-{stamp}-{secrets.token_hex(3)}"


def _warn(scenario: object) -> None:
    """Print what is valid but will not happen (``warning: field.path: ...``), even with --quiet."""
    from sim.scenario.loader import scenario_warnings

    for path, message in scenario_warnings(scenario):  # type: ignore[arg-type]
        sys.stderr.write(f"warning: {path}: {message}\n")
    _warn_memory(scenario)


def _warn_memory(scenario: object, processes: int = 1) -> None:
    """Warn (even with --quiet) when this machine has less memory available than the run(s) will need."""
    from sim.core.machine import available_memory
    from sim.scenario.sizing import memory_warning

    found = memory_warning(scenario, available_memory(), processes=processes)  # type: ignore[arg-type]
    if found is not None:
        sys.stderr.write(f"warning: {found[0]}: {found[1]}\n")


def cmd_validate(args: argparse.Namespace) -> int:
    """Load and check a scenario, including its city, without running it."""
    from sim.scenario.loader import load_scenario

    scenario = load_scenario(args.scenario, args.set)  # a bad file is told before the engine is imported
    _warn(scenario)
    from sim.engine.model import EvacuationModel
    from sim.scenario.sizing import gb, peak_bytes

    model = EvacuationModel(scenario)
    need = peak_bytes(model.pop.n, model.city.n_roads)  # the built city's own counts
    print(
        f"{args.scenario}: valid ({model.city.name}: {model.city.n_roads} road segments, "
        f"{model.pop.n} citizens, {len(model.shelters)} shelters); a run needs about {gb(need)} of memory"
    )
    return EXIT_OK


def cmd_run(args: argparse.Namespace) -> int:
    """Run one scenario and write its run directory."""
    from sim.scenario.loader import load_scenario

    overrides = list(args.set)
    if args.seed is not None:
        overrides.append(f"seed={args.seed}")
    scenario = load_scenario(args.scenario, overrides)  # a bad file is told before the engine is imported
    _warn(scenario)
    from sim.core.memory import release_free_memory
    from sim.experiments.runner import run_scenario
    from sim.io.rundir import reserve_run_dir

    out = Path(args.out) if args.out else _default_out(scenario.name)
    # The place is checked, locked and probed before any simulated second.
    with reserve_run_dir(out, overwrite=args.force) as slot:
        result = run_scenario(
            scenario, progress=Progress(quiet=args.quiet, label=scenario.name), baseline=args.baseline
        )
        release_free_memory()  # the model is gone: its freed memory goes back before the outputs are written
        path = slot.commit(result)
    print(path)
    return EXIT_OK


def _default_sweep_out(name: str) -> Path:
    """``sweeps/<name>-<UTC time to the millisecond>-<random>``."""
    return Path("sweeps") / _default_out(name).name


def cmd_sweep(args: argparse.Namespace) -> int:
    """Run a batch parameter sweep on Dask (SPEC section 5)."""
    from sim.experiments.sweep import execute
    from sim.experiments.sweepfile import load_sweep

    if args.workers is not None and not 1 <= args.workers <= 512:
        raise InputError.single("--workers", f"must be 1..512, got {args.workers}")
    if args.scheduler is not None and not re.fullmatch(r"(tcp|tls|inproc)://[^\s]{1,300}", args.scheduler):
        raise InputError.single("--scheduler", f"expected tcp://HOST:PORT, got {args.scheduler!r}")
    if args.resume and not args.out:
        raise InputError.single("--resume", "needs --out: the folder of the sweep to continue")
    sweep = load_sweep(args.sweep)  # every point is checked before anything runs
    if args.scheduler is None:  # this machine's workers run the points, one each at a time
        _warn_memory(_largest_point(sweep), processes=args.workers or os.cpu_count() or 1)
    out = Path(args.out) if args.out else _default_sweep_out(sweep.config.name)
    outcome = execute(sweep, out, workers=args.workers, scheduler=args.scheduler, resume=args.resume, quiet=args.quiet)
    if outcome.failed:
        sys.stderr.write(f"{outcome.failed} run(s) failed: see the error column of results.parquet\n")
    print(outcome.path)
    return EXIT_UNEXPECTED if outcome.failed else EXIT_OK


def _largest_point(sweep: Any) -> object:
    """The sweep's scenario with the most memory needed: its base's, unless a parameter sizes the city.

    The sizes come from the design's values over the base's (a sweep has up to 20,000 points; one
    scenario is loaded, not one per point).
    """
    from sim.scenario.sizing import SIZING, size_of, sizing_values

    varied = [p for p in sweep.config.parameters if p in SIZING]
    if not varied:
        return sweep.scenario(0, seed=0)
    base = sizing_values(sweep.scenario(0, seed=0))
    rows = sweep.design[varied].to_dict("records")
    needs = [(size.peak_bytes if (size := size_of({**base, **row})) is not None else 0) for row in rows]
    return sweep.scenario(max(range(len(rows)), key=needs.__getitem__), seed=0)


def cmd_exercise_run(args: argparse.Namespace) -> int:
    """Run an exercise headless: the MSEL's injects and the scripted actions (SPEC section 6)."""
    from sim.experiments.exercise import headless
    from sim.experiments.exercisefile import load_exercise

    if not 0 <= args.speed <= 3600:
        raise InputError.single("--speed", f"must be 0..3600 simulated seconds per second, got {args.speed}")
    ex = load_exercise(args.exercise, actions=args.actions)  # everything is checked before it starts
    out = Path(args.out) if args.out else Path("exercises") / _default_out(ex.config.name).name
    path = headless(ex, out, speed=args.speed, progress=Progress(quiet=args.quiet, label=ex.config.name))
    print(path)
    return EXIT_OK


def cmd_exercise_replay(args: argparse.Namespace) -> int:
    """Re-run an exercise from its log (or its baseline without the players' actions)."""
    from sim.experiments.exercise import replay

    source = Path(args.dir)
    suffix = "baseline" if args.without_actions else "replay"
    out = Path(args.out) if args.out else source.parent / _default_out(f"{source.name}-{suffix}").name
    print(replay(source, out, with_actions=not args.without_actions))
    return EXIT_OK


def cmd_exercise_report(args: argparse.Namespace) -> int:
    """Write the after-action report of an exercise folder."""
    from sim.experiments.exercise import report

    for path in report(Path(args.dir)):
        print(path)
    return EXIT_OK


def cmd_schema(args: argparse.Namespace) -> int:
    """Print the scenario file's JSON Schema (editors check scenarios with it as you type)."""
    import json

    from sim.scenario.schema import Scenario

    print(json.dumps(Scenario.model_json_schema(mode="validation"), indent=2, sort_keys=True, default=str))
    return EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``python -m sim``."""
    parser = _ArgumentParser(
        prog="python -m sim", description="SafeCity Twin: city evacuation under hazards and cyberattacks."
    )
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_ArgumentParser)

    run = sub.add_parser("run", help="run one scenario and write a run directory")
    run.add_argument("scenario", help="scenario YAML file")
    run.add_argument("--out", help="run directory (default runs/<scenario>-<timestamp>)")
    run.add_argument("--seed", type=int, help="override the scenario's seed")
    run.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="PATH=VALUE",
        help="override a scenario field by dotted path (repeatable)",
    )
    run.add_argument("--quiet", action="store_true", help="no progress on stderr")
    run.add_argument("--force", action="store_true", help="replace --out if it exists")
    run.add_argument(
        "--baseline",
        action="store_true",
        help="also run the same scenario and seed without the attacks; the summary reports the deltas",
    )
    run.set_defaults(func=cmd_run)

    val = sub.add_parser("validate", help="load and check a scenario, run nothing")
    val.add_argument("scenario", help="scenario YAML file")
    val.add_argument("--set", action="append", default=[], metavar="PATH=VALUE", help="override a field")
    val.set_defaults(func=cmd_validate)

    sch = sub.add_parser("schema", help="print the scenario file's JSON Schema")
    sch.set_defaults(func=cmd_schema)

    sw = sub.add_parser("sweep", help="batch parameter sweep on Dask (a sweep YAML file)")
    sw.add_argument("sweep", help="sweep YAML file")
    sw.add_argument("--out", help="sweep folder (default sweeps/<name>-<timestamp>)")
    where = sw.add_mutually_exclusive_group()
    where.add_argument("--workers", type=int, help="worker processes of a local Dask cluster (default: the cores)")
    where.add_argument("--scheduler", help="address of a running Dask scheduler, tcp://HOST:PORT")
    sw.add_argument("--resume", action="store_true", help="continue the sweep in --out: run only missing pairs")
    sw.add_argument("--quiet", action="store_true", help="no progress on stderr")
    sw.set_defaults(func=cmd_sweep)

    ex = sub.add_parser("exercise", help="training exercises: run, replay, report (docs/exercises.md)")
    exsub = ex.add_subparsers(dest="exercise_command", required=True, parser_class=_ArgumentParser)
    er = exsub.add_parser("run", help="run an exercise headless")
    er.add_argument("exercise", help="exercise YAML file")
    er.add_argument("--out", help="exercise folder (default exercises/<name>-<timestamp>)")
    er.add_argument("--speed", type=float, default=0.0, help="simulated seconds per wall second (0: flat out)")
    er.add_argument("--actions", help="CSV of scripted player actions: at, role, action, args")
    er.add_argument("--quiet", action="store_true", help="no progress on stderr")
    er.set_defaults(func=cmd_exercise_run)
    rp = exsub.add_parser("replay", help="re-run an exercise from its log")
    rp.add_argument("dir", help="exercise folder")
    rp.add_argument("--out", help="folder for the replay")
    rp.add_argument("--without-actions", action="store_true", help="leave the players' actions out (the baseline)")
    rp.set_defaults(func=cmd_exercise_replay)
    rr = exsub.add_parser("report", help="write aar.html and aar.pdf of an exercise folder")
    rr.add_argument("dir", help="exercise folder")
    rr.set_defaults(func=cmd_exercise_report)
    return parser


def _quiet_libraries() -> None:
    """No library warning or log line reaches the user: our own messages are the interface."""
    warnings.simplefilter("ignore")
    logging.captureWarnings(True)
    for name in ("pyogrio", "rasterio", "fiona", "pyproj", "shapely", "distributed", "pyrosm", "numba"):
        logging.getLogger(name).setLevel(logging.CRITICAL)
    os.environ.setdefault("PYTHONWARNINGS", "ignore")  # worker processes too


def _install_signal_handlers() -> dict[Any, Any]:
    previous: dict[Any, Any] = {}
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        with contextlib.suppress(ValueError):  # not the main thread (tests calling main in a thread)
            previous[sig] = signal.signal(sig, _on_signal)
    return previous


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the exit code."""
    if argv is None:  # a program of its own (not called in-process): big runs skip page faults
        from sim.core.memory import tune_allocator

        tune_allocator()
    _quiet_libraries()
    previous = _install_signal_handlers()
    try:
        return _main(argv)
    except Interrupted as exc:
        sys.stderr.write(f"interrupted ({signal.Signals(exc.signum).name}): nothing was written\n")
        return 128 + exc.signum
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if getattr(args, "seed", None) is not None and args.seed < 0:
        sys.stderr.write(f"--seed: must be >= 0, got {args.seed}\n")
        return EXIT_INVALID
    try:
        return int(args.func(args))
    except InputError as exc:
        for line in exc.lines():
            sys.stderr.write(line + "\n")
        return EXIT_INVALID
    except KeyboardInterrupt:
        sys.stderr.write("interrupted (SIGINT): nothing was written\n")
        return 128 + signal.SIGINT
    except RecursionError:
        sys.stderr.write("input: nested too deeply\n")
        return EXIT_INVALID
    except Exception as exc:  # the contract: unexpected errors exit 1 with a short message
        sys.stderr.write(f"unexpected error: {type(exc).__name__}: {exc}\n")
        if "SAFECITY_DEBUG" in os.environ:
            raise
        return EXIT_UNEXPECTED
