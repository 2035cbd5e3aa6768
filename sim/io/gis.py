"""``run.gpkg``: a run's results as one GeoPackage (EPSG:4326) that QGIS and any GDAL can open.

GeoParquet needs GDAL with Arrow, which many QGIS installs lack; a GeoPackage opens everywhere.
Layers: ``roads`` (attributes, capacity and traffic per road), ``districts`` (outcome per
district), ``shelters`` and ``assets`` (state at the end), ``hazard`` (footprints over time) and
``tracks`` (sampled positions with ``time`` and ``time_end`` columns for QGIS's temporal
controller). A layer the
run has nothing for (no hazard, no tracks) is left out.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from sim.core.records import RunResult

LAYERS = ("roads", "districts", "shelters", "assets", "hazard", "tracks")


def _points(table: pd.DataFrame) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        table.reset_index(drop=True),
        geometry=gpd.points_from_xy(table["lon"], table["lat"]),
        crs="EPSG:4326",
    )


def gis_layers(result: RunResult) -> dict[str, gpd.GeoDataFrame]:
    """The layers of ``run.gpkg`` (only those with features)."""
    t = result.tables
    layers: dict[str, gpd.GeoDataFrame] = {}
    if "roads" in t:
        layers["roads"] = t["roads"]
    if "district_summary" in t:
        layers["districts"] = t["district_summary"]
    if "shelters" in t and len(t["shelters"]):
        layers["shelters"] = _points(t["shelters"])
    if "assets" in t and len(t["assets"]):
        layers["assets"] = _points(t["assets"])
    hazard = t.get("hazard")
    if hazard is not None and len(hazard) and hazard.geometry.notna().any():
        layers["hazard"] = hazard[hazard.geometry.notna()].reset_index(drop=True)
    if len(result.tracks):
        layers["tracks"] = _points(track_intervals(result.tracks))
    return layers


def track_intervals(tracks: pd.DataFrame) -> pd.DataFrame:
    """Sampled positions as intervals: a citizen's repeated position and state is one row.

    Each row holds from ``t_s``/``time`` until ``t_end_s``/``time_end`` (the next row of that
    citizen, or the last sample): QGIS's temporal controller shows it over that span ("separate
    fields for start and end"). Waiting at home or in a shelter becomes one row instead of one
    per sample, which keeps the layer about ten times smaller than the samples.
    """
    tr = tracks.sort_values(["citizen", "t_s"], kind="stable").reset_index(drop=True)
    same_citizen = tr["citizen"].eq(tr["citizen"].shift())
    same = same_citizen & tr["lon"].eq(tr["lon"].shift()) & tr["lat"].eq(tr["lat"].shift())
    same &= tr["state"].eq(tr["state"].shift())
    keep = tr.loc[~same].reset_index(drop=True)
    last = float(tracks["t_s"].max())
    nxt = keep["t_s"].shift(-1).where(keep["citizen"].eq(keep["citizen"].shift(-1)), last)
    keep.insert(int(keep.columns.get_loc("t_s")) + 1, "t_end_s", nxt.to_numpy(float))
    if "time" in keep:
        start = keep["time"].iloc[0] - pd.to_timedelta(float(keep["t_s"].iloc[0]), unit="s")
        end = start + pd.to_timedelta(keep["t_end_s"].to_numpy(float), unit="s")
        keep.insert(int(keep.columns.get_loc("time")) + 1, "time_end", end)
    return keep


def _for_gpkg(layer: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Columns GeoPackage can hold: times as ISO 8601 text with their offset, objects as text."""
    out = layer.copy()
    for col in out.columns:
        if col == out.geometry.name:
            continue
        if isinstance(out[col].dtype, pd.DatetimeTZDtype):
            # Each distinct time once (a table of bins repeats a few times over many rows).
            codes, times = pd.factorize(out[col])
            text = np.array([None, *(v.isoformat() for v in times)], dtype=object)
            out[col] = pd.Series(text[codes + 1], index=out.index, dtype=object)  # NaT (code -1): None
        elif out[col].dtype == object:
            out[col] = out[col].map(lambda v: v if v is None or isinstance(v, str) else str(v))
        elif str(out[col].dtype) in ("Int64", "boolean"):
            out[col] = out[col].astype(object).where(out[col].notna(), None)
    return out


def write_gpkg(result: RunResult, path: str | Path) -> Path:
    """Write ``run.gpkg`` (one layer per :data:`LAYERS` entry the run has)."""
    path = Path(path)
    path.unlink(missing_ok=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # GDAL notes on field widths
        for name, layer in gis_layers(result).items():
            _for_gpkg(layer).to_file(path, layer=name, driver="GPKG", engine="pyogrio")
    return path


__all__ = ["LAYERS", "gis_layers", "track_intervals", "write_gpkg"]
