"""Coordinate systems: the metric CRS a city is projected to, and the way back to lon/lat."""

from __future__ import annotations

import geopandas as gpd
import numpy as np


def metric_crs(gdf: gpd.GeoDataFrame) -> str:
    """The UTM zone (as ``EPSG:<code>``) that suits a layer in any CRS."""
    crs = gdf.estimate_utm_crs()
    return f"EPSG:{crs.to_epsg()}"


def utm_crs(lon: float, lat: float) -> str:
    """The UTM zone (``EPSG:<code>``) of a longitude/latitude."""
    zone = int((lon + 180.0) // 6.0) + 1
    return f"EPSG:{32600 + zone if lat >= 0 else 32700 + zone}"


def to_lonlat(xy: np.ndarray, crs: str) -> np.ndarray:
    """Metric points ``(n, 2)`` in ``crs`` as longitude/latitude ``(n, 2)``."""
    from pyproj import Transformer

    if len(xy) == 0:
        return np.zeros((0, 2))
    tr = Transformer.from_crs(crs, "EPSG:4326", always_xy=True)
    lon, lat = tr.transform(xy[:, 0], xy[:, 1])
    return np.column_stack([lon, lat])
