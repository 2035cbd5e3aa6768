"""What this machine has for a run: the memory a new process may still use (Linux).

Read before a big run, so that a scenario this machine cannot hold is told in a second instead
of being killed by the kernel's out-of-memory killer minutes later (``sim/scenario/sizing.py``).

The answer is the smaller of the system's ``MemAvailable`` (``/proc/meminfo``: free memory plus
the caches the kernel would give back) and, in a container or a systemd slice, the room left
under the process's cgroup memory limit (cgroup v2 ``memory.max`` less ``memory.current``, or
v1 ``memory.limit_in_bytes`` less ``memory.usage_in_bytes``). None where neither can be read
(not Linux): the caller then says nothing.
"""

from __future__ import annotations

from pathlib import Path

NO_LIMIT = 1 << 60  # cgroup v1 writes "no limit" as a page-rounded 2**63 - 1


def available_memory(proc: Path = Path("/proc"), cgroup: Path = Path("/sys/fs/cgroup")) -> int | None:
    """Bytes a new process may still use on this machine now, or None if unknown (see the module docstring)."""
    found = [
        b for b in (_mem_available(proc / "meminfo"), _cgroup_room(proc / "self" / "cgroup", cgroup)) if b is not None
    ]
    return min(found) if found else None


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="ascii", errors="replace")
    except OSError:
        return None


def _mem_available(meminfo: Path) -> int | None:
    """``MemAvailable`` in bytes (``/proc/meminfo`` gives kB), or None."""
    text = _read(meminfo)
    for line in (text or "").splitlines():
        name, _, rest = line.partition(":")
        if name == "MemAvailable":
            fields = rest.split()
            if fields and fields[0].isdigit():
                return int(fields[0]) * 1024
    return None


def _cgroup_room(self_cgroup: Path, root: Path) -> int | None:
    """Bytes left under the process's cgroup memory limit, or None (no limit, or none found)."""
    text = _read(self_cgroup)
    if text is None:
        return None
    rooms = []
    for line in text.splitlines():
        parts = line.split(":", 2)
        if len(parts) != 3:
            continue
        _, controllers, path = parts
        rel = path.strip().lstrip("/")
        if controllers == "":  # cgroup v2: one unified hierarchy
            for folder in (root / rel, root):  # a container sees its own cgroup at the root
                room = _room(folder / "memory.max", folder / "memory.current")
                if room is not None:
                    rooms.append(room)
                    break
        elif "memory" in controllers.split(","):  # cgroup v1: the memory controller's hierarchy
            for folder in (root / "memory" / rel, root / "memory"):
                room = _room(folder / "memory.limit_in_bytes", folder / "memory.usage_in_bytes")
                if room is not None:
                    rooms.append(room)
                    break
    return min(rooms) if rooms else None


def _room(limit_file: Path, usage_file: Path) -> int | None:
    """``limit - usage`` in bytes, or None if there is no limit or the files cannot be read."""
    limit, usage = _read(limit_file), _read(usage_file)
    if limit is None or usage is None:
        return None
    limit, usage = limit.strip(), usage.strip()
    if not (limit.isdigit() and usage.isdigit()):  # "max": no limit
        return None
    if int(limit) >= NO_LIMIT:
        return None
    return max(int(limit) - int(usage), 0)
