"""The city's physical infrastructure assets, placed by documented rules when no layer gives them.

Every city (built-in, OSM, layers or synthetic) gets the same kinds of asset, so hazards can
damage them and (later) the networks can route over them. Placement rules (docs/hazards.md):

- ``substation``: one per district with residents, at the road node nearest the district's
  resident-weighted centre; every other asset draws power from its nearest substation.
- ``cell_tower``: one per cell of a 1,500 m square grid that holds road nodes, at the node
  nearest the cell centre (urban macro-cell spacing).
- ``radio_node``: one per district, at the node nearest the district's geometric centre.
- ``siren``: one per cell of an 800 m square grid that holds residents (audible radius about
  500 m), at the node nearest the cell's resident-weighted centre.
- ``server``: the command and control centre (``CCC``, safety subnetwork) at the node nearest the
  resident-weighted centre of the city; the city operation centre (``COC``, smart subnetwork) at
  the next node along the same street grid that is at least 300 m away.
- ``sensor``: the hazard sensors of ``network.sensors`` and of the city's ``sensors`` layer.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sim.city.model import City
from sim.core.errors import InputError
from sim.scenario.schema import SENSOR_UNITS, NetworkConfig, SensorConfig

CELL_GRID_M = 1500.0
SIREN_GRID_M = 800.0
COC_MIN_DISTANCE_M = 300.0
SUBNET = {
    "substation": "power",
    "cell_tower": "public",
    "radio_node": "safety",
    "siren": "safety",
    "sensor": "safety",
    "CCC": "safety",
    "COC": "smart",
}
ASSET_COLUMNS = ["id", "kind", "subnet", "node", "x", "y", "lon", "lat", "power", "sensor_type"]


def _grid_sites(xy: np.ndarray, weight: np.ndarray, spacing: float) -> np.ndarray:
    """Weighted centre of each occupied grid cell, in cell order (deterministic)."""
    keep = weight > 0
    xy, weight = xy[keep], weight[keep]
    if len(xy) == 0:
        return np.zeros((0, 2))
    origin = xy.min(axis=0)
    cell = np.floor((xy - origin) / spacing).astype(np.int64)
    key = cell[:, 0] * 1_000_003 + cell[:, 1]
    uniq, inv = np.unique(key, return_inverse=True)
    w = np.bincount(inv, weights=weight)
    cx = np.bincount(inv, weights=xy[:, 0] * weight) / w
    cy = np.bincount(inv, weights=xy[:, 1] * weight) / w
    return np.column_stack([cx, cy])[: len(uniq)]


def read_sensor_layer(city: City, path: object) -> list[SensorConfig]:
    """Sensors from the city's ``sensors`` layer: Point features with ``id`` and ``type``."""
    from sim.city.layers import read_layer

    gdf = read_layer(path, field="city.sensors", geom_types=("Point",))
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


def build_assets(city: City, network: NetworkConfig, *, sensor_layer: list[SensorConfig] | None = None) -> pd.DataFrame:
    """The asset table: one row per asset (``ASSET_COLUMNS``), in a deterministic order."""
    xy = city.node_xy
    homes = city.homes
    resid = np.zeros(city.n_nodes)
    np.add.at(resid, homes["node"].to_numpy(), homes["residents"].to_numpy(dtype=float))
    district = city.nodes["district"].to_numpy()
    rows: list[dict] = []

    def add(kind: str, ident: str, node: int, sensor_type: str = "") -> None:
        rows.append({"id": ident, "kind": kind, "node": int(node), "sensor_type": sensor_type})

    n_districts = int(district.max()) + 1 if len(district) else 0
    for d in range(n_districts):
        in_d = district == d
        if not in_d.any():
            continue
        w = resid[in_d]
        if w.sum() > 0:
            centre = (xy[in_d] * w[:, None]).sum(axis=0) / w.sum()
            add("substation", f"substation-{d + 1}", city.nearest_nodes(centre[None, :])[0])
        add("radio_node", f"radio-{d + 1}", city.nearest_nodes(xy[in_d].mean(axis=0)[None, :])[0])
    if not any(r["kind"] == "substation" for r in rows):
        add("substation", "substation-1", city.nearest_nodes(xy.mean(axis=0)[None, :])[0])
    for i, site in enumerate(_grid_sites(xy, np.ones(len(xy)), CELL_GRID_M)):
        add("cell_tower", f"tower-{i + 1}", city.nearest_nodes(site[None, :])[0])
    for i, site in enumerate(_grid_sites(xy, resid, SIREN_GRID_M)):
        add("siren", f"siren-{i + 1}", city.nearest_nodes(site[None, :])[0])
    centre = (xy * resid[:, None]).sum(axis=0) / resid.sum() if resid.sum() > 0 else xy.mean(axis=0)
    ccc = int(city.nearest_nodes(centre[None, :])[0])
    add("server", "CCC", ccc)
    dist = np.hypot(*(xy - xy[ccc]).T)
    far = np.nonzero(dist >= COC_MIN_DISTANCE_M)[0]
    coc = int(far[np.argmin(dist[far])]) if len(far) else ccc
    add("server", "COC", coc)
    sensors = list(network.sensors) + list(sensor_layer or [])
    seen: set[str] = set()
    for i, s in enumerate(sensors):
        if s.id in seen:
            raise InputError.single(f"network.sensors.{i}.id", f"sensor id {s.id!r} appears twice")
        seen.add(s.id)
        node = city.nearest_nodes(city.xy_of_lonlat(np.array([s.location], dtype=float)))[0]
        add("sensor", s.id, node, s.type)
    table = pd.DataFrame(rows)
    table["subnet"] = [SUBNET.get(r["id"], SUBNET.get(r["kind"], "smart")) for r in rows]
    nodes = table["node"].to_numpy()
    table["x"], table["y"] = xy[nodes, 0], xy[nodes, 1]
    # Sensors sit where the scenario puts them, not on the road node.
    for s in sensors:
        sxy = city.xy_of_lonlat(np.array([s.location], dtype=float))[0]
        hit = table.index[(table["kind"] == "sensor") & (table["id"] == s.id)]
        table.loc[hit, ["x", "y"]] = sxy
    ll = city.lonlat_of_xy(table[["x", "y"]].to_numpy())
    table["lon"], table["lat"] = ll[:, 0], ll[:, 1]
    subs = table[table["kind"] == "substation"]
    sub_xy = subs[["x", "y"]].to_numpy()
    d2 = ((table[["x", "y"]].to_numpy()[:, None, :] - sub_xy[None, :, :]) ** 2).sum(axis=2)
    table["power"] = subs["id"].to_numpy()[np.argmin(d2, axis=1)]
    table.loc[table["kind"] == "substation", "power"] = ""
    return table[ASSET_COLUMNS].reset_index(drop=True)


__all__ = ["ASSET_COLUMNS", "build_assets", "read_sensor_layer"]
