"""Run directories on disk, for the app (``sim.api`` re-exports these)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

import sim.api as _api
from sim.core.errors import InputError
from sim.core.records import RunResult

# -- runs on disk (the app opens any run directory) ---------------------------------------------


def run_folders(root: str | Path = "runs") -> list[Path]:
    """Run directories under ``root`` (complete ones: with the manifest this project writes), newest first."""
    from sim.io.rundir import is_run_dir

    base = Path(root)
    if not base.is_dir():
        return []
    found = [d for d in base.iterdir() if d.is_dir() and not d.name.startswith(".") and is_run_dir(d)]
    return sorted(found, key=lambda d: d.stat().st_mtime, reverse=True)


def load_run(folder: str | Path) -> RunResult:
    """A run directory read back as a :class:`RunResult` (for the app's pages).

    Raises:
        InputError: the folder is not a complete run directory.
    """
    from sim.io.rundir import read_run

    try:
        data = read_run(folder)
    except (FileNotFoundError, ValueError, OSError) as exc:
        raise InputError.single("run", f"cannot read {Path(folder).name}: {exc}") from None
    core = {"summary", "manifest", "scenario", "timeseries", "events", "tracks"}
    return RunResult(
        summary=data["summary"],
        timeseries=data["timeseries"],
        events=data["events"],
        tracks=data.get("tracks", pd.DataFrame(columns=["t_s", "citizen", "lon", "lat", "state"])),
        scenario=data["scenario"],
        manifest=data["manifest"],
        tables={k: v for k, v in data.items() if k not in core},
    )


def run_zip(result: RunResult) -> bytes:
    """A run as a zip of its run directory (every file a run writes), for download."""
    import io
    import tempfile
    import zipfile

    buf = io.BytesIO()
    with tempfile.TemporaryDirectory() as tmp:
        folder = _api.write_run(result, Path(tmp) / "run")
        with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            for p in sorted(folder.rglob("*")):
                if p.is_file():
                    zf.write(p, p.relative_to(folder).as_posix())
    return buf.getvalue()
