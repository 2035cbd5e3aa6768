"""The schedule of departures hands back, at every step, exactly whom a scan of everyone at home finds.

People told a time, told again an earlier one (a second warning) or a later one (freed from a
quake's trapping), trapped or killed at home meanwhile, told NaN, infinite or long-past times,
several in one step or none for a while: at every step the schedule must give the very people
(ascending) a scan of everyone at home with ``depart_t < t_end`` gives, and must say when
somebody may next leave no later than the earliest such time.
"""

from __future__ import annotations

import numpy as np
import pytest

from sim.engine.departures import Departures

HOME, GONE, TRAPPED, DEAD = 0, 1, 5, 3


@pytest.mark.parametrize("kernels", ["0", "1"])  # numpy's look, and the compiled one
@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_the_schedule_hands_back_whom_a_scan_would_find(monkeypatch, seed, kernels):
    monkeypatch.setenv("SAFECITY_KERNELS", kernels)
    rng = np.random.default_rng(seed)
    n, step = 600, 10.0
    state = np.full(n, HOME, dtype=np.int8)
    depart_t = np.full(n, np.inf)
    sched = Departures()
    t, left, looked = 0.0, 0, 0
    for _ in range(300):
        t_end = t + step * rng.choice([1.0, 0.5, 3.0], p=[0.8, 0.1, 0.1])
        # Warnings: the earlier of the old time and a new one (some NaN, infinite or long past).
        at_home = np.flatnonzero((state == HOME) | (state == TRAPPED))
        if rng.random() < 0.3 and len(at_home):
            go = rng.choice(at_home, 25)  # some twice
            new = t + rng.exponential(60.0, len(go))
            kind = rng.random(len(go))
            new[kind < 0.05] = np.nan
            new[(kind >= 0.05) & (kind < 0.1)] = np.inf
            new[(kind >= 0.1) & (kind < 0.15)] = t - 500.0
            new[(kind >= 0.15) & (kind < 0.17)] = -np.inf
            depart_t[go] = np.minimum(depart_t[go], new)
            sched.leave_at(go, depart_t)
        # A quake traps some at home; later they are freed, their times put back to now at the earliest.
        if rng.random() < 0.05 and (state == HOME).any():
            state[rng.choice(np.flatnonzero(state == HOME), 10)] = TRAPPED
        if rng.random() < 0.05:
            freed = np.flatnonzero(state == TRAPPED)
            state[freed] = HOME
            leaving = freed[depart_t[freed] < np.inf]  # as EvacuationModel._release
            depart_t[leaving] = np.maximum(depart_t[leaving], t)
            sched.leave_at(leaving, depart_t)
        dead = rng.choice(n, 2)  # killed at home
        state[dead[state[dead] == HOME]] = DEAD
        expect = np.flatnonzero((state == HOME) & (depart_t < t_end))
        # The mover looks only when somebody may leave: never later than the earliest at home.
        times = depart_t[state == HOME]
        assert sched.next <= times[times < np.inf].min(initial=np.inf)
        got = sched.due(state, depart_t, HOME, t_end) if sched.next < t_end else np.zeros(0, dtype=np.int64)
        np.testing.assert_array_equal(got, expect)
        looked += 1
        state[got] = GONE
        left += len(got)
        t = t_end
    assert left > 200  # not trivial: many left, in many steps
    assert looked == 300
