"""A live exercise at 60x real time on Kotka with two players polling: does the runner keep up?

Run: ``.venv/bin/python -m benchmarks.bench_exercise [--seconds 40] [--speed 60]``. It starts
the Kotka flood tabletop through ``sim.api`` (a real runner process), lets two "players" read
their view every second (as the app's pages do) and queue a few actions, and reports the
simulated seconds per wall second achieved and how old the snapshot was when a player read it.
Numbers go to docs/performance.md by hand (never a timed test).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

from sim import api

PASS = {"controller": "control-pass-1", "ccc": "ccc-pass-123", "shelter_manager": "shelter-pass-1"}


def main() -> None:
    """Print the figures."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=40.0)
    parser.add_argument("--speed", type=float, default=60.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = api.start_exercise(
            api.exercise_files()["kotka_flood_tabletop"], root=Path(tmp), speed=args.speed, passphrases=PASS
        )
        while api.exercise_view(folder, "controller")["sim_t"] <= 0:  # the runner starts (imports, city)
            time.sleep(0.2)
        ages: list[float] = []
        stop = threading.Event()

        def player(role: str) -> None:
            n = 0
            while not stop.is_set():
                view = api.exercise_view(folder, role)
                if view["snapshot_wall"]:
                    made = datetime.fromisoformat(view["snapshot_wall"])
                    ages.append((datetime.now(UTC) - made).total_seconds())
                n += 1
                if n % 10 == 0:
                    api.exercise_act(folder, role, "note", {"text": f"note {n}"})
                time.sleep(1.0)

        threads = [threading.Thread(target=player, args=(r,)) for r in ("ccc", "shelter_manager")]
        for t in threads:
            t.start()
        t0, s0 = time.perf_counter(), api.exercise_view(folder, "controller")["sim_t"]
        time.sleep(args.seconds)
        t1, s1 = time.perf_counter(), api.exercise_view(folder, "controller")["sim_t"]
        stop.set()
        for t in threads:
            t.join()
        api.exercise_control(folder, finish=True)
        print(f"target speed {args.speed:g}x: achieved {(s1 - s0) / (t1 - t0):.1f} simulated s per wall s")
        print(
            f"snapshot age when a player read it: median {statistics.median(ages):.2f} s, "
            f"max {max(ages):.2f} s over {len(ages)} reads"
        )
        while api.exercise_view(folder, "controller")["state"] != "done":
            time.sleep(0.5)


if __name__ == "__main__":
    main()
