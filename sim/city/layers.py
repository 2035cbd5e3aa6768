"""The layer form of ``city``: roads, shelters, population (and buildings) from GeoJSON, GeoPackage or shapefiles.

Every layer is checked before use: a readable file (one named layer of a multi-layer file), the
right geometry types, valid geometry, a CRS (GeoJSON is WGS84 by RFC 7946; GeoPackages and
shapefiles must say theirs), and the properties the README's "City sources" names.
Problems are reported as ``city.<layer>: ...`` or ``city.<layer>.<feature>.<property>: ...``.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from sim.city.assemble import assemble_city, file_sha256
from sim.city.crs import THROUGH_PROJ, is_wgs84, metric_crs, project
from sim.city.model import City
from sim.city.roads import PASSAGES
from sim.core.errors import InputError
from sim.scenario.schema import CityConfig
from sim.scenario.types import MAX_POPULATION, MAX_SHELTER_CAPACITY, LayerRef, layer_of

ALLOWED_SUFFIXES = (".geojson", ".json", ".gpkg", ".shp", ".zip")
NEEDS_CRS = (".gpkg", ".shp", ".zip")
"""Formats that say their coordinate system (GeoJSON is WGS84 by RFC 7946)."""
MAX_ROAD_SEGMENTS = 1_000_000
"""Most road features in a roads layer."""
MAX_UNZIPPED_BYTES = 2 * 1024**3
"""Most bytes a zipped layer may expand to (a zip bomb is refused before it is read)."""


def _check_zip(path: Path, field: str) -> None:
    import zipfile

    try:
        with zipfile.ZipFile(path) as z:
            infos = z.infolist()
    except (zipfile.BadZipFile, OSError) as exc:
        raise InputError.single(field, f"cannot read {path.name}: {exc}") from None
    if sum(i.file_size for i in infos) > MAX_UNZIPPED_BYTES:
        raise InputError.single(field, f"{path.name} expands to more than {MAX_UNZIPPED_BYTES // 1024**3} GiB")
    if not any(i.filename.lower().endswith((".shp", ".gpkg", ".geojson")) for i in infos):
        raise InputError.single(field, f"{path.name} holds no shapefile, GeoPackage or GeoJSON")


def read_layer(source: Path | LayerRef, *, field: str, geom_types: tuple[str, ...]) -> gpd.GeoDataFrame:
    """Read one vector layer in WGS84, checking its type, CRS and geometry.

    ``source`` is a file, or ``{path, layer}`` for one layer of a multi-layer file. A file with
    several layers and no layer named is refused with the names of its layers.
    """
    import pyogrio

    path, layer = layer_of(source)
    if not str(path).lower().endswith(ALLOWED_SUFFIXES):
        raise InputError.single(field, f"expected a GeoJSON, GeoPackage or shapefile (.shp or zipped), got {path.name}")
    if path.suffix.lower() == ".zip":
        _check_zip(path, field)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            names = [str(n) for n in pyogrio.list_layers(path)[:, 0]]
            if layer is None and len(names) > 1:
                raise InputError.single(
                    field,
                    f"{path.name} has {len(names)} layers ({', '.join(names[:10])}): name one, "
                    f"for example {{path: {path.name}, layer: {names[0]}}}",
                )
            if layer is not None and layer not in names:
                raise InputError.single(field, f"{path.name} has no layer {layer!r} (it has: {', '.join(names[:10])})")
            gdf = gpd.read_file(path, layer=layer) if layer is not None else gpd.read_file(path)
    except InputError:
        raise
    except Exception as exc:  # pyogrio raises several types for unreadable files
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise InputError.single(field, f"cannot read {path.name}: {first}") from None
    if len(gdf) == 0:
        raise InputError.single(field, f"{path.name} has no features")
    if gdf.crs is None:
        if path.suffix.lower() in NEEDS_CRS:
            msg = f"{path.name} has no coordinate reference system (a .prj file for shapefiles)"
            raise InputError.single(field, msg)
        gdf = gdf.set_crs("EPSG:4326")
    through_proj = not is_wgs84(gdf.crs)
    gdf = gdf.to_crs("EPSG:4326")
    gdf.attrs[THROUGH_PROJ] = through_proj  # then project() puts its metric coordinates on the millimetre
    problems: list[tuple[str, str]] = []
    for i, geom in enumerate(gdf.geometry):
        if geom is None or geom.is_empty:
            problems.append((f"{field}.{i}", "feature has no geometry"))
        elif geom.geom_type not in geom_types:
            problems.append((f"{field}.{i}", f"expected {' or '.join(geom_types)}, got {geom.geom_type}"))
        elif not geom.is_valid:
            problems.append((f"{field}.{i}", "invalid geometry (self-intersecting or malformed)"))
        if len(problems) >= 20:
            break
    if problems:
        raise InputError(problems)
    bounds = gdf.total_bounds
    if not (
        -180 <= bounds[0] <= 180 and -90 <= bounds[1] <= 90 and -180 <= bounds[2] <= 180 and -90 <= bounds[3] <= 90
    ):
        raise InputError.single(field, "coordinates are not longitude/latitude (RFC 7946 wants WGS84)")
    return gdf


def _numeric(
    gdf: gpd.GeoDataFrame,
    column: str,
    *,
    field: str,
    minimum: float | None = None,
    maximum: float | None = None,
    integer: bool = False,
    required: bool = False,
) -> pd.Series:
    if column not in gdf:
        if required:
            raise InputError.single(f"{field}.0.{column}", "required, but missing")
        return pd.Series(np.nan, index=gdf.index)
    values = pd.to_numeric(gdf[column], errors="coerce")
    problems = []
    for i, (raw, val) in enumerate(zip(gdf[column], values, strict=True)):
        if pd.isna(val):
            if required or (raw is not None and not (isinstance(raw, float) and np.isnan(raw))):
                problems.append((f"{field}.{i}.{column}", f"must be a number, got {raw!r}"))
        elif not np.isfinite(val):
            problems.append((f"{field}.{i}.{column}", f"must be a finite number, got {val:g}"))
        elif minimum is not None and val < minimum:
            problems.append((f"{field}.{i}.{column}", f"must be >= {minimum:g}, got {val:g}"))
        elif maximum is not None and val > maximum:
            problems.append((f"{field}.{i}.{column}", f"must be <= {maximum:g}, got {val:g}"))
        elif integer and float(val) != int(val):
            problems.append((f"{field}.{i}.{column}", f"must be a whole number, got {val:g}"))
    if problems:
        raise InputError(problems[:20])
    return values


def city_from_layers(config: CityConfig) -> City:
    """Build a City from the layer form of ``city``."""
    assert config.roads is not None  # the layer form: validated by CityConfig
    roads = read_layer(config.roads, field="city.roads", geom_types=("LineString", "MultiLineString"))
    roads = roads.explode(index_parts=False).reset_index(drop=True)
    if len(roads) > MAX_ROAD_SEGMENTS:
        raise InputError.single("city.roads", f"{len(roads):,} road segments; at most {MAX_ROAD_SEGMENTS:,}")
    _numeric(roads, "lanes", field="city.roads", minimum=1, maximum=20)
    _numeric(roads, "width_m", field="city.roads", minimum=0.1, maximum=500)
    _numeric(roads, "speed_kph", field="city.roads", minimum=1, maximum=300)
    _numeric(roads, "capacity_pph", field="city.roads", minimum=0, maximum=1e6)
    _numeric(roads, "boundary_m", field="city.roads", minimum=0, maximum=5)
    if "passage" in roads:
        bad = [
            (f"city.roads.{i}.passage", f"must be one of {', '.join(PASSAGES)}, got {v!r}")
            for i, v in enumerate(roads["passage"])
            if v is not None and not (isinstance(v, float) and np.isnan(v)) and str(v).lower() not in PASSAGES
        ]
        if bad:
            raise InputError(bad[:20])
    crs = metric_crs(roads)
    roads_m = project(roads, crs)
    if "id" in roads_m:
        roads_m["road_id"] = roads_m["id"].astype(str)
    if "highway" not in roads_m:
        roads_m["highway"] = "residential"
    roads_m = roads_m.drop(columns=[c for c in ("u", "v") if c in roads_m])

    shelters = None
    if config.shelters is not None:
        sg = read_layer(config.shelters, field="city.shelters", geom_types=("Point",))
        if "id" not in sg:
            raise InputError.single("city.shelters.0.id", "required, but missing")
        ids = sg["id"].astype(str)
        dup = ids[ids.duplicated()]
        if len(dup):
            raise InputError.single(f"city.shelters.{dup.index[0]}.id", f"shelter id {dup.iloc[0]!r} is not unique")
        cap = _numeric(
            sg, "capacity", field="city.shelters", minimum=0, maximum=MAX_SHELTER_CAPACITY, integer=True, required=True
        )
        sm = project(sg, crs)
        shelters = pd.DataFrame(
            {
                "id": ids,
                "name": sg["name"].astype(str) if "name" in sg else ids,
                "x": sm.geometry.x,
                "y": sm.geometry.y,
                "capacity": cap.astype(np.int64),
                "source": "shelters layer",
            }
        )

    people = None
    if config.population is not None:
        pg = read_layer(config.population, field="city.population", geom_types=("Point", "Polygon", "MultiPolygon"))
        pm = project(pg, crs)
        is_point = pm.geom_type == "Point"
        rows = []
        total = 0.0
        if is_point.any():
            count = _numeric(
                pg[is_point], "count", field="city.population", minimum=0, maximum=MAX_POPULATION, required=True
            )
            pts = pm[is_point]
            total += float(count.sum())
            rows.append(
                pd.DataFrame(
                    {
                        "x": pts.geometry.x,
                        "y": pts.geometry.y,
                        "count": count.to_numpy(),
                        "feature": np.nonzero(is_point.to_numpy())[0],
                    }
                )
            )
        if (~is_point).any():
            popn = _numeric(
                pg[~is_point], "population", field="city.population", minimum=0, maximum=MAX_POPULATION, required=True
            )
            total += float(popn.sum())
            rows.append(_spread_in_polygons(pm[~is_point], popn.to_numpy(), roads_m))
        if total > MAX_POPULATION:
            raise InputError.single(
                "city.population", f"the layer holds {total:,.0f} people; at most {MAX_POPULATION:,}"
            )
        if total <= 0:
            raise InputError.single("city.population", "every count is 0: nobody lives in this city")
        people = pd.concat(rows, ignore_index=True)

    buildings = None
    if config.buildings is not None:
        bg = read_layer(config.buildings, field="city.buildings", geom_types=("Polygon", "MultiPolygon"))
        if "building" not in bg:
            bg["building"] = "yes"
        if "levels" not in bg:
            bg["levels"] = bg.get("building:levels", np.nan)
        buildings = project(bg, crs)

    sources = {}
    for name in ("roads", "shelters", "population", "buildings"):
        if getattr(config, name) is not None:
            path, layer = layer_of(getattr(config, name))
            sources[name] = f"{path}{f' layer {layer}' if layer else ''} sha256={file_sha256(path)}"
    city = assemble_city(
        layer_of(config.roads)[0].stem,
        roads_m,
        crs=crs,
        buildings=buildings,
        people=people,
        shelters=shelters,
        data_shelters=config.data_shelters,
        district_size_m=config.district_size_m,
        sources=sources,
    )
    if len(city.shelters) == 0:
        raise InputError.single("city.shelters", "the city has no shelter: give a shelters layer or scenario shelters")
    if people is not None and "feature" in people:
        pts = people.dropna(subset=["feature"])
        city.snap(
            pts[["x", "y"]].to_numpy(float),
            max_m=config.snap_max_m,
            fields=[f"city.population.{int(i)}" for i in pts["feature"]],
        )
    if shelters is not None:
        city.snap(
            shelters[["x", "y"]].to_numpy(float),
            max_m=config.snap_max_m,
            fields=[f"city.shelters.{i}" for i in range(len(shelters))],
        )
    return city


def _spread_in_polygons(polys: gpd.GeoDataFrame, population: np.ndarray, roads_m: gpd.GeoDataFrame) -> pd.DataFrame:
    """Spread each polygon's population over the road vertices inside it (its centroid if none)."""
    pts = np.vstack([np.asarray(g.coords)[:, :2] for g in roads_m.geometry])
    cloud = gpd.GeoDataFrame(geometry=gpd.points_from_xy(pts[:, 0], pts[:, 1]), crs=roads_m.crs)
    rows = []
    for geom, total in zip(polys.geometry, population, strict=True):
        inside = cloud[cloud.within(geom)]
        if len(inside):
            share = total / len(inside)
            rows.append(pd.DataFrame({"x": inside.geometry.x, "y": inside.geometry.y, "count": share}))
        else:
            c = geom.representative_point()
            rows.append(pd.DataFrame({"x": [c.x], "y": [c.y], "count": [total]}))
    return pd.concat(rows, ignore_index=True)
