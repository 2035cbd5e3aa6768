"""How people react: departure delays turned from one uniform draw per citizen.

Each citizen carries one uniform number drawn at creation; the scenario's distribution turns
it into seconds by its inverse CDF. The same citizen is equally quick under every scenario
variant, and adding an order or an attack never shifts anybody's draw.
"""

from __future__ import annotations

import numpy as np

from sim.core import fpmath
from sim.scenario.schema import (
    ExponentialDelay,
    FixedDelay,
    LognormalDelay,
    RayleighDelay,
    UniformDelay,
    WeibullDelay,
)

_EPS = 1e-12


def departure_delays(dist: object, u: np.ndarray) -> np.ndarray:
    """Seconds from warning to departure for uniform draws ``u`` in [0, 1)."""
    u = np.clip(np.asarray(u, dtype=float), _EPS, 1.0 - _EPS)
    if isinstance(dist, FixedDelay):
        return np.full(len(u), float(dist.value))
    if isinstance(dist, LognormalDelay):
        return dist.median * fpmath.exp(dist.sigma * fpmath.ndtri(u))
    if isinstance(dist, RayleighDelay):
        return dist.scale * np.sqrt(-2.0 * fpmath.log1p(-u))
    if isinstance(dist, WeibullDelay):
        return dist.scale * fpmath.power(-fpmath.log1p(-u), 1.0 / dist.shape)
    if isinstance(dist, ExponentialDelay):
        return -dist.mean * fpmath.log1p(-u)
    if isinstance(dist, UniformDelay):
        return dist.low + u * (dist.high - dist.low)
    msg = f"unknown delay distribution {dist!r}"
    raise TypeError(msg)
