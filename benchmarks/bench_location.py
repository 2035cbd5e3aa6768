"""What the location picture (issue 14) costs: the same runs with ``location.enabled`` off and on, alternately.

Run: ``.venv/bin/python -m benchmarks.bench_location [--million]``. Off is the engine as it was
before the picture existed (no reports, no estimate); each pair runs back to back so the shared
machine's noise hits both alike. Numbers go to docs/performance.md by hand.
"""

from __future__ import annotations

import argparse
import time

from benchmarks.bench_engine import MILLION
from sim.engine.model import EvacuationModel
from sim.scenario import load_scenario

RUNS = [
    ("Kotka district, 3 h", "scenarios/kotka_district_evacuation.yaml", []),
    ("Kotka river flood, 4 h", "scenarios/kotka_river_flood.yaml", []),
    ("synthetic 100,000, 3 h", "scenarios/synthetic_large_city.yaml", []),
]


def run_once(path: str, overrides: list[str]) -> float:
    """Seconds to run (the city is built beforehand and cached)."""
    model = EvacuationModel(load_scenario(path, overrides))
    t0 = time.perf_counter()
    model.run()
    return time.perf_counter() - t0


def main() -> None:
    """Print off/on pairs (best of ``--repeat``)."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--million", action="store_true")
    args = parser.parse_args()
    runs = list(RUNS)
    if args.million:
        runs.append(("synthetic 1,000,000, 3 h", "scenarios/synthetic_large_city.yaml", MILLION))
    for label, path, overrides in runs:
        off, on = [], []
        for _ in range(args.repeat if "1,000,000" not in label else 1):
            off.append(run_once(path, [*overrides, "location.enabled=false"]))
            on.append(run_once(path, overrides))
        print(f"{label}: location off {min(off):.2f} s, on {min(on):.2f} s ({100 * (min(on) / min(off) - 1):+.0f} %)")


if __name__ == "__main__":
    main()
