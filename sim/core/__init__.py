"""Errors, units, random streams and small records (stdlib and numpy only)."""
