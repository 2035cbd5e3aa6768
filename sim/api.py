"""The small surface the UI (and notebooks, and exercises) use to reach the simulator.

Everything here takes and returns plain data, scenarios or DataFrames; nothing exposes the
engine's internals, so the UI never imports simpy or mesa.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from sim.core.errors import InputError
from sim.core.records import RunResult
from sim.core.units import format_duration, parse_duration
from sim.scenario.loader import dump_yaml, load_scenario, parse_yaml, resolved_dict
from sim.scenario.schema import Scenario

SCENARIO_DIR = Path(__file__).resolve().parents[1] / "scenarios"

__all__ = [
    "SCENARIO_DIR",
    "InputError",
    "RunResult",
    "Scenario",
    "city_layers",
    "dump_yaml",
    "format_duration",
    "load_scenario",
    "parse_duration",
    "read_run",
    "resolved_dict",
    "run",
    "sample_scenarios",
    "scenario_from_text",
    "write_run",
]


def sample_scenarios() -> dict[str, Path]:
    """The scenarios shipped in ``scenarios/``, by file stem."""
    return {p.stem: p for p in sorted(SCENARIO_DIR.glob("*.yaml"))}


def scenario_from_text(text: str, *, base_dir: str | Path | None = None, overrides: Iterable[str] = ()) -> Scenario:
    """Validate a scenario given as YAML text (for example an upload)."""
    data = parse_yaml(text, source="scenario")
    if data is None:
        data = {}
    if not isinstance(data, Mapping):
        raise InputError.single("scenario", "the top level must be a mapping of keys")
    return load_scenario(dict(data), overrides, base_dir=base_dir)


def run(scenario: Scenario, *, progress: Callable[[float, float], None] | None = None) -> RunResult:
    """Run a scenario to the end (see :func:`sim.experiments.runner.run_scenario`)."""
    from sim.experiments.runner import run_scenario

    return run_scenario(scenario, progress=progress)


def write_run(result: RunResult, out_dir: str | Path, *, overwrite: bool = False) -> Path:
    """Write a run directory."""
    from sim.io.rundir import write_run as _write

    return _write(result, out_dir, overwrite=overwrite)


def read_run(run_dir: str | Path) -> dict[str, Any]:
    """Read a run directory back into summary, scenario, manifest and tables."""
    from sim.io.rundir import read_run as _read

    return _read(run_dir)


def city_layers(scenario: Scenario) -> dict[str, pd.DataFrame]:
    """The scenario's city as map layers in longitude/latitude (GeoDataFrames)."""
    from sim.city.build import build_city

    city = build_city(scenario.city)
    out: dict[str, pd.DataFrame] = {
        "roads": city.roads[["road_id", "name", "highway", "walkable", "drivable", "geometry"]].to_crs(4326),
        "districts": city.districts.to_crs(4326),
        "shelters": city.shelters[["id", "name", "capacity", "lon", "lat"]].copy(),
    }
    if len(city.buildings):
        out["buildings"] = city.buildings[["kind", "geometry"]].to_crs(4326)
    if len(city.water):
        out["water"] = city.water.to_crs(4326)
    return out
