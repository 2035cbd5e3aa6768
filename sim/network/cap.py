"""Evacuation orders as OASIS Common Alerting Protocol 1.2 messages (XML text, written by sim.io).

One ``<alert>`` per order: identifier, sender, sent time (the scenario's ``output.start_time``
plus the simulated time), status ``Exercise`` (a simulation is never ``Actual``), one ``<info>``
with category, event, urgency, severity, certainty, headline, instruction, the channels as
``<parameter>``s, and one ``<area>`` with the zone as CAP polygons (``lat,lon`` pairs, closed).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import datetime, timedelta

import numpy as np

CAP_NS = "urn:oasis:names:tc:emergency:cap:1.2"


def _polygon_text(ring_lonlat: np.ndarray) -> str:
    ring = np.asarray(ring_lonlat, dtype=float)
    if not np.allclose(ring[0], ring[-1]):
        ring = np.vstack([ring, ring[:1]])
    return " ".join(f"{lat:.6f},{lon:.6f}" for lon, lat in ring)


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
    category: str = "Safety",
    severity: str = "Severe",
    certainty: str = "Likely",
) -> str:
    """The CAP 1.2 XML document of one evacuation order."""
    ET.register_namespace("", CAP_NS)

    def sub(parent: ET.Element, tag: str, text: str | None = None) -> ET.Element:
        el = ET.SubElement(parent, f"{{{CAP_NS}}}{tag}")
        if text is not None:
            el.text = text
        return el

    when = (sent + timedelta(seconds=float(t_s))).replace(microsecond=0).isoformat()
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
    return ET.tostring(alert, encoding="unicode", xml_declaration=True) + "\n"


__all__ = ["CAP_NS", "cap_alert"]
