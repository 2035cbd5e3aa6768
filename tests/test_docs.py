"""The documents users rely on stay true: the README's key table, the quick start, CI."""

from __future__ import annotations

import re
from pathlib import Path

from sim.scenario.reference import BEGIN, END, markdown_table, rows

ROOT = Path(__file__).resolve().parents[1]


def test_readme_lists_every_scenario_key():
    readme = (ROOT / "README.md").read_text()
    start, end = readme.index(BEGIN), readme.index(END) + len(END)
    assert readme[start:end] == markdown_table(), "regenerate with: python -m sim.scenario.reference"
    keys = [r[0] for r in rows()]
    for must in (
        "population.walk_speed_mps.mean",
        "population.mode_share.car",
        "alerting.orders[].zone",
        "alerting.departure_delay",
        "city.builtin",
        "hazards",
        "cyber",
    ):
        assert any(k.startswith(must) for k in keys), must


def test_every_scenario_key_is_described_once_in_the_schema():
    """Each key's meaning is its schema field's description; no row just repeats its parent's."""
    table = rows()
    meaning = {key: desc for key, _, _, desc in table}
    assert [key for key, desc in meaning.items() if not desc.strip()] == []
    repeats = []
    for key, desc in meaning.items():
        parent = key.rsplit(".", 1)[0] if "." in key else None
        if parent in meaning and meaning[parent] == desc:
            repeats.append(key)
    assert repeats == []
    assert "receiving the order" not in meaning["alerting.departure_delay (distribution: weibull).shape"]
    source = (ROOT / "sim" / "scenario" / "reference.py").read_text()
    assert "MEANINGS" not in source  # no second dictionary of meanings beside the schema


def test_quick_start_has_exactly_two_commands_and_ci_runs_the_test_one():
    readme = (ROOT / "README.md").read_text()
    quick = readme.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    block = re.search(r"```bash\n(.*?)```", quick, re.S).group(1)
    commands = [line.split("#")[0].strip() for line in block.splitlines() if line.split("#")[0].strip()]
    assert commands == ["./run.sh app", "./run.sh test"]
    assert "./run.sh test" in (ROOT / ".ci" / "run").read_text()


def test_docs_exist_and_name_their_sources():
    movement = (ROOT / "docs" / "movement.md").read_text()
    for needle in ("Weidmann", "RiMEA", "1.3", "capacity_pph"):
        assert needle in movement
    verification = (ROOT / "docs" / "verification.md").read_text()
    for test in ("corridor", "bottleneck", "RiMEA 9", "RiMEA 12"):
        assert test.lower() in verification.lower()
    assert "per-agent Mesa" in (ROOT / "docs" / "performance.md").read_text()


def test_readme_lists_every_event_kind_the_code_can_write():
    kinds: set[str] = set()
    for path in (ROOT / "sim").rglob("*.py"):
        text = path.read_text()
        kinds |= set(re.findall(r'log_event\(\s*"([a-z_]+)"', text))
        kinds |= set(re.findall(r'recorder\.log_event\(\s*[^,]+,\s*"([a-z_]+)"', text))
    assert len(kinds) > 20  # the kinds written literally; a few more are chosen at run time
    readme = (ROOT / "README.md").read_text()
    events_row = next(line for line in readme.splitlines() if line.startswith("| `events.parquet`"))
    missing = sorted(k for k in kinds if f"`{k}`" not in events_row)
    assert missing == []


def test_no_row_of_the_key_reference_repeats_its_parent():
    table = {key: desc for key, _typ, _default, desc in rows()}
    for key, desc in table.items():
        plain = re.sub(r" \([^)]*\)", "", key)  # a.b (distribution: weibull).shape -> a.b.shape
        parent = plain.rsplit(".", 1)[0] if "." in plain else None
        if parent in table and desc:
            assert desc != table[parent], key


def test_the_json_schema_for_editors_is_in_sync_and_accepts_every_sample():
    import json

    import jsonschema

    from sim.scenario.loader import read_scenario_file
    from sim.scenario.schema import Scenario

    on_disk = json.loads((ROOT / "docs" / "scenario.schema.json").read_text())
    now = json.loads(json.dumps(Scenario.model_json_schema(mode="validation"), sort_keys=True, default=str))
    assert on_disk == now, "regenerate with: python -m sim schema > docs/scenario.schema.json"
    validator = jsonschema.Draft202012Validator(on_disk)
    samples = sorted((ROOT / "scenarios").glob("*.yaml"))
    assert len(samples) > 10
    for path in samples:
        assert path.read_text().startswith("# yaml-language-server: $schema=../docs/scenario.schema.json"), path
        errors = sorted(validator.iter_errors(read_scenario_file(path)), key=str)
        assert errors == [], (path.name, [e.message for e in errors[:3]])
    bad = read_scenario_file(samples[0]) | {"duration": -5, "no_such_key": 1}
    assert len(list(validator.iter_errors(bad))) >= 2  # an editor flags both


def test_every_test_that_starts_chromium_is_marked_browser_so_it_runs_alone():
    """``./run.sh test`` runs the rest in two processes, then the ``browser`` tests by themselves."""
    unmarked = []
    for path in sorted((ROOT / "tests").rglob("*.py")):
        text = path.read_text()
        if path == Path(__file__):
            continue
        if "chromium.launch(" in text and "pytestmark = pytest.mark.browser" not in text:
            unmarked.append(path.name)
    assert unmarked == []
    run_sh = (ROOT / "run.sh").read_text()
    assert '-m "not browser"' in run_sh
    assert "-m browser" in run_sh
