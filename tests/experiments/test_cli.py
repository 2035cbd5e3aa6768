"""The command line as a user runs it: a real subprocess, real files, exit codes 0 / 1 / 2."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

from sim.core.events import EventKind
from sim.experiments.runner import run_scenario
from sim.io.rundir import REQUIRED_FILES
from sim.scenario import load_scenario
from tests.conftest import everyone_now

ROOT = Path(__file__).resolve().parents[2]


def sim(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Run ``python -m sim`` in a subprocess."""
    return subprocess.run(
        [sys.executable, "-m", "sim", *args], capture_output=True, text=True, cwd=cwd or ROOT, timeout=300, check=False
    )


def write_scenario(folder: Path, data: dict) -> Path:
    path = folder / "scenario.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def small_city(layer_city) -> dict:
    return (
        layer_city()
        .road((0, 0), (0, 400))
        .road((0, 400), (300, 400))
        .people_at((0, 0), 40)
        .shelter("S1", (0, 400), 30)
        .shelter("S2", (300, 400), 30)
        .write()
    )


def test_run_writes_the_run_directory(layer_city, tmp_path):
    scn = write_scenario(tmp_path, {"name": "cli-test", "city": small_city(layer_city), **everyone_now()})
    out = tmp_path / "run"
    res = sim("run", str(scn), "--out", str(out), "--seed", "3")
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip().splitlines()[-1] == str(out)
    for name in REQUIRED_FILES:
        assert (out / name).is_file(), name
    summary = json.loads((out / "summary.json").read_text())
    assert summary["seed"] == 3
    assert summary["population"] == 40
    for key in (
        "ordered",
        "sheltered",
        "evacuating",
        "not_departed",
        "casualties",
        "t50_s",
        "t90_s",
        "t95_s",
        "t100_s",
    ):
        assert key in summary["evacuation"]
    for key in ("first_issued_s", "reach_fraction", "median_receipt_delay_s"):
        assert key in summary["alerts"]
    for key in ("devices_total", "devices_compromised_peak", "records_exposed", "false_readings"):
        assert key in summary["cyber"]
    assert "relatives_notified_fraction" in summary
    assert set(summary["shelters"]["S1"]) == {"capacity", "peak_occupancy", "final_occupancy", "turned_away"}
    ts = pd.read_parquet(out / "timeseries.parquet")
    states = ["at_home", "evacuating", "sheltered", "casualties", "stranded"]
    assert (ts[states].sum(axis=1) == 40).all()
    assert {"shelter:S1", "shelter:S2"} <= set(ts.columns)
    ev = pd.read_parquet(out / "events.parquet")
    assert list(ev.columns) == ["t_s", "time", "kind", "subject", "cause", "count", "detail"]
    assert set(ev["kind"]) <= {k.value for k in EventKind}
    assert ev["detail"].map(lambda d: isinstance(json.loads(d), dict)).all()
    sheltl = pd.read_parquet(out / "shelter_timeline.parquet")
    assert list(sheltl.columns) == ["t_s", "shelter", "present", "registered", "observed"]
    last = sheltl[sheltl["t_s"] == ts["t_s"].max()].set_index("shelter")["present"]
    assert int(last["S1"]) == int(ts["shelter:S1"].iloc[-1])
    servtl = pd.read_parquet(out / "service_timeline.parquet")
    assert list(servtl.columns) == ["t_s", "service", "up", "level"]
    assert len(servtl) == len(ts) * sum(c.startswith("service:") for c in ts.columns)
    tracks = pd.read_parquet(out / "tracks.parquet")
    assert list(tracks.columns) == ["t_s", "time", "citizen", "lon", "lat", "state"]
    resolved = yaml.safe_load((out / "scenario.yaml").read_text())
    assert resolved["seed"] == 3
    assert resolved["step"] == 10.0
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["seed"] == 3
    assert "wall_time_s" in manifest
    assert "numpy" in manifest["packages"]
    assert "roads" in manifest["inputs"]
    assert "%" in res.stderr  # progress lines on stderr

    quiet = sim("run", str(scn), "--out", str(tmp_path / "q"), "--quiet")
    assert quiet.returncode == 0
    assert quiet.stderr == ""


def test_same_seed_same_outputs_in_another_process(layer_city, tmp_path):
    data = {
        "name": "det",
        "city": small_city(layer_city),
        **everyone_now(alerting={"departure_delay": {"distribution": "lognormal", "median": 120, "sigma": 0.5}}),
    }
    scn = write_scenario(tmp_path, data)
    a, b = tmp_path / "a", tmp_path / "b"
    assert sim("run", str(scn), "--out", str(a), "--quiet").returncode == 0
    assert sim("run", str(scn), "--out", str(b), "--quiet").returncode == 0
    assert json.loads((a / "summary.json").read_text()) == json.loads((b / "summary.json").read_text())
    for table in ("timeseries", "events", "tracks"):
        pd.testing.assert_frame_equal(pd.read_parquet(a / f"{table}.parquet"), pd.read_parquet(b / f"{table}.parquet"))
    # The same scenario run in this process gives the same summary as the CLI did.
    in_process = run_scenario(load_scenario(scn))
    assert json.loads(json.dumps(in_process.summary)) == json.loads((a / "summary.json").read_text())


def test_validate_runs_nothing(layer_city, tmp_path):
    scn = write_scenario(tmp_path, {"city": small_city(layer_city)})
    res = sim("validate", str(scn))
    assert res.returncode == 0, res.stderr
    assert "valid" in res.stdout


def test_validate_tells_the_memory_a_run_needs_from_the_built_citys_counts():
    from sim.scenario.sizing import BASE_BYTES, PER_CITIZEN_BYTES, PER_SEGMENT_BYTES

    res = sim("validate", "scenarios/synthetic_large_city.yaml", "--set", "city.synthetic.population=300000",
              "--set", "city.synthetic.area_km2=4")  # fmt: skip
    assert res.returncode == 0, res.stderr
    found = re.search(r"(\d+) road segments, (\d+) citizens, \d+ shelters\); a run needs about ([\d.]+) GB", res.stdout)
    assert found, res.stdout
    roads, citizens, gb = int(found[1]), int(found[2]), found[3]
    assert citizens == 300_000
    assert gb == f"{(BASE_BYTES + PER_CITIZEN_BYTES * citizens + PER_SEGMENT_BYTES * roads) / 1e9:.1f}" == "1.0"
    assert not (ROOT / "runs").exists() or not any((ROOT / "runs").glob("scenario-*"))


def _assert_invalid(res: subprocess.CompletedProcess[str], field: str) -> None:
    assert res.returncode == 2, (res.returncode, res.stderr)
    assert "Traceback" not in res.stderr
    lines = [line for line in res.stderr.splitlines() if line.strip()]
    assert lines, "no message"
    assert any(line.startswith(f"{field}:") for line in lines), lines


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"city": {"osm": "nowhere.osm.pbf"}}, "city.osm"),
        ({"population": {"count": "lots"}}, "population.count"),
        ({"shelters": [{"id": "x", "capacity": -5, "location": [26.95, 60.52]}]}, "shelters.0.capacity"),
        ({"colour": "blue"}, "colour"),
        ({"alerting": {"orders": [{"at": 0, "zone": "Z99"}]}}, "alerting.orders.0.zone"),
    ],
)
def test_bad_scenarios_exit_2_and_write_nothing(tmp_path, data, field):
    scn = write_scenario(tmp_path, {"name": "bad", **data})
    out = tmp_path / "never"
    _assert_invalid(sim("run", str(scn), "--out", str(out)), field)
    assert not out.exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".never")]
    _assert_invalid(sim("validate", str(scn)), field)


def test_unreachable_shelter_exits_2(layer_city, tmp_path):
    city = (
        layer_city()
        .road((0, 0), (0, 300))
        .road((0, 300), (0, 600), capacity_pph=0)
        .people_at((0, 0), 10)
        .shelter("S", (0, 600), 50)
        .write()
    )
    scn = write_scenario(tmp_path, {"city": city})
    _assert_invalid(sim("run", str(scn), "--out", str(tmp_path / "o")), "shelters")


def test_bad_set_and_missing_file_exit_2(tmp_path):
    _assert_invalid(sim("run", str(tmp_path / "missing.yaml")), "scenario")
    scn = write_scenario(tmp_path, {"name": "x"})
    _assert_invalid(sim("run", str(scn), "--set", "cyber.0.rate_rps=50000"), "cyber.0")
    _assert_invalid(sim("run", str(scn), "--set", "population.count=0"), "population.count")
    _assert_invalid(
        sim("run", str(scn), "--set", "population.walk_speed_mps.mean=fast"), "population.walk_speed_mps.mean"
    )
    _assert_invalid(sim("run", str(scn), "--seed", "abc"), "arguments")


def test_bad_layers_exit_2_with_the_feature_named(layer_city, tmp_path):
    c = layer_city().road((0, 0), (0, 300)).people_at((0, 0), 10).shelter("S", (0, 300), 5)
    c.shelters.append(
        {
            "type": "Feature",
            "properties": {"id": "T", "capacity": "big"},
            "geometry": {"type": "Point", "coordinates": [26.95, 60.52]},
        }
    )
    scn = write_scenario(tmp_path, {"city": c.write()})
    _assert_invalid(sim("validate", str(scn)), "city.shelters.1.capacity")

    d = layer_city().road((0, 0), (0, 300)).people_at((0, 0), 10).shelter("S", (0, 300), 5)
    d.roads.append({"type": "Feature", "properties": {}, "geometry": {"type": "Point", "coordinates": [26.95, 60.52]}})
    scn2 = write_scenario(tmp_path, {"city": d.write()})
    _assert_invalid(sim("validate", str(scn2)), "city.roads.1")

    broken = tmp_path / "broken.geojson"
    broken.write_text("{not json")
    scn3 = write_scenario(tmp_path, {"city": {"roads": str(broken)}})
    _assert_invalid(sim("validate", str(scn3)), "city.roads")


def test_existing_output_is_not_overwritten(layer_city, tmp_path):
    scn = write_scenario(tmp_path, {"city": small_city(layer_city), **everyone_now()})
    out = tmp_path / "o"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    _assert_invalid(sim("run", str(scn), "--out", str(out)), "--out")
    assert (out / "keep.txt").read_text() == "mine"


@pytest.mark.parametrize("command", ["run", "validate"])
def test_a_bad_scenario_is_told_before_the_engine_is_imported(tmp_path, command):
    # A typo is answered in a fraction of a second: the scenario is checked before the engine
    # (numpy, pandas, scipy, Mesa: over a second of imports) is loaded.
    scn = write_scenario(tmp_path, {"name": "bad", "colour": "blue"})
    probe = (
        "import sys\n"
        "from sim.experiments.cli import main\n"
        f"code = main([{command!r}, {str(scn)!r}, '--set', 'duration=10min'])\n"
        "heavy = sorted(m for m in ('numpy', 'pandas', 'scipy', 'mesa', 'sim.engine.model') if m in sys.modules)\n"
        "print(code, heavy)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT, timeout=120, check=False
    )
    assert done.stdout.strip() == "2 []", done.stdout + done.stderr
    assert done.stderr.startswith("colour:")


@pytest.mark.parametrize("command", ["run", "validate"])
def test_a_run_bigger_than_the_memory_available_is_warned_and_still_runs(tmp_path, command):
    # The machine's reading is replaced (this one has plenty): everything else is the real command.
    argv = [
        command,
        "scenarios/synthetic_large_city.yaml",
        "--set",
        "duration=2min",
        "--set",
        "city.synthetic.population=2000",
    ]
    if command == "run":
        argv += ["--quiet", "--out", str(tmp_path / "out")]
    probe = (
        "import sim.core.machine as machine\n"
        "machine.available_memory = lambda: 300_000_000\n"
        "from sim.experiments.cli import main\n"
        f"raise SystemExit(main({argv!r}))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT, timeout=300, check=False
    )
    assert done.returncode == 0, done.stderr
    warning = [line for line in done.stderr.splitlines() if line.startswith("warning: ")]
    assert len(warning) == 1, done.stderr
    assert warning[0].startswith("warning: city.synthetic.population: a run of 2,000 citizens and about ")
    assert "this machine has 0.3 GB available now" in warning[0]
    if command == "run":
        assert (tmp_path / "out" / "summary.json").is_file()  # a warning, not a refusal


def test_a_sweep_whose_workers_need_more_memory_than_this_machine_has_is_warned(tmp_path):
    # No machine has 512 x 4.9 GB: the real reading of this one warns, before the --out check stops it.
    base = tmp_path / "big.yaml"
    base.write_text((ROOT / "scenarios" / "synthetic_large_city.yaml").read_text())
    sweep = tmp_path / "sweep.yaml"
    sweep.write_text(
        "name: big\nscenario: big.yaml\ndesign: grid\nseeds: 1\nparameters:\n"
        "  city.synthetic.population: {values: [1000, 5000000]}\n  city.synthetic.area_km2: {values: [1500]}\n"
    )
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "mine.txt").write_text("keep")
    res = sim("sweep", str(sweep), "--workers", "512", "--out", str(busy), "--quiet")
    assert res.returncode == 2, res.stderr
    lines = res.stderr.splitlines()
    assert lines[0].startswith("warning: city.synthetic.population: 512 runs side by side of 5,000,000 citizens"), lines
    assert lines[1].startswith("--out: ")
    assert (busy / "mine.txt").read_text() == "keep"
    # The largest point by memory, not by people: fewer citizens on a city twenty times larger.
    sweep.write_text(
        "name: big\nscenario: big.yaml\ndesign: grid\nseeds: 1\nparameters:\n"
        "  city.synthetic.population: {values: [1000000, 1050000]}\n"
        "  city.synthetic.area_km2: {tie: city.synthetic.population, scale: -0.038, offset: 40000}\n"
    )
    res = sim("sweep", str(sweep), "--workers", "512", "--out", str(busy), "--quiet")
    assert res.returncode == 2, res.stderr
    assert res.stderr.startswith("warning: city.synthetic.population: 512 runs side by side of 1,000,000 citizens")
