"""Operator actions in words: titles and arguments as trainers and players read them.

One table for the app's Exercise page and the after-action report, so neither shows
``issue_order`` or a raw dictionary.
"""

from __future__ import annotations

from typing import Any

ACTION_TITLES: dict[str, str] = {
    "issue_order": "Issue an evacuation order",
    "open_shelter": "Open a shelter",
    "close_shelter": "Close a shelter",
    "close_road": "Close roads",
    "reopen_road": "Reopen roads",
    "isolate_device": "Isolate a device",
    "hazard": "Start a hazard",
    "attack": "Start an attack",
    "note": "Log a note",
}


def action_title(name: str | None) -> str:
    """The action's title (``-`` for none; an unknown name as it is)."""
    if not name:
        return "-"
    return ACTION_TITLES.get(name, name)


def action_details(args: Any) -> str:
    """An action's arguments in words: ``zone: B2, C2 · capacity: 800`` (empty ones left out)."""
    if not isinstance(args, dict):
        return "" if args is None else str(args)[:200]
    parts = []
    for k, v in args.items():
        if v is None or v == [] or v == {}:
            continue
        text = ", ".join(str(x) for x in v) if isinstance(v, list) else str(v)
        parts.append(f"{k.replace('_', ' ')}: {text}")
    return " · ".join(parts)[:200]


__all__ = ["ACTION_TITLES", "action_details", "action_title"]
