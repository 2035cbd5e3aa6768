"""Shared streets (issue 18): walkers and cars on one carriageway share its capacity in time.

400 people, about half of them in cars, leave one node at once over a 100 m street whose
capacity is 1,800 persons/h for either mode (a headway of 2 s). On a shared carriageway the last
of them enters after (N - 1) x 2 s; where the street has a sidewalk, walkers and cars have a
server each and the last enters after (max(walkers, car users) - 1) x 2 s.
"""

from __future__ import annotations

import numpy as np
import pytest

from sim.agents.citizens import CAR, WALK
from sim.engine.model import EvacuationModel
from tests.conftest import everyone_now, scenario_from

N, HEADWAY_S = 400, 2.0


def _street(layer_city, **props):
    city = (
        layer_city()
        .road((0, 0), (0, 100), highway="living_street", capacity_pph=3600 / HEADWAY_S, **props)
        .people_at((0, 0), N)
        .shelter("S", (0, 100), N)
        .write()
    )
    scn = scenario_from(
        city,
        population={"count": N, "mode_share": {"walk": 0.5, "car": 0.5}, "car_household_share": 1.0},
        movement={"density_speed": False},
        **everyone_now(),
    )
    model = EvacuationModel(scn)
    model.run()
    assert np.isfinite(model.pop.arrival_t).all()
    return model


def test_walkers_and_cars_share_one_carriageway(layer_city):
    model = _street(layer_city)
    assert bool(model.city.roads["shared"].iloc[0])  # a living street without a sidewalk tag
    walkers, drivers = int((model.pop.mode == WALK).sum()), int((model.pop.mode == CAR).sum())
    assert walkers > 50
    assert drivers > 50
    assert model.pop.t_entry.max() == pytest.approx((N - 1) * HEADWAY_S, abs=1e-6)


def test_a_sidewalk_gives_walkers_their_own_capacity(layer_city):
    model = _street(layer_city, sidewalk="both")
    assert not bool(model.city.roads["shared"].iloc[0])
    walkers, drivers = int((model.pop.mode == WALK).sum()), int((model.pop.mode == CAR).sum())
    assert model.pop.t_entry.max() == pytest.approx((max(walkers, drivers) - 1) * HEADWAY_S, abs=1e-6)
