"""Asset states at any recorded time, rebuilt from the run's events (for maps and playback)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

# Event kinds that change an asset's state, in the order they are applied at one time.
_DOWN = {"asset_failed", "asset_power_off", "device_isolated"}
_UP = {"asset_power_restored", "device_reimaged"}
_RELEVANT = _DOWN | _UP | {"device_compromised", "power_cut", "power_restored"}


class _Replay:
    """Applies events one by one and reports every asset's state."""

    def __init__(self, assets: pd.DataFrame):
        self.assets = assets
        self.ids = list(assets["id"])
        self.state = dict.fromkeys(self.ids, "up")
        self.battery: set[str] = set()
        self.failed: set[str] = set()
        self.fed = {p: list(g["id"]) for p, g in assets.groupby("power")} if "power" in assets else {}

    def apply(self, kind: str, subject: str) -> None:
        state = self.state
        if subject not in state and kind not in ("power_cut", "power_restored"):
            return
        if kind == "asset_failed":
            self.failed.add(subject)
            state[subject] = "down"
        elif kind in _DOWN:
            state[subject] = "down"
        elif kind in _UP and subject not in self.failed:
            state[subject] = "up"
            self.battery.discard(subject)
        elif kind == "device_compromised" and state.get(subject) != "down":
            state[subject] = "compromised"
        elif kind == "power_cut":
            for a in self.fed.get(subject, []):
                if state.get(a) == "up":
                    self.battery.add(a)
        elif kind == "power_restored":
            self.battery.difference_update(self.fed.get(subject, []))

    def frame(self) -> pd.DataFrame:
        out = self.assets[["id", "kind", "subnet", "lon", "lat"]].copy()
        out["state"] = [
            ("on battery" if a in self.battery and self.state[a] == "up" else self.state[a]) for a in self.ids
        ]
        return out


def asset_states_at(assets: pd.DataFrame, events: pd.DataFrame, t_s: float) -> pd.DataFrame:
    """Each asset's state at ``t_s``: ``up``, ``on battery``, ``down`` or ``compromised``."""
    return asset_state_frames(assets, events, [t_s])[0]


def asset_state_frames(assets: pd.DataFrame, events: pd.DataFrame, times: Sequence[float]) -> list[pd.DataFrame]:
    """Every asset's state at each of ``times`` (ascending), in one pass over the events."""
    replay = _Replay(assets)
    ev = events[events["kind"].isin(_RELEVANT)]
    t_ev = ev["t_s"].to_numpy(dtype=float)
    kinds, subjects = list(ev["kind"]), list(ev["subject"])
    order = np.argsort(np.asarray(times, dtype=float), kind="stable")
    out: list[pd.DataFrame | None] = [None] * len(times)
    i = 0
    for k in order:
        t = float(times[k])
        while i < len(t_ev) and t_ev[i] <= t:
            replay.apply(kinds[i], subjects[i])
            i += 1
        out[k] = replay.frame()
    return [f for f in out if f is not None]


__all__ = ["asset_state_frames", "asset_states_at"]
