"""Asset states at any recorded time, rebuilt from the run's events (for maps and playback)."""

from __future__ import annotations

import pandas as pd

# Event kinds that change an asset's state, in the order they are applied at one time.
_DOWN = {"asset_failed", "asset_power_off", "device_isolated"}
_UP = {"asset_power_restored", "device_reimaged"}


def asset_states_at(assets: pd.DataFrame, events: pd.DataFrame, t_s: float) -> pd.DataFrame:
    """Each asset's state at ``t_s``: ``up``, ``on battery``, ``down`` or ``compromised``."""
    out = assets[["id", "kind", "subnet", "lon", "lat"]].copy()
    state = dict.fromkeys(out["id"], "up")
    battery: set[str] = set()
    failed: set[str] = set()
    upto = events[events["t_s"] <= t_s]
    for kind, subject in zip(upto["kind"], upto["subject"], strict=True):
        if subject not in state and kind not in ("power_cut", "power_restored"):
            continue
        if kind == "asset_failed":
            failed.add(subject)
            state[subject] = "down"
        elif kind in _DOWN:
            state[subject] = "down"
        elif kind in _UP and subject not in failed:
            state[subject] = "up"
            battery.discard(subject)
        elif kind == "device_compromised" and state.get(subject) != "down":
            state[subject] = "compromised"
        elif kind == "power_cut":
            fed = assets.loc[assets["power"] == subject, "id"]
            for a in fed:
                if state.get(a) == "up":
                    battery.add(a)
        elif kind == "power_restored":
            battery.difference_update(assets.loc[assets["power"] == subject, "id"])
    out["state"] = [("on battery" if a in battery and state[a] == "up" else state[a]) for a in out["id"]]
    return out


__all__ = ["asset_states_at"]
