"""Shelters as Mesa agents: few enough (hundreds to thousands) to be objects with a status."""

from __future__ import annotations

import itertools
import weakref
from typing import Any

import mesa

OPEN, FULL, CLOSED, DAMAGED = "open", "full", "closed", "damaged"


class _IdsByModel(weakref.WeakKeyDictionary[Any, Any]):
    """Mesa's per-model agent id counters, without keeping a finished model alive.

    Mesa 3.3 keeps them in a class-level ``defaultdict`` keyed by the model, so every model that
    ever made an agent stays in memory for the life of the process (mesa#3179, fixed upstream
    after 3.3.1): a worker of a sweep or the app would hold every run it made.
    """

    def __getitem__(self, model: Any) -> Any:
        try:
            return super().__getitem__(model)
        except KeyError:
            counter = self[model] = itertools.count(1)
            return counter


class ShelterAgent(mesa.Agent):
    """A shelter with a capacity that is never exceeded.

    Attributes:
        shelter_id: the shelter's id from the city data or the scenario.
        name: its display name.
        node: the road node it is attached to.
        capacity: places.
        occupancy: people inside.
        is_open: False while closed (by a hazard, an operator, or the scenario).
        damaged: True once a hazard damaged it (it stays closed).
        turned_away: people who came to it while it was full or closed.
        peak_occupancy: the highest occupancy so far.
    """

    _ids = _IdsByModel()  # read by mesa.Agent.__init__ for the unique_id

    def __init__(
        self,
        model: mesa.Model,
        *,
        shelter_id: str,
        name: str,
        node: int,
        capacity: int,
        lon: float,
        lat: float,
        is_open: bool = True,
    ):
        super().__init__(model)
        self.shelter_id = shelter_id
        self.name = name
        self.node = int(node)
        self.capacity = int(capacity)
        self.lon = float(lon)
        self.lat = float(lat)
        self.is_open = bool(is_open)
        self.damaged = False
        self.occupancy = 0
        self.turned_away = 0
        self.peak_occupancy = 0

    @property
    def room(self) -> int:
        """Places left for newcomers (0 when closed)."""
        return max(self.capacity - self.occupancy, 0) if self.is_open else 0

    @property
    def status(self) -> str:
        """``open``, ``full``, ``closed`` or ``damaged`` (closed by hazard damage)."""
        if self.damaged:
            return DAMAGED
        if not self.is_open:
            return CLOSED
        return FULL if self.occupancy >= self.capacity else OPEN

    def admit(self, count: int) -> int:
        """Let ``count`` people in and return the room left; the caller never asks for more than ``room``."""
        room = self.room
        if count > room:
            msg = f"shelter {self.shelter_id}: admitting {count} exceeds room {room}"
            raise RuntimeError(msg)
        self.occupancy += count
        if self.occupancy > self.peak_occupancy:
            self.peak_occupancy = self.occupancy
        return room - count  # open: capacity less occupancy; closed: 0 (and nobody let in)
