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
_PART = re.compile(r"\s*(\d+(?:\.\d*)?|\.\d+)\s*([a-zA-Z]*)\s*")


def parse_duration(value: object) -> float:
    """Return a duration in seconds from a number of seconds or a string like ``"90s"``.

    Strings may combine parts (``"1h30min"``); a bare number in a string is seconds.

    Raises:
        ValueError: the value is not a finite, non-negative duration.
    """
    if isinstance(value, bool):
        msg = f"expected a duration (seconds or a string like '15min'), got {value!r}"
        raise ValueError(msg)
    if isinstance(value, int | float):
        seconds = float(value)
    elif isinstance(value, str):
        text = value.strip().lower()
        pos, seconds, matched = 0, 0.0, False
        while pos < len(text):
            m = _PART.match(text, pos)
            if not m or m.end() == pos:
                matched = False
                break
            unit = m.group(2) or "s"
            if unit not in _DURATION_UNITS:
                msg = f"unknown time unit {unit!r} in {value!r} (use s, min, h or d)"
                raise ValueError(msg)
            seconds += float(m.group(1)) * _DURATION_UNITS[unit]
            pos, matched = m.end(), True
        if not matched:
            msg = f"cannot read {value!r} as a duration (examples: 3600, '90s', '15min', '6h')"
            raise ValueError(msg)
    else:
        msg = f"expected a duration (seconds or a string like '15min'), got {type(value).__name__}"
        raise ValueError(msg)
    if not math.isfinite(seconds) or seconds < 0:
        msg = f"must be a finite duration >= 0, got {value!r}"
        raise ValueError(msg)
    return seconds


def format_duration(seconds: float | None) -> str:
    """Human-readable ``h:mm:ss`` for a number of seconds (``-`` for None)."""
    if seconds is None or not math.isfinite(seconds):
        return "-"
    s = round(seconds)
    return f"{s // 3600}:{(s % 3600) // 60:02d}:{s % 60:02d}"
