"""Issue 20's musts in one command: every figure measured N times, each beside its threshold.

``python -m benchmarks.bench_issue20 [--runs 5] [--musts 1 3 5] [--five-million]`` prints one
Markdown table: per figure the threshold, the median of the runs, their range, and two verdicts,
by the median and by every run. The machine this project is measured on is shared: the same
code's million-citizen command took 34 to 50 CPU s within one day (docs/performance.md), so a
single run says more about the moment than about the code. N runs at one moment, and the same
command at other moments, say what a threshold would see.

What each figure is (the issue's words, measured as the other benchmarks measure them):

- must 1: ``python -m sim run`` of the million (``bench_million.OVERRIDES``), one process after
  the other (``bench_million.cli_side_by_side``, alone): CPU seconds (user + system) and peak
  resident memory of the process (``benchmarks.usage``); the city's and model's build, CPU
  seconds in a process of its own; the run directory's size (must 4's 100 MB) and whether the N
  run directories are byte for byte the same (must 6, the manifest's wall time aside). With each
  run, the steal time the machine's hypervisor reported meanwhile: whether neighbours were busy.
- must 2 (``--musts 2`` or ``--five-million``, about 4 minutes a run): 5,000,000 citizens on 1,500 km², as
  ``bench_memory`` runs them.
- must 3: ``bench_engine.compare_with_per_agent`` at 20,000 citizens, the first hour and 3 h, with
  every call compiled (``SAFECITY_KERNELS=1``, as that benchmark is run: a process loads the
  kernels once); a run is one of its rounds (Mesa once, ours five times right before it).
- must 5: ``bench_peers`` on its street grid, ours on foot against jupedsim-network (and by car
  against SUMO's mesoscopic mode where its wheel is installed), at each size, the two commands
  one right after the other; and the start-up: the CPU seconds of a process that imports what
  ``python -m sim run`` has imported when it starts to build the city.

``--quick`` runs every part at toy sizes: a check that the command works, not a measurement.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
GIB = 1024**3
# What ``python -m sim run`` has imported when it starts to build the city (``sim.experiments.cli.cmd_run``).
STARTUP_IMPORTS = (
    "import sim.experiments.cli\n"
    "from sim.scenario.loader import load_scenario\n"
    "from sim.core.memory import release_free_memory\n"
    "from sim.experiments.runner import run_scenario\n"
    "from sim.io.rundir import reserve_run_dir\n"
)


@dataclass
class Figure:
    """One measured figure of a must: its runs and its threshold (``at_most`` or ``at_least``)."""

    must: str
    name: str
    unit: str
    runs: list[float] = field(default_factory=list)
    at_most: float | None = None
    at_least: float | None = None
    group: str = ""  # figures of one group are also printed run by run, side by side

    def passes(self, value: float) -> bool:
        """Whether one value meets the threshold."""
        if self.at_most is not None and value > self.at_most:
            return False
        return not (self.at_least is not None and value < self.at_least)

    @property
    def threshold(self) -> str:
        """The threshold as the issue states it."""
        if self.at_most is not None:
            return f"<= {self.at_most:g} {self.unit}".rstrip()
        if self.at_least is not None:
            return f">= {self.at_least:g} {self.unit}".rstrip()
        return "(recorded)"

    def row(self) -> str:
        """The figure's line of the table: threshold, median, range, verdict by the median and by every run."""
        if not self.runs:
            return f"| {self.must} | {self.name} | {self.threshold} | - | - | 0 | - | - |"
        median = statistics.median(self.runs)
        spread = f"{_num(min(self.runs))} to {_num(max(self.runs))}"
        judged = self.at_most is not None or self.at_least is not None
        by_median = ("met" if self.passes(median) else "not met") if judged else "-"
        passing = sum(self.passes(v) for v in self.runs)
        every = f"{passing} of {len(self.runs)}" if judged else "-"
        cells = [self.must, self.name, self.threshold, _num(median), spread, str(len(self.runs)), by_median, every]
        return "| " + " | ".join(cells) + " |"


def _num(x: float) -> str:
    return f"{x:,.2f}" if abs(x) < 1000 else f"{x:,.0f}"


def table(figures: Sequence[Figure]) -> str:
    """The Markdown table of every figure."""
    head = "| must | figure | threshold | median | range | runs | by the median | runs that meet it |"
    rule = "|---|---|---|---|---|---|---|---|"
    return "\n".join([head, rule, *(f.row() for f in figures)])


def runs_table(figures: Sequence[Figure]) -> str:
    """The runs of figures measured together, run by run (one column each): which runs went with which."""
    head = "| run | " + " | ".join(f.name for f in figures) + " |"
    rule = "|---|" + "---|" * len(figures)
    n = max((len(f.runs) for f in figures), default=0)
    rows = [
        f"| {k + 1} | " + " | ".join(_num(f.runs[k]) if k < len(f.runs) else "-" for f in figures) + " |"
        for k in range(n)
    ]
    return "\n".join([head, rule, *rows])


# ---------------------------------------------------------------------------- the musts


def must_1(runs: int, work: Path, sets: list[str]) -> list[Figure]:
    """The million through the command line, ``runs`` times one after the other; its build; outputs; identity.

    With each run, the time the machine's hypervisor gave both its cores to others meanwhile
    (steal, :func:`benchmarks.usage.steal_seconds`): runs beside busy neighbours are slower (recorded, not judged).
    """
    from benchmarks.bench_million import _differ, cli_side_by_side
    from benchmarks.usage import steal_into

    cpu = Figure("1", "the million: CPU s of `python -m sim run`", "s", at_most=45.0, group="the million")
    peak = Figure("1", "the million: peak memory", "GiB", at_most=1.5)
    build = Figure("1", "the million: city and model built, CPU s", "s", at_most=8.0)
    stolen = Figure("1", "the machine's steal time during the run, s", "s", group="the million")
    size = Figure("4", "the million's run directory", "MB", at_most=100.0)
    same = Figure("6", "run directories byte for byte the same (1 = yes)", "", at_least=1.0)
    differ: set[str] = set()
    for k in range(runs):
        with steal_into(stolen.runs):
            res = cli_side_by_side([str(ROOT)], sets, keep=work / f"round{k}")
        ((c, peak_gb),) = res["cpu"].values()
        cpu.runs.append(c)
        peak.runs.append(peak_gb * 1e9 / GIB)
        size.runs.append(sum(res["bytes"].values()) / 1e6)
        if k:
            differ |= _differ(work / "round0" / "run0", work / f"round{k}" / "run0")
    if runs > 1:  # one figure: whether every run's directory is the first's
        same.runs.append(0.0 if differ else 1.0)
    build.runs = [build_seconds(sets, work, k) for k in range(runs)]
    return [cpu, peak, build, stolen, size, same]


def build_seconds(sets: list[str], work: Path, k: int) -> float:
    """CPU seconds of building the city and the model from the scenario, in a process of its own."""
    code = (
        "import sys, time\n"
        "from sim.scenario import load_scenario\n"
        "from sim.engine.model import EvacuationModel\n"
        "scn = load_scenario('scenarios/synthetic_large_city.yaml', sys.argv[1:])\n"
        "t = time.process_time()\n"
        "EvacuationModel(scn)\n"
        "print(time.process_time() - t)\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = subprocess.run([sys.executable, "-c", code, *sets], cwd=ROOT, env=env, capture_output=True, text=True)
    if out.returncode != 0:
        raise SystemExit(f"building the city failed: {out.stderr[-2000:]}")
    (work / f"build-{k}.txt").write_text(out.stdout)
    return float(out.stdout.strip().splitlines()[-1])


def must_2(runs: int, sets: list[str]) -> list[Figure]:
    """Five million citizens (``bench_memory``'s command), ``runs`` times."""
    from benchmarks import bench_memory

    cpu = Figure("2", "5 million: CPU s of `python -m sim run`", "s", at_most=360.0)
    peak = Figure("2", "5 million: peak memory", "GiB", at_most=8.0)
    for _ in range(runs):
        p, c, _segments = bench_memory.measure(sets)
        cpu.runs.append(c)
        peak.runs.append(p / GIB)
    return [cpu, peak]


def must_3(runs: int, citizens: int, repeat: int) -> list[Figure]:
    """Per-agent Mesa against ours, the first hour and 3 h: each of ``runs`` rounds is a run."""
    from benchmarks.bench_engine import compare_with_per_agent

    out = []
    before = os.environ.get("SAFECITY_KERNELS")
    # Every call compiled, as bench_engine measures it: a process loads the kernels once, like an
    # import, and a run of 20,000 citizens alone would use the numpy references until they pay.
    os.environ["SAFECITY_KERNELS"] = "1"
    try:
        for hours, least, label in ((1.0, 100.0, "the first hour"), (3.0, 150.0, "3 h")):
            name = f"per-agent Mesa's time over ours, {citizens:,} citizens, {label}"
            res = compare_with_per_agent(citizens, hours, repeat=repeat, rounds=runs)
            out.append(Figure("3", name, "x", runs=list(res["ratios"]), at_least=least, group=label))
            steal = f"the machine's steal time during Mesa's run, {label}, s"
            out.append(Figure("3", steal, "s", runs=list(res["mesa_steal_s"]), group=label))
    finally:
        if before is None:
            os.environ.pop("SAFECITY_KERNELS", None)
        else:
            os.environ["SAFECITY_KERNELS"] = before
    return out


def must_5(runs: int, sizes: Sequence[int], grid_n: int, work: Path) -> list[Figure]:
    """The peers on one street grid, pair by pair (the order turned each run), and the start-up."""
    from benchmarks import bench_peers as bp

    xy, streets, shelters = bp.grid(grid_n, 100.0)
    pairs: list[tuple[str, str, float]] = [("ours-walk", "jupedsim-network", 5.0)]
    if sumo_installed():
        pairs.append(("ours-car", "sumo-meso", 4.0))
    out = []
    for size in sizes:
        folder = work / f"agents-{size}"
        folder.mkdir(parents=True, exist_ok=True)
        street_of, depart = bp.agents(size, len(streets))
        for ours_name, peer, least in pairs:
            mode = "walk" if ours_name == "ours-walk" else "car"
            ours_cmd = bp.ours(folder, bp.write_ours(folder, xy, streets, shelters, street_of, mode))
            if peer == "jupedsim-network":
                bp.write_jupedsim(folder, streets, shelters, street_of, 100.0)
                peer_cmd = bp.jupedsim(folder)
            else:
                bp.write_sumo(folder, xy, streets, shelters, street_of, depart)
                peer_cmd = bp.sumo(folder)
            fig = Figure("5", f"{peer}'s CPU over ours, {size:,} agents", "x", at_least=least)
            for k in range(runs):
                order = [(ours_cmd, "ours"), (peer_cmd, "peer")][:: -1 if k % 2 else 1]
                cpu = {who: bp.measure(cmd, folder)[0] for cmd, who in order}
                fig.runs.append(cpu["peer"] / cpu["ours"])
            out.append(fig)
    start = Figure("5", "start-up: CPU s before the city", "s", at_most=0.5)
    start.runs = [bp.measure([sys.executable, "-c", STARTUP_IMPORTS], work)[0] for _ in range(runs)]
    out.append(start)
    return out


def sumo_installed() -> bool:
    """Whether SUMO is here as bench_peers finds it: its wheel (``requirements-peers.txt``) or on the PATH."""
    from benchmarks import bench_peers as bp

    return shutil.which(bp._sumo_binary("sumo")) is not None


# ---------------------------------------------------------------------------- command line


QUICK_SETS = [
    "city.synthetic.population=2000",
    "city.synthetic.area_km2=3",
    "duration=20min",
    "output.tracks.max_citizens=100",
]


def measure(
    musts: Sequence[int],
    runs: int,
    *,
    quick: bool = False,
    work: Path | None = None,
    progress: Callable[[str], None] = lambda _line: None,
) -> list[Figure]:
    """Every figure of ``musts``, ``runs`` times; ``quick``: toy sizes."""
    from benchmarks import bench_memory
    from benchmarks.bench_million import OVERRIDES

    figures: list[Figure] = []
    with tempfile.TemporaryDirectory(prefix="bench_issue20_") as tmp:
        folder = work or Path(tmp)
        if 1 in musts or 4 in musts or 6 in musts:
            progress("must 1: the million through the command line")
            figures += must_1(runs, folder, [*OVERRIDES, *QUICK_SETS] if quick else list(OVERRIDES))
        if 2 in musts:
            progress("must 2: five million citizens")
            size = (3000, 3.0) if quick else (5_000_000, 1500.0)
            figures += must_2(runs, bench_memory.overrides(*size, "10min" if quick else "6h"))
        if 3 in musts:
            progress("must 3: per-agent Mesa")
            figures += must_3(runs, 500 if quick else 20_000, 1 if quick else 5)
        if 5 in musts:
            progress("must 5: the peers and the start-up")
            figures += must_5(runs, [300] if quick else [10_000, 100_000, 300_000], 8 if quick else 40, folder)
    return figures


def main(argv: Sequence[str] | None = None) -> None:
    """Measure and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--runs", type=int, default=5, help="runs of each figure (default 5)")
    parser.add_argument("--musts", type=int, nargs="+", default=[1, 3, 5], help="which musts (default 1 3 5)")
    parser.add_argument("--five-million", action="store_true", help="must 2 too (about 4 minutes a run): --musts 2")
    parser.add_argument("--quick", action="store_true", help="toy sizes: the command works, nothing measured")
    parser.add_argument("--work", help="keep the runs here")
    args = parser.parse_args(argv)
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    work = Path(args.work) if args.work else None
    if work:
        work.mkdir(parents=True, exist_ok=True)
    musts = sorted(set(args.musts) | ({2} if args.five_million else set()))
    figures = measure(
        musts, args.runs, quick=args.quick, work=work, progress=lambda line: print(line, file=sys.stderr, flush=True)
    )
    print(table(figures))
    for group in dict.fromkeys(f.group for f in figures if f.group):  # run by run: slow runs beside busy neighbours?
        print()
        print(runs_table([f for f in figures if f.group == group]))


if __name__ == "__main__":
    main()
