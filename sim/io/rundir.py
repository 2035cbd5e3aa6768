"""Write and read run directories (SPEC section 4).

Everything is written into a hidden temporary folder beside the target and renamed into
place at the end, so a failed or interrupted run never leaves a half-written directory.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import yaml

from sim.core.records import RunResult

REQUIRED_FILES = (
    "summary.json",
    "timeseries.parquet",
    "events.parquet",
    "tracks.parquet",
    "scenario.yaml",
    "manifest.json",
)


def _clean(value: Any) -> Any:
    """JSON-safe copy: NaN and infinities become null."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    if hasattr(value, "item") and callable(value.item):  # numpy scalars
        return _clean(value.item())
    return value


def _write_parquet(df: pd.DataFrame, path: Path) -> None:
    if isinstance(df, gpd.GeoDataFrame):  # GeoParquet: WKB geometry plus CRS metadata
        df.reset_index(drop=True).to_parquet(path, index=False, compression="zstd")
        return
    df.reset_index(drop=True).to_parquet(path, index=False, engine="pyarrow", compression="zstd")


def _read_parquet(path: Path) -> pd.DataFrame:
    import pyarrow.parquet as pq

    if b"geo" in (pq.read_schema(path).metadata or {}):
        return gpd.read_parquet(path)
    return pd.read_parquet(path)


def write_run(result: RunResult, out_dir: str | Path, *, overwrite: bool = False) -> Path:
    """Write a run directory atomically and return its path.

    Raises:
        FileExistsError: ``out_dir`` exists, is not empty, and ``overwrite`` is False.
    """
    out = Path(out_dir)
    if out.exists() and any(out.iterdir()) and not overwrite:
        msg = f"{out} exists and is not empty"
        raise FileExistsError(msg)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        (tmp / "summary.json").write_text(json.dumps(_clean(result.summary), indent=2, sort_keys=False) + "\n")
        _write_parquet(result.timeseries, tmp / "timeseries.parquet")
        _write_parquet(result.events, tmp / "events.parquet")
        _write_parquet(result.tracks, tmp / "tracks.parquet")
        (tmp / "scenario.yaml").write_text(yaml.safe_dump(_clean(result.scenario), sort_keys=False, allow_unicode=True))
        (tmp / "manifest.json").write_text(json.dumps(_clean(result.manifest), indent=2) + "\n")
        for name, table in result.tables.items():
            _write_parquet(table, tmp / f"{name}.parquet")
        for name, text in result.files.items():
            target = tmp / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text)
        if out.exists():
            shutil.rmtree(out)
        os.replace(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out


def read_run(run_dir: str | Path) -> dict[str, Any]:
    """Read a run directory back: summary, scenario, manifest and tables as DataFrames."""
    d = Path(run_dir)
    missing = [f for f in REQUIRED_FILES if not (d / f).is_file()]
    if missing:
        msg = f"{d} is not a run directory (missing {', '.join(missing)})"
        raise FileNotFoundError(msg)
    out: dict[str, Any] = {
        "summary": json.loads((d / "summary.json").read_text()),
        "manifest": json.loads((d / "manifest.json").read_text()),
        "scenario": yaml.safe_load((d / "scenario.yaml").read_text()),
    }
    for p in sorted(d.glob("*.parquet")):
        out[p.stem] = _read_parquet(p)
    return out
