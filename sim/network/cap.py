"""Evacuation orders as OASIS Common Alerting Protocol 1.2 messages (XML text, written by sim.io).

One ``<alert>`` per order: identifier, sender, sent time (the scenario's ``output.start_time``
plus the simulated time), status ``Exercise`` (a simulation is never ``Actual``), one ``<info>``
with category, event, urgency, severity, certainty, expiry, headline, instruction, the channels
as ``<parameter>``s, and one ``<area>`` with the zone as CAP polygons (``lat,lon`` pairs,
closed) or a ``<circle>`` (``lat,lon radius_km``). Identifiers hold only letters, digits, ``.``,
``-`` and ``_`` whatever the scenario is called (CAP 1.2 forbids spaces, commas and ``<``, ``&``).
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from datetime import datetime, timedelta

import numpy as np

CAP_NS = "urn:oasis:names:tc:emergency:cap:1.2"


def _polygon_text(ring_lonlat: np.ndarray) -> str:
    ring = np.asarray(ring_lonlat, dtype=float)
    if not np.allclose(ring[0], ring[-1]):
        ring = np.vstack([ring, ring[:1]])
    return " ".join(f"{lat:.6f},{lon:.6f}" for lon, lat in ring)


def cap_token(text: str) -> str:
    """``text`` reduced to what a CAP identifier may hold: letters, digits, ``.``, ``-``, ``_``."""
    out = re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("._-")
    return out[:80] or "scenario"


def cap_alert(
    *,
    identifier: str,
    sender: str,
    sent: datetime,
    t_s: float,
    event: str,
    headline: str,
    area_desc: str,
    rings_lonlat: list[np.ndarray],
    channels: list[str],
    expires_after_s: float = 6 * 3600.0,
    circles: Sequence[tuple[float, float, float]] = (),
    category: str = "Safety",
    severity: str = "Severe",
    certainty: str = "Likely",
) -> str:
    """The CAP 1.2 XML document of one evacuation order.

    ``rings_lonlat`` are the zone's polygons, ``circles`` its circles as ``(lon, lat, radius_m)``;
    the message expires ``expires_after_s`` after it is sent.
    """
    ET.register_namespace("", CAP_NS)

    def sub(parent: ET.Element, tag: str, text: str | None = None) -> ET.Element:
        el = ET.SubElement(parent, f"{{{CAP_NS}}}{tag}")
        if text is not None:
            el.text = text
        return el

    at = (sent + timedelta(seconds=float(t_s))).replace(microsecond=0)
    when = at.isoformat()
    alert = ET.Element(f"{{{CAP_NS}}}alert")
    sub(alert, "identifier", identifier)
    sub(alert, "sender", sender)
    sub(alert, "sent", when)
    sub(alert, "status", "Exercise")
    sub(alert, "msgType", "Alert")
    sub(alert, "scope", "Public")
    info = sub(alert, "info")
    sub(info, "language", "en")
    sub(info, "category", category)
    sub(info, "event", event)
    sub(info, "responseType", "Evacuate")
    sub(info, "urgency", "Immediate")
    sub(info, "severity", severity)
    sub(info, "certainty", certainty)
    sub(info, "expires", (at + timedelta(seconds=float(expires_after_s))).isoformat())
    sub(info, "senderName", "Command and control centre (simulated)")
    sub(info, "headline", headline)
    sub(info, "instruction", "Leave now for the nearest open shelter. Follow the instructions of rescue staff.")
    for ch in channels:
        p = sub(info, "parameter")
        sub(p, "valueName", "channel")
        sub(p, "value", ch)
    area = sub(info, "area")
    sub(area, "areaDesc", area_desc)
    for ring in rings_lonlat:
        sub(area, "polygon", _polygon_text(ring))
    for lon, lat, radius_m in circles:
        sub(area, "circle", f"{lat:.6f},{lon:.6f} {radius_m / 1000.0:.3f}")
    return ET.tostring(alert, encoding="unicode", xml_declaration=True) + "\n"


__all__ = ["CAP_NS", "cap_alert", "cap_token"]
