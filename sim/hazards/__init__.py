"""Hazards acting on the running simulation; one module per hazard type."""

from sim.hazards import closures, earthquake, water  # noqa: F401  (registers the hazard types)
from sim.hazards.base import HAZARDS, Hazard, World, make_hazard

__all__ = ["HAZARDS", "Hazard", "World", "make_hazard"]
