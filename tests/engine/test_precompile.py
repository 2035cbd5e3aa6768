"""``python -m sim.engine.precompile`` (run by ``./run.sh`` at set-up) leaves nothing to compile.

After it, on a fresh cache, runs of other cities and parts compile no kernel: the first large
run on a machine does not stop for about 40 s in its middle.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from sim.engine import kernels

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.skipif(not kernels.enabled(), reason="numba is not installed")

OTHER_RUNS = [
    ("scenarios/kotka_river_flood.yaml", ("duration=40min",)),  # a real city, shared carriageways
    (
        "scenarios/synthetic_large_city.yaml",
        (
            "city.synthetic.population=6000",
            "city.synthetic.area_km2=4",
            "duration=30min",
            "population.walk_speed_mps={mean: 1.3, sd: 0.3}",
            "cyber=[{type: ddos, target: COC, rate_rps: 50000, at: 5min, duration: 10min}]",
        ),
    ),
    (  # point queues at free speeds, on foot (a step's passes in one call), as the per-agent comparison runs
        "scenarios/synthetic_large_city.yaml",
        (
            "city.synthetic.population=4000",
            "city.synthetic.area_km2=4",
            "duration=20min",
            "movement.density_speed=false",
            "movement.storage=false",
            "movement.informed_share=0",
            "population.mode_share.walk=1",
            "population.mode_share.car=0",
        ),
    ),
]


def test_after_the_precompile_other_runs_compile_no_kernel(tmp_path):
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path / "numba-cache")}
    env.pop("SAFECITY_KERNELS", None)
    first = subprocess.run(
        [sys.executable, "-m", "sim.engine.precompile"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600
    )
    assert first.returncode == 0, first.stderr[-2000:]
    compiled = int(re.search(r"(\d+) compiled now", first.stderr).group(1))
    assert compiled > 20  # a fresh cache: everything was compiled here
    code = (
        "import json, sys; from sim.engine.precompile import run_with_every_kernel as r; "
        "print(json.dumps([r(path, tuple(over)) for path, over in json.loads(sys.argv[1])]))"
    )
    second = subprocess.run(
        [sys.executable, "-c", code, json.dumps(OTHER_RUNS)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert second.returncode == 0, second.stderr[-2000:]
    assert json.loads(second.stdout.strip().splitlines()[-1]) == [[] for _ in OTHER_RUNS]
