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
