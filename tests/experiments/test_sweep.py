"""Sweeps on a real Dask cluster (SPEC section 5): rows, resume after kill -9, validation, adequacy, sensitivity."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim import api

ROOT = Path(__file__).resolve().parents[2]
KOTKA = ROOT / "scenarios" / "kotka_district_evacuation.yaml"
SHORT = "duration: 40min"  # every sweep here shortens the base scenario through a tiny wrapper scenario


@pytest.fixture
def base(tmp_path: Path) -> Path:
    """The Kotka district sample, 40 minutes long (a scenario of its own, so sweeps refer to it)."""
    text = KOTKA.read_text().replace("duration: 3h", SHORT)
    path = tmp_path / "kotka_short.yaml"
    path.write_text(text)
    return path


def _sweep_file(tmp_path: Path, body: str, name: str = "sweep.yaml") -> Path:
    path = tmp_path / name
    path.write_text(body)
    return path


def _cli(*args: str, timeout: float = 600) -> subprocess.CompletedProcess:
    env = os.environ | {"PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "sim", *args], capture_output=True, text=True, timeout=timeout, cwd=ROOT, env=env
    )


GRID = """
name: grid-test
scenario: kotka_short.yaml
parameters:
  alerting.channels.0.coverage: {values: [0.2, 0.9]}
  population.mode_share.car: {values: [0.0, 0.3]}
  population.mode_share.walk: {tie: population.mode_share.car, scale: -1, offset: 1}
design: grid
seeds: 2
"""


def test_a_local_cluster_sweep_gives_one_row_per_pair_equal_to_plain_runs(tmp_path, base):
    sweep = _sweep_file(tmp_path, GRID)
    out = tmp_path / "out"
    proc = _cli("sweep", str(sweep), "--out", str(out), "--workers", "2")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().endswith(str(out))
    assert "8/8 runs" in proc.stderr  # progress: runs done / total
    results = pd.read_parquet(out / "results.parquet")
    assert len(results) == 8
    assert sorted(zip(results["point"], results["seed"], strict=True)) == [(p, s) for p in range(4) for s in (1, 2)]
    assert set(results["status"]) == {"ok"}
    assert results["seed"].dtype.kind == "i"
    # The tie keeps the mode shares valid at every point.
    np.testing.assert_allclose(results["population.mode_share.walk"] + results["population.mode_share.car"], 1.0)
    assert results["worker_pid"].nunique() == 2  # both worker processes ran some
    # A row equals python -m sim run with the same --set values and seed, whichever worker ran it.
    row = results[(results["point"] == 3) & (results["seed"] == 2)].iloc[0]
    plain = _cli(
        "run",
        str(base),
        "--seed",
        "2",
        "--set",
        "alerting.channels.0.coverage=0.9",
        "--set",
        "population.mode_share.car=0.3",
        "--set",
        "population.mode_share.walk=0.7",
        "--out",
        str(tmp_path / "plain"),
        "--quiet",
    )
    assert plain.returncode == 0, plain.stderr
    summary = json.loads((tmp_path / "plain" / "summary.json").read_text())
    for path in ("evacuation.t50_s", "evacuation.sheltered", "alerts.reach_fraction", "location.coverage"):
        node = summary
        for part in path.split("."):
            node = node[part]
        assert row[path] == pytest.approx(node, rel=0, abs=0), path
    points = pd.read_parquet(out / "points.parquet")
    assert len(points) == 4
    for col in ("evacuation.sheltered.mean", "evacuation.sheltered.sd", "evacuation.sheltered.n"):
        assert col in points
    low, high = points["evacuation.sheltered.ci95_low"], points["evacuation.sheltered.ci95_high"]
    assert (low <= points["evacuation.sheltered.mean"]).all()
    assert (points["evacuation.sheltered.mean"] <= high).all()
    # Reach grows with siren coverage, seen through the points table.
    reach = points.groupby("alerting.channels.0.coverage")["alerts.reach_fraction.mean"].mean()
    assert reach[0.9] > reach[0.2]
    html = (out / "report.html").read_text()
    assert "<img" in html
    assert "http://" not in html
    assert "https://" not in html
    for name in ("sweep.yaml", "manifest.json"):
        assert (out / name).exists()
    assert json.loads((out / "manifest.json").read_text())["state"] == "done"


def test_a_sweep_through_a_dask_scheduler_and_worker_started_by_hand(tmp_path, base):
    port = _free_port()
    env = os.environ | {"PYTHONPATH": str(ROOT)}
    bin_dir = Path(sys.executable).parent
    scheduler = subprocess.Popen(
        [str(bin_dir / "dask"), "scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    worker = subprocess.Popen(
        [str(bin_dir / "dask"), "worker", f"tcp://127.0.0.1:{port}", "--nthreads", "1", "--no-dashboard"],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_port(port)
        sweep = _sweep_file(tmp_path, GRID.replace("seeds: 2", "seeds: 1"))
        out = tmp_path / "out"
        proc = _cli("sweep", str(sweep), "--out", str(out), "--scheduler", f"tcp://127.0.0.1:{port}", "--quiet")
        assert proc.returncode == 0, proc.stderr
        results = pd.read_parquet(out / "results.parquet")
        assert len(results) == 4
        assert set(results["status"]) == {"ok"}
        assert results["worker_pid"].nunique() == 1
        assert worker.pid in set(results["worker_pid"]) or results["worker_pid"].iloc[0] != os.getpid()
    finally:
        for p in (worker, scheduler):
            p.terminate()
        for p in (worker, scheduler):
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()


def test_kill_9_part_way_then_resume_ends_with_exactly_one_row_per_pair(tmp_path, base):
    sweep = _sweep_file(tmp_path, GRID.replace("seeds: 2", "seeds: 3"))
    out = tmp_path / "out"
    env = os.environ | {"PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "sim", "sweep", str(sweep), "--out", str(out), "--workers", "2"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # its Dask workers are in its process group: kill them all at once
    )
    deadline = time.time() + 300
    while time.time() < deadline and len(list((out / "parts").glob("p*.parquet"))) < 3:
        time.sleep(0.2)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    done_before = len(list((out / "parts").glob("p*.parquet")))
    assert 3 <= done_before < 12
    again = _cli("sweep", str(sweep), "--out", str(out), "--workers", "2", "--resume")
    assert again.returncode == 0, again.stderr
    results = pd.read_parquet(out / "results.parquet")
    pairs = list(zip(results["point"], results["seed"], strict=True))
    assert sorted(pairs) == [(p, s) for p in range(4) for s in (1, 2, 3)]  # none lost, none twice
    # The resume ran only what was missing.
    assert f"{12}/12 runs" in again.stderr
    # Without --resume an existing sweep folder is refused, untouched.
    refused = _cli("sweep", str(sweep), "--out", str(out), "--workers", "1")
    assert refused.returncode == 2
    assert "--out: " in refused.stderr
    assert "--resume" in refused.stderr
    assert pd.read_parquet(out / "results.parquet").equals(results)


def test_an_invalid_point_is_exit_2_naming_parameter_point_and_value_with_nothing_written(tmp_path, base):
    body = GRID.replace("{values: [0.2, 0.9]}", "{values: [0.2, 1.5]}")
    sweep = _sweep_file(tmp_path, body)
    out = tmp_path / "out"
    proc = _cli("sweep", str(sweep), "--out", str(out), "--workers", "1")
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert lines[0].startswith("parameters.alerting.channels.0.coverage: point 2 (value 1.5): ")
    assert "1" in lines[0]
    assert not out.exists()
    bad = _sweep_file(tmp_path, GRID.replace("design: grid", "design: lhs"), "bad.yaml")
    proc = _cli("sweep", str(bad), "--out", str(out))
    assert proc.returncode == 2
    assert "parameters.alerting.channels.0.coverage" in proc.stderr or "samples" in proc.stderr
    assert not out.exists()


def test_sobol_gives_a_parameter_with_no_effect_an_index_near_zero(tmp_path, base):
    body = """
name: sobol-test
scenario: kotka_short.yaml
parameters:
  alerting.channels.0.coverage: {low: 0.1, high: 0.9}
  output.tracks.max_citizens: {low: 10, high: 1000, integer: true}
design: sobol
samples: 8
seeds: 1
"""
    _results, points = api.sweep(_sweep_file(tmp_path, body), tmp_path / "out", workers=2)
    assert len(points) == 8 * (2 + 2)
    sens = pd.read_parquet(tmp_path / "out" / "sensitivity.parquet")
    reach = sens[sens["figure"] == "alerts.reach_fraction"].set_index("parameter")
    assert reach.loc["output.tracks.max_citizens", "ST"] == pytest.approx(0.0, abs=0.02)  # tracks change no figure
    assert reach.loc["alerting.channels.0.coverage", "ST"] > 0.5


def test_adequacy_stops_at_min_seeds_for_a_deterministic_figure_and_adds_seeds_otherwise(tmp_path, base):
    body = """
name: adequacy-test
scenario: kotka_short.yaml
parameters:
  alerting.channels.0.coverage: {values: [0.5]}
design: grid
seeds: {min: 3, max: 6, ci_halfwidth: {population: 0.001, evacuation.sheltered: 0.0001}}
"""
    results, points = api.sweep(_sweep_file(tmp_path, body), tmp_path / "out", workers=2)
    # 'sheltered' varies with the seed: seeds are added up to max; the target is not met at 1e-4.
    assert len(results) == 6
    assert points["n"].iloc[0] == 6
    assert not bool(points["target_met"].iloc[0])
    body2 = body.replace(", evacuation.sheltered: 0.0001", "")
    results2, points2 = api.sweep(_sweep_file(tmp_path, body2, "det.yaml"), tmp_path / "out2", workers=1)
    assert len(results2) == 3  # the population is the same at every seed: stop at min
    assert bool(points2["target_met"].iloc[0])


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_port(port: int, timeout: float = 60) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise TimeoutError(port)


@pytest.mark.parametrize("name", ["kotka_warning_grid.yaml", "synthetic_sobol.yaml"])
def test_the_shipped_sweep_files_are_valid_at_every_point(name):
    from sim.experiments.sweepfile import load_sweep

    sweep = load_sweep(ROOT / "studies" / name)
    expected = {"kotka_warning_grid.yaml": 27, "synthetic_sobol.yaml": 32 * (4 + 2)}[name]
    assert len(sweep.design) == expected
    if name == "synthetic_sobol.yaml":
        shares = sweep.design["population.mode_share.walk"] + sweep.design["population.mode_share.car"]
        np.testing.assert_allclose(shares, 1.0)
        assert set(sweep.design["network.redundancy"]) <= {1, 2, 3}


def test_a_run_that_fails_is_a_row_and_the_sweep_goes_on_with_exit_1(tmp_path, base):
    # A district that this city does not have passes the schema but fails when the run builds.
    body = """
name: failing
scenario: kotka_short.yaml
parameters:
  alerting.orders.0.zone: {values: [C1, Z9]}
design: grid
seeds: 1
keep_runs: true
"""
    out = tmp_path / "out"
    proc = _cli("sweep", str(_sweep_file(tmp_path, body)), "--out", str(out), "--workers", "1", "--quiet")
    assert proc.returncode == 1
    assert "1 run(s) failed" in proc.stderr
    results = pd.read_parquet(out / "results.parquet").set_index("point")
    assert results.loc[0, "status"] == "ok"
    assert results.loc[1, "status"] == "failed"
    assert "Z9" in results.loc[1, "error"]
    assert (out / "runs" / "p0-s1" / "summary.json").exists()  # keep_runs: the run directory of each ok run
    assert not (out / "runs" / "p1-s1").exists()
    points = pd.read_parquet(out / "points.parquet").set_index("point")
    assert points.loc[1, "n"] == 0
    assert points.loc[1, "failed"] == 1


def test_a_kept_run_of_a_sweep_is_found_by_point_and_seed(tmp_path, layer_city):
    from sim import api
    from tests.conftest import everyone_now, scenario_from

    city = layer_city().road((0, 0), (0, 300)).people_at((0, 0), 10).shelter("S", (0, 300), 20).write()
    result = api.run(scenario_from(city, duration=600, **everyone_now()))
    api.write_run(result, tmp_path / "sweep" / "runs" / "p3-s2")
    assert api.sweep_kept_run(tmp_path / "sweep", 3, 2) == tmp_path / "sweep" / "runs" / "p3-s2"
    assert api.sweep_kept_run(tmp_path / "sweep", 3, 1) is None
    (tmp_path / "sweep" / "runs" / "p4-s1").mkdir()  # not a run directory
    assert api.sweep_kept_run(tmp_path / "sweep", 4, 1) is None
