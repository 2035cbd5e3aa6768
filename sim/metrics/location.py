"""How good the command centre's picture of where people are was: pure functions of a run's tables.

``located`` is ``located.parquet`` (per recorded time, district and state: ``estimate``,
``truth``); the timeseries carries the unaccounted list's size and its score against the truth.
docs/location.md defines every figure.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

KNOWN_STATES = ("at_home", "on_the_move", "sheltered")


def location_figures(
    located: pd.DataFrame, timeseries: pd.DataFrame, reports: pd.DataFrame, *, population: int, districts: int
) -> dict[str, Any]:
    """The ``location`` block of ``summary.json``.

    - ``coverage``: the share of people the picture accounts for in the right district (per
      district the smaller of estimate and truth, summed, over the population), averaged over
      recorded times; ``coverage_final`` at the last one;
    - ``mae_per_district``: mean absolute error of the people estimated in a district (all
      states), over recorded times and districts; ``mae_by_state``: the same per district and
      state, for at home, on the move and sheltered;
    - the unaccounted list: its peak size and when, its final size, how many on it are truly in
      danger at the end (hits) and how many are not (false alarms), and how many in danger are
      not on it (misses);
    - ``reports_delivered``: the share of count reports that reached the COC, per source.
    """
    if located.empty or "unaccounted_list" not in timeseries:
        return {}
    times = located["t_s"].nunique()
    per_d = located.groupby(["t_s", "district"])[["estimate", "truth"]].sum()
    err_d = float((per_d["estimate"] - per_d["truth"]).abs().sum()) / max(times * districts, 1)
    matched = per_d[["estimate", "truth"]].min(axis=1).groupby(level="t_s").sum() / max(population, 1)
    known = located[located["state"].isin(KNOWN_STATES)]
    err_s = float((known["estimate"] - known["truth"]).abs().sum()) / max(times * districts * len(KNOWN_STATES), 1)
    listed = timeseries["unaccounted_list"].to_numpy()
    peak = int(np.argmax(listed)) if len(listed) else 0
    last = timeseries.iloc[-1]
    delivered = reports.groupby("source")["delivered"].mean() if len(reports) else pd.Series(dtype=float)
    return {
        "coverage": round(float(matched.mean()), 6),
        "coverage_final": round(float(matched.iloc[-1]), 6),
        "mae_per_district": round(err_d, 3),
        "mae_by_state": round(err_s, 3),
        "unaccounted_peak": int(listed[peak]) if len(listed) else 0,
        "unaccounted_peak_t_s": float(timeseries["t_s"].iat[peak]) if len(listed) else None,
        "unaccounted_final": int(last["unaccounted_list"]),
        "unaccounted_in_danger_final": int(last["unaccounted_in_danger"]),
        "unaccounted_false_alarms_final": int(last["unaccounted_false_alarms"]),
        "in_danger_not_listed_final": int(last["in_danger_not_listed"]),
        "reports_delivered": {str(k): round(float(v), 6) for k, v in delivered.items()},
    }
