"""Traffic per road: people entered, queues and delays per time bin, and totals per road.

Each arc is a first-come server (docs/movement.md): a citizen who reaches a node waits until
the arc's capacity (and its room) lets them in. That wait is the delay over free
flow, and the people waiting for an arc are its queue. The mover reports every entry (with its
wait) and keeps, for every citizen a queue could not take, the arc they wait for; the recorder
closes a bin at every recorded time (``output.record_every``) with those queues, like MATSim's
linkstats or SUMO's edgeData per interval.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sim.engine.movement import scatter_max


class RoadFlows:
    """Per road (segment, both directions together) and time bin: entered, queue, mean delay.

    Args:
        n_roads: road segments of the city.
    """

    def __init__(self, n_roads: int):
        self.n = n_roads
        self.bin_entered = np.zeros(n_roads, dtype=np.int64)
        self.bin_delay_s = np.zeros(n_roads)
        self.passed = np.zeros(n_roads, dtype=np.int64)
        self.longest_wait_s = np.zeros(n_roads)
        self.peak_queue = np.zeros(n_roads, dtype=np.int64)
        self.peak_queue_t = np.full(n_roads, np.nan)
        self._parts: list[dict[str, np.ndarray]] = []
        self._bin_t = -1.0

    def entered(self, roads: np.ndarray, wait_s: np.ndarray) -> None:
        """People entered ``roads`` after waiting ``wait_s`` at the entrance."""
        if len(roads) == 0:
            return
        self.bin_entered += np.bincount(roads, minlength=self.n)
        self.bin_delay_s += np.bincount(roads, weights=wait_s, minlength=self.n)
        scatter_max(self.longest_wait_s, roads, wait_s)

    def close_bin(self, t: float, queue_per_road: np.ndarray) -> None:
        """End the bin at ``t``: one row per road that had entries or a queue.

        ``queue_per_road``: how many citizens wait now at an entrance of each road (whole numbers).
        """
        if t == self._bin_t:
            return
        self._bin_t = t
        queue = np.asarray(queue_per_road).astype(np.int64)
        higher = queue > self.peak_queue
        self.peak_queue[higher] = queue[higher]
        self.peak_queue_t[higher] = t
        self.passed += self.bin_entered
        rows = np.flatnonzero((self.bin_entered > 0) | (queue > 0))
        with np.errstate(invalid="ignore", divide="ignore"):
            mean_delay = np.where(self.bin_entered[rows] > 0, self.bin_delay_s[rows] / self.bin_entered[rows], np.nan)
        self._parts.append(
            {
                "t_s": np.full(len(rows), float(t)),
                "road": rows,
                "entered": self.bin_entered[rows].copy(),
                "queue": queue[rows],
                "mean_delay_s": mean_delay,
            }
        )
        self.bin_entered[:] = 0
        self.bin_delay_s[:] = 0.0

    def table(self, road_ids: pd.Series) -> pd.DataFrame:
        """``road_flows``: one row per road and bin end ``t_s`` with traffic (sparse)."""
        cols = ("t_s", "road", "entered", "queue", "mean_delay_s")
        if not self._parts:
            data = {c: np.zeros(0) for c in cols}
        else:
            data = {c: np.concatenate([p[c] for p in self._parts]) for c in cols}
        # One text per road, shared by its rows (a million rows would otherwise hold a million copies).
        ids = np.array([str(r) for r in road_ids.to_numpy()], dtype=object)
        return pd.DataFrame(
            {
                "t_s": data["t_s"],
                "road_id": ids[data["road"].astype(np.int64)],
                "entered": data["entered"].astype(np.int64),
                "queue": data["queue"].astype(np.int64),
                "mean_delay_s": data["mean_delay_s"],
            }
        )


__all__ = ["RoadFlows"]
