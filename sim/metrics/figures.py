"""KPIs computed from a run's tables and records (pure functions; the engine computes none).

The engine hands over what happened (receipt times per channel, casualty causes, the cyber
record, the events); these functions turn it into the figures of ``summary.json``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd


def channel_figures(
    ordered_t: np.ndarray,
    receipts: Sequence[np.ndarray | None],
    channel_ids: Sequence[str],
    channel_types: Sequence[str],
) -> dict[str, dict[str, Any]]:
    """Per channel (by id): its type, citizens ordered out it reached, that share, its median delay.

    ``receipts[i]`` holds channel ``i``'s receipt time per citizen (infinite where it never
    reached them), or None for a channel that reached nobody. Three channels of one type are
    three entries.
    """
    ordered = np.isfinite(ordered_t)
    n = int(ordered.sum())
    out: dict[str, dict[str, Any]] = {}
    for given, ident, kind in zip(receipts, channel_ids, channel_types, strict=True):
        rec = given if given is not None else np.full(len(ordered_t), np.inf)
        hit = ordered & np.isfinite(rec)
        out[ident] = {
            "type": kind,
            "reached": int(hit.sum()),
            "reach_fraction": round(float(hit.sum() / n), 6) if n else None,
            "median_delay_s": round(float(np.median(rec[hit] - ordered_t[hit])), 3) if hit.any() else None,
        }
    return out


def casualties_by_cause(cause: np.ndarray, cause_names: Sequence[str]) -> dict[str, int]:
    """Casualties per cause (``flood``, ``tsunami``, ``earthquake`` ...).

    ``cause`` holds a code per citizen (an index into ``cause_names``), -1 for none.
    """
    counts = np.bincount(cause[cause >= 0], minlength=len(cause_names))
    return {name: int(counts[i]) for i, name in enumerate(cause_names)}


def reserves_opened(events: pd.DataFrame) -> int:
    """Reserve shelters the overflow policy opened."""
    return int((events["kind"] == "overflow_policy").sum())


@dataclass
class CyberRecord:
    """What the attacks did, as the engine recorded it."""

    devices_total: int
    internet_exposed_devices: int
    peak_compromised: int
    records_exposed: Mapping[str, int]
    false_readings: int
    rejected_spoofs: int
    people_given_a_false_alarm: int
    messages_intercepted: Mapping[str, int]
    attacks: list[dict[str, Any]] = field(default_factory=list)  # label, type, at_s, detected_at_s


def cyber_figures(record: CyberRecord) -> dict[str, Any]:
    """The ``cyber`` block of the summary: devices, records exposed (readable ones), spoofs, attacks."""
    readable = {k: v for k, v in record.records_exposed.items() if k not in ("ciphertext", "pseudonym")}
    return {
        "devices_total": int(record.devices_total),
        "devices_compromised_peak": int(record.peak_compromised),
        "records_exposed": int(max(readable.values(), default=0)),
        "records_exposed_by_class": dict(sorted(record.records_exposed.items())),
        "false_readings": int(record.false_readings),
        "rejected_spoofs": int(record.rejected_spoofs),
        "people_given_a_false_alarm": int(record.people_given_a_false_alarm),
        "messages_intercepted": dict(sorted(record.messages_intercepted.items())),
        "internet_exposed_devices": int(record.internet_exposed_devices),
        "attacks": {
            a["label"]: {"type": a["type"], "at_s": float(a["at_s"]), "detected_at_s": a["detected_at_s"]}
            for a in record.attacks
        },
    }
