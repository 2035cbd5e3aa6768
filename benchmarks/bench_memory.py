"""The memory estimate before a run (``sim/scenario/sizing.py``) against the command line's measured peak.

``python -m benchmarks.bench_memory [--sizes CITIZENS:KM2 ...]`` runs ``python -m sim run`` on the
synthetic city with the million's flood and DDoS (``bench_million.OVERRIDES``, population and area
replaced) at each size, one process after the other, and prints its peak resident memory beside
the estimate the command line warns with. The estimate is meant to lie above every peak (a
warning too many, never one too few) by no more than about a quarter at a hundred thousand
citizens and more. The figures are in docs/performance.md.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

from benchmarks import usage
from benchmarks.bench_million import OVERRIDES

ROOT = Path(__file__).resolve().parents[1]
SCENARIO = "scenarios/synthetic_large_city.yaml"


def overrides(citizens: int, km2: float, duration: str = "6h") -> list[str]:
    """The million's overrides at another size."""
    keep = [
        o
        for o in OVERRIDES
        if not o.startswith(("city.synthetic.population=", "city.synthetic.area_km2=", "duration="))
    ]
    return [f"city.synthetic.population={citizens}", f"city.synthetic.area_km2={km2}", f"duration={duration}", *keep]


def estimate(sets: list[str]) -> tuple[int, int]:
    """The estimated peak (bytes) and the estimated road segments of a scenario with these overrides."""
    from sim.scenario import load_scenario
    from sim.scenario.sizing import run_size

    size = run_size(load_scenario(ROOT / SCENARIO, sets))
    assert size is not None  # a synthetic city always has one
    return size.peak_bytes, size.road_segments


def measure(sets: list[str]) -> tuple[int, float, int]:
    """Peak resident bytes and CPU seconds of ``python -m sim run``, and the road segments it built."""
    import json

    with tempfile.TemporaryDirectory(prefix="bench_memory_") as tmp:
        out = Path(tmp) / "run"
        cmd = [sys.executable, "-m", "sim", "run", SCENARIO, *[a for s in sets for a in ("--set", s)],
               "--out", str(out), "--quiet"]  # fmt: skip
        with open(Path(tmp) / "log.txt", "w") as log:
            env = {**os.environ, "PYTHONPATH": str(ROOT)}
            proc = usage.start(cmd, Path(tmp) / "usage.json", cwd=ROOT, stdout=log, stderr=log, env=env)
            code, cpu, peak = usage.finish(proc, Path(tmp) / "usage.json")
        if code != 0:
            raise SystemExit(f"python -m sim run failed ({code}): {(Path(tmp) / 'log.txt').read_text()[-2000:]}")
        roads = json.loads((out / "manifest.json").read_text())["city"]["roads"]
        return peak, cpu, int(roads)


def main() -> None:
    """Print the measured peak beside the estimate for each size."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", nargs="+", default=["100000:300", "1000000:300", "2000000:600", "5000000:1500"],
                        help="CITIZENS:KM2 of each run")  # fmt: skip
    parser.add_argument("--duration", default="6h")
    args = parser.parse_args()
    print(f"{'citizens':>10} {'km2':>6} {'segments':>9} {'est. seg.':>9} {'CPU s':>7} {'peak GB':>8} "
          f"{'estimate GB':>11} {'estimate/peak':>13}")  # fmt: skip
    for spec in args.sizes:
        citizens, km2 = spec.split(":")
        sets = overrides(int(citizens), float(km2), args.duration)
        need, est_segments = estimate(sets)
        peak, cpu, segments = measure(sets)
        print(f"{int(citizens):>10,} {float(km2):>6g} {segments:>9,} {est_segments:>9,} {cpu:>7.1f} {peak / 1e9:>8.2f} "
              f"{need / 1e9:>11.2f} {need / peak:>13.2f}", flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
