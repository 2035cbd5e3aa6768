"""The PFIF export written as text equals what ElementTree writes for the same tree (issue 20)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, datetime

import numpy as np
import pandas as pd
import pytest

from sim.io.pfif import PFIF_NS, pfif_document, pfif_records

START = datetime(2026, 11, 27, 8, 0, tzinfo=UTC)
ARGS = {"domain": "safecity.example", "start": START}


def reference_document(
    registrations: pd.DataFrame, names: dict[str, str], *, max_records: int, args: dict | None = None
) -> tuple[str, int]:
    """The same records as an ElementTree tree, serialised by ElementTree (the writer used before)."""
    ET.register_namespace("pfif", PFIF_NS)
    root = ET.Element(f"{{{PFIF_NS}}}pfif")
    records = pfif_records(registrations, names, max_records=max_records, **(args or ARGS))
    for person_fields, note_fields in records:
        person = ET.SubElement(root, f"{{{PFIF_NS}}}person")
        for field, text in person_fields:
            ET.SubElement(person, f"{{{PFIF_NS}}}{field}").text = text
        note = ET.SubElement(person, f"{{{PFIF_NS}}}note")
        for field, text in note_fields:
            ET.SubElement(note, f"{{{PFIF_NS}}}{field}").text = text
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n", len(records)


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
    ours = pfif_document(regs, NAMES, max_records=cap, **ARGS)
    assert ours == reference_document(regs, NAMES, max_records=cap)
    assert ours[1] == min(cap, int(np.isfinite(regs["in_registry_t"]).sum()))


def test_the_records_say_what_pfif_needs_and_nothing_more():
    regs = pd.DataFrame(
        {
            "person": ["R2", "R1", "R3"],
            "in_registry_t": [60.0, 60.0, np.inf],
            "shelter": ["S4", "S1", "S1"],
            "method": ["desk", "app", "desk"],
            "age_band": ["50+", None, "0-17"],
        }
    )
    text, written = pfif_document(regs, NAMES, max_records=10, **ARGS)
    assert written == 2  # R3 is not in the registry
    root = ET.fromstring(text.split("\n", 1)[1])
    persons = root.findall(f"{{{PFIF_NS}}}person")
    ids = [p.findtext(f"{{{PFIF_NS}}}person_record_id") for p in persons]
    assert ids == ["safecity.example/R1", "safecity.example/R2"]  # equal times: by pseudonym
    first, second = persons
    assert first.find(f"{{{PFIF_NS}}}age") is None  # no age band, no element
    assert second.findtext(f"{{{PFIF_NS}}}age") == "50-120"
    assert first.findtext(f"{{{PFIF_NS}}}entry_date") == "2026-11-27T08:01:00Z"
    assert first.findtext(f"{{{PFIF_NS}}}author_name") == "Registration desk, School & Gym <north>"
    note = second.find(f"{{{PFIF_NS}}}note")
    assert note is not None
    assert note.findtext(f"{{{PFIF_NS}}}text") == "Registered at Hall 50+ \n\ttabs (desk)."  # XML normalises CR LF
    assert note.findtext(f"{{{PFIF_NS}}}status") == "believed_alive"


def test_a_registration_without_age_band_column_is_written_alike():
    regs = _registrations(50, np.random.default_rng(5)).drop(columns="age_band")
    assert pfif_document(regs, NAMES, max_records=100, **ARGS) == reference_document(regs, NAMES, max_records=100)


@pytest.mark.parametrize("cap", [0, 1, 7, 100, 399, 10_000])
def test_the_export_is_the_head_of_the_whole_register_sorted(cap):
    """Only candidates are sorted (issue 20); the persons and their order are the whole sort's head."""
    regs = _registrations(400, np.random.default_rng(cap))
    regs["in_registry_t"] = np.round(regs["in_registry_t"] / 600) * 600  # many ties at the cut
    whole = regs[np.isfinite(regs["in_registry_t"])].sort_values(["in_registry_t", "person"], kind="stable")
    records = pfif_records(regs, NAMES, max_records=cap, **ARGS)
    ids = [dict(person)["person_record_id"] for person, _ in records]
    assert ids == [f"safecity.example/{p}" for p in whole["person"].head(cap)]


@pytest.mark.parametrize(("n", "per_chunk"), [(0, 3), (9, 3), (10, 3), (400, 7)])
def test_the_export_is_written_in_chunks_of_persons_into_the_run_directory(tmp_path, monkeypatch, n, per_chunk):
    """The run directory's pfif.xml is made a few persons at a time, and is the same document (issue 20)."""
    import sim.io.pfif as pfif
    from sim.core.records import RunResult
    from sim.io.rundir import write_run

    monkeypatch.setattr(pfif, "PERSONS_PER_CHUNK", per_chunk)
    regs = _registrations(n, np.random.default_rng(n))
    stream, written = pfif.pfif_export(regs, NAMES, max_records=10_000, **ARGS)
    chunks = list(stream)
    # The declaration, the root's opening, one chunk per ``per_chunk`` persons, the rest.
    assert len(chunks) == 2 + written // per_chunk + 1
    assert list(stream) == chunks  # the stream starts anew each time it is read
    reference, count = reference_document(regs, NAMES, max_records=10_000)
    assert count == written
    result = RunResult(
        summary={},
        timeseries=pd.DataFrame(),
        events=pd.DataFrame(),
        tracks=pd.DataFrame(),
        scenario={},
        files={"pfif.xml": stream},
    )
    out = write_run(result, tmp_path / "run")
    assert (out / "pfif.xml").read_bytes() == reference.encode("utf-8")


def test_the_stream_survives_pickling_as_a_run_made_in_another_process_does():
    """The app runs scenarios in a process of their own: their results come back pickled."""
    import pickle

    import sim.io.pfif as pfif

    regs = _registrations(300, np.random.default_rng(9))
    stream, _ = pfif.pfif_export(regs, NAMES, max_records=100, **ARGS)
    back = pickle.loads(pickle.dumps(stream))
    assert back.text() == stream.text() == reference_document(regs, NAMES, max_records=100)[0]


def test_markup_and_the_age_bands_text_in_the_domain_and_the_pseudonyms_are_written_as_elementtree_does():
    # The writer makes what repeats once per time, shelter and method; what varies per person (the
    # pseudonym, the domain around it) must still be escaped, and changed only in the person's fields.
    regs = _registrations(300, np.random.default_rng(7))
    regs["person"] = [f"p<{i}>&50+" if i % 3 else f"P{i}" for i in range(len(regs))]
    args = {"domain": "safe&city<50+>.example", "start": START}
    ours = pfif_document(regs, NAMES, max_records=1000, **args)
    assert ours == reference_document(regs, NAMES, max_records=1000, args=args)
    assert "<pfif:person><pfif:person_record_id>safe&amp;city&lt;50-120&gt;.example/p&lt;" in ours[0]  # the person's
    assert "<pfif:person_record_id>safe&amp;city&lt;50+&gt;.example/p&lt;" in ours[0]  # the note's, unchanged
    assert "&gt;&amp;50-120</pfif:full_name>" in ours[0]
