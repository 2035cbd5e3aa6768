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

import functools
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd

from sim.core.records import TextStream

PFIF_NS = "http://zesty.ca/pfif/1.4"
PERSONS_PER_CHUNK = 1000  # persons made into text at a time while the file is written
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


def _escape(text: str) -> str:
    """Character data as ElementTree writes it: ``&``, ``<`` and ``>`` escaped, nothing else."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _element(field: str, text: str) -> str:
    return f"<pfif:{field} />" if text == "" else f"<pfif:{field}>{_escape(text)}</pfif:{field}>"


def _present(value: object) -> bool:
    """A value to write: not missing (None or NaN)."""
    return value is not None and not (isinstance(value, float) and np.isnan(value))


def first_in_registry(t: np.ndarray, max_records: int) -> np.ndarray:
    """Rows (ascending) that can be among the ``max_records`` first in the registry.

    Every row whose time is below the ``max_records``-th smallest, and every row tied with it:
    sorting these by (time, pseudonym) gives the same head as sorting the whole table, without
    sorting a million pseudonyms to export twenty thousand.
    """
    rows = np.flatnonzero(np.isfinite(t))
    if len(rows) <= max_records:
        return rows
    if max_records <= 0:
        return rows[:0]
    kth = np.partition(t[rows], max_records - 1)[max_records - 1]
    return rows[t[rows] <= kth]


def _in_export(registrations: pd.DataFrame, max_records: int) -> pd.DataFrame:
    """The registrations exported, in order: the ``max_records`` first in the registry."""
    rows = registrations.iloc[first_in_registry(registrations["in_registry_t"].to_numpy(dtype=float), max_records)]
    return rows.sort_values(["in_registry_t", "person"], kind="stable").head(max_records)


def _columns(rows: pd.DataFrame) -> Iterator[tuple[Any, float, Any, Any, Any]]:
    """Per exported person, in order: pseudonym, time in the registry, shelter, method, age band (or None)."""
    n = len(rows)
    ages = rows["age_band"].to_numpy(dtype=object) if "age_band" in rows.columns else np.full(n, None, dtype=object)
    return zip(
        rows["person"].to_numpy(dtype=object),
        rows["in_registry_t"].to_numpy(dtype=float),
        rows["shelter"].to_numpy(dtype=object),
        rows["method"].to_numpy(dtype=object),
        ages,
        strict=True,
    )


def _records(
    rows: pd.DataFrame, shelter_names: dict[str, str], *, domain: str, start: datetime
) -> Iterator[tuple[list[tuple[str, str]], list[tuple[str, str]]]]:
    """Per exported person, in order: its ``(field, text)`` pairs and its note's, made one at a time."""
    # Times (to the second), shelters and age bands repeat: each distinct one is written once.
    zulu: dict[float, str] = {}
    at_shelter: dict[object, tuple[str, str]] = {}
    for person, t, sh, method, age in _columns(rows):
        when = zulu.get(t)
        if when is None:
            when = zulu[t] = _zulu(start, t)
        if sh not in at_shelter:
            name = shelter_names.get(sh, sh)
            at_shelter[sh] = (f"{name}", f"Registration desk, {name}")
        shelter, desk = at_shelter[sh]
        pid = f"{domain}/{person}"
        fields = [
            ("person_record_id", pid),
            ("entry_date", when),
            ("author_name", desk),
            ("source_name", "SafeCity Twin (simulated)"),
            ("source_date", when),
            ("full_name", str(person)),
        ]
        if _present(age):
            fields.append(("age", str(age)))
        note = [
            ("note_record_id", f"{domain}/note.{person}"),
            ("person_record_id", pid),
            ("entry_date", when),
            ("author_name", desk),
            ("source_date", when),
            ("author_made_contact", "true"),
            ("status", "believed_alive"),
            ("last_known_location", shelter),
            ("text", f"Registered at {shelter} ({method})."),
        ]
        yield [(field, text.replace("50+", "50-120")) for field, text in fields], note


def pfif_records(
    registrations: pd.DataFrame, shelter_names: dict[str, str], *, domain: str, start: datetime, max_records: int
) -> list[tuple[list[tuple[str, str]], list[tuple[str, str]]]]:
    """Per person in the export, in order: its ``(field, text)`` pairs and its note's."""
    rows = _in_export(registrations, max_records)
    return list(_records(rows, shelter_names, domain=domain, start=start))


def _chunks(rows: pd.DataFrame, shelter_names: dict[str, str], *, domain: str, start: datetime) -> Iterator[str]:
    """The document's text, ``PERSONS_PER_CHUNK`` persons at a time.

    The same text as :func:`_element` over :func:`_records` (``tests/io/test_pfif.py``), made
    with one format per person: what repeats (a time, a shelter and its desk, a method) is
    escaped and made into its elements once, and only the pseudonym is escaped per person.
    """
    yield "<?xml version='1.0' encoding='utf-8'?>\n"
    yield f'<pfif:pfif xmlns:pfif="{PFIF_NS}"' + (">" if len(rows) else " />")
    times: dict[float, tuple[str, str]] = {}  # person's (entry_date, source_date), note's the same
    places: dict[object, tuple[str, str, str, str]] = {}  # person's desk, note's desk and location, shelter
    texts: dict[tuple[object, object], str] = {}
    ages: dict[object, str] = {}
    source = _element("source_name", "SafeCity Twin (simulated)")
    contact = _element("author_made_contact", "true") + _element("status", "believed_alive")
    parts: list[str] = []
    for k, (person, t, sh, method, age) in enumerate(_columns(rows), start=1):
        when = times.get(t)
        if when is None:
            z = _zulu(start, t)
            when = times[t] = (_element("entry_date", z), _element("source_date", z))
        place = places.get(sh)
        if place is None:
            name = f"{shelter_names.get(sh, sh)}"
            desk = f"Registration desk, {name}"
            place = places[sh] = (
                _element("author_name", desk.replace("50+", "50-120")),
                _element("author_name", desk),
                _element("last_known_location", name),
                name,
            )
        text = texts.get((sh, method))
        if text is None:
            text = texts[(sh, method)] = _element("text", f"Registered at {place[3]} ({method}).")
        if _present(age):
            age_el = ages.get(age)
            if age_el is None:
                age_el = ages[age] = _element("age", str(age).replace("50+", "50-120"))
        else:
            age_el = ""
        pid = f"{domain}/{person}"
        parts.append(
            f"<pfif:person>{_element('person_record_id', pid.replace('50+', '50-120'))}{when[0]}{place[0]}"
            f"{source}{when[1]}{_element('full_name', str(person).replace('50+', '50-120'))}{age_el}"
            f"<pfif:note>{_element('note_record_id', f'{domain}/note.{person}')}{_element('person_record_id', pid)}"
            f"{when[0]}{place[1]}{when[1]}{contact}{place[2]}{text}</pfif:note></pfif:person>"
        )
        if k % PERSONS_PER_CHUNK == 0:
            yield "".join(parts)
            parts = []
    if len(rows):
        parts.append("</pfif:pfif>")
    parts.append("\n")
    yield "".join(parts)


def pfif_export(
    registrations: pd.DataFrame, shelter_names: dict[str, str], *, domain: str, start: datetime, max_records: int
) -> tuple[TextStream, int]:
    """The PFIF 1.4 XML of the registrations in the registry, as a stream; returns (it, persons written).

    Written as text, element by element, exactly as ``xml.etree.ElementTree.tostring`` writes the
    same tree (tests/io/test_pfif.py holds it to that), at a tenth of its cost. The text is made
    a thousand persons at a time while it is written, never whole.
    """
    rows = _in_export(registrations, max_records)
    # A partial, not a lambda: a run made in another process comes back pickled.
    stream = TextStream(functools.partial(_chunks, rows, shelter_names, domain=domain, start=start))
    return stream, len(rows)


def pfif_document(
    registrations: pd.DataFrame, shelter_names: dict[str, str], *, domain: str, start: datetime, max_records: int
) -> tuple[str, int]:
    """The PFIF 1.4 XML of :func:`pfif_export` as one text; returns (text, persons written)."""
    stream, written = pfif_export(registrations, shelter_names, domain=domain, start=start, max_records=max_records)
    return stream.text(), written


__all__ = ["NOTE_FIELDS", "PERSON_FIELDS", "PFIF_NS", "pfif_document", "pfif_export", "pfif_records"]
