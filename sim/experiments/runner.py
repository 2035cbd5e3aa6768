"""``run_scenario``: a pure function from a scenario to its results, usable in any process."""

from __future__ import annotations

import platform
import time
from importlib import metadata
from typing import Any

import numpy as np
import pandas as pd

from sim.agents.citizens import STATE_NAMES
from sim.core.memory import spared_from_collection
from sim.core.records import RunResult
from sim.engine.model import EvacuationModel, ProgressCallback
from sim.engine.spatial import catchment_table, district_table, road_table
from sim.io.pfif import first_in_registry, pfif_export
from sim.metrics.figures import CyberRecord, casualties_by_cause, channel_figures, cyber_figures, reserves_opened
from sim.metrics.location import location_figures
from sim.metrics.summary import build_summary
from sim.metrics.timelines import service_timeline, shelter_timeline
from sim.scenario.loader import resolved_dict
from sim.scenario.schema import Scenario

PACKAGES = (
    "numpy",
    "pandas",
    "pyarrow",
    "scipy",
    "geopandas",
    "shapely",
    "pyproj",
    "pyrosm",
    "simpy",
    "mesa",
    "pydantic",
    "PyYAML",
    "rasterio",
)
STATE_CODES = {name: i for i, name in enumerate(STATE_NAMES)}


def package_versions() -> dict[str, str]:
    """Installed versions of the packages a run depends on."""
    out = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    from sim import __version__

    out["safecity-twin"] = __version__
    return out


def _terrain_inputs(model: EvacuationModel) -> dict[str, str]:
    from sim.city.assemble import file_sha256

    dem = model.scenario.city.terrain.dem
    return {"city.terrain.dem": file_sha256(dem)} if dem is not None and model.terrain_source == "dem" else {}


def _relatives_fraction(model: EvacuationModel) -> float | None:
    sheltered = model.pop.state == STATE_CODES["sheltered"]
    if not sheltered.any():
        return None
    told = np.isfinite(model.ops.registry.notified_t) & sheltered
    return round(float(told.sum() / sheltered.sum()), 6)


def with_clock(table: pd.DataFrame, start: Any) -> pd.DataFrame:
    """The table with a ``time`` column beside ``t_s``: ``output.start_time`` + ``t_s``, with its zone.

    A time-zone-aware timestamp (ISO 8601 with its offset when written as text), so QGIS's
    temporal controller and kepler.gl can play the tracks.
    """
    if "t_s" not in table.columns or "time" in table.columns:
        return table
    out = table.copy(deep=False)  # the columns are shared, the new one is the copy's alone
    # Tables repeat a few times over many rows (tracks, road flows): each distinct time is
    # converted once, then spread back (the same values as converting every row).
    distinct, back = np.unique(out["t_s"].to_numpy(dtype=float), return_inverse=True)
    when = (pd.Timestamp(start) + pd.to_timedelta(distinct, unit="s")).tz_convert(_zone(start))
    out.insert(int(out.columns.get_loc("t_s")) + 1, "time", when[back.reshape(-1)])
    return out


def _zone(start: Any) -> Any:
    """The zone of ``start`` as Parquet gives it back (so a run read from disk equals the run in memory)."""
    minutes = int(start.utcoffset().total_seconds() // 60)
    if minutes == 0:
        return "UTC"
    try:
        import pytz

        return pytz.FixedOffset(minutes)
    except ImportError:  # pandas without pytz: a fixed offset of the standard library
        from datetime import timedelta, timezone

        return timezone(timedelta(minutes=minutes))


def sample_positions(n: int, cap: int, *, seed: int) -> np.ndarray:
    """Positions (ascending) of at most ``cap`` of ``n`` rows: all of them, or a uniform sample.

    The sample is drawn from its own stream of the scenario's seed, so the same run samples the
    same people on any machine; every row is equally likely to be kept, so shares (by shelter,
    method, time) stay unbiased and counts scale by ``n / cap``.
    """
    if n <= cap:
        return np.arange(n)
    return np.sort(np.random.default_rng([seed, 0x52454753]).choice(n, size=cap, replace=False))


def _location(model: EvacuationModel, timeseries: Any) -> dict[str, Any]:
    if not model.scenario.location.enabled:
        return {}
    return location_figures(
        model.locating.located(),
        timeseries,
        model.locating.report_table(),
        population=model.pop.n,
        districts=len(model.city.districts),
    )


def collect_results(model: EvacuationModel, *, wall_time_s: float, figures_only: bool = False) -> RunResult:
    """Turn a finished model into a :class:`RunResult`.

    With ``figures_only`` (sweeps), only ``summary`` and ``timeseries`` are filled: the same
    figures, without the tables and files a run directory needs (PFIF, registrations, tracks).
    """
    scenario = resolved_dict(model.scenario)
    events = model.events()
    shelters = model.recorder.shelter_stats()
    summary = build_summary(
        scenario=scenario,
        population=model.pop.n,
        outcomes=model.recorder.outcomes(),
        shelters=shelters,
        events=events,
        state_codes=STATE_CODES,
        casualties_by_cause=casualties_by_cause(model.casualty_cause, model.cause_names),
        services=model.service_availability(),
        channels=channel_figures(
            model.pop.ordered_t,
            model.channel_receipts(),
            model.scenario.alerting.channel_ids(),
            [ch.type for ch in model.scenario.alerting.channels],
        ),
        relatives_notified_fraction=_relatives_fraction(model),
        cyber=cyber_figures(CyberRecord(**model.recorder.cyber_record())),
        extra={"shelter_operations": model.shelter_operations_summary() | {"reserves_opened": reserves_opened(events)}},
    )
    if figures_only:
        timeseries = model.timeseries()
        summary["location"] = _location(model, timeseries)
        return RunResult(summary=summary, timeseries=timeseries, events=events, tracks=None, scenario=scenario)
    # The register's rows written (all, or a sample) and those that can be in the PFIF export:
    # pseudonyms are made for these only, not for every registration of a megacity.
    priv = model.scenario.privacy
    registered = model.ops.registered()
    in_registry_t = model.ops.in_registry_times(registered)  # the registrations' in_registry_t
    register = model.registrations(
        registered[sample_positions(len(registered), priv.registrations_max_records, seed=model.scenario.seed)]
    )
    names = {s.shelter_id: s.name for s in model.shelters}
    pfif, written = pfif_export(
        model.registrations(registered[first_in_registry(in_registry_t, priv.pfif_max_records)]),
        names,
        domain="safecity.example",
        start=model.scenario.output.start_time,
        max_records=model.scenario.privacy.pfif_max_records,
    )
    manifest: dict[str, Any] = {
        "seed": model.scenario.seed,
        "wall_time_s": round(wall_time_s, 3),
        "packages": package_versions(),
        "inputs": dict(model.city.sources) | _terrain_inputs(model),
        "city": {
            "name": model.city.name,
            "crs": model.city.crs,
            "nodes": model.city.n_nodes,
            "roads": model.city.n_roads,
            "shelters": len(model.shelters),
            "assets": len(model.asset_table),
            "pfif_persons": written,
            "pfif_truncated": bool(written < int(np.isfinite(in_registry_t).sum())),
            "registrations_total": len(registered),
            "registrations_rows": len(register),
            "terrain": model.terrain_source,
        },
    }
    timeseries = model.timeseries()
    summary["location"] = _location(model, timeseries)
    start = model.scenario.output.start_time
    districts = model.district_counts()
    flows = model.mover.flows
    spatial = (
        {
            "roads": road_table(model),
            "road_flows": with_clock(flows.table(model.city.roads["road_id"]), start),
            "district_summary": district_table(model, districts),
            "catchments": catchment_table(model),
        }
        if flows is not None
        else {}
    )
    return RunResult(
        summary=summary,
        timeseries=with_clock(timeseries, start),
        events=with_clock(events, start),
        tracks=with_clock(model.tracks(), start),
        scenario=scenario,
        manifest=manifest,
        tables={
            "shelters": shelters,
            "hazard": model.hazard_footprints(),
            "assets": model.assets(),
            "links": model.links(),
            "registrations": register,
            "devices": model.inventory.drop(columns=["asset_row"]),
            "districts": districts,
            **spatial,
            "shelter_timeline": shelter_timeline(timeseries, [s.shelter_id for s in model.shelters]),
            "service_timeline": service_timeline(timeseries),
            **(
                {
                    "located": model.locating.located(),
                    "location_reports": model.locating.report_table(),
                    "unaccounted": model.locating.unaccounted(model.registry_key),
                }
                if model.scenario.location.enabled
                else {}
            ),
        },
        files={**model.cap_files(), "pfif.xml": pfif},
    )


BASELINE_KEYS = ("t50_s", "t90_s", "t95_s", "sheltered", "casualties", "stranded")


def _delta(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None else round(float(a) - float(b), 6)


def baseline_deltas(with_attacks: dict[str, Any], without: dict[str, Any]) -> dict[str, Any]:
    """What the attacks changed: this run minus the same scenario and seed without them."""
    ev, ev0 = with_attacks["evacuation"], without["evacuation"]
    out: dict[str, Any] = {k: _delta(ev.get(k), ev0.get(k)) for k in BASELINE_KEYS}
    out["reach_fraction"] = _delta(with_attacks["alerts"]["reach_fraction"], without["alerts"]["reach_fraction"])
    out["relatives_notified_fraction"] = _delta(
        with_attacks.get("relatives_notified_fraction"), without.get("relatives_notified_fraction")
    )
    out["availability"] = {
        name: _delta(v["availability"], without["services"].get(name, {}).get("availability"))
        for name, v in with_attacks["services"].items()
    }
    return {
        "without_attacks": {
            **{k: ev0.get(k) for k in BASELINE_KEYS},
            "reach_fraction": without["alerts"]["reach_fraction"],
            "availability": {k: v["availability"] for k, v in without["services"].items()},
        },
        "delta": out,
    }


def run_scenario(
    scenario: Scenario,
    *,
    progress: ProgressCallback | None = None,
    baseline: bool = False,
    figures_only: bool = False,
) -> RunResult:
    """Build the model, run it to the end and return every table and KPI.

    Pure: the same scenario gives the same results in any process (wall time aside). It reads
    the city's input files but writes nothing; pass the result to ``sim.io.write_run``. With
    ``baseline``, the same scenario and seed also run without the attacks, and the summary gets
    a ``baseline`` block with the deltas (docs/cyber.md).
    """
    started = time.perf_counter()
    # What exists (the libraries, the caller's) and the model once built outlive the run: the
    # garbage collector's full collections walk only what the run makes (sim.core.memory).
    with spared_from_collection() as spare_now:
        model = EvacuationModel(scenario, record_tables=not figures_only)
        spare_now()
        model.run(progress=progress)
        result = collect_results(model, wall_time_s=time.perf_counter() - started, figures_only=figures_only)
    if baseline:
        clean = EvacuationModel(scenario.model_copy(update={"cyber": []}), record_tables=False)
        clean.run()
        plain = collect_results(clean, wall_time_s=0.0, figures_only=True)
        result.summary["baseline"] = baseline_deltas(result.summary, plain.summary)
        result.manifest["wall_time_s"] = round(time.perf_counter() - started, 3)
    return result
