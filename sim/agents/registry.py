"""Shelter registration and the registry: desks, check-in methods, sync, relatives told.

On arrival a person is inside the shelter (``present``, counted against its capacity) and
queues for a registration desk, first come first served, at the desk that frees first. The
check-in method depends on the person and on the registry being reachable from the shelter:

- ``digital_id`` (fast) if they have a digital ID, else ``phone`` (a QR code or SMS) if they have
  a phone, while the registry service works and the shelter's terminal is up;
- ``manual`` (slow, on paper) otherwise; paper records reach the registry when it works again.

A person is ``registered`` when their desk is done, and **in the registry** from then (online)
or from the moment the registry is back (paper). Their relatives get a "safe and well" message
a random delay after the registry entry, when the relatives-notification service works.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Callable

import numpy as np

DIGITAL, PHONE, MANUAL = 0, 1, 2
METHOD_NAMES = ("digital_id", "phone", "manual")
NEVER = np.inf


def desk_starts_reference(
    free: np.ndarray, ptr: np.ndarray, shelter: np.ndarray, arrival_t: np.ndarray, dur: np.ndarray
) -> np.ndarray:
    """When each person's registration starts, first come first served at the desk that frees first.

    People are sorted by shelter, then arrival. ``free[ptr[s]:ptr[s + 1]]`` holds when each desk of
    shelter ``s`` frees; each person takes the earliest (a heap here) and leaves it at their end
    (start + ``dur``). Only which times the desks hold matters, not their order.
    """
    start = np.empty(len(shelter))
    if len(shelter) == 0:
        return start
    bounds = np.flatnonzero(np.diff(shelter)) + 1
    for s0, s1 in zip(np.concatenate(([0], bounds)), np.append(bounds, len(shelter)), strict=True):
        row = int(shelter[s0])
        heap = free[ptr[row] : ptr[row + 1]].tolist()
        heapq.heapify(heap)
        for k in range(s0, s1):  # FIFO: the next person takes the desk that frees first
            earliest = heapq.heappop(heap)
            start[k] = max(earliest, arrival_t[k])
            heapq.heappush(heap, start[k] + dur[k])
        free[ptr[row] : ptr[row + 1]] = heap
    return start


class Passing:
    """Times written once per citizen, counted as the clock passes them: no pass over everyone.

    ``write`` takes each citizen's time once (a citizen queues, enters the registry and has their
    relatives told once). ``passed(t)``, asked at non-decreasing ``t``, counts those at most ``t``
    (NaN never), in all (``total``) and per group (``per_group``: a shelter row), and returns who
    passed since the last ask. Only the times not yet passed are kept (the desks' queues ahead).
    """

    def __init__(self) -> None:
        self.idx = np.zeros(0, dtype=np.int64)
        self.t = np.zeros(0)
        self.group = np.zeros(0, dtype=np.int64)
        self._new: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        self.total = 0
        self.per_group = np.zeros(0, dtype=np.int64)
        self.asked = -np.inf

    def write(self, idx: np.ndarray, times: np.ndarray, group: np.ndarray | None = None) -> None:
        """Citizens ``idx`` have their time now (once each): ``times``, in ``group`` (default 0)."""
        if len(idx):
            group = np.zeros(len(idx), dtype=np.int64) if group is None else np.asarray(group, dtype=np.int64)
            self._new.append((np.asarray(idx, dtype=np.int64), np.asarray(times, dtype=float), group))

    def passed(self, t: float) -> np.ndarray:
        """Count the times at most ``t``; returns who passed since the last ask (ascending by when written)."""
        if t < self.asked:
            raise ValueError(f"asked at {t} after {self.asked}: times are counted in order")
        self.asked = t
        if self._new:
            parts = [(self.idx, self.t, self.group), *self._new]
            self.idx, self.t, self.group = (np.concatenate([p[k] for p in parts]) for k in range(3))
            self._new = []
        due = self.t <= t
        who = self.idx[due]
        if len(who):
            counts = np.bincount(self.group[due])
            if len(counts) > len(self.per_group):
                self.per_group = np.append(self.per_group, np.zeros(len(counts) - len(self.per_group), dtype=np.int64))
            self.per_group[: len(counts)] += counts
            self.total += len(who)
            keep = ~due
            self.idx, self.t, self.group = self.idx[keep], self.t[keep], self.group[keep]
        return who

    def per(self, n_groups: int) -> np.ndarray:
        """The counts per group ``0..n_groups - 1`` (a new array)."""
        out = np.zeros(n_groups, dtype=np.int64)
        m = min(n_groups, len(self.per_group))
        out[:m] = self.per_group[:m]
        return out


class Registry:
    """Registration state of every citizen, vectorised; desks as one array of when each frees."""

    def __init__(
        self,
        n: int,
        *,
        service_s: tuple[float, float, float],
        relatives_delay_s: np.ndarray,
        desk_starts: Callable[..., np.ndarray] = desk_starts_reference,
    ):
        """``desk_starts``: :func:`desk_starts_reference` or a function computing exactly the same."""
        self.desk_starts = desk_starts
        self.service_s = np.asarray(service_s, dtype=float)
        self.arrival_t = np.full(n, NEVER)
        self.reg_start = np.full(n, NEVER)
        self.reg_t = np.full(n, NEVER)
        self.entry_t = np.full(n, NEVER)
        self.notified_t = np.full(n, NEVER)
        self.method = np.full(n, -1, dtype=np.int8)
        self.queued = np.zeros(n, dtype=bool)
        self.shelter = np.full(n, -1, dtype=np.int64)  # the row of the shelter each queued at
        self.paper = np.zeros(n, dtype=bool)  # registered on paper, not yet in the registry
        self.relatives_delay_s = relatives_delay_s
        # When each desk frees, shelter by shelter: desks of shelter s are desk_free[desk_ptr[s]:desk_ptr[s + 1]].
        self.desk_free = np.zeros(0)
        self.desk_ptr = np.zeros(1, dtype=np.int64)
        # Small working sets, so a tick costs what happens, not the size of the city.
        self._paper: list[np.ndarray] = []
        self._waiting: list[np.ndarray] = []  # entered the registry since the last notify
        # Relatives not yet told, as runs sorted by when they are due (idx, due_t): a notify reads
        # the fronts of a few runs instead of everyone waiting (sizes halve from run to run).
        self._runs: list[tuple[np.ndarray, np.ndarray]] = []
        # Each time as written, for the timeseries' counts (registered per shelter, in the registry
        # per shelter, relatives told) without a pass over everyone at every recorded time.
        self.registered_at, self.entered_at, self.told_at = Passing(), Passing(), Passing()

    def add_shelter(self, capacity: int, desks_per_100: float) -> None:
        """Desks for one more shelter (at least one)."""
        desks = max(1, math.ceil(capacity / 100.0 * desks_per_100))
        self.desk_free = np.append(self.desk_free, np.zeros(desks))
        self.desk_ptr = np.append(self.desk_ptr, len(self.desk_free))

    def desks(self, row: int) -> int:
        """How many desks shelter ``row`` has."""
        return int(self.desk_ptr[row + 1] - self.desk_ptr[row])

    def enqueue(
        self,
        idx: np.ndarray,
        shelter: np.ndarray,
        arrival_t: np.ndarray,
        *,
        digital_id: np.ndarray,
        has_phone: np.ndarray,
        online: np.ndarray,
    ) -> None:
        """Newly arrived citizens join their shelter's desk queue (in arrival order)."""
        if len(idx) == 0:
            return
        o = np.lexsort((idx, arrival_t, shelter))
        idx, shelter, arrival_t = idx[o], shelter[o], arrival_t[o]
        on = online[shelter]
        method = np.where(on & digital_id[idx], DIGITAL, np.where(on & has_phone[idx], PHONE, MANUAL))
        dur = self.service_s[method]
        start = self.desk_starts(self.desk_free, self.desk_ptr, shelter, arrival_t, dur)
        self.arrival_t[idx] = arrival_t
        self.reg_start[idx] = start
        self.reg_t[idx] = start + dur
        self.method[idx] = method
        self.queued[idx] = True
        self.shelter[idx] = shelter
        self.paper[idx] = method == MANUAL
        online_entry = idx[method != MANUAL]
        self.entry_t[online_entry] = self.reg_t[online_entry]
        self.registered_at.write(idx, self.reg_t[idx], shelter)
        self.entered_at.write(online_entry, self.entry_t[online_entry], shelter[method != MANUAL])
        self._waiting.append(online_entry)
        self._paper.append(idx[method == MANUAL])

    def sync(self, t: float, *, registry_up: bool) -> None:
        """Paper registrations done by ``t`` enter the registry while it works."""
        if not registry_up or not self._paper:
            return
        pending = np.concatenate(self._paper)
        due = pending[self.reg_t[pending] <= t]
        if len(due):
            self.entry_t[due] = t
            self.entered_at.write(due, self.entry_t[due], self.shelter[due])
            self.paper[due] = False
            self._waiting.append(due)
        rest = pending[self.paper[pending]]
        self._paper = [rest] if len(rest) else []

    def notify(self, t0: float, t1: float, *, service_up: bool) -> int:
        """Relatives' messages due before ``t1`` go out while the service works; returns how many.

        Each goes out at its due time (entering the registry plus the person's delay), or at
        ``t0`` if that has passed (the service was down then).
        """
        if not service_up:
            return 0
        if self._waiting:
            new = np.concatenate(self._waiting)
            self._waiting = []
            due_t = self.entry_t[new] + self.relatives_delay_s[new]
            o = np.argsort(due_t, kind="stable")
            self._runs.append((new[o], due_t[o]))
            while len(self._runs) > 1 and len(self._runs[-2][0]) <= 2 * len(self._runs[-1][0]):
                (a, a_t), (b, b_t) = self._runs[-2:]
                both, both_t = np.concatenate([a, b]), np.concatenate([a_t, b_t])
                o = np.argsort(both_t, kind="stable")
                self._runs[-2:] = [(both[o], both_t[o])]
        told = 0
        for r, (idx, due_t) in enumerate(self._runs):
            k = int(np.searchsorted(due_t, t1, side="left"))  # due before t1 (NaN last, never due)
            if k:
                self.notified_t[idx[:k]] = np.maximum(due_t[:k], t0)
                self.told_at.write(idx[:k], self.notified_t[idx[:k]])
                self._runs[r] = (idx[k:], due_t[k:])
                told += k
        self._runs = [run for run in self._runs if len(run[0])]
        return told

    def counts(self, t: float, shelter: np.ndarray, n_shelters: int) -> np.ndarray:
        """Registered people per shelter at ``t``."""
        done = self.queued & (self.reg_t <= t)
        return np.bincount(shelter[done], minlength=n_shelters)

    def figures(self, sheltered: np.ndarray, ordered: np.ndarray) -> dict[str, object]:
        """The ``shelter_operations`` block of the summary."""
        q = self.queued
        desk = self.reg_t[q] - self.reg_start[q]
        queue = self.reg_start[q] - self.arrival_t[q]
        methods = np.bincount(self.method[q], minlength=3) if q.any() else np.zeros(3, dtype=np.int64)
        notified = np.isfinite(self.notified_t)
        return {
            "registered": int((q & np.isfinite(self.reg_t)).sum()),
            "in_registry": int(np.isfinite(self.entry_t).sum()),
            "methods": {name: int(methods[i]) for i, name in enumerate(METHOD_NAMES)},
            "median_desk_time_s": round(float(np.median(desk)), 3) if len(desk) else None,
            "median_queue_wait_s": round(float(np.median(queue)), 3) if len(queue) else None,
            "max_queue_wait_s": round(float(queue.max()), 3) if len(queue) else None,
            "relatives_notified": int(notified.sum()),
            "unaccounted": int((ordered & ~notified).sum()),
            "sheltered_not_notified": int((sheltered & ~notified).sum()),
        }


__all__ = ["DIGITAL", "MANUAL", "METHOD_NAMES", "PHONE", "Passing", "Registry"]
