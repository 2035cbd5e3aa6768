"""Storage and spill-back (issue 18, docs/verification.md): queues take room on the road.

A crowd queueing for a narrow door (0.5 persons/s) fills the roads behind it at jam density
(Weidmann's 5.4 persons/m²), road by road back through the junctions to the homes. The known
answers: each full road holds jam density x its effective area; while the queue reaches the
homes, everyone not yet sheltered and not on those roads is still at home; a stream of cars
that needs a street the crowd has filled is held back until the crowd has moved up by the room
a car takes; where storage never binds, nothing changes.
"""

from __future__ import annotations

import numpy as np
import pytest

from sim.agents.citizens import CAR, EVACUATING, WALK
from sim.engine.model import EvacuationModel
from sim.engine.routing import ArcNetwork
from sim.engine.storage import Storage
from tests.conftest import everyone_now, scenario_from

DOOR_S = 2.0  # the door's headway: 1,800 persons/h
JAM = 5.4  # Weidmann's jam density, persons/m²


def _chain(layer_city, n: int, **movement) -> EvacuationModel:
    """Homes, two 50 m passages 4 m wide (200 m² each), a door, a shelter."""
    city = (
        layer_city()
        .road((0, 0), (0, 50), width_m=4.0, passage="passage", highway="footway")
        .road((0, 50), (0, 100), width_m=4.0, passage="passage", highway="footway")
        .road((0, 100), (0, 102), width_m=1.0, passage="door", capacity_pph=3600 / DOOR_S, highway="footway")
        .people_at((0, 0), n)
        .shelter("S", (0, 102), n)
        .write()
    )
    scn = scenario_from(
        city,
        population={"count": n, "walk_speed_mps": {"mean": 1.3, "sd": 0.0}},
        duration="4h",
        movement=movement,
        **everyone_now(),
    )
    return EvacuationModel(scn)


def _watch(model: EvacuationModel, until: float, every: float = 60.0) -> list[tuple[float, int, int, np.ndarray]]:
    """Every ``every`` s: (time, at home, sheltered, people on each road by the room they take)."""
    p = model.pop
    rows = []
    t = 0.0
    while t < until:
        t += every
        model.advance_to(t)
        st = model.mover.storage
        on_road = st.came_by >= 0 if st is not None else np.zeros(p.n, dtype=bool)
        at_home = int(((p.state == EVACUATING) & (p.arc < 0) & (p.node == p.home_node) & ~on_road).sum())
        per_road = np.bincount(st.came_by[on_road], minlength=3)[:3] if st is not None else np.zeros(3, dtype=int)
        rows.append((t, at_home, int(np.isfinite(p.arrival_t).sum()), per_road))
    return rows


def test_a_queue_backs_up_road_by_road_to_the_homes(layer_city):
    n = 5000
    model = _chain(layer_city, n)
    rows = _watch(model, 3 * 3600)
    held = int(JAM * 200.0)  # 1,080 on each full passage
    backed_up = [r for r in rows if r[1] > 0 and r[0] > 600]
    assert len(backed_up) > 50  # the queue reaches the homes for most of an hour and a half
    for _t, at_home, sheltered, per_road in backed_up:
        assert per_road[0] == pytest.approx(held, abs=1)
        assert per_road[1] == pytest.approx(held, abs=1)
        assert per_road[2] <= 1  # one person at a time in the doorway
        # Everyone else waits at home: the queue is no longer "vertical" at the door.
        assert at_home + sheltered + per_road.sum() == n
    # The last one leaves home when the door has let through everyone but the two full roads
    # and the doorway: (n - 2 x 1,080 - 1) door headways after the first went through.
    first = float(np.nanmin(model.pop.arrival_t))
    last_leaves = next(t for t, at_home, _s, _r in rows if at_home == 0)
    expected = first + (n - 2 * held - 1) * DOOR_S
    assert last_leaves == pytest.approx(expected, abs=60.0 + DOOR_S)  # sampled every 60 s


def test_without_storage_the_queue_waits_at_the_door_and_arrivals_are_the_same(layer_city):
    """The point queue empties the homes at the passages' capacity; the door sets every arrival alike."""
    n = 5000
    spatial = _chain(layer_city, n)
    spatial.run()
    point = _chain(layer_city, n, storage=False)
    rows = _watch(point, 1800)
    capacity_pps = 1.225 * 4.0  # Weidmann's greatest specific flow x 4 m (an open passage)
    empty_by = next(t for t, at_home, _s, _r in rows if at_home == 0)
    assert empty_by == pytest.approx(n / capacity_pps, abs=60.0 + 10.0)
    point.advance_to(point.duration)
    np.testing.assert_array_equal(np.sort(spatial.pop.arrival_t), np.sort(point.pop.arrival_t))


def test_no_change_where_storage_never_binds(layer_city):
    """500 people never fill a road: arrivals and entry times are identical, person by person."""
    a = _chain(layer_city, 500)
    a.run()
    b = _chain(layer_city, 500, storage=False)
    b.run()
    np.testing.assert_array_equal(a.pop.arrival_t, b.pop.arrival_t)
    np.testing.assert_array_equal(a.pop.t_entry, b.pop.t_entry)
    assert a.mover.storage is not None
    assert b.mover.storage is None


def _crossing(layer_city, **movement) -> EvacuationModel:
    """Walkers queue for a door across a shared street (no sidewalk) that cars need to reach their shelter."""
    city = (
        layer_city()
        .road((-20, 0), (0, 0), width_m=3.0, highway="footway", passage="passage")  # the walkers' way in
        .road((0, 0), (0, 40), width_m=5.0, highway="service")  # one carriageway for both: 200 m²
        .road((0, 40), (0, 42), width_m=1.0, passage="door", capacity_pph=3600 / DOOR_S, highway="footway")
        .road((0, 40), (400, 40), highway="trunk")  # the cars' way out (no walking)
        .road((0, -3000), (0, 0), highway="residential")  # the cars' way in
        .road((400, 40), (400, -3000), (0, -3000), highway="footway")  # keeps the car shelter in the city
        .people_at((-20, 0), 2000)
        .people_at((0, -3000), 60)
        .shelter("S1", (0, 42), 2060)
        .shelter("S2", (400, 40), 2060)
        .write()
    )
    scn = scenario_from(
        city,
        population={
            "count": 2060,
            "mode_share": {"walk": 0.0, "car": 1.0},
            "car_household_share": 1.0,
            "walk_speed_mps": {"mean": 1.3, "sd": 0.0},
        },
        duration="4h",
        movement={"density_speed": False, **movement},
        **everyone_now(),
    )
    model = EvacuationModel(scn)
    model.run()
    return model


def test_a_crowd_queue_blocks_the_cars_that_need_its_street(layer_city):
    """Cars wait until the crowd has moved up by the room one car takes (17.5 m² per occupant)."""
    spatial, point = _crossing(layer_city), _crossing(layer_city, storage=False)
    roads = spatial.city.roads
    drive_out = 40.0 / (roads["speed_kph"].iloc[1] / 3.6) + 400.0 / (roads["speed_kph"].iloc[3] / 3.6)
    drive_in = 3000.0 / (roads["speed_kph"].iloc[4] / 3.6)
    results = {}
    for name, model in (("spatial", spatial), ("point", point)):
        p = model.pop
        cars = p.mode == CAR
        assert int(cars.sum()) == 60
        assert int((p.mode == WALK).sum()) == 2000
        assert np.isfinite(p.arrival_t).all()
        results[name] = (float(p.arrival_t[cars].min()), float(p.arrival_t[~cars].max()))
    # Point queues: the first car crosses the street at once and arrives after its free drive.
    assert results["point"][0] == pytest.approx(drive_in + drive_out, abs=0.01)
    # Storage: the street holds 200 m² / (1/5.4 m²) = 1,080 walkers. The cars get in when the
    # last walker has entered the street (after n - 1,080 - 1 door passages) and the door has
    # freed the 17.5 m² a car occupant takes (95 more walkers).
    first_door = float(np.nanmin(spatial.pop.arrival_t))
    car_room = int(np.ceil(7.5 * 3.5 / 1.5 * JAM))
    expected_entry = first_door + (2000 - int(JAM * 200) - 2 + car_room) * DOOR_S
    assert results["spatial"][0] - drive_out == pytest.approx(expected_entry, abs=10.0)  # one step
    # The walkers' door sets their clearance either way.
    assert results["spatial"][1] == pytest.approx(results["point"][1], abs=1e-6)


# ---------------------------------------------------------------- gridlock


def _ring_graph() -> ArcNetwork:
    """Three roads in a row (keys 0, 1, 2), room 10 m² each, people of 1 m²."""
    net = ArcNetwork(
        n_nodes=4,
        tail=np.array([0, 1, 2, 1, 2, 3]),
        head=np.array([1, 2, 3, 0, 1, 2]),
        road=np.array([0, 1, 2, 0, 1, 2]),
        length_m=np.full(6, 10.0),
        usable=np.ones((2, 6), dtype=bool),
        car_time_s=np.ones(6),
        ref_time_s=np.ones((2, 6)),
        headway_s=np.ones(12),
        out_ptr=np.array([0, 1, 3, 5, 6]),
        out_arcs=np.array([0, 1, 3, 2, 4, 5]),
    )
    net.store_key = np.vstack([net.road, net.road])
    net.storage_m2 = np.full(3, 10.0)
    net.person_m2 = np.array([1.0, 1.0])
    return net


def test_gridlock_is_a_ring_of_full_roads_waiting_for_each_other():
    net = _ring_graph()
    st = Storage(net, 30)
    people = np.arange(30)
    st.came_by[:] = np.repeat([0, 1, 2], 10)  # every road full
    st.used_m2[:] = 1.0
    st.recount(people)
    mode = np.zeros(30, dtype=np.int64)
    # On road 0 they wait for road 1 (arc 1: 1 -> 2); on road 1 for road 0 (arc 3: 1 -> 0): a ring.
    want = np.concatenate([np.full(10, 1), np.full(10, 3), np.full(10, -1)])
    waiting = people[want >= 0]
    rings = st.find_gridlock(waiting, mode, want)
    assert [r.tolist() for r in rings] == [[0, 1]]
    assert st.let_through.tolist() == [True, True, False]
    # A chain is no ring: road 1 waits for road 2, which waits for nobody.
    want = np.concatenate([np.full(10, 1), np.full(10, 2), np.full(10, -1)])
    assert st.find_gridlock(people[want >= 0], mode, want) == []
    assert not st.let_through.any()
    # Nor is a ring where one road still has room for one more.
    st.came_by[0] = -1
    st.recount(people)
    want = np.concatenate([np.full(10, 1), np.full(10, 3), np.full(10, -1)])
    assert st.find_gridlock(people[want >= 0], mode, want) == []


def _face_to_face(layer_city) -> tuple[EvacuationModel, int, int]:
    """Cars on one street without sidewalks wait for the next, which is full of walkers waiting for theirs."""
    city = (
        layer_city()
        .road((0, 0), (40, 0), width_m=4.0, highway="service", road_id="r1")  # A-B
        .road((40, 0), (80, 0), width_m=4.0, highway="service", road_id="r2")  # B-C
        .road((0, 0), (-2, 0), width_m=1.0, passage="door", capacity_pph=3600 / DOOR_S, highway="footway")
        .road((80, 0), (100, 0), width_m=3.0, highway="footway", passage="passage")  # the walkers' homes
        .road((80, 0), (480, 0), highway="trunk")  # the cars' way out
        .road((0, 0), (0, -300), highway="residential")  # the cars' homes
        .road((480, 0), (480, 5000), (-5000, 5000), (-5000, -300), (0, -300), highway="footway")
        .people_at((100, 0), 864)
        .people_at((0, -300), 9)
        .shelter("SA", (-2, 0), 900)
        .shelter("SC", (480, 0), 900)
        .write()
    )
    scn = scenario_from(
        city,
        population={"count": 873, "mode_share": {"walk": 0.0, "car": 1.0}, "car_household_share": 1.0},
        duration="3h",
        **everyone_now(),
    )
    model = EvacuationModel(scn)
    return model, 864, 9


def test_a_gridlock_is_reported_and_let_through(layer_city):
    """Set the face-off up directly: both streets full, each crowd waiting at B for the other's street."""
    model, n_walk, n_car = _face_to_face(layer_city)
    p, st, net = model.pop, model.mover.storage, model.net
    assert st is not None
    roads = model.city.roads
    r1, r2 = (int(np.flatnonzero(roads["road_id"] == r)[0]) for r in ("r1", "r2"))
    (b,) = set(roads.loc[r1, ["u", "v"]]) & set(roads.loc[r2, ["u", "v"]])  # where the streets meet
    walkers = np.flatnonzero(model.city.node_xy[p.home_node][:, 0] > model.city.node_xy[b, 0])
    drivers = np.setdiff1d(np.arange(p.n), walkers)
    assert len(walkers) == n_walk
    assert len(drivers) == n_car
    for who, mode, road in ((walkers, WALK, r2), (drivers, CAR, r1)):
        p.state[who] = EVACUATING
        p.mode[who] = mode
        p.node[who] = b
        p.arc[who] = -1
        p.t_ready[who] = 0.0
        st.came_by[who] = int(net.store_key[mode, road])
        st.used_m2[who] = net.person_m2[mode]
    assert st.capacity_m2[r1] < (n_car + 1) * net.person_m2[CAR]  # r1 holds exactly these cars
    assert st.capacity_m2[r2] < (n_walk + 1) * net.person_m2[WALK]  # r2 these walkers
    model.advance_to(model.step_s)
    events = model.events()
    gridlock = events[events["kind"] == "gridlock"]
    assert len(gridlock) == 1
    row = gridlock.iloc[0]
    assert row["count"] == n_walk + n_car
    assert "r1" in row["detail"]
    assert "r2" in row["detail"]
    # The rule: for the next step both streets let their people through as if they had room.
    model.advance_to(2 * model.step_s)
    assert (p.arc[walkers] >= 0).any()
    assert (p.arc[drivers] >= 0).any()
    model.advance_to(model.duration)
    assert np.isfinite(p.arrival_t).all()
    shelters = np.array([s.shelter_id for s in model.shelters])
    assert set(shelters[p.shelter[walkers]]) == {"SA"}
    assert set(shelters[p.shelter[drivers]]) == {"SC"}
