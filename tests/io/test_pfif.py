"""The PFIF export written as text equals what ElementTree writes for the same tree (issue 20)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, datetime

import numpy as np
import pandas as pd
import pytest

from sim.io.pfif import NOTE_FIELDS, PERSON_FIELDS, PFIF_NS, _zulu, pfif_document

START = datetime(2026, 11, 27, 8, 0, tzinfo=UTC)


def reference_document(
    registrations: pd.DataFrame, shelter_names: dict[str, str], *, domain: str, start: datetime, max_records: int
) -> tuple[str, int]:
    """The ElementTree writer this module used before (issue 20), kept as the reference."""
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


def _registrations(n: int, rng: np.random.Generator) -> pd.DataFrame:
    t = rng.uniform(0, 7200, n)
    t[rng.random(n) < 0.2] = np.inf  # not in the registry (yet)
    return pd.DataFrame(
        {
            "person": [f"P{i:05d}" for i in rng.permutation(n)],
            "in_registry_t": np.round(t),  # ties in time: ordered by pseudonym
            "shelter": pd.Categorical(rng.choice(["S1", "S2", "S3", "S4"], n)),
            "method": pd.Categorical(rng.choice(["desk", "app", "wristband"], n)),
            "age_band": rng.choice(np.array(["0-17", "18-49", "50+", None], dtype=object), n),
        }
    )


NAMES = {
    "S1": "School & Gym <north>",  # markup characters
    "S2": "Kotkan \u00e4ij\u00e4 \"main\" hall 'B'",  # non-ASCII, quotes
    "S3": "",  # an empty name
    "S4": "Hall 50+ \r\n\ttabs",  # the age band's substitution and control whitespace
}


@pytest.mark.parametrize(("n", "cap"), [(0, 100), (1, 100), (400, 100), (400, 10_000)])
def test_the_text_writer_matches_elementtree_byte_for_byte(n, cap):
    regs = _registrations(n, np.random.default_rng(n + cap))
    ours = pfif_document(regs, NAMES, domain="safecity.example", start=START, max_records=cap)
    reference = reference_document(regs, NAMES, domain="safecity.example", start=START, max_records=cap)
    assert ours == reference
    ET.fromstring(ours[0].split("\n", 1)[1])  # and it parses


def test_a_registration_without_age_band_column_is_written_alike():
    regs = _registrations(50, np.random.default_rng(5)).drop(columns="age_band")
    args = {"domain": "d", "start": START, "max_records": 100}
    assert pfif_document(regs, NAMES, **args) == reference_document(regs, NAMES, **args)
