"""Lognormal fragility curves and the ground-motion relation of the earthquake hazard.

Sources (docs/hazards.md has the full table and caveats):

- Peak ground acceleration: Joyner and Boore (1981), *Peak horizontal acceleration and velocity
  from strong-motion records including records from the 1979 Imperial Valley, California,
  earthquake*, BSSA 71(6): log10 PGA[g] = -1.02 + 0.249 M - log10 r - 0.00255 r, with
  r = sqrt(d² + h²) km, d the epicentral distance. Joyner and Boore fitted h = 7.3 km; we use the
  scenario's focal depth as h (depth 7.3 km gives their relation exactly). Fitted for moment
  magnitudes 5.0 to 7.7 and distances up to 370 km; outside that it is an extrapolation.
- Fragility medians and betas: HAZUS Earthquake Model Technical Manual, "equivalent-PGA"
  structural fragility curves (buildings, moderate code) and the lifeline tables (substations,
  bridges); see ``DEFAULT_FRAGILITY``.
"""

from __future__ import annotations

import numpy as np
from scipy.special import ndtr

JB81 = {"a": -1.02, "b": 0.249, "c": -0.00255, "h_km": 7.3, "sigma_log10": 0.26}


def pga_joyner_boore_1981(magnitude: float, epicentral_km: np.ndarray, depth_km: float) -> np.ndarray:
    """Median peak ground acceleration in g at the given epicentral distances (km)."""
    d = np.asarray(epicentral_km, dtype=float)
    r = np.sqrt(d * d + depth_km * depth_km)
    log_pga = JB81["a"] + JB81["b"] * magnitude - np.log10(r) + JB81["c"] * r
    return 10.0**log_pga


def distance_for_pga(magnitude: float, depth_km: float, pga_g: float, *, max_km: float = 1000.0) -> float:
    """Epicentral distance (km) at which the median PGA falls to ``pga_g`` (0 if never reached)."""
    if pga_joyner_boore_1981(magnitude, np.array([0.0]), depth_km)[0] < pga_g:
        return 0.0
    lo, hi = 0.0, max_km
    for _ in range(60):  # PGA decreases with distance: bisection
        mid = 0.5 * (lo + hi)
        if pga_joyner_boore_1981(magnitude, np.array([mid]), depth_km)[0] >= pga_g:
            lo = mid
        else:
            hi = mid
    return lo


def damage_probability(intensity: np.ndarray, median: float, beta: float) -> np.ndarray:
    """Lognormal fragility: P(damage state reached | intensity) = Phi(ln(intensity / median) / beta)."""
    x = np.asarray(intensity, dtype=float)
    out = np.zeros(x.shape)
    pos = x > 0
    out[pos] = ndtr(np.log(x[pos] / median) / beta)
    return out


# Asset class -> (damage state that counts as failure, median PGA in g, beta).
DEFAULT_FRAGILITY: dict[str, tuple[str, float, float]] = {
    # HAZUS equivalent-PGA structural fragility, C2L (concrete shear wall, low rise), moderate code.
    "building": ("complete (collapse)", 0.87, 0.64),
    "shelter": ("extensive (unsafe, closed)", 0.49, 0.64),
    "server": ("extensive (out of service)", 0.49, 0.64),
    # HAZUS highway bridges, extensive state (PGA used in place of Sa(1.0 s)); beta 0.6 as in HAZUS.
    "bridge": ("extensive (closed)", 0.45, 0.6),
    # HAZUS electric power: low-voltage substation, anchored components, extensive state.
    "substation": ("extensive (out of service)", 0.45, 0.45),
    # Equipment in light steel structures: HAZUS S3 (steel light frame), moderate code, extensive.
    "cell_tower": ("extensive (out of service)", 0.33, 0.64),
    "radio_node": ("extensive (out of service)", 0.33, 0.64),
    "siren": ("extensive (out of service)", 0.33, 0.64),
    "sensor": ("extensive (out of service)", 0.33, 0.64),
}

__all__ = [
    "DEFAULT_FRAGILITY",
    "JB81",
    "damage_probability",
    "distance_for_pga",
    "pga_joyner_boore_1981",
]
