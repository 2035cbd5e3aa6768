"""Typed configs of the ``cyber:`` list (each selected by ``type:``) and of ``defenses``.

The seed report's three risk categories (denial of service on critical facilities; takeover of
connected devices with lateral movement; theft of personal or proprietary data), plus spoofing
and false data; its protective measures are the ``defenses``. docs/cyber.md maps each one.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from sim.scenario.types import Duration, Fraction, Strict, Zone


class _AttackBase(Strict):
    at: Duration = Field(0.0, description="onset, s from the start of the run")
    duration: Duration | None = Field(None, gt=0, description="how long it lasts, s (default: to the end)")
    id: str | None = Field(None, description="label used in events")

    @property
    def until(self) -> float | None:
        """End time, or None."""
        return None if self.duration is None else self.at + self.duration


class DDoSConfig(_AttackBase):
    """Flood a server with requests: legitimate requests through it are delayed or dropped."""

    type: Literal["ddos"] = Field(description="selects the attack")
    target: str = Field(min_length=1, description="asset id of the server (for example COC or CCC)")
    rate_rps: float = Field(ge=0, le=1e9, description="attack requests per second")
    botnet: bool = Field(False, description="compromised devices (takeover effect botnet) add their traffic")


class TakeoverConfig(_AttackBase):
    """Remote takeover of devices that then move laterally along the network's links."""

    type: Literal["takeover"] = Field(description="selects the attack")
    entry: list[str] = Field(min_length=1, description="asset ids or kinds the attacker starts from")
    effect: Literal["silence", "lie", "false_alert", "botnet"] = Field(
        "silence",
        description="what compromised devices do: sirens stay silent, sensors lie, sirens sound false "
        "alarms, or devices join a botnet",
    )
    success: Fraction = Field(
        0.3, description="chance per attempt against a device with default credentials, unpatched"
    )
    attempt_every: Duration = Field(60.0, ge=1, le=86400, description="time between attempts per device, s")
    lie_factor: float = Field(0.0, ge=0, le=100, description="compromised sensors report reading x this")
    bot_rps: float = Field(500.0, ge=0, le=1e6, description="requests per second each bot adds to a DDoS")


class DataTheftConfig(_AttackBase):
    """Exfiltration of records from a data store once the attacker reaches it."""

    type: Literal["data_theft"] = Field(description="selects the attack")
    target: Literal["registry", "sensor_store"] = Field("registry", description="the data store attacked")
    rate_rps: float = Field(20.0, gt=0, le=1e7, description="records copied per second")
    access: Literal["initial", "takeover"] = Field(
        "initial", description="initial: stolen credentials; takeover: only once a compromised device reaches the store"
    )


class SpoofingConfig(_AttackBase):
    """False data: fake readings, fake alarms, suppressed alarms, tampered counts, interception."""

    type: Literal["spoofing"] = Field(description="selects the attack")
    mode: Literal["fake_reading", "suppress_readings", "false_alarm", "tamper_counts", "intercept"] = Field(
        description="what the attacker fakes, hides, alters or reads"
    )
    target: str | None = Field(
        None, description="sensor id (readings); shelter id, 'all' or a camera id (tampered counts)"
    )
    value: float | None = Field(None, ge=-10_000, le=10_000, description="fake_reading: the value reported (m or g)")
    factor: float = Field(0.5, ge=0, le=100, description="tamper_counts: reported count x this")
    zone: Zone = Field("all", description="false_alarm: who receives the fake order")
    every: Duration = Field(60.0, ge=1, le=3600, description="fake_reading: how often, s")

    @model_validator(mode="after")
    def _needs(self) -> SpoofingConfig:
        if self.mode == "fake_reading" and (self.target is None or self.value is None):
            msg = "fake_reading needs target (a sensor id) and value"
            raise ValueError(msg)
        if self.mode == "suppress_readings" and self.target is None:
            msg = "suppress_readings needs target (a sensor id)"
            raise ValueError(msg)
        return self


AttackConfig = Annotated[
    DDoSConfig | TakeoverConfig | DataTheftConfig | SpoofingConfig,
    Field(discriminator="type"),
]


class MonitoringConfig(Strict):
    """Dedicated monitoring: intrusion detection and response."""

    enabled: bool = Field(False, description="an intrusion detection system watches the networks")
    mean_time_to_detect: Duration = Field(1800.0, gt=0, description="mean of the exponential time to detect, s")
    response: Literal["isolate", "reimage"] = Field("isolate", description="isolate compromised devices or reimage")
    response_time: Duration = Field(600.0, ge=0, description="from detection to the response, s")
    reimage_time: Duration = Field(1800.0, ge=0, description="a reimaged device is down this long, s")


class DDoSProtectionConfig(Strict):
    """Scrubbing, rate limits and failover against denial of service."""

    scrubbing_rps: float = Field(0.0, ge=0, le=1e9, description="attack traffic a scrubbing service removes, req/s")
    rate_limit_rps: float | None = Field(None, gt=0, le=1e9, description="cap on traffic reaching a server, req/s")
    failover_to_safety: bool = Field(False, description="app alerts go out through the safety network's operator link")


class ServerConfig(Strict):
    """Servers as queues (M/M/1/K): capacity and queue limit."""

    capacity_rps: float = Field(2000.0, gt=0, le=1e7, description="requests served per second")
    queue_limit: int = Field(200, ge=1, le=1_000_000, description="requests held before new ones are dropped")
    legitimate_rps: float = Field(50.0, ge=0, le=1e7, description="normal load, req/s")


class AssetDefenseConfig(Strict):
    """Per-asset override of the device inventory."""

    id: str = Field(min_length=1, description="asset id")
    patched: bool | None = Field(None, description="has current updates")
    credentials: Literal["default", "unique"] | None = Field(None, description="default or unique credentials")
    identity: bool | None = Field(None, description="validated device identity")


class DefensesConfig(Strict):
    """The seed report's protective measures (docs/cyber.md)."""

    segmentation: bool = Field(True, description="safety and smart devices are separated by firewalls")
    segmentation_misconfigured: bool = Field(False, description="a rule lets traffic through anyway")
    device_identity: bool = Field(False, description="every device has a validated identity (fake devices rejected)")
    credentials: Literal["default", "unique"] = Field("default", description="unique: changed on first use")
    strong_authentication: bool = Field(False, description="operators and servers need strong (multi-factor) login")
    patched_share: Fraction = Field(0.5, description="share of devices with current updates (secure channel)")
    encrypt_transit: bool = Field(False, description="links (wireless included) are encrypted and authenticated")
    encrypt_storage: bool = Field(True, description="data stores are encrypted at rest")
    monitoring: MonitoringConfig = Field(MonitoringConfig(), description="intrusion detection and response")
    ddos_protection: DDoSProtectionConfig = Field(DDoSProtectionConfig(), description="against denial of service")
    servers: ServerConfig = Field(ServerConfig(), description="servers as queues (M/M/1/K)")
    assets: list[AssetDefenseConfig] = Field(default_factory=list, description="per-asset overrides")


__all__ = [
    "AttackConfig",
    "DDoSConfig",
    "DataTheftConfig",
    "DefensesConfig",
    "SpoofingConfig",
    "TakeoverConfig",
]
