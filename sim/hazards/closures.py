"""Planned or sudden closures: roads (a bridge out, a cordon) and shelters (unsafe, unstaffed)."""

from __future__ import annotations

from sim.core.errors import InputError
from sim.hazards.base import Hazard, World, register
from sim.scenario.hazards import RoadClosureConfig, ShelterClosureConfig


@register
class RoadClosure(Hazard):
    """Close the selected roads at ``at``; reopen them at ``until`` if given."""

    type_name = "road_closure"
    config: RoadClosureConfig

    def prepare(self, world: World) -> None:
        """Find the roads now, so a bad selector fails before the run."""
        from sim.city.select import select_roads

        self.roads = select_roads(
            world.city,
            ids=self.config.ids,
            names=self.config.names,
            area=self.config.area,
            field=f"hazards.{self.index}",
        )

    def onset(self, world: World) -> None:
        """Close the roads."""
        world.close_roads(self.roads, cause=self.label)

    def end(self, world: World) -> None:
        """Reopen the roads."""
        world.reopen_roads(self.roads, cause=self.label)


@register
class ShelterClosure(Hazard):
    """Close the listed shelters at ``at``; reopen them at ``until`` if given."""

    type_name = "shelter_closure"
    config: ShelterClosureConfig

    def prepare(self, world: World) -> None:
        """Check the shelter ids exist."""
        known = set(world.shelter_ids())
        for j, sid in enumerate(self.config.shelters):
            if sid not in known:
                raise InputError.single(f"hazards.{self.index}.shelters.{j}", f"no shelter has id {sid!r}")

    def onset(self, world: World) -> None:
        """Close the shelters."""
        world.close_shelters(list(self.config.shelters), cause=self.label)

    def end(self, world: World) -> None:
        """Reopen the shelters."""
        world.reopen_shelters(list(self.config.shelters), cause=self.label)


__all__ = ["RoadClosure", "ShelterClosure"]
