"""Compiled kernels of the terrain (numba): the distance from every grid cell to the water's edges, and spill levels.

Part of :mod:`sim.engine._compiled` (which re-exports them), kept apart to keep modules short;
the same ``cache=True`` rules apply. :func:`sim.city.terrain.distance_on_grid` (GEOS) is the
distance's reference (``tests/city/test_terrain_distance.py`` holds the two equal, bit for
bit); labelling the cells below each level is the spill levels' (``tests/hazards/test_spill_levels.py``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from sim.engine._kernel_cache import njit


@njit(cache=True)
def point_to_segment(px: float, py: float, ax: float, ay: float, bx: float, by: float) -> float:
    """GEOS's ``Distance::pointToSegment``: the same operations in the same order, so the same bits.

    Only ``+ - * /`` and ``sqrt``, each correctly rounded by IEEE 754 on every processor (numba
    compiles without fast-math, so nothing is fused into a multiply-add).
    """
    if ax == bx and ay == by:
        dx, dy = px - ax, py - ay
        return np.sqrt(dx * dx + dy * dy)
    len2 = (bx - ax) * (bx - ax) + (by - ay) * (by - ay)
    r = ((px - ax) * (bx - ax) + (py - ay) * (by - ay)) / len2
    if r <= 0.0:
        dx, dy = px - ax, py - ay
        return np.sqrt(dx * dx + dy * dy)
    if r >= 1.0:
        dx, dy = px - bx, py - by
        return np.sqrt(dx * dx + dy * dy)
    s = ((ay - py) * (bx - ax) - (ax - px) * (by - ay)) / len2
    return abs(s) * np.sqrt(len2)


@njit(cache=True)
def distance_on_grid(xs: Any, ys: Any, ax: Any, ay: Any, bx: Any, by: Any, block: int) -> Any:
    """Least :func:`point_to_segment` from every point ``(xs[c], ys[r])`` to the edges ``a -> b``.

    Returns ``(len(ys), len(xs))``. Blocks of ``block`` x ``block`` points measure only the edges
    that can be nearest to one of their points (within the least distance from the block's centre
    plus its diameter, with room for rounding), as :func:`sim.city.terrain.distance_on_grid` does.
    """
    rows, cols, n = len(ys), len(xs), len(ax)
    out = np.full((rows, cols), np.inf)
    d_centre = np.empty(n)
    cand = np.empty(n, dtype=np.int64)
    for r0 in range(0, rows, block):
        r1 = min(r0 + block, rows)
        lo_y, hi_y = min(ys[r0], ys[r1 - 1]), max(ys[r0], ys[r1 - 1])
        for c0 in range(0, cols, block):
            c1 = min(c0 + block, cols)
            lo_x, hi_x = min(xs[c0], xs[c1 - 1]), max(xs[c0], xs[c1 - 1])
            cx, cy = (lo_x + hi_x) / 2.0, (lo_y + hi_y) / 2.0
            rad = np.sqrt((hi_x - lo_x) ** 2 + (hi_y - lo_y) ** 2) / 2.0
            least = np.inf
            for e in range(n):
                d_centre[e] = point_to_segment(cx, cy, ax[e], ay[e], bx[e], by[e])
                least = min(least, d_centre[e])
            # No edge farther than this from the centre is nearest to any point of the block.
            limit = least + 2.0 * rad + 1e-6 * (1.0 + least + rad)
            k = 0
            for e in range(n):
                if d_centre[e] <= limit:
                    cand[k] = e
                    k += 1
            for i in range(r0, r1):
                py = ys[i]
                for j in range(c0, c1):
                    px = xs[j]
                    best = np.inf
                    for q in range(k):
                        e = cand[q]
                        d = point_to_segment(px, py, ax[e], ay[e], bx[e], by[e])
                        if d < best:
                            best = d
                    out[i, j] = best
    return out


@njit(cache=True)
def _heap_push(keys: Any, cells: Any, size: int, key: float, cell: int) -> int:
    """Push ``(key, cell)`` on the binary min-heap ``keys[:size]``, ``cells[:size]``; returns the new size."""
    i = size
    while i > 0:
        parent = (i - 1) >> 1
        if keys[parent] <= key:
            break
        keys[i] = keys[parent]
        cells[i] = cells[parent]
        i = parent
    keys[i] = key
    cells[i] = cell
    return size + 1


@njit(cache=True)
def _heap_pop(keys: Any, cells: Any, size: int) -> int:
    """Drop the heap's top (read it first from ``keys[0]``, ``cells[0]``); returns the new size."""
    size -= 1
    key, cell = keys[size], cells[size]
    i = 0
    while True:
        child = 2 * i + 1
        if child >= size:
            break
        if child + 1 < size and keys[child + 1] < keys[child]:
            child += 1
        if keys[child] >= key:
            break
        keys[i] = keys[child]
        cells[i] = cells[child]
        i = child
    if size > 0:
        keys[i] = key
        cells[i] = cell
    return size


@njit(cache=True)
def spill_levels(height: Any, inside: Any, source: Any) -> Any:
    """Per cell, the lowest water level at which a connected bathtub from ``source`` wets it (inf: never).

    A cell is wet at level ``L`` when a path of 4-neighbour cells, all ``inside`` and all lower
    than ``L``, joins it to a source cell (itself lower than ``L``): what labelling the cells
    below ``L`` and keeping the labels that hold a source finds. So it is wet exactly when ``L``
    is above the least, over such paths, of the highest ground on the path: a priority flood from
    the sources (Dijkstra's search with the maximum instead of the sum). Only heights are
    compared and kept, none is computed, so ``spill < L`` gives the labelling's cells exactly; a
    NaN height is never wet, as ``NaN < L`` never holds.
    """
    rows, cols = height.shape
    n = rows * cols
    h = height.ravel()
    ok = inside.ravel()
    src = source.ravel()
    spill = np.full(n, np.inf)
    # Each cell is pushed once as a source and at most once more per neighbour that lowers it.
    keys = np.empty(5 * n + 1)
    cells = np.empty(5 * n + 1, dtype=np.int64)
    size = 0
    for c in range(n):
        if src[c] and ok[c] and h[c] == h[c]:
            spill[c] = h[c]
            size = _heap_push(keys, cells, size, h[c], c)
    while size > 0:
        key, c = keys[0], cells[0]
        size = _heap_pop(keys, cells, size)
        if key > spill[c]:  # lowered since it was pushed: already spread from there
            continue
        r = c // cols
        col = c - r * cols
        for k in range(4):
            if k == 0:
                if r == 0:
                    continue
                nb = c - cols
            elif k == 1:
                if r == rows - 1:
                    continue
                nb = c + cols
            elif k == 2:
                if col == 0:
                    continue
                nb = c - 1
            else:
                if col == cols - 1:
                    continue
                nb = c + 1
            hn = h[nb]
            if not ok[nb] or hn != hn:
                continue
            level = key if key >= hn else hn
            if level < spill[nb]:
                spill[nb] = level
                size = _heap_push(keys, cells, size, level, nb)
    return spill.reshape(rows, cols)
