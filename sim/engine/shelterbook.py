"""The shelter book: every shelter of a run, its road node and position, open or closed, added later.

``shelter_table`` builds the starting table (the city's shelters with the scenario's changes);
``ShelterBook`` owns the agents built from it and keeps their arrays in step when a shelter opens,
closes, is damaged or is added during a run.
"""

from __future__ import annotations

from collections.abc import Callable

import mesa
import numpy as np
import pandas as pd

from sim.agents.shelters import ShelterAgent
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


class ShelterBook:
    """The shelters of a run: agents (row order), road nodes, metric positions and an id index.

    Args:
        model: the Mesa model the agents belong to.
        table: the starting table (``shelter_table``).
        log_event: where shelter events go.
        changed: called when a shelter opens, closes or is added (routes must be recomputed).
    """

    def __init__(
        self,
        model: mesa.Model,
        table: pd.DataFrame,
        *,
        log_event: Callable[..., None],
        changed: Callable[[], None],
    ):
        self.model = model
        self.table = table
        self._log = log_event
        self._changed = changed
        self.agents: list[ShelterAgent] = [
            ShelterAgent(
                model,
                shelter_id=str(r.id),
                name=str(r.name),
                node=int(r.node),
                capacity=int(r.capacity),
                lon=float(r.lon),
                lat=float(r.lat),
                is_open=bool(r.open),
            )
            for r in table.itertuples()
        ]
        self.index = {s.shelter_id: i for i, s in enumerate(self.agents)}
        self.node = np.array([s.node for s in self.agents], dtype=np.int64)
        self.xy_m = table[["x", "y"]].to_numpy(dtype=float)  # metric, one row per agent

    def row(self, shelter_id: str, *, field: str) -> int:
        """The row of a shelter id.

        Raises:
            InputError: no shelter has that id (named by ``field``).
        """
        if shelter_id not in self.index:
            raise InputError.single(field, f"no shelter has id {shelter_id!r}")
        return self.index[shelter_id]

    def close(self, shelter_ids: list[str], *, cause: str, damaged: bool = False) -> None:
        """Close shelters: occupants stay, newcomers are sent on; ``damaged`` marks hazard damage."""
        for sid in shelter_ids:
            s = self.agents[self.index[sid]]
            if damaged and not s.damaged:
                s.damaged = True
                self._log("shelter_damaged", sid, f"occupancy={s.occupancy}; cause={cause}")
        self._set_open(shelter_ids, is_open=False, cause=cause)

    def reopen(self, shelter_ids: list[str], *, cause: str) -> None:
        """Reopen shelters (damaged ones stay closed)."""
        ok = [sid for sid in shelter_ids if not self.agents[self.index[sid]].damaged]
        self._set_open(ok, is_open=True, cause=cause)

    def _set_open(self, shelter_ids: list[str], *, is_open: bool, cause: str) -> None:
        for sid in shelter_ids:
            s = self.agents[self.index[sid]]
            if s.is_open != is_open:
                s.is_open = is_open
                self._changed()
                self._log("shelter_opened" if is_open else "shelter_closed", sid, f"cause={cause}")

    def resize(self, shelter_id: str, capacity: int) -> None:
        """Change a shelter's capacity (never below the people inside).

        Raises:
            InputError: the new capacity is below the occupancy.
        """
        s = self.agents[self.index[shelter_id]]
        if capacity < s.occupancy:
            raise InputError.single("action.capacity", f"must be >= occupancy {s.occupancy}, got {capacity}")
        s.capacity = int(capacity)
        self._changed()

    def add(self, shelter_id: str, *, location: tuple[float, float], capacity: int, city: City, cause: str) -> int:
        """A new shelter at ``location`` (attached to the nearest road node), open now; returns its row."""
        xy = city.xy_of_lonlat(np.array([location], dtype=float))
        node = int(city.nearest_nodes(xy)[0])
        self.agents.append(
            ShelterAgent(
                self.model,
                shelter_id=shelter_id,
                name=shelter_id,
                node=node,
                capacity=int(capacity),
                lon=location[0],
                lat=location[1],
            )
        )
        self.index[shelter_id] = len(self.agents) - 1
        self.node = np.append(self.node, node)
        self.xy_m = np.vstack([self.xy_m, xy])
        self._changed()
        self._log("shelter_opened", shelter_id, f"cause={cause}; new; capacity={capacity}")
        return len(self.agents) - 1
