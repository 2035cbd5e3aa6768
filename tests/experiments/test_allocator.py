"""The command line's allocator tuning: big temporaries come from the heap, not fresh mappings (issue 20)."""

from __future__ import annotations

import subprocess
import sys
import textwrap

SCRIPT = textwrap.dedent(
    """
    import ctypes, sys
    import numpy as np
    from sim.core.memory import tune_allocator

    class MallInfo2(ctypes.Structure):
        _fields_ = [(name, ctypes.c_size_t) for name in (
            "arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks", "fordblks", "keepcost")]

    libc = ctypes.CDLL("libc.so.6")
    libc.mallinfo2.restype = MallInfo2
    tuned = tune_allocator() if sys.argv[1] == "tuned" else None
    before = libc.mallinfo2().hblkhd
    a = np.ones(5_000_000)  # 40 MB: above glibc's largest automatic mmap threshold (32 MB)
    print(tuned, libc.mallinfo2().hblkhd - before)  # bytes newly held in mmapped blocks
    """
)


def _mapped(mode: str) -> tuple[str, int]:
    out = subprocess.run([sys.executable, "-c", SCRIPT, mode], capture_output=True, text=True, check=True).stdout
    tuned, mapped = out.split()
    return tuned, int(mapped)


def test_a_tuned_process_takes_big_arrays_from_the_heap():
    tuned, with_tuning = _mapped("tuned")
    _, without = _mapped("plain")
    assert tuned == "True"  # glibc on Linux, as on every supported machine
    assert without >= 40_000_000  # untuned: the array is a mapping of its own, faulted in afresh each time
    assert with_tuning == 0


def test_only_the_command_line_program_tunes_not_an_in_process_call(monkeypatch, capsys):
    from sim.core import memory
    from sim.experiments import cli

    calls: list[str] = []
    monkeypatch.setattr(memory, "tune_allocator", lambda: calls.append("tuned") or True)
    assert cli.main(["schema"]) == 0  # argv given: called in-process (tests, the app)
    assert calls == []
    monkeypatch.setattr(sys, "argv", ["safecity", "schema"])
    assert cli.main() == 0  # the program itself
    assert calls == ["tuned"]
    capsys.readouterr()
