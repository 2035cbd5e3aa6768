"""Issue 20's million-citizen run: build and run CPU seconds and peak memory.

1,000,000 citizens on the 300 km² synthetic city, 6 simulated hours, a river flood judged every
60 s and a DDoS on the COC. ``python -m benchmarks.bench_million [ROOT]`` measures the checkout
at ROOT (default: this one), so two commits can be measured side by side in one session
(``git worktree add /tmp/before <rev>``). ``--profile FILE`` writes a cProfile of the run.
"""

from __future__ import annotations

import argparse
import cProfile
import resource
import sys
import time
from pathlib import Path

FLOOD = "hazards=[{type: flood, at: 0, update_every: 60, stages: [{at: 0, level_m: 0.5}, {at: 3h, level_m: 4.0}]}]"
DDOS = "cyber=[{type: ddos, target: COC, rate_rps: 50000, at: 30min, duration: 2h}]"
OVERRIDES = [
    "city.synthetic.population=1000000",
    "city.synthetic.area_km2=300",
    "city.synthetic.block_m=100",
    "duration=6h",
    FLOOD,
    DDOS,
    "output.tracks.max_citizens=2000",
]


def main() -> None:
    """Print build and run CPU seconds and the peak memory."""
    parser = argparse.ArgumentParser()
    parser.add_argument("root", nargs="?", default=str(Path(__file__).resolve().parents[1]))
    parser.add_argument("--profile", help="write a cProfile of the run here")
    parser.add_argument("--digest", action="store_true", help="print a digest of the outcome (bit-identity)")
    args = parser.parse_args()
    sys.path.insert(0, args.root)
    from sim.engine.model import EvacuationModel
    from sim.scenario import load_scenario

    scn = load_scenario(f"{args.root}/scenarios/synthetic_large_city.yaml", OVERRIDES)
    t = time.process_time()
    model = EvacuationModel(scn)
    build = time.process_time() - t
    t = time.process_time()
    if args.profile:
        cProfile.runctx("model.run()", globals(), {"model": model}, args.profile)
    else:
        model.run()
    run = time.process_time() - t
    peak_gb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6
    print(f"{args.root}: build {build:.2f} s, run {run:.2f} s CPU, peak {peak_gb:.2f} GB")
    if args.digest:
        print(f"{args.root}: outcome digest {digest(model)}")


def digest(model) -> str:
    """SHA-256 of every citizen's outcome, the timeseries and the events: equal means bit-identical."""
    import hashlib

    p = model.pop
    h = hashlib.sha256()
    for a in (p.state, p.arrival_t, p.depart_t, p.shelter, p.node, p.warned_t):
        h.update(a.tobytes())
    h.update(model.timeseries().to_csv(index=False).encode())
    h.update(model.events().to_csv(index=False).encode())
    return h.hexdigest()[:16]


if __name__ == "__main__":
    main()
