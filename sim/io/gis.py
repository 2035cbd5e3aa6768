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
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import shapely
from pyogrio import set_gdal_config_options
from pyogrio.raw import write_arrow

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


ROWS_PER_BATCH = 20_000  # rows converted at a time: a layer is never copied whole


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
        elif out[col].dtype == object or isinstance(out[col].dtype, pd.CategoricalDtype):
            out[col] = out[col].astype(object).map(lambda v: v if v is None or isinstance(v, str) else str(v))
    return out


def _field_type(dtype: object) -> pa.DataType:
    """The GeoPackage field of a column (after :func:`_for_gpkg`): text, whole number, flag or real."""
    if isinstance(dtype, pd.DatetimeTZDtype | pd.CategoricalDtype) or str(dtype) == "object":
        return pa.string()
    if str(dtype) == "Int64":
        return pa.int64()  # missing values stay missing (NULL), not text
    if str(dtype) == "boolean":
        return pa.bool_()
    return pa.from_numpy_dtype(dtype)


def _geometry_type(geometry: gpd.GeoSeries) -> tuple[str, bool]:
    """The layer's geometry type and whether single parts become multi, decided on the whole layer.

    As pyogrio decides it for a whole frame: one type as it is; a type with its multi form
    (Polygon and MultiPolygon) as the multi form; anything else ``Unknown``.
    """
    kinds = sorted(set(geometry.geom_type.dropna()))
    z = " Z" if bool(geometry[geometry.notna() & ~geometry.is_empty].has_z.any()) else ""
    if len(kinds) == 1:
        return kinds[0] + z, False
    if len(kinds) == 2 and kinds[0] == f"Multi{kinds[1]}":  # sorted: "MultiPolygon" < "Polygon"
        return kinds[0] + z, True
    return "Unknown", False


def _batches(layer: gpd.GeoDataFrame, rows: int) -> pa.RecordBatchReader:
    """The layer as a stream of Arrow batches of ``rows`` rows, each converted when it is read."""
    geom = layer.geometry.name
    names = [c for c in layer.columns if c != geom]
    schema = pa.schema([pa.field(c, _field_type(layer[c].dtype)) for c in names] + [pa.field("geom", pa.binary())])
    _, multi = _geometry_type(layer.geometry)

    def batches() -> Iterator[pa.RecordBatch]:
        for start in range(0, len(layer), rows):
            part = _for_gpkg(layer.iloc[start : start + rows])
            shapes = np.asarray(part.geometry.array, dtype=object)
            if multi:
                shapes = _to_multi(shapes)
            arrays = [pa.Array.from_pandas(part[c], type=schema.field(c).type) for c in names]
            arrays.append(pa.array(shapely.to_wkb(shapes), type=pa.binary()))
            yield pa.RecordBatch.from_arrays(arrays, schema=schema)

    return pa.RecordBatchReader.from_batches(schema, batches())


def _to_multi(shapes: np.ndarray) -> np.ndarray:
    """``shapes`` with each point, line or polygon made its one-part multi form (as pyogrio does)."""
    out = shapes.copy()
    type_id = shapely.get_type_id(shapes)  # -1 for a missing shape
    make = {0: shapely.multipoints, 1: shapely.multilinestrings, 3: shapely.multipolygons}
    for kind, build in make.items():
        these = np.flatnonzero(type_id == kind)
        if len(these):
            out[these] = build(shapes[these], indices=np.arange(len(these)))
    return out


def last_change(result: RunResult) -> str:
    """The GeoPackage's ``last_change``: the simulated clock at the run's end, in UTC.

    GDAL would write the wall clock, and two runs of one scenario would differ in that alone.
    """
    start = (result.scenario.get("output") or {}).get("start_time")
    try:
        t0 = datetime.fromisoformat(str(start).replace("Z", "+00:00"))
        if t0.tzinfo is None:
            t0 = t0.replace(tzinfo=UTC)
        end = t0 + timedelta(seconds=float(result.scenario.get("duration") or 0.0))
    except (TypeError, ValueError, OverflowError):
        end = datetime(1970, 1, 1, tzinfo=UTC)
    return end.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def write_gpkg(result: RunResult, path: str | Path, *, rows_per_batch: int = ROWS_PER_BATCH) -> Path:
    """Write ``run.gpkg`` (one layer per :data:`LAYERS` entry the run has).

    Each layer is streamed to GDAL in batches of ``rows_per_batch`` rows, converted one batch at
    a time, so a large layer (a million-citizen city's roads) is never held twice in memory.
    The file's timestamps are :func:`last_change`, so a rerun writes the same bytes.
    """
    path = Path(path)
    path.unlink(missing_ok=True)
    set_gdal_config_options({"OGR_CURRENT_DATE": last_change(result)})
    try:
        _write_layers(result, path, rows_per_batch)
    finally:
        set_gdal_config_options({"OGR_CURRENT_DATE": None})
    return path


def _write_layers(result: RunResult, path: Path, rows_per_batch: int) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # GDAL notes on field widths
        for name, layer in gis_layers(result).items():
            kind, _ = _geometry_type(layer.geometry)
            epsg = layer.crs.to_epsg() if layer.crs is not None else None
            write_arrow(
                _batches(layer, rows_per_batch),
                path,
                layer=name,
                driver="GPKG",
                geometry_name="geom",
                geometry_type=kind,
                crs=f"EPSG:{epsg}" if epsg else (layer.crs.to_wkt() if layer.crs is not None else None),
            )


__all__ = ["LAYERS", "gis_layers", "track_intervals", "write_gpkg"]
