"""Sweep figures: flattened run figures, per-point statistics and sensitivity indices (pure functions)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats


def flatten_figures(summary: Mapping[str, Any], prefix: str = "") -> dict[str, float]:
    """Every numeric leaf of a ``summary.json`` by dotted path (``None`` kept as NaN; text and lists left out)."""
    out: dict[str, float] = {}
    for key, value in summary.items():
        path = f"{prefix}{key}"
        if isinstance(value, Mapping):
            out.update(flatten_figures(value, path + "."))
        elif isinstance(value, bool):
            continue
        elif isinstance(value, int | float):
            out[path] = float(value)
        elif value is None:
            out[path] = math.nan
    return out


def halfwidth(values: np.ndarray) -> float:
    """The 95 % confidence half-width of the mean (Student's t); NaN below two values."""
    v = values[np.isfinite(values)]
    if len(v) < 2:
        return math.nan
    return float(stats.t.ppf(0.975, len(v) - 1) * v.std(ddof=1) / math.sqrt(len(v)))


def adequate(values: np.ndarray, share: float) -> bool:
    """Whether the 95 % half-width is within ``share`` of the mean's size (a constant figure always is)."""
    v = values[np.isfinite(values)]
    if len(v) < 2:
        return False
    hw = halfwidth(v)
    return bool(hw == 0.0 or hw <= share * abs(float(v.mean())))


def point_table(results: pd.DataFrame, parameters: list[str], figures: list[str]) -> pd.DataFrame:
    """Per point: the parameter columns, ``n``, and per figure ``mean``, ``sd``, ``n``, ``ci95_low``, ``ci95_high``.

    Only rows with ``status == "ok"`` count; columns are named ``<figure>.mean`` and so on.
    """
    ok = results[results["status"] == "ok"]
    rows = []
    for point, part in results.groupby("point", sort=True):
        good = ok[ok["point"] == point]
        row: dict[str, Any] = {"point": int(point)}
        row.update({p: part[p].iloc[0] for p in parameters})
        row["n"] = len(good)
        row["failed"] = int((part["status"] != "ok").sum())
        for fig in figures:
            v = good[fig].to_numpy(dtype=float) if fig in good else np.zeros(0)
            v = v[np.isfinite(v)]
            mean = float(v.mean()) if len(v) else math.nan
            hw = halfwidth(v)
            row[f"{fig}.mean"] = mean
            row[f"{fig}.sd"] = float(v.std(ddof=1)) if len(v) > 1 else math.nan
            row[f"{fig}.n"] = len(v)
            row[f"{fig}.ci95_low"] = mean - hw if len(v) > 1 else math.nan
            row[f"{fig}.ci95_high"] = mean + hw if len(v) > 1 else math.nan
        rows.append(row)
    return pd.DataFrame(rows)


def sensitivity(
    design: str, problem: dict[str, Any], unit_points: np.ndarray, means: pd.DataFrame, *, levels: int, seed: int
) -> pd.DataFrame:
    """Sobol S1/ST (with 95 % confidence) or Morris mu*/sigma per figure and parameter.

    ``means`` has one row per point in design order and one column per figure (the mean over
    seeds). Figures with a missing value at any point are left out.
    """
    rows = []
    for fig in means.columns:
        y = means[fig].to_numpy(dtype=float)
        if not np.isfinite(y).all():
            continue
        if design == "sobol":
            from SALib.analyze import sobol

            if np.ptp(y) == 0:
                si = {k: np.zeros(problem["num_vars"]) for k in ("S1", "S1_conf", "ST", "ST_conf")}
            else:
                si = sobol.analyze(problem, y, calc_second_order=False, print_to_console=False, seed=seed)
            for i, name in enumerate(problem["names"]):
                rows.append(
                    {
                        "figure": fig,
                        "parameter": name,
                        "S1": float(si["S1"][i]),
                        "S1_conf": float(si["S1_conf"][i]),
                        "ST": float(si["ST"][i]),
                        "ST_conf": float(si["ST_conf"][i]),
                    }
                )
        elif design == "morris":
            from SALib.analyze import morris

            si = morris.analyze(problem, unit_points, y, num_levels=levels, print_to_console=False, seed=seed)
            for i, name in enumerate(problem["names"]):
                rows.append(
                    {
                        "figure": fig,
                        "parameter": name,
                        "mu": float(si["mu"][i]),
                        "mu_star": float(si["mu_star"][i]),
                        "mu_star_conf": float(si["mu_star_conf"][i]),
                        "sigma": float(si["sigma"][i]),
                    }
                )
    return pd.DataFrame(rows)
