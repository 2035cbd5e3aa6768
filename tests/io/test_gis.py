"""run.gpkg of a run with a hazard: every layer, read back with pyogrio (no GeoParquet needed)."""

from __future__ import annotations

import pandas as pd
import pyogrio

from sim import api
from sim.io.gis import write_gpkg


def test_a_flood_run_writes_its_footprints_and_assets_states_into_run_gpkg(tmp_path):
    scenario = api.load_scenario(api.sample_scenarios()["kotka_river_flood"], ["duration=40min"])
    result = api.run(scenario)
    path = write_gpkg(result, tmp_path / "run.gpkg")
    layers = dict(pyogrio.list_layers(path))
    assert set(layers) == {"roads", "districts", "shelters", "assets", "hazard", "tracks"}
    assert layers["hazard"] in ("Polygon", "MultiPolygon", "Unknown")
    hazard = pyogrio.read_dataframe(path, layer="hazard")
    expected = result.tables["hazard"]
    assert len(hazard) == int(expected.geometry.notna().sum()) > 0
    assert set(hazard["hazard"]) == set(expected["hazard"][expected.geometry.notna()])
    assert hazard.crs.to_epsg() == 4326
    assets = pyogrio.read_dataframe(path, layer="assets")
    # The state at the end, as in assets.parquet.
    assert assets.set_index("id")["up"].to_dict() == result.tables["assets"].set_index("id")["up"].to_dict()
    roads = pyogrio.read_dataframe(path, layer="roads")
    assert (roads["closed_s"] > 0).any()  # the flood closed roads, and for how long is there
    assert roads["closed_s"].max() <= 40 * 60
    flooded = result.events[result.events["kind"] == "road_closed"]
    assert (roads["closed_s"] > 0).sum() == flooded["subject"].nunique()
    shelters = pyogrio.read_dataframe(path, layer="shelters")
    assert list(shelters["id"]) == list(result.tables["shelters"]["id"])
    assert pd.api.types.is_numeric_dtype(shelters["capacity"])


def _layers_of(path):
    """Every layer of a GeoPackage as read back: its declared schema and its rows."""
    out = {}
    for name, _ in pyogrio.list_layers(path):
        info = pyogrio.read_info(path, layer=name)
        frame = pyogrio.read_dataframe(path, layer=name)
        schema = (info["geometry_type"], list(info["fields"]), list(info["dtypes"]), info["crs"], info["geometry_name"])
        out[name] = (schema, pd.DataFrame(frame.drop(columns="geometry")), frame.geometry.to_wkb().tolist())
    return out


def _whole_frame_gpkg(result, path):
    """The writer before streaming: each whole layer converted, then handed to pyogrio at once."""
    import warnings

    from sim.io.gis import _for_gpkg, gis_layers

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name, layer in gis_layers(result).items():
            _for_gpkg(layer).to_file(path, layer=name, driver="GPKG", engine="pyogrio")
    return path


def test_run_gpkg_streamed_in_small_batches_equals_the_whole_frame_writer(tmp_path, monkeypatch):
    import sim.io.gis as gis

    scenario = api.load_scenario(api.sample_scenarios()["kotka_river_flood"], ["duration=30min"])
    result = api.run(scenario)
    seen = []
    convert = gis._for_gpkg
    monkeypatch.setattr(gis, "_for_gpkg", lambda layer: seen.append(len(layer)) or convert(layer))
    streamed = write_gpkg(result, tmp_path / "streamed.gpkg", rows_per_batch=7)
    assert seen
    assert max(seen) <= 7  # no layer is converted whole
    assert len(seen) > len(gis.gis_layers(result))
    monkeypatch.setattr(gis, "_for_gpkg", convert)
    whole = _whole_frame_gpkg(result, tmp_path / "whole.gpkg")
    a, b = _layers_of(streamed), _layers_of(whole)
    assert a.keys() == b.keys()
    for name in a:
        assert a[name][0] == b[name][0], name
        pd.testing.assert_frame_equal(a[name][1], b[name][1])
        assert a[name][2] == b[name][2], name


def test_a_layer_of_polygons_and_multipolygons_becomes_multipolygon_in_every_batch(tmp_path):
    import geopandas as gpd
    import numpy as np
    import shapely

    from sim.core.records import RunResult

    square = shapely.box(0, 0, 0.001, 0.001)
    two = shapely.MultiPolygon([shapely.box(1, 1, 1.001, 1.001), shapely.box(2, 2, 2.001, 2.001)])
    hazard = gpd.GeoDataFrame(
        {
            "t_s": np.arange(5.0),
            "band": [None, None, "b", "c", "d"],  # missing text in the first batch stays text
            "count": pd.array([1, None, 3, None, 5], dtype="Int64"),  # whole numbers, missing stays missing
        },
        geometry=[square, square, square, two, square],
        crs="EPSG:4326",
    )
    tables = {"hazard": hazard}
    result = RunResult(summary={}, timeseries=None, events=None, tracks=pd.DataFrame(), scenario={}, tables=tables)
    path = write_gpkg(result, tmp_path / "run.gpkg", rows_per_batch=2)
    info = pyogrio.read_info(path, layer="hazard")
    assert info["geometry_type"] == "MultiPolygon"
    fields = dict(zip(info["fields"], info["dtypes"], strict=True))
    assert fields == {"t_s": "float64", "band": "object", "count": "int64"}
    back = pyogrio.read_dataframe(path, layer="hazard")
    assert list(back.geometry.geom_type) == ["MultiPolygon"] * 5
    assert back.geometry.iloc[0].equals(shapely.MultiPolygon([square]))
    assert back["band"].tolist() == [None, None, "b", "c", "d"]
    assert back["count"].isna().tolist() == [False, True, False, True, False]
    assert back["count"].dropna().tolist() == [1, 3, 5]
