"""Connected flooding and who loses their footing in water (issue 19, docs/verification.md).

A DEM rises 1 m per 100 m eastwards, with a dyke 6 m high at x = 200-260 m and a basin 1 m high
behind it (x = 260-500 m). Water comes from the lowest ground (the west edge). At a level of
3 m the basin lies 2 m below the water but is not connected to it: it stays dry, and its
residents walk to their shelter; the old bathtub (``connected: false``) drowned them all. Once
the level tops the dyke the basin fills to the level.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from sim.agents.citizens import WALK
from sim.engine.model import EvacuationModel
from sim.hazards.water import Flood, Tsunami
from sim.scenario.hazards import FloodConfig, TsunamiConfig
from tests.conftest import everyone_now, lonlat, scenario_from
from tests.hazards.test_dem import _OX, _OY, write_dem


def _dem(path: Path) -> Path:
    def ground(xs: np.ndarray) -> np.ndarray:
        g = xs / 100.0
        g[(xs >= 200) & (xs < 260)] = 6.0  # the dyke
        g[(xs >= 260) & (xs < 500)] = 1.0  # the basin behind it
        return g

    return write_dem(path, ground=ground)


def _basin(layer_city, tmp_path, stages, **flood):
    c = layer_city()
    c.road((400, 0), (600, 0), id="basin")  # from homes in the basin to a shelter on high ground
    c.road((600, 0), (800, 0), id="high")
    c.road((-100, 0), (400, 0), id="over-the-dyke")
    c.shelter("S", (800, 0), 1000)
    c.people_at((400, 0), 50)
    city = c.write()
    city["terrain"] = {"dem": str(_dem(tmp_path / "basin.tif")), "resolution_m": 10}
    scn = scenario_from(
        city,
        population={"count": 50, "walk_speed_mps": {"mean": 1.2, "sd": 0.0}, "limited_mobility_share": 0.0},
        hazards=[{"type": "flood", "id": "f", "at": 0, "stages": stages, "update_every": 30, **flood}],
        **everyone_now(duration="30min"),
    )
    return EvacuationModel(scn)


def test_a_closed_basin_below_the_level_stays_dry(layer_city, tmp_path):
    m = _basin(layer_city, tmp_path, [{"at": 0, "level_m": 3.0}])
    m.advance_to(60)
    hz = m.hazards[0]
    basin_xy = m.city.node_xy[[int(np.argmin(np.abs(m.city.node_xy[:, 0] - (_OX + 400))))]]
    assert hz.depth_at(basin_xy, 60.0)[0] == 0.0
    west = np.array([[_OX - 100.0, _OY]])
    assert hz.depth_at(west, 60.0)[0] == pytest.approx(3.0 - (-1.0), abs=0.06)  # level - ground (cell centre)
    rows = {rid: i for i, rid in enumerate(m.city.roads["road_id"])}
    assert m.roads.open[WALK, rows["basin"]]
    assert not m.roads.open[WALK, rows["over-the-dyke"]]  # its west end is under water
    m.run()
    assert m.pop.state_counts()["casualties"] == 0
    assert m.pop.state_counts()["sheltered"] == 50


def test_the_old_bathtub_drowned_the_basin(layer_city, tmp_path):
    m = _basin(layer_city, tmp_path, [{"at": 0, "level_m": 3.0}], connected=False)
    m.run()
    assert m.pop.state_counts()["casualties"] == 50  # 2 m of water over ground that cannot be reached


def test_the_basin_fills_once_the_level_tops_the_dyke(layer_city, tmp_path):
    stages = [{"at": 0, "level_m": 3.0}, {"at": 600, "level_m": 5.9}, {"at": 660, "level_m": 6.5}]
    m = _basin(layer_city, tmp_path, stages, casualty_depth_m=20.0, casualty_depth_vulnerable_m=20.0)
    hz = m.hazards[0]
    probe = np.array([[_OX + 300.0, _OY]])
    m.advance_to(605)
    assert hz.depth_at(probe, 605.0)[0] == 0.0  # 5.95 m: still below the 6 m crest
    m.advance_to(690)
    assert hz.depth_at(probe, 690.0)[0] == pytest.approx(6.5 - 1.0, abs=1e-6)


def test_footing_limits_by_group_depth_and_velocity():
    """Cox et al. (2010): adults 1.2 m or 0.6 m²/s, limited mobility 0.5 m or 0.4 m²/s."""
    still = Flood(FloodConfig(type="flood", at=0, stages=[{"at": 0, "level_m": 1.0}]), index=0)
    depth = np.array([0.45, 0.55, 1.15, 1.25])
    adults, vulnerable = np.zeros(4, dtype=bool), np.ones(4, dtype=bool)
    assert still.caught(depth, adults).tolist() == [False, False, False, True]
    assert still.caught(depth, vulnerable).tolist() == [False, True, True, True]
    moving = Flood(FloodConfig(type="flood", at=0, stages=[{"at": 0, "level_m": 1.0}], velocity_mps=1.0), index=0)
    depth = np.array([0.35, 0.45, 0.55, 0.65])  # d x v = d
    assert moving.caught(depth, adults).tolist() == [False, False, False, True]
    assert moving.caught(depth, vulnerable).tolist() == [False, True, True, True]
    # A tsunami's flow at Froude 1: v = sqrt(g d); adults fall where d^1.5 sqrt(g) > 0.6: d > 0.3323 m.
    wave = Tsunami(TsunamiConfig(type="tsunami", at=0, run_up_m=3.0), index=0)
    limit = (0.6 / np.sqrt(9.81)) ** (2.0 / 3.0)
    assert limit == pytest.approx(0.3323, abs=1e-4)
    assert wave.caught(np.array([limit - 1e-4, limit + 1e-4]), np.zeros(2, dtype=bool)).tolist() == [False, True]


def test_in_still_water_of_0_8_m_only_children_and_people_with_limited_mobility_fall(layer_city):
    c = layer_city()
    c.road((0, 0), (600, 0), id="street")
    c.shelter("S", (600, 0), 1000)
    c.people_at((0, 0), 400)
    city = c.write()
    city["terrain"] = {"water": [lonlat(-60, -60), lonlat(-60, 60)], "water_width_m": 30, "bank_m": 0.0, "slope": 1e-4}
    scn = scenario_from(
        city,
        population={"count": 400, "limited_mobility_share": 0.2, "children_share": 0.1},
        hazards=[{"type": "flood", "id": "f", "at": 0, "stages": [{"at": 0, "level_m": 0.8}]}],
        **everyone_now(duration="5min"),
    )
    m = EvacuationModel(scn)
    m.advance_to(10)
    lm, child = m.pop.limited_mobility, m.pop.child
    assert 50 < lm.sum() < 110
    assert 20 < child.sum() < 70
    vulnerable = lm | child
    assert (m.pop.state[vulnerable] == 3).all()  # casualties
    assert (m.pop.state[~vulnerable] != 3).all()
