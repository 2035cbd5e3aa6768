"""Compile the kernels ahead: ``python -m sim.engine.precompile`` (``./run.sh`` runs it at set-up).

The first large run on a machine would otherwise compile them when it switches to them: about
70 s of CPU in the middle of a run, a progress bar that stops. Here a small generated city runs
with every kernel on (``SAFECITY_KERNELS=1``) and with every part that calls one: a flood that
closes roads (route repairs), a DDoS on the command centre (the network's route searches), room
on the road and speeds from density, informed routes, the shelter desks, the command centre's
picture, the records and the pseudonyms of the registrations; then again at free speeds, where a
step's passes run in one compiled call. numba caches what it compiles
in a directory keyed by the kernels' sources (:mod:`sim.engine._kernel_cache`), so later processes
only load it (about 0.1 s); the caches of other versions of the kernels are removed here.
``tests/engine/test_precompile.py`` holds that another run then compiles nothing.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

SCENARIO = {
    "name": "precompile",
    "seed": 3,
    "duration": "40min",
    "step": 10,
    "city": {
        "synthetic": {
            "area_km2": 2,
            "population": 3000,
            "block_m": 80,
            "water": "river",
            "bridges": 2,
            "shelter_capacity_ratio": 0.6,
            "seed": 2,
        }
    },
    "population": {"mode_share": {"walk": 0.7, "car": 0.3}},
    "movement": {"informed_share": 0.5},  # familiar and informed routes both
    "alerting": {
        "orders": [{"at": 0, "zone": "all"}],
        "channels": [{"type": "siren", "coverage": 0.8}],
        "departure_delay": {"distribution": "uniform", "low": 0, "high": 300},
    },
    "hazards": [
        {
            "type": "flood",
            "at": 0,
            "update_every": 60,
            "stages": [{"at": 0, "level_m": 0.5}, {"at": "30min", "level_m": 3.0}],
        }
    ],
    "cyber": [{"type": "ddos", "target": "COC", "rate_rps": 50000, "at": "5min", "duration": "20min"}],
    "output": {"record_every": 60, "tracks": {"every": 60, "max_citizens": 200}},
}

# The same city at free speeds (point queues): there a step's passes run in one compiled call.
FREE_SPEEDS = ("movement.density_speed=false", "duration=10min", "hazards=[]")


def run_with_every_kernel(
    scenario: dict | str | Path, overrides: tuple[str, ...] = (), *, also: Callable[[], None] | None = None
) -> list[str]:
    """Run ``scenario`` (``overrides`` as ``--set``), then ``also``, with every kernel on.

    Returns what numba compiled meanwhile (each kernel and each it calls), rather than loaded.
    """
    from sim.engine import kernels
    from sim.engine.model import EvacuationModel
    from sim.scenario.loader import load_scenario

    before = os.environ.get("SAFECITY_KERNELS")
    os.environ["SAFECITY_KERNELS"] = "1"
    try:
        if not kernels.enabled():  # no numba here: nothing to compile
            return []
        from numba.core import event

        with event.install_recorder("numba:compile") as compiles:
            model = EvacuationModel(load_scenario(scenario, list(overrides)))
            model.run()
            model.registrations()  # the pseudonyms
            model.tracks()
            if also is not None:
                also()
        functions = [ev.data["dispatcher"].py_func for _, ev in compiles.buffer if ev.is_start]
        return [f"{fn.__module__}.{fn.__qualname__}" for fn in functions]
    finally:
        if before is None:
            del os.environ["SAFECITY_KERNELS"]
        else:
            os.environ["SAFECITY_KERNELS"] = before


def _scatters() -> None:
    """Kernels the passes seldom call (their work is done inside larger ones)."""
    from sim.engine import movement

    for scatter in (movement.scatter_add, movement.scatter_subtract, movement.scatter_max):
        scatter(np.zeros(3), np.array([1]), np.ones(1))


def main() -> int:
    """Compile (or load) every kernel; say how many were compiled and how long it took."""
    started = time.process_time()
    compiled = run_with_every_kernel(SCENARIO, also=_scatters)
    compiled += run_with_every_kernel(SCENARIO, FREE_SPEEDS)  # a step's passes in one call
    took = time.process_time() - started
    sys.stderr.write(f"compiled kernels: {len(compiled)} compiled now, the rest loaded ({took:.1f} s of CPU)\n")
    try:
        from sim.engine import _kernel_cache
    except ImportError:  # no numba here
        return 0
    gone = _kernel_cache.prune()
    if gone:
        sys.stderr.write(f"compiled kernels: {len(gone)} caches of other versions of the kernels removed\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
