"""The scenario key reference, generated from the schema (the README embeds it; a test keeps it in sync)."""

from __future__ import annotations

import json
import types
import typing
from typing import Any, Union, get_args, get_origin

from pydantic import BaseModel
from pydantic_core import PydanticUndefined

from sim.scenario.schema import ChannelType, Scenario
from sim.scenario.types import LayerRef

BEGIN = "<!-- scenario-keys:begin -->"
END = "<!-- scenario-keys:end -->"


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    out: list[type[BaseModel]] = []
    stack = [annotation]
    while stack:
        a = stack.pop()
        if isinstance(a, type) and issubclass(a, BaseModel):
            out.append(a)
            continue
        stack.extend(get_args(a))
    return out


def _type_text(annotation: Any) -> str:
    text = str(annotation)
    if "parse_duration" in text:
        return "duration"
    if "_known_channel" in text and get_origin(annotation) is typing.Annotated:
        from sim.scenario.schema import DEFAULT_CHANNEL_DELAY_S

        return " / ".join(DEFAULT_CHANNEL_DELAY_S)
    if "LayerRef" in text:
        return "file path or {path, layer}"
    if "Path" in text:
        return "file path"
    origin = get_origin(annotation)
    if origin is typing.Annotated:
        return _type_text(get_args(annotation)[0])
    if origin in (Union, types.UnionType):
        parts = [_type_text(a) for a in get_args(annotation) if a is not type(None)]
        return " or ".join(dict.fromkeys(parts))
    if origin is typing.Literal:
        return " / ".join(str(a) for a in get_args(annotation))
    if origin in (list, tuple):
        inner = ", ".join(_type_text(a) for a in get_args(annotation) if a is not Ellipsis)
        return f"[{inner}]"
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return "mapping"
    return getattr(annotation, "__name__", text).replace("NoneType", "null")


def _default_text(field: Any) -> str:
    if field.default is PydanticUndefined and field.default_factory is None:
        return "required"
    value = field.default_factory() if field.default_factory is not None else field.default
    if isinstance(value, BaseModel):
        return "see below" if type(value).model_fields else "{}"
    if isinstance(value, list) and value and isinstance(value[0], BaseModel):
        return json.dumps([v.model_dump(mode="json", exclude_none=True) for v in value])
    try:
        return json.dumps(value)
    except TypeError:
        return str(value)


def rows(model: type[BaseModel] = Scenario, prefix: str = "") -> list[tuple[str, str, str, str]]:
    """``(key, type, default, meaning)`` for every field, depth first."""
    out: list[tuple[str, str, str, str]] = []
    for name, field in model.model_fields.items():
        key = f"{prefix}{name}"
        ann = field.annotation
        is_duration = any("parse_duration" in str(m) for m in field.metadata)
        typ = "duration" if is_duration else _type_text(ann)
        if any("_known_channel" in str(m) for m in field.metadata):
            typ = _type_text(ChannelType)
        out.append((key, typ, _default_text(field), field.description or ""))
        is_list = get_origin(ann) is list
        for sub in _models_in(ann):
            if sub is LayerRef:  # described by its type: "file path or {path, layer}"
                continue
            tag = ""
            if "type" in sub.model_fields and len(get_args(sub.model_fields["type"].annotation)) == 1:
                tag = f" (type: {get_args(sub.model_fields['type'].annotation)[0]})"
            elif "distribution" in sub.model_fields:
                tag = f" (distribution: {get_args(sub.model_fields['distribution'].annotation)[0]})"
            sub_prefix = f"{key}[]{tag}." if is_list else f"{key}{tag}."
            out.extend(rows(sub, sub_prefix))
    return out


def markdown_table() -> str:
    """The reference as a Markdown table between the README markers."""
    lines = [BEGIN, "", "| key | type | default | meaning |", "|---|---|---|---|"]
    for key, typ, default, desc in rows():
        lines.append(f"| `{key}` | {typ} | `{default}` | {desc} |".replace("`required`", "required"))
    lines += ["", END]
    return "\n".join(lines)


if __name__ == "__main__":
    print(markdown_table())
