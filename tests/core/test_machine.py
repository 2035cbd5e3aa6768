"""The memory a new process may still use: MemAvailable, or less under a cgroup's limit (sim/core/machine.py)."""

from __future__ import annotations

from pathlib import Path

from sim.core.machine import available_memory

MEMINFO = "MemTotal:       24684092 kB\nMemFree:        23850252 kB\nMemAvailable:    8000000 kB\n"


def _fake(tmp_path: Path, *, meminfo: str | None = MEMINFO, self_cgroup: str | None = None, files: dict | None = None):
    proc, cgroup = tmp_path / "proc", tmp_path / "cgroup"
    (proc / "self").mkdir(parents=True)
    cgroup.mkdir()
    if meminfo is not None:
        (proc / "meminfo").write_text(meminfo)
    if self_cgroup is not None:
        (proc / "self" / "cgroup").write_text(self_cgroup)
    for rel, text in (files or {}).items():
        path = cgroup / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return available_memory(proc, cgroup)


def test_mem_available_in_bytes_when_there_is_no_cgroup_limit(tmp_path):
    assert _fake(tmp_path) == 8_000_000 * 1024
    v2_unlimited = {"memory.max": "max\n", "memory.current": "123\n"}
    assert _fake(tmp_path / "v2", self_cgroup="0::/\n", files=v2_unlimited) == 8_000_000 * 1024
    v1_unlimited = {"memory/memory.limit_in_bytes": "9223372036854771712\n", "memory/memory.usage_in_bytes": "5\n"}
    assert _fake(tmp_path / "v1", self_cgroup="9:memory:/\n1:cpu:/\n", files=v1_unlimited) == 8_000_000 * 1024


def test_a_cgroup_limit_below_mem_available_is_what_is_left(tmp_path):
    # cgroup v2: the process's own cgroup under the root (a systemd slice)
    files = {"user.slice/memory.max": "4000000000\n", "user.slice/memory.current": "1500000000\n"}
    assert _fake(tmp_path / "a", self_cgroup="0::/user.slice\n", files=files) == 2_500_000_000
    # cgroup v2 in a container: its own cgroup is the root it sees
    files = {"memory.max": "3000000000\n", "memory.current": "1000000000\n"}
    assert _fake(tmp_path / "b", self_cgroup="0::/\n", files=files) == 2_000_000_000
    # cgroup v1: the memory controller's hierarchy
    files = {"memory/docker/x/memory.limit_in_bytes": "2000000000\n", "memory/docker/x/memory.usage_in_bytes": "500\n"}
    assert _fake(tmp_path / "c", self_cgroup="4:cpu,memory:/docker/x\n", files=files) == 2_000_000_000 - 500
    # more used than the limit (the kernel reclaims caches): nothing left, not a negative number
    files = {"memory.max": "1000\n", "memory.current": "2000\n"}
    assert _fake(tmp_path / "d", self_cgroup="0::/\n", files=files) == 0


def test_mem_available_below_the_cgroup_room_wins(tmp_path):
    files = {"memory.max": "900000000000\n", "memory.current": "0\n"}
    assert _fake(tmp_path, self_cgroup="0::/\n", files=files) == 8_000_000 * 1024


def test_unknown_when_nothing_can_be_read(tmp_path):
    assert _fake(tmp_path / "a", meminfo=None) is None
    assert _fake(tmp_path / "b", meminfo="MemTotal: 5 kB\n") is None  # an old kernel without MemAvailable
    assert _fake(tmp_path / "c", meminfo=None, self_cgroup="garbage\n0::/gone\n") is None


def test_this_machine_reports_a_plausible_amount():
    total_kb = next(
        int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines() if line.startswith("MemTotal")
    )
    found = available_memory()
    assert found is not None
    assert 0 < found <= total_kb * 1024
