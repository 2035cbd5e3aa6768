"""Who leaves home by a step's end: a schedule sorted by departure time instead of a scan.

Only two things ever set a departure time (``pop.depart_t``): a warning that convinces people
(:meth:`sim.engine.alerting.Alerting._leave`: the earlier of the old time and the new one) and
the end of a quake's trapping (:meth:`sim.engine.model.EvacuationModel._release`: not before
now). Both tell the schedule here (:meth:`Departures.leave_at`). It keeps everyone told, by the
time they were told, in time order; a step takes those before its end off the front, and of them
the ones still at home whose time now is before the step's end leave, ascending: exactly what a
scan of everyone at home finds (``tests/engine/test_who_is_scanned.py``). Someone told
twice is in it twice; an entry whose person has left (or is trapped, or whose time was put back)
is dropped when it comes up, and the later entry answers for them. The earliest time left in
it is when somebody may next leave (a bound: its person may have left since), so steps before
it look at nothing.

A scan of those at home cost about 30 µs a step at 20,000 people while they left (the first
hour), and 0.8 s at a million; a new entry costs a merge into the rest, once per warning.
"""

from __future__ import annotations

import numpy as np

from sim.engine import kernels

NEVER = np.inf


class Departures:
    """The schedule of departures (see the module docstring): ``next`` is when somebody may next leave."""

    def __init__(self) -> None:
        self.who = np.zeros(0, dtype=np.int64)  # in time order (ties in any order): who ...
        self.when = np.zeros(0)  # ... and the departure time they were told
        self.told: list[np.ndarray] = []  # told since the last step, not yet merged in
        self.next = NEVER

    def leave_at(self, idx: np.ndarray, depart_t: np.ndarray) -> None:
        """People ``idx`` were given a departure time (``depart_t[idx]``, set or changed)."""
        if len(idx):
            self.told.append(np.asarray(idx, dtype=np.int64))
            t = depart_t[idx]
            t = t[t < NEVER]  # (NaN would hide the others from min)
            if len(t):
                self.next = min(self.next, float(t.min()))

    def due(self, state: np.ndarray, depart_t: np.ndarray, at_home: int, t_end: float) -> np.ndarray:
        """Everyone at home whose departure time is before ``t_end``, ascending (they are taken off)."""
        if self.told:
            new = np.concatenate(self.told) if len(self.told) > 1 else self.told[0]
            self.told = []
            t = depart_t[new]
            keep = t < NEVER  # never (and NaN): nobody leaves
            new, t = new[keep], t[keep]
            order = np.argsort(t, kind="stable")
            new, t = new[order], t[order]
            at = np.searchsorted(self.when, t)
            self.who, self.when = np.insert(self.who, at, new), np.insert(self.when, at, t)
        if kernels.loaded():  # the same, in one call (about 5 µs a step against 20 to 40)
            from sim.engine._compiled_calendar import leaving

            out = leaving(self.who, self.when, float(t_end), state, depart_t, int(at_home))
            end, due = int(out[-1]), out[:-1]
        else:
            end = int(np.searchsorted(self.when, t_end))  # told a time before t_end
            up = self.who[:end]
            due = np.unique(up[(state[up] == at_home) & (depart_t[up] < t_end)])
        self.who, self.when = self.who[end:], self.when[end:]
        self.next = float(self.when[0]) if len(self.when) else NEVER
        return due
