"""Run directories under stress: concurrent writers, signals, kill -9, --force, bad destinations.

Every case runs the real command line in a subprocess and sends real signals.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from sim.experiments.cli import _default_out
from sim.io.rundir import REQUIRED_FILES, is_run_dir

ROOT = Path(__file__).resolve().parents[2]

# A run that takes a few seconds: long enough to be caught mid-way by a signal.
SLOW = {
    "name": "slow",
    "duration": "3h",
    "city": {"synthetic": {"area_km2": 16, "population": 60000, "water": "none"}},
    "alerting": {"orders": [{"at": 0, "zone": "all"}], "channels": [{"type": "ideal", "coverage": 1.0}]},
}
QUICK = {**SLOW, "name": "quick", "duration": "20min", "city": {"synthetic": {"area_km2": 1, "population": 300}}}


def _scenario(folder: Path, data: dict) -> Path:
    path = folder / f"{data['name']}.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def _start(*args: str, cwd: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "sim", *args],
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )


def _run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    proc = _start(*args, cwd=cwd)
    out, err = proc.communicate(timeout=300)
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


def _wait_for(pattern: str, folder: Path, proc: subprocess.Popen[str], timeout_s: float = 120) -> Path:
    """Poll until a file matching ``pattern`` appears in ``folder`` (the writer reached that phase)."""
    end = time.monotonic() + timeout_s
    while time.monotonic() < end:
        found = sorted(folder.glob(pattern))
        if found:
            return found[0]
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.02)
    pytest.fail(f"{pattern} never appeared in {folder}")


def _hidden(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


@pytest.mark.slow
@pytest.mark.parametrize(("sig", "code"), [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_a_signal_mid_run_cleans_up_and_exits_128_plus_signal(tmp_path, sig, code):
    scn = _scenario(tmp_path, SLOW)
    proc = _start("run", str(scn), "--out", "runs/x", "--quiet", cwd=tmp_path)
    _wait_for("runs/.x.tmp-*", tmp_path, proc)
    time.sleep(0.3)  # inside the simulation now
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == code, err
    assert "Traceback" not in err
    assert list((tmp_path / "runs").iterdir()) == []  # no temporary folder, no lock, no run


@pytest.mark.slow
def test_kill_9_during_force_keeps_the_old_run_and_the_next_run_recovers(tmp_path):
    quick = _scenario(tmp_path, QUICK)
    assert _run("run", str(quick), "--out", "r", "--quiet", cwd=tmp_path).returncode == 0
    before = (tmp_path / "r" / "summary.json").read_bytes()

    slow = _scenario(tmp_path, SLOW)
    proc = _start("run", str(slow), "--out", "r", "--force", "--quiet", cwd=tmp_path)
    _wait_for(".r.tmp-*", tmp_path, proc)
    proc.kill()
    proc.communicate(timeout=60)
    assert (tmp_path / "r" / "summary.json").read_bytes() == before  # the old run is whole
    assert all(name.startswith(".r.") for name in _hidden(tmp_path))

    res = _run("run", str(quick), "--seed", "5", "--out", "r", "--force", "--quiet", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    assert json.loads((tmp_path / "r" / "summary.json").read_text())["seed"] == 5
    assert _hidden(tmp_path) == []  # what the killed writer left is gone


@pytest.mark.slow
def test_a_second_writer_to_the_same_place_is_refused_while_the_first_runs(tmp_path):
    slow = _scenario(tmp_path, SLOW)
    first = _start("run", str(slow), "--out", "same", "--quiet", cwd=tmp_path)
    _wait_for(".same.lock", tmp_path, first)
    second = _run("run", str(slow), "--out", "same", "--quiet", cwd=tmp_path)
    assert second.returncode == 2
    assert second.stderr.strip() == f"--out: another run is writing here ({tmp_path / 'same'})"
    out, err = first.communicate(timeout=300)
    assert first.returncode == 0, err
    assert out.strip().splitlines()[-1] == str(tmp_path / "same")
    assert is_run_dir(tmp_path / "same")
    assert _hidden(tmp_path) == []


def test_force_replaces_only_run_directories(tmp_path):
    quick = _scenario(tmp_path, QUICK)
    thesis = tmp_path / "thesis"
    thesis.mkdir()
    (thesis / "ch1.tex").write_text("years of work")
    res = _run("run", str(quick), "--out", str(thesis), "--force", cwd=tmp_path)
    assert res.returncode == 2
    assert res.stderr.startswith("--out: ")
    assert "not a run directory" in res.stderr
    assert (thesis / "ch1.tex").read_text() == "years of work"
    assert sorted(p.name for p in thesis.iterdir()) == ["ch1.tex"]

    run = tmp_path / "run"
    assert _run("run", str(quick), "--out", str(run), "--quiet", cwd=tmp_path).returncode == 0
    (run / "stale.txt").write_text("from the old run")
    res = _run("run", str(quick), "--out", str(run), "--force", "--quiet", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    assert not (run / "stale.txt").exists()
    assert all((run / f).is_file() for f in REQUIRED_FILES)
    assert _hidden(tmp_path) == []


@pytest.mark.parametrize(
    ("make", "words"),
    [
        (lambda d: (d / "afile").write_text("x") and d / "afile", "is a file"),
        (lambda d: (d / "afile").write_text("x") and d / "afile" / "below", "cannot create"),
        (lambda d: Path("/proc/safecity-run"), "cannot write"),
    ],
    ids=["out-is-a-file", "parent-is-a-file", "unwritable"],
)
def test_bad_destinations_are_refused_before_the_simulation(tmp_path, make, words):
    target = make(tmp_path)
    res = _run("run", str(_scenario(tmp_path, SLOW)), "--out", str(target), cwd=tmp_path)
    assert res.returncode == 2
    assert res.stderr.startswith("--out: ")
    assert words in res.stderr
    assert "%" not in res.stderr  # refused before any progress line: nothing was simulated


def test_default_names_never_collide(tmp_path):
    names = {_default_out("same scenario") for _ in range(200)}
    assert len(names) == 200
    quick = _scenario(tmp_path, QUICK)
    procs = [_start("run", str(quick), "--quiet", cwd=tmp_path) for _ in range(2)]
    outs = [p.communicate(timeout=300)[0].strip() for p in procs]
    assert [p.returncode for p in procs] == [0, 0]
    assert outs[0] != outs[1]
    assert all(is_run_dir(o) for o in outs)


def test_run_directories_follow_the_umask(tmp_path):
    quick = _scenario(tmp_path, QUICK)
    proc = subprocess.run(
        ["sh", "-c", f"umask 027 && {sys.executable} -m sim run {quick} --out shared --quiet"],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "shared").stat().st_mode & 0o777 == 0o750


def test_a_quiet_run_prints_only_its_path(tmp_path):
    res = _run("run", str(_scenario(tmp_path, QUICK)), "--out", "q", "--quiet", cwd=tmp_path)
    assert res.returncode == 0
    assert res.stderr == ""  # no library warning, no log line
    assert res.stdout == f"{tmp_path / 'q'}\n"


def test_an_attack_on_a_missing_shelter_names_its_index(tmp_path):
    data = {**QUICK, "cyber": [{"type": "spoofing", "mode": "tamper_counts", "target": "nowhere"}]}
    res = _run("validate", str(_scenario(tmp_path, data)), cwd=tmp_path)
    assert res.returncode == 2
    assert res.stderr == "cyber.0.target: no shelter has id 'nowhere'\n"


def test_tables_are_written_a_row_group_at_a_time_and_read_back_unchanged(tmp_path, monkeypatch):
    """Issue 20: a long table is converted and written in row groups, never whole; nothing changes."""
    import numpy as np
    import pandas as pd
    import pyarrow.parquet as pq

    from sim.io import rundir

    monkeypatch.setattr(rundir, "ROW_GROUP", 1000)
    n = 4500
    df = pd.DataFrame(
        {
            "t_s": np.arange(n, dtype=np.int32),
            "shelter": pd.Categorical(np.where(np.arange(n) % 3 == 0, "S1", "S2")),
            # empty in the first group, text later: the schema comes from the whole table
            "note": [None] * 1500 + ["late"] * (n - 1500),
            "x": np.linspace(0.0, 1.0, n),
        }
    )
    path = tmp_path / "t.parquet"
    rundir._write_parquet(df, path)
    assert pq.ParquetFile(path).num_row_groups == 5
    back = rundir._read_parquet(path)
    pd.testing.assert_frame_equal(back, df)
    # An empty table reads back as pandas' own writer gives it.
    df.iloc[:0].to_parquet(tmp_path / "whole.parquet", index=False)
    rundir._write_parquet(df.iloc[:0], tmp_path / "empty.parquet")
    pd.testing.assert_frame_equal(
        rundir._read_parquet(tmp_path / "empty.parquet"), pd.read_parquet(tmp_path / "whole.parquet")
    )


@pytest.mark.parametrize(
    "late",
    [
        ["b"] * 2500,  # text from the start: the first group's schema is the table's
        [2.0] * 2500,  # Python ints first, whole floats later: the table's is double, not the first group's int64
        [7] * 2500,  # Python ints throughout
        ["x", None] * 1250,  # missing values later
    ],
)
def test_the_schema_written_is_the_whole_tables_whatever_its_first_group_holds(tmp_path, monkeypatch, late):
    """The first group's schema is used only where it is the whole table's (metadata included)."""
    import pandas as pd
    import pyarrow as pa
    import pyarrow.parquet as pq

    from sim.io import rundir

    monkeypatch.setattr(rundir, "ROW_GROUP", 1000)
    first = ["a"] * 2000 if isinstance(late[0], str) else [1] * 2000
    df = pd.DataFrame({"v": pd.Series(first + late, dtype=object), "n": range(4500)})
    path = tmp_path / "t.parquet"
    rundir._write_parquet(df, path)
    assert pq.read_schema(path).equals(pa.Schema.from_pandas(df, preserve_index=False), check_metadata=True)
    assert pq.ParquetFile(path).num_row_groups == 5
    assert rundir._read_parquet(path)["v"].tolist() == df["v"].tolist()


def test_tables_are_converted_on_the_writing_thread(tmp_path, monkeypatch):
    """No thread pool per table: on two cores Arrow's cost more CPU and wall time than it saved (issue 20)."""
    import concurrent.futures

    import numpy as np
    import pandas as pd
    import pyarrow as pa

    from sim.io import rundir

    pools: list[object] = []
    real = concurrent.futures.ThreadPoolExecutor.__init__

    def counted(self, *args, **kwargs):
        pools.append(self)
        real(self, *args, **kwargs)

    monkeypatch.setattr(concurrent.futures.ThreadPoolExecutor, "__init__", counted)
    n = 20_000  # more than 100 rows per column: Arrow would convert the columns on a pool of its own
    df = pd.DataFrame({"a": np.arange(n), "b": np.linspace(0.0, 1.0, n), "c": np.arange(n) % 7})
    pa.Table.from_pandas(df, preserve_index=False, nthreads=2)  # a pool, on any machine: the check sees it
    assert len(pools) == 1
    rundir._write_parquet(df, tmp_path / "t.parquet")
    assert len(pools) == 1
    pd.testing.assert_frame_equal(rundir._read_parquet(tmp_path / "t.parquet"), df)
