"""Event rows against their definition: notes parsed into cause, count and the rest as JSON."""

from __future__ import annotations

import json
from typing import Any

import pytest

from sim.core.events import EventKind, event_row, fields_of

NOTES = [
    "kind=alert; reason=no route",
    "kind=alert; reason=destination overloaded",
    "count=17; reason=full",
    "count=3; reason=closed",
    "cause=flood",
    "cause=random",
    "capacity=1200",
    "people=40; roads=r1,r2",
    "level=0.25; cause=ddos",
    "just words",
    "",
    "ordered=5120; zone=all",
]


def by_definition(t_s: float, kind: str, subject: str, detail: str | dict[str, Any]) -> tuple[Any, ...]:
    kind = EventKind(kind).value
    fields = dict(detail) if isinstance(detail, dict) else fields_of(detail)
    cause = fields.pop("cause", None)
    count_key = {"shelter_turned_away": "count", "order_issued": "ordered", "gridlock": "people"}.get(kind)
    count = fields.pop(count_key, None) if count_key else None
    return (
        float(t_s),
        kind,
        str(subject),
        None if cause is None else str(cause),
        None if count is None else int(count),
        json.dumps(fields, sort_keys=True, separators=(",", ":")) if fields else "{}",
    )


@pytest.mark.parametrize("kind", ["message_lost", "shelter_turned_away", "order_issued", "gridlock", "road_closed"])
def test_event_rows_equal_their_definition_every_time(kind):
    for _ in range(3):  # the first time worked out, then remembered: the same rows
        for k, note in enumerate(NOTES):
            assert event_row(60.0 * k, kind, f"S{k}", note) == by_definition(60.0 * k, kind, f"S{k}", note)


def test_a_detail_mapping_is_typed_and_left_as_it_was():
    detail = {"cause": "cyber", "count": 4, "reason": "full", "share": 0.5}
    row = event_row(1.0, "shelter_turned_away", "S1", detail)
    assert row == (1.0, "shelter_turned_away", "S1", "cyber", 4, '{"reason":"full","share":0.5}')
    assert detail == {"cause": "cyber", "count": 4, "reason": "full", "share": 0.5}


def test_an_unknown_kind_is_refused():
    with pytest.raises(ValueError, match="not_a_kind"):
        event_row(0.0, "not_a_kind", "x", "cause=y")
