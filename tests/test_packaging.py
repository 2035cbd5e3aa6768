"""The package installs (``pip install .`` and ``-e .``) and the lock pins what the tests ran with."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import zipfile
from importlib import metadata
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PIP = [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q"]


def _names(req_file: Path) -> dict[str, str]:
    """Requirement name (normalised) -> the line, for the requirements named in a file."""
    out = {}
    for line in req_file.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if not line or line.startswith("-"):
            continue
        name = re.split(r"[\s\[<>=!~;]", line, maxsplit=1)[0]
        out[_norm(name)] = line
    return out


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _source_copy(tmp: Path) -> Path:
    """The files a build reads, copied (a build writes build/ next to them)."""
    src = tmp / "src"
    src.mkdir()
    for name in ("pyproject.toml", "requirements.txt", "README.md"):
        shutil.copy(ROOT / name, src / name)
    for pkg in ("sim", "ui"):
        shutil.copytree(ROOT / pkg, src / pkg, ignore=shutil.ignore_patterns("__pycache__"))
    return src


@pytest.mark.slow
def test_pip_install_dot_gives_a_working_package_with_the_declared_dependencies(tmp_path):
    src = _source_copy(tmp_path)
    wheels = tmp_path / "wheels"
    subprocess.run([*PIP, "wheel", "--no-deps", "--no-build-isolation", "-w", str(wheels), str(src)], check=True)
    (wheel,) = wheels.glob("safecity_twin-*.whl")
    with zipfile.ZipFile(wheel) as z:
        names = z.namelist()
        meta = z.read(next(n for n in names if n.endswith(".dist-info/METADATA"))).decode()
    assert "sim/engine/model.py" in names
    assert "ui/maps.py" in names
    assert not any(n.startswith("tests/") for n in names)
    declared = {
        _norm(re.split(r"[\s\[<>=!~;]", line[len("Requires-Dist: ") :], maxsplit=1)[0])
        for line in meta.splitlines()
        if line.startswith("Requires-Dist: ")
    }
    assert declared == set(_names(ROOT / "requirements.txt")), "pyproject.toml must declare requirements.txt"

    site = tmp_path / "site"
    subprocess.run([*PIP, "install", "--no-deps", "--target", str(site), str(wheel)], check=True)
    scenario = tmp_path / "work" / "s.yaml"
    scenario.parent.mkdir()
    scenario.write_text("name: installed\ncity: {builtin: kotka}\nduration: 10min\n")
    env = {**os.environ, "PYTHONPATH": str(site)}
    where = subprocess.run(
        [sys.executable, "-c", "import sim, sim.api; print(sim.__file__)"],
        cwd=scenario.parent, env=env, capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert Path(where.stdout.strip()).is_relative_to(site)  # the installed copy, not the repository
    run = subprocess.run(
        [sys.executable, "-m", "sim", "validate", str(scenario)],
        cwd=scenario.parent, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert (site / "bin" / "safecity").exists()  # the console script


@pytest.mark.slow
def test_pip_install_editable_points_at_the_sources(tmp_path):
    src = _source_copy(tmp_path)
    prefix = tmp_path / "prefix"
    subprocess.run(
        [*PIP, "install", "--no-deps", "--no-build-isolation", "--prefix", str(prefix), "-e", str(src)], check=True
    )
    (site,) = prefix.glob("lib/python*/site-packages")
    code = f"import site; site.addsitedir({str(site)!r}); import sim; print(sim.__file__)"
    where = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, check=True)
    assert Path(where.stdout.strip()).is_relative_to(src / "sim")  # edits to the sources take effect


def test_the_lock_pins_every_requirement_and_matches_what_is_installed():
    lock = {}
    for line in (ROOT / "requirements.lock").read_text().splitlines():
        if line and not line.startswith("#"):
            name, version = line.split("==")
            lock[_norm(name)] = version
    wanted = _names(ROOT / "requirements.txt") | _names(ROOT / "requirements-dev.txt")
    missing = sorted(set(wanted) - set(lock))
    assert not missing, f"not in requirements.lock: {missing}"
    if (Path(sys.prefix) / ".unlocked").exists():
        pytest.skip("./run.sh installed the ranges: the locked versions had no build for this Python")
    differ = {n: (metadata.version(n), v) for n, v in lock.items() if _installed(n) and metadata.version(n) != v}
    assert not differ, f"installed != requirements.lock: {differ}"
    assert all(_installed(n) for n in wanted)


def _installed(name: str) -> bool:
    try:
        metadata.version(name)
    except metadata.PackageNotFoundError:
        return False
    return True
