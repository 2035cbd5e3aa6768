"""A command's own CPU seconds and peak memory, measured by a small helper process that starts it.

Linux carries a process's peak resident memory (``ru_maxrss``) across ``exec`` from the memory
it was started with: a command started by a large process (a test runner holding a gigabyte)
reports that gigabyte as its own peak. So the command is started by a bare interpreter that
waits for it (``os.wait4``) and writes its exit code, CPU seconds (user + system) and peak
bytes to a file; the helper's own start-up is not counted.

And the machine's steal time (:func:`steal_seconds`), read around a measurement: whether its
neighbours were busy meanwhile.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

HELPER = (
    "import json, os, subprocess, sys\n"
    "p = subprocess.Popen(sys.argv[2:])\n"
    "_, status, ru = os.wait4(p.pid, 0)\n"
    "with open(sys.argv[1], 'w') as f:\n"
    "    json.dump([os.waitstatus_to_exitcode(status), ru.ru_utime + ru.ru_stime, ru.ru_maxrss * 1024], f)\n"
)


def start(cmd: list[str], usage: Path, **popen: Any) -> subprocess.Popen:
    """Start ``cmd`` (``popen``: cwd, env, stdout, stderr, as for ``subprocess.Popen``); its usage goes to ``usage``."""
    return subprocess.Popen([sys.executable, "-c", HELPER, str(usage), *cmd], **popen)


def finish(proc: subprocess.Popen, usage: Path) -> tuple[int, float, int]:
    """Wait for a command started by :func:`start`: its exit code, CPU seconds and peak resident bytes."""
    proc.wait()
    code, cpu, peak = json.loads(Path(usage).read_text())
    return int(code), float(cpu), int(peak)


def steal_seconds(stat: Path = Path("/proc/stat")) -> float | None:
    """Seconds the hypervisor has run others on this machine's cores since boot (all cores); None off Linux.

    The eighth number of ``/proc/stat``'s ``cpu`` line, in ticks (``SC_CLK_TCK``). Steal is not
    counted in a process's own CPU seconds, but a neighbour busy enough to take a core is busy
    enough to share the caches and memory. Ten million-citizen runs in a row (the twenty-second
    session, docs/performance.md): those with 0.04 s of steal or less took 36.9 to 42.5 CPU s (median
    38.9), those with 0.12 to 0.55 s took 42.9 to 47.2 s (median 43.9); rank correlation 0.80.
    """
    try:
        fields = stat.read_text().split("\n", 1)[0].split()
        return int(fields[8]) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return None


@contextlib.contextmanager
def steal_into(out: list[float]) -> Iterator[None]:
    """Append to ``out`` the steal time (:func:`steal_seconds`) while the block ran; nothing where there is none."""
    before = steal_seconds()
    yield
    after = steal_seconds()
    if before is not None and after is not None:
        out.append(after - before)
