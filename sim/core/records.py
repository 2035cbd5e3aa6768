"""Small records passed between layers: what a run produces."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class TextStream:
    """A file's text, made chunk by chunk while it is written (never held whole).

    Each iteration starts anew from ``chunks``, so the same stream can be written twice.
    """

    chunks: Callable[[], Iterable[str]]

    def __iter__(self) -> Iterator[str]:
        """The text's chunks, in order."""
        return iter(self.chunks())

    def text(self) -> str:
        """The whole text (for a reader that needs it in memory)."""
        return "".join(self.chunks())


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
        files: further named files (CAP alerts as text, an exercise log as bytes, the PFIF export as a
            :class:`TextStream`), written verbatim.
    """

    summary: dict[str, Any]
    timeseries: Any
    events: Any
    tracks: Any
    scenario: dict[str, Any]
    manifest: dict[str, Any] = field(default_factory=dict)
    tables: dict[str, Any] = field(default_factory=dict)
    files: dict[str, str | bytes | TextStream] = field(default_factory=dict)
