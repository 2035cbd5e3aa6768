"""Sweeps from Python and from the app (``sim.api`` re-exports these; docs/sweeps.md)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pandas as pd

import sim.api as _api
from sim.core.errors import InputError
from sim.io.sweepreport import HEADLINE
from sim.scenario.loader import dump_yaml
from sim.scenario.schema import Scenario


def sweep(
    sweep_file: str | Path,
    out: str | Path,
    *,
    workers: int | None = None,
    scheduler: str | None = None,
    resume: bool = False,
    quiet: bool = True,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Run a sweep file on Dask into ``out``; returns ``(results, points)`` (SPEC section 5, docs/sweeps.md).

    Raises:
        InputError: the sweep file, its scenario or one of its points is invalid, or ``out`` is busy.
    """
    from sim.experiments.sweep import execute
    from sim.experiments.sweepfile import load_sweep

    outcome = execute(
        load_sweep(sweep_file), Path(out), workers=workers, scheduler=scheduler, resume=resume, quiet=quiet
    )
    return outcome.results, outcome.points


def read_sweep(sweep_dir: str | Path) -> dict[str, Any]:
    """A sweep folder's tables and manifest: ``results``, ``points``, ``sensitivity``, ``design``, ``manifest``."""
    import json

    d = Path(sweep_dir)
    out: dict[str, Any] = {"manifest": json.loads((d / "manifest.json").read_text())}
    for name in ("results", "points", "sensitivity", "design"):
        p = d / f"{name}.parquet"
        out[name] = pd.read_parquet(p) if p.exists() else pd.DataFrame()
    return out


UI_SWEEP_RUNS = 100  # the most runs a sweep launched from the app may have
SWEEP_HEADLINE = HEADLINE  # the figures a sweep's report and the Sweeps page show first


def sweep_folders(root: str | Path = "sweeps") -> list[Path]:
    """Sweep folders under ``root`` (those with a sweep manifest), newest first."""
    import json

    out = []
    base = Path(root)
    if not base.is_dir():
        return []
    for d in base.iterdir():
        try:
            if d.is_dir() and json.loads((d / "manifest.json").read_text()).get("format") == "safecity-sweep/1":
                out.append(d)
        except (OSError, ValueError):
            continue
    return sorted(out, key=lambda d: d.stat().st_mtime, reverse=True)


def sweep_kept_run(sweep_dir: str | Path, point: int, seed: int) -> Path | None:
    """The run directory a sweep kept for a point and seed (``keep_runs: true``), if there is one."""
    from sim.io.rundir import is_run_dir

    d = Path(sweep_dir) / "runs" / f"p{int(point)}-s{int(seed)}"
    return d if d.is_dir() and is_run_dir(d) else None


def sweep_point_scenario(sweep_dir: str | Path, point: int, seed: int) -> Scenario:
    """The exact scenario of one run of a sweep (point and seed), to run again with every table.

    Sweeps keep only each run's figures; running this scenario gives the same figures (same
    scenario, same seed) and the tables a run directory has, for the Map, Results, Compare and
    Report pages.

    Raises:
        InputError: (field ``sweep``) the folder is not a finished sweep, the point or seed is not
            one of it, or its base scenario changed since (the run would differ).
    """
    import json

    from sim.experiments.sweepfile import base_fingerprint, load_sweep

    d = Path(sweep_dir)
    try:
        manifest = json.loads((d / "manifest.json").read_text())
        results = pd.read_parquet(d / "results.parquet", columns=["point", "seed"])
    except (OSError, ValueError) as exc:
        raise InputError.single("sweep", f"{d.name} is not a sweep folder with results: {exc}") from None
    if manifest.get("format") != "safecity-sweep/1":
        raise InputError.single("sweep", f"{d.name} is not a sweep folder")
    if not ((results["point"] == point) & (results["seed"] == seed)).any():
        raise InputError.single("sweep", f"{d.name} has no run of point {point} with seed {seed}")
    sweep = load_sweep(d / "sweep.yaml")  # the resolved sweep: its scenario path is absolute
    if base_fingerprint(sweep.base) != manifest.get("base_fingerprint", base_fingerprint(sweep.base)):
        raise InputError.single(
            "sweep", f"the scenario of {d.name} ({sweep.scenario_path.name}) changed since the sweep ran"
        )
    return sweep.scenario(point, seed)


def sweep_parameters(scenario: Scenario) -> list[str]:
    """Numeric scenario paths a planner may vary from the app (channels, delay, behaviour, network, attacks)."""
    paths = [f"alerting.channels.{i}.coverage" for i in range(len(scenario.alerting.channels))]
    delay = scenario.alerting.departure_delay
    paths += [f"alerting.departure_delay.{k}" for k in type(delay).model_fields if k != "distribution"]
    paths += ["population.compliance", "population.mode_share.car", "network.redundancy"]
    paths += [f"cyber.{i}.rate_rps" for i, a in enumerate(scenario.cyber) if a.type == "ddos"]
    return paths


def ui_sweep(
    scenario: Scenario,
    parameters: Mapping[str, list[float]],
    *,
    seeds: int,
    folder: str | Path,
    out: str | Path,
    workers: int = 2,
    on_progress: Callable[[int, int, int], None] | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A small grid sweep of the scenario in use (at most ``UI_SWEEP_RUNS`` runs), for the app.

    The app writes the scenario and the sweep file itself into its private ``folder``, so no path
    comes from the browser. A car share varies with the walk share tied to it.

    Raises:
        InputError: too many runs, a bad value (``parameters.<path>: point k (value v): ...``), or a cap.
    """
    import json as _json

    from sim.experiments.sweep import execute
    from sim.experiments.sweepfile import load_sweep

    _api.check_ui_limits(scenario)
    allowed = set(sweep_parameters(scenario))
    problems = [(f"parameters.{p}", "not offered in the app") for p in parameters if p not in allowed]
    problems += [(f"parameters.{p}", "give at least one value") for p, v in parameters.items() if not v]
    if not parameters:
        problems.append(("parameters", "choose at least one parameter"))
    if not 1 <= seeds <= 20:
        problems.append(("seeds", f"must be 1..20, got {seeds}"))
    if problems:
        raise InputError(problems)
    points = 1
    for v in parameters.values():
        points *= len(v)
    if points * seeds > UI_SWEEP_RUNS:
        raise InputError.single(
            "seeds", f"{points} points x {seeds} seeds = {points * seeds} runs; the app runs at most {UI_SWEEP_RUNS}"
        )
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "base.yaml").write_text(dump_yaml(scenario), encoding="utf-8")
    params: dict[str, Any] = {p: {"values": list(v)} for p, v in parameters.items()}
    if "population.mode_share.car" in params:
        params["population.mode_share.walk"] = {"tie": "population.mode_share.car", "scale": -1, "offset": 1}
    spec = {"name": "app-sweep", "scenario": "base.yaml", "parameters": params, "design": "grid", "seeds": seeds}
    (folder / "sweep.yaml").write_text(_json.dumps(spec), encoding="utf-8")
    outcome = execute(load_sweep(folder / "sweep.yaml"), Path(out), workers=workers, on_progress=on_progress)
    return outcome.results, outcome.points
