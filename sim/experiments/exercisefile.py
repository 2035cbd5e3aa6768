"""Exercise files: the master scenario events list (MSEL), roles, objectives, scripted player actions.

SPEC section 6 and docs/exercises.md. ``load_exercise`` reads and checks everything before an
exercise starts: the file, the MSEL (inline or CSV with the HSEEP columns), every inject's
effect against the city (``msel.3.effect.close_road.names: no road is named ['X']``), and a
scripted actions CSV. Problems are ``InputError`` lines naming the field.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, get_args

from pydantic import ConfigDict, Field, TypeAdapter, ValidationError, model_validator

from sim.core.errors import InputError
from sim.scenario.cyber import AttackConfig
from sim.scenario.hazards import HazardConfig
from sim.scenario.loader import (
    load_config_file,
    load_scenario,
    parse_yaml,
    read_scenario_file,
    read_text_file,
    validation_problems,
)
from sim.scenario.schema import MAX_SHELTER_CAPACITY, ChannelType, Scenario
from sim.scenario.types import Area, Duration, Lat, Lon, Strict, Zone

ActionName = Literal[
    "issue_order",
    "open_shelter",
    "close_shelter",
    "close_road",
    "reopen_road",
    "isolate_device",
    "hazard",
    "attack",
    "note",
]
ACTIONS: tuple[str, ...] = get_args(ActionName)
MAX_FILE_BYTES = 2_000_000
MAX_INJECTS = 2000
MAX_ACTIONS = 5000
ROLE_PATTERN = r"^[a-z][a-z0-9_]{0,39}$"
ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,49}$"


class IssueOrder(Strict):
    """Order people out now."""

    zone: Zone = Field("all", description="all, a district, districts or an area")
    channels: list[ChannelType] | None = Field(None, description="channel types (default: every channel)")


class OpenShelter(Strict):
    """Open a closed shelter, or a new one at ``location``."""

    id: str = Field(min_length=1, max_length=100, description="shelter id")
    location: tuple[Lon, Lat] | None = Field(None, description="[lon, lat]; required for a new shelter")
    capacity: int | None = Field(None, ge=0, le=MAX_SHELTER_CAPACITY, description="places; required for a new one")


class CloseShelter(Strict):
    """Close a shelter (people inside stay)."""

    id: str = Field(min_length=1, max_length=100, description="shelter id")


class RoadChoice(Strict):
    """Roads by id, street name or area (at least one)."""

    ids: list[str | int] = Field(default_factory=list, max_length=10_000, description="road ids")
    names: list[str] = Field(default_factory=list, max_length=1000, description="street names")
    area: Area | None = Field(None, description="an area")

    @model_validator(mode="after")
    def _some(self) -> RoadChoice:
        if not (self.ids or self.names or self.area is not None):
            msg = "give ids, names or an area"
            raise ValueError(msg)
        return self


class IsolateDevice(Strict):
    """Cut a device off the network."""

    id: str = Field(min_length=1, max_length=100, description="asset id")


class Note(Strict):
    """A note for the log (no effect on the city)."""

    text: str = Field(min_length=1, max_length=5000, description="the note")


ARG_MODELS: dict[str, Any] = {
    "issue_order": IssueOrder,
    "open_shelter": OpenShelter,
    "close_shelter": CloseShelter,
    "close_road": RoadChoice,
    "reopen_road": RoadChoice,
    "isolate_device": IsolateDevice,
    "hazard": HazardConfig,
    "attack": AttackConfig,
    "note": Note,
}


class Inject(Strict):
    """One MSEL row (the HSEEP columns)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    id: str = Field(pattern=ID_PATTERN, description="inject id")
    at: Duration = Field(description="when it is delivered, from the start")
    from_: str = Field("exercise control", alias="from", max_length=200, description="who sends it")
    to: str = Field(description="the role it is addressed to")
    method: str = Field("phone", max_length=100, description="how it arrives (phone, radio, email...)")
    message: str = Field(min_length=1, max_length=5000, description="what the role is told")
    expected_action: ActionName | None = Field(None, description="what the role should do")
    expected_within: Duration = Field(900.0, gt=0, le=86400, description="how soon, s (late after this)")
    objective: str | None = Field(None, max_length=50, description="the objective it tests")
    effect: dict[str, Any] | None = Field(None, description="what it changes in the city: {action: args}")


class Measure(Strict):
    """An objective's measure from the run's figures."""

    kpi: str = Field(min_length=1, max_length=200, description="a summary.json figure, e.g. evacuation.t90_s")
    at_most: float | None = Field(None, description="met when the figure is at most this")
    at_least: float | None = Field(None, description="met when the figure is at least this")


class Objective(Strict):
    """An exercise objective, rated from its injects' expected actions and an optional measure."""

    id: str = Field(pattern=ID_PATTERN, description="objective id")
    text: str = Field(min_length=1, max_length=2000, description="what is to be achieved")
    measure: Measure | None = Field(None, description="a figure that must be met")


class ExerciseConfig(Strict):
    """An exercise file (SPEC section 6)."""

    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$", description="short name")
    description: str = Field("", max_length=20_000, description="free text")
    scenario: str = Field(min_length=1, max_length=4096, description="the scenario, relative to this file")
    msel: list[dict[str, Any]] | str = Field(description="the MSEL: a list of injects or a CSV file")
    roles: list[str] = Field(min_length=1, max_length=50, description="the roles, controller included")
    objectives: list[Objective] = Field(default_factory=list, max_length=200, description="exercise objectives")
    speed: float = Field(30.0, ge=0, le=3600, description="simulated seconds per wall second in the app")


@dataclass
class Action:
    """A player's action (scripted or live), or an inject's effect."""

    at: float
    role: str
    action: str
    args: dict[str, Any]


@dataclass
class Exercise:
    """A checked exercise."""

    config: ExerciseConfig
    scenario: Scenario
    injects: list[Inject]
    path: Path
    actions: list[Action] = field(default_factory=list)

    @property
    def roles(self) -> list[str]:
        """The roles, in the file's order."""
        return list(self.config.roles)


def _read_text(path: Path, field_name: str) -> str:
    return read_text_file(path, field=field_name, max_bytes=MAX_FILE_BYTES)


def _csv_rows(text: str, field_name: str, columns: tuple[str, ...], required: tuple[str, ...]) -> list[dict]:
    reader = csv.DictReader(io.StringIO(text))
    header = [h.strip() for h in (reader.fieldnames or [])]
    missing = [c for c in required if c not in header]
    unknown = [c for c in header if c not in columns]
    if missing or unknown:
        problems = [(field_name, f"missing column {c!r}") for c in missing]
        problems += [(field_name, f"unknown column {c!r}; columns: {', '.join(columns)}") for c in unknown]
        raise InputError(problems)
    rows = []
    for i, raw in enumerate(reader):
        if i >= MAX_ACTIONS:
            raise InputError.single(field_name, f"more than {MAX_ACTIONS} rows")
        row = {k.strip(): (v.strip() if isinstance(v, str) else v) for k, v in raw.items() if k is not None}
        if None in raw:
            raise InputError.single(f"{field_name}.{i}", "more cells than columns")
        rows.append({k: v for k, v in row.items() if v not in (None, "")})
    return rows


def _yaml_cell(value: Any, field_name: str) -> Any:
    if not isinstance(value, str):
        return value
    return parse_yaml(value, source=field_name)


MSEL_COLUMNS = (
    "id",
    "at",
    "from",
    "to",
    "method",
    "message",
    "expected_action",
    "expected_within",
    "objective",
    "effect",
)


def read_msel(cfg: ExerciseConfig, folder: Path) -> list[dict[str, Any]]:
    """The MSEL rows as mappings (from the file, or from its CSV)."""
    if isinstance(cfg.msel, list):
        return cfg.msel
    rows = _csv_rows(_read_text(folder / cfg.msel, "msel"), "msel", MSEL_COLUMNS, ("id", "at", "to", "message"))
    for i, row in enumerate(rows):
        if "effect" in row:
            row["effect"] = _yaml_cell(row["effect"], f"msel.{i}.effect")
    return rows


def read_actions(path: str | Path, roles: list[str]) -> list[Action]:
    """A scripted actions CSV (``at``, ``role``, ``action``, ``args`` as a YAML mapping), checked.

    Raises:
        InputError: a bad row, naming ``actions.<row>.<column>``.
    """
    text = _read_text(Path(path), "--actions")
    rows = _csv_rows(text, "actions", ("at", "role", "action", "args"), ("at", "role", "action"))
    out: list[Action] = []
    problems: list[tuple[str, str]] = []
    for i, row in enumerate(rows):
        try:
            at = TypeAdapter(Duration).validate_python(row.get("at"))
        except ValidationError:
            problems.append((f"actions.{i}.at", f"not a duration: {row.get('at')!r}"))
            continue
        if row.get("role") not in roles:
            problems.append((f"actions.{i}.role", f"unknown role {row.get('role')!r}; roles: {', '.join(roles)}"))
        if row.get("action") not in ACTIONS:
            problems.append(
                (f"actions.{i}.action", f"unknown action {row.get('action')!r}; one of {', '.join(ACTIONS)}")
            )
            continue
        try:
            args = _yaml_cell(row.get("args", "{}"), f"actions.{i}.args") or {}
        except InputError as exc:
            problems.extend(exc.problems)
            continue
        if not isinstance(args, dict):
            problems.append((f"actions.{i}.args", "must be a mapping, e.g. {id: S1}"))
            continue
        out.append(Action(at=float(at), role=str(row["role"]), action=str(row["action"]), args=args))
    if problems:
        raise InputError(problems)
    return sorted(out, key=lambda a: a.at)


def check_args(action: str, args: Any, field_name: str) -> Any:
    """An action's arguments validated by its model (errors named ``<field>.<arg>``)."""
    if action not in ARG_MODELS:
        raise InputError.single(field_name, f"unknown action {action!r}; one of {', '.join(ACTIONS)}")
    if not isinstance(args, dict):
        raise InputError.single(f"{field_name}.{action}", "must be a mapping of arguments")
    try:
        return TypeAdapter(ARG_MODELS[action]).validate_python(args)
    except ValidationError as exc:
        raise InputError(validation_problems(exc)).prefixed(f"{field_name}.{action}") from None


def read_exercise_file(path: str | Path) -> ExerciseConfig:
    """Read and check an exercise file's own keys (not yet its MSEL's effects)."""
    return load_config_file(
        path, ExerciseConfig, field="exercise", expected="name, scenario, msel, roles", max_bytes=MAX_FILE_BYTES
    )


def load_exercise(path: str | Path, *, actions: str | Path | None = None) -> Exercise:
    """Read an exercise, its scenario, MSEL and scripted actions, and check every effect against the city.

    Raises:
        InputError: every problem found, each naming its field.
    """
    cfg = read_exercise_file(path)
    folder = Path(path).resolve().parent
    scenario_path = (folder / cfg.scenario).resolve()
    scenario = load_scenario(read_scenario_file(scenario_path), base_dir=scenario_path.parent)
    problems: list[tuple[str, str]] = []
    roles = list(cfg.roles)
    for i, r in enumerate(roles):
        if not re.fullmatch(ROLE_PATTERN, r):
            problems.append((f"roles.{i}", f"a role is lowercase letters, digits and _, got {r!r}"))
    if len(set(roles)) != len(roles):
        problems.append(("roles", "each role once"))
    if "controller" not in roles:
        problems.append(("roles", "must include controller (who runs the exercise)"))
    objective_ids = [o.id for o in cfg.objectives]
    if len(set(objective_ids)) != len(objective_ids):
        problems.append(("objectives", "each objective id once"))
    rows = read_msel(cfg, folder)
    if len(rows) > MAX_INJECTS:
        problems.append(("msel", f"at most {MAX_INJECTS} injects"))
    injects: list[Inject] = []
    for i, row in enumerate(rows[:MAX_INJECTS]):
        try:
            inj = Inject.model_validate(row)
        except ValidationError as exc:
            problems.extend((f"msel.{i}.{p}", m) for p, m in validation_problems(exc))
            continue
        if inj.to not in roles:
            problems.append((f"msel.{i}.to", f"unknown role {inj.to!r}; roles: {', '.join(roles)}"))
        if inj.objective is not None and inj.objective not in objective_ids:
            problems.append((f"msel.{i}.objective", f"no objective has id {inj.objective!r}"))
        if inj.at >= scenario.duration:
            problems.append((f"msel.{i}.at", f"at or after the end of the scenario ({scenario.duration:g} s)"))
        if inj.effect is not None and len(inj.effect) != 1:
            problems.append((f"msel.{i}.effect", f"one action per effect, got {len(inj.effect)}"))
        injects.append(inj)
    ids = [inj.id for inj in injects]
    if len(set(ids)) != len(ids):
        dup = next(x for x in ids if ids.count(x) > 1)
        problems.append(("msel", f"inject id {dup!r} is used twice"))
    scripted = read_actions(actions, roles) if actions is not None else []
    if problems:
        raise InputError(problems)
    ex = Exercise(
        config=cfg, scenario=scenario, injects=sorted(injects, key=lambda x: x.at), path=Path(path), actions=scripted
    )
    check_against_city(ex, row_of={str(r.get("id")): i for i, r in enumerate(rows) if isinstance(r, dict)})
    return ex


def check_against_city(ex: Exercise, *, row_of: dict[str, int]) -> None:
    """Every effect and scripted action, checked against the city and the running order of events.

    The simulation is built (not run) and each effect is tried on a dry copy of the names it
    needs: road names and ids, shelters (including those an earlier effect or action opens),
    devices and districts.

    Raises:
        InputError: each problem named like ``msel.3.effect.close_road.names``.
    """
    from sim.engine.model import EvacuationModel
    from sim.scenario.schema import OrderConfig

    model = EvacuationModel(ex.scenario)
    shelters = set(model.book.index)
    problems: list[tuple[str, str]] = []
    steps: list[tuple[float, int, str, str, dict[str, Any]]] = []
    for inj in ex.injects:
        if inj.effect:
            ((name, args),) = inj.effect.items()
            steps.append((inj.at, 0, f"msel.{row_of[inj.id]}.effect", name, args))
    for j, act in enumerate(ex.actions):
        steps.append((act.at, 1, f"actions.{j}.args", act.action, act.args))
    for _, _, where, name, args in sorted(steps, key=lambda s: (s[0], s[1])):
        try:
            parsed = check_args(name, args, where)
            if name in ("close_road", "reopen_road"):
                from sim.city.select import select_roads

                select_roads(
                    model.city,
                    ids=list(parsed.ids),
                    names=list(parsed.names),
                    area=parsed.area,
                    field=f"{where}.{name}",
                )
            elif name == "close_shelter" and parsed.id not in shelters:
                problems.append((f"{where}.{name}.id", f"no shelter has id {parsed.id!r}"))
            elif name == "open_shelter":
                if parsed.id not in shelters and (parsed.location is None or parsed.capacity is None):
                    problems.append((f"{where}.{name}", "a new shelter needs location [lon, lat] and capacity"))
                shelters.add(parsed.id)
            elif name == "isolate_device" and parsed.id not in model.network.index:
                problems.append((f"{where}.{name}.id", f"no device has id {parsed.id!r}"))
            elif name == "issue_order":
                model._order_mask(OrderConfig(at=0, zone=parsed.zone, channels=parsed.channels), f"{where}.{name}.zone")
        except InputError as exc:
            problems.extend(exc.problems)
    if problems:
        raise InputError(problems)
