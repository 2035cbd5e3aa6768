"""The long shelter table against its definition: one frame per shelter, joined, sorted."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sim.metrics.timelines import shelter_timeline


def by_definition(timeseries: pd.DataFrame, shelter_ids: list[str]) -> pd.DataFrame:
    """Shelter by shelter (a missing count is 0), joined, then sorted by time and shelter id."""

    def column(name: str):
        return timeseries[name].astype("int64").to_numpy() if name in timeseries else 0

    frames = [
        pd.DataFrame(
            {
                "t_s": timeseries["t_s"].to_numpy(),
                "shelter": sid,
                "present": column(f"shelter:{sid}"),
                "registered": column(f"registered:{sid}"),
                "observed": column(f"observed:{sid}"),
            }
        )
        for sid in shelter_ids
    ]
    return pd.concat(frames, ignore_index=True).sort_values(["t_s", "shelter"], kind="stable").reset_index(drop=True)


@pytest.mark.parametrize("seed", range(5))
def test_shelter_timeline_equals_its_definition(seed):
    rng = np.random.default_rng(seed)
    ids = [f"S{k}" for k in rng.permutation(12)]  # not in id order, as a city lists them
    n = 7
    columns = {"t_s": np.sort(rng.choice([0.0, 60.0, 120.0, 180.0], size=n))}  # repeated times too
    for sid in ids:
        for prefix in ("shelter", "registered", "observed"):
            if rng.random() < 0.8:  # some counts never recorded
                columns[f"{prefix}:{sid}"] = rng.integers(0, 500, size=n).astype(float)
    timeseries = pd.DataFrame(columns)
    got = shelter_timeline(timeseries, ids)
    pd.testing.assert_frame_equal(got, by_definition(timeseries, ids))
    assert len(got) == n * len(ids)
    # A count the timeseries lacks reads 0, never another shelter's.
    missing = [sid for sid in ids if f"observed:{sid}" not in timeseries]
    assert (got.loc[got["shelter"].isin(missing), "observed"] == 0).all()


def test_shelter_timeline_without_shelters_has_the_columns():
    got = shelter_timeline(pd.DataFrame({"t_s": [0.0, 60.0]}), [])
    assert list(got.columns) == ["t_s", "shelter", "present", "registered", "observed"]
    assert got.empty
