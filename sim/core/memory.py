"""Allocator tuning for big runs (issue 20).

A run over millions of citizens makes many temporary arrays of tens of megabytes (a float per
citizen is 40 MB at 5 million). glibc serves every block above its mmap threshold (at most
32 MB) with a fresh ``mmap`` and returns it on ``free``, so each such temporary costs page
faults on first touch: 109 of the 763 CPU seconds of a 5-million-citizen run were system time.
Raising the threshold keeps those blocks in the heap, where freed ones are reused.

Python's cyclic garbage collector walks every container it tracks at each full collection. A
million-citizen run holds about 300,000 of them (the libraries' modules, the city, the networks'
devices): twelve full collections took 1.2 to 1.5 of its CPU seconds, though nothing built
before the run can become garbage before the run ends. :func:`spared_from_collection` leaves
them out of the walks for the length of a run.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import gc
import sys
from collections.abc import Callable, Iterator
from typing import Any

M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD = 1 << 30  # blocks up to 1 GiB come from the heap
TRIM_THRESHOLD = 1 << 30  # and up to 1 GiB of freed heap is kept for the next ones


def _libc_function(name: str) -> Any:
    """A function of glibc's, or None (not Linux, no C library found, or no such function: musl)."""
    if not sys.platform.startswith("linux"):
        return None
    lib = ctypes.util.find_library("c")
    if lib is None:
        return None
    try:
        return getattr(ctypes.CDLL(lib), name)
    except (OSError, AttributeError):
        return None


def tune_allocator() -> bool:
    """Raise glibc's mmap and trim thresholds for this process; False where there is no glibc."""
    mallopt = _libc_function("mallopt")
    if mallopt is None:
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    return bool(mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and bool(mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD))


@contextlib.contextmanager
def spared_from_collection() -> Iterator[Callable[[], None]]:
    """Within the block, the garbage collector leaves alone what exists now (``gc.freeze``).

    The function it yields spares what exists when it is called too. At the end of the block,
    all of it is collectable again. Nothing is lost: a cycle that becomes garbage among the
    spared is collected after the block (``gc.unfreeze`` hands them to the oldest generation).
    For a block whose objects outlive it, a run and its model, each full collection inside walks
    only what the block made since. Blocks may nest or run in threads at once: the first to end
    makes everything collectable again, which costs walks, never memory.
    """
    gc.freeze()
    try:
        yield gc.freeze
    finally:
        gc.unfreeze()


def release_free_memory() -> bool:
    """Collect cycles and hand freed heap pages back to the system (after a model is done with).

    The tuned trim threshold keeps up to 1 GiB of freed heap for reuse by the next arrays; once
    the model is gone, writing its outputs (Arrow and GDAL buffers, from allocators of their
    own) cannot reuse it, so the process would hold both. False where there is no glibc.
    """
    gc.collect()
    trim = _libc_function("malloc_trim")
    if trim is None:
        return False
    trim.argtypes = [ctypes.c_size_t]
    trim.restype = ctypes.c_int
    trim(0)
    return True
