"""Scenario keys of the networks: sensors, assets, links, link types, services (docs/networks.md)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from sim.scenario.types import Duration, Fraction, Lat, Lon, Strict

SensorType = Literal["seismometer", "river_gauge", "sea_gauge"]
SENSOR_UNITS: dict[str, str] = {"seismometer": "g", "river_gauge": "m", "sea_gauge": "m"}


class SensorConfig(Strict):
    """A hazard sensor: gauges read the water level (m), seismometers peak ground acceleration (g)."""

    id: str = Field(min_length=1, max_length=100, description="sensor id, used by alerting.triggers")
    type: SensorType = Field(description="what it measures: river_gauge, sea_gauge or seismometer")
    location: tuple[Lon, Lat] = Field(description="[lon, lat] of the sensor")
    every: Duration = Field(60.0, ge=1, le=3600, description="sampling interval, s")


LinkType = Literal["lan", "fibre", "radio", "satellite", "cellular", "internet", "diode"]
AssetKind = Literal[
    "substation",
    "hub",
    "radio_node",
    "cell_tower",
    "siren",
    "sensor",
    "camera",
    "terminal",
    "server",
    "gateway",
    "internet",
    "satellite",
    "operator",
    "broadcaster",
]
Subnet = Literal["safety", "smart", "public", "power", "shared"]


class LinkTypeConfig(Strict):
    """Properties shared by every link of a type (each link may override them)."""

    latency_s: float = Field(ge=0, le=60, description="one-way delay, s")
    bandwidth_mbps: float = Field(gt=0, le=1e6, description="capacity, Mbit/s (messages queue beyond it)")
    availability: Fraction = Field(description="long-run share of time the link is up (outages come and go)")
    loss: Fraction = Field(0.0, description="probability that a message is lost on the link")


DEFAULT_LINK_TYPES: dict[str, LinkTypeConfig] = {
    "lan": LinkTypeConfig(latency_s=0.0005, bandwidth_mbps=1000, availability=1.0, loss=0.0),
    "fibre": LinkTypeConfig(latency_s=0.002, bandwidth_mbps=1000, availability=0.999, loss=0.0),
    "radio": LinkTypeConfig(latency_s=0.05, bandwidth_mbps=0.1, availability=0.99, loss=0.01),
    "satellite": LinkTypeConfig(latency_s=0.6, bandwidth_mbps=2, availability=0.98, loss=0.02),
    "cellular": LinkTypeConfig(latency_s=0.05, bandwidth_mbps=10, availability=0.995, loss=0.005),
    "internet": LinkTypeConfig(latency_s=0.03, bandwidth_mbps=1000, availability=0.995, loss=0.001),
    "diode": LinkTypeConfig(latency_s=0.001, bandwidth_mbps=100, availability=0.9999, loss=0.0),
}
"""Defaults per link type (docs/networks.md gives the reasoning)."""

DEFAULT_BATTERY_H: dict[str, float] = {
    "hub": 4.0,
    "radio_node": 8.0,
    "cell_tower": 2.0,
    "siren": 24.0,
    "sensor": 48.0,
    "camera": 0.0,
    "terminal": 2.0,
    "server": 0.5,
    "gateway": 0.5,
    "internet": 0.5,
    "satellite": 72.0,
    "operator": 8.0,
    "broadcaster": 24.0,
}
"""Battery (or generator) hours per asset kind when its substation is down; the CCC has 72 h."""


class LinkConfig(Strict):
    """A link between two assets; unset properties come from ``link_types``."""

    id: str | None = Field(None, description="link id (an existing id replaces that link)")
    a: str = Field(min_length=1, description="asset id at one end (the sender, for a diode)")
    b: str = Field(min_length=1, description="asset id at the other end")
    type: LinkType = Field(description="medium of the link (the type lists them; diode: one-way data diode)")
    latency_s: float | None = Field(None, ge=0, le=60, description="one-way delay, s")
    bandwidth_mbps: float | None = Field(None, gt=0, le=1e6, description="capacity, Mbit/s")
    availability: Fraction | None = Field(None, description="long-run share of time up")
    loss: Fraction | None = Field(None, description="probability that a message is lost on it")


class AssetConfig(Strict):
    """An extra (or replacing, by id) network asset."""

    id: str = Field(min_length=1, max_length=100, description="asset id (an existing id replaces that asset)")
    kind: AssetKind = Field(description="what the asset is (placement rules and defaults by kind)")
    location: tuple[Lon, Lat] = Field(description="[lon, lat] of the asset")
    subnet: Subnet | None = Field(None, description="default by kind and design")
    battery_h: float | None = Field(None, ge=0, le=1000, description="battery hours (default by kind)")


class ServiceConfig(Strict):
    """A city service as a dependency chain: platform, then each ``via`` asset, then endpoints."""

    name: str = Field(min_length=1, max_length=100, description="service name (a default one is replaced)")
    platform: str = Field(description="asset id where the service runs (CCC, COC ...)")
    via: list[str] = Field(default_factory=list, description="asset ids a message must pass in this order")
    endpoints: list[str] = Field(default_factory=list, description="asset kinds or ids it serves")
    direction: Literal["out", "in"] = Field("out", description="out: platform to endpoints; in: endpoints report")
    subnet: Subnet = Field("smart", description="which subnetwork the service belongs to")
    min_share: Fraction | None = Field(None, description="share of endpoints needed (default network.min_share)")


class NetworkConfig(Strict):
    """The safety and smart subnetworks, their devices, links and services (docs/networks.md)."""

    design: Literal["separate", "shared"] = Field(
        "separate", description="separate: an isolated safety subnetwork; shared: one network for everything"
    )
    redundancy: int = Field(2, ge=1, le=3, description="safety paths: 1 fibre; 2 + radio mesh; 3 + satellite")
    battery_h: dict[AssetKind, float] = Field(
        default_factory=dict, description="battery hours per asset kind (defaults in docs/networks.md)"
    )
    link_types: dict[LinkType, LinkTypeConfig] = Field(
        default_factory=dict, description="properties per link type, replacing the defaults"
    )
    repair_time: Duration = Field(1800.0, gt=0, description="mean duration of a random link outage, s")
    min_share: Fraction = Field(0.5, description="share of a service's endpoints that must be reachable")
    siren_audible_m: float = Field(1000.0, gt=0, le=10_000, description="a siren is heard this far, m")
    assets: list[AssetConfig] = Field(
        default_factory=list, description="extra network assets, or replacements by id (docs/networks.md)"
    )
    links: list[LinkConfig] = Field(
        default_factory=list, description="extra links between assets, or replacements by id"
    )
    services: list[ServiceConfig] = Field(
        default_factory=list, description="extra services, or replacements by name: dependency chains over assets"
    )
    sensors: list[SensorConfig] = Field(
        default_factory=list,
        description="hazard sensors: gauges read the water level, seismometers the peak ground acceleration",
    )
