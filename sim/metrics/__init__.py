"""Pure functions from a run's tables to KPIs."""
