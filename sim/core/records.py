"""Small records passed between layers: what a run produces."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class RunResult:
    """Everything one run produced, in memory; ``sim.io`` writes it to a run directory.

    Attributes:
        summary: the KPIs of ``summary.json`` (JSON-serialisable).
        timeseries: one row per recorded time (pandas DataFrame).
        events: one row per event: t_s, kind, subject, detail (pandas DataFrame).
        tracks: sampled pseudonymous positions (pandas DataFrame).
        scenario: the resolved scenario as a plain dict (every default filled in).
        manifest: versions, input hashes, seed, wall time.
        tables: further named tables (for example ``hazard``), each written as Parquet.
        files: further named files (CAP alerts as text, an exercise log as bytes), written verbatim.
    """

    summary: dict[str, Any]
    timeseries: Any
    events: Any
    tracks: Any
    scenario: dict[str, Any]
    manifest: dict[str, Any] = field(default_factory=dict)
    tables: dict[str, Any] = field(default_factory=dict)
    files: dict[str, str | bytes] = field(default_factory=dict)
