"""Sweep throughput: a Kotka sweep on 1 and on 2 Dask workers, and what scheduling adds to a run.

Run: ``.venv/bin/python -m benchmarks.bench_sweep [--runs N] [--thousand]``; numbers go to
docs/performance.md by hand (shared, noisy machines: never a timed test).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from sim.experiments.runner import run_scenario
from sim.experiments.sweep import execute
from sim.experiments.sweepfile import load_sweep

ROOT = Path(__file__).resolve().parents[1]


def sweep_file(folder: Path, runs: int) -> Path:
    """A Kotka district sweep of ``runs`` runs (siren coverage x seeds)."""
    seeds = 2
    points = max(1, runs // seeds)
    values = [round(0.1 + 0.8 * i / max(points - 1, 1), 4) for i in range(points)]
    path = folder / "bench.yaml"
    path.write_text(
        "name: bench\n"
        f"scenario: {ROOT / 'scenarios' / 'kotka_district_evacuation.yaml'}\n"
        f"parameters:\n  alerting.channels.0.coverage: {{values: {values}}}\n"
        f"design: grid\nseeds: {seeds}\n"
    )
    return path


def timed(path: Path, out: Path, workers: int) -> tuple[float, list[float]]:
    """Wall seconds of a whole sweep, and each run's own wall seconds inside its worker."""
    sweep = load_sweep(path)
    t0 = time.perf_counter()
    outcome = execute(sweep, out, workers=workers, quiet=True)
    return time.perf_counter() - t0, list(outcome.results["wall_s"])


def main() -> None:
    """Print the table."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=40)
    parser.add_argument("--thousand", action="store_true", help="also a 1,000-run sweep on 2 workers")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        path = sweep_file(folder, args.runs)
        sweep = load_sweep(path)
        plain = []
        for seed in (1, 2, 3):  # the same runs in this process, for the overhead
            t0 = time.perf_counter()
            run_scenario(sweep.scenario(0, seed), figures_only=True)  # what a sweep task runs
            plain.append(time.perf_counter() - t0)
        one, walls1 = timed(path, folder / "w1", 1)
        two, walls2 = timed(path, folder / "w2", 2)
        n = len(walls1)
        print(f"runs per sweep: {n}; a plain run in-process: {statistics.median(plain[1:]):.2f} s (median)")
        for label, wall, walls in (("1 worker ", one, walls1), ("2 workers", two, walls2)):
            inside = statistics.median(walls)
            print(f"{label}: {wall:6.1f} s wall, {n / wall:.2f} runs/s, median run in worker {inside:.2f} s")
        print(f"speed-up from the second core: {one / two:.2f} x")
        per_run_1 = one / n
        print(
            f"scheduling + serialisation per run (1 worker): {per_run_1 - statistics.median(walls1):.3f} s "
            f"= {100 * (per_run_1 / statistics.median(plain[1:]) - 1):.1f} % of a plain run"
        )
        print(f"1,000 runs on 2 workers, projected: {1000 / (n / two) / 60:.1f} min")
        if args.thousand:
            (folder / "k").mkdir()
            big = sweep_file(folder / "k", 1000)
            t, walls = timed(big, folder / "k" / "out", 2)
            print(f"1,000-run Kotka sweep on 2 workers: {t / 60:.1f} min ({len(walls)} runs)")


if __name__ == "__main__":
    main()
