"""Who is due by a step's end, from a calendar of ready times instead of a scan of everyone on the move.

A step's first pass looks at everyone on the move whose ready time is before the step's end
(``t_ready < t1``): they leave their arc, or wait at a node. Scanning everyone on the move for
them costs a look at each of thousands of people per step, while a few hundred are due. Here
everyone on the move sits in one bucket of a calendar, keyed by when they are ready:

    key(t) = ceil(t / width)        (``width``: the step's length)

``t / width`` rounded and ``ceil`` are both monotone, so ``t < t1`` gives ``key(t) <= key(t1)``:
everyone due by ``t1`` is in a bucket up to ``key(t1)``, whatever rounding the times took. The
buckets up to there are emptied (at least one more than last time) and each person in them is
looked at exactly: those due are handed back (ascending, as a scan gives them); the others go
back in by their own key. Nobody is looked at twice but when a key falls on a step's end.

Buckets are singly linked lists (``nxt`` per person, ``head`` per bucket) over a ring of
``len(head) - 1`` keys after the last emptied; people further ahead (or never ready: NaN, inf)
wait in one more list, ``head[-1]``, looked at again every half turn of the ring. ``where``: the
bucket of each person, -1 when in none; ``meta``: whether the calendar is valid, the last key
emptied and the key at which the far list is looked at again. Only the compiled passes change
``t_ready``, ``state`` or ``arc`` of people in the calendar, and only those it handed back as
due (:func:`settle` puts them back); anything else (the numpy passes, an entry from Python)
makes it invalid, and the next step builds it anew from a scan of everyone (:func:`rebuild`).
People whose state left "on the move" (sheltered, stranded, casualties) are dropped when their
bucket is emptied. Those who set off or were routed again since the last step are put in first.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numba.cpython.unsafe.numbers import trailing_zeros

from sim.engine._kernel_cache import njit

VALID, LAST, FAR_AT = 0, 1, 2  # the fields of ``meta``
BIG = 1 << 62  # the key of a time never reached (NaN, inf, beyond any run)


@njit(cache=True)
def key_of(t: float, width: float) -> int:
    """``ceil(t / width)``, or ``BIG`` for NaN and times beyond any run (``-BIG`` long before)."""
    x = t / width
    if not x <= 4e18:  # NaN or too far ahead
        return BIG
    if x < -4e18:
        return -BIG
    return int(np.ceil(x))


@njit(cache=True)
def insert(i: int, t: float, width: float, nxt: Any, where: Any, head: Any, last: int) -> None:
    """Person ``i``, ready at ``t``, into the bucket of ``key(t)`` (not before ``last + 1``; far: the far list)."""
    ring = len(head) - 1
    b = key_of(t, width)
    if b <= last:
        b = last + 1
    slot = ring if b > last + ring else b % ring
    nxt[i] = head[slot]
    head[slot] = i
    where[i] = slot


@njit(cache=True)
def _empty(
    slot: int, t1: float, width: float, last: int, state: Any, on_move: int, t_ready: Any,
    nxt: Any, where: Any, head: Any, bits: Any, span: Any,
) -> int:  # fmt: skip
    """Empty bucket ``slot``: those due by ``t1`` marked in ``bits``, the rest put back; returns how many are due."""
    i = head[slot]
    head[slot] = -1  # taken off first: those put back start a new list
    due = 0
    while i >= 0:
        after = nxt[i]
        where[i] = -1
        if state[i] == on_move:
            if t_ready[i] < t1:
                w = i >> 6
                bits[w] |= np.uint64(1) << np.uint64(i & 63)
                span[0] = min(span[0], w)
                span[1] = max(span[1], w)
                due += 1
            else:
                insert(i, t_ready[i], width, nxt, where, head, last)
        i = after
    return due


@njit(cache=True)
def _marked(bits: Any, span: Any, n_due: int) -> Any:
    """The people marked in ``bits`` words ``span[0]`` to ``span[1]``, ascending; their marks cleared."""
    due = np.empty(n_due, dtype=np.int64)
    c = 0
    for w in range(span[0], span[1] + 1):
        x = bits[w]
        while x != 0:
            due[c] = (w << 6) + trailing_zeros(x)
            c += 1
            x &= x - np.uint64(1)
        bits[w] = 0
    return due


@njit(cache=True)
def drain(
    newcomers: Any, t1: float, width: float, state: Any, on_move: int, t_ready: Any,
    nxt: Any, where: Any, head: Any, bits: Any, meta: Any,
) -> Any:  # fmt: skip
    """Everyone on the move with ``t_ready < t1``, ascending (what a scan of everyone on the move finds).

    ``newcomers``: people who set off or were routed again since the last step (maybe some twice,
    or no longer on the move); they go in first. The buckets from the last emptied one up to
    ``key(t1)`` (at least one) are emptied.
    """
    ring = len(head) - 1
    last = meta[LAST]
    for i in newcomers:
        if state[i] == on_move and where[i] < 0:
            insert(i, t_ready[i], width, nxt, where, head, last)
    upto = max(key_of(t1, width), last + 1)
    span = np.array([len(bits), -1], dtype=np.int64)
    n_due = 0
    if upto - last >= ring:  # a jump over the whole ring: every bucket
        for slot in range(ring):
            n_due += _empty(slot, t1, width, upto, state, on_move, t_ready, nxt, where, head, bits, span)
    else:
        for b in range(last + 1, upto + 1):
            n_due += _empty(b % ring, t1, width, upto, state, on_move, t_ready, nxt, where, head, bits, span)
    if upto >= meta[FAR_AT]:  # the far list, every half turn (a jump of more included: FAR_AT - LAST <= ring // 2)
        n_due += _empty(ring, t1, width, upto, state, on_move, t_ready, nxt, where, head, bits, span)
        meta[FAR_AT] = upto + ring // 2
    meta[LAST] = upto
    return _marked(bits, span, n_due)


@njit(cache=True)
def rebuild(
    t1: float, width: float, state: Any, on_move: int, t_ready: Any, nxt: Any, where: Any, head: Any, meta: Any
) -> Any:
    """The calendar anew from a scan of everyone: returns those due by ``t1`` (ascending), the others put in."""
    head[:] = -1
    where[:] = -1
    ring = len(head) - 1
    upto = key_of(t1, width)
    due = np.empty(len(state), dtype=np.int64)
    n_due = 0
    for i in range(len(state)):
        if state[i] != on_move:
            continue
        if t_ready[i] < t1:
            due[n_due] = i
            n_due += 1
        else:
            insert(i, t_ready[i], width, nxt, where, head, upto)
    meta[VALID], meta[LAST], meta[FAR_AT] = 1, upto, upto + ring // 2
    return due[:n_due]


@njit(cache=True)
def settle(
    due: Any, width: float, state: Any, on_move: int, t_ready: Any, nxt: Any, where: Any, head: Any, meta: Any
) -> None:
    """The step's due back in the calendar by their new ready times (those still waiting: next step)."""
    last = meta[LAST]
    for i in due:
        if state[i] == on_move and where[i] < 0:
            insert(i, t_ready[i], width, nxt, where, head, last)


def arrays(n: int, ring: int = 1024) -> tuple[np.ndarray, ...]:
    """An empty (invalid) calendar for ``n`` people and a ring of ``ring`` keys: ``nxt, where, head, bits, meta``.

    Eight bytes a person and one bit (``nxt`` and ``where`` as 32-bit integers).
    """
    return (
        np.full(n, -1, dtype=np.int32),
        np.full(n, -1, dtype=np.int32),
        np.full(ring + 1, -1, dtype=np.int64),
        np.zeros((n + 63) // 64, dtype=np.uint64),
        np.zeros(3, dtype=np.int64),
    )
