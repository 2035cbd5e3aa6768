"""The ``time`` column beside ``t_s``: each distinct time converted once equals every row converted."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import numpy as np
import pandas as pd
import pytest

from sim.experiments.runner import _zone, with_clock


def row_by_row(t_s: np.ndarray, start: datetime) -> pd.Series:
    """The reference: every row's own conversion."""
    when = pd.Timestamp(start) + pd.to_timedelta(t_s, unit="s")
    return pd.Series(when.tz_convert(_zone(start)), name="time")


@pytest.mark.parametrize(
    "start",
    [datetime(2026, 11, 27, 8, 0, tzinfo=UTC), datetime(2026, 3, 29, 2, 30, tzinfo=timezone(timedelta(hours=3)))],
)
def test_distinct_times_once_equal_every_row_converted(start):
    rng = np.random.default_rng(3)
    t = rng.choice(np.array([0.0, 60.0, 0.5, 1e-3, 7200.25, 86400 * 3 + 0.123456789, np.nan]), size=5000)
    table = pd.DataFrame({"t_s": t, "x": np.arange(len(t))})
    out = with_clock(table, start)
    assert list(out.columns) == ["t_s", "time", "x"]
    assert list(table.columns) == ["t_s", "x"]  # the caller's table is left as it was
    pd.testing.assert_series_equal(out["time"].reset_index(drop=True), row_by_row(t, start))
    assert out["time"].isna().sum() == np.isnan(t).sum() > 0


def test_an_empty_table_gets_an_empty_time_column():
    start = datetime(2026, 11, 27, 8, 0, tzinfo=UTC)
    out = with_clock(pd.DataFrame({"t_s": np.zeros(0)}), start)
    assert list(out.columns) == ["t_s", "time"]
    assert len(out) == 0
    assert str(out["time"].dtype) == str(row_by_row(np.zeros(0), start).dtype)
