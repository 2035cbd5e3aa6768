"""GeoPackage times: each distinct time is written once, as the per-row ISO text it replaces (issue 20)."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
from shapely.geometry import Point

from sim.io.gis import _for_gpkg


def test_times_become_the_same_iso_text_as_row_by_row_with_missing_times_as_none():
    t = pd.to_datetime(
        ["2026-11-27T08:00:00", "2026-11-27T08:00:00.5", None, "2026-11-27T09:15:00.000001", "2026-11-27T08:00:00"],
        format="ISO8601",
    ).tz_localize("Europe/Helsinki")
    df = gpd.GeoDataFrame({"time": t, "n": range(5)}, geometry=[Point(i, i) for i in range(5)], crs="EPSG:3067")
    df.index = [10, 11, 12, 13, 14]  # not a plain range: the text keeps each row's place
    row_by_row = df["time"].map(lambda v: v.isoformat() if pd.notna(v) else None)
    out = _for_gpkg(df)["time"]
    assert out.tolist() == row_by_row.tolist()
    assert out.tolist()[1] == "2026-11-27T08:00:00.500000+02:00"
    assert out.tolist()[2] is None
    assert list(out.index) == [10, 11, 12, 13, 14]
