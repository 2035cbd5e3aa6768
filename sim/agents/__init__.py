"""Citizens (vectorised arrays) and shelters (Mesa agents)."""
