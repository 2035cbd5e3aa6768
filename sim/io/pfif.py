"""Registrations as PFIF 1.4 (Person Finder Interchange Format) XML, with pseudonyms only.

One ``<pfif:person>`` per registered citizen: ``person_record_id`` (``<domain>/<pseudonym>``),
``entry_date``, ``author_name`` (the shelter's desk), ``source_name``, ``source_date``,
``full_name`` (the pseudonym: PFIF requires a name and we never export one), ``age`` (the
age band, when the registry stores it and the person consented); and one ``<pfif:note>``:
``note_record_id``, ``person_record_id``, ``entry_date``, ``author_name``, ``source_date``,
``author_made_contact`` (true), ``status`` (``believed_alive``), ``last_known_location`` (the
shelter) and ``text``. No contact, no health data, no home address: data minimisation.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd

PFIF_NS = "http://zesty.ca/pfif/1.4"
PERSON_FIELDS = (
    "person_record_id",
    "entry_date",
    "author_name",
    "source_name",
    "source_date",
    "full_name",
    "age",
)
NOTE_FIELDS = (
    "note_record_id",
    "person_record_id",
    "entry_date",
    "author_name",
    "source_date",
    "author_made_contact",
    "status",
    "last_known_location",
    "text",
)


def _zulu(start: datetime, t_s: float) -> str:
    return (start + timedelta(seconds=float(t_s))).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def pfif_document(
    registrations: pd.DataFrame, shelter_names: dict[str, str], *, domain: str, start: datetime, max_records: int
) -> tuple[str, int]:
    """The PFIF 1.4 XML of the registrations in the registry; returns (text, persons written)."""
    ET.register_namespace("pfif", PFIF_NS)
    root = ET.Element(f"{{{PFIF_NS}}}pfif")
    rows = registrations[np.isfinite(registrations["in_registry_t"].to_numpy(dtype=float))]
    rows = rows.sort_values(["in_registry_t", "person"], kind="stable").head(max_records)
    for r in rows.itertuples():
        pid = f"{domain}/{r.person}"
        when = _zulu(start, r.in_registry_t)
        shelter = shelter_names.get(r.shelter, r.shelter)
        person = ET.SubElement(root, f"{{{PFIF_NS}}}person")
        values = {
            "person_record_id": pid,
            "entry_date": when,
            "author_name": f"Registration desk, {shelter}",
            "source_name": "SafeCity Twin (simulated)",
            "source_date": when,
            "full_name": str(r.person),
            "age": getattr(r, "age_band", None),
        }
        for field in PERSON_FIELDS:
            value = values[field]
            if value is None or (isinstance(value, float) and np.isnan(value)):
                continue
            ET.SubElement(person, f"{{{PFIF_NS}}}{field}").text = str(value).replace("50+", "50-120")
        note = ET.SubElement(person, f"{{{PFIF_NS}}}note")
        nvalues = {
            "note_record_id": f"{domain}/note.{r.person}",
            "person_record_id": pid,
            "entry_date": when,
            "author_name": f"Registration desk, {shelter}",
            "source_date": when,
            "author_made_contact": "true",
            "status": "believed_alive",
            "last_known_location": shelter,
            "text": f"Registered at {shelter} ({r.method}).",
        }
        for field in NOTE_FIELDS:
            ET.SubElement(note, f"{{{PFIF_NS}}}{field}").text = nvalues[field]
    text = ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"
    return text, len(rows)


__all__ = ["NOTE_FIELDS", "PERSON_FIELDS", "PFIF_NS", "pfif_document"]
