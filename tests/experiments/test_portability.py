"""The same run on another processor: every table, position and geometry the same bits.

The C library's ``exp``, ``log``, ``sin``... and NumPy's SIMD loops differ in the last bit from
one processor to another; the simulation computes them in ``sim.core.fpmath`` and projects
cities to UTM with ``sim.city.utm`` instead of PROJ. Here each scenario runs twice through the
command line, once as this machine is and once without glibc's FMA and AVX2 code, NumPy's AVX2
loops and numba's host tuning, and the run directories are compared value for value. Before
this, both cases differed (an asset's easting in Kotka, a road's mean delay on the synthetic
city, and the longitudes of the tracks).
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import OTHER_CPU

ROOT = Path(__file__).resolve().parents[2]
WALL = {"wall_time_s", "wall_time", "created", "started", "finished", "elapsed_s"}

FLOOD = "hazards=[{type: flood, at: 0, update_every: 60, stages: [{at: 0, level_m: 0.5}, {at: 1h, level_m: 3.0}]}]"
DDOS = "cyber=[{type: ddos, target: COC, rate_rps: 50000, at: 10min, duration: 30min}]"
SYNTHETIC = [
    "scenarios/synthetic_large_city.yaml",
    *("--set", "city.synthetic.population=20000", "--set", "city.synthetic.area_km2=12"),
    *("--set", "duration=70min", "--set", FLOOD, "--set", DDOS),
    *("--set", "population.walk_speed_mps={mean: 1.3, sd: 0.3}"),
]
CASES: dict[str, tuple[list[str], dict[str, str]]] = {
    # the vectorised references of the movement passes (a run this small never loads the kernels)
    "kotka": (["scenarios/kotka_river_flood.yaml", "--set", "duration=70min"], {}),
    # the numba kernels from the first call: compiled for this processor, then for a generic one
    # (the same scenario through the references adds nothing the two cases do not hold, and 12 s)
    "synthetic-compiled": (SYNTHETIC, {"SAFECITY_KERNELS": "1"}),
}


def run(args: list[str], out: Path, env: dict[str, str]) -> None:
    res = subprocess.run(
        [sys.executable, "-m", "sim", "run", *args, "--out", str(out), "--quiet"],
        cwd=ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert res.returncode == 0, res.stderr[-2000:]


def without_wall_time(value):
    if isinstance(value, dict):
        return {k: without_wall_time(v) for k, v in value.items() if k not in WALL}
    return value


@pytest.mark.parametrize("case", sorted(CASES))
def test_a_run_is_the_same_on_another_processor(case, tmp_path):
    here, there = tmp_path / "here", tmp_path / "there"
    args, env = CASES[case]
    run(args, here, env)
    run(args, there, {**OTHER_CPU, **env})
    assert without_wall_time(json.loads((here / "summary.json").read_text())) == without_wall_time(
        json.loads((there / "summary.json").read_text())
    )
    tables = sorted(p.name for p in here.glob("*.parquet"))
    assert {"timeseries.parquet", "events.parquet", "road_flows.parquet", "registrations.parquet"} <= set(tables)
    for name in tables:  # Parquet is written the same way each time: equal bytes are equal values
        assert (here / name).read_bytes() == (there / name).read_bytes(), name
    assert (here / "pfif.xml").read_bytes() == (there / "pfif.xml").read_bytes()
    # the GeoPackage too, its timestamps being the simulated clock at the end, not the wall clock
    assert (here / "run.gpkg").read_bytes() == (there / "run.gpkg").read_bytes()
    with sqlite3.connect(here / "run.gpkg") as db:
        stamps = {row[0] for row in db.execute("SELECT last_change FROM gpkg_contents")}
    assert stamps == {"2026-01-01T09:10:00.000Z"}
