"""Typed configs of the ``hazards:`` list, each selected by its ``type:``.

A new hazard plugs in by adding its Config here (with a ``type`` literal and an onset ``at``)
and adding it to ``HazardConfig``; its behaviour lives in ``sim/hazards/<type>.py``.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from sim.scenario.types import Area, Duration, Strict


class _HazardBase(Strict):
    at: Duration = Field(0.0, description="onset, s from the start of the run")
    until: Duration | None = Field(None, description="end, s from the start (default: never)")
    id: str | None = None

    @model_validator(mode="after")
    def _until_after_at(self):
        if self.until is not None and self.until <= self.at:
            msg = f"until ({self.until:g} s) must be after at ({self.at:g} s)"
            raise ValueError(msg)
        return self


class RoadClosureConfig(_HazardBase):
    """Roads closed at ``at`` (a collapsed bridge, debris, police cordon); reopened at ``until``.

    Roads are chosen by ``ids`` (OpenStreetMap way ids or the ``id`` property of a roads
    layer), by street ``names``, or by an ``area`` (bbox, polygon or circle). People already
    on a closed road walk on to its end; nobody enters it while it is closed.
    """

    type: Literal["road_closure"]
    ids: list[str | int] = Field(default_factory=list)
    names: list[str] = Field(default_factory=list)
    area: Area | None = None

    @model_validator(mode="after")
    def _some_selector(self) -> RoadClosureConfig:
        if not (self.ids or self.names or self.area):
            msg = "name the roads to close with ids, names or area"
            raise ValueError(msg)
        return self


class ShelterClosureConfig(_HazardBase):
    """Shelters closed at ``at`` (damaged, unsafe, no staff); reopened at ``until``.

    People inside stay; newcomers are sent on to the nearest open shelter with room.
    """

    type: Literal["shelter_closure"]
    shelters: list[str] = Field(min_length=1)


HazardConfig = Annotated[RoadClosureConfig | ShelterClosureConfig, Field(discriminator="type")]
