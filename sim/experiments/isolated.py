"""Runs in a separate process with memory and CPU-time limits (the app's runs).

One user's run must not take the server down for everyone: the run happens in a child
process whose address space (``RLIMIT_AS``) and CPU time (``RLIMIT_CPU``) are capped. A run over
its limit ends the child, never the server; the caller gets a :class:`RunLimitError` with a
plain message. Caps on what the city turns out to hold (people from any layer, road segments,
recorded rows) are checked in the child once the city is built, before the simulation.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Callable, Mapping
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from sim.core.errors import InputError
from sim.core.records import RunResult
from sim.scenario.schema import Scenario

_ROOT = str(Path(__file__).resolve().parents[2])
DEFAULT_MEMORY_MB = int(os.environ.get("SAFECITY_RUN_MEMORY_MB", "6144"))
DEFAULT_CPU_S = int(os.environ.get("SAFECITY_RUN_CPU_S", "1200"))


class RunLimitError(RuntimeError):
    """A run was stopped by its memory or CPU-time limit, or its process died."""


def _limit(memory_mb: int, cpu_s: int) -> None:
    import resource

    if memory_mb > 0:
        resource.setrlimit(resource.RLIMIT_AS, (memory_mb * 1024 * 1024, memory_mb * 1024 * 1024))
    if cpu_s > 0:
        resource.setrlimit(resource.RLIMIT_CPU, (cpu_s, cpu_s + 5))


def check_built_caps(model: Any, caps: Mapping[str, float]) -> None:
    """Refuse a built city or run beyond the caps: people, road segments, recorded rows."""
    s = model.scenario
    problems = []
    if "population" in caps and model.pop.n > caps["population"]:
        field = "population.count" if s.population.count is not None else f"city.{s.city.source}"
        problems.append((field, f"the city holds {model.pop.n:,} people; here at most {int(caps['population']):,}"))
    if "roads" in caps and model.city.n_roads > caps["roads"]:
        problems.append(
            (f"city.{s.city.source}", f"{model.city.n_roads:,} road segments; here at most {int(caps['roads']):,}")
        )
    tracked = min(s.output.tracks.max_citizens, model.pop.n)
    track_rows = tracked * (s.duration / s.output.tracks.every + 1)
    if "track_rows" in caps and track_rows > caps["track_rows"]:
        problems.append(("output.tracks.every", f"{track_rows:,.0f} positions; here at most {caps['track_rows']:,.0f}"))
    records = s.duration / s.output.record_every + 1
    if "records" in caps and records > caps["records"]:
        problems.append(("output.record_every", f"{records:,.0f} recorded times; here at most {caps['records']:,.0f}"))
    if problems:
        raise InputError(problems)


def _child(conn: Any, scenario: Scenario, memory_mb: int, cpu_s: int, caps: dict[str, float]) -> None:
    import warnings

    warnings.simplefilter("ignore")
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides when a run stops
    try:
        _limit(memory_mb, cpu_s)
        import time

        from sim.engine.model import EvacuationModel
        from sim.experiments.runner import collect_results

        started = time.perf_counter()
        model = EvacuationModel(scenario)
        check_built_caps(model, caps)
        model.run(progress=lambda t, d: conn.send(("progress", float(t), float(d))))
        result = collect_results(model, wall_time_s=time.perf_counter() - started)
        conn.send(("result", result))
    except InputError as exc:
        conn.send(("input", exc.problems))
    except MemoryError:
        conn.send(("limit", f"the run needed more than {memory_mb:,} MB of memory"))
    except (ImportError, OSError) as exc:
        # Under RLIMIT_AS, loading a library fails with "failed to map segment" or ENOMEM.
        text = str(exc)
        if "map segment" in text or "Cannot allocate memory" in text or getattr(exc, "errno", None) == 12:
            conn.send(("limit", f"the run needed more than {memory_mb:,} MB of memory"))
        else:
            conn.send(("error", type(exc).__name__))
    except Exception as exc:  # the type only: a message may hold server paths
        conn.send(("error", type(exc).__name__))
    finally:
        conn.close()


def run_isolated(
    scenario: Scenario,
    *,
    progress: Callable[[float, float], None] | None = None,
    memory_mb: int = DEFAULT_MEMORY_MB,
    cpu_s: int = DEFAULT_CPU_S,
    caps: Mapping[str, float] | None = None,
) -> RunResult:
    """Run ``scenario`` in a child process with limits; the same result as ``run_scenario``.

    Raises:
        InputError: the scenario or its built city is over ``caps`` (field-named).
        RunLimitError: the run hit its memory or CPU-time limit, or its process died.
    """
    # A fresh interpreter (not a fork of a threaded server): the scenario goes in on stdin,
    # messages come back on a pipe of their own.
    read_fd, write_fd = os.pipe()
    proc = subprocess.Popen(
        [sys.executable, "-m", "sim.experiments.isolated", str(write_fd)],
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        pass_fds=(write_fd,),
        env={
            **os.environ,
            "PYTHONWARNINGS": "ignore",
            "PYTHONPATH": os.pathsep.join(filter(None, [_ROOT, os.environ.get("PYTHONPATH")])),
        },
    )
    os.close(write_fd)
    parent = Connection(read_fd, writable=False)
    assert proc.stdin is not None
    job = {
        "scenario": scenario.model_dump(mode="json"),
        "memory_mb": memory_mb,
        "cpu_s": cpu_s,
        "caps": dict(caps or {}),
    }
    proc.stdin.write(json.dumps(job).encode("utf-8"))
    proc.stdin.close()
    try:
        while True:
            if parent.poll(0.2):
                try:
                    kind, *payload = parent.recv()
                except EOFError:
                    break
                if kind == "progress":
                    if progress is not None:
                        progress(*payload)
                elif kind == "result":
                    return payload[0]
                elif kind == "input":
                    raise InputError(payload[0])
                elif kind == "limit":
                    raise RunLimitError(payload[0])
                else:
                    raise RunLimitError(f"the run failed: {payload[0]}")
            elif proc.poll() is not None:
                break
        code = proc.wait(5)
        if code in (-signal.SIGXCPU, -signal.SIGKILL):
            raise RunLimitError(f"the run used more than its {cpu_s:,} s of CPU time, or was stopped")
        raise RunLimitError(f"the run's process ended unexpectedly (exit code {code})")
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(5)
        parent.close()


def _main() -> None:
    """The child: read the job (plain JSON, the resolved scenario) from stdin, report on the pipe."""
    conn = Connection(int(sys.argv[1]), readable=False)
    job = json.loads(sys.stdin.buffer.read())
    scenario = Scenario.model_validate(job["scenario"])  # validated again: nothing is unpickled here
    _child(conn, scenario, int(job["memory_mb"]), int(job["cpu_s"]), dict(job["caps"]))


if __name__ == "__main__":
    _main()
