"""Spill levels: a connected bathtub's wet cells at every level, from one priority flood.

The reference is the flood's own labelling of the cells below each level
(:meth:`sim.hazards.water.WaterHazard.wet_cells` without spill levels). Spill levels are heights
of the grid (or inf), so comparing at every height of the grid, between them and beyond them
checks every level there is.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from sim.engine import kernels
from sim.hazards.water import Flood

pytestmark = pytest.mark.skipif(not kernels.enabled(), reason="numba is not installed")


def labelled(height: np.ndarray, inside: np.ndarray, source: np.ndarray, level: float) -> np.ndarray:
    """The flood's wet cells at ``level`` by labelling (its path without spill levels)."""
    water = object.__new__(Flood)
    water.terrain = SimpleNamespace(height=height)
    water.cell_inside, water.source_cells = inside, source
    water._spill, water._wet_level = None, None
    return water.wet_cells(level).copy()


def every_level(height: np.ndarray) -> np.ndarray:
    h = np.unique(height[np.isfinite(height)])
    between = (h[:-1] + h[1:]) / 2.0 if len(h) > 1 else np.zeros(0)
    return np.concatenate([h, between, np.nextafter(h, np.inf), [-np.inf, np.inf, -1e9, 1e9]])


def random_grid(rng: np.random.Generator, rows: int, cols: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    height = rng.integers(0, 8, (rows, cols)).astype(float)  # plateaus and equal passes
    height[rng.random((rows, cols)) < 0.03] = np.nan  # no ground known: never wet
    inside = rng.random((rows, cols)) < 0.85
    source = rng.random((rows, cols)) < 0.02
    return height, inside, source


@pytest.mark.parametrize(("rows", "cols"), [(1, 1), (1, 9), (9, 1), (13, 17), (60, 45)])
def test_spill_levels_give_the_labelled_cells_at_every_level(rows, cols):
    wet_somewhere = dry_somewhere = 0
    for seed in range(8):
        rng = np.random.default_rng(100 * rows + cols + seed)
        height, inside, source = random_grid(rng, rows, cols)
        if seed == 0:
            inside[:] = True
        spill = kernels._compiled.spill_levels(height, inside, source)
        assert spill.shape == height.shape
        for level in every_level(height):
            expect = labelled(height, inside, source, level)
            np.testing.assert_array_equal(spill < level, expect, err_msg=f"seed {seed}, level {level}")
            wet_somewhere += int(expect.sum())
            dry_somewhere += int((~expect & inside).sum())
    if rows * cols > 100:  # not trivial: both answers, at many levels
        assert wet_somewhere > 1000
        assert dry_somewhere > 1000


def test_a_basin_behind_a_dyke_fills_when_the_water_tops_the_dyke():
    # The river at 0 m, a 5 m dyke, a basin at 1 m, a bank at 3 m: the basin's spill level is
    # the dyke's crest, not its own ground.
    height = np.array([[0.0, 5.0, 1.0, 1.0, 3.0]])
    source = np.array([[True, False, False, False, False]])
    spill = kernels._compiled.spill_levels(height, np.ones_like(source), source)
    np.testing.assert_array_equal(spill, [[0.0, 5.0, 5.0, 5.0, 5.0]])
    # Outside the area, the dyke cannot be crossed: the basin is never wet.
    inside = np.array([[True, False, True, True, True]])
    np.testing.assert_array_equal(kernels._compiled.spill_levels(height, inside, source), [[0.0, *[np.inf] * 4]])
    # No source: nothing is ever wet.
    assert np.isinf(kernels._compiled.spill_levels(height, np.ones_like(source), ~source & False)).all()


def test_a_flood_uses_the_spill_levels_when_the_kernels_are_loaded(monkeypatch):
    from sim import api
    from sim.engine.model import EvacuationModel

    # The river's banks are 1 m and more above it: the water spreads after about half an hour.
    scenario = api.load_scenario(api.sample_scenarios()["kotka_river_flood"], ["duration=50min"])
    monkeypatch.setenv("SAFECITY_KERNELS", "1")
    on = EvacuationModel(scenario)
    on.run()
    monkeypatch.setenv("SAFECITY_KERNELS", "0")
    off = EvacuationModel(scenario)
    off.run()
    (water_on,) = [h for h in on.hazards if isinstance(h, Flood)]
    (water_off,) = [h for h in off.hazards if isinstance(h, Flood)]
    assert water_on._spill is not None
    assert water_off._spill is None
    assert water_on._wet.any()
    np.testing.assert_array_equal(water_on._wet, water_off._wet)
