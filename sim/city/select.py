"""Select parts of a city: zones (districts or areas) and roads (by id, name or area)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

import numpy as np
import shapely
from shapely.geometry import Point, Polygon

from sim.city.model import City
from sim.core.errors import InputError
from sim.scenario.types import BBoxArea, CircleArea, PolygonArea


def area_polygon(city: City, area: BBoxArea | PolygonArea | CircleArea) -> shapely.Geometry:
    """The metric polygon of an area given in longitude/latitude."""
    if isinstance(area, BBoxArea):
        x0, y0, x1, y1 = area.bbox
        ring = np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]])
        xy = city.xy_of_lonlat(ring)
        return Polygon(xy)
    if isinstance(area, PolygonArea):
        return Polygon(city.xy_of_lonlat(np.array(area.polygon, dtype=float))).buffer(0)
    centre = city.xy_of_lonlat(np.array([area.center], dtype=float))[0]
    return Point(centre).buffer(area.radius_m, quad_segs=32)


def zone_node_mask(city: City, zone: object, *, field: str) -> np.ndarray:
    """Boolean mask over road nodes: which nodes the zone covers.

    Raises:
        InputError: an unknown district name (the message lists the known ones).
    """
    n = city.n_nodes
    if isinstance(zone, str):
        if zone.lower() == "all":
            return np.ones(n, dtype=bool)
        zone = [zone]
    if isinstance(zone, list):
        names = city.districts["name"].tolist()
        index = {name: i for i, name in enumerate(names)}
        unknown = [z for z in zone if z not in index]
        if unknown:
            shown = ", ".join(names[:30]) + (" ..." if len(names) > 30 else "")
            raise InputError.single(field, f"unknown district {unknown[0]!r}; this city has: {shown}")
        wanted = np.array([index[z] for z in zone])
        return np.isin(city.nodes["district"].to_numpy(), wanted)
    poly = area_polygon(city, cast(Any, zone))
    xy = city.nodes[["x", "y"]].to_numpy()
    mask = shapely.contains_xy(poly, xy[:, 0], xy[:, 1])
    if not mask.any():
        raise InputError.single(field, "the area covers no part of the city's road network")
    return mask


def select_roads(
    city: City, *, ids: Sequence[str | int] = (), names: Sequence[str] = (), area: object = None, field: str
) -> np.ndarray:
    """Row indices of roads matching any of: road or OSM way ids, street names, an area.

    Raises:
        InputError: nothing matched (the message says which selector found nothing).
    """
    roads = city.roads
    mask = np.zeros(len(roads), dtype=bool)
    if ids:
        wanted = {str(i) for i in ids}
        by_id = roads["road_id"].astype(str).isin(wanted).to_numpy()
        if "osm_id" in roads:
            by_id |= roads["osm_id"].astype(str).str.removesuffix(".0").isin(wanted).to_numpy()
        if not by_id.any():
            raise InputError.single(f"{field}.ids", f"no road has any of the ids {sorted(wanted)[:5]}")
        mask |= by_id
    if names:
        lowered = {n.lower() for n in names}
        by_name = roads["name"].str.lower().isin(lowered).to_numpy()
        if not by_name.any():
            raise InputError.single(f"{field}.names", f"no road is named {sorted(lowered)[:5]}")
        mask |= by_name
    if area is not None:
        poly = area_polygon(city, cast(Any, area))
        by_area = shapely.intersects(roads.geometry.values, poly)
        if not by_area.any():
            raise InputError.single(f"{field}.area", "the area touches no road")
        mask |= np.asarray(by_area)
    return np.nonzero(mask)[0]
