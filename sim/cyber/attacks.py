"""Attacks on the running city, as SimPy processes, and the detection and response around them.

Each attack is built from its typed Config (``sim/scenario/cyber.py``) and acts through the
engine's cyber interface (``CyberWorld`` below) on the one clock; each draws from its own
stream ``cyber/<id>``. docs/cyber.md explains every parameter and what the seed report says.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from typing import Any, ClassVar, Protocol

import numpy as np
import pandas as pd
import simpy

from sim.core import fpmath
from sim.core.errors import InputError
from sim.cyber.queueing import mm1k_loss, mm1k_response
from sim.network.state import NetworkState
from sim.scenario.cyber import DataTheftConfig, DDoSConfig, DefensesConfig, SpoofingConfig, TakeoverConfig

# Per-attempt success multipliers of lateral movement (docs/cyber.md).
UNIQUE_CREDENTIALS = 0.1
PATCHED = 0.2
VALIDATED_IDENTITY = 0.5
STRONG_AUTHENTICATION = 0.05
TICK_S = 10.0


class CyberWorld(Protocol):
    """What an attack may see and do."""

    env: simpy.Environment
    network: NetworkState
    inventory: pd.DataFrame
    defenses: DefensesConfig
    cyber: CyberState
    cyber_attacks: list[Any]  # every attack of the run (botnets lend their bots to a DDoS)
    pseudonymised: bool  # whether registry records carry pseudonyms, not names

    def stream(self, name: str) -> np.random.Generator:
        """A named random stream."""

    def log_event(self, kind: str, subject: str, detail: str = "") -> None:
        """Record an event now."""

    def false_alarm(self, zone: Any, *, label: str, served_by: int | None = None) -> int:
        """Fake evacuation order reaching citizens (of a zone, or those a device serves)."""

    def registry_records(self) -> dict[str, int]:
        """What the shelter registry holds now, by sensitivity class."""

    def shelter_rows(self, target: str | None, *, field: str = "target") -> list[int]:
        """Shelter rows named by an id, ``all`` or None."""

    def sensor_ids(self) -> set[str]:
        """Ids of every sensor."""

    def inject_reading(self, sensor_id: str, value: float) -> None:
        """A fake reading in the name of a sensor, sent to the CCC."""


class CyberState:
    """Counters and per-device attack state shared by the attacks and the engine."""

    def __init__(self, n_assets: int):
        self.effect = np.full(n_assets, "", dtype=object)  # what a compromised device does
        self.lie_factor = np.ones(n_assets)
        self.owner = np.full(n_assets, "", dtype=object)  # which attack compromised it
        self.fake_readings: dict[str, float] = {}
        self._suppressed: set[str] = set()
        self._tamper: dict[int, float] = {}
        self._camera_tamper: dict[str, float] = {}
        self.false_readings = 0
        self.rejected = 0
        self.records_exposed: dict[str, int] = {}
        self.peak_compromised = 0
        self.detected: dict[str, float] = {}
        self.sensor_records = 0  # readings in the sensor data store
        self.false_alarm_reached = 0

    # What a compromised device does is kept here; the engine asks, it never reads the flags.
    def take(self, row: int, *, owner: str, effect: str, lie_factor: float = 1.0) -> None:
        """Record that ``owner`` controls device ``row`` and makes it do ``effect``."""
        self.owner[row] = owner
        self.effect[row] = effect
        self.lie_factor[row] = lie_factor

    def clear(self, rows: np.ndarray | list[int]) -> None:
        """Devices reimaged: they do nothing for an attacker any more."""
        idx = np.asarray(rows, dtype=np.int64)
        self.effect[idx] = ""
        self.owner[idx] = ""

    def lies(self, row: int) -> bool:
        """Whether a device (a sensor) reports ``lie_factor`` times what it measures."""
        return self.effect[row] == "lie"

    def silences(self, row: int) -> bool:
        """Whether a device (a siren) stays silent when told to sound."""
        return self.effect[row] == "silence"

    def botnet_mask(self) -> np.ndarray:
        """Devices recruited into a botnet (boolean per asset)."""
        return self.effect == "botnet"

    def owned_by(self, label: str) -> np.ndarray:
        """Devices an attack compromised (boolean per asset)."""
        return self.owner == label

    def suppress(self, sensor_id: str, *, on: bool) -> None:
        """Start (or stop) dropping a sensor's readings before they are sent."""
        if on:
            self._suppressed.add(sensor_id)
        else:
            self._suppressed.discard(sensor_id)

    def suppresses(self, sensor_id: str) -> bool:
        """Whether an attacker drops this sensor's readings now."""
        return sensor_id in self._suppressed

    def tamper_reports(self, rows: list[int], factor: float | None) -> None:
        """Multiply the head counts that shelters ``rows`` report by ``factor`` (None: stop)."""
        for r in rows:
            if factor is None:
                self._tamper.pop(r, None)
            else:
                self._tamper[r] = float(factor)

    def report_factor(self, row: int) -> float | None:
        """The factor an attacker applies to shelter ``row``'s reports now (None: untouched)."""
        return self._tamper.get(row)

    def tamper_camera(self, camera_id: str, factor: float | None) -> None:
        """Multiply the people a camera reports by ``factor`` (None: stop)."""
        if factor is None:
            self._camera_tamper.pop(camera_id, None)
        else:
            self._camera_tamper[camera_id] = float(factor)

    def count_factor(self, camera_id: str) -> float | None:
        """The factor an attacker applies to a camera's people count now (None: untouched)."""
        return self._camera_tamper.get(camera_id)

    def expose(self, cls: str, count: int) -> None:
        """Add exposed records of a sensitivity class."""
        if count > 0:
            self.records_exposed[cls] = self.records_exposed.get(cls, 0) + int(count)


class Attack:
    """Base of every attack: ``start`` registers its process; detection and response follow."""

    type_name: ClassVar[str] = ""

    def __init__(self, config: Any, *, index: int):
        self.config = config
        self.index = index
        self.label = config.id or f"{config.type}-{index}"
        self.active = False
        self.stopped = False

    def prepare(self, world: CyberWorld) -> None:
        """Check the config against the city (raise InputError)."""

    def start(self, world: CyberWorld) -> None:
        """Register the attack's process and its detection."""
        world.env.process(self._lifecycle(world))

    def _lifecycle(self, world: CyberWorld) -> Generator[simpy.Event, Any, None]:
        cfg = self.config
        yield world.env.timeout(max(0.0, cfg.at - world.env.now))  # at is absolute
        self.active = True
        world.log_event("attack_started", self.label, f"type={self.type_name}")
        self.onset(world)
        mon = world.defenses.monitoring
        if mon.enabled:
            world.env.process(self._detect(world))
        if cfg.until is not None:
            yield world.env.timeout(cfg.until - cfg.at)
            if not self.stopped:
                self.stop(world, reason="ended")

    def _detect(self, world: CyberWorld):
        mon = world.defenses.monitoring
        delay = fpmath.exponential_scalar(world.stream(f"cyber/{self.label}/detect"), mon.mean_time_to_detect)
        yield world.env.timeout(delay)
        if self.stopped:
            return
        world.cyber.detected[self.label] = float(world.env.now)
        world.log_event("attack_detected", self.label, f"type={self.type_name}; after={delay:.0f}s")
        for who in ("CCC operators", "COC operators", "city CERT", "national CSIRT"):
            world.log_event("stakeholder_alerted", who, f"attack={self.label}")
        yield world.env.timeout(mon.response_time)
        if not self.stopped:
            self.respond(world, mon.response)

    def onset(self, world: CyberWorld) -> None:
        """What happens at ``at``."""

    def respond(self, world: CyberWorld, response: str) -> None:
        """The defenders' response after detection (default: the attack is blocked)."""
        self.stop(world, reason=f"response={response}")

    def stop(self, world: CyberWorld, *, reason: str) -> None:
        """End the attack."""
        self.active = False
        self.stopped = True
        world.log_event("attack_stopped", self.label, reason)


ATTACKS: dict[str, Callable[..., Attack]] = {}


def register(cls: type[Attack]) -> type[Attack]:
    """Class decorator: make an attack available under its ``type_name``."""
    ATTACKS[cls.type_name] = cls
    return cls


def make_attack(config: Any, *, index: int) -> Attack:
    """Build the attack for a validated config."""
    return ATTACKS[config.type](config, index=index)


@register
class DDoS(Attack):
    """Requests flood a server: legitimate requests through it see the M/M/1/K state."""

    type_name = "ddos"
    config: DDoSConfig

    def prepare(self, world: CyberWorld) -> None:
        """The target must be an asset."""
        if self.config.target not in world.network.index:
            raise InputError.single(f"cyber.{self.index}.target", f"no asset has id {self.config.target!r}")
        self.row = world.network.index[self.config.target]

    def load(self, world: CyberWorld) -> float:
        """Attack requests per second reaching the server after the defenses."""
        prot = world.defenses.ddos_protection
        rate = self.config.rate_rps
        if self.config.botnet:
            bots = world.network.compromised & world.cyber.botnet_mask() & ~world.network.isolated
            rate += float(bots.sum()) * self._bot_rps(world)
        rate = max(0.0, rate - prot.scrubbing_rps)
        if prot.rate_limit_rps is not None:
            rate = min(rate, prot.rate_limit_rps)
        return rate

    def _bot_rps(self, world: CyberWorld) -> float:
        return max((a.config.bot_rps for a in world.cyber_attacks if a.type_name == "takeover"), default=0.0)

    def onset(self, world: CyberWorld) -> None:
        """Start the flood and keep its effect current while botnets grow."""
        world.env.process(self._flood(world))

    def _flood(self, world: CyberWorld):
        srv = world.defenses.servers
        last = None
        while self.active:
            attack = self.load(world)
            if attack <= 0 and last is None:  # nothing reaches the server: it is not touched
                yield world.env.timeout(TICK_S)
                continue
            lam = attack + srv.legitimate_rps
            loss = mm1k_loss(lam, srv.capacity_rps, srv.queue_limit)
            delay = mm1k_response(lam, srv.capacity_rps, srv.queue_limit)
            if last is None or abs(loss - last) > 1e-9:
                world.network.set_server_load(self.row, loss=loss, delay_s=delay)
                world.log_event(
                    "server_load", self.config.target, f"rps={lam:.0f}; loss={loss:.4f}; delay={delay:.3f}s"
                )
                last = loss
            yield world.env.timeout(TICK_S)

    def stop(self, world: CyberWorld, *, reason: str) -> None:
        """The server recovers."""
        super().stop(world, reason=reason)
        world.network.set_server_load(self.row, loss=0.0, delay_s=0.0)


@register
class Takeover(Attack):
    """Devices taken over, spreading along the links they can reach."""

    type_name = "takeover"
    config: TakeoverConfig

    def prepare(self, world: CyberWorld) -> None:
        """Entry points: asset ids, or kinds (every internet-exposed device of that kind)."""
        inv = world.inventory
        kinds = set(inv["kind"])
        ids = set(inv["id"])
        for j, e in enumerate(self.config.entry):
            if e not in ids and e not in kinds:
                raise InputError.single(f"cyber.{self.index}.entry.{j}", f"no networked device has id or kind {e!r}")
        self.rng = world.stream(f"cyber/{self.label}")
        self.row_of = {int(r): i for i, r in enumerate(inv["asset_row"])}

    def chance(self, world: CyberWorld, inv_row: int) -> float:
        """Success probability of one attempt against a device."""
        d = world.inventory.iloc[inv_row]
        p = self.config.success
        p *= UNIQUE_CREDENTIALS if d["credentials"] == "unique" else 1.0
        p *= PATCHED if d["patched"] else 1.0
        p *= VALIDATED_IDENTITY if d["identity"] else 1.0
        p *= STRONG_AUTHENTICATION if d["strong_auth"] else 1.0
        return p

    def onset(self, world: CyberWorld) -> None:
        """Attempt the entry points, then spread."""
        inv = world.inventory
        for e in self.config.entry:
            if e in set(inv["id"]):
                self._compromise(world, int(inv.loc[inv["id"] == e, "asset_row"].iloc[0]), via="entry")
                continue
            for i in np.nonzero((inv["kind"] == e).to_numpy() & inv["internet_exposed"].to_numpy())[0]:
                if self.rng.random() < self.chance(world, int(i)):
                    self._compromise(world, int(inv["asset_row"].iat[i]), via="internet")
        world.env.process(self._spread(world))

    def _allowed(self, world: CyberWorld, u: int, v: int) -> bool:
        d = world.defenses
        if not d.segmentation or d.segmentation_misconfigured:
            return True
        inv = world.inventory
        return inv["role"].iat[self.row_of[u]] == inv["role"].iat[self.row_of[v]]

    def _spread(self, world: CyberWorld):
        net = world.network
        while self.active:
            yield world.env.timeout(self.config.attempt_every)
            if not self.active:
                return
            usable = net.usable_links()
            mine = np.nonzero(net.compromised & world.cyber.owned_by(self.label) & ~net.isolated)[0]
            for u in mine:
                out = (net.a == u) & usable
                back = (net.b == u) & usable & ~net.directed
                for v in np.concatenate([net.b[out], net.a[back]]):
                    v = int(v)
                    if v not in self.row_of or net.compromised[v] or net.isolated[v]:
                        continue
                    if not self._allowed(world, int(u), v):
                        continue
                    if self.rng.random() < self.chance(world, self.row_of[v]):
                        self._compromise(world, v, via=str(net.asset_ids[u]))

    def _compromise(self, world: CyberWorld, row: int, *, via: str) -> None:
        net = world.network
        if net.compromised[row]:
            return
        world.cyber.take(row, owner=self.label, effect=self.config.effect, lie_factor=self.config.lie_factor)
        net.compromise(row)
        world.cyber.peak_compromised = max(world.cyber.peak_compromised, int(net.compromised.sum()))
        world.log_event("device_compromised", str(net.asset_ids[row]), f"via={via}; effect={self.config.effect}")
        if self.config.effect == "false_alert" and net.kind[row] == "siren":
            world.false_alarm(None, label=self.label, served_by=row)

    def respond(self, world: CyberWorld, response: str) -> None:
        """Isolate the compromised devices, or reimage them (down for ``reimage_time``)."""
        net = world.network
        mine = np.nonzero(net.compromised & world.cyber.owned_by(self.label))[0]
        net.isolate(mine)
        for r in mine:
            world.log_event("device_isolated", str(net.asset_ids[r]), f"attack={self.label}; response={response}")
        self.stop(world, reason=f"response={response}")
        if response == "reimage":
            world.env.process(self._reimage(world, mine))

    def _reimage(self, world: CyberWorld, rows: np.ndarray):
        yield world.env.timeout(world.defenses.monitoring.reimage_time)
        net = world.network
        net.reimage(rows)
        world.cyber.clear(rows)
        for r in rows:
            world.log_event("device_reimaged", str(net.asset_ids[r]), f"attack={self.label}")


@register
class DataTheft(Attack):
    """Records copied out of a data store at a rate, once the attacker reaches it."""

    type_name = "data_theft"
    config: DataTheftConfig

    def onset(self, world: CyberWorld) -> None:
        """Start exfiltrating (at once, or when a compromised device reaches the CCC)."""
        world.env.process(self._exfiltrate(world))

    def _reached(self, world: CyberWorld) -> bool:
        if self.config.access == "initial":
            return True
        net = world.network
        ccc = net.index["CCC"]
        return any(net.reachable(int(u))[ccc] for u in np.nonzero(net.compromised & ~net.isolated)[0])

    def _exfiltrate(self, world: CyberWorld):
        stolen = 0.0
        started = False
        encrypted = world.defenses.encrypt_storage
        while self.active:
            if self._reached(world):
                if not started:
                    world.log_event("data_store_reached", self.config.target, f"attack={self.label}")
                    started = True
                if self.config.target == "registry":
                    records = world.registry_records()
                    total = records.get("identity", 0)
                else:
                    records = {"sensor_data": world.cyber.sensor_records}
                    total = records["sensor_data"]
                new = min(total, stolen + self.config.rate_rps * TICK_S) - stolen
                if new > 0:
                    share = new / total if total else 0.0
                    for cls, count in records.items():
                        if count <= 0:
                            continue
                        taken = round(count * share)
                        if encrypted:  # one unreadable blob per record, whatever it holds
                            if cls in ("identity", "sensor_data"):
                                world.cyber.expose("ciphertext", taken)
                        elif cls == "identity" and world.pseudonymised:
                            world.cyber.expose("pseudonym", taken)
                        else:
                            world.cyber.expose(cls, taken)
                    stolen += new
            yield world.env.timeout(TICK_S)


@register
class Spoofing(Attack):
    """False data: fake readings or alarms, suppressed readings, tampered counts, interception."""

    type_name = "spoofing"
    config: SpoofingConfig

    def prepare(self, world: CyberWorld) -> None:
        """Targets must exist."""
        cfg = self.config
        if cfg.mode in ("fake_reading", "suppress_readings") and cfg.target not in world.sensor_ids():
            raise InputError.single(f"cyber.{self.index}.target", f"no sensor has id {cfg.target!r}")
        if cfg.mode == "tamper_counts" and not self._camera(world):
            world.shelter_rows(cfg.target, field=f"cyber.{self.index}.target")  # raises for an unknown shelter

    def _camera(self, world: CyberWorld) -> bool:
        """Whether the target of tampered counts is a camera (else shelters)."""
        row = world.network.index.get(self.config.target or "")
        return row is not None and world.network.kind[row] == "camera"

    def onset(self, world: CyberWorld) -> None:
        """Start the deception."""
        cfg = self.config
        c = world.cyber
        if cfg.mode == "fake_reading":
            world.env.process(self._fake(world))
        elif cfg.mode == "suppress_readings":
            assert cfg.target is not None  # the config requires it for this mode
            c.suppress(cfg.target, on=True)
        elif cfg.mode == "tamper_counts" and self._camera(world):
            assert cfg.target is not None
            c.tamper_camera(cfg.target, cfg.factor)
        elif cfg.mode == "tamper_counts":
            c.tamper_reports(world.shelter_rows(cfg.target), cfg.factor)
        elif cfg.mode == "intercept":
            if world.defenses.encrypt_transit:
                world.log_event("attack_blocked", self.label, "links are encrypted: nothing readable")
            else:
                world.network.intercept_types |= {"radio", "cellular", "satellite"}
        elif cfg.mode == "false_alarm":
            if world.defenses.strong_authentication:
                c.rejected += 1
                world.log_event("spoof_rejected", self.label, "the alerting platform requires strong authentication")
            else:
                world.false_alarm(cfg.zone, label=self.label)

    def _fake(self, world: CyberWorld):
        cfg = self.config
        assert cfg.target is not None
        assert cfg.value is not None
        while self.active:
            if world.defenses.device_identity:
                world.cyber.rejected += 1
                world.log_event("spoof_rejected", cfg.target, f"attack={self.label}; device identity not valid")
            else:
                world.inject_reading(cfg.target, float(cfg.value))
            yield world.env.timeout(cfg.every)

    def stop(self, world: CyberWorld, *, reason: str) -> None:
        """Undo the deception."""
        super().stop(world, reason=reason)
        cfg = self.config
        c = world.cyber
        if cfg.mode == "suppress_readings":
            assert cfg.target is not None
            c.suppress(cfg.target, on=False)
        elif cfg.mode == "tamper_counts" and self._camera(world):
            assert cfg.target is not None
            c.tamper_camera(cfg.target, None)
        elif cfg.mode == "tamper_counts":
            c.tamper_reports(world.shelter_rows(cfg.target), None)
        elif cfg.mode == "intercept":
            world.network.intercept_types.clear()


__all__ = ["ATTACKS", "Attack", "CyberState", "CyberWorld", "make_attack"]
