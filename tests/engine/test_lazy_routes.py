"""The informed share's routes are searched per mode when first needed (issue 20)."""

from __future__ import annotations

import numpy as np

import sim.engine.mover as mover_module
from sim import api
from sim.agents.citizens import CAR, WALK
from sim.engine.model import EvacuationModel
from sim.engine.routing import compute_field, repair_field


def _walkers_only(extra: list[str] | None = None) -> EvacuationModel:
    scenario = api.load_scenario(
        api.sample_scenarios()["kotka_district_evacuation"],
        [
            "duration=30min",
            "population.mode_share.walk=1",
            "population.mode_share.car=0",
            "movement.informed_share=0.5",
            "movement.reroute_every=5min",
            *(extra or []),
        ],
    )
    return EvacuationModel(scenario)


def test_nobody_driving_means_no_search_of_car_routes(monkeypatch):
    searched: list[tuple[int, bool]] = []

    def counting(net, mode, open_arcs, targets, delay_s=None):
        searched.append((mode, delay_s is not None))
        return compute_field(net, mode, open_arcs, targets, delay_s)

    def counting_repairs(net, mode, open_arcs, targets, old, delay_s=None, **kw):
        searched.append((mode, delay_s is not None))
        return repair_field(net, mode, open_arcs, targets, old, delay_s, **kw)

    monkeypatch.setattr(mover_module, "compute_field", counting)
    monkeypatch.setattr(mover_module, "repair_field", counting_repairs)
    model = _walkers_only()
    model.run()
    informed = [mode for mode, with_delays in searched if with_delays]
    assert informed.count(WALK) >= 5  # the walkers re-planned every 5 minutes
    assert CAR not in informed
    free_flow = [mode for mode, with_delays in searched if not with_delays]
    assert free_flow.count(WALK) >= 2  # at the start, and again as shelters filled
    assert CAR not in free_flow  # nobody drives, nobody ever starts to


def test_with_drivers_the_cars_free_flow_routes_are_kept_up_to_date(monkeypatch):
    searched: list[int] = []

    def counting_repairs(net, mode, open_arcs, targets, old, delay_s=None, **kw):
        searched.append(mode)
        return repair_field(net, mode, open_arcs, targets, old, delay_s, **kw)

    monkeypatch.setattr(mover_module, "repair_field", counting_repairs)
    scenario = api.load_scenario(api.sample_scenarios()["kotka_district_evacuation"], ["duration=30min"])
    model = EvacuationModel(scenario)
    assert model.mover.drivers
    model.run()
    assert searched.count(CAR) >= 1


def test_routes_searched_late_are_those_of_the_moment_they_were_made():
    model = _walkers_only()
    model.advance_to(15 * 60)
    mv = model.mover
    delays = mv.delays(float(model.env.now))
    routes = mv._routes([d.copy() for d in delays])
    open_arcs = model.roads.open[CAR][model.net.road]
    targets = np.unique([s.node for s in model.shelters if s.room > 0])
    expect = compute_field(model.net, CAR, open_arcs, targets, delays[CAR])
    model.next_free[:] += 600.0  # queues change after the routes were made: not seen by them
    late = routes.field(CAR)
    np.testing.assert_array_equal(late.dist, expect.dist)
    np.testing.assert_array_equal(late.source, expect.source)
    assert routes.field(CAR) is late  # searched once


def test_the_routes_target_exactly_the_shelters_with_room_while_they_fill_and_close():
    # The routes read their targets from the mover's room per node (kept up to date by each
    # admission): at every step it must name the nodes of the shelters with room, as the
    # shelters themselves say, while shelters fill, close and reopen.
    scenario = api.load_scenario(
        api.sample_scenarios()["kotka_district_evacuation"],
        ["duration=40min", "alerting.orders=[{at: 0, zone: all}]"],
    )
    model = EvacuationModel(scenario)
    for s in model.shelters:
        s.capacity = min(s.capacity, 40)  # small: they fill during the run
    model._routes_changed()
    filled = False
    for step in range(int(40 * 60 / model.step_s)):
        if step == 60:
            model.close_shelters([model.shelters[0].shelter_id], cause="test")
        if step == 120:
            model.reopen_shelters([model.shelters[0].shelter_id], cause="test")
        model.step()
        mv = model.mover
        if mv.fields_dirty:
            continue
        with_room = np.unique([s.node for s in model.shelters if s.room > 0]).astype(np.int64)
        np.testing.assert_array_equal(np.flatnonzero(mv.node_room > 0), with_room)
        filled |= any(s.room == 0 and s.is_open for s in model.shelters)
    assert filled  # the check ran while shelters were full


def test_only_losses_since_the_last_field_are_repaired_anything_else_is_searched_anew():
    from sim.engine.mover import _FreeField, _lost_only

    arcs = np.array([True, True, False, True])
    last = _FreeField(None, arcs, np.array([3, 8, 40]), np.zeros(0), np.zeros(0))
    assert _lost_only(last, arcs, np.array([3, 40]))  # a shelter filled
    assert _lost_only(last, np.array([True, False, False, True]), np.array([3, 8, 40]))  # a road closed
    assert _lost_only(last, arcs, np.zeros(0, dtype=np.int64))  # every shelter full
    assert not _lost_only(last, arcs, np.array([3, 8, 9, 40]))  # a shelter came back
    assert not _lost_only(last, arcs, np.array([3, 8, 41]))  # one beyond the last ones known
    assert not _lost_only(last, np.array([True, True, True, True]), np.array([3]))  # a road reopened
    empty = _FreeField(None, arcs, np.zeros(0, dtype=np.int64), np.zeros(0), np.zeros(0))
    assert not _lost_only(empty, arcs, np.array([5]))
