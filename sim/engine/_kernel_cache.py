"""numba's cache for the kernels, keyed by all their sources: cached code is never older than what it calls.

numba keys a cached kernel by its own file's time stamp and size only. A kernel that calls one
in another file (the entry into arcs, in ``_compiled_enter.py``, calls the spreading in
``_compiled.py``) has the callee compiled into it: after the callee's file changes (a ``git
pull``, an edit) the caller's cache still loads, with the old callee inside, and nothing says so.
Results would then depend on what a machine had cached.

So every kernel module takes :func:`njit` from here. Its kernels are cached in a directory named
by a digest of every kernel module's source (``_compiled*.py``, this file included): any change
to any of them starts an empty cache, compiled anew (``./run.sh setup`` compiles it ahead;
:func:`prune` then removes the directories of other sources). The directory is
``__pycache__/kernels-<digest>`` beside these modules, or under ``NUMBA_CACHE_DIR`` if set, or
under ``~/.cache/safecity-twin`` where neither can be written.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numba
import numba.core.config

HERE = Path(__file__).resolve().parent
PREFIX = "kernels-"
config: Any = numba.core.config  # its settings are made at run time (mypy sees none)


def sources_digest(folder: Path = HERE) -> str:
    """A digest of every kernel module's name and source in ``folder`` (``_compiled*.py`` and this module)."""
    digest = hashlib.blake2b(digest_size=8)
    for path in sorted([*folder.glob("_compiled*.py"), folder / Path(__file__).name]):
        if path.is_file():
            digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def cache_root() -> Path:
    """Where the keyed directories go: ``NUMBA_CACHE_DIR``, this package's ``__pycache__``, or the user's cache."""
    given = os.environ.get("NUMBA_CACHE_DIR")
    if given:
        return Path(given)
    for root in (HERE / "__pycache__", Path.home() / ".cache" / "safecity-twin"):
        try:
            root.mkdir(parents=True, exist_ok=True)
        except OSError:
            continue
        if os.access(root, os.W_OK):
            return root
    return HERE / "__pycache__"  # nowhere writable: numba compiles without caching


def cache_dir() -> Path:
    """This version of the kernels' cache directory."""
    return cache_root() / f"{PREFIX}{sources_digest()}"


_DIR = str(cache_dir())


def njit(*args: Any, **options: Any) -> Any:
    """``numba.njit``, caching (``cache=True``) in this version's directory; numba's own setting left as it was."""

    def decorate(fn: Callable[..., Any]) -> Any:
        before = config.CACHE_DIR
        config.CACHE_DIR = _DIR  # read when the dispatcher is made: its cache's path is fixed then
        try:
            return numba.njit(**options)(fn)
        finally:
            config.CACHE_DIR = before

    if args and callable(args[0]):  # @njit without arguments
        return decorate(args[0])
    return decorate


def prune() -> list[Path]:
    """Remove the cache directories of other versions of the kernels, and numba's own in-tree files of them.

    Run at set-up (``python -m sim.engine.precompile``), never while runs of an older version go on.
    """
    here = Path(_DIR)  # where this process caches: its siblings are the other versions
    gone = [d for d in here.parent.glob(f"{PREFIX}*") if d.is_dir() and d != here]
    gone += [f for f in (HERE / "__pycache__").glob("_compiled*.nb[ic]") if f.is_file()]
    for path in gone:
        if path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)
    return gone
