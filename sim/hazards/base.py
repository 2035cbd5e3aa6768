"""The hazard plug-in shape.

A hazard is built from its typed Config and started on the running simulation. It acts only
through the :class:`World` interface the engine provides (it never imports the engine), as a
SimPy process on the one clock. Several hazards form one timeline.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from typing import Any, ClassVar, Protocol

import numpy as np
import simpy

from sim.city.model import City


class World(Protocol):
    """What a hazard may see and do in the running simulation."""

    env: simpy.Environment
    city: City

    def rng(self, name: str) -> np.random.Generator:
        """A named random stream (hazards use ``hazards/<id>``)."""

    def close_roads(self, roads: np.ndarray, *, cause: str) -> None:
        """Close road segments (row indices); nobody enters them while closed."""

    def reopen_roads(self, roads: np.ndarray, *, cause: str) -> None:
        """Reopen road segments."""

    def close_shelters(self, shelter_ids: list[str], *, cause: str) -> None:
        """Close shelters: people inside stay, newcomers go on."""

    def reopen_shelters(self, shelter_ids: list[str], *, cause: str) -> None:
        """Reopen shelters."""

    def shelter_ids(self) -> list[str]:
        """Ids of every shelter."""

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
        yield world.env.timeout(self.config.at)
        self.onset(world)
        if self.config.until is not None:
            yield world.env.timeout(self.config.until - self.config.at)
            self.end(world)

    def onset(self, world: World) -> None:
        """What happens at ``at``."""

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
