"""The ``movement`` section of a scenario: the movement model's parameters (docs/movement.md)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from sim.scenario.types import Duration, Fraction, Strict


class MovementConfig(Strict):
    """Parameters of the movement model (see docs/movement.md)."""

    specific_flow_pmps: float = Field(
        1.3,
        gt=0,
        le=5,
        description="pedestrian capacity per metre of effective width, persons/(m·s); "
        "never more than the speed relation's maximum (Weidmann 1.22, SFPE 1.32)",
    )
    boundary_m: float = Field(
        0.3,
        ge=0,
        le=2,
        description="unusable strip at each edge of a street, m (doors and gates 0.15, open passages 0; "
        "a roads layer may set passage or boundary_m per road)",
    )
    density_speed: bool = Field(
        True,
        description="walkers slow down in crowds (speed relation) and cars in traffic (Greenshields); "
        "false: the point-queue model at free speeds",
    )
    speed_relation: Literal["weidmann", "sfpe"] = Field(
        "weidmann", description="walking speed from density: Weidmann (1993) or the SFPE Handbook's"
    )
    reroute_every: Duration = Field(
        300.0, ge=10, le=86400, description="the informed re-plan their routes on current travel times this often, s"
    )
    informed_share: Fraction = Field(
        1.0,
        description="share who follow re-planned routes (queues included); the rest keep their familiar route "
        "(the nearest shelter at free-flow times)",
    )
    storage: bool = Field(
        True,
        description="queues take room on the road (walkers at jam density, cars one per vehicle_spacing_m of "
        "lane) and a full road holds back the roads behind it; false: queues wait at the junction "
        "and take no room (point queues)",
    )
    vehicle_spacing_m: float = Field(
        7.5, ge=4, le=30, description="lane length one queued car takes, m (storage; Greenshields' jam density)"
    )
    lane_capacity_vph: float = Field(1800.0, gt=0, le=4000, description="vehicles per hour per lane")
    car_occupancy: float = Field(1.5, ge=1, le=8, description="persons per car")
    reference_walk_speed_mps: float = Field(1.34, gt=0, le=3, description="speed used to rank walking routes")
    max_passes_per_step: int = Field(
        64, ge=1, le=10_000, description="cap on hops processed per step (people beyond it move on next step)"
    )
