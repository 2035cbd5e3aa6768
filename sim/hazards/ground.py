"""Ground motion of the earthquake hazard: attenuation, finite rupture, site class, scatter.

Sources (docs/hazards.md has the full text and caveats):

- Joyner, W. B. and Boore, D. M. (1981), *Peak horizontal acceleration and velocity from
  strong-motion records including records from the 1979 Imperial Valley, California,
  earthquake*, BSSA 71(6), 2011-2038: ``log10 PGA[g] = -1.02 + 0.249 M - log10 r - 0.00255 r``
  with ``r = sqrt(d² + 7.3²)`` km, ``d`` the closest distance to the surface projection of the
  rupture; standard deviation 0.26 in log10 units. The 7.3 km is a fitted constant of the
  relation, not the focal depth.
- Wells, D. L. and Coppersmith, K. J. (1994), *New empirical relationships among magnitude,
  rupture length, rupture width, rupture area, and surface displacement*, BSSA 84(4), 974-1002,
  Table 2A, all slip types: subsurface rupture length ``log10 RLD[km] = -2.44 + 0.59 M``.
- Site classes: NEHRP short-period site coefficients Fa (BSSC 1997 NEHRP Recommended
  Provisions, Table 4.1.2.4a), applied to PGA as HAZUS does for its site classes, with the
  short-period spectral acceleration of the column taken as ``2.5 x`` the rock PGA.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from sim.core import fpmath

JB81 = {"a": -1.02, "b": 0.249, "c": -0.00255, "h_km": 7.3, "sigma_log10": 0.26}
FINITE_FROM_M = 6.5  # from this magnitude on, distances are measured to a finite rupture
WC94_RLD = {"a": -2.44, "b": 0.59}  # Wells & Coppersmith 1994, subsurface rupture length, all slip types

# NEHRP Fa by site class at short-period spectral accelerations Ss = 0.25, 0.5, 0.75, 1.0, >= 1.25 g.
FA_SS = (0.25, 0.5, 0.75, 1.0, 1.25)
FA = {
    "B": (1.0, 1.0, 1.0, 1.0, 1.0),
    "C": (1.2, 1.2, 1.1, 1.0, 1.0),
    "D": (1.6, 1.4, 1.2, 1.1, 1.0),
    "E": (2.5, 1.7, 1.2, 0.9, 0.9),
}
SS_PER_PGA = 2.5  # short-period spectral acceleration over PGA for the Fa column


def pga_joyner_boore_1981(magnitude: float, distance_km: np.ndarray) -> np.ndarray:
    """Median peak ground acceleration in g at Joyner–Boore distances ``distance_km``."""
    d = np.asarray(distance_km, dtype=float)
    r = np.sqrt(d * d + JB81["h_km"] ** 2)
    log_pga = JB81["a"] + JB81["b"] * magnitude - fpmath.log10(r) + JB81["c"] * r
    return fpmath.exp10(log_pga)


def distance_for(pga_at: Callable[[np.ndarray], np.ndarray], pga_g: float, *, max_km: float = 1000.0) -> float:
    """Distance (km) at which a PGA that falls with distance, ``pga_at(km)``, reaches ``pga_g``.

    0 if it never reaches it; found by bisection.
    """
    if pga_at(np.array([0.0]))[0] < pga_g:
        return 0.0
    lo, hi = 0.0, max_km
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        if pga_at(np.array([mid]))[0] >= pga_g:
            lo = mid
        else:
            hi = mid
    return lo


def distance_for_pga(magnitude: float, pga_g: float, *, max_km: float = 1000.0) -> float:
    """Joyner–Boore distance (km) at which the median rock PGA falls to ``pga_g`` (0 if never reached)."""
    return distance_for(lambda d: pga_joyner_boore_1981(magnitude, d), pga_g, max_km=max_km)


def rupture_length_km(magnitude: float) -> float:
    """Subsurface rupture length (km) of Wells & Coppersmith (1994), 0 below M 6.5 (a point source)."""
    if magnitude < FINITE_FROM_M:
        return 0.0
    return float(fpmath.exp10(WC94_RLD["a"] + WC94_RLD["b"] * magnitude))


def rupture_ends(epicentre_xy: np.ndarray, length_km: float, strike_deg: float) -> np.ndarray:
    """The two ends (metric, 2 x 2) of a vertical rupture of ``length_km`` centred on the epicentre.

    ``strike_deg`` is clockwise from north.
    """
    half = 500.0 * length_km
    s = np.radians(strike_deg)
    direction = np.array([fpmath.sin(s), fpmath.cos(s)])
    centre = np.asarray(epicentre_xy, dtype=float)
    return np.vstack([centre - half * direction, centre + half * direction])


def distance_to_rupture_km(xy: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """Closest distance (km) from metric points to the segment ``ends`` (its surface projection)."""
    xy = np.asarray(xy, dtype=float).reshape(-1, 2)
    a, b = ends[0], ends[1]
    ab = b - a
    span = float(ab @ ab)
    t = np.zeros(len(xy)) if span == 0 else np.clip(((xy - a) @ ab) / span, 0.0, 1.0)
    nearest = a + t[:, None] * ab
    return np.hypot(xy[:, 0] - nearest[:, 0], xy[:, 1] - nearest[:, 1]) / 1000.0


def site_factor(site_class: str | None, rock_pga_g: np.ndarray) -> np.ndarray:
    """NEHRP Fa for ``site_class`` (B to E) at the rock PGA (1 without a class)."""
    rock = np.asarray(rock_pga_g, dtype=float)
    if site_class is None:
        return np.ones(rock.shape)
    return np.interp(SS_PER_PGA * rock, FA_SS, FA[site_class])


# Hazus Earthquake Model Technical Manual (FEMA), Section 12 (Section 13 in Hazus-MH MR4),
# by model building type: Table 12-6, indoor casualty rates for complete structural damage
# without collapse; Table 12-7, with collapse; Table 12-8, collapse as a share of complete
# damage. Severity 1: injuries treated by paramedics; 2: hospital care; 3: life-threatening;
# 4: killed or mortally injured. Fractions (the tables give percent).
HAZUS_COLLAPSE_SHARE: dict[str, float] = {
    "W1": 0.03,
    "S1L": 0.08,
    "S3": 0.03,
    "C1L": 0.13,
    "C2L": 0.13,
    "PC1": 0.15,
    "RM1L": 0.13,
    "URML": 0.15,
    "MH": 0.03,
}
_NO_COLLAPSE = {"URML": (0.10, 0.02, 0.0002, 0.0002)}
_NO_COLLAPSE_OTHERS = (0.05, 0.01, 0.0001, 0.0001)
_WITH_COLLAPSE = {"W1": (0.40, 0.20, 0.03, 0.05), "S3": (0.40, 0.20, 0.03, 0.05), "MH": (0.40, 0.20, 0.03, 0.05)}
_WITH_COLLAPSE_OTHERS = (0.40, 0.20, 0.05, 0.10)
BUILDING_TYPES = tuple(HAZUS_COLLAPSE_SHARE)


def casualty_rates(building_type: str, collapsed: bool) -> tuple[float, float, float, float]:
    """Hazus indoor casualty rates (severity 1 to 4) in a completely damaged building."""
    if collapsed:
        return _WITH_COLLAPSE.get(building_type, _WITH_COLLAPSE_OTHERS)
    return _NO_COLLAPSE.get(building_type, _NO_COLLAPSE_OTHERS)


__all__ = [
    "BUILDING_TYPES",
    "FA",
    "FINITE_FROM_M",
    "HAZUS_COLLAPSE_SHARE",
    "JB81",
    "casualty_rates",
    "distance_for",
    "distance_for_pga",
    "distance_to_rupture_km",
    "pga_joyner_boore_1981",
    "rupture_ends",
    "rupture_length_km",
    "site_factor",
]
