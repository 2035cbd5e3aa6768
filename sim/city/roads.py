"""Road attributes: widths, lanes, speeds, and the capacity rules of docs/movement.md."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

# Typical carriageway (or path) width by OSM highway class, metres, when the data has none.
WIDTH_BY_HIGHWAY_M: dict[str, float] = {
    "motorway": 15.0,
    "trunk": 12.0,
    "primary": 10.0,
    "secondary": 8.0,
    "tertiary": 7.0,
    "unclassified": 5.0,
    "residential": 6.0,
    "living_street": 5.0,
    "service": 4.0,
    "track": 3.0,
    "pedestrian": 6.0,
    "footway": 2.0,
    "path": 1.5,
    "cycleway": 2.5,
    "steps": 1.5,
    "bridleway": 2.0,
    "corridor": 2.0,
    "road": 5.0,
}
DEFAULT_WIDTH_M = 3.0

# Speed limit by class where the data has no maxspeed, km/h.
SPEED_BY_HIGHWAY_KPH: dict[str, float] = {
    "motorway": 100.0,
    "trunk": 80.0,
    "primary": 60.0,
    "secondary": 50.0,
    "tertiary": 40.0,
    "unclassified": 40.0,
    "residential": 30.0,
    "living_street": 20.0,
    "service": 20.0,
    "road": 30.0,
}
DEFAULT_SPEED_KPH = 30.0

# Total lanes (both directions) by class where the data has none.
LANES_BY_HIGHWAY: dict[str, int] = {"motorway": 4, "trunk": 4, "primary": 2, "secondary": 2}

DRIVABLE = frozenset(
    {
        "motorway",
        "trunk",
        "primary",
        "secondary",
        "tertiary",
        "unclassified",
        "residential",
        "living_street",
        "service",
        "road",
    }
    | {f"{c}_link" for c in ("motorway", "trunk", "primary", "secondary", "tertiary")}
)
NOT_WALKABLE = frozenset({"motorway", "motorway_link", "trunk", "trunk_link", "construction", "proposed"})

LANE_WIDTH_M = 3.5
# Walkers share the carriageway with cars (one capacity, in time shares) unless the street has
# a sidewalk; OSM's sidewalk tag decides, else the class: these are shared by default.
SHARED_BY_DEFAULT = frozenset({"living_street", "service", "track", "unclassified", "road"})
SIDEWALK_YES = frozenset({"both", "left", "right", "yes", "separate"})
SIDEWALK_NO = frozenset({"no", "none"})
# Unusable strip at each side by kind of passage, m (a "street" uses movement.boundary_m).
PASSAGE_BOUNDARY_M: dict[str, float] = {"door": 0.15, "gate": 0.15, "passage": 0.0}
PASSAGES = ("street", "door", "gate", "passage")
_NUMBER = re.compile(r"^\s*(\d+(?:\.\d+)?)")


def _first_number(value: object) -> float:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return np.nan
    if isinstance(value, int | float):
        return float(value)
    m = _NUMBER.match(str(value))
    return float(m.group(1)) if m else np.nan


def base_class(highway: object) -> str:
    """The highway class without its ``_link`` suffix (``primary_link`` -> ``primary``)."""
    text = str(highway) if isinstance(highway, str) else "road"
    return text.removesuffix("_link")


def complete_road_attributes(roads: pd.DataFrame) -> pd.DataFrame:
    """Fill ``width_m``, ``lanes``, ``speed_kph``, ``walkable``, ``drivable``, ``oneway``.

    Input columns used when present: ``highway``, ``width_m`` (or OSM ``width``), ``lanes``,
    ``maxspeed`` or ``speed_kph``, ``oneway``, ``capacity_pph``, ``foot``, ``access``,
    ``passage`` (street, door, gate, passage), ``boundary_m`` and ``sidewalk`` (which sets
    ``shared``: walkers and cars on one carriageway).

    Returns:
        A copy with every attribute column present and typed.
    """
    out = roads.copy()
    hw = (
        out["highway"].where(out["highway"].notna(), "road").astype(str)
        if "highway" in out
        else pd.Series("road", index=out.index)
    )
    out["highway"] = hw
    cls = hw.map(base_class)

    width = pd.to_numeric(out.get("width_m", pd.Series(np.nan, index=out.index)), errors="coerce")
    if "width" in out:
        width = width.fillna(out["width"].map(_first_number))
    lanes = out.get("lanes", pd.Series(np.nan, index=out.index)).map(_first_number)
    width = width.fillna(lanes * LANE_WIDTH_M)
    width = width.fillna(cls.map(WIDTH_BY_HIGHWAY_M)).fillna(DEFAULT_WIDTH_M)
    out["width_m"] = width.clip(lower=0.5).astype(float)

    speed = pd.to_numeric(out.get("speed_kph", pd.Series(np.nan, index=out.index)), errors="coerce")
    if "maxspeed" in out:
        speed = speed.fillna(out["maxspeed"].map(_first_number))
    out["speed_kph"] = speed.fillna(cls.map(SPEED_BY_HIGHWAY_KPH)).fillna(DEFAULT_SPEED_KPH).clip(5, 130)

    oneway = out.get("oneway", pd.Series(False, index=out.index))
    out["oneway"] = oneway.map(lambda v: str(v).lower() in {"yes", "true", "1", "-1"} if v is not None else False)
    out["oneway"] = out["oneway"].astype(bool)

    out["lanes"] = (
        lanes.fillna(cls.map(LANES_BY_HIGHWAY))
        .fillna(pd.Series(np.where(out["oneway"], 1.0, 2.0), index=out.index))
        .clip(1, 12)
    )

    drivable = hw.isin(DRIVABLE)
    if "access" in out:
        drivable &= ~out["access"].astype(str).isin(["no", "private"])
    out["drivable"] = drivable.astype(bool)
    walkable = ~hw.isin(NOT_WALKABLE)
    if "foot" in out:
        walkable &= ~out["foot"].astype(str).isin(["no"])
    out["walkable"] = walkable.astype(bool)

    cap = pd.to_numeric(out.get("capacity_pph", pd.Series(np.nan, index=out.index)), errors="coerce")
    out["capacity_pph"] = cap.astype(float)
    # One carriageway for walkers and cars: no sidewalk (by the tag, else by class).
    sidewalk = out.get("sidewalk", pd.Series(None, index=out.index)).map(
        lambda v: str(v).lower() if isinstance(v, str) else None
    )
    no_walk_of_their_own = sidewalk.isin(SIDEWALK_NO) | (~sidewalk.isin(SIDEWALK_YES) & cls.isin(SHARED_BY_DEFAULT))
    out["shared"] = (out["drivable"] & out["walkable"] & no_walk_of_their_own).astype(bool)
    # The kind of passage (street, door, gate, passage) sets the boundary strip, unless boundary_m
    # is given; NaN: a street, whose strip is movement.boundary_m.
    passage = out.get("passage", pd.Series("street", index=out.index)).fillna("street").astype(str).str.lower()
    out["passage"] = passage.where(passage.isin(PASSAGES), "street")
    given = pd.to_numeric(out.get("boundary_m", pd.Series(np.nan, index=out.index)), errors="coerce")
    out["boundary_m"] = given.fillna(out["passage"].map(PASSAGE_BOUNDARY_M)).clip(lower=0.0).astype(float)
    if "name" not in out:
        out["name"] = ""
    out["name"] = out["name"].fillna("").astype(str)
    if "bridge" not in out:
        out["bridge"] = False
    out["bridge"] = out["bridge"].map(lambda v: str(v).lower() not in {"", "no", "none", "nan", "false", "0"})
    return out


def effective_width_m(width_m: np.ndarray, boundary_m: float | np.ndarray) -> np.ndarray:
    """The usable width: the way's width minus the boundary strip on each side (at least 0.5 m)."""
    return np.maximum(np.asarray(width_m, dtype=float) - 2.0 * np.asarray(boundary_m, dtype=float), 0.5)


def pedestrian_capacity_pph(
    width_m: np.ndarray, *, specific_flow_pmps: float, boundary_m: float | np.ndarray
) -> np.ndarray:
    """People per hour through a way of the given width, in one direction.

    Rule: ``specific_flow_pmps`` persons per metre of *effective* width per second, where the
    effective width removes a ``boundary_m`` strip on each side (walls, kerbs, parked cars);
    at least 0.5 m stays usable.
    """
    effective = effective_width_m(width_m, boundary_m)
    return specific_flow_pmps * effective * 3600.0


def vehicle_capacity_vph(lanes: np.ndarray, oneway: np.ndarray, *, lane_capacity_vph: float) -> np.ndarray:
    """Vehicles per hour in one direction: lanes of that direction times the lane capacity."""
    lanes = np.asarray(lanes, dtype=float)
    per_direction = np.where(np.asarray(oneway, dtype=bool), lanes, np.maximum(1.0, np.floor(lanes / 2.0)))
    return per_direction * lane_capacity_vph
