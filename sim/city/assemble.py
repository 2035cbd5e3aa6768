"""Assembly of a :class:`City` from metric road lines and optional layers (every source ends here).

Road ends are snapped into intersections, small disconnected fragments dropped, districts laid
out as named map squares, residents and shelters attached to their nearest road nodes.
"""

from __future__ import annotations

import hashlib
import string
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from shapely.geometry import box

from sim.city.buildings import building_table, resident_weights, shelter_candidates
from sim.city.crs import to_lonlat
from sim.city.model import City
from sim.city.roads import complete_road_attributes
from sim.core.errors import InputError

DEFAULT_FLOOR_AREA_PER_PERSON_M2 = 40.0


def snap_endpoints(roads_m: gpd.GeoDataFrame, *, tolerance_m: float = 1.0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Give line ends closer than ``tolerance_m`` one node id.

    Returns:
        ``u``, ``v`` (node id per road) and the node coordinates (n, 2).
    """
    from scipy.spatial import cKDTree

    starts = np.array([g.coords[0][:2] for g in roads_m.geometry])
    ends = np.array([g.coords[-1][:2] for g in roads_m.geometry])
    pts = np.vstack([starts, ends])
    pairs = cKDTree(pts).query_pairs(r=tolerance_m, output_type="ndarray")
    n = len(pts)
    graph = (
        coo_matrix((np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])), shape=(n, n))
        if len(pairs)
        else coo_matrix((n, n))
    )
    _, label = connected_components(graph, directed=False)
    # Node position: the first end point that carries the label (deterministic).
    order = np.argsort(label, kind="stable")
    first = order[np.r_[0, np.nonzero(np.diff(label[order]))[0] + 1]]
    xy = pts[first]
    m = len(roads_m)
    return label[:m], label[m:], xy


def _largest_walkable_component(u: np.ndarray, v: np.ndarray, walkable: np.ndarray, n: int) -> np.ndarray:
    g = coo_matrix((np.ones(int(walkable.sum())), (u[walkable], v[walkable])), shape=(n, n))
    _, label = connected_components(g, directed=False)
    touched = np.zeros(n, dtype=bool)
    touched[u[walkable]] = True
    touched[v[walkable]] = True
    counts = np.bincount(label[touched], minlength=label.max() + 1)
    return label == int(np.argmax(counts))


def grid_districts(xy: np.ndarray, *, size_m: float, crs: str) -> tuple[gpd.GeoDataFrame, np.ndarray]:
    """Square districts of side ``size_m`` over the nodes, named like map squares (A1 top-left).

    Returns:
        The districts that contain at least one node, and each node's district row.
    """
    x0, y0 = xy.min(axis=0)
    x1, y1 = xy.max(axis=0)
    ncols = max(1, int(np.ceil((x1 - x0 + 1e-6) / size_m)))
    nrows = max(1, int(np.ceil((y1 - y0 + 1e-6) / size_m)))
    col = np.minimum(((xy[:, 0] - x0) // size_m).astype(int), ncols - 1)
    row = np.minimum(((y1 - xy[:, 1]) // size_m).astype(int), nrows - 1)  # row 0 at the north
    cell = row * ncols + col
    used = np.unique(cell)
    names, geoms = [], []
    for c in used:
        r, k = divmod(int(c), ncols)
        names.append(f"{_column_letters(k)}{r + 1}")
        geoms.append(box(x0 + k * size_m, y1 - (r + 1) * size_m, x0 + (k + 1) * size_m, y1 - r * size_m))
    districts = gpd.GeoDataFrame({"name": names}, geometry=geoms, crs=crs)
    return districts, np.searchsorted(used, cell)


def _column_letters(k: int) -> str:
    letters = ""
    k += 1
    while k:
        k, rem = divmod(k - 1, 26)
        letters = string.ascii_uppercase[rem] + letters
    return letters


def assemble_city(
    name: str,
    roads: gpd.GeoDataFrame,
    *,
    crs: str,
    buildings: gpd.GeoDataFrame | None = None,
    pois: gpd.GeoDataFrame | None = None,
    water: gpd.GeoDataFrame | None = None,
    people: pd.DataFrame | None = None,
    shelters: pd.DataFrame | None = None,
    data_shelters: bool = True,
    district_size_m: float = 1000.0,
    districts: gpd.GeoDataFrame | None = None,
    node_xy: np.ndarray | None = None,
    sources: dict[str, str] | None = None,
) -> City:
    """Assemble a City from metric road lines and optional layers.

    Args:
        name: the city's short name.
        roads: metric LineStrings; with integer ``u``/``v`` node ids, or snapped at 1 m if absent.
        crs: the metric CRS of every layer.
        buildings: metric footprints with ``building`` and ``levels`` (for residents and shelters).
        pois: metric amenity features that can serve as shelters.
        water: metric water features for the map.
        people: explicit residents: ``x``, ``y``, ``count`` (overrides buildings).
        shelters: explicit shelters: ``id``, ``name``, ``x``, ``y``, ``capacity``, ``source``.
        data_shelters: also use shelters found in buildings and pois.
        district_size_m: side of the square districts when ``districts`` is not given.
        districts: ready-made districts (``name``, polygons); nodes get the one they fall in.
        node_xy: coordinates of node ids when ``roads`` carries ``u``/``v`` that index into them.
        sources: description of the inputs, for the manifest.
    """
    roads = complete_road_attributes(roads.reset_index(drop=True))
    if "u" in roads and roads["u"].notna().all() and node_xy is None:
        # Raw node ids (OSM): take coordinates from the segments' own end points.
        raw = np.concatenate([roads["u"].to_numpy(np.int64), roads["v"].to_numpy(np.int64)])
        ends = np.vstack(
            [
                np.array([g.coords[0][:2] for g in roads.geometry]),
                np.array([g.coords[-1][:2] for g in roads.geometry]),
            ]
        )
        _ids, first, inverse = np.unique(raw, return_index=True, return_inverse=True)
        xy = ends[first]
        m = len(roads)
        u, v = inverse[:m], inverse[m:]
    elif node_xy is not None:
        xy = np.asarray(node_xy, dtype=float)
        u, v = roads["u"].to_numpy(np.int64), roads["v"].to_numpy(np.int64)
    else:
        u, v, xy = snap_endpoints(roads)
    keep_road = u != v
    n = len(xy)
    walkable = roads["walkable"].to_numpy() & keep_road
    if not walkable.any():
        raise InputError.single("city", "the city has no walkable road")
    in_lcc = _largest_walkable_component(u, v, walkable, n)
    keep_road &= in_lcc[u] & in_lcc[v]
    roads = roads[keep_road].reset_index(drop=True)
    u, v = u[keep_road], v[keep_road]
    used = np.unique(np.concatenate([u, v]))
    remap = -np.ones(n, dtype=np.int64)
    remap[used] = np.arange(len(used))
    roads["u"], roads["v"] = remap[u], remap[v]
    xy = xy[used]
    roads["length_m"] = np.maximum(roads.geometry.length.to_numpy(), 0.5)
    if "road_id" not in roads:
        roads["road_id"] = [str(i) for i in range(len(roads))]
    roads["road_id"] = roads["road_id"].astype(str)

    nodes = pd.DataFrame({"x": xy[:, 0], "y": xy[:, 1]})
    lonlat = to_lonlat(xy, crs)
    nodes["lon"], nodes["lat"] = lonlat[:, 0], lonlat[:, 1]
    if districts is None:
        districts, node_district = grid_districts(xy, size_m=district_size_m, crs=crs)
    else:
        node_district = _assign_districts(xy, districts)
    nodes["district"] = node_district

    empty = gpd.GeoDataFrame({"kind": [], "levels": [], "floor_area_m2": []}, geometry=[], crs=crs)
    b = building_table(buildings) if buildings is not None and len(buildings) else empty
    city = City(
        name=name,
        crs=crs,
        nodes=nodes,
        roads=gpd.GeoDataFrame(roads, geometry="geometry", crs=crs),
        homes=pd.DataFrame({"node": [], "residents": []}),
        shelters=pd.DataFrame(),
        districts=districts,
        buildings=b,
        water=water if water is not None else gpd.GeoDataFrame(geometry=[], crs=crs),
        population_total=0.0,
        sources=dict(sources or {}),
    )

    # Residents: explicit people, else buildings, else spread along walkable streets.
    if people is not None and len(people):
        node = city.nearest_nodes(people[["x", "y"]].to_numpy())
        homes = pd.DataFrame({"node": node, "residents": people["count"].to_numpy(float)})
        basis = "population layer"
    elif len(b):
        w = resident_weights(b, floor_area_per_person_m2=DEFAULT_FLOOR_AREA_PER_PERSON_M2)
        homes_b = b[w > 0]
        centroid = (
            np.column_stack([homes_b.geometry.centroid.x, homes_b.geometry.centroid.y])
            if len(homes_b)
            else (np.zeros((0, 2)))
        )
        node = city.nearest_nodes(centroid) if len(homes_b) else np.zeros(0, dtype=np.int64)
        homes = pd.DataFrame({"node": node, "residents": w[w > 0]})
        basis = "building floor area"
    else:
        homes = pd.DataFrame(columns=["node", "residents"])
        basis = "none"
    if len(homes) == 0 or homes["residents"].sum() <= 0:
        wl = roads["walkable"].to_numpy()
        share = np.bincount(roads["u"].to_numpy()[wl], weights=roads["length_m"].to_numpy()[wl], minlength=len(nodes))
        share += np.bincount(roads["v"].to_numpy()[wl], weights=roads["length_m"].to_numpy()[wl], minlength=len(nodes))
        nz = np.nonzero(share)[0]
        homes = pd.DataFrame({"node": nz, "residents": share[nz] / 20.0})  # one resident per 20 m of street
        basis = "street length (no buildings or population layer)"
    city.homes = homes.astype({"node": np.int64, "residents": float}).reset_index(drop=True)
    city.population_total = float(city.homes["residents"].sum())
    city.sources["residents_from"] = basis

    # Shelters: explicit ones first; data shelters unless switched off.
    frames = []
    if shelters is not None and len(shelters):
        frames.append(shelters)
    if data_shelters and len(b):
        frames.append(shelter_candidates(b, pois if pois is not None else gpd.GeoDataFrame(geometry=[], crs=crs)))
    sh = (
        pd.concat(frames, ignore_index=True)
        if frames
        else pd.DataFrame(columns=["id", "name", "x", "y", "capacity", "source"])
    )
    sh = sh.drop_duplicates("id", keep="first").reset_index(drop=True)
    if len(sh):
        sh["node"] = city.nearest_nodes(sh[["x", "y"]].to_numpy(float))
        ll = to_lonlat(sh[["x", "y"]].to_numpy(float), crs)
        sh["lon"], sh["lat"] = ll[:, 0], ll[:, 1]
    else:
        sh = pd.DataFrame(columns=["id", "name", "x", "y", "capacity", "source", "node", "lon", "lat"])
    sh["capacity"] = sh["capacity"].astype(np.int64)
    city.shelters = sh.sort_values("id", kind="stable").reset_index(drop=True)
    return city


def _assign_districts(xy: np.ndarray, districts: gpd.GeoDataFrame) -> np.ndarray:
    pts = gpd.GeoSeries(gpd.points_from_xy(xy[:, 0], xy[:, 1]), crs=districts.crs)
    joined = gpd.sjoin_nearest(gpd.GeoDataFrame(geometry=pts), districts[["geometry"]], how="left")
    joined = joined[~joined.index.duplicated(keep="first")]
    return joined["index_right"].to_numpy(np.int64)


def file_sha256(path: Path) -> str:
    """SHA-256 of a file's bytes."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()
