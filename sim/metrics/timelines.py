"""Long tables beside the wide ``timeseries``: one row per (time, shelter) and (time, service)."""

from __future__ import annotations

import numpy as np
import pandas as pd


def shelter_timeline(timeseries: pd.DataFrame, shelter_ids: list[str]) -> pd.DataFrame:
    """``t_s``, ``shelter``, ``present``, ``registered``, ``observed`` (the command centre's count).

    One row per (time, shelter), by time and then shelter id; a count the timeseries lacks is 0.
    Built as whole columns (a megacity has hundreds of shelters: one frame each took a second).
    """
    if not shelter_ids:
        return pd.DataFrame({"t_s": [], "shelter": [], "present": [], "registered": [], "observed": []})
    t = timeseries["t_s"].to_numpy()
    frame = pd.DataFrame(
        {
            # Shelter by shelter (their order), each over every recorded time, as the sort expects.
            "t_s": np.tile(t, len(shelter_ids)),
            "shelter": np.repeat(np.array(shelter_ids, dtype=object), len(t)),
            **{name: _block(timeseries, name, shelter_ids) for name in ("present", "registered", "observed")},
        }
    )
    return frame.sort_values(["t_s", "shelter"], kind="stable").reset_index(drop=True)


def _block(timeseries: pd.DataFrame, name: str, shelter_ids: list[str]) -> np.ndarray:
    """One count for every shelter in turn, over every recorded time (int64; 0 where not recorded)."""
    prefix = "shelter" if name == "present" else name
    out = np.zeros((len(shelter_ids), len(timeseries)), dtype=np.int64)
    cols = [f"{prefix}:{sid}" for sid in shelter_ids]
    have = [i for i, c in enumerate(cols) if c in timeseries]
    if have:
        out[have] = timeseries[[cols[i] for i in have]].astype("int64").to_numpy().T
    return out.ravel()


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
