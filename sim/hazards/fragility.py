"""Lognormal fragility curves of the earthquake hazard (ground motion: ``ground.py``).

Sources (docs/hazards.md has the full table and caveats):

- Fragility medians and betas: HAZUS Earthquake Model Technical Manual, "equivalent-PGA"
  structural fragility curves (buildings, moderate code) and the lifeline tables (substations,
  bridges); see ``DEFAULT_FRAGILITY``.
"""

from __future__ import annotations

import numpy as np

from sim.core import fpmath


def damage_probability(intensity: np.ndarray, median: float, beta: float) -> np.ndarray:
    """Lognormal fragility: P(damage state reached | intensity) = Phi(ln(intensity / median) / beta)."""
    x = np.asarray(intensity, dtype=float)
    out = np.zeros(x.shape)
    pos = x > 0
    out[pos] = fpmath.ndtr(fpmath.log(x[pos] / median) / beta)
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
    "damage_probability",
]
