"""Units: durations in seconds, distances in metres, speeds in metres per second."""

from __future__ import annotations

import math
import re

_DURATION_UNITS = {
    "s": 1.0,
    "sec": 1.0,
    "secs": 1.0,
    "second": 1.0,
    "seconds": 1.0,
    "min": 60.0,
    "mins": 60.0,
    "minute": 60.0,
    "minutes": 60.0,
    "h": 3600.0,
    "hr": 3600.0,
    "hrs": 3600.0,
    "hour": 3600.0,
    "hours": 3600.0,
    "d": 86400.0,
    "day": 86400.0,
    "days": 86400.0,
}
MAX_DURATION_S = 366 * 86400.0
"""Longest duration anywhere in a scenario: a year (runs themselves stop at 14 days)."""
_CLOCK = re.compile(r"^\s*(\d{1,4}):([0-5]\d)(?::([0-5]\d(?:\.\d+)?))?\s*$")
_PART = re.compile(r"\s*(\d+(?:\.\d*)?|\.\d+)\s*([a-zA-Z]*)\s*")


def parse_duration(value: object) -> float:
    """Return a duration in seconds from a number of seconds or a string like ``"90s"``.

    Strings may combine parts (``"1h30min"``) or be a clock reading ``h:mm`` or ``h:mm:ss``
    (``"1:30"`` is an hour and a half, as the app prints it); a bare number in a string is seconds, but only
    alone: in ``"1h30"`` the 30 has no unit, and rather than guess (30 s? 30 min?) it is refused.

    Raises:
        ValueError: the value is not a finite, non-negative duration.
    """
    if isinstance(value, bool):
        msg = f"expected a duration (seconds or a string like '15min'), got {value!r}"
        raise ValueError(msg)
    shown = repr(value) if len(repr(value)) <= 40 else repr(value)[:37] + "..."
    if isinstance(value, int | float):
        try:
            seconds = float(value)
        except OverflowError:
            msg = f"must be a finite duration >= 0, got a {len(str(value))}-digit number"
            raise ValueError(msg) from None
    elif isinstance(value, str) and _CLOCK.match(value):
        h, m, sec = _CLOCK.match(value).groups()  # type: ignore[union-attr]
        seconds = int(h) * 3600.0 + int(m) * 60.0 + float(sec or 0)
    elif isinstance(value, str):
        text = value.strip().lower()
        if len(text) > 100:
            msg = f"cannot read {shown} as a duration (examples: 3600, '90s', '15min', '6h')"
            raise ValueError(msg)
        if ":" in text:
            msg = f"cannot read {shown} as a clock duration h:mm or h:mm:ss (minutes and seconds below 60)"
            raise ValueError(msg)
        pos, seconds, matched, parts = 0, 0.0, False, 0
        while pos < len(text):
            m = _PART.match(text, pos)
            if not m or m.end() == pos:
                matched = False
                break
            parts += 1
            if not m.group(2) and (parts > 1 or m.end() < len(text)):
                msg = f"{shown}: give every number a unit, for example '1h30min' (a bare number is seconds only alone)"
                raise ValueError(msg)
            unit = m.group(2) or "s"
            if unit not in _DURATION_UNITS:
                msg = f"unknown time unit {unit!r} in {shown} (use s, min, h or d)"
                raise ValueError(msg)
            seconds += float(m.group(1)) * _DURATION_UNITS[unit]
            pos, matched = m.end(), True
        if not matched:
            msg = f"cannot read {shown} as a duration (examples: 3600, '90s', '15min', '6h')"
            raise ValueError(msg)
    else:
        msg = f"expected a duration (seconds or a string like '15min'), got {type(value).__name__}"
        raise ValueError(msg)
    if not math.isfinite(seconds) or seconds < 0:
        msg = f"must be a finite duration >= 0, got {shown}"
        raise ValueError(msg)
    if seconds > MAX_DURATION_S:
        msg = f"must be at most a year ({MAX_DURATION_S:g} s), got {shown}"
        raise ValueError(msg)
    return seconds


def format_duration(seconds: float | None) -> str:
    """Human-readable ``h:mm:ss`` for a number of seconds (``-`` for None)."""
    if seconds is None or not math.isfinite(seconds):
        return "-"
    s = round(seconds)
    return f"{s // 3600}:{(s % 3600) // 60:02d}:{s % 60:02d}"
