"""The small surface the UI (and notebooks, and exercises) use to reach the simulator.

Everything here takes and returns plain data, scenarios or DataFrames; nothing exposes the
engine's internals, so the UI never imports simpy or mesa.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from sim.core.actions import action_details, action_title
from sim.core.errors import InputError
from sim.core.records import RunResult
from sim.core.units import format_duration, parse_duration
from sim.experiments.control import Simulation
from sim.experiments.isolated import RunLimitError
from sim.scenario.loader import dump_yaml, load_scenario, parse_yaml, resolved_dict
from sim.scenario.schema import Scenario
from sim.scenario.types import layer_of

SCENARIO_DIR = Path(__file__).resolve().parents[2] / "scenarios"

__all__ = [
    "SCENARIO_DIR",
    "SWEEP_HEADLINE",
    "TRAINING_DIR",
    "UI_CAPS",
    "UI_LIMITS",
    "UI_SWEEP_RUNS",
    "InputError",
    "RunLimitError",
    "RunResult",
    "Scenario",
    "Simulation",
    "action_details",
    "action_title",
    "asset_state_frames",
    "asset_states_at",
    "check_files_within",
    "check_ui_limits",
    "city_layers",
    "city_summary",
    "dump_yaml",
    "exercise_act",
    "exercise_control",
    "exercise_files",
    "exercise_inject",
    "exercise_login",
    "exercise_notes",
    "exercise_report",
    "exercise_setup",
    "exercise_view",
    "form_fields",
    "format_duration",
    "live_exercises",
    "load_run",
    "load_scenario",
    "parse_duration",
    "public_problems",
    "read_run",
    "read_sweep",
    "rebase_on_city",
    "resolved_dict",
    "run",
    "run_folders",
    "run_zip",
    "sample_scenarios",
    "save_upload",
    "scenario_from_dict",
    "scenario_from_text",
    "scenario_from_upload",
    "start_exercise",
    "sweep",
    "sweep_folders",
    "sweep_kept_run",
    "sweep_parameters",
    "sweep_point_scenario",
    "ui_sweep",
    "write_run",
]

UI_LIMITS = {"population": 200_000, "duration_s": 12 * 3600.0, "upload_mb": 50}
"""Caps on what the planner app accepts, so that a slider cannot take the server down."""
UI_CAPS = {"population": 200_000, "roads": 100_000, "track_rows": 1_000_000, "records": 20_000}
"""Caps checked on the built city before an app run: people from any source, road segments, rows."""

UPLOAD_KINDS = {
    "roads": ((".geojson", ".json", ".gpkg", ".zip"), ("LineString", "MultiLineString")),
    "shelters": ((".geojson", ".json", ".gpkg", ".zip"), ("Point",)),
    "population": ((".geojson", ".json", ".gpkg", ".zip"), ("Point", "Polygon", "MultiPolygon")),
    "buildings": ((".geojson", ".json", ".gpkg", ".zip"), ("Polygon", "MultiPolygon")),
    "osm": ((".osm", ".pbf"), ()),
}


def sample_scenarios() -> dict[str, Path]:
    """The scenarios shipped in ``scenarios/``, by file stem."""
    return {p.stem: p for p in sorted(SCENARIO_DIR.glob("*.yaml"))}


def scenario_from_text(text: str, *, base_dir: str | Path | None = None, overrides: Iterable[str] = ()) -> Scenario:
    """Validate a scenario given as YAML text (for example an upload)."""
    data = parse_yaml(text, source="scenario")
    if data is None:
        raise InputError.single("scenario", "the file is empty")
    if not isinstance(data, Mapping):
        raise InputError.single("scenario", "the top level must be a mapping of keys")
    return load_scenario(dict(data), overrides, base_dir=base_dir)


_FILE_FIELDS = ("osm", "roads", "shelters", "population", "buildings", "sensors", "network")


def _raw_files(data: Mapping[str, Any]) -> list[tuple[str, Any]]:
    city = data.get("city")
    if not isinstance(city, Mapping):
        return []
    out = [(f"city.{name}", city.get(name)) for name in _FILE_FIELDS if city.get(name) is not None]
    terrain = city.get("terrain")
    if isinstance(terrain, Mapping) and terrain.get("dem") is not None:
        out.append(("city.terrain.dem", terrain["dem"]))
    return out


def public_problems(exc: InputError, folder: str | Path) -> InputError:
    """The same problems with every file path reduced to its name (no server path reaches a user)."""
    import re

    root = str(Path(folder).resolve())
    path_re = re.compile(r"(?<![\w:/.])(?:/[^/\s:'\"]+)+/?")  # absolute paths, not the // of a URL

    def clean(text: str) -> str:
        text = text.replace(root + "/", "").replace(root, "")
        return path_re.sub(lambda m: Path(m.group(0)).name or "?", text)

    return InputError((p, clean(m)) for p, m in exc.problems)


def scenario_from_upload(text: str, *, folder: str | Path, overrides: Iterable[str] = ()) -> Scenario:
    """Validate an uploaded scenario: it may read only files uploaded into ``folder``.

    A file path outside the folder is refused before anything looks at the disk, with the same
    words whether or not such a server file exists; messages never show a server path.

    Raises:
        InputError: naming the field.
    """
    root = Path(folder).resolve()
    try:
        data = parse_yaml(text, source="scenario")
        if data is None:
            raise InputError.single("scenario", "the file is empty")
        if not isinstance(data, Mapping):
            raise InputError.single("scenario", "the top level must be a mapping of keys")
        problems = []
        for field, raw in _raw_files(data):
            if not isinstance(raw, str) or not (root / raw).resolve().is_relative_to(root):
                problems.append((field, "must name a file uploaded on this page"))
        if problems:
            raise InputError(problems)
        scenario = load_scenario(dict(data), overrides, base_dir=root)
        check_files_within(scenario, [root])
    except InputError as exc:
        raise public_problems(exc, root) from None
    return scenario


def scenario_from_dict(data: Mapping[str, Any], *, base_dir: str | Path | None = None) -> Scenario:
    """Validate a scenario given as a mapping (a form's result)."""
    return load_scenario(dict(data), base_dir=base_dir)


def _bounds(field: Any) -> tuple[float | None, float | None]:
    lo = hi = None
    for m in field.metadata:
        for attr in ("ge", "gt"):
            lo = getattr(m, attr, None) if getattr(m, attr, None) is not None else lo
        for attr in ("le", "lt"):
            hi = getattr(m, attr, None) if getattr(m, attr, None) is not None else hi
    return lo, hi


def form_fields(section: str) -> list[dict[str, Any]]:
    """The simple fields of a scenario section, from the schema, for building forms.

    ``section`` is a dotted path of nested models (``population``, ``defenses.monitoring``...).
    Each item: ``key`` (dotted, relative to the section), ``kind`` (bool, int, float, choice,
    duration), ``min``, ``max``, ``choices``, ``help`` (the schema's description). Lists,
    optional values and unions are left to their own editors.
    """
    import typing

    from pydantic import BaseModel

    model: Any = Scenario
    for part in section.split("."):
        model = model.model_fields[part].annotation
    out: list[dict[str, Any]] = []
    for name, field in model.model_fields.items():
        ann = field.annotation
        lo, hi = _bounds(field)
        item: dict[str, Any] = {"key": name, "help": field.description or name, "min": lo, "max": hi, "choices": None}
        if any("parse_duration" in str(m) for m in field.metadata):
            item["kind"] = "duration"
        elif ann is bool:
            item["kind"] = "bool"
        elif ann is int:
            item["kind"] = "int"
        elif ann is float:
            item["kind"] = "float"
        elif typing.get_origin(ann) is typing.Annotated and typing.get_args(ann)[0] is float:
            item["kind"] = "float"  # Fraction
            item["min"], item["max"] = 0.0, 1.0
        elif typing.get_origin(ann) is typing.Literal:
            item["kind"] = "choice"
            item["choices"] = list(typing.get_args(ann))
        elif isinstance(ann, type) and issubclass(ann, BaseModel):
            out += [{**sub, "key": f"{name}.{sub['key']}"} for sub in form_fields(f"{section}.{name}")]
            continue
        else:
            continue
        out.append(item)
    return out


def check_files_within(scenario: Scenario, folders: Iterable[str | Path]) -> None:
    """Refuse a scenario that reads files outside ``folders``.

    An uploaded scenario must not read the server's files.

    Raises:
        InputError: naming the ``city.<layer>`` field.
    """
    roots = [Path(f).resolve() for f in folders]
    city = scenario.city
    problems = []
    for name in ("osm", "roads", "shelters", "population", "buildings", "sensors", "network"):
        source = getattr(city, name)
        path = None if source is None else layer_of(source)[0]
        if path is not None and not any(path.resolve().is_relative_to(r) for r in roots):
            problems.append((f"city.{name}", "must name a file uploaded on this page"))
    dem = city.terrain.dem
    if dem is not None and not any(Path(dem).resolve().is_relative_to(r) for r in roots):
        problems.append(("city.terrain.dem", "must name a file uploaded on this page"))
    if problems:
        raise InputError(problems)


def check_ui_limits(scenario: Scenario, *, limits: Mapping[str, float] = UI_LIMITS) -> None:
    """Refuse scenarios beyond the app's caps (population, duration), naming the field.

    Raises:
        InputError: a cap is exceeded.
    """
    problems = []
    if scenario.duration > limits["duration_s"]:
        problems.append(("duration", f"the app runs at most {format_duration(limits['duration_s'])}"))
    count = scenario.population.count
    if scenario.city.synthetic is not None and count is None:
        count = scenario.city.synthetic.population
    if count is not None and count > limits["population"]:
        field = "population.count" if scenario.population.count is not None else "city.synthetic.population"
        problems.append((field, f"the app runs at most {int(limits['population']):,} people; use the command line"))
    if problems:
        raise InputError(problems)


def save_upload(
    kind: str, name: str, data: bytes, *, folder: str | Path, max_mb: float = UI_LIMITS["upload_mb"]
) -> Path:
    """Check an uploaded city file on the server and store it; returns its path.

    Checks: a known kind, the file type by its name, the size cap, and for vector layers that it
    reads, has a CRS (GeoJSON is WGS84), valid geometry of the right type. Nothing is unpickled,
    evaluated or rendered from it.

    Raises:
        InputError: ``upload.<kind>: ...`` naming the problem.
    """
    field = f"upload.{kind}"
    if kind not in UPLOAD_KINDS:
        raise InputError.single("upload", f"unknown kind {kind!r}; one of {', '.join(UPLOAD_KINDS)}")
    suffixes, geoms = UPLOAD_KINDS[kind]
    base = Path(name).name
    if not base.lower().endswith(suffixes):
        raise InputError.single(field, f"expected {' or '.join(suffixes)}, got {base!r}")
    if len(data) > max_mb * 1024 * 1024:
        raise InputError.single(field, f"{len(data) / 1e6:.1f} MB is over the {max_mb:g} MB cap")
    if len(data) == 0:
        raise InputError.single(field, "the file is empty")
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    safe = "".join(c if c.isalnum() or c in "._-" else "_" for c in base)[:100]
    path = folder / f"{kind}-{safe}"
    path.write_bytes(data)
    if geoms:
        from sim.city.layers import read_layer

        try:
            read_layer(path, field=field, geom_types=geoms)
        except InputError:
            path.unlink(missing_ok=True)
            raise
    return path


def run(scenario: Scenario, *, progress: Callable[[float, float], None] | None = None) -> RunResult:
    """Run a scenario to the end (see :func:`sim.experiments.runner.run_scenario`)."""
    from sim.experiments.runner import run_scenario

    return run_scenario(scenario, progress=progress)


def run_isolated(
    scenario: Scenario,
    *,
    progress: Callable[[float, float], None] | None = None,
    memory_mb: int | None = None,
    cpu_s: int | None = None,
    caps: Mapping[str, float] | None = None,
) -> RunResult:
    """Run a scenario in a child process with memory and CPU-time limits (the app's runs).

    Raises:
        InputError: the scenario or its built city is over ``caps`` (default: the app's).
        RunLimitError: the run hit a limit or its process died; the caller carries on.
    """
    from sim.experiments import isolated

    return isolated.run_isolated(
        scenario,
        progress=progress,
        memory_mb=isolated.DEFAULT_MEMORY_MB if memory_mb is None else memory_mb,
        cpu_s=isolated.DEFAULT_CPU_S if cpu_s is None else cpu_s,
        caps=UI_CAPS if caps is None else caps,
    )


def write_run(result: RunResult, out_dir: str | Path, *, overwrite: bool = False) -> Path:
    """Write a run directory atomically, locked against other writers (README, "The run directory").

    Raises:
        InputError: (field ``--out``) the place is a file, not writable, locked by another run,
            not empty (without ``overwrite``), or not a run directory (with ``overwrite``).
    """
    from sim.io.rundir import write_run as _write

    return _write(result, out_dir, overwrite=overwrite)


def asset_state_frames(assets: pd.DataFrame, events: pd.DataFrame, times: list[float]) -> list[pd.DataFrame]:
    """Every asset's state at each of ``times``, in one pass over the events (map playback)."""
    from sim.metrics.assets import asset_state_frames as _frames

    return _frames(assets, events, times)


def asset_states_at(assets: pd.DataFrame, events: pd.DataFrame, t_s: float) -> pd.DataFrame:
    """Every asset's state at ``t_s`` (up, on battery, down, compromised), from a run's events."""
    from sim.metrics.assets import asset_states_at as _states

    return _states(assets, events, t_s)


def read_run(run_dir: str | Path) -> dict[str, Any]:
    """Read a run directory back into summary, scenario, manifest and tables."""
    from sim.io.rundir import read_run as _read

    return _read(run_dir)


def city_summary(scenario: Scenario) -> dict[str, Any]:
    """What the scenario's city holds: residents and their source, roads, shelters, districts."""
    from sim.city.build import build_city

    city = build_city(scenario.city)
    return {
        "residents": round(city.population_total),
        "residents_from": city.sources.get("residents_from", ""),
        "roads": city.n_roads,
        "shelters": len(city.shelters),
        "districts": list(city.districts["name"]),
    }


# What a scenario says about the features of one particular city: dropped when the city changes.
_CITY_BOUND = (
    ("hazards", "hazards (they name roads, shelters, areas or assets of the old city)"),
    ("cyber", "attacks (they name devices of the old city)"),
    ("shelters", "shelter changes (they name shelters of the old city)"),
)


def rebase_on_city(data: Mapping[str, Any], city: Mapping[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """The scenario ``data`` moved to another ``city``.

    Orders become one order for everyone at the first order's time, and what named features
    of the old city is dropped.

    Returns the new data and one plain note per change (for the user).
    """
    import copy

    out = copy.deepcopy(dict(data))
    out["city"] = dict(city)
    out["description"] = f"Your own city, with the settings of '{data.get('name', 'scenario')}'."
    notes = []
    for key, what in _CITY_BOUND:
        if out.get(key):
            notes.append(f"{len(out[key])} {what} were removed")
            out[key] = []
    alerting = out.setdefault("alerting", {})
    orders = alerting.get("orders") or []
    if orders and any(o.get("zone", "all") != "all" for o in orders):
        notes.append("orders now cover everyone (district names differ between cities)")
    at = min((o.get("at", 0) for o in orders), default=0)
    alerting["orders"] = [{"at": at, "zone": "all"}]
    if alerting.get("triggers"):
        notes.append(f"{len(alerting['triggers'])} sensor triggers were removed (they name the old city's sensors)")
        alerting["triggers"] = []
    network = out.setdefault("network", {})
    for key in ("sensors", "assets", "links", "services"):
        if network.get(key):
            notes.append(f"{len(network[key])} network {key} of the old city were removed")
            network[key] = []
    ops = out.get("shelter_operations") or {}
    if ops.get("reserve"):
        notes.append("reserve shelters were cleared")
        ops["reserve"] = []
    old_city = data.get("city")
    if isinstance(old_city, Mapping) and (old_city.get("terrain") or {}).get("water"):
        notes.append("the old city's river line was removed")  # out["city"] is the new city alone
    return out, notes


def city_layers(scenario: Scenario) -> dict[str, pd.DataFrame]:
    """The scenario's city as map layers in longitude/latitude (GeoDataFrames)."""
    from sim.city.build import build_city
    from sim.city.crs import to_wgs84

    city = build_city(scenario.city)
    out: dict[str, pd.DataFrame] = {
        "roads": to_wgs84(city.roads[["road_id", "name", "highway", "walkable", "drivable", "geometry"]]),
        "districts": to_wgs84(city.districts),
        "shelters": city.shelters[["id", "name", "capacity", "lon", "lat"]].copy(),
    }
    if len(city.buildings):
        out["buildings"] = to_wgs84(city.buildings[["kind", "geometry"]])
    if len(city.water):
        out["water"] = to_wgs84(city.water)
    return out


# The app's and notebooks' sweeps, live exercises and run directories (kept in their own modules).
from sim.api.exercises import (  # noqa: E402 (after the core they use)
    TRAINING_DIR,
    exercise_act,
    exercise_control,
    exercise_files,
    exercise_inject,
    exercise_login,
    exercise_notes,
    exercise_report,
    exercise_setup,
    exercise_view,
    live_exercises,
    start_exercise,
)
from sim.api.runs import (  # noqa: E402 (after the core they use)
    load_run,
    run_folders,
    run_zip,
)
from sim.api.sweeps import (  # noqa: E402 (after the core they use)
    SWEEP_HEADLINE,
    UI_SWEEP_RUNS,
    read_sweep,
    sweep,
    sweep_folders,
    sweep_kept_run,
    sweep_parameters,
    sweep_point_scenario,
    ui_sweep,
)
