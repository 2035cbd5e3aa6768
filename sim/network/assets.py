"""The city's network and infrastructure assets, placed by documented rules when no layer gives them.

Every city (built-in, OSM, layers or synthetic) gets the same kinds of asset. Placement rules
(docs/networks.md has the reasoning):

- ``substation``: one per district with residents, at the road node nearest the district's
  resident-weighted centre; every other asset draws power from its nearest substation.
- ``hub`` and ``radio_node``: one of each per district, at the node nearest the district's centre
  (a fibre street cabinet and a radio mesh node on the same site).
- ``cell_tower``: one per cell of a 1,500 m square grid that holds road nodes (macro-cell spacing).
- ``siren``: one per cell of an 800 m grid that holds residents (audible radius about 500 m), at
  the node nearest the cell's resident-weighted centre.
- ``camera``: one per cell of a 600 m grid that holds road nodes (traffic cameras).
- ``terminal``: one check-in terminal per shelter, at the shelter.
- ``server``: the command and control centre ``CCC`` at the node nearest the resident-weighted
  centre; the city operation centre ``COC`` at the nearest node at least 300 m away.
- ``gateway``: ``gw-safety`` at the CCC (separate design only) and ``gw-smart`` at the COC.
- ``internet`` (the uplink) at the COC, ``satellite`` (a terminal) at the CCC, ``operator`` (the
  mobile operator's core and cell broadcast centre) and ``broadcaster`` (public radio and TV) at
  the cell tower nearest the centre.
- ``sensor``: the hazard sensors of ``network.sensors`` and of the city's ``sensors`` layer.

Then ``network.assets`` and the city's ``network`` layer add assets or replace them by id.
"""

from __future__ import annotations

from pathlib import Path
from typing import cast

import numpy as np
import pandas as pd

from sim.city.model import City
from sim.core.errors import InputError
from sim.scenario.network import DEFAULT_BATTERY_H, SENSOR_UNITS, AssetConfig, NetworkConfig, SensorConfig
from sim.scenario.types import LayerRef

CELL_GRID_M = 1500.0
SIREN_GRID_M = 800.0
CAMERA_GRID_M = 600.0
COC_MIN_DISTANCE_M = 300.0
CCC_BATTERY_H = 72.0  # a generator with fuel for three days
CCC_SITE = frozenset({"CCC", "gw-safety"})  # on the CCC's generator
SAFETY_KINDS = frozenset({"hub", "radio_node", "siren", "sensor", "terminal", "satellite"})
SMART_KINDS = frozenset({"camera", "internet"})
PUBLIC_KINDS = frozenset({"cell_tower", "operator", "broadcaster"})
EXTERNAL_KINDS = frozenset({"internet", "operator", "broadcaster", "satellite"})  # own power supply
ASSET_COLUMNS = ["id", "kind", "subnet", "node", "x", "y", "lon", "lat", "power", "battery_h", "sensor_type"]


def default_subnet(kind: str, ident: str, design: str) -> str:
    """The subnetwork an asset belongs to, by kind and network design."""
    if kind == "substation":
        return "power"
    if kind in PUBLIC_KINDS:
        return "public"
    if kind in ("server", "gateway"):
        safety = ident in ("CCC", "gw-safety")
    else:
        safety = kind in SAFETY_KINDS
    if design == "shared":
        return "shared"
    return "safety" if safety else "smart"


def _grid_sites(xy: np.ndarray, weight: np.ndarray, spacing: float) -> np.ndarray:
    """Weighted centre of each occupied grid cell, in cell order (deterministic)."""
    keep = weight > 0
    xy, weight = xy[keep], weight[keep]
    if len(xy) == 0:
        return np.zeros((0, 2))
    origin = xy.min(axis=0)
    cell = np.floor((xy - origin) / spacing).astype(np.int64)
    key = cell[:, 0] * 1_000_003 + cell[:, 1]
    _, inv = np.unique(key, return_inverse=True)
    w = np.bincount(inv, weights=weight)
    cx = np.bincount(inv, weights=xy[:, 0] * weight) / w
    cy = np.bincount(inv, weights=xy[:, 1] * weight) / w
    return np.column_stack([cx, cy])


def read_sensor_layer(city: City, path: object) -> list[SensorConfig]:
    """Sensors from the city's ``sensors`` layer: Point features with ``id`` and ``type``."""
    from sim.city.layers import read_layer

    gdf = read_layer(cast(Path | LayerRef, path), field="city.sensors", geom_types=("Point",))
    problems = []
    out = []
    for i, row in enumerate(gdf.itertuples()):
        sid = getattr(row, "id", None)
        stype = getattr(row, "type", None)
        if sid is None or (isinstance(sid, float) and np.isnan(sid)):
            problems.append((f"city.sensors.{i}.id", "missing"))
            continue
        if stype not in SENSOR_UNITS:
            problems.append((f"city.sensors.{i}.type", f"must be one of {', '.join(SENSOR_UNITS)}, got {stype!r}"))
            continue
        every = getattr(row, "every", None)
        out.append(
            SensorConfig(
                id=str(sid),
                type=stype,
                location=(row.geometry.x, row.geometry.y),
                every=60.0 if every is None or pd.isna(every) else float(every),
            )
        )
    if problems:
        raise InputError(problems)
    return out


def read_network_layer(path: object) -> tuple[list[AssetConfig], list[dict]]:
    """The city's ``network`` layer: assets (Points) and links (LineStrings).

    Points have ``id``, ``kind``, optional ``subnet`` and ``battery_h``; LineStrings ``a``,
    ``b``, ``type`` and optional properties.
    """
    from pydantic import ValidationError

    from sim.city.layers import read_layer
    from sim.scenario.loader import validation_problems

    gdf = read_layer(cast(Path | LayerRef, path), field="city.network", geom_types=("Point", "LineString"))
    assets: list[AssetConfig] = []
    links: list[dict] = []
    problems: list[tuple[str, str]] = []
    for i, row in enumerate(gdf.to_dict("records")):
        geom = row.pop("geometry")
        props = {k: v for k, v in row.items() if v is not None and not (isinstance(v, float) and np.isnan(v))}
        try:
            if geom.geom_type == "Point":
                assets.append(AssetConfig(location=(geom.x, geom.y), **props))
            else:
                links.append(props)
        except ValidationError as exc:
            problems += [
                (f"city.network.{i}.{p}" if p else f"city.network.{i}", m) for p, m in validation_problems(exc)
            ]
    if problems:
        raise InputError(problems)
    return assets, links


def build_assets(
    city: City,
    network: NetworkConfig,
    *,
    shelters: pd.DataFrame | None = None,
    sensor_layer: list[SensorConfig] | None = None,
    layer_assets: list[AssetConfig] | None = None,
    snap_max_m: float = float("inf"),
) -> pd.DataFrame:
    """The asset table: one row per asset (``ASSET_COLUMNS``), in a deterministic order.

    Sensors and assets the user placed farther than ``snap_max_m`` from any road are refused.
    """
    xy = city.node_xy
    homes = city.homes
    resid = np.zeros(city.n_nodes)
    np.add.at(resid, homes["node"].to_numpy(), homes["residents"].to_numpy(dtype=float))
    district = city.nodes["district"].to_numpy()
    rows: list[dict] = []

    def add(kind: str, ident: str, node: int, sensor_type: str = "", at: np.ndarray | None = None) -> None:
        pos = xy[int(node)] if at is None else at
        rows.append(
            {"id": ident, "kind": kind, "node": int(node), "sensor_type": sensor_type, "x": pos[0], "y": pos[1]}
        )

    def nearest(point: np.ndarray) -> int:
        return int(city.nearest_nodes(np.asarray(point, dtype=float)[None, :])[0])

    n_districts = int(district.max()) + 1 if len(district) else 0
    for d in range(n_districts):
        in_d = district == d
        if not in_d.any():
            continue
        w = resid[in_d]
        if w.sum() > 0:
            add("substation", f"substation-{d + 1}", nearest((xy[in_d] * w[:, None]).sum(axis=0) / w.sum()))
        site = nearest(xy[in_d].mean(axis=0))
        add("hub", f"hub-{d + 1}", site)
        add("radio_node", f"radio-{d + 1}", site)
    if not any(r["kind"] == "substation" for r in rows):
        add("substation", "substation-1", nearest(xy.mean(axis=0)))
    towers = _grid_sites(xy, np.ones(len(xy)), CELL_GRID_M)
    for i, site in enumerate(towers):
        add("cell_tower", f"tower-{i + 1}", nearest(site))
    for i, site in enumerate(_grid_sites(xy, resid, SIREN_GRID_M)):
        add("siren", f"siren-{i + 1}", nearest(site))
    for i, site in enumerate(_grid_sites(xy, np.ones(len(xy)), CAMERA_GRID_M)):
        add("camera", f"camera-{i + 1}", nearest(site))
    centre = (xy * resid[:, None]).sum(axis=0) / resid.sum() if resid.sum() > 0 else xy.mean(axis=0)
    ccc = nearest(centre)
    dist = np.hypot(*(xy - xy[ccc]).T)
    far = np.nonzero(dist >= COC_MIN_DISTANCE_M)[0]
    coc = int(far[np.argmin(dist[far])]) if len(far) else ccc
    add("server", "CCC", ccc)
    add("server", "COC", coc)
    if network.design == "separate":
        add("gateway", "gw-safety", ccc)
    add("gateway", "gw-smart", coc)
    add("internet", "internet", coc)
    add("satellite", "satellite", ccc)
    core = nearest(towers[np.argmin(np.hypot(*(towers - centre).T))]) if len(towers) else ccc
    add("operator", "operator", core)
    add("broadcaster", "broadcaster", core)
    if shelters is not None:
        for r in shelters.itertuples():
            add("terminal", f"terminal-{r.id}", int(r.node), at=np.array([r.x, r.y], dtype=float))
    sensors = list(network.sensors) + list(sensor_layer or [])
    seen: set[str] = set()
    for i, s in enumerate(sensors):
        if s.id in seen:
            raise InputError.single(f"network.sensors.{i}.id", f"sensor id {s.id!r} appears twice")
        seen.add(s.id)
        sxy = city.xy_of_lonlat(np.array([s.location], dtype=float))[0]
        n_cfg = len(network.sensors)
        where = f"network.sensors.{i}.location" if i < n_cfg else f"city.sensors.{i - n_cfg}"
        add("sensor", s.id, int(city.snap(sxy, max_m=snap_max_m, fields=[where])[0]), s.type, at=sxy)
    table = pd.DataFrame(rows)
    table["subnet"] = [default_subnet(k, i, network.design) for k, i in zip(table["kind"], table["id"], strict=True)]
    table["battery_h"] = [
        CCC_BATTERY_H if i in CCC_SITE else network.battery_h.get(k, DEFAULT_BATTERY_H.get(k, 0.0))
        for k, i in zip(table["kind"], table["id"], strict=True)
    ]
    extra = list(layer_assets or []) + list(network.assets)
    n_layer = len(layer_assets or [])
    for j, a in enumerate(extra):
        axy = city.xy_of_lonlat(np.array([a.location], dtype=float))[0]
        where = f"city.network.{j}" if j < n_layer else f"network.assets.{j - n_layer}.location"
        row = {
            "id": a.id,
            "kind": a.kind,
            "node": int(city.snap(axy, max_m=snap_max_m, fields=[where])[0]),
            "sensor_type": "",
            "x": axy[0],
            "y": axy[1],
            "subnet": a.subnet or default_subnet(a.kind, a.id, network.design),
            "battery_h": a.battery_h
            if a.battery_h is not None
            else network.battery_h.get(a.kind, DEFAULT_BATTERY_H.get(a.kind, 0.0)),
        }
        table = table[table["id"] != a.id]
        table = pd.concat([table, pd.DataFrame([row])], ignore_index=True)
    ll = city.lonlat_of_xy(table[["x", "y"]].to_numpy(dtype=float))
    table["lon"], table["lat"] = ll[:, 0], ll[:, 1]
    subs = table[table["kind"] == "substation"]
    sub_xy = subs[["x", "y"]].to_numpy(dtype=float)
    d2 = ((table[["x", "y"]].to_numpy(dtype=float)[:, None, :] - sub_xy[None, :, :]) ** 2).sum(axis=2)
    table["power"] = subs["id"].to_numpy()[np.argmin(d2, axis=1)]
    own_supply = table["kind"].isin(["substation", *EXTERNAL_KINDS])
    table.loc[own_supply, "power"] = ""
    return table[ASSET_COLUMNS].reset_index(drop=True)


__all__ = ["ASSET_COLUMNS", "build_assets", "default_subnet", "read_network_layer", "read_sensor_layer"]


def serving_devices(node_xy: np.ndarray, assets: pd.DataFrame, *, siren_audible_m: float) -> dict[str, np.ndarray]:
    """Which devices serve each road node (-1 where none).

    ``siren``: the nearest siren within earshot, ``(n, 1)``; ``cell_tower``: the two nearest
    towers, ``(n, 2)``.
    """
    from scipy.spatial import cKDTree

    served: dict[str, np.ndarray] = {}
    for kind, k in (("siren", 1), ("cell_tower", 2)):
        rows = np.nonzero(assets["kind"].to_numpy() == kind)[0]
        if len(rows) == 0:
            served[kind] = np.full((len(node_xy), 1), -1, dtype=np.int64)
            continue
        axy = assets[["x", "y"]].to_numpy(dtype=float)[rows]
        dist, nearest = cKDTree(axy).query(node_xy, k=min(k, len(rows)))
        got = rows[np.asarray(nearest).reshape(len(node_xy), -1)]
        if kind == "siren":  # out of earshot, no siren warns you
            got = np.where(np.asarray(dist).reshape(len(node_xy), -1) <= siren_audible_m, got, -1)
        served[kind] = got
    return served
