"""Issue 20's million-citizen run: build and run CPU seconds and peak memory.

1,000,000 citizens on the 300 km² synthetic city, 6 simulated hours, a river flood judged every
60 s and a DDoS on the COC. ``python -m benchmarks.bench_million [ROOT]`` measures the checkout
at ROOT (default: this one), so two commits can be measured side by side in one session
(``git worktree add /tmp/before <rev>``). ``--profile FILE`` writes a cProfile of the run.

``--cli ROOT [ROOT ...]`` measures what issue 20's must 1 measures: the whole command, ``python
-m sim run`` with these overrides, as a user runs it (imports, city, run, collecting, writing),
CPU seconds (user + system) and peak memory of the process. The checkouts run side by side, one
process each at the same time (the machine's speed drifts by 10 % within minutes, as much as a
change), ``--repeat`` times; then their run directories are compared file by file (the
manifest's wall time aside). ``--set`` adds overrides (a smaller city for a quick check).
``--scenario FILE`` runs that scenario instead, with only the ``--set`` overrides (the peers'
grid of ``bench_peers --work``: a smaller run measured the same way, pair by pair).
``--alone`` runs the checkouts one after the other instead (the order turned each round), as a
user runs the command; processes side by side share the memory's bandwidth and the cache. The
machine's drift between two runs alone is larger than most changes: compare checkouts side by
side, where both see the same moment.
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks import usage

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
    parser.add_argument("--cli", nargs="+", metavar="ROOT", help="time the whole command per checkout, side by side")
    parser.add_argument("--repeat", type=int, default=1, help="with --cli: rounds")
    parser.add_argument("--set", action="append", default=[], help="with --cli: another override (a smaller city)")
    parser.add_argument("--alone", action="store_true", help="with --cli: one process after the other")
    parser.add_argument("--scenario", help="with --cli: this scenario file instead of the million (its path as given)")
    args = parser.parse_args()
    if args.cli:
        rounds = [
            cli_side_by_side(
                args.cli[:: -1 if args.alone and k % 2 else 1], args.set, alone=args.alone, scenario=args.scenario
            )
            for k in range(args.repeat)
        ]
        for k, res in enumerate(rounds, 1):
            for root, (cpu, peak_gb) in res["cpu"].items():
                print(f"round {k}: {root}: {cpu:.2f} s CPU (user + system), peak {peak_gb:.2f} GB")
            print(f"round {k}: run directories differ in: {', '.join(res['differ']) or 'nothing'}")
        print(summary(rounds))
        return
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


def cli_command(root: str, out: Path, extra: list[str], scenario: str | None = None) -> list[str]:
    """``python -m sim run`` of the million, run in the checkout ``root`` (its own scenario file).

    The scenario is named relative to ``root``: the same text in every checkout's run directory.
    ``scenario``: that file instead, with ``extra`` alone.
    """
    sets = [a for o in [*(OVERRIDES if scenario is None else []), *extra] for a in ("--set", o)]
    scenario = scenario or "scenarios/synthetic_large_city.yaml"
    return [sys.executable, "-m", "sim", "run", scenario, *sets, "--out", str(out), "--force", "--quiet"]


def cli_side_by_side(
    roots: list[str], extra: list[str], *, alone: bool = False, scenario: str | None = None, keep: Path | None = None
) -> dict:
    """Run every checkout's command at once (``alone``: one after the other); CPU seconds and peak GB per root.

    Also each run directory's bytes (``bytes``, by the same keys) and the files in which the run
    directories differ from the first's. ``keep``: the runs (``run0``, ...) and logs go there (made if need be).
    """
    if keep:
        keep.mkdir(parents=True, exist_ok=True)
    with contextlib.nullcontext(str(keep)) if keep else tempfile.TemporaryDirectory(prefix="bench_million_") as tmp:
        procs = {}
        cpu = {}
        for k, root in enumerate(roots):
            env = {**os.environ, "PYTHONPATH": str(Path(root).resolve())}
            log = open(Path(tmp) / f"log{k}.txt", "w")  # noqa: SIM115 (closed below)
            cmd = cli_command(root, Path(tmp) / f"run{k}", extra, scenario)
            procs[k] = (usage.start(cmd, Path(tmp) / f"usage{k}.json", cwd=root, env=env, stdout=log, stderr=log), log)
            if alone:
                cpu[f"{k}:{root}"] = _reap(procs.pop(k), root, Path(tmp), k)
        for k, pair in procs.items():
            cpu[f"{k}:{roots[k]}"] = _reap(pair, roots[k], Path(tmp), k)
        sizes = {f"{k}:{root}": _bytes(Path(tmp) / f"run{k}") for k, root in enumerate(roots)}
        return {"cpu": cpu, "bytes": sizes,
                "differ": sorted(set().union(*(_differ(Path(tmp) / "run0", Path(tmp) / f"run{k}")
                                               for k in range(1, len(roots)))))}  # fmt: skip


def summary(rounds: list[dict]) -> str:
    """Each checkout's median CPU seconds, and the median of its differences from the first's, round by round.

    A checkout's own rounds run at one moment each; the difference within a round is the
    measure (the machine's drift between rounds is as large as most changes).
    """
    import statistics

    keys = list(rounds[0]["cpu"])  # "k:root" (``--alone`` turns the order from round to round)
    by_root = len({key.split(":", 1)[1] for key in keys}) == len(keys)  # (a checkout twice: by place)

    def name_of(key: str) -> str:
        return key.split(":", 1)[1] if by_root else key

    per: dict[str, list[float]] = {name_of(key): [] for key in keys}
    for res in rounds:
        for key, (cpu, _peak) in res["cpu"].items():
            per[name_of(key)].append(cpu)
    names = list(per)
    lines = []
    for name in names:
        line = f"{name}: median {statistics.median(per[name]):.2f} s CPU over {len(rounds)} rounds"
        if name != names[0]:
            diffs = [a - b for a, b in zip(per[names[0]], per[name], strict=True)]
            line += f"; the first minus it, round by round: median {statistics.median(diffs):+.2f} s"
        lines.append(line)
    return "\n".join(lines)


def _reap(pair: tuple[subprocess.Popen, Any], root: str, tmp: Path, k: int) -> tuple[float, float]:
    """Wait for one command: its CPU seconds (user + system) and peak GB; its log's tail if it failed."""
    proc, log = pair
    code, cpu, peak = usage.finish(proc, tmp / f"usage{k}.json")
    log.close()
    if code != 0:
        text = (tmp / f"log{k}.txt").read_text(errors="replace")[-2000:]
        raise SystemExit(f"{root}: python -m sim run failed ({code}): {text}")
    return cpu, peak / 1e9


def _bytes(path: Path) -> int:
    """Bytes of every file of a run directory."""
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def _differ(a: Path, b: Path) -> set[str]:
    """Files of two run directories that are not byte for byte the same (the manifest's wall time aside)."""
    names = {p.relative_to(a).as_posix() for p in a.rglob("*") if p.is_file()}
    names |= {p.relative_to(b).as_posix() for p in b.rglob("*") if p.is_file()}
    out = set()
    for name in sorted(names):
        fa, fb = a / name, b / name
        if not (fa.is_file() and fb.is_file()):
            out.add(name)
        elif name == "manifest.json":
            ma, mb = (json.loads(f.read_text()) for f in (fa, fb))
            for m in (ma, mb):
                m.pop("wall_time_s", None)
            if ma != mb:
                out.add(name)
        elif fa.read_bytes() != fb.read_bytes():
            out.add(name)
    return out


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
