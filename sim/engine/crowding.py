"""Speed from density: Weidmann's and SFPE's pedestrian relations, Greenshields' for cars.

A pedestrian entering an arc walks at ``min(own speed, v(D))``, where ``D`` is the density on
the road (people on it per square metre of effective width). A car drives at
``v_free (1 - k / k_jam)`` with ``k`` the cars per km and lane on the arc (Greenshields).

An arc admits at most its capacity, which is at most the relation's maximum flow, so in this
model an arc stays on the free-flow branch of its fundamental diagram: the density used is
capped at the critical density (where the flow is greatest). Denser crowds form only in the
queues, which take room on the road up to the jam density (``JAM_DENSITY``; storage and
spill-back in ``mover.py``). docs/movement.md has the relations, their sources and their limits.
"""

from __future__ import annotations

import functools

import numpy as np

from sim.core import fpmath

# Weidmann (1993): v(D) = v0 (1 - exp(-gamma (1/D - 1/D_jam))).
WEIDMANN_V0_MPS = 1.34
WEIDMANN_GAMMA = 1.913
WEIDMANN_JAM = 5.4  # persons / m²
# SFPE Handbook (Gwynne & Rosenbaum): v = k (1 - a D) for D >= 0.54, 0.85 k below; corridors k = 1.40.
SFPE_K_MPS = 1.40
SFPE_A = 0.266
SFPE_FREE_BELOW = 0.54  # persons / m²
# Greenshields: free speed falls linearly to zero at jam density, one car per
# ``movement.vehicle_spacing_m`` (default 7.5 m) of lane.
CAR_SPACING_M = 7.5
LANE_WIDTH_M = 3.5  # the width one car takes (sim/city/roads.py: widths from lanes)


def weidmann_speed(density: np.ndarray | float) -> np.ndarray:
    """Weidmann's walking speed at a density (persons/m²), m/s; v0 at zero density."""
    d = np.maximum(np.asarray(density, dtype=float), 1e-9)
    return np.maximum(WEIDMANN_V0_MPS * (1.0 - fpmath.exp(-WEIDMANN_GAMMA * (1.0 / d - 1.0 / WEIDMANN_JAM))), 0.0)


def sfpe_speed(density: np.ndarray | float) -> np.ndarray:
    """SFPE's walking speed at a density (persons/m²), m/s (corridors: k = 1.40 m/s)."""
    d = np.asarray(density, dtype=float)
    v = SFPE_K_MPS * (1.0 - SFPE_A * d)
    return np.maximum(np.where(d < SFPE_FREE_BELOW, 0.85 * SFPE_K_MPS, v), 0.0)


def _critical(speed) -> tuple[float, float]:
    """(critical density, maximum specific flow) of a relation, by a fine search."""
    d = np.linspace(0.05, 6.0, 200_000)
    flow = d * speed(d)
    i = int(np.argmax(flow))
    return float(d[i]), float(flow[i])


RELATIONS = {"weidmann": weidmann_speed, "sfpe": sfpe_speed}
JAM_DENSITY = {"weidmann": WEIDMANN_JAM, "sfpe": 1.0 / SFPE_A}
"""Per relation: the density at which walking stops, persons/m² (a queue's packing)."""


@functools.cache
def critical(relation: str) -> tuple[float, float]:
    """(critical density persons/m², maximum specific flow persons/(m·s)) of a relation.

    Found on first use: a 200,000-point search costs 20 ms, which every process paid at import
    (every command, every sweep worker), most without walking anyone through a crowd.
    """
    return _critical(RELATIONS[relation])


def walking_speed(own_mps: np.ndarray, density: np.ndarray, relation: str) -> np.ndarray:
    """``min(own speed, v(D))`` on the free-flow branch (``D`` capped at the critical density)."""
    d_crit = critical(relation)[0]
    return np.minimum(own_mps, RELATIONS[relation](np.minimum(density, d_crit)))


def car_speed(free_mps: np.ndarray, cars_per_km_lane: np.ndarray, spacing_m: float = CAR_SPACING_M) -> np.ndarray:
    """Greenshields on the free-flow branch: ``v_free (1 - k / k_jam)``, ``k`` capped at ``k_jam / 2``.

    ``k_jam`` is one car per ``spacing_m`` of lane.
    """
    jam = 1000.0 / spacing_m
    k = np.minimum(cars_per_km_lane, jam / 2.0)
    return free_mps * (1.0 - k / jam)


__all__ = [
    "CAR_SPACING_M",
    "JAM_DENSITY",
    "LANE_WIDTH_M",
    "RELATIONS",
    "car_speed",
    "critical",
    "sfpe_speed",
    "walking_speed",
    "weidmann_speed",
]
