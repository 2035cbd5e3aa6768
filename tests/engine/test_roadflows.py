"""Traffic per road (road_flows.parquet, run.gpkg) against the point queue's exact answer."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyogrio
import pytest

from sim import api
from tests.conftest import everyone_now, scenario_from

N, HEADWAY_S = 60, 10.0  # 60 people before one road that lets one in every 10 s


def _bottleneck(layer_city, **extra):
    city = (
        layer_city()
        .road((0, 0), (0, 400), id="gate", capacity_pph=3600 / HEADWAY_S, name="Gate Street")
        .road((0, 400), (0, 800), id="beyond")
        .people_at((0, 0), N)
        .shelter("S", (0, 400), 100)
        .write()
    )
    parts = everyone_now(output={"record_every": 60, "tracks": {"every": 60, "max_citizens": 50}}, **extra)
    return scenario_from(city, population={"count": N}, duration=1800, **parts)


def test_entries_queues_and_delays_per_bin_match_the_point_queue(layer_city):
    result = api.run(_bottleneck(layer_city))
    flows = result.tables["road_flows"]
    gate = flows[flows["road_id"] == "gate"].set_index("t_s")
    # Everyone is at the entrance at t = 0; the k-th (from 0) enters at k x 10 s and waited that long.
    entries = np.arange(N) * HEADWAY_S
    for t_end in (60.0, 120.0, 300.0, 600.0):
        in_bin = entries[(entries >= t_end - 60) & (entries < t_end)]
        row = gate.loc[t_end]
        assert row["entered"] == len(in_bin) == 6
        assert row["mean_delay_s"] == pytest.approx(in_bin.mean())  # 60 b + 25 s
        assert row["queue"] == N - (entries < t_end).sum()  # still waiting at the end of the bin
    assert gate["entered"].sum() == N
    assert str(gate["time"].iloc[0]) == "2026-01-01 08:01:00+00:00"  # output.start_time + 60 s
    roads = result.tables["roads"].set_index("road_id")
    assert roads.loc["gate", "passed"] == N
    assert roads.loc["gate", "longest_wait_s"] == pytest.approx((N - 1) * HEADWAY_S)
    assert roads.loc["gate", "peak_queue"] == N - 6  # at the first recorded time after the start
    assert roads.loc["gate", "peak_queue_t_s"] == 60.0
    assert roads.loc["gate", "capacity_walk_pph"] == pytest.approx(360.0)
    assert roads.loc["beyond", "passed"] == 0  # the shelter is before it
    assert roads.loc["gate", "name"] == "Gate Street"


def test_time_closed_counts_overlapping_closures_once(layer_city):
    hazards = [
        {"type": "road_closure", "at": 300, "until": 900, "ids": ["beyond"]},
        {"type": "road_closure", "at": 600, "until": 1200, "ids": ["beyond"]},
        {"type": "road_closure", "at": 1500, "ids": ["beyond"]},  # never lifted: closed to the end
    ]
    result = api.run(_bottleneck(layer_city, hazards=hazards))
    roads = result.tables["roads"].set_index("road_id")
    assert roads.loc["beyond", "closed_s"] == pytest.approx((1200 - 300) + (1800 - 1500))
    assert roads.loc["gate", "closed_s"] == 0


def test_run_gpkg_opens_with_pyogrio_and_carries_every_layer(layer_city, tmp_path):
    result = api.run(_bottleneck(layer_city))
    out = api.write_run(result, tmp_path / "run")
    gpkg = out / "run.gpkg"
    layers = dict(pyogrio.list_layers(gpkg))
    assert layers == {
        "roads": "LineString",
        "districts": "Polygon",
        "shelters": "Point",
        "assets": "Point",
        "tracks": "Point",
    }
    for name in layers:
        assert pyogrio.read_info(gpkg, layer=name)["crs"] == "EPSG:4326"
    roads = pyogrio.read_dataframe(gpkg, layer="roads")
    assert set(roads["road_id"]) == {"gate", "beyond"}
    assert roads.set_index("road_id").loc["gate", "passed"] == N
    flows = pd.read_parquet(out / "road_flows.parquet")
    assert flows.groupby("road_id")["entered"].sum().to_dict() == {"gate": N}
    districts = pyogrio.read_dataframe(gpkg, layer="districts")
    assert districts["residents"].sum() == N
    assert districts["sheltered"].sum() == N  # the shelter is in some district
    home = districts[districts["residents"] > 0]
    assert (home["cleared_t_s"] == 60.0).all()  # everyone left in the first minute
    tracks = pyogrio.read_dataframe(gpkg, layer="tracks")
    start = pd.to_datetime(tracks["time"], format="ISO8601")
    end = pd.to_datetime(tracks["time_end"], format="ISO8601")
    assert (end > start).all()
    assert set(tracks["state"]) >= {"at_home", "evacuating", "sheltered"}
    # Each tracked citizen's intervals tile the run without gaps.
    for _, one in tracks.sort_values("t_s").groupby("citizen"):
        assert one["t_s"].iloc[0] == 0
        assert np.array_equal(one["t_s"].to_numpy()[1:], one["t_end_s"].to_numpy()[:-1])


def test_catchments_count_people_by_home_district(layer_city):
    result = api.run(_bottleneck(layer_city))
    catch = result.tables["catchments"]
    assert list(catch.columns) == ["shelter", "district", "people", "share"]
    assert catch["people"].sum() == N
    assert set(catch["shelter"]) == {"S"}
    assert catch["share"].sum() == pytest.approx(1.0)
