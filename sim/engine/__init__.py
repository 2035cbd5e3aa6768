"""The model: builds everything from a Scenario and owns the one clock; writes no files."""
