"""Write and read run directories, with no loss and no half-written state.

How a run directory is written (docs in the README, "Run directory"):

1. Before the simulation starts, :func:`reserve_run_dir` checks the target (a folder, or
   nothing yet; ``--force`` only ever replaces a run directory, one whose ``manifest.json``
   this project wrote), takes an exclusive lock on it (``.<name>.lock`` beside it, removed
   when released) and creates the hidden temporary folder the run will be written into. An
   unwritable place fails here, before any work is done.
2. The run is written into the temporary folder.
3. The temporary folder is renamed into place. An old run is replaced by exchanging the two
   folders in one atomic ``renameat2(RENAME_EXCHANGE)`` (Linux); elsewhere the old run is
   renamed aside first, the new one renamed in, and the old one deleted last. Signals are
   held back during the swap.

A writer that was killed (``kill -9``) leaves at most a hidden temporary folder; the next
writer that takes the lock on the same target deletes it (and restores an old run that was
renamed aside but not yet replaced).
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import fcntl
import json
import math
import os
import secrets
import shutil
import signal
import tempfile
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import yaml

from sim.core.errors import InputError
from sim.core.records import RunResult, TextStream
from sim.io.gis import write_gpkg

REQUIRED_FILES = (
    "summary.json",
    "timeseries.parquet",
    "events.parquet",
    "tracks.parquet",
    "scenario.yaml",
    "manifest.json",
)
RUN_FORMAT = "safecity-twin run directory"
"""``manifest.json``'s ``format``: what marks a folder as a run directory that ``--force`` may replace."""

_SWAP_SIGNALS = {signal.SIGINT, signal.SIGTERM, signal.SIGHUP}


def _clean(value: Any) -> Any:
    """JSON-safe copy: NaN and infinities become null."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    if hasattr(value, "item") and callable(value.item):  # numpy scalars
        return _clean(value.item())
    return value


ROW_GROUP = 200_000  # rows per Parquet row group: tables are converted and written a group at a time
# Columns converted on this thread: Arrow's own pool (both cores, for a table of 100 rows per
# column or more) cost more CPU and more wall time than it saved. A run directory's tables, on two
# cores: 0.94 against 0.69 CPU s at 10,000 walkers, 1.08 against 0.88 CPU s (1.14 against 0.91 s
# of wall time) at 100,000 (docs/performance.md).
CONVERT_THREADS = 1


def _write_parquet(df: pd.DataFrame, path: Path) -> None:
    """Write a table in row groups of ``ROW_GROUP`` rows.

    Only one group at a time is converted to Arrow, so a million-row table is never held twice
    in memory (``DataFrame.to_parquet`` converts the whole table first). The file's schema is
    the first group's: ``pa.Schema.from_pandas`` of the whole table, which finds the same one,
    converts every column once more to find it (a third of the time). Where the first group
    cannot tell (a text column without any text in it, numbers in a column of Python objects),
    or a later group does not fit its types, the whole table's schema is used.
    """
    if isinstance(df, gpd.GeoDataFrame):  # GeoParquet: WKB geometry plus CRS metadata (small layers)
        df.reset_index(drop=True).to_parquet(path, index=False, compression="zstd")
        return
    import pyarrow as pa

    df = df.reset_index(drop=True)
    first = pa.Table.from_pandas(df.iloc[:ROW_GROUP], preserve_index=False, nthreads=CONVERT_THREADS)
    objects = [str(name) for name, dtype in df.dtypes.items() if pd.api.types.is_object_dtype(dtype)]
    if len(df) <= ROW_GROUP or all(first.schema.field(name).type == pa.string() for name in objects):
        try:
            _write_groups(df, path, first.schema, first)
            return
        except (pa.ArrowInvalid, pa.ArrowTypeError):  # a later group's values do not fit the first's types
            pass
    _write_groups(df, path, pa.Schema.from_pandas(df, preserve_index=False))


def _write_groups(df: pd.DataFrame, path: Path, schema: Any, first: Any = None) -> None:
    """``df`` in groups of ``ROW_GROUP`` rows with ``schema`` (``first``: the first group, converted already)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    with pq.ParquetWriter(path, schema, compression="zstd") as writer:
        if first is not None:
            writer.write_table(first, row_group_size=ROW_GROUP)
        for start in range(0 if first is None else ROW_GROUP, max(len(df), 1), ROW_GROUP):  # an empty table: one group
            part = pa.Table.from_pandas(
                df.iloc[start : start + ROW_GROUP], schema=schema, preserve_index=False, nthreads=CONVERT_THREADS
            )
            writer.write_table(part, row_group_size=ROW_GROUP)


def _read_parquet(path: Path) -> pd.DataFrame:
    import pyarrow.parquet as pq

    if b"geo" in (pq.read_schema(path).metadata or {}):
        return gpd.read_parquet(path)
    return pd.read_parquet(path)


def is_run_dir(path: str | Path) -> bool:
    """Whether ``path`` is a run directory this project wrote (its manifest says so)."""
    manifest = Path(path) / "manifest.json"
    try:
        if not manifest.is_file() or manifest.stat().st_size > 10 * 1024 * 1024:
            return False
        data = json.loads(manifest.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    if not isinstance(data, dict):
        return False
    packages = data.get("packages")
    return data.get("format") == RUN_FORMAT or (isinstance(packages, dict) and "safecity-twin" in packages)


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths atomically (Linux ``renameat2(RENAME_EXCHANGE)``); False where unsupported."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd, rename_exchange = -100, 2
    rc = renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange)
    if rc == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP):
        return False
    raise OSError(err, os.strerror(err), str(b))


class RunDirSlot:
    """A reserved place for one run directory: the lock on the target and a temporary folder.

    Use it as a context manager, or call :meth:`release` yourself; :meth:`commit` writes a
    result and renames it into place.
    """

    def __init__(self, target: Path, *, overwrite: bool):
        self.target = target
        self.overwrite = overwrite
        self.parent = target.parent
        self._lock_path = self.parent / f".{target.name}.lock"
        self._lock_fd: int | None = None
        self.tmp: Path | None = None

    # -- reservation ----------------------------------------------------------------------

    def _fail(self, message: str) -> InputError:
        self.release()
        return InputError.single("--out", message)

    def _acquire_lock(self) -> None:
        for _ in range(50):
            fd = os.open(self._lock_path, os.O_CREAT | os.O_RDWR, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                raise self._fail(f"another run is writing here ({self.target})") from None
            try:  # the holder before us may have removed the lock file between our open and flock
                same = os.fstat(fd).st_ino == os.stat(self._lock_path).st_ino
            except FileNotFoundError:
                same = False
            if same:
                self._lock_fd = fd
                return
            os.close(fd)
        raise self._fail(f"could not lock {self.target}")

    def _recover(self) -> None:
        """Under the lock: undo what a killed writer of this target left behind."""
        stem = f".{self.target.name}."
        leftovers = [p for p in self.parent.iterdir() if p.name.startswith(stem) and p != self._lock_path]
        aside = sorted(p for p in leftovers if p.name.startswith(stem + "old-") and p.is_dir())
        if aside and not self.target.exists():
            os.replace(aside[-1], self.target)  # killed between "old aside" and "new in": put it back
        for p in leftovers:
            if p.exists() and (p.name.startswith(stem + "tmp-") or p.name.startswith(stem + "old-")):
                shutil.rmtree(p, ignore_errors=True)

    def reserve(self) -> RunDirSlot:
        """Check the target, lock it and create the temporary folder; raise InputError if not possible."""
        target = self.target
        if target.exists() and not target.is_dir():
            raise self._fail(f"{target} is a file, not a folder")
        try:
            self.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise self._fail(f"cannot create the folder {self.parent}: {exc.strerror or exc}") from None
        if not self.parent.is_dir():
            raise self._fail(f"{self.parent} is not a folder")
        try:
            self._acquire_lock()
        except OSError as exc:
            raise self._fail(f"cannot write in {self.parent}: {exc.strerror or exc}") from None
        self._recover()
        self._check_target()
        try:
            # os.mkdir applies the user's umask, like any folder they make (mkdtemp would force 0700).
            self.tmp = self.parent / f".{target.name}.tmp-{secrets.token_hex(4)}"
            os.mkdir(self.tmp, 0o777)
            (self.tmp / ".probe").write_bytes(b"")
            (self.tmp / ".probe").unlink()
        except OSError as exc:
            raise self._fail(f"cannot write in {self.parent}: {exc.strerror or exc}") from None
        return self

    def _check_target(self) -> None:
        target = self.target
        if not target.exists():
            return
        if not target.is_dir():
            raise self._fail(f"{target} is a file, not a folder")
        try:
            empty = not any(target.iterdir())
        except OSError as exc:
            raise self._fail(f"cannot read {target}: {exc.strerror or exc}") from None
        if empty:
            return
        if not self.overwrite:
            raise self._fail(f"{target} exists and is not empty (use --force to replace a run directory)")
        if not is_run_dir(target):
            raise self._fail(
                f"{target} is not a run directory (no SafeCity Twin manifest.json); "
                "--force replaces only run directories"
            )

    # -- writing ----------------------------------------------------------------------------

    def commit(self, result: RunResult) -> Path:
        """Write ``result`` into the temporary folder, rename it into place, release the lock."""
        if self.tmp is None or self._lock_fd is None:
            msg = "commit() needs a reserved slot"
            raise RuntimeError(msg)
        try:
            _write_files(result, self.tmp)
            self._swap()
        finally:
            self.release()
        return self.target

    def _swap(self) -> None:
        assert self.tmp is not None
        target, tmp = self.target, self.tmp
        old = signal.pthread_sigmask(signal.SIG_BLOCK, _SWAP_SIGNALS)
        try:
            self._check_target()  # we hold the lock: nobody else wrote here meanwhile
            if not target.exists():
                os.rename(tmp, target)
                self.tmp = None
            elif _exchange(tmp, target):
                # tmp now holds the old run (or an empty folder); release() deletes it.
                pass
            else:
                aside = Path(tempfile.mkdtemp(prefix=f".{target.name}.old-", dir=self.parent))
                os.replace(target, aside)
                os.rename(tmp, target)
                self.tmp = aside
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, old)

    def release(self) -> None:
        """Delete the temporary folder (if still there) and give up the lock."""
        if self.tmp is not None:
            shutil.rmtree(self.tmp, ignore_errors=True)
            self.tmp = None
        if self._lock_fd is not None:
            with contextlib.suppress(OSError):
                os.unlink(self._lock_path)
            os.close(self._lock_fd)
            self._lock_fd = None

    def __enter__(self) -> RunDirSlot:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def reserve_run_dir(out_dir: str | Path, *, overwrite: bool = False) -> RunDirSlot:
    """Reserve ``out_dir`` for a run before simulating (see the module docstring).

    Raises:
        InputError: (field ``--out``) the target is a file, not empty (without ``overwrite``),
            not a run directory (with ``overwrite``), locked by another run, or not writable.
    """
    return RunDirSlot(Path(out_dir).absolute(), overwrite=overwrite).reserve()


def _write_files(result: RunResult, folder: Path) -> None:
    manifest = {"format": RUN_FORMAT, **result.manifest}
    (folder / "summary.json").write_text(json.dumps(_clean(result.summary), indent=2, sort_keys=False) + "\n")
    _write_parquet(result.timeseries, folder / "timeseries.parquet")
    _write_parquet(result.events, folder / "events.parquet")
    _write_parquet(result.tracks, folder / "tracks.parquet")
    (folder / "scenario.yaml").write_text(yaml.safe_dump(_clean(result.scenario), sort_keys=False, allow_unicode=True))
    for name, table in result.tables.items():
        _write_parquet(table, folder / f"{name}.parquet")
    if "roads" in result.tables:
        write_gpkg(result, folder / "run.gpkg")
    for name, content in result.files.items():
        target = folder / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            target.write_bytes(content)
        elif isinstance(content, TextStream):  # made while written (the PFIF export): never whole
            with target.open("w", encoding="utf-8") as out:
                out.writelines(content)
        else:
            target.write_text(content)
    (folder / "manifest.json").write_text(json.dumps(_clean(manifest), indent=2) + "\n")  # last: marks it complete


def write_run(result: RunResult, out_dir: str | Path, *, overwrite: bool = False) -> Path:
    """Write a run directory atomically and return its path (reserve, write, rename in).

    Raises:
        InputError: see :func:`reserve_run_dir`.
    """
    with reserve_run_dir(out_dir, overwrite=overwrite) as slot:
        return slot.commit(result)


def read_run(run_dir: str | Path) -> dict[str, Any]:
    """Read a run directory back: summary, scenario, manifest and tables as DataFrames."""
    d = Path(run_dir)
    missing = [f for f in REQUIRED_FILES if not (d / f).is_file()]
    if missing:
        msg = f"{d} is not a run directory (missing {', '.join(missing)})"
        raise FileNotFoundError(msg)
    out: dict[str, Any] = {
        "summary": json.loads((d / "summary.json").read_text()),
        "manifest": json.loads((d / "manifest.json").read_text()),
        "scenario": yaml.safe_load((d / "scenario.yaml").read_text()),
    }
    for p in sorted(d.glob("*.parquet")):
        out[p.stem] = _read_parquet(p)
    return out


def write_run_into(result: RunResult, folder: str | Path) -> Path:
    """Add a run's files to an existing folder that others may be reading (a live exercise's).

    Each file is written beside its place and renamed in, so a reader never sees half a file;
    ``manifest.json`` comes last and marks the run complete. Files already there with other
    names (the exercise's log) are left alone.
    """
    target = Path(folder)
    with tempfile.TemporaryDirectory(prefix=".run-", dir=target) as tmp:
        staged = Path(tmp)
        _write_files(result, staged)
        names = sorted(p.relative_to(staged) for p in staged.rglob("*") if p.is_file())
        names = [n for n in names if n.name != "manifest.json"] + [Path("manifest.json")]
        for rel in names:
            dest = target / rel
            dest.parent.mkdir(parents=True, exist_ok=True)
            os.replace(staged / rel, dest)
    return target
