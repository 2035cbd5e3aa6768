"""The compiled passes' calendar hands back, at every step, exactly whom a scan of everyone would find.

A scan of everyone on the move finds those with ``t_ready < t1``. The calendar must give the very
same people, ascending, whatever their times: on a step's end, NaN, infinite, far beyond its
ring of buckets, long past; with steps of any length, a step that jumps the whole ring, people
who leave the move while in it, newcomers listed twice, and a calendar built anew mid-run.
"""

from __future__ import annotations

import numpy as np
import pytest

from sim.engine import _compiled_calendar as cal

ON_MOVE, LEFT, GONE = 1, 2, 3  # on the move; off it in the passes (may come back); for good


def _times(rng: np.random.Generator, now: float, width: float, k: int) -> np.ndarray:
    """Ready times of every awkward kind: soon, on a step's end, far ahead, past, NaN, infinite."""
    kind = rng.integers(0, 7, k)
    t = now + rng.exponential(3 * width, k)
    t[kind == 1] = (np.floor(now / width) + rng.integers(0, 4, k)[kind == 1]) * width  # on a step's end
    t[kind == 2] = now + rng.uniform(20, 200, k)[kind == 2] * width  # beyond a small ring
    t[kind == 3] = now - rng.uniform(0, 50, k)[kind == 3]  # already past: due at once
    t[kind == 4] = np.nan
    t[kind == 5] = np.inf
    return t


@pytest.mark.timeout(120)  # a person put in twice would loop a bucket for ever
@pytest.mark.parametrize("ring", [4, 16, 1024])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_the_calendar_hands_back_whom_a_scan_would_find(ring, seed):
    rng = np.random.default_rng(seed)
    n, width = 700, 10.0
    state = np.zeros(n, dtype=np.int8)
    t_ready = np.full(n, np.inf)
    nxt, where, head, bits, meta = cal.arrays(n, ring)
    now, due_total, rebuilt, jumped = 0.0, 0, 0, 0
    newcomers = np.zeros(0, dtype=np.int64)
    for step in range(400):
        # Steps mostly of the width, some shorter or longer, a few over the whole ring.
        length = width * rng.choice([1.0, 1.0, 1.0, 0.3, 2.5, ring + 3.0], p=[0.6, 0.1, 0.1, 0.1, 0.07, 0.03])
        jumped += length > ring * width
        t1 = now + length
        if step % 97 == 50:  # the calendar made invalid (numpy passes ran): built anew from everyone
            meta[cal.VALID] = 0
        if meta[cal.VALID]:
            due = cal.drain(newcomers, t1, width, state, ON_MOVE, t_ready, nxt, where, head, bits, meta)
        else:
            due = cal.rebuild(t1, width, state, ON_MOVE, t_ready, nxt, where, head, meta)
            rebuilt += 1
        expect = np.flatnonzero((state == ON_MOVE) & (t_ready < t1))
        np.testing.assert_array_equal(due, expect, err_msg=f"step {step}")
        due_total += len(due)
        # The passes: of those due, some enter an arc (ready later), some arrive (off the move), some wait.
        fate = rng.integers(0, 3, len(due))
        t_ready[due[fate == 0]] = _times(rng, t1, width, int((fate == 0).sum()))
        state[due[fate == 1]] = LEFT
        cal.settle(due, width, state, ON_MOVE, t_ready, nxt, where, head, meta)
        # Between steps: some on the move leave it for good while in the calendar (casualties)...
        gone = rng.choice(n, 5, replace=False)
        state[gone[state[gone] == ON_MOVE]] = GONE
        # ...and newcomers set off or come back (some listed twice, some already on the move).
        free = np.flatnonzero((state == 0) | (state == LEFT))
        joining = rng.choice(free, min(12, len(free)), replace=False)
        state[joining] = ON_MOVE
        t_ready[joining] = _times(rng, t1, width, len(joining))
        already = rng.choice(np.flatnonzero(state == ON_MOVE), 3)
        newcomers = np.concatenate([joining, joining[:4], already])
        now = t1
    # Not trivial: many were due, the calendar was built anew and jumped, every bucket was used.
    assert due_total > 1000
    assert rebuilt >= 4
    assert jumped > 0
    assert (where >= 0).any() and (where == ring).any()  # some wait far ahead, beyond the ring


def test_the_key_is_monotone_at_a_steps_end_and_never_for_nan():
    width = 0.1  # not a binary fraction: t / width rounds
    t = np.cumsum(np.full(1000, width))  # step ends as a simulation adds them up
    for a, b in zip(t[:-1], t[1:], strict=True):
        assert cal.key_of(np.nextafter(b, 0.0), width) <= cal.key_of(b, width)
        assert cal.key_of(a, width) <= cal.key_of(b, width)
    assert cal.key_of(np.nan, width) == cal.key_of(np.inf, width) == cal.BIG
    assert cal.key_of(-np.inf, width) == -cal.BIG
