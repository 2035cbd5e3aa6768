"""Grouping alert recipients by the towers serving them: one sort, the same groups (issue 20)."""

from __future__ import annotations

import numpy as np
import pytest

from sim.network.channels import served_by


def one_pass_per_tower(towers: np.ndarray, who: np.ndarray) -> list[tuple[int, np.ndarray]]:
    """The grouping as it was written first: a pass over everyone per tower."""
    return [(int(row), who[(towers == row).any(axis=1)]) for row in np.unique(towers[towers >= 0])]


@pytest.mark.parametrize(("n", "columns"), [(0, 2), (1, 2), (500, 2), (50_000, 2), (300, 3)])
def test_grouped_by_one_sort_as_by_a_pass_per_tower(n, columns):
    rng = np.random.default_rng(n + columns)
    towers = rng.integers(-1, 40, (n, columns))
    towers[rng.random(n) < 0.3, 1] = -1  # served by one tower only
    same = rng.random(n) < 0.2
    towers[same, 1] = towers[same, 0]  # one tower named twice for a person
    who = rng.permutation(10 * n + 1)[:n]
    got, expect = served_by(towers, who), one_pass_per_tower(towers, who)
    assert [row for row, _ in got] == [row for row, _ in expect]
    for (_, a), (_, b) in zip(got, expect, strict=True):
        np.testing.assert_array_equal(a, b)
    if n >= 500:
        assert len(expect) > 10
        assert sum(len(g) for _, g in expect) > n  # people served by two towers are in both groups
