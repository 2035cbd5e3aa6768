"""A user's DEM (real GeoTIFF files written with rasterio) and the bad inputs around hazards, via the CLI."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import rasterio
from rasterio.transform import from_origin

from sim.agents.citizens import WALK
from sim.engine.model import EvacuationModel
from tests.conftest import _OX, _OY, everyone_now, scenario_from
from tests.experiments.test_cli import _assert_invalid, sim, write_scenario


def write_dem(
    path: Path, *, x0=-300.0, x1=900.0, y0=-300.0, y1=300.0, cell=10.0, crs="EPSG:32635", ground=None
) -> Path:
    """Ground rising 1 m per 100 m eastwards (x metres east of the test origin), in UTM 35N.

    ``ground(xs)`` gives another height profile along x (the same for every row).
    """
    cols, rows = int((x1 - x0) / cell), int((y1 - y0) / cell)
    xs = x0 + (np.arange(cols) + 0.5) * cell
    height = np.tile(xs / 100.0 if ground is None else ground(xs), (rows, 1)).astype("float32")
    with rasterio.open(
        path,
        "w",
        driver="GTiff",
        width=cols,
        height=rows,
        count=1,
        dtype="float32",
        crs=crs,
        transform=from_origin(_OX + x0, _OY + y1, cell, cell),
        nodata=-9999.0,
    ) as dst:
        dst.write(height, 1)
    return path


def _street(layer_city):
    c = layer_city()
    c.road((0, 0), (200, 0), id="low")
    c.road((200, 0), (400, 0), id="mid")
    c.road((400, 0), (600, 0), id="high")
    c.shelter("S", (600, 0), 1000)
    c.people_at((0, 0), 20)
    return c


def test_a_dem_sets_where_the_water_goes(layer_city, tmp_path):
    city = _street(layer_city).write()
    city["terrain"] = {"dem": str(write_dem(tmp_path / "dem.tif")), "resolution_m": 10}
    scn = scenario_from(
        city,
        population={"count": 20},
        hazards=[{"type": "flood", "at": 0, "stages": [{"at": 0, "level_m": 3.5}]}],
        **everyone_now(),
    )
    m = EvacuationModel(scn)
    m.advance_to(30)
    rows = {rid: i for i, rid in enumerate(m.city.roads["road_id"])}
    # Lowest points: 0 m, 2 m, 4 m; level 3.5 m; walkers stopped deeper than 0.3 m.
    assert not m.roads.open[WALK, rows["low"]]
    assert not m.roads.open[WALK, rows["mid"]]
    assert m.roads.open[WALK, rows["high"]]
    assert m.terrain_source == "dem"
    h = m.terrain().height_at(m.city.node_xy)
    x = m.city.node_xy[:, 0] - _OX
    assert np.allclose(h, x / 100.0, atol=0.1)
    # Everyone stood at x=0 in 3.5 m of water.
    assert m.pop.state_counts()["casualties"] == 20


def _flood_scenario(layer_city, tmp_path, **terrain):
    city = _street(layer_city).write()
    city["terrain"] = terrain
    return {
        "name": "dem",
        "city": city,
        "population": {"count": 20},
        "hazards": [{"type": "flood", "at": 0, "stages": [{"at": 0, "level_m": 1.0}]}],
    }


def test_cli_rejects_a_dem_that_does_not_cover_the_city(layer_city, tmp_path):
    dem = write_dem(tmp_path / "small.tif", x0=-300, x1=300)  # stops at x=300, the street goes to 600
    path = write_scenario(tmp_path, _flood_scenario(layer_city, tmp_path, dem=str(dem)))
    res = sim("run", str(path), "--out", str(tmp_path / "out"), "--quiet")
    _assert_invalid(res, "city.terrain.dem")
    assert "does not cover the city" in res.stderr
    assert not (tmp_path / "out").exists()


def test_cli_rejects_a_missing_raster_file(layer_city, tmp_path):
    path = write_scenario(tmp_path, _flood_scenario(layer_city, tmp_path, dem="nowhere.tif"))
    res = sim("validate", str(path))
    _assert_invalid(res, "city.terrain.dem")
    assert "file not found" in res.stderr


def test_cli_rejects_a_file_that_is_not_a_raster(layer_city, tmp_path):
    bad = tmp_path / "dem.tif"
    bad.write_text("this is not a GeoTIFF")
    path = write_scenario(tmp_path, _flood_scenario(layer_city, tmp_path, dem=str(bad)))
    _assert_invalid(sim("validate", str(path)), "city.terrain.dem")


def test_cli_rejects_a_magnitude_out_of_range(tmp_path):
    data = {"hazards": [{"type": "earthquake", "epicentre": [26.95, 60.53], "magnitude": 11}]}
    res = sim("validate", str(write_scenario(tmp_path, data)))
    _assert_invalid(res, "hazards.0.magnitude")


def test_cli_rejects_flood_stages_out_of_order(tmp_path):
    data = {"hazards": [{"type": "flood", "stages": [{"at": 600, "level_m": 1}, {"at": 60, "level_m": 2}]}]}
    _assert_invalid(sim("validate", str(write_scenario(tmp_path, data))), "hazards.0")


def test_cli_run_writes_the_hazard_footprint(tmp_path):
    out = tmp_path / "run"
    res = sim(
        "run",
        "scenarios/kotka_river_flood.yaml",
        "--out",
        str(out),
        "--quiet",
        "--set",
        "duration=40min",
        "--set",
        "output.tracks.max_citizens=10",
    )
    assert res.returncode == 0, res.stderr
    import geopandas as gpd

    fp = gpd.read_parquet(out / "hazard.parquet")
    assert fp.crs.to_epsg() == 4326
    assert set(fp["type"]) == {"flood"}
    assert fp.geometry.notna().any()
    events = pd.read_parquet(out / "events.parquet")
    assert (events["kind"] == "flood").sum() == 1
    assets = pd.read_parquet(out / "assets.parquet")
    assert {"substation", "cell_tower", "siren", "server", "sensor"} <= set(assets["kind"])
