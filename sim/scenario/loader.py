"""The one scenario loader: safe YAML, ``--set`` overrides, one schema, field-named errors."""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, get_args

import yaml
from pydantic import ValidationError

from sim.core.errors import InputError
from sim.scenario.cyber import AttackConfig
from sim.scenario.hazards import HazardConfig
from sim.scenario.schema import DelayDistribution, Scenario

MAX_SCENARIO_BYTES = 2 * 1024 * 1024


class _StrictSafeLoader(yaml.SafeLoader):
    """A safe YAML loader that rejects duplicate keys instead of keeping the last one."""


def _construct_mapping(loader: _StrictSafeLoader, node: yaml.MappingNode, deep: bool = False) -> dict:
    loader.flatten_mapping(node)
    out: dict[Any, Any] = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in out:
            mark = key_node.start_mark
            msg = f"duplicate key {key!r} at line {mark.line + 1}"
            raise yaml.constructor.ConstructorError(None, None, msg, mark)
        out[key] = loader.construct_object(value_node, deep=deep)
    return out


_StrictSafeLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def parse_yaml(text: str, *, source: str = "scenario") -> Any:
    """Parse YAML text safely; syntax errors become an :class:`InputError` naming ``source``."""
    try:
        loader = _StrictSafeLoader(text)  # a SafeLoader: plain data only, never Python objects
        try:
            return loader.get_single_data()
        finally:
            loader.dispose()
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise InputError.single(source, f"invalid YAML{where}: {problem}") from None


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
        data = {}
    if not isinstance(data, dict):
        raise InputError.single("scenario", f"the top level must be a mapping of keys, got {type(data).__name__}")
    return data


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


def _describe(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


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
    if kind in ("too_short", "too_long"):
        return f"{err.get('msg', 'wrong length').lower()}, got {_describe(got)}"
    msg = str(err.get("msg", "invalid"))
    msg = msg.removeprefix("Value error, ").removeprefix("Assertion failed, ")
    return msg


def validation_problems(exc: ValidationError) -> list[tuple[str, str]]:
    """Turn a pydantic error into ``(field.path, message)`` pairs, one per distinct problem."""
    problems: list[tuple[str, str]] = []
    for err in exc.errors(include_url=False):
        path = _loc_to_path(err.get("loc", ())) or "scenario"
        item = (path, _message(err))
        if item not in problems:
            problems.append(item)
    return problems


def validate_scenario(data: Mapping[str, Any], *, base_dir: str | Path | None = None) -> Scenario:
    """Validate a plain dict against the schema; raise :class:`InputError` listing every problem."""
    try:
        return Scenario.model_validate(dict(data), context={"base_dir": base_dir})
    except ValidationError as exc:
        raise InputError(validation_problems(exc)) from None


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
