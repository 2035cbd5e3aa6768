"""Coordinate systems: the metric CRS a city is projected to, and the way back to lon/lat.

UTM zones are computed by :mod:`sim.city.utm` (the same bits on every machine); any other CRS
by PROJ.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np

from sim.city.utm import Utm

MILLIMETRE = 1e-3
WGS84 = 4326
THROUGH_PROJ = "through_proj"  # a layer's attrs: it reached longitude/latitude through PROJ


def metric_crs(gdf: gpd.GeoDataFrame) -> str:
    """The UTM zone (as ``EPSG:<code>``) that suits a layer in any CRS."""
    crs = gdf.estimate_utm_crs()
    return f"EPSG:{crs.to_epsg()}"


def is_wgs84(crs: object) -> bool:
    """Whether ``crs`` (text, EPSG code holder or pyproj CRS) is longitude/latitude on WGS 84."""
    to_epsg = getattr(crs, "to_epsg", None)
    return to_epsg is not None and to_epsg() == WGS84


def project(gdf: gpd.GeoDataFrame, crs: str) -> gpd.GeoDataFrame:
    """``gdf`` in the metric ``crs``.

    Longitude/latitude go to a UTM zone through :class:`sim.city.utm.Utm`, the same bits on every
    machine. A layer in another CRS (an upload in a national grid, say) first goes through PROJ,
    whose last bits depend on the processor's C library; its coordinates are then put on the
    millimetre, which makes them the same everywhere unless PROJ lands within about 1e-10 m of
    a half millimetre (one coordinate in ten million or so). So is a layer whose ``attrs`` say
    it reached longitude/latitude through PROJ already (``THROUGH_PROJ``: an upload read by
    :func:`sim.city.layers.read_layer`).
    """
    import shapely

    utm = Utm.of(crs)
    if utm is None:
        out = gdf.to_crs(crs)
        out.geometry = shapely.set_precision(out.geometry.to_numpy(), MILLIMETRE, mode="pointwise")
        return out
    reproject = not is_wgs84(gdf.crs)
    src = gdf.to_crs(f"EPSG:{WGS84}") if reproject else gdf
    geoms = shapely.transform(src.geometry.to_numpy(), utm.forward)
    if reproject or gdf.attrs.get(THROUGH_PROJ, False):
        geoms = shapely.set_precision(geoms, MILLIMETRE, mode="pointwise")
    out = src.copy()
    out.geometry = geoms
    return out.set_crs(crs, allow_override=True)


def to_wgs84(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """``gdf`` in longitude/latitude (EPSG:4326), from a UTM zone the same bits on every machine."""
    import shapely

    utm = Utm.of(gdf.crs)
    if utm is None:
        return gdf.to_crs(f"EPSG:{WGS84}")
    out = gdf.copy()
    out.geometry = shapely.transform(gdf.geometry.to_numpy(), utm.inverse)
    return out.set_crs(f"EPSG:{WGS84}", allow_override=True)


def utm_crs(lon: float, lat: float) -> str:
    """The UTM zone (``EPSG:<code>``) of a longitude/latitude."""
    zone = int((lon + 180.0) // 6.0) + 1
    return f"EPSG:{32600 + zone if lat >= 0 else 32700 + zone}"


def _points(pts: np.ndarray, crs: str, *, inverse: bool) -> np.ndarray:
    """Points ``(n, 2)`` from ``crs`` to lon/lat (``inverse``) or back: our UTM, else PROJ."""
    if len(pts) == 0:
        return np.zeros((0, 2))
    utm = Utm.of(crs)
    if utm is not None:
        return utm.inverse(pts) if inverse else utm.forward(pts)
    from pyproj import Transformer

    src, dst = (crs, f"EPSG:{WGS84}") if inverse else (f"EPSG:{WGS84}", crs)
    a, b = Transformer.from_crs(src, dst, always_xy=True).transform(pts[:, 0], pts[:, 1])
    return np.column_stack([a, b])


def to_lonlat(xy: np.ndarray, crs: str) -> np.ndarray:
    """Metric points ``(n, 2)`` in ``crs`` as longitude/latitude ``(n, 2)``."""
    return _points(xy, crs, inverse=True)


def from_lonlat(lonlat: np.ndarray, crs: str) -> np.ndarray:
    """Longitude/latitude ``(n, 2)`` as metric points ``(n, 2)`` in ``crs``."""
    return _points(lonlat, crs, inverse=False)
