"""Cyberattacks and defenses."""
