"""The benchmarks still run against the engine's current interfaces (a refactor once broke one unseen).

Only smoke runs here: the measurements themselves live in benchmarks/ and docs/performance.md,
never in timed tests.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from benchmarks.bench_engine import compare_with_per_agent
from benchmarks.usage import steal_seconds


def test_the_per_agent_baseline_runs_the_same_rule_on_a_small_city():
    res = compare_with_per_agent(1000, 1.5, repeat=3, rounds=2)  # long enough for shelters to fill
    assert res["citizens"] == 1000
    assert res["sheltered_ours"] > 500
    # The same rule, re-routing when shelters fill included: the same people get in (a baseline
    # that kept its first routes sheltered 10 % fewer at 20,000 and did less work than ours).
    assert abs(res["sheltered_mesa"] - res["sheltered_ours"]) <= max(2, 0.02 * res["sheltered_ours"])
    assert 0 < res["ours_min_s"] <= res["ours_s"] <= res["ours_max_s"]  # the median of six runs
    assert 0 < res["mesa_min_s"] <= res["mesa_s"] <= res["mesa_max_s"]  # of two
    assert 0 < res["ratio_min"] <= res["ratio"] <= res["ratio_max"]  # each round's: Mesa over ours beside it
    assert res["ours_first_s"] > 0  # the untimed first run, reported beside the timed one
    assert len(res["mesa_steal_s"]) == (2 if steal_seconds() is not None else 0)  # the steal in each Mesa run
    assert all(0 <= s <= 2 * res["mesa_max_s"] + 0.02 for s in res["mesa_steal_s"])  # two cores, 10 ms ticks
    assert res["mesa_s"] > 0


def test_the_million_benchmark_knows_its_scenario():
    from benchmarks import bench_million
    from sim.scenario import load_scenario

    scn = load_scenario("scenarios/synthetic_large_city.yaml", bench_million.OVERRIDES)
    assert scn.city.synthetic.population == 1_000_000
    assert scn.duration == 6 * 3600
    assert [h.type for h in scn.hazards] == ["flood"]
    assert [a.type for a in scn.cyber] == ["ddos"]


@pytest.mark.parametrize("alone", [False, True])
def test_the_million_benchmark_times_the_whole_command_side_by_side_and_compares_the_outputs(alone):
    """``bench_million --cli``: two checkouts at once (or ``--alone``), CPU and peak per process, the differences."""
    from benchmarks import bench_million

    root = str(Path(__file__).resolve().parents[1])
    small = ["city.synthetic.population=1500", "city.synthetic.area_km2=3", "duration=10min"]
    res = bench_million.cli_side_by_side([root, root], small, alone=alone)
    assert len(res["cpu"]) == 2
    for cpu, peak_gb in res["cpu"].values():
        assert cpu > 0.5  # imports and a city at least: the child's own time, not this process's
        assert peak_gb > 0.05
    assert res["differ"] == []  # the same code twice: the same directory, the wall time aside
    sizes = list(res["bytes"].values())
    assert len(sizes) == 2
    assert min(sizes) > 100_000  # a whole run directory each
    # the same bytes but for the manifest's wall time, whose digits vary in number (CI saw 1 byte)
    assert abs(sizes[0] - sizes[1]) <= len(repr(1234.5678901234567))
    assert bench_million.cli_command(root, Path("x"), ["seed=5"])[-6:-4] == ["--set", "seed=5"]  # the last word


def test_run_directories_that_differ_are_named(tmp_path):
    from benchmarks.bench_million import _differ

    a, b = tmp_path / "a", tmp_path / "b"
    for d, wall, value in ((a, 1.0, "1"), (b, 2.0, "2")):
        d.mkdir()
        (d / "manifest.json").write_text(json.dumps({"wall_time_s": wall, "seed": 1}))
        (d / "summary.json").write_text(value)
    (a / "only_here.parquet").write_bytes(b"x")
    assert _differ(a, b) == {"summary.json", "only_here.parquet"}  # the wall time alone is no difference
    (b / "manifest.json").write_text(json.dumps({"wall_time_s": 2.0, "seed": 2}))
    assert "manifest.json" in _differ(a, b)


def test_the_peer_benchmark_runs_ours_and_jupedsim_on_one_small_grid(tmp_path):
    """Both models do the whole job on the same grid (SUMO is optional: requirements-peers.txt)."""
    from benchmarks import bench_peers as bp

    xy, streets, shelters = bp.grid(6, 100.0)
    assert len(streets) == 2 * 6 * 5
    assert len(shelters) == 16
    street_of, depart = bp.agents(200, len(streets))
    assert depart.min() >= 0
    assert depart.max() <= bp.SPREAD_S
    scenario = bp.write_ours(tmp_path, xy, streets, shelters, street_of, "walk")
    bp.write_jupedsim(tmp_path, streets, shelters, street_of, 100.0)
    for name, cmd in (("ours-walk", bp.ours(tmp_path, scenario)), ("jupedsim-network", bp.jupedsim(tmp_path))):
        cpu, peak, stdout = bp.measure(cmd, tmp_path)
        assert cpu > 0
        assert peak > 0
        assert bp.arrived(name, tmp_path, stdout) == 200, name


def test_the_memory_benchmark_measures_the_command_and_estimates_the_same_scenario():
    """``bench_memory``: the real command's peak and its built segments, beside the estimate of the same overrides."""
    from benchmarks import bench_memory

    sets = bench_memory.overrides(1500, 3.0, "10min")
    assert sets[:3] == ["city.synthetic.population=1500", "city.synthetic.area_km2=3.0", "duration=10min"]
    assert any(s.startswith("hazards=") for s in sets)
    assert any(s.startswith("cyber=") for s in sets)
    need, est_segments = bench_memory.estimate(sets)
    peak, cpu, segments = bench_memory.measure(sets)
    assert cpu > 0.5  # the child's own, not this process's
    assert peak > 50e6
    assert 0.8 * est_segments <= segments <= est_segments
    assert need > peak  # at any size the estimate lies above (small runs far above: its base is a large city's)


def test_a_commands_peak_is_its_own_not_that_of_the_process_that_started_it(tmp_path):
    """``benchmarks.usage``: Linux gives a child the peak of the process that started it (a test runner's)."""
    import sys

    import numpy as np

    from benchmarks import usage

    held = np.ones(50_000_000)  # 400 MB in this process while the commands run
    proc = usage.start([sys.executable, "-c", "pass"], tmp_path / "a.json")
    code, cpu, peak = usage.finish(proc, tmp_path / "a.json")
    assert code == 0
    assert 0 < cpu < 5
    assert peak < 150e6  # a bare interpreter, not this process's 400 MB
    holds = "import numpy; a = numpy.ones(25_000_000); a.sum(); raise SystemExit(3)"  # 200 MB, then fails
    proc = usage.start([sys.executable, "-c", holds], tmp_path / "b.json")
    code, _cpu, peak = usage.finish(proc, tmp_path / "b.json")
    assert code == 3
    assert 200e6 < peak < 350e6
    assert held.sum() == 50_000_000


def test_the_side_by_side_summary_pairs_each_round_by_checkout():
    """Medians per checkout, and the median of the differences within rounds, whatever order a round ran in."""
    from benchmarks.bench_million import cli_command, summary

    rounds = [
        {"cpu": {"0:/a": (10.0, 1.0), "1:/b": (9.0, 1.0)}},
        {"cpu": {"0:/b": (8.0, 1.0), "1:/a": (9.5, 1.0)}},  # ``--alone`` turned the order
        {"cpu": {"0:/a": (12.0, 1.0), "1:/b": (11.9, 1.0)}},
    ]
    assert summary(rounds).splitlines() == [
        "/a: median 10.00 s CPU over 3 rounds",
        "/b: median 9.00 s CPU over 3 rounds; the first minus it, round by round: median +1.00 s",
    ]
    same = [{"cpu": {"0:/a": (5.0, 1.0), "1:/a": (4.0, 1.0)}}]  # one checkout twice: by place
    assert summary(same).splitlines()[1].endswith("median +1.00 s")
    cmd = cli_command("/a", Path("out"), ["seed=5"], "/w/peers.yaml")
    assert cmd[3:8] == ["run", "/w/peers.yaml", "--set", "seed=5", "--out"]  # that file, its overrides alone


def test_issue_20s_table_judges_each_figure_by_its_median_and_by_every_run():
    """``bench_issue20``: "at most" and "at least" hold at the threshold itself; without one, a figure is recorded."""
    from benchmarks.bench_issue20 import Figure, table

    cpu = Figure("1", "CPU", "s", runs=[44.0, 46.0, 45.0], at_most=45.0)
    ratio = Figure("3", "Mesa over ours", "x", runs=[149.0, 151.0, 160.0, 148.0], at_least=150.0)
    slow = Figure("5", "start-up", "s", runs=[0.6, 0.7], at_most=0.5)
    plain = Figure("2", "per citizen", "kB", runs=[4.5])
    empty = Figure("5", "SUMO", "x", at_least=4.0)
    rows = table([cpu, ratio, slow, plain, empty]).splitlines()
    assert rows[0].startswith("| must | figure | threshold | median |")
    assert rows[2] == "| 1 | CPU | <= 45 s | 45.00 | 44.00 to 46.00 | 3 | met | 2 of 3 |"
    assert rows[3] == "| 3 | Mesa over ours | >= 150 x | 150.00 | 148.00 to 160.00 | 4 | met | 2 of 4 |"
    assert rows[4] == "| 5 | start-up | <= 0.5 s | 0.65 | 0.60 to 0.70 | 2 | not met | 0 of 2 |"
    assert rows[5] == "| 2 | per citizen | (recorded) | 4.50 | 4.50 to 4.50 | 1 | - | - |"
    assert rows[6] == "| 5 | SUMO | >= 4 x | - | - | 0 | - | - |"


def test_issue_20s_command_measures_the_million_command_line_at_a_toy_size(tmp_path):
    """``bench_issue20 --quick --musts 1``: the real command twice, its build, its directory, the same bytes twice."""
    from benchmarks.bench_issue20 import measure

    figures = {f.name: f for f in measure([1], 2, quick=True, work=tmp_path)}
    cpu = figures["the million: CPU s of `python -m sim run`"]
    assert len(cpu.runs) == 2
    assert all(0.5 < c < 60 for c in cpu.runs)  # the child's own: imports, a toy city, writing
    assert all(0.05 < p < 1.5 for p in figures["the million: peak memory"].runs)  # GiB
    built = figures["the million: city and model built, CPU s"].runs
    assert all(0 < b < c for b, c in zip(built, cpu.runs, strict=True))
    stolen = figures["the machine's steal time during the run, s"]
    assert len(stolen.runs) == (2 if steal_seconds() is not None else 0)  # from /proc/stat around each run
    assert all(0 <= s < 2 * c for s, c in zip(stolen.runs, cpu.runs, strict=True))  # two cores at most
    assert stolen.row().endswith("| - | - |")  # recorded, not judged
    first = tmp_path / "round0" / "run0"
    assert (tmp_path / "round1" / "run0" / "summary.json").is_file()  # each run kept in its round
    assert (first / "summary.json").is_file()
    assert json.loads((first / "summary.json").read_text())["population"] > 1000  # the toy city, not the million
    assert figures["the million's run directory"].runs[0] == pytest.approx(
        sum(p.stat().st_size for p in first.rglob("*") if p.is_file()) / 1e6
    )
    assert figures["run directories byte for byte the same (1 = yes)"].runs == [1.0]  # the second run's as the first's


def test_issue_20s_mesa_figures_are_the_rounds_with_every_call_compiled(monkeypatch):
    """Must 3 is measured as ``bench_engine`` is run (``SAFECITY_KERNELS=1``), and the setting is given back."""
    from benchmarks import bench_engine, bench_issue20

    seen = []

    def rounds(n, hours, repeat, rounds):
        seen.append((n, hours, repeat, rounds, os.environ.get("SAFECITY_KERNELS")))
        return {"ratios": [100.0 + hours, 90.0 + hours][:rounds], "mesa_steal_s": [0.5, 0.0][:rounds]}

    monkeypatch.setattr(bench_engine, "compare_with_per_agent", rounds)
    monkeypatch.setenv("SAFECITY_KERNELS", "auto")
    first, first_steal, three, three_steal = bench_issue20.must_3(2, 20_000, 5)
    assert seen == [(20_000, 1.0, 5, 2, "1"), (20_000, 3.0, 5, 2, "1")]
    assert os.environ["SAFECITY_KERNELS"] == "auto"
    assert (first.runs, first.at_least, three.runs, three.at_least) == ([101.0, 91.0], 100.0, [103.0, 93.0], 150.0)
    assert first_steal.runs == three_steal.runs == [0.5, 0.0]  # recorded beside each round's ratio
    assert (first.group, three.group) == (first_steal.group, three_steal.group) == ("the first hour", "3 h")
    monkeypatch.delenv("SAFECITY_KERNELS")
    bench_issue20.must_3(1, 20_000, 5)
    assert "SAFECITY_KERNELS" not in os.environ


def test_issue_20s_command_measures_mesa_the_peers_and_the_start_up_at_toy_sizes(tmp_path):
    """``bench_issue20 --quick --musts 3 5``: Mesa's rounds, the peers pair by pair, the start-up's imports."""
    from benchmarks.bench_issue20 import measure, sumo_installed

    figures = measure([3, 5], 2, quick=True, work=tmp_path)
    names = [f.name for f in figures]
    assert names[:4] == [
        "per-agent Mesa's time over ours, 500 citizens, the first hour",
        "the machine's steal time during Mesa's run, the first hour, s",
        "per-agent Mesa's time over ours, 500 citizens, 3 h",
        "the machine's steal time during Mesa's run, 3 h, s",
    ]
    assert "jupedsim-network's CPU over ours, 300 agents" in names
    assert ("sumo-meso's CPU over ours, 300 agents" in names) == sumo_installed()
    assert names[-1] == "start-up: CPU s before the city"
    for f in figures:
        assert len(f.runs) == 2, f.name
        assert all(v >= 0 if "steal" in f.name else v > 0 for v in f.runs), f.name
    start = figures[-1]
    assert all(0.1 < s < 10 for s in start.runs)  # the engine's libraries are imported, not a bare interpreter's
    run = json.loads((tmp_path / "agents-300" / "run-ours-walk" / "summary.json").read_text())
    assert run["evacuation"]["sheltered"] == 300  # ours did the whole job each time


def test_steal_time_is_read_from_the_cpu_line_in_seconds(tmp_path):
    """The eighth number of ``/proc/stat``'s first line, ticks to seconds; None where there is no such file."""
    stat = tmp_path / "stat"
    stat.write_text("cpu  5916715 8722 614489 4234064 39696 0 8234 92600 0 0\ncpu0 1 2 3 4 5 6 7 8 9 10\n")
    assert steal_seconds(stat) == pytest.approx(92600 / os.sysconf("SC_CLK_TCK"))
    assert steal_seconds(tmp_path / "none") is None
    stat.write_text("cpu  1 2 3\n")  # an older kernel's line without steal
    assert steal_seconds(stat) is None


def test_steal_during_a_block_is_appended_once_where_the_machine_reports_it():
    """``steal_into``: one figure per block, never negative; none where there is no steal to read."""
    from benchmarks.usage import steal_into

    out: list[float] = [0.5]
    with steal_into(out):
        sum(range(100_000))
    assert len(out) == (2 if steal_seconds() is not None else 1)
    assert all(s >= 0 for s in out)


def test_figures_measured_together_are_shown_run_by_run():
    """``runs_table``: one row per run, one column per figure, a dash where a figure has fewer runs."""
    from benchmarks.bench_issue20 import Figure, runs_table

    cpu = Figure("1", "CPU", "s", runs=[41.0, 47.5], at_most=45.0)
    steal = Figure("1", "steal", "s", runs=[0.02])
    assert runs_table([cpu, steal]).splitlines() == [
        "| run | CPU | steal |",
        "|---|---|---|",
        "| 1 | 41.00 | 0.02 |",
        "| 2 | 47.50 | - |",
    ]


def test_the_command_prints_each_groups_figures_run_by_run(monkeypatch, capsys):
    """``main`` prints the table, then each group's figures run by run (from what ``measure`` returned)."""
    from benchmarks import bench_issue20
    from benchmarks.bench_issue20 import Figure

    cpu = Figure("1", "CPU", "s", runs=[41.0, 47.5], at_most=45.0, group="the million")
    steal = Figure("1", "steal", "s", runs=[0.02, 0.4], group="the million")
    peak = Figure("1", "peak", "GiB", runs=[1.27, 1.28], at_most=1.5)
    ratio = Figure("3", "Mesa", "x", runs=[101.0], at_least=100.0, group="1 h")
    monkeypatch.setattr(bench_issue20, "measure", lambda *a, **k: [cpu, peak, steal, ratio])
    bench_issue20.main(["--musts", "1", "--runs", "2"])
    out = capsys.readouterr().out.splitlines()
    assert (
        out[2] == "| 1 | CPU | <= 45 s | 44.25 | 41.00 to 47.50 | 2 | met | 1 of 2 |"
    )  # by the median met, one run not
    assert out[6:] == ["", "| run | CPU | steal |", "|---|---|---|", "| 1 | 41.00 | 0.02 |", "| 2 | 47.50 | 0.40 |",
                       "", "| run | Mesa |", "|---|---|", "| 1 | 101.00 |"]  # fmt: skip
