"""The shelter table a run starts from: the city's shelters with the scenario's changes applied."""

from __future__ import annotations

import numpy as np
import pandas as pd

from sim.city.model import City
from sim.core.errors import InputError
from sim.scenario.schema import Scenario


def shelter_table(city: City, scenario: Scenario) -> pd.DataFrame:
    """The city's shelters, overridden or extended by ``scenario.shelters`` (snapped, validated).

    Raises:
        InputError: a new shelter without location or capacity, a place too far from any road,
            or no shelter at all.
    """
    table = city.shelters.copy()
    table["open"] = True
    extra = []
    snap_m = scenario.city.snap_max_m
    for i, s in enumerate(scenario.shelters):
        hit = table.index[table["id"] == s.id]
        if len(hit):
            row = hit[0]
            if s.capacity is not None:
                table.loc[row, "capacity"] = s.capacity
            if s.location is not None:
                xy = city.xy_of_lonlat(np.array([s.location], dtype=float))
                table.loc[row, ["x", "y"]] = xy[0]
                table.loc[row, ["lon", "lat"]] = s.location
                table.loc[row, "node"] = city.snap(xy, max_m=snap_m, fields=[f"shelters.{i}.location"])[0]
            if s.name:
                table.loc[row, "name"] = s.name
            table.loc[row, "open"] = s.open
        else:
            problems = []
            if s.location is None:
                problems.append(
                    (f"shelters.{i}.location", f"required for a new shelter ({s.id!r} is not in the city data)")
                )
            if s.capacity is None:
                problems.append(
                    (f"shelters.{i}.capacity", f"required for a new shelter ({s.id!r} is not in the city data)")
                )
            if problems:
                raise InputError(problems)
            assert s.location is not None
            assert s.capacity is not None
            xy = city.xy_of_lonlat(np.array([s.location], dtype=float))
            extra.append(
                {
                    "id": s.id,
                    "name": s.name or s.id,
                    "x": xy[0, 0],
                    "y": xy[0, 1],
                    "capacity": s.capacity,
                    "source": "scenario",
                    "node": int(city.snap(xy, max_m=snap_m, fields=[f"shelters.{i}.location"])[0]),
                    "lon": s.location[0],
                    "lat": s.location[1],
                    "open": s.open,
                }
            )
    if extra:
        table = pd.concat([table, pd.DataFrame(extra)], ignore_index=True)
    if len(table) == 0:
        raise InputError.single("shelters", "the city has no shelter: add shelters to the scenario")
    return table.reset_index(drop=True)
