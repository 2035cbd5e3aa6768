"""Long tables beside the wide ``timeseries``: one row per (time, shelter) and (time, service)."""

from __future__ import annotations

import pandas as pd


def shelter_timeline(timeseries: pd.DataFrame, shelter_ids: list[str]) -> pd.DataFrame:
    """``t_s``, ``shelter``, ``present``, ``registered``, ``observed`` (the command centre's count)."""
    frames = []
    for sid in shelter_ids:
        frames.append(
            pd.DataFrame(
                {
                    "t_s": timeseries["t_s"].to_numpy(),
                    "shelter": sid,
                    "present": _column(timeseries, f"shelter:{sid}"),
                    "registered": _column(timeseries, f"registered:{sid}"),
                    "observed": _column(timeseries, f"observed:{sid}"),
                }
            )
        )
    if not frames:
        return pd.DataFrame({"t_s": [], "shelter": [], "present": [], "registered": [], "observed": []})
    return pd.concat(frames, ignore_index=True).sort_values(["t_s", "shelter"], kind="stable").reset_index(drop=True)


def service_timeline(timeseries: pd.DataFrame) -> pd.DataFrame:
    """``t_s``, ``service``, ``up`` (1 working, 0 down) and ``level`` (share served) for every service."""
    cols = [c for c in timeseries.columns if c.startswith("service:")]
    long = timeseries.melt(id_vars=["t_s"], value_vars=cols, var_name="service", value_name="up")
    long["service"] = long["service"].str.removeprefix("service:")
    long["up"] = long["up"].astype("int8")
    levels = [c for c in timeseries.columns if c.startswith("level:")]
    if levels:
        lv = timeseries.melt(id_vars=["t_s"], value_vars=levels, var_name="service", value_name="level")
        lv["service"] = lv["service"].str.removeprefix("level:")
        long = long.merge(lv, on=["t_s", "service"], how="left")
    else:
        long["level"] = long["up"].astype(float)
    return long.sort_values(["t_s", "service"], kind="stable").reset_index(drop=True)


def _column(frame: pd.DataFrame, name: str):
    return frame[name].astype("int64").to_numpy() if name in frame else 0
