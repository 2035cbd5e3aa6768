"""Typed configs of the ``hazards:`` list, each selected by its ``type:``.

A new hazard plugs in by adding its Config here (with a ``type`` literal and an onset ``at``)
and adding it to ``HazardConfig``; its behaviour lives in ``sim/hazards/<type>.py``.
"""

from __future__ import annotations

import itertools
from typing import Annotated, Literal

from pydantic import Field, model_validator

from sim.scenario.types import Area, Duration, Fraction, Lat, Lon, Strict


class _HazardBase(Strict):
    at: Duration = Field(0.0, description="onset, s from the start of the run")
    until: Duration | None = Field(None, description="end, s from the start (default: never)")
    id: str | None = Field(None, description="label used in events")

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

    type: Literal["road_closure"] = Field(description="selects the hazard")
    ids: list[str | int] = Field(
        default_factory=list, description="road ids (OpenStreetMap way ids or the roads layer's id property)"
    )
    names: list[str] = Field(default_factory=list, description="street names")
    area: Area | None = Field(None, description="an area: {bbox}, {polygon} or {center, radius_m}")

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

    type: Literal["shelter_closure"] = Field(description="selects the hazard")
    shelters: list[str] = Field(min_length=1, description="ids of the shelters that close")


class EarthquakeFragility(Strict):
    """A lognormal fragility curve: P(damage | intensity) = Phi(ln(intensity / median) / beta)."""

    median_g: float = Field(gt=0, le=10, description="peak ground acceleration at 50 % damage probability, g")
    beta: float = Field(gt=0, le=3, description="lognormal standard deviation")


EarthquakeAssetClass = Literal[
    "building", "shelter", "bridge", "substation", "cell_tower", "radio_node", "siren", "server", "sensor"
]


class EarthquakeConfig(_HazardBase):
    """An earthquake at ``at``: ground shaking from a point source, damage drawn per asset.

    Peak ground acceleration follows Joyner and Boore (1981) (its own fitted 7.3 km), measured
    from a finite rupture from M 6.5 (Wells & Coppersmith 1994), with an optional NEHRP site class
    and the relation's scatter; each asset fails with a lognormal fragility (HAZUS defaults per
    asset class, overridable in ``fragility``), and occupants of completely damaged buildings
    follow Hazus's indoor casualty rates. See docs/hazards.md.
    """

    type: Literal["earthquake"] = Field(description="selects the hazard")
    epicentre: tuple[Lon, Lat] = Field(description="[lon, lat] of the epicentre")
    magnitude: float = Field(ge=4.0, le=9.5, description="moment magnitude (4.0 to 9.5)")
    depth_km: float = Field(
        10.0,
        gt=0,
        le=700,
        description="focal depth, km: reported with the event; Joyner-Boore's distance uses its own fitted "
        "7.3 km, so the depth does not change the motion",
    )
    strike_deg: float | None = Field(
        None,
        ge=0,
        lt=360,
        description="strike of the rupture, degrees clockwise from north (from M 6.5; default drawn from the "
        "hazard's random stream)",
    )
    site_class: Literal["B", "C", "D", "E"] | None = Field(
        None, description="NEHRP site class of the city's ground (B rock ... E soft clay); default: none (B)"
    )
    sigma: float = Field(
        0.26,
        ge=0,
        le=1,
        description="scatter of the ground motion, log10 units (Joyner-Boore's 0.26; 0: the median field)",
    )
    building_type: Literal["W1", "S1L", "S3", "C1L", "C2L", "PC1", "RM1L", "URML", "MH"] = Field(
        "C2L",
        description="Hazus model building type of the homes: its collapse share and casualty rates (set "
        "fragility.building to the same type's curve)",
    )
    site_amplification: float = Field(1.0, gt=0, le=5, description="an extra factor on PGA for local soil")
    fragility: dict[EarthquakeAssetClass, EarthquakeFragility] = Field(
        default_factory=dict,
        description="per asset class (building, shelter, bridge, substation, cell_tower, radio_node, siren, "
        "server, sensor): {median_g, beta}, replacing the HAZUS default",
    )
    casualty_share: Fraction | None = Field(
        None,
        description="share of the people at home in a collapsed building killed (default: Hazus's severity 4 "
        "rate of the building type, 0.10 for C2L)",
    )
    trapped_share: Fraction = Field(0.3, description="share of the survivors of a collapse who are trapped")
    trapped_for: Duration = Field(7200.0, ge=0, description="time until trapped people are freed, s")
    debris_m: float = Field(10.0, ge=0, le=200, description="roads this close to a collapsed building close, m")


class WaterRules(Strict):
    """Depth thresholds shared by floods and tsunamis (see docs/hazards.md for the sources)."""

    walk_closed_depth_m: float = Field(0.3, gt=0, le=10, description="roads deeper than this close to walkers, m")
    drive_closed_depth_m: float = Field(0.15, gt=0, le=10, description="roads deeper than this close to cars, m")
    casualty_depth_m: float = Field(
        1.2,
        gt=0,
        le=20,
        description="an adult in deeper water loses their footing and becomes a casualty, m (Cox et al. 2010)",
    )
    casualty_depth_vulnerable_m: float = Field(
        0.5,
        gt=0,
        le=20,
        description="the same for children and people with limited mobility, m (Cox et al. 2010's children)",
    )
    casualty_dv_m2s: float = Field(
        0.6, gt=0, le=20, description="an adult in water of depth x velocity above this becomes a casualty, m²/s"
    )
    casualty_dv_vulnerable_m2s: float = Field(
        0.4, gt=0, le=20, description="the same for children and people with limited mobility, m²/s"
    )
    connected: bool = Field(
        True,
        description="water reaches only ground connected to its source (a basin behind a dyke stays dry); "
        "false: every cell below the level floods",
    )
    source: list[tuple[Lon, Lat]] | None = Field(
        None,
        max_length=100,
        description="[lon, lat] points where the water comes from (river, sea); default: the terrain's water, "
        "else its lowest cells",
    )
    asset_failed_depth_m: float = Field(0.3, gt=0, le=20, description="flooded deeper than this, an asset fails, m")
    update_every: Duration = Field(60.0, ge=1, le=3600, description="how often the water is re-evaluated, s")


class FloodStage(Strict):
    """A point of the hydrograph: the water surface elevation at a time."""

    at: Duration = Field(description="time of this stage, s from the start of the run")
    level_m: float = Field(ge=-100, le=1000, description="water surface elevation (terrain datum), m")


class FloodConfig(_HazardBase, WaterRules):
    """A river flood or storm surge: the water level follows ``stages`` (linear between them).

    Depth is the level minus the terrain height (``city.terrain``) on ground connected to the
    water's source: a connected bathtub model, no flow dynamics. Roads, assets and people are
    judged against ``WaterRules``.
    """

    type: Literal["flood"] = Field(description="selects the hazard")
    stages: list[FloodStage] = Field(min_length=1, description="hydrograph: water level at times, linear between")
    area: Area | None = Field(None, description="limit the water to this area (default: everywhere)")
    velocity_mps: float | None = Field(
        None, ge=0, le=20, description="flow velocity of the water, m/s (default: unknown; people judged on depth)"
    )

    @model_validator(mode="after")
    def _stages_in_order(self) -> FloodConfig:
        times = [s.at for s in self.stages]
        if any(b <= a for a, b in itertools.pairwise(times)):
            msg = "stages must be in strictly increasing order of at"
            raise ValueError(msg)
        return self


class TsunamiConfig(_HazardBase, WaterRules):
    """A tsunami arriving at ``at``: water rises to ``run_up_m`` over ``rise_time``.

    Inundation either inside ``zone`` (a polygon, depth = level) or, without a zone, wherever
    the terrain lies below the level (depth = level - height). It recedes at ``until``.
    """

    type: Literal["tsunami"] = Field(description="selects the hazard")
    run_up_m: float = Field(gt=0, le=100, description="highest water level (run-up height), m")
    rise_time: Duration = Field(600.0, ge=0, le=7200, description="time from arrival to the highest level, s")
    zone: Area | None = Field(None, description="inundation zone (default: from terrain and run-up)")
    froude: float = Field(
        1.0,
        ge=0,
        le=3,
        description="Froude number of the inundation flow: velocity = froude x sqrt(g x depth) (0: depth only)",
    )


class PowerOutageConfig(_HazardBase):
    """The grid fails at ``at`` (storm, overload, sabotage); supply returns at ``until``.

    The listed substations (default: all) lose supply; assets they feed run on battery, then go
    dark.
    """

    type: Literal["power_outage"] = Field(description="selects the hazard")
    substations: list[str] = Field(default_factory=list, description="substation ids (default: every one)")


class LinkCutConfig(_HazardBase):
    """Network links cut at ``at`` (an excavator through the fibre, a mast down).

    Chosen by ``ids`` or by link ``types`` (for example ``[fibre]``), optionally only inside
    ``area``; repaired at ``until``.
    """

    type: Literal["link_cut"] = Field(description="selects the hazard")
    ids: list[str] = Field(default_factory=list, description="link ids (see links.parquet)")
    types: list[Literal["lan", "fibre", "radio", "satellite", "cellular", "internet", "diode"]] = Field(
        default_factory=list, description="cut every link of these types"
    )

    @model_validator(mode="after")
    def _some_selector(self) -> LinkCutConfig:
        if not (self.ids or self.types):
            msg = "name the links to cut with ids or types"
            raise ValueError(msg)
        return self


HazardConfig = Annotated[
    RoadClosureConfig
    | ShelterClosureConfig
    | EarthquakeConfig
    | FloodConfig
    | TsunamiConfig
    | PowerOutageConfig
    | LinkCutConfig,
    Field(discriminator="type"),
]
