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
from sim.experiments.control import Simulation
from sim.experiments.isolated import RunLimitError
from sim.io.sweepreport import HEADLINE
from sim.scenario.loader import dump_yaml, load_scenario, parse_yaml, resolved_dict
from sim.scenario.schema import Scenario

SCENARIO_DIR = Path(__file__).resolve().parents[1] / "scenarios"

__all__ = [
    "SCENARIO_DIR",
    "UI_CAPS",
    "UI_LIMITS",
    "InputError",
    "RunLimitError",
    "RunResult",
    "Scenario",
    "Simulation",
    "asset_state_frames",
    "asset_states_at",
    "check_files_within",
    "check_ui_limits",
    "city_layers",
    "city_summary",
    "dump_yaml",
    "form_fields",
    "format_duration",
    "load_scenario",
    "parse_duration",
    "public_problems",
    "read_run",
    "rebase_on_city",
    "resolved_dict",
    "run",
    "sample_scenarios",
    "save_upload",
    "scenario_from_dict",
    "scenario_from_text",
    "scenario_from_upload",
    "write_run",
]

UI_LIMITS = {"population": 200_000, "duration_s": 12 * 3600.0, "upload_mb": 50}
"""Caps on what the planner app accepts, so that a slider cannot take the server down."""
UI_CAPS = {"population": 200_000, "roads": 100_000, "track_rows": 1_000_000, "records": 20_000}
"""Caps checked on the built city before an app run: people from any source, road segments, rows."""

UPLOAD_KINDS = {
    "roads": ((".geojson", ".json", ".gpkg"), ("LineString", "MultiLineString")),
    "shelters": ((".geojson", ".json", ".gpkg"), ("Point",)),
    "population": ((".geojson", ".json", ".gpkg"), ("Point", "Polygon", "MultiPolygon")),
    "buildings": ((".geojson", ".json", ".gpkg"), ("Polygon", "MultiPolygon")),
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
        path = getattr(city, name)
        if path is not None and not any(Path(path).resolve().is_relative_to(r) for r in roots):
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

    check_ui_limits(scenario)
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


# -- live exercises (the app's Exercise page; docs/exercises.md) -------------------------------

TRAINING_DIR = Path(__file__).resolve().parents[1] / "training"


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
    check_ui_limits(ex.scenario)
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
    from sim.experiments.exercise_live import check_action

    check_action(action, dict(args))
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
            (name, args), = effect.items()
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
    summary = city_summary(scenario)
    return {
        "name": meta.get("name"),
        "roles": list(meta.get("roles", [])),
        "districts": list(summary.get("districts", [])),
        "channels": sorted({c.type for c in scenario.alerting.channels}),
        "scenario": scenario,
    }


# -- runs on disk (the app opens any run directory) ---------------------------------------------


def run_folders(root: str | Path = "runs") -> list[Path]:
    """Run directories under ``root`` (complete ones: with the manifest this project writes), newest first."""
    from sim.io.rundir import is_run_dir

    base = Path(root)
    if not base.is_dir():
        return []
    found = [d for d in base.iterdir() if d.is_dir() and not d.name.startswith(".") and is_run_dir(d)]
    return sorted(found, key=lambda d: d.stat().st_mtime, reverse=True)


def load_run(folder: str | Path) -> RunResult:
    """A run directory read back as a :class:`RunResult` (for the app's pages).

    Raises:
        InputError: the folder is not a complete run directory.
    """
    from sim.io.rundir import read_run

    try:
        data = read_run(folder)
    except (FileNotFoundError, ValueError, OSError) as exc:
        raise InputError.single("run", f"cannot read {Path(folder).name}: {exc}") from None
    core = {"summary", "manifest", "scenario", "timeseries", "events", "tracks"}
    return RunResult(
        summary=data["summary"],
        timeseries=data["timeseries"],
        events=data["events"],
        tracks=data.get("tracks", pd.DataFrame(columns=["t_s", "citizen", "lon", "lat", "state"])),
        scenario=data["scenario"],
        manifest=data["manifest"],
        tables={k: v for k, v in data.items() if k not in core},
    )


def run_zip(result: RunResult) -> bytes:
    """A run as a zip of its run directory (every file a run writes), for download."""
    import io
    import tempfile
    import zipfile

    buf = io.BytesIO()
    with tempfile.TemporaryDirectory() as tmp:
        folder = write_run(result, Path(tmp) / "run")
        with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            for p in sorted(folder.rglob("*")):
                if p.is_file():
                    zf.write(p, p.relative_to(folder).as_posix())
    return buf.getvalue()
