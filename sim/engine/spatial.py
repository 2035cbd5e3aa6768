"""Spatial tables of a finished run: roads with their traffic, districts with their outcome.

Both are GeoDataFrames in longitude/latitude (EPSG:4326): the ``roads`` and ``districts``
layers of ``run.gpkg``, and ``roads.parquet`` / ``district_summary.parquet`` in the run
directory.
"""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from sim.agents.citizens import STATE_NAMES
from sim.city.crs import to_wgs84


def road_table(model: Any) -> gpd.GeoDataFrame:
    """Per road segment: its attributes, capacity and what happened on it over the run.

    ``passed``: people who entered it (either direction); ``peak_queue`` (and when,
    ``peak_queue_t_s``): most people waiting at its entrances at a recorded time;
    ``longest_wait_s``: the longest wait of one citizen to enter it; ``closed_s``: how long it
    was closed to walkers or cars. Capacities are people per hour in one direction, on foot and
    by car (vehicles times ``movement.car_occupancy``), 0 where the mode cannot use it.
    """
    city, net = model.city, model.net
    n = city.n_roads
    roads = city.roads
    with np.errstate(divide="ignore"):
        walk = np.where(np.isfinite(net.headway_s[:n]), 3600.0 / net.headway_s[:n], 0.0)
        car = np.where(np.isfinite(net.headway_s[2 * n : 3 * n]), 3600.0 / net.headway_s[2 * n : 3 * n], 0.0)
    walk = np.where(roads["walkable"].to_numpy(bool), walk, 0.0)
    car = np.where(roads["drivable"].to_numpy(bool), car, 0.0)
    flows = model.mover.flows
    zeros = np.zeros(n)
    table = pd.DataFrame(
        {
            "road_id": roads["road_id"].astype(str).to_numpy(),
            "name": roads["name"].astype(object).where(roads["name"].notna(), None).to_numpy(),
            "highway": roads["highway"].astype(object).to_numpy(),
            "lanes": roads["lanes"].to_numpy(float),
            "length_m": roads["length_m"].to_numpy(float).round(2),
            "capacity_walk_pph": walk.round(1),
            "capacity_car_pph": car.round(1),
            "passed": flows.passed if flows is not None else zeros.astype(np.int64),
            "peak_queue": flows.peak_queue if flows is not None else zeros.astype(np.int64),
            "peak_queue_t_s": flows.peak_queue_t if flows is not None else np.full(n, np.nan),
            "longest_wait_s": (flows.longest_wait_s if flows is not None else zeros).round(1),
            "closed_s": model.roads.closed_seconds(float(model.env.now)).round(1),
        }
    )
    return gpd.GeoDataFrame(table, geometry=to_wgs84(roads[["geometry"]]).geometry.to_numpy(), crs="EPSG:4326")


def district_table(model: Any, counts: pd.DataFrame) -> gpd.GeoDataFrame:
    """Per district: residents, people by state at the end, peak at home, and when it cleared.

    ``counts`` is the run's district counts (where people are, per recorded time and state).
    ``cleared_t_s`` is the first recorded time from which nobody was at home in the district
    until the end (empty if people were still at home at the end or it had no residents).
    """
    districts = model.city.districts
    names = districts["name"].astype(str).to_numpy()
    out = pd.DataFrame({"district": names})
    if len(counts):
        wide = counts.pivot_table(index=["district", "t_s"], columns="state", values="count", fill_value=0)
        wide = wide.reindex(columns=list(STATE_NAMES), fill_value=0)
        times = np.sort(counts["t_s"].unique())
        end = wide.xs(times[-1], level="t_s").reindex(names, fill_value=0)
        for state in STATE_NAMES:
            out[state] = end[state].to_numpy(np.int64)
        home = wide["at_home"].unstack("t_s", fill_value=0).reindex(index=names, columns=times, fill_value=0).to_numpy()
        out["residents"] = home[:, 0].astype(np.int64)
        out["peak_at_home"] = home.max(axis=1).astype(np.int64)
        cleared = np.full(len(names), np.nan)
        for i, row in enumerate(home):
            if row[0] > 0 and row[-1] == 0:
                last_busy = np.flatnonzero(row > 0).max()
                cleared[i] = times[last_busy + 1]
        out["cleared_t_s"] = cleared
    else:
        for state in STATE_NAMES:
            out[state] = 0
        out["residents"] = out["peak_at_home"] = 0
        out["cleared_t_s"] = np.nan
    return gpd.GeoDataFrame(out, geometry=to_wgs84(districts[["geometry"]]).geometry.to_numpy(), crs="EPSG:4326")


def catchment_table(model: Any) -> pd.DataFrame:
    """Each shelter's catchment: how many of the people it took came from each home district.

    One row per (shelter, home district) with people: ``shelter``, ``district``, ``people``,
    and ``share`` of that shelter's people.
    """
    p = model.pop
    took = np.flatnonzero(p.shelter >= 0)
    district = model.city.nodes["district"].to_numpy()[p.home_node[took]]
    names = model.city.districts["name"].astype(str).to_numpy()
    ids = np.array([s.shelter_id for s in model.shelters], dtype=object)
    frame = pd.DataFrame({"shelter": ids[p.shelter[took]], "district": names[district]})
    out = frame.groupby(["shelter", "district"], sort=True).size().rename("people").reset_index()
    out["share"] = (out["people"] / out.groupby("shelter")["people"].transform("sum")).round(4)
    return out.sort_values(["shelter", "people"], ascending=[True, False], kind="stable").reset_index(drop=True)


__all__ = ["catchment_table", "district_table", "road_table"]
