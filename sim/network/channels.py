"""Alert channels as plug-ins: who can receive a channel, and how an order travels through it.

Each channel is a class registered by its ``type`` (the scenario's ``alerting.channels[].type``),
shaped like hazards and attacks: ``receivers`` says who can get it at all (phone owners,
smartphone owners, everyone), ``deliver`` sends the order through the devices and network paths
that carry it, and calls ``reach(group, when)`` for the people it reaches. Adding a channel is
a class here (or anywhere, with :func:`register`) and its type in the scenario's config.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar, Protocol

import numpy as np

from sim.scenario.schema import DEFAULT_CHANNEL_DELAY_S

Reach = Callable[[np.ndarray, "float | np.ndarray"], None]


class ChannelWorld(Protocol):
    """What a channel uses of the running simulation."""

    pop: Any
    network: Any
    defenses: Any
    served: dict[str, np.ndarray]  # home node -> nearest siren (n, 1) and two nearest towers (n, 2)

    def stream(self, name: str) -> np.random.Generator:
        """A named random stream."""
        ...

    def log_event(self, kind: str, subject: str, detail: str = "") -> None:
        """Record an event."""
        ...

    def siren_sounds(self, row: int, group: np.ndarray, when: float, reach: Reach) -> None:
        """A siren got the order: it sounds, unless silenced."""
        ...


class AlertChannel:
    """Base of every channel: everyone can receive it, and it reaches them at once."""

    type_name: ClassVar[str] = ""
    default_delay_s: ClassVar[float] = 0.0  # from the message reaching the device to the person

    def receivers(self, world: ChannelWorld) -> np.ndarray:
        """Who can receive this channel at all (a boolean mask over citizens)."""
        return np.ones(world.pop.n, dtype=bool)

    def deliver(self, world: ChannelWorld, *, index: int, config: Any, who: np.ndarray, t: float, reach: Reach) -> None:
        """Carry an order issued at ``t`` to ``who`` (those it would reach if it worked)."""
        reach(who, t + config.delay_s)


CHANNELS: dict[str, type[AlertChannel]] = {}


def served_by(towers: np.ndarray, who: np.ndarray) -> list[tuple[int, np.ndarray]]:
    """Per tower (ascending), the people of ``who`` it serves, in their order in ``who``.

    ``towers`` holds, per person of ``who``, the rows of the towers serving them (a column per
    tower, -1: none). One sort instead of a pass over everyone per tower.
    """
    n, k = towers.shape if towers.ndim == 2 else (len(towers), 1)
    rows = towers.reshape(n, k)
    person = np.repeat(np.arange(n), k)
    flat = rows.ravel()
    # A tower named twice for one person serves them once.
    again = np.zeros((n, k), dtype=bool)
    for j in range(1, k):
        again[:, j] = (rows[:, :j] == rows[:, j : j + 1]).any(axis=1)
    keep = (flat >= 0) & ~again.ravel()
    flat, person = flat[keep], person[keep]
    order = np.lexsort((person, flat))
    flat, person = flat[order], person[order]
    if len(flat) == 0:
        return []
    starts = np.flatnonzero(np.r_[True, flat[1:] != flat[:-1]])
    return [(int(flat[a]), who[person[a:b]]) for a, b in zip(starts, [*starts[1:], len(flat)], strict=True)]


def register(cls: type[AlertChannel]) -> type[AlertChannel]:
    """Register a channel class under its ``type_name``; the scenario then accepts that type."""
    CHANNELS[cls.type_name] = cls
    DEFAULT_CHANNEL_DELAY_S.setdefault(cls.type_name, cls.default_delay_s)
    return cls


def make_channel(type_name: str) -> AlertChannel:
    """The channel of a type.

    Raises:
        KeyError: no channel has that type.
    """
    return CHANNELS[type_name]()


@register
class Ideal(AlertChannel):
    """Works whatever the state of the network: reaches its share at the moment of the order."""

    type_name = "ideal"


@register
class Siren(AlertChannel):
    """The command centre sounds the sirens over the safety network; people within earshot hear it."""

    type_name = "siren"

    def deliver(self, world: ChannelWorld, *, index: int, config: Any, who: np.ndarray, t: float, reach: Reach) -> None:
        """One alert message per siren; each sounds when its message arrives (unless silenced)."""
        net = world.network
        delay = config.delay_s
        siren_of = world.served["siren"][world.pop.home_node[who], 0]
        for row in np.unique(siren_of[siren_of >= 0]):
            group = who[siren_of == row]
            net.send(
                "CCC",
                net.assets["id"].iat[row],
                kind="alert",
                on_delivered=lambda td, g=group, r=row: world.siren_sounds(r, g, td + delay, reach),
            )


@register
class CellBroadcast(AlertChannel):
    """Through the mobile operator to the cell towers; phones attached to a working tower get it."""

    type_name = "cell_broadcast"

    def receivers(self, world: ChannelWorld) -> np.ndarray:
        """Phone owners."""
        return world.pop.has_phone

    def deliver(self, world: ChannelWorld, *, index: int, config: Any, who: np.ndarray, t: float, reach: Reach) -> None:
        """CCC to the operator, then one message per tower serving the phones."""
        net = world.network
        delay = config.delay_s
        towers = world.served["cell_tower"][world.pop.home_node[who]]

        def to_towers(_t: float) -> None:
            for row, group in served_by(towers, who):
                net.send(
                    "operator",
                    net.assets["id"].iat[row],
                    kind="alert",
                    on_delivered=lambda td, g=group: reach(g, td + delay),
                )

        net.send("CCC", "operator", kind="alert", on_delivered=to_towers)


@register
class Sms(CellBroadcast):
    """Text messages: the same path as cell broadcast."""

    type_name = "sms"


@register
class AppPush(AlertChannel):
    """The city app: through the city operation centre and the internet, then mobile data."""

    type_name = "app_push"

    def receivers(self, world: ChannelWorld) -> np.ndarray:
        """Smartphone owners."""
        return world.pop.has_smartphone

    def deliver(self, world: ChannelWorld, *, index: int, config: Any, who: np.ndarray, t: float, reach: Reach) -> None:
        """CCC to the COC, then the internet; phones need one of their two towers working.

        Every phone's push is a request of its own: a server under a partial denial of service
        serves its share of them (``1 - loss`` at each overloaded server on the way), drawn per
        recipient from the channel's own stream, not all or nothing.
        """
        net = world.network
        delay = config.delay_s
        pop = world.pop
        rng = world.stream(f"alerting/channel/{index}/served")

        def pushed(td: float, share: float) -> None:  # mobile data through any of their two towers
            towers = world.served["cell_tower"][pop.home_node[who]]
            up = net.operational()
            ok = ((towers >= 0) & up[np.maximum(towers, 0)]).any(axis=1)
            served = rng.random(len(who)) < share
            reach(who[ok & served], td + delay)

        coc = net.index["COC"]
        if not net.serving()[coc] and world.defenses.ddos_protection.failover_to_safety:
            # Failover: the push goes through the safety network's link to the operator.
            world.log_event("failover", "app_push", "COC overloaded: pushing through the operator")
            net.send("CCC", "operator", kind="alert", on_delivered=pushed, split=True)
        else:
            net.send(
                "CCC",
                "COC",
                kind="alert",
                split=True,
                on_delivered=lambda _t, s1: net.send(
                    "COC", "internet", kind="alert", split=True, on_delivered=lambda t2, s2: pushed(t2, s1 * s2)
                ),
            )


@register
class Radio(AlertChannel):
    """Broadcast: the order reaches the broadcaster, which reaches everyone listening."""

    type_name = "radio"

    def deliver(self, world: ChannelWorld, *, index: int, config: Any, who: np.ndarray, t: float, reach: Reach) -> None:
        """One message to the broadcaster."""
        delay = config.delay_s
        world.network.send("CCC", "broadcaster", kind="alert", on_delivered=lambda td: reach(who, td + delay))


@register
class Tv(Radio):
    """Television: the same path as radio."""

    type_name = "tv"


@register
class DoorToDoor(AlertChannel):
    """Staff knock on doors: households in a random order, ``staff`` at a time, at a fixed rate."""

    type_name = "door_to_door"

    def deliver(self, world: ChannelWorld, *, index: int, config: Any, who: np.ndarray, t: float, reach: Reach) -> None:
        """Each household is reached after its turn: rank // staff + 1 visits at the hourly rate."""
        households, inverse = np.unique(world.pop.household[who], return_inverse=True)
        order = world.stream(f"alerting/door_to_door/{index}").permutation(len(households))
        rank = np.empty(len(households), dtype=np.int64)
        rank[order] = np.arange(len(households))
        if config.staff == 0:
            return
        visit_h = (rank // config.staff + 1) / config.households_per_staff_h
        reach(who, t + config.delay_s + visit_h[inverse] * 3600.0)
