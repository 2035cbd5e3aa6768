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


def timed(path: Path, out: Path, workers: int) -> tuple[float, list[float], float]:
    """Wall seconds of a whole sweep, each run's own seconds inside its worker, and the steady rate.

    The steady rate (runs per second) counts from the first finished run to the last, so the
    cluster's start and each worker's first city build are left out.
    """
    sweep = load_sweep(path)
    done_at: list[float] = []
    t0 = time.perf_counter()
    outcome = execute(
        sweep, out, workers=workers, quiet=True, on_progress=lambda *_: done_at.append(time.perf_counter())
    )
    wall = time.perf_counter() - t0
    steady = (len(done_at) - workers) / (done_at[-1] - done_at[workers - 1]) if len(done_at) > workers else 0.0
    return wall, list(outcome.results["wall_s"]), steady


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
        one, walls1, rate1 = timed(path, folder / "w1", 1)
        two, walls2, rate2 = timed(path, folder / "w2", 2)
        n = len(walls1)
        plain_s = statistics.median(plain[1:])
        print(f"runs per sweep: {n}; the same run in-process (figures only): {plain_s:.2f} s (median)")
        for label, wall, walls, rate in (("1 worker ", one, walls1, rate1), ("2 workers", two, walls2, rate2)):
            inside = statistics.median(walls)
            print(
                f"{label}: {wall:6.1f} s wall in all, steady {rate:.2f} runs/s, median run in a worker {inside:.2f} s"
            )
        print(f"speed-up from the second core (steady): {rate2 / rate1:.2f} x; whole sweeps: {one / two:.2f} x")
        print(
            f"a run through the sweep (1 worker, steady) takes {1 / rate1:.2f} s against {plain_s:.2f} s in-process: "
            f"scheduling, serialisation and the part file add {100 * (1 / rate1 / plain_s - 1):.1f} %"
        )
        print(f"1,000 runs on 2 workers, projected from the steady rate: {1000 / rate2 / 60:.1f} min")
        if args.thousand:
            (folder / "k").mkdir()
            big = sweep_file(folder / "k", 1000)
            t, walls, _ = timed(big, folder / "k" / "out", 2)
            print(f"1,000-run Kotka sweep on 2 workers: {t / 60:.1f} min ({len(walls)} runs)")


if __name__ == "__main__":
    main()
