"""The hazard plug-in shape.

A hazard is built from its typed Config and started on the running simulation. It acts only
through the :class:`World` interface the engine provides (it never imports the engine), as a
SimPy process on the one clock. Several hazards form one timeline.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from typing import Any, ClassVar, Protocol

import numpy as np
import pandas as pd
import simpy

from sim.city.model import City
from sim.city.terrain import Terrain

MODES = ("walk", "car")


class World(Protocol):
    """What a hazard may see and do in the running simulation."""

    env: simpy.Environment
    city: City

    def stream(self, name: str) -> np.random.Generator:
        """A named random stream (hazards use ``hazards/<id>``)."""

    def terrain(self) -> Terrain:
        """The city's ground height (built on first use; raises InputError for a bad DEM)."""

    def spill_levels(self, height: np.ndarray, inside: np.ndarray, source: np.ndarray) -> np.ndarray | None:
        """Per cell, the lowest water level at which a bathtub connected to ``source`` wets it.

        Cells wet at level ``L`` are ``spill < L``: the cells below ``L``, all ``inside``, joined by
        4-neighbour paths of such cells to a source cell. None when the engine has no quick way to
        it here (then label the cells below each level).
        """

    def assets(self) -> pd.DataFrame:
        """Assets and their state now.

        Columns: ``id, kind, subnet, node, x, y, lon, lat, power, battery_h, sensor_type``,
        ``damaged``, ``power_state`` (grid, battery, off), ``up`` (working now).
        """

    def intact_assets(self, *, but: tuple[str, ...] = ()) -> tuple[list[str], np.ndarray]:
        """Ids and metric positions (``x, y``) of the assets not damaged, kinds ``but`` left out (table order)."""

    def fail_assets(self, ids: list[str], *, cause: str) -> None:
        """Take assets out of service (an ``asset_failed`` event each)."""

    def set_grid(self, substations: list[str], *, on: bool, cause: str) -> None:
        """Cut or restore the grid supply of substations."""

    def links(self) -> pd.DataFrame:
        """Network links: ``id, a, b, type, latency_s, bandwidth_mbps, availability, loss, directed``."""

    def cut_links(self, rows: np.ndarray, *, cut: bool, cause: str) -> None:
        """Cut links (rows of ``links()``) or lift this cause's cut."""

    def close_roads(self, roads: np.ndarray, *, cause: str, modes: tuple[str, ...] = MODES) -> None:
        """Close road segments (row indices) to the given modes; nobody enters them while closed."""

    def reopen_roads(self, roads: np.ndarray, *, cause: str, modes: tuple[str, ...] = MODES) -> None:
        """Lift this cause's closure of road segments (other causes may still close them)."""

    def close_shelters(self, shelter_ids: list[str], *, cause: str, damaged: bool = False) -> None:
        """Close shelters: people inside stay, newcomers go on; ``damaged`` marks them damaged."""

    def reopen_shelters(self, shelter_ids: list[str], *, cause: str) -> None:
        """Reopen shelters."""

    def shelter_ids(self) -> list[str]:
        """Ids of every shelter."""

    def shelter_xy(self) -> np.ndarray:
        """Metric positions of the shelters, in the order of ``shelter_ids``."""

    def exposed_citizens(self, wet: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Citizens outside shelters and alive, where they are now: ``(idx, node, xy)``.

        ``node`` is the road node each stands at (at home: their home's), -1 for those along a
        road; ``xy`` holds the metric positions of those along a road, in order. A hazard judges
        each node once for everyone standing there. ``wet`` (a flag per road node): only those
        standing at a wet node are listed, with everyone along a road (a dry node's people could
        not be caught: the water's limits are all above zero).
        """

    def vulnerable(self, idx: np.ndarray) -> np.ndarray:
        """Which of citizens ``idx`` are children or have limited mobility (a lower limit in water)."""

    def citizens_at_home(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Citizens at home (or trapped there): indices, home nodes, household ids."""

    def make_casualties(self, idx: np.ndarray, *, cause: str) -> None:
        """Citizens ``idx`` become casualties of ``cause``."""

    def trap(self, idx: np.ndarray, *, until: float, cause: str) -> None:
        """Citizens ``idx`` are trapped at home until ``until`` (then they are free to leave)."""

    def record_footprint(self, hazard: str, kind: str, bands: list[tuple[str, float, Any]]) -> None:
        """Record the hazard's footprint now: ``(band label, band lower value, metric geometry)``."""

    def log_event(self, kind: str, subject: str, detail: str = "") -> None:
        """Record an event at the current time."""


class Hazard:
    """Base of every hazard: ``start`` registers its process on the world's clock."""

    type_name: ClassVar[str] = ""

    def __init__(self, config: Any, *, index: int):
        self.config = config
        self.index = index
        self.label = config.id or f"{config.type}-{index}"

    def prepare(self, world: World) -> None:
        """Resolve inputs against the city before the run starts (raise InputError if invalid)."""

    def start(self, world: World) -> None:
        """Register the hazard's process on the world's clock."""
        world.env.process(self._run(world))

    def _run(self, world: World) -> Generator[simpy.Event, Any, None]:
        yield world.env.timeout(max(0.0, self.config.at - world.env.now))  # at is absolute
        self.onset(world)
        if self.config.until is not None:
            yield world.env.timeout(self.config.until - self.config.at)
            self.end(world)

    def onset(self, world: World) -> None:
        """What happens at ``at``."""

    def observe(self, quantity: str, xy: np.ndarray, t: float, window: float) -> np.ndarray | None:
        """What sensors at metric points ``xy`` read of this hazard at ``t`` (None: nothing).

        ``quantity`` is ``water_level_m`` (river gauges), ``sea_level_m`` (sea gauges) or
        ``pga_g`` (seismometers, the peak within the last ``window`` seconds).
        """
        return None

    def end(self, world: World) -> None:
        """What happens at ``until``."""


HAZARDS: dict[str, Callable[..., Hazard]] = {}


def register(cls: type[Hazard]) -> type[Hazard]:
    """Class decorator: make a hazard available under its ``type_name``."""
    HAZARDS[cls.type_name] = cls
    return cls


def make_hazard(config: Any, *, index: int) -> Hazard:
    """Build the hazard for a validated config."""
    return HAZARDS[config.type](config, index=index)
