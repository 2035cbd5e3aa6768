"""Compiled kernel of the derived terrain (numba): the distance from every grid cell to the water's edges.

Part of :mod:`sim.engine._compiled` (which re-exports it), kept apart to keep modules short; the
same ``cache=True`` rules apply. :func:`sim.city.terrain.distance_on_grid` (GEOS) is the
reference; ``tests/city/test_terrain_distance.py`` holds the two equal, bit for bit.
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
