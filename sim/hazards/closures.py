"""Planned or sudden closures: roads (a bridge out, a cordon) and shelters (unsafe, unstaffed)."""

from __future__ import annotations

from sim.core.errors import InputError
from sim.hazards.base import Hazard, World, register
from sim.scenario.hazards import LinkCutConfig, PowerOutageConfig, RoadClosureConfig, ShelterClosureConfig


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


@register
class PowerOutage(Hazard):
    """Cut the grid supply of substations at ``at``; restore it at ``until``."""

    type_name = "power_outage"
    config: PowerOutageConfig

    def prepare(self, world: World) -> None:
        """Resolve the substations now (default: every one)."""
        assets = world.assets()
        known = assets.loc[assets["kind"] == "substation", "id"].tolist()
        for j, sid in enumerate(self.config.substations):
            if sid not in known:
                raise InputError.single(f"hazards.{self.index}.substations.{j}", f"no substation has id {sid!r}")
        self.substations = list(self.config.substations) or known

    def onset(self, world: World) -> None:
        """Cut the supply."""
        world.set_grid(self.substations, on=False, cause=self.label)

    def end(self, world: World) -> None:
        """Restore the supply."""
        world.set_grid(self.substations, on=True, cause=self.label)


@register
class LinkCut(Hazard):
    """Cut network links at ``at``; repair them at ``until``."""

    type_name = "link_cut"
    config: LinkCutConfig

    def prepare(self, world: World) -> None:
        """Resolve the links now."""
        import numpy as np

        links = world.links()
        ids = links["id"].astype(str)
        for j, lid in enumerate(self.config.ids):
            if lid not in set(ids):
                raise InputError.single(f"hazards.{self.index}.ids.{j}", f"no link has id {lid!r}")
        mask = ids.isin(self.config.ids) | links["type"].isin(self.config.types)
        if not mask.any():
            raise InputError.single(f"hazards.{self.index}.types", "no link of these types exists")
        self.rows = np.nonzero(mask.to_numpy())[0]

    def onset(self, world: World) -> None:
        """Cut the links."""
        world.cut_links(self.rows, cut=True, cause=self.label)

    def end(self, world: World) -> None:
        """Repair the links."""
        world.cut_links(self.rows, cut=False, cause=self.label)


__all__ = ["LinkCut", "PowerOutage", "RoadClosure", "ShelterClosure"]
