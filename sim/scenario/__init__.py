"""The scenario schema (pydantic) and the one YAML loader."""

from sim.scenario.loader import dump_yaml, load_scenario, resolved_dict, validate_scenario
from sim.scenario.schema import Scenario

__all__ = ["Scenario", "dump_yaml", "load_scenario", "resolved_dict", "validate_scenario"]
