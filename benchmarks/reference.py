"""A fixed workload that measures the machine's moment, not our code: ``python -m benchmarks.reference``.

The project's machine is shared, and its speed drifts by up to a quarter within a day
(docs/performance.md). A figure measured beside this workload, at the same moment, can be read
against it: if the million's CPU seconds rise and fall with the reference's, the drift is the
machine's. The workload depends on nothing of ours (numpy and the interpreter only), so a change
to the engine never moves it, and it does the kinds of work the engine's runs do:

- gathers from a four-million-long array at random indices (the passes' reads of per-person
  arrays at people's indices, bound by memory);
- a sort of a million keys (the recorder's and the routes' sorts);
- a loop of plain Python over dicts and lists (the engine's per-step bookkeeping).

It prints a checksum of what it computed, the same on every run (a check that it did the work).
"""

from __future__ import annotations

import sys

import numpy as np

SEED = 20
N = 4_000_000


def workload(scale: float = 1.0) -> int:
    """Run the fixed workload (``scale``: a fraction of it, for tests) and return its checksum."""
    rng = np.random.default_rng(SEED)
    n = max(int(N * scale), 1000)
    values = rng.integers(0, 1 << 20, n, dtype=np.int64)
    at = rng.integers(0, n, n, dtype=np.int64)
    total = 0
    for _ in range(12):  # memory-bound gathers
        total += int(values[at].sum())
        at = (at * 5 + 1) % n
    keys = rng.random(n // 4)
    for _ in range(3):  # sorts
        total += int(np.argsort(keys, kind="stable")[:: max(n // 400, 1)].sum())
        keys = keys[::-1].copy()
    table: dict[int, int] = {}
    row: list[int] = []
    for i in range(int(1_200_000 * scale)):  # the interpreter
        table[i & 4095] = table.get(i & 4095, 0) + i
        row.append(i ^ (i >> 3))
        if len(row) > 64:
            total += row.pop(0)
    return total + sum(table.values())


def main() -> None:
    """Run the whole workload and print its checksum."""
    print(workload(float(sys.argv[1]) if len(sys.argv) > 1 else 1.0))


if __name__ == "__main__":
    main()
