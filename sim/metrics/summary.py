"""The run's KPIs (``summary.json``), as pure functions of its tables."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

PERCENTILES = (50, 90, 95, 100)


def clearance_times(ordered_t: np.ndarray, arrival_t: np.ndarray) -> dict[str, float | None]:
    """``tXX_s``: when XX % of the citizens ordered to evacuate had reached a shelter (None if never)."""
    ordered = np.isfinite(ordered_t)
    n = int(ordered.sum())
    arrivals = np.sort(arrival_t[ordered & np.isfinite(arrival_t)])
    out: dict[str, float | None] = {}
    for pct in PERCENTILES:
        need = math.ceil(pct / 100.0 * n - 1e-9)
        key = f"t{pct}_s"
        if n == 0 or need == 0:
            out[key] = None if n == 0 else 0.0
        elif need <= len(arrivals):
            out[key] = round(float(arrivals[need - 1]), 3)
        else:
            out[key] = None
    return out


def evacuation_figures(outcomes: pd.DataFrame, state_codes: dict[str, int]) -> dict[str, Any]:
    """Counts and clearance times of the ``evacuation`` block."""
    ordered_t = outcomes["ordered_t"].to_numpy()
    arrival_t = outcomes["arrival_t"].to_numpy()
    state = outcomes["state"].to_numpy()
    ordered = np.isfinite(ordered_t)
    fig: dict[str, Any] = {
        "ordered": int(ordered.sum()),
        "sheltered": int((state == state_codes["sheltered"]).sum()),
        "evacuating": int((state == state_codes["evacuating"]).sum()),
        "stranded": int((state == state_codes["stranded"]).sum()),
        "not_departed": int((ordered & (state == state_codes["at_home"])).sum()),
        "casualties": int((state == state_codes["casualties"]).sum()),
        "trapped": int((state == state_codes["trapped"]).sum()),
        # Of the sheltered, those ordered out; and those who left without an order (the
        # order's shadow: docs/movement.md), who are in the counts above but not in tXX_s.
        "sheltered_ordered": int((ordered & (state == state_codes["sheltered"])).sum()),
        "shadow_evacuees": int(
            (~ordered & np.isin(state, [state_codes[k] for k in ("evacuating", "sheltered", "stranded")])).sum()
        ),
    }
    fig.update(clearance_times(ordered_t, arrival_t))
    return fig


def alert_figures(outcomes: pd.DataFrame, events: pd.DataFrame) -> dict[str, Any]:
    """The ``alerts`` block: first order, share of the ordered who were warned, median delay."""
    ordered_t = outcomes["ordered_t"].to_numpy()
    warned_t = outcomes["warned_t"].to_numpy()
    ordered = np.isfinite(ordered_t)
    warned = ordered & np.isfinite(warned_t)
    orders = events[events["kind"] == "order_issued"]
    return {
        "first_issued_s": float(orders["t_s"].min()) if len(orders) else None,
        "reach_fraction": round(float(warned.sum() / ordered.sum()), 6) if ordered.any() else None,
        "median_receipt_delay_s": round(float(np.median(warned_t[warned] - ordered_t[warned])), 3)
        if warned.any()
        else None,
    }


def shelter_figures(shelters: pd.DataFrame) -> dict[str, dict[str, int]]:
    """Per shelter: capacity, peak and final occupancy, turned away."""
    return {
        str(r.id): {
            "capacity": int(r.capacity),
            "peak_occupancy": int(r.peak_occupancy),
            "final_occupancy": int(r.final_occupancy),
            "turned_away": int(r.turned_away),
        }
        for r in shelters.itertuples()
    }


def hazard_figures(events: pd.DataFrame, hazards: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Per hazard (by id): what it closed, damaged and broke, counted from the events."""
    out: dict[str, dict[str, Any]] = {}
    cause = events["cause"]
    for i, h in enumerate(hazards):
        label = h.get("id") or f"{h['type']}-{i}"
        mine = events[cause == label]
        kinds = mine["kind"]
        out[label] = {
            "type": h["type"],
            "at_s": float(h.get("at", 0.0)),
            "roads_closed": int(mine.loc[kinds == "road_closed", "subject"].nunique()),
            "assets_failed": int((kinds == "asset_failed").sum()),
            "shelters_damaged": int((kinds == "shelter_damaged").sum()),
            "buildings_collapsed": int((kinds == "building_collapsed").sum())
            + int(mine.loc[kinds == "buildings_collapsed", "count"].fillna(0).sum()),
        }
    return out


def build_summary(
    *,
    scenario: dict[str, Any],
    population: int,
    outcomes: pd.DataFrame,
    shelters: pd.DataFrame,
    events: pd.DataFrame,
    state_codes: dict[str, int],
    services: dict[str, dict[str, Any]] | None = None,
    cyber: dict[str, Any] | None = None,
    relatives_notified_fraction: float | None = None,
    casualties_by_cause: dict[str, int] | None = None,
    channels: dict[str, dict[str, Any]] | None = None,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The whole ``summary.json`` (its keys are listed in the README, "The run directory")."""
    summary: dict[str, Any] = {
        "scenario": scenario["name"],
        "seed": scenario["seed"],
        "duration_s": float(scenario["duration"]),
        "population": int(population),
        "evacuation": evacuation_figures(outcomes, state_codes) | {"casualties_by_cause": casualties_by_cause or {}},
        "shelters": shelter_figures(shelters),
        "alerts": alert_figures(outcomes, events) | {"channels": channels or {}},
        "services": services or {},
        "cyber": cyber
        or {"devices_total": 0, "devices_compromised_peak": 0, "records_exposed": 0, "false_readings": 0},
        "relatives_notified_fraction": relatives_notified_fraction,
        "hazards": hazard_figures(events, scenario.get("hazards", [])),
    }
    if extra:
        summary.update(extra)
    return summary
