"""numba's cache is keyed by every kernel module's source: a kernel never runs with an old callee inside.

numba keys a cached kernel by its own file only; one that calls a kernel of another file keeps
the old callee compiled in after that file changes (``sim.engine._kernel_cache``).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from sim.engine import kernels

pytestmark = pytest.mark.skipif(not kernels.enabled(), reason="numba is not installed")

CALLEE = "from {pkg}._kernel_cache import njit\n\n@njit(cache=True)\ndef f():\n    return {value}\n"
CALLER = (
    "from {pkg}._kernel_cache import njit\nfrom {pkg}._compiled_a import f\n\n"
    "@njit(cache=True)\ndef g():\n    return f()\n"
)
PLAIN_CALLEE = "import numba\n\n@numba.njit(cache=True)\ndef f():\n    return {value}\n"
PLAIN_CALLER = "import numba\nfrom {pkg}._compiled_a import f\n\n@numba.njit(cache=True)\ndef g():\n    return f()\n"


def _package(root: Path, callee: str, caller: str, value: int) -> None:
    pkg = root / "kpkg"
    pkg.mkdir(exist_ok=True)
    (pkg / "__init__.py").write_text("")
    shutil.copy(Path(kernels.__file__).with_name("_kernel_cache.py"), pkg / "_kernel_cache.py")
    (pkg / "_compiled_a.py").write_text(callee.format(pkg="kpkg", value=value))
    (pkg / "_compiled_b.py").write_text(caller.format(pkg="kpkg"))


def _call_caller(root: Path) -> str:
    env = {**os.environ, "PYTHONPATH": str(root), "NUMBA_CACHE_DIR": str(root / "cache")}
    code = "from kpkg._compiled_b import g; print(g())"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300, check=True)
    return out.stdout.strip()


@pytest.mark.parametrize("keyed", [False, True])
def test_a_changed_callee_in_another_file_reaches_its_cached_caller_only_when_keyed(tmp_path, keyed):
    callee, caller = (CALLEE, CALLER) if keyed else (PLAIN_CALLEE, PLAIN_CALLER)
    _package(tmp_path, callee, caller, 1)
    assert _call_caller(tmp_path) == "1"  # compiled and cached
    _package(tmp_path, callee, caller, 2)  # the callee's file changes, the caller's does not
    # numba's own cache loads the caller with the old callee inside (the hazard this module closes).
    assert _call_caller(tmp_path) == ("2" if keyed else "1")


def test_the_digest_covers_every_kernel_module(tmp_path):
    from sim.engine import _kernel_cache

    folder = Path(_kernel_cache.__file__).parent
    for path in [*folder.glob("_compiled*.py"), folder / "_kernel_cache.py"]:
        shutil.copy(path, tmp_path / path.name)
    base = _kernel_cache.sources_digest(tmp_path)
    assert base == _kernel_cache.sources_digest(folder)
    for name in ("_compiled.py", "_compiled_enter.py", "_kernel_cache.py"):
        before = (tmp_path / name).read_bytes()
        (tmp_path / name).write_bytes(before + b"\n")
        assert _kernel_cache.sources_digest(tmp_path) != base, name
        (tmp_path / name).write_bytes(before)
    (tmp_path / "_compiled_new.py").write_text("")
    assert _kernel_cache.sources_digest(tmp_path) != base


def test_every_kernel_caches_in_the_keyed_directory():
    import numba.core.registry

    from sim.engine import _kernel_cache

    folder = Path(_kernel_cache.__file__).parent
    modules = sorted(p.stem for p in folder.glob("_compiled*.py"))
    assert len(modules) >= 7
    seen = 0
    for name in modules:
        module = __import__(f"sim.engine.{name}", fromlist=["_"])
        for value in vars(module).values():
            if isinstance(value, numba.core.registry.CPUDispatcher) and value.__module__ == module.__name__:
                assert value._cache._cache_path.startswith(_kernel_cache._DIR), f"{name}.{value.__name__}"
                seen += 1
    assert seen > 40


def test_prune_keeps_this_version_and_removes_the_others(tmp_path, monkeypatch):
    from sim.engine import _kernel_cache

    keep = tmp_path / Path(_kernel_cache._DIR).name
    monkeypatch.setattr(_kernel_cache, "_DIR", str(keep))
    other = tmp_path / "kernels-0000000000000000"
    unrelated = tmp_path / "someone-elses"
    for d in (keep, other, unrelated):
        d.mkdir()
        (d / "x.nbi").write_text("")
    gone = _kernel_cache.prune()
    assert other in gone
    assert keep.is_dir()
    assert unrelated.is_dir()
    assert not other.exists()


def test_the_kernel_modules_take_njit_from_the_keyed_cache():
    folder = Path(kernels.__file__).parent
    for path in folder.glob("_compiled*.py"):
        text = path.read_text()
        assert "numba.njit" not in text, path.name
        assert "from numba import njit" not in text, path.name
        assert "from sim.engine._kernel_cache import njit" in text, path.name
