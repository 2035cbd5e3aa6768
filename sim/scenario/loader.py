"""The one scenario loader: safe YAML, ``--set`` overrides, one schema, field-named errors."""

from __future__ import annotations

import copy
import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar, get_args

import yaml
from pydantic import BaseModel, ValidationError

from sim.core.errors import InputError
from sim.scenario.cyber import AttackConfig
from sim.scenario.hazards import HazardConfig
from sim.scenario.schema import (
    MAX_RECORDS,
    MAX_STEPS,
    MAX_TRACK_ROWS,
    DelayDistribution,
    Scenario,
)

M = TypeVar("M", bound=BaseModel)

MAX_SCENARIO_BYTES = 2 * 1024 * 1024
"""Largest scenario file read (2 MiB)."""
MAX_DEPTH = 32
"""Deepest nesting of lists and mappings in a scenario."""
MAX_LIST_ITEMS = 20_000
"""Longest list (or mapping) in a scenario."""
MAX_NODES = 200_000
"""Most values in a scenario once YAML aliases are expanded (an alias counts as a full copy)."""


class _StrictSafeLoader(yaml.SafeLoader):
    """A safe YAML loader with YAML 1.2 scalars that rejects duplicate keys instead of keeping the last one.

    PyYAML follows YAML 1.1, where ``1:30`` is the number 90, ``no`` and ``on`` are booleans,
    ``017`` is octal 15 and a date is a date object. Here plain scalars follow YAML 1.2's JSON
    schema: booleans are only ``true``/``false``, integers are decimal without leading zeros,
    floats are decimal (``1e3`` included), ``~``/``null``/empty are null, and everything else
    (``1:30``, ``no``, ``on``, ``0o17``, ``017``, ``2026-01-01``) is the text you typed.
    """


def _construct_mapping(loader: _StrictSafeLoader, node: yaml.MappingNode, deep: bool = False) -> dict:
    loader.flatten_mapping(node)
    out: dict[Any, Any] = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if not isinstance(key, str | int | float | bool) and key is not None:
            mark = key_node.start_mark
            msg = f"a key must be plain text, not {type(key).__name__}, at line {mark.line + 1}"
            raise yaml.constructor.ConstructorError(None, None, msg, mark)
        if key in out:
            mark = key_node.start_mark
            msg = f"duplicate key {key!r} at line {mark.line + 1}"
            raise yaml.constructor.ConstructorError(None, None, msg, mark)
        out[key] = loader.construct_object(value_node, deep=deep)
    return out


_StrictSafeLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
_StrictSafeLoader.yaml_implicit_resolvers = {}
for _tag, _pattern, _first in (
    ("tag:yaml.org,2002:null", r"^(?:~|null|Null|NULL|)$", ["~", "n", "N", ""]),
    ("tag:yaml.org,2002:bool", r"^(?:true|True|TRUE|false|False|FALSE)$", list("tTfF")),
    ("tag:yaml.org,2002:int", r"^[-+]?(?:0|[1-9][0-9]*)$", list("-+0123456789")),
    (
        "tag:yaml.org,2002:float",
        r"^(?:[-+]?(?:(?:0|[1-9][0-9]*)(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][-+]?[0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$",
        list("-+.0123456789"),
    ),
    ("tag:yaml.org,2002:merge", r"^<<$", ["<"]),
):
    _StrictSafeLoader.add_implicit_resolver(_tag, re.compile(_pattern), _first)


def _join(prefix: str, key: object) -> str:
    return f"{prefix}.{key}" if prefix else str(key)


def _check_events(text: str, source: str) -> None:
    """Bound nesting depth and list lengths from the event stream, before any tree is built.

    The event parser is a state machine (no recursion), so this is safe on any input; it also
    refuses lists or mappings used as keys, with the path of where they stand.
    """
    # One frame per open collection: [is_mapping, path, items seen, expecting a key].
    stack: list[list[Any]] = []
    pending_key: str | None = None
    root = "" if source == "scenario" else source
    for event in yaml.parse(text, Loader=yaml.SafeLoader):
        if isinstance(event, yaml.NodeEvent) and not isinstance(event, yaml.CollectionEndEvent):
            if stack:
                frame = stack[-1]
                if frame[0] and frame[3]:  # a key of a mapping
                    if not isinstance(event, yaml.ScalarEvent | yaml.AliasEvent):
                        raise InputError.single(frame[1] or source, "a key must be plain text, not a list or mapping")
                    pending_key = event.value if isinstance(event, yaml.ScalarEvent) else "<alias>"
                    frame[3] = False
                    continue
                here = _join(frame[1], pending_key if frame[0] else frame[2])
                frame[2] += 1
                if frame[0]:
                    frame[3] = True
                if frame[2] > MAX_LIST_ITEMS:
                    raise InputError.single(frame[1] or source, f"more than {MAX_LIST_ITEMS:,} items")
            else:
                here = root
            if isinstance(event, yaml.CollectionStartEvent):
                if len(stack) >= MAX_DEPTH:
                    raise InputError.single(here or source, f"nested deeper than {MAX_DEPTH} levels")
                stack.append([isinstance(event, yaml.MappingStartEvent), here, 0, True])
        elif isinstance(event, yaml.CollectionEndEvent):
            stack.pop()


def _expanded_size(node: yaml.Node, memo: dict[int, int], active: set[int], source: str) -> int:
    """Values in ``node`` with every alias expanded (memoised: cost linear in the file)."""
    key = id(node)
    if key in memo:
        return memo[key]
    if key in active:
        raise InputError.single(source, "a YAML alias refers to itself (recursive data)")
    active.add(key)
    total = 1
    if isinstance(node, yaml.SequenceNode):
        for child in node.value:
            total += _expanded_size(child, memo, active, source)
            if total > MAX_NODES:
                break
    elif isinstance(node, yaml.MappingNode):
        for k, v in node.value:
            total += _expanded_size(k, memo, active, source) + _expanded_size(v, memo, active, source)
            if total > MAX_NODES:
                break
    active.discard(key)
    memo[key] = total
    if total > MAX_NODES:
        msg = f"more than {MAX_NODES:,} values once YAML aliases are expanded (an alias bomb?)"
        raise InputError.single(source, msg)
    return total


def parse_yaml(text: str, *, source: str = "scenario") -> Any:
    """Parse YAML text safely, within bounds; problems become an :class:`InputError` naming ``source``.

    Depth, list lengths and the size with aliases expanded are checked before anything is
    built, so a small hostile file (an alias bomb, 5,000 nested brackets) costs nothing.
    """
    try:
        _check_events(text, source)
        loader = _StrictSafeLoader(text)  # a SafeLoader: plain data only, never Python objects
        try:
            node = loader.get_single_node()
            if node is None:
                return None
            _expanded_size(node, {}, set(), source)
            return loader.construct_document(node)
        finally:
            loader.dispose()
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise InputError.single(source, f"invalid YAML{where}: {_describe_text(problem)}") from None
    except RecursionError:
        raise InputError.single(source, f"nested deeper than {MAX_DEPTH} levels") from None


def read_scenario_file(path: str | Path) -> dict[str, Any]:
    """Read a scenario file into a plain dict (not yet validated)."""
    p = Path(path)
    if not p.is_file():
        raise InputError.single("scenario", f"file not found: {p}")
    if p.stat().st_size > MAX_SCENARIO_BYTES:
        raise InputError.single("scenario", f"file is larger than {MAX_SCENARIO_BYTES // 1024} KiB: {p}")
    try:
        text = p.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise InputError.single("scenario", f"not a UTF-8 text file: {p}") from None
    data = parse_yaml(text, source="scenario")
    if data is None:
        raise InputError.single("scenario", "the file is empty (a scenario needs at least a city or a name)")
    if not isinstance(data, dict):
        raise InputError.single("scenario", f"the top level must be a mapping of keys, got {type(data).__name__}")
    return data


def read_text_file(path: str | Path, *, field: str, max_bytes: int) -> str:
    """A small UTF-8 text file, or an ``InputError`` naming ``field`` (missing, too large, unreadable)."""
    p = Path(path)
    try:
        if p.stat().st_size > max_bytes:
            raise InputError.single(field, f"file larger than {max_bytes:,} bytes: {p.name}")
        return p.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise InputError.single(field, f"no such file: {p.name}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError.single(field, f"cannot read {p.name}: {exc}") from None


def load_config_file(path: str | Path, model: type[M], *, field: str, expected: str, max_bytes: int) -> M:
    """A YAML file (a sweep, an exercise) validated by ``model``; problems name their fields.

    Raises:
        InputError: the file is missing, too large, not YAML, not a mapping, or invalid.
    """
    data = parse_yaml(read_text_file(path, field=field, max_bytes=max_bytes), source=field)
    if not isinstance(data, dict):
        raise InputError.single(field, f"must be a mapping with {expected}")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise InputError(validation_problems(exc)) from None


def _split_path(path: str) -> list[str | int]:
    parts: list[str | int] = []
    for raw in path.split("."):
        if raw == "":
            msg = f"empty part in field path {path!r}"
            raise ValueError(msg)
        parts.append(int(raw) if raw.isdigit() else raw)
    return parts


def apply_override(data: dict[str, Any], assignment: str) -> None:
    """Apply one ``PATH=VALUE`` override in place; VALUE is parsed as YAML."""
    if "=" not in assignment:
        raise InputError.single("--set", f"expected PATH=VALUE, got {assignment!r}")
    path, _, raw_value = assignment.partition("=")
    path = path.strip()
    try:
        parts = _split_path(path)
    except ValueError as exc:
        raise InputError.single("--set", str(exc)) from None
    value = parse_yaml(raw_value, source=path) if raw_value.strip() else None
    node: Any = data
    for i, key in enumerate(parts):
        here = ".".join(str(p) for p in parts[: i + 1])
        last = i == len(parts) - 1
        if isinstance(key, int):
            if not isinstance(node, list):
                raise InputError.single(here, f"{'.'.join(str(p) for p in parts[:i]) or 'value'} is not a list")
            if key >= len(node):
                raise InputError.single(here, f"no item {key}: the list has {len(node)} item(s)")
            if last:
                node[key] = value
            else:
                if node[key] is None:
                    node[key] = {}
                node = node[key]
        else:
            if not isinstance(node, dict):
                raise InputError.single(here, "cannot set a key inside a value that is not a mapping")
            if last:
                node[key] = value
            else:
                if node.get(key) is None:
                    node[key] = [] if isinstance(parts[i + 1], int) else {}
                node = node[key]


def _describe_text(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _describe(value: Any) -> str:
    """A short repr of user input, built without ever rendering a large value in full."""
    if isinstance(value, str):
        return repr(_describe_text(value, 57))
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > 10**30:
        return f"a {len(str(abs(value)))}-digit number" if abs(value) < 10**4000 else "a huge number"
    if isinstance(value, list | tuple):
        return f"a list of {len(value)} items" if len(value) > 5 else _describe_text(repr(value))
    if isinstance(value, dict):
        return f"a mapping of {len(value)} keys" if len(value) > 5 else _describe_text(repr(value))
    return _describe_text(repr(value))


def _union_tags(*unions: Any) -> frozenset[str]:
    """The ``type``/``distribution`` literals of tagged unions (pydantic adds them to error paths)."""
    tags: set[str] = set()
    for union in unions:
        for member in get_args(get_args(union)[0]):
            for name in ("type", "distribution"):
                field = member.model_fields.get(name)
                if field is not None:
                    tags.update(str(t) for t in get_args(field.annotation))
    return frozenset(tags)


_KNOWN_TAGS = _union_tags(HazardConfig, DelayDistribution, AttackConfig)


def _loc_to_path(loc: Sequence[Any]) -> str:
    parts: list[str] = []
    for item in loc:
        text = str(item)
        # Union machinery adds the member's name or tag to the location; a user never wrote it.
        if "[" in text or text.startswith("~") or text in _KNOWN_TAGS:
            continue
        parts.append(text)
    return ".".join(parts)


def _message(err: Mapping[str, Any]) -> str:
    kind = err.get("type", "")
    ctx = err.get("ctx") or {}
    got = err.get("input")
    if kind == "extra_forbidden":
        return "unknown key (not part of the scenario schema)"
    if kind == "missing":
        return "required, but missing"
    if kind in ("greater_than_equal", "greater_than", "less_than_equal", "less_than"):
        op = {"greater_than_equal": ">=", "greater_than": ">", "less_than_equal": "<=", "less_than": "<"}[kind]
        bound = next(iter(ctx.values())) if ctx else "?"
        return f"must be {op} {bound}, got {_describe(got)}"
    if kind == "literal_error":
        return f"must be one of {ctx.get('expected', '?')}, got {_describe(got)}"
    if kind in ("union_tag_invalid",):
        return (
            f"unknown {ctx.get('discriminator', 'type')} {ctx.get('tag')!r}; expected one of {ctx.get('expected_tags')}"
        )
    if kind in ("zone", "area"):
        return f"{err.get('msg')}, got {_describe(got)}"
    if kind == "union_tag_not_found":
        return f"needs a {ctx.get('discriminator', 'type')} key"
    if kind == "int_parsing_size":
        return f"must be a whole number of sane size, got {_describe(got)}"
    if kind in ("int_type", "int_parsing", "int_from_float"):
        return f"must be a whole number, got {_describe(got)}"
    if kind in ("float_type", "float_parsing"):
        return f"must be a number, got {_describe(got)}"
    if kind in ("bool_type", "bool_parsing"):
        return f"must be true or false, got {_describe(got)}"
    if kind in ("string_type",):
        return f"must be text, got {_describe(got)}"
    if kind in ("list_type", "tuple_type"):
        return f"must be a list, got {_describe(got)}"
    if kind in ("model_type", "dict_type", "model_attributes_type"):
        return f"must be a mapping of keys, got {_describe(got)}"
    if kind == "string_too_long":
        return f"must be at most {ctx.get('max_length')} characters, got {len(str(got)):,}"
    if kind == "string_too_short":
        return f"must be at least {ctx.get('min_length')} character(s), got {len(str(got))}"
    if kind in ("too_short", "too_long"):
        return f"{err.get('msg', 'wrong length').lower()}, got {_describe(got)}"
    msg = str(err.get("msg", "invalid"))
    msg = msg.removeprefix("Value error, ").removeprefix("Assertion failed, ")
    return msg


def validation_problems(exc: ValidationError) -> list[tuple[str, str]]:
    """Turn a pydantic error into ``(field.path, message)`` pairs, one per distinct problem."""
    problems: dict[tuple[str, str], None] = {}  # insertion-ordered set: linear, however many errors
    for err in exc.errors(include_url=False, include_input=True):
        path = _loc_to_path(err.get("loc", ())) or "scenario"
        problems.setdefault((path, _message(err)))
    return list(problems)


def _duplicate_ids(items: Sequence[Any], path: str, attr: str = "id") -> list[tuple[str, str]]:
    first: dict[Any, int] = {}
    problems = []
    for i, item in enumerate(items):
        value = item if attr == "" else getattr(item, attr)
        if value is None:
            continue
        if value in first:
            where = f"{path}.{i}.{attr}" if attr else f"{path}.{i}"
            problems.append((where, f"{_describe(value)} is already used by item {first[value]}; ids must be unique"))
        else:
            first[value] = i
    return problems


def scenario_problems(s: Scenario) -> list[tuple[str, str]]:
    """Checks across fields, each naming the exact field: unique ids, step and size limits."""
    problems: list[tuple[str, str]] = []
    for items, path, attr in (
        (s.shelters, "shelters", "id"),
        (s.alerting.orders, "alerting.orders", "id"),
        (s.alerting.triggers, "alerting.triggers", "id"),
        (s.hazards, "hazards", "id"),
        (s.cyber, "cyber", "id"),
        (s.network.assets, "network.assets", "id"),
        (s.network.links, "network.links", "id"),
        (s.network.services, "network.services", "name"),
        (s.network.sensors, "network.sensors", "id"),
        (s.shelter_operations.reserve, "shelter_operations.reserve", ""),
        (s.defenses.assets, "defenses.assets", "id"),
    ):
        problems += _duplicate_ids(items, path, attr)
    if s.step > s.duration:
        problems.append(("step", f"must not exceed duration ({s.duration:g} s), got {s.step:g} s"))
    elif s.duration / s.step > MAX_STEPS:
        problems.append(
            (
                "step",
                (
                    f"{s.duration / s.step:,.0f} steps of {s.step:g} s in {s.duration:g} s; at most {MAX_STEPS:,} "
                    "(use a longer step or a shorter duration)"
                ),
            )
        )
    records = s.duration / s.output.record_every
    if records > MAX_RECORDS:
        msg = f"{records:,.0f} recorded times; at most {MAX_RECORDS:,} (record less often)"
        problems.append(("output.record_every", msg))
    tracks = s.output.tracks
    rows = tracks.max_citizens * (s.duration / tracks.every + 1)
    if rows > MAX_TRACK_ROWS:
        problems.append(
            (
                "output.tracks.every",
                (
                    f"{rows:,.0f} sampled positions ({tracks.max_citizens:,} citizens every {tracks.every:g} s); "
                    f"at most {MAX_TRACK_ROWS:,} (sample less often or fewer citizens)"
                ),
            )
        )
    return problems


def scenario_warnings(s: Scenario) -> list[tuple[str, str]]:
    """What is valid but will not do what it seems to: onsets at or after the end of the run.

    The rule (README, "Scenario files"): an order, hazard or attack whose ``at`` is at or after
    ``duration`` never happens; the command line says so on stderr and the manifest lists it.
    """
    out: list[tuple[str, str]] = []
    end = s.duration
    for items, path in ((s.alerting.orders, "alerting.orders"), (s.hazards, "hazards"), (s.cyber, "cyber")):
        for i, item in enumerate(items):
            if item.at >= end:
                out.append(
                    (
                        f"{path}.{i}.at",
                        f"at {item.at:g} s is not before the end of the run ({end:g} s): it never happens",
                    )
                )
    return out


def validate_scenario(data: Mapping[str, Any], *, base_dir: str | Path | None = None) -> Scenario:
    """Validate a plain dict against the schema; raise :class:`InputError` listing every problem."""
    try:
        scenario = Scenario.model_validate(dict(data), context={"base_dir": base_dir})
    except ValidationError as exc:
        raise InputError(validation_problems(exc)) from None
    problems = scenario_problems(scenario)
    if problems:
        raise InputError(problems)
    return scenario


def load_scenario(
    source: str | Path | Mapping[str, Any],
    overrides: Iterable[str] = (),
    *,
    base_dir: str | Path | None = None,
) -> Scenario:
    """Load a scenario from a YAML file (or a dict), apply ``--set`` overrides, validate it.

    Args:
        source: a path to a YAML file, or an already-parsed mapping.
        overrides: ``PATH=VALUE`` strings, applied in order.
        base_dir: folder for relative paths (default: the file's folder, or the working folder).

    Raises:
        InputError: anything wrong with the file, an override or a value.
    """
    if isinstance(source, Mapping):
        data = copy.deepcopy(dict(source))
        folder = Path(base_dir) if base_dir is not None else Path.cwd()
    else:
        data = read_scenario_file(source)
        folder = Path(base_dir) if base_dir is not None else Path(source).resolve().parent
    for assignment in overrides:
        apply_override(data, assignment)
    return validate_scenario(data, base_dir=folder)


def resolved_dict(scenario: Scenario) -> dict[str, Any]:
    """The resolved scenario (every default filled in) as plain JSON/YAML-ready data."""
    return scenario.model_dump(mode="json")


def dump_yaml(scenario: Scenario | Mapping[str, Any]) -> str:
    """The resolved scenario (or an already resolved mapping) as YAML text."""
    data = dict(scenario) if isinstance(scenario, Mapping) else resolved_dict(scenario)
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
