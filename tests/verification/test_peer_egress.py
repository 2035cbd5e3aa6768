"""Side by side with a peer: jupedsim-network's SFPE network egress model (issue 18).

Five equivalent cases (door, wide door, two exits, merge, long corridor) run in both models with
the same SFPE relations: 1.3 persons/(m·s) through a door's effective width (0.15 m boundary
layer per side, none at an opening), speed ``1.40 (1 - 0.266 D)`` m/s, everyone at 1.2 m/s and
leaving at once. A room where people walk ``d`` m to its door becomes a road of length ``d`` and
the room's area; a door a 0.5 m road of the door's width; a corridor a road of its length and
width; the place of safety a shelter. docs/verification.md gives every figure side by side and
explains each difference above 10 %; the tests hold both models to those figures.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest

jn = pytest.importorskip("jupedsim_network")  # requirements-dev.txt: always there under ./run.sh test

from sim.engine.model import EvacuationModel  # noqa: E402
from tests.conftest import everyone_now, scenario_from  # noqa: E402

SPEED = 1.2


@dataclass
class Room:
    """A space people start in (or pass through), walked ``length`` m to its exit."""

    name: str
    area: float
    length: float
    people: int = 0


@dataclass
class Exit:
    """A door (or an opening) from one space into the next, or into safety (``to=None``)."""

    source: str
    to: str | None
    width: float
    kind: str = "door"


CASES: dict[str, tuple[list[Room], list[Exit]]] = {
    "door": ([Room("room", 100.0, 10.0, 100)], [Exit("room", None, 0.9)]),
    "wide door": ([Room("room", 100.0, 10.0, 100)], [Exit("room", None, 2.0)]),
    "two exits": (
        [Room("room", 200.0, 10.0, 200)],
        [Exit("room", None, 0.9), Exit("room", None, 0.9)],
    ),
    "merge": (
        [Room("a", 100.0, 10.0, 100), Room("b", 100.0, 10.0, 100), Room("corridor", 40.0, 20.0)],
        [Exit("a", "corridor", 0.9), Exit("b", "corridor", 0.9), Exit("corridor", None, 1.2)],
    ),
    "long corridor": (
        [Room("room", 100.0, 10.0, 200), Room("corridor", 200.0, 100.0)],
        [Exit("room", "corridor", 2.0, "opening"), Exit("corridor", None, 2.0, "opening")],
    ),
}


def peer_exit_times(name: str) -> np.ndarray:
    """Every agent's time to safety in jupedsim-network (SFPE defaults, dt 0.5 s)."""
    rooms, exits = CASES[name]
    net = jn.Network()
    for room in rooms:
        net.add_room(room.name, area=room.area)
    lengths = {r.name: r.length for r in rooms}
    for i, ex in enumerate(exits):
        target = ex.to
        if target is None:
            target = f"safe{i}"
            net.add_safe(target)
        net.connect(ex.source, target, width=ex.width, kind=ex.kind, length=lengths[ex.source])
    pops = [jn.Population(node=r.name, count=r.people, speed=SPEED) for r in rooms if r.people]
    result = jn.NetworkSimulation(net, pops, t_max=7200.0).run(seed=1)
    return np.asarray(result.exit_times)


DOOR_M = 1.5  # a door is a road this long (line ends closer than 1 m are one node)


def _layout(name: str) -> tuple[list, list, list]:
    """Our roads (from, to, width, passage), people (at, count) and places of safety for a case."""
    d = DOOR_M
    if name in ("door", "wide door"):
        width = CASES[name][1][0].width
        roads = [((0, 0), (0, 10), 10.0, "passage"), ((0, 10), (0, 10 + d), width, "door")]
        return roads, [((0, 0), 100)], [(0, 10 + d)]
    if name == "two exits":
        roads = [((0, 0), (0, 10), 20.0, "passage"), ((0, 10), (-d, 10), 0.9, "door"), ((0, 10), (d, 10), 0.9, "door")]
        return roads, [((0, 0), 200)], [(-d, 10), (d, 10)]
    if name == "merge":
        roads = [
            ((-10 - d, 0), (-d, 0), 10.0, "passage"),  # room a
            ((10 + d, 0), (d, 0), 10.0, "passage"),  # room b
            ((-d, 0), (0, 0), 0.9, "door"),
            ((d, 0), (0, 0), 0.9, "door"),
            ((0, 0), (0, 20), 2.0, "passage"),  # the corridor
            ((0, 20), (0, 20 + d), 1.2, "door"),
        ]
        return roads, [((-10 - d, 0), 100), ((10 + d, 0), 100)], [(0, 20 + d)]
    if name == "long corridor":
        roads = [((0, 0), (0, 10), 10.0, "passage"), ((0, 10), (0, 110), 2.0, "passage")]  # a 2 m opening between
        return roads, [((0, 0), 200)], [(0, 110)]
    raise KeyError(name)


def our_exit_times(layer_city, name: str) -> np.ndarray:
    """The same case in SafeCity Twin: rooms and corridors as roads, doors as short roads."""
    roads, people, safe = _layout(name)
    city = layer_city()
    for a, b, width, passage in roads:
        city = city.road(a, b, width_m=width, passage=passage)
    total = sum(n for _at, n in people)
    for at, n in people:
        city = city.people_at(at, n)
    for i, at in enumerate(safe):
        city = city.shelter(f"safe{i}", at, total)
    scn = scenario_from(
        city.write(),
        population={"count": total, "walk_speed_mps": {"mean": SPEED, "sd": 0.0}},
        duration="2h",
        movement={"speed_relation": "sfpe", "specific_flow_pmps": 1.3},
        **everyone_now(),
    )
    model = EvacuationModel(scn)
    model.run()
    return model.pop.arrival_t


def _figures(times: np.ndarray) -> tuple[float, float]:
    """(T100, mean time to safety)."""
    assert np.isfinite(times).all()
    return float(times.max()), float(times.mean())


def _hand_t100(name: str) -> float | None:
    """The door cases' closed form: walk to the door, then N - 1 headways of its capacity.

    The free walking speed is SFPE's at low density, ``min(1.2, 1.40 x 0.85)`` = 1.19 m/s (the
    peer floors the density at 0.54 instead: 1.199 m/s). Our door is a 1.5 m road.
    """
    v = min(SPEED, 0.85 * 1.40)
    if name in ("door", "wide door", "two exits"):
        width = CASES[name][1][0].width
        n = CASES[name][0][0].people // len(CASES[name][1])  # split evenly over equal exits
        return (10.0 + DOOR_M) / v + (n - 1) / (1.3 * (width - 0.3))
    if name == "merge":
        # The corridor's 1.2 m exit (1.17 p/s) is tighter than the two room doors together (1.56 p/s).
        return (10.0 + 2 * DOOR_M + 20.0) / v + (200 - 1) / (1.3 * (1.2 - 0.3))
    return None


@pytest.mark.parametrize("name", list(CASES))
def test_side_by_side_with_the_peer(layer_city, name):
    """Clearance (T100) and mean time to safety agree within 10 % (docs/verification.md has the figures)."""
    ours = _figures(our_exit_times(layer_city, name))
    peer = _figures(peer_exit_times(name))
    print(f"{name}: ours T100 {ours[0]:.1f} mean {ours[1]:.1f}; peer T100 {peer[0]:.1f} mean {peer[1]:.1f}")
    assert ours[0] == pytest.approx(peer[0], rel=0.10)
    assert ours[1] == pytest.approx(peer[1], rel=0.10)
    hand = _hand_t100(name)
    if hand is not None:  # and ours matches the hand calculation where one exists
        assert ours[0] == pytest.approx(hand, rel=0.015)  # the crowd walks into the room in 8 s, not at once
