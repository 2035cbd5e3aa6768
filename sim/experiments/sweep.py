"""Batch parameter sweeps on a Dask cluster (SPEC section 5, docs/sweeps.md).

One task is one (point, seed): the pure ``run_scenario`` of that point's scenario, returning
the run's figures flattened by dotted path. Each finished run is written at once as an atomic
part file (``parts/p<point>-s<seed>.parquet``), and the parts are folded into
``results.parquet`` as the sweep goes; a ``kill -9`` loses at most the runs in flight, and
``--resume`` runs only the pairs that have no row yet.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import math
import os
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from sim.core.errors import InputError
from sim.experiments.sweepfile import Adequacy, Sweep, _unit_sample, base_fingerprint, problem_of
from sim.metrics.sweep import adequate, flatten_figures, point_table, sensitivity

FOLD_EVERY_S = 20.0
STATUS_OK, STATUS_FAILED = "ok", "failed"


# ---------------------------------------------------------------------------------------- the task


def run_point(
    base: dict[str, Any], base_dir: str, overrides: list[str], seed: int, keep_dir: str | None = None
) -> dict[str, Any]:
    """One run of a sweep (on a worker): its figures flattened, or ``status: failed`` and the error.

    The city is built once per worker process (``sim.city.build`` caches it) and shared by
    every run there; the figures equal ``python -m sim run SCENARIO --seed S --set ...``.
    """
    started = time.perf_counter()
    try:
        from sim.experiments.runner import run_scenario
        from sim.scenario.loader import load_scenario

        scenario = load_scenario(base, [*overrides, f"seed={seed}"], base_dir=base_dir)
        result = run_scenario(scenario, figures_only=keep_dir is None)  # the same figures, no files to write
        if keep_dir is not None:
            from sim.io.rundir import write_run

            write_run(result, keep_dir)
        row: dict[str, Any] = {"status": STATUS_OK, "error": ""}
        figures = flatten_figures(result.summary)
        figures.pop("seed", None)  # the row's key, not a figure
        row.update(figures)
    except Exception as exc:  # a failed run is a row, and the sweep goes on
        last = traceback.extract_tb(exc.__traceback__)[-1:] if exc.__traceback__ else []
        where = f" ({Path(last[0].filename).name}:{last[0].lineno})" if last else ""
        row = {"status": STATUS_FAILED, "error": f"{type(exc).__name__}: {exc}{where}"[:2000]}
    row["wall_s"] = round(time.perf_counter() - started, 3)
    row["worker_pid"] = os.getpid()
    return row


# ---------------------------------------------------------------------------------------- the folder


@dataclass
class SweepDir:
    """A sweep's output folder: locked by one writer, parts written atomically, folded on demand."""

    path: Path
    _lock: Any = None

    @property
    def parts(self) -> Path:
        """Where each finished run's row lands first."""
        return self.path / "parts"

    def claim(self, *, resume: bool, fingerprint: str) -> None:
        """Create or reopen the folder and hold its lock.

        Raises:
            InputError: the folder is busy, is not this sweep's (with ``--resume``), or exists
                already (without it).
        """
        p = self.path
        if p.exists() and not p.is_dir():
            raise InputError.single("--out", f"{p} exists and is not a folder")
        if p.exists() and any(p.iterdir()):
            if not resume:
                raise InputError.single("--out", f"{p} is not empty: add --resume to continue that sweep")
            manifest = p / "manifest.json"
            try:
                old = json.loads(manifest.read_text())
            except (OSError, ValueError):
                raise InputError.single("--out", f"{p} is not a sweep folder (no readable manifest.json)") from None
            if old.get("fingerprint") != fingerprint:
                raise InputError.single(
                    "--resume", f"the sweep file or its scenario changed since {p} was started; use a new --out"
                )
        try:
            self.parts.mkdir(parents=True, exist_ok=True)
            self._lock = open(p / ".lock", "w")  # noqa: SIM115 (held until release)
        except OSError as exc:
            raise InputError.single("--out", f"cannot write to {p}: {exc.strerror or exc}") from None
        try:
            fcntl.flock(self._lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self._lock.close()
            raise InputError.single("--out", f"another sweep is writing to {p}") from None

    def release(self) -> None:
        """Let go of the lock."""
        if self._lock is not None:
            self._lock.close()
            self._lock = None
            with contextlib.suppress(OSError):
                (self.path / ".lock").unlink()

    def write_atomic(self, name: str, write: Callable[[Path], object], *, into: Path | None = None) -> None:
        """Write ``name`` (in ``into``, default the sweep folder) through a temporary file renamed into place."""
        folder = into or self.path
        fd, tmp = tempfile.mkstemp(prefix=f".{name}.", dir=folder)
        os.close(fd)
        try:
            write(Path(tmp))
            os.replace(tmp, folder / name)
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)

    def add_part(self, row: dict[str, Any]) -> None:
        """One run's row, as its own parquet file (atomic)."""
        name = f"p{row['point']}-s{row['seed']}.parquet"
        self.write_atomic(name, lambda tmp: pd.DataFrame([row]).to_parquet(tmp, index=False), into=self.parts)

    def rows(self) -> pd.DataFrame:
        """Every row so far: ``results.parquet`` and the parts not folded yet, one per (point, seed)."""
        frames = []
        if (self.path / "results.parquet").exists():
            frames.append(pd.read_parquet(self.path / "results.parquet"))
        for part in sorted(self.parts.glob("p*-s*.parquet")):
            with contextlib.suppress(Exception):  # a part cut short by a crash is simply not there
                frames.append(pd.read_parquet(part))
        if not frames:
            return pd.DataFrame(columns=["point", "seed", "status", "error"])
        table = pd.concat(frames, ignore_index=True)
        return table.drop_duplicates(["point", "seed"], keep="first").sort_values(["point", "seed"], ignore_index=True)

    def fold(self, columns: list[str]) -> pd.DataFrame:
        """Fold the parts into ``results.parquet`` (atomic), then delete the folded parts."""
        parts = sorted(self.parts.glob("p*-s*.parquet"))
        table = self.rows()
        head = [c for c in columns if c in table.columns]
        table = table[head + sorted(c for c in table.columns if c not in head)]
        self.write_atomic("results.parquet", lambda tmp: table.to_parquet(tmp, index=False))
        for part in parts:
            with contextlib.suppress(FileNotFoundError):
                part.unlink()
        return table


# ---------------------------------------------------------------------------------------- the sweep


@dataclass
class SweepOutcome:
    """What a sweep produced."""

    path: Path
    results: pd.DataFrame
    points: pd.DataFrame
    sensitivity: pd.DataFrame
    failed: int
    ran: int  # runs done by this call (a resume runs only the missing ones)
    extra: dict[str, Any] = field(default_factory=dict)


class SweepProgress:
    """Runs done / total, failures and an ETA on stderr (silent when quiet)."""

    def __init__(self, *, quiet: bool, label: str):
        self.quiet, self.label = quiet, label
        self.started = time.perf_counter()
        self.last = 0.0

    def __call__(self, done: int, total: int, failed: int, *, final: bool = False) -> None:
        """Report progress (at most every 2 s unless ``final``)."""
        if self.quiet:
            return
        now = time.perf_counter()
        if not final and now - self.last < 2.0:
            return
        self.last = now
        elapsed = now - self.started
        eta = elapsed * (total - done) / done if done else math.nan
        eta_text = f"{eta:.0f}s" if math.isfinite(eta) else "?"
        line = f"{self.label}: {done}/{total} runs, {failed} failed, {elapsed:.0f}s elapsed, eta {eta_text}"
        sys.stderr.write(line + "\n")
        sys.stderr.flush()


@contextlib.contextmanager
def dask_client(*, workers: int | None, scheduler: str | None) -> Iterator[Any]:
    """A Dask client: a LocalCluster of ``workers`` processes, or the running scheduler at ``scheduler``."""
    import logging

    from dask.distributed import Client, LocalCluster

    logging.getLogger("distributed").setLevel(logging.CRITICAL)
    if scheduler:
        try:
            client = Client(scheduler, timeout="20s")
        except OSError as exc:
            raise InputError.single("--scheduler", f"cannot reach {scheduler}: {exc}") from None
        try:
            yield client
        finally:
            client.close()
        return
    import dask

    n = workers or os.cpu_count() or 1
    # Dask's nannies set MALLOC_TRIM_THRESHOLD_=64 KiB so workers hand memory back at once; the
    # engine allocates many short-lived arrays, and that setting made each run about a third slower.
    # Its statistical profiler samples the running task every 10 ms (the GIL each time): off.
    tuned = {
        "distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": 256 * 2**20,
        "distributed.worker.profile.enabled": False,
    }
    with dask.config.set(tuned):
        cluster = LocalCluster(
            n_workers=n,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            host="127.0.0.1",
            silence_logs=logging.CRITICAL,
        )
    client = Client(cluster)
    try:
        yield client
    finally:
        client.close()
        cluster.close()


def execute(
    sweep: Sweep,
    out: Path,
    *,
    workers: int | None = None,
    scheduler: str | None = None,
    resume: bool = False,
    quiet: bool = True,
    should_stop: Callable[[], bool] | None = None,
    on_progress: Callable[[int, int, int], None] | None = None,
) -> SweepOutcome:
    """Run a checked sweep into ``out`` (see the module docstring); returns its tables.

    Raises:
        InputError: ``out`` is busy, not this sweep's, or not empty without ``resume``.
    """
    from dask.distributed import as_completed

    cfg = sweep.config
    folder = SweepDir(Path(out))
    folder.claim(resume=resume, fingerprint=sweep.fingerprint)
    params = list(cfg.parameters)
    columns = ["point", "seed", *params, "status", "error"]
    try:
        _write_meta(folder, sweep, state="running")
        done = folder.rows()
        have = {(int(p), int(s)) for p, s in zip(done["point"], done["seed"], strict=True)}
        seeds_of: dict[int, list[int]] = {k: [] for k in range(len(sweep.design))}
        for p, s in have:
            seeds_of.setdefault(p, []).append(s)
        ok_rows: dict[int, list[dict[str, Any]]] = {}  # finished ok runs per point (adequacy reads them)
        for rec in done[done["status"] == STATUS_OK].to_dict("records") if len(done) else []:
            ok_rows.setdefault(int(rec["point"]), []).append(rec)
        todo = _initial_pairs(sweep, have)
        keep = folder.path / "runs" if cfg.keep_runs else None
        progress = SweepProgress(quiet=quiet, label=cfg.name)
        total = len(have) + len(todo)
        failed = int((done["status"] == STATUS_FAILED).sum()) if len(done) else 0
        ran = 0
        last_fold = time.perf_counter()
        base_dir = str(sweep.base_dir)
        with dask_client(workers=workers, scheduler=scheduler) as client:
            base_future = client.scatter(sweep.base, broadcast=True)

            def submit(point: int, seed: int) -> Any:
                keep_dir = str(keep / f"p{point}-s{seed}") if keep is not None else None
                return client.submit(
                    run_point,
                    base_future,
                    base_dir,
                    sweep.overrides(point),
                    seed,
                    keep_dir,
                    key=f"run-p{point}-s{seed}-{sweep.fingerprint}",
                    pure=False,
                )

            futures: dict[Any, tuple[int, int]] = {}
            for point, seed in todo:
                futures[submit(point, seed)] = (point, seed)
            # With adequacy, a resumed point that has its first seeds may still need more.
            for point in range(len(sweep.design)):
                more = _more_seeds(cfg, ok_rows, point, seeds_of[point], futures)
                if more is not None:
                    futures[submit(point, more)] = (point, more)
                    total += 1
            queue = as_completed(list(futures))
            for fut in queue:
                point, seed = futures.pop(fut)
                row = {"point": point, "seed": seed, **sweep.design.iloc[point][params].to_dict()}
                try:
                    row.update(fut.result())
                except Exception as exc:  # the task killed every worker it was given (KilledWorker)
                    row.update({"status": STATUS_FAILED, "error": f"{type(exc).__name__}: {exc}"[:2000]})
                folder.add_part(row)
                have.add((point, seed))
                seeds_of.setdefault(point, []).append(seed)
                if row["status"] == STATUS_OK:
                    ok_rows.setdefault(point, []).append(row)
                ran += 1
                failed += row["status"] == STATUS_FAILED
                more = _more_seeds(cfg, ok_rows, point, seeds_of[point], futures)
                if more is not None:
                    nf = submit(point, more)
                    futures[nf] = (point, more)
                    queue.add(nf)
                    total += 1
                progress(len(have), total, failed)
                if on_progress is not None:
                    on_progress(len(have), total, failed)
                if should_stop is not None and should_stop():
                    for f in list(futures):
                        f.cancel()
                    break
                if time.perf_counter() - last_fold > FOLD_EVERY_S:
                    folder.fold(columns)
                    last_fold = time.perf_counter()
        results = folder.fold(columns)
        progress(len(have), total, failed, final=True)
        return _finish(folder, sweep, results, ran=ran)
    finally:
        folder.release()


def _initial_pairs(sweep: Sweep, have: set[tuple[int, int]]) -> list[tuple[int, int]]:
    """The (point, seed) pairs to run now: the first seeds of every point that have no row yet."""
    seeds = sweep.config.seed_list()
    return [(k, s) for s in seeds for k in range(len(sweep.design)) if (k, s) not in have]


def _more_seeds(
    cfg: Any, ok_rows: dict[int, list[dict[str, Any]]], point: int, seeds: list[int], running: dict
) -> int | None:
    """With adequacy: the next seed for ``point`` when its figures are not yet precise enough."""
    ad = cfg.seeds
    if not isinstance(ad, Adequacy):
        return None
    if any(p == point for p, _ in running.values()) or len(seeds) < ad.min or len(seeds) >= ad.max:
        return None
    mine = ok_rows.get(point, [])
    for fig, share in ad.ci_halfwidth.items():
        values = np.array([r.get(fig, math.nan) for r in mine], dtype=float)
        if not adequate(values, share):
            return max(seeds) + 1
    return None


def _write_meta(folder: SweepDir, sweep: Sweep, *, state: str, extra: dict[str, Any] | None = None) -> None:
    from sim.experiments.runner import package_versions

    cfg = sweep.config
    resolved = cfg.model_dump(mode="json") | {"scenario": str(sweep.scenario_path)}
    folder.write_atomic("sweep.yaml", lambda tmp: tmp.write_text(yaml.safe_dump(resolved, sort_keys=False)))
    folder.write_atomic("design.parquet", lambda tmp: sweep.design.to_parquet(tmp, index=False))
    manifest = {
        "format": "safecity-sweep/1",
        "name": cfg.name,
        "fingerprint": sweep.fingerprint,
        "base_fingerprint": base_fingerprint(sweep.base),
        "state": state,
        "points": len(sweep.design),
        "seeds": cfg.seed_list() if not isinstance(cfg.seeds, Adequacy) else cfg.seeds.model_dump(),
        "updated": datetime.now(UTC).isoformat(timespec="seconds"),
        "packages": package_versions(),
    } | (extra or {})
    folder.write_atomic("manifest.json", lambda tmp: tmp.write_text(json.dumps(manifest, indent=2)))


def figure_columns(results: pd.DataFrame, parameters: list[str]) -> list[str]:
    """The figure columns of a results table (everything but keys, parameters and bookkeeping)."""
    skip = {"point", "seed", "status", "error", "wall_s", "worker_pid", *parameters}
    return [c for c in results.columns if c not in skip and pd.api.types.is_numeric_dtype(results[c])]


def _finish(folder: SweepDir, sweep: Sweep, results: pd.DataFrame, *, ran: int) -> SweepOutcome:
    cfg = sweep.config
    params = list(cfg.parameters)
    figures = figure_columns(results, params)
    points = point_table(results, params, figures) if len(results) else pd.DataFrame()
    if isinstance(cfg.seeds, Adequacy) and len(points):
        met = []
        for row in points.itertuples():
            mine = results[(results["point"] == row.point) & (results["status"] == STATUS_OK)]
            met.append(
                all(
                    adequate(mine[f].to_numpy(dtype=float) if f in mine else np.zeros(0), s)
                    for f, s in cfg.seeds.ci_halfwidth.items()
                )
            )
        points["target_met"] = met
    sens = pd.DataFrame()
    if cfg.design in ("sobol", "morris") and len(points) == len(sweep.design):
        means = points.set_index("point").sort_index()[[f"{f}.mean" for f in figures]]
        means.columns = figures
        unit = _unit_sample(cfg, len(cfg.free())) if cfg.design == "morris" else np.zeros(0)
        sens = sensitivity(cfg.design, problem_of(cfg), unit, means, levels=cfg.morris_levels, seed=cfg.design_seed)
    folder.write_atomic("points.parquet", lambda tmp: points.to_parquet(tmp, index=False))
    if len(sens):
        folder.write_atomic("sensitivity.parquet", lambda tmp: sens.to_parquet(tmp, index=False))
    failed = int((results["status"] == STATUS_FAILED).sum()) if len(results) else 0
    from sim.io.sweepreport import report_html

    html = report_html(cfg.name, cfg.design, params, cfg.free(), results, points, sens)
    folder.write_atomic("report.html", lambda tmp: tmp.write_text(html, encoding="utf-8"))
    _write_meta(
        folder,
        sweep,
        state="done" if len(results) >= len(sweep.design) * len(cfg.seed_list()) else "partial",
        extra={"runs": len(results), "failed": failed},
    )
    return SweepOutcome(path=folder.path, results=results, points=points, sensitivity=sens, failed=failed, ran=ran)
