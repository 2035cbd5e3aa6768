"""Named random streams split from one root seed.

Each stream is keyed by its *name*, not by its position, so adding a hazard or an attack
(and the stream it draws from) never shifts the draws of the citizens. Every function that
draws takes an ``rng: numpy.random.Generator``; nothing touches global random state.
"""

from __future__ import annotations

import zlib

import numpy as np


def _name_key(name: str) -> int:
    return zlib.crc32(name.encode("utf-8"))


class RandomStreams:
    """A family of independent generators, one per name, derived from one root seed."""

    def __init__(self, seed: int):
        if seed < 0:
            msg = f"seed must be >= 0, got {seed}"
            raise ValueError(msg)
        self.seed = int(seed)
        self._cache: dict[str, np.random.Generator] = {}

    def get(self, name: str) -> np.random.Generator:
        """The generator for ``name``; the same object on every call within one run."""
        if name not in self._cache:
            self._cache[name] = self.fresh(name)
        return self._cache[name]

    def fresh(self, name: str) -> np.random.Generator:
        """A new generator for ``name`` at its starting state (independent of ``get``)."""
        seq = np.random.SeedSequence(entropy=self.seed, spawn_key=(_name_key(name),))
        return np.random.Generator(np.random.PCG64(seq))

    def seed_for(self, name: str) -> int:
        """A derived integer seed, for libraries that want an int (for example Mesa)."""
        seq = np.random.SeedSequence(entropy=self.seed, spawn_key=(_name_key(name),))
        return int(seq.generate_state(1, dtype=np.uint32)[0])
