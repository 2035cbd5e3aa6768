"""Fuzzing the loader and the command line with mutated sample scenarios (hypothesis).

Every mutated scenario must end in one of two ways: it loads (exit 0), or it is refused with
field-named lines (exit 2): never a traceback, a hang or a file left behind.

Short by default (CI). The maintainers' long profile:

    SAFECITY_FUZZ_EXAMPLES=2000 SAFECITY_FUZZ_CLI_EXAMPLES=200 ./run.sh test tests/fuzz

"""

from __future__ import annotations

import copy
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim.core.errors import InputError
from sim.scenario import load_scenario
from sim.scenario.loader import apply_override

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = ROOT / "scenarios"
SAMPLES = {p.stem: yaml.safe_load(p.read_text()) for p in sorted(SCENARIOS.glob("*.yaml"))}
LOADER_EXAMPLES = int(os.environ.get("SAFECITY_FUZZ_EXAMPLES", "150"))
CLI_EXAMPLES = int(os.environ.get("SAFECITY_FUZZ_CLI_EXAMPLES", "6"))
CLI_TIMEOUT_S = 180
FIELD_LINE = re.compile(r"^(warning: )?\S[^\n]*?: \S.*$")

NASTY = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.just(10**400),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(
        [
            "",
            "1h30",
            "$x$",
            "![x](https://evil.example/a.png)",
            "../../etc/passwd",
            "9999-12-31T00:00:00Z",
            "0.0001",
            "all",
            "C1",
            "-1",
            "1e300",
            "NaN",
            "15min",
            "x" * 500,
        ]
    ),
    st.lists(st.integers(-5, 5), max_size=4),
    st.dictionaries(st.sampled_from(["id", "at", "type", "zone", "bbox"]), st.integers(-2, 2), max_size=3),
)


def _paths(node: Any, prefix: tuple = ()) -> list[tuple]:
    out = [prefix]
    if isinstance(node, dict):
        for k, v in node.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            out += _paths(v, (*prefix, i))
    return out


@st.composite
def mutated(draw: st.DrawFn) -> tuple[str, dict[str, Any]]:
    """A sample scenario with one to three random edits: a value replaced, a key dropped or added, a list grown."""
    name = draw(st.sampled_from(sorted(SAMPLES)))
    data = copy.deepcopy(SAMPLES[name])
    for _ in range(draw(st.integers(1, 3))):
        paths = [p for p in _paths(data) if p]
        path = draw(st.sampled_from(paths))
        parent = data
        for key in path[:-1]:
            parent = parent[key]
        leaf = path[-1]
        action = draw(st.sampled_from(["replace", "delete", "add_key", "duplicate"]))
        if action == "replace":
            parent[leaf] = draw(NASTY)
        elif action == "delete":
            del parent[leaf]
        elif action == "add_key" and isinstance(parent, dict):
            parent[draw(st.sampled_from(["id", "at", "extra", "zone", "count"]))] = draw(NASTY)
        elif action == "duplicate" and isinstance(parent, list):
            parent.append(copy.deepcopy(parent[leaf]))
    return name, data


def _assert_field_named(err: InputError) -> None:
    lines = err.lines()
    assert lines
    for line in lines:
        assert FIELD_LINE.match(line), line
        assert line.isprintable(), line
        assert len(line) < 2000, line[:200]


@settings(
    max_examples=LOADER_EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(case=mutated())
def test_the_loader_accepts_or_names_the_field(case):
    _, data = case
    try:
        load_scenario(data, base_dir=SCENARIOS)
    except InputError as err:
        _assert_field_named(err)


@settings(max_examples=LOADER_EXAMPLES, deadline=None)
@given(
    path=st.lists(
        st.one_of(
            st.sampled_from(["alerting", "orders", "shelters", "city", "0", "99", "seed", ""]), st.text(max_size=4)
        ),
        min_size=1,
        max_size=4,
    ),
    value=st.text(max_size=30),
)
def test_any_set_override_is_applied_or_named(path, value):
    data = copy.deepcopy(SAMPLES["kotka_district_evacuation"])
    try:
        apply_override(data, ".".join(path) + "=" + value)
        load_scenario(data, base_dir=SCENARIOS)
    except InputError as err:
        _assert_field_named(err)


@pytest.mark.slow
@settings(
    max_examples=CLI_EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture, HealthCheck.data_too_large],
)
@given(case=mutated(), command=st.sampled_from(["validate", "run"]))
def test_the_command_line_exits_0_or_2_and_leaves_nothing_behind(tmp_path_factory, case, command):
    name, data = case
    work = tmp_path_factory.mktemp("fuzz")
    scenario = work / f"{name}.yaml"
    scenario.write_text(yaml.safe_dump(data, allow_unicode=True))
    args = [sys.executable, "-m", "sim", command, str(scenario), "--set", "duration=5min"]
    if command == "run":
        args += ["--out", str(work / "out"), "--quiet"]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    try:
        res = subprocess.run(
            args, capture_output=True, text=True, timeout=CLI_TIMEOUT_S, cwd=work, env=env, check=False
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"{name}: no answer in {CLI_TIMEOUT_S} s")
    assert res.returncode in (0, 2), res.stderr[-2000:]
    assert "Traceback" not in res.stderr
    for line in res.stderr.splitlines():
        assert FIELD_LINE.match(line), line
    left = sorted(p.name for p in work.iterdir())
    if command == "run" and res.returncode == 0:
        assert left == sorted([scenario.name, "out"])
        assert (work / "out" / "manifest.json").is_file()
    else:
        assert left == [scenario.name]  # nothing written, nothing hidden
