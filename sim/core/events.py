"""Event kinds and the typed columns of ``events.parquet``, defined once.

Every event has ``t_s``, ``kind`` (an :class:`EventKind`), ``subject`` (an id), and typed
columns: ``cause`` (what made it happen: a hazard or attack id, ``operator``, ``random``...),
``count`` (how many people, households or records it concerns, where that applies) and
``detail`` (every other field, as a JSON object). Metrics read these columns; nothing parses
strings.
"""

from __future__ import annotations

import functools
import json
from enum import StrEnum
from typing import Any


class EventKind(StrEnum):
    """Everything the simulation records as an event (README, "The run directory")."""

    ORDER_ISSUED = "order_issued"
    ROAD_CLOSED = "road_closed"
    ROAD_REOPENED = "road_reopened"
    SHELTER_CLOSED = "shelter_closed"
    SHELTER_OPENED = "shelter_opened"
    SHELTER_DAMAGED = "shelter_damaged"
    SHELTER_FULL = "shelter_full"
    SHELTER_TURNED_AWAY = "shelter_turned_away"
    GRIDLOCK = "gridlock"
    ASSET_FAILED = "asset_failed"
    BUILDING_COLLAPSED = "building_collapsed"
    BUILDINGS_COLLAPSED = "buildings_collapsed"
    CASUALTIES = "casualties"
    INJURED = "injured"
    TRAPPED = "trapped"
    FREED = "freed"
    TRIGGER_FIRED = "trigger_fired"
    EARTHQUAKE = "earthquake"
    FLOOD = "flood"
    TSUNAMI = "tsunami"
    MESSAGE_DELIVERED = "message_delivered"
    MESSAGE_LOST = "message_lost"
    LINK_DOWN = "link_down"
    LINK_UP = "link_up"
    LINK_CUT = "link_cut"
    LINK_RESTORED = "link_restored"
    POWER_CUT = "power_cut"
    POWER_RESTORED = "power_restored"
    ASSET_POWER_OFF = "asset_power_off"
    ASSET_POWER_RESTORED = "asset_power_restored"
    SERVICE_DOWN = "service_down"
    SERVICE_UP = "service_up"
    ATTACK_STARTED = "attack_started"
    ATTACK_STOPPED = "attack_stopped"
    ATTACK_DETECTED = "attack_detected"
    ATTACK_BLOCKED = "attack_blocked"
    STAKEHOLDER_ALERTED = "stakeholder_alerted"
    DEVICE_COMPROMISED = "device_compromised"
    DEVICE_ISOLATED = "device_isolated"
    DEVICE_REIMAGED = "device_reimaged"
    SERVER_LOAD = "server_load"
    SIREN_SILENT = "siren_silent"
    FALSE_ALARM = "false_alarm"
    SPOOF_REJECTED = "spoof_rejected"
    DATA_STORE_REACHED = "data_store_reached"
    FAILOVER = "failover"
    OVERFLOW_POLICY = "overflow_policy"


EVENT_COLUMNS = ("t_s", "kind", "subject", "cause", "count", "detail")
"""The columns of ``events.parquet``, in order."""

# The numeric field that is an event's ``count`` column, by kind (the rest go to ``detail``).
_COUNT_FIELD = {
    "casualties": "count",
    "injured": "count",
    "trapped": "count",
    "freed": "count",
    "shelter_turned_away": "count",
    "gridlock": "people",
    "buildings_collapsed": "households",
    "order_issued": "ordered",
    "false_alarm": "people",
    "data_store_reached": "records",
}


def _value(text: str) -> Any:
    for cast in (int, float):
        try:
            return cast(text)
        except ValueError:
            pass
    return text


def fields_of(detail: str) -> dict[str, Any]:
    """The engine's ``key=value; key=value`` notes as a mapping (numbers as numbers).

    Used once, where an event is recorded, never on a run's outputs.
    """
    out: dict[str, Any] = {}
    for part in detail.split(";"):
        part = part.strip()
        if not part:
            continue
        key, sep, value = part.partition("=")
        out[key.strip() if sep else "note"] = _value(value.strip()) if sep else part
    return out


def event_row(t_s: float, kind: str, subject: str, detail: str | dict[str, Any]) -> tuple[Any, ...]:
    """One typed row of ``events.parquet`` (see :data:`EVENT_COLUMNS`).

    Raises:
        ValueError: ``kind`` is not an :class:`EventKind`.
    """
    kind = EventKind(kind).value
    if isinstance(detail, dict):
        cause, count, rest = _typed(kind, dict(detail))
    else:
        cause, count, rest = _typed_note(kind, detail)
    return (float(t_s), kind, str(subject), cause, count, rest)


def _typed(kind: str, fields: dict[str, Any]) -> tuple[str | None, int | None, str]:
    """``cause``, ``count`` and the rest as JSON, from an event's fields (taken out of ``fields``)."""
    cause = fields.pop("cause", None)
    count_key = _COUNT_FIELD.get(kind)
    count = fields.pop(count_key, None) if count_key else None
    return (
        None if cause is None else str(cause),
        None if count is None else int(count),
        json.dumps(fields, sort_keys=True, separators=(",", ":")) if fields else "{}",
    )


@functools.lru_cache(maxsize=65_536)
def _typed_note(kind: str, detail: str) -> tuple[str | None, int | None, str]:
    """:func:`_typed` of a ``key=value`` note, worked out once per distinct note.

    A run repeats a few hundred notes tens of thousands of times (58,498 events and 572 notes at
    a million citizens). The result is a tuple of immutable values: sharing it is safe.
    """
    return _typed(kind, fields_of(detail))
