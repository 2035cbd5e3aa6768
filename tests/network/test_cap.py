"""CAP 1.2: every message a run writes validates against the OASIS XSD, whatever the scenario says."""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path

import pytest
from lxml import etree

from sim import api
from sim.core.errors import InputError
from sim.network.cap import CAP_NS, cap_token

XSD = Path(__file__).resolve().parents[1] / "data" / "cap" / "CAP-v1.2.xsd"
NS = {"cap": CAP_NS}
# CAP 1.2, 3.2.1: identifier and sender "MUST NOT include spaces, commas or restricted characters (< and &)".
TOKEN = re.compile(r"^[^\s,<&]+$")


@pytest.fixture(scope="module")
def schema() -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(XSD)))


def _cap_files(name: str, orders: list[dict], **output) -> dict[str, bytes]:
    base = api.load_scenario(api.sample_scenarios()["kotka_district_evacuation"], ["duration=10min"])
    data = base.model_dump(mode="json")
    data["name"] = name
    data["alerting"]["orders"] = orders
    data["output"].update(output)
    result = api.run(api.scenario_from_dict(data))
    return {k: v.encode() for k, v in result.files.items() if k.startswith("cap/")}


def test_every_zone_form_validates_against_the_cap_1_2_xsd(schema):
    lon, lat = 26.949, 60.530  # central Kotka
    orders = [
        {"at": "1min", "zone": "all"},
        {"at": "2min", "zone": ["C1", "C2"], "channels": ["siren"]},
        {"at": "3min", "zone": {"bbox": [lon - 0.01, lat - 0.005, lon + 0.01, lat + 0.005]}},
        {"at": "4min", "zone": {"polygon": [[lon, lat], [lon + 0.01, lat], [lon, lat + 0.01]]}},
        {"at": "5min", "zone": {"center": [lon, lat], "radius_m": 750}},
    ]
    # A name CAP identifiers may not carry as it is: spaces, commas, < and &.
    files = _cap_files("Flood, <Kotka> & harbour 2026", orders, start_time="2026-03-01T10:00:00+02:00")
    assert len(files) == len(orders)
    idents = set()
    for name, xml in sorted(files.items()):
        doc = etree.fromstring(xml)
        assert schema.validate(doc), (name, schema.error_log.last_error)
        ident = doc.findtext("cap:identifier", namespaces=NS)
        assert TOKEN.match(ident), ident
        idents.add(ident)
        assert TOKEN.match(doc.findtext("cap:sender", namespaces=NS))
        sent = datetime.fromisoformat(doc.findtext("cap:sent", namespaces=NS))
        expires = datetime.fromisoformat(doc.findtext("cap:info/cap:expires", namespaces=NS))
        assert (expires - sent).total_seconds() == 6 * 3600  # output.cap_expires_after's default
        assert sent.utcoffset().total_seconds() == 2 * 3600  # the scenario's zone, kept
    assert len(idents) == len(files)  # unique
    last = etree.fromstring(files[sorted(files)[-1]])
    circle = last.findtext("cap:info/cap:area/cap:circle", namespaces=NS)
    assert circle == f"{lat:.6f},{lon:.6f} 0.750"  # "lat,lon radius_km", not a polygon
    assert last.find("cap:info/cap:area/cap:polygon", NS) is None
    first = etree.fromstring(files[sorted(files)[0]])
    assert first.findall("cap:info/cap:area/cap:polygon", NS)


def test_every_sample_scenarios_cap_files_validate(schema, tmp_path):
    checked = 0
    for name, path in api.sample_scenarios().items():
        scenario = api.load_scenario(path, ["duration=20min"])
        if not scenario.alerting.orders:
            continue
        result = api.run(scenario)
        for fname, text in result.files.items():
            if fname.startswith("cap/"):
                doc = etree.fromstring(text.encode())
                assert schema.validate(doc), (name, fname, schema.error_log.last_error)
                checked += 1
    assert checked >= 5


def test_the_xsd_rejects_what_cap_forbids(schema):
    """The check can fail: a message without its sent time's zone or with an unknown status does not pass."""
    files = _cap_files("x", [{"at": "1min", "zone": "all"}])
    doc = etree.fromstring(next(iter(files.values())))
    doc.find("cap:status", NS).text = "Real"
    assert not schema.validate(doc)
    doc.find("cap:status", NS).text = "Exercise"
    doc.find("cap:sent", NS).text = "2026-01-01T08:01:00"
    assert not schema.validate(doc)


def test_cap_tokens_and_senders():
    assert cap_token("Flood, <Kotka> & harbour") == "Flood_Kotka_harbour"
    assert cap_token("   ") == "scenario"
    assert cap_token("Kotka-ääni") == "Kotka-_ni"
    base = api.load_scenario(api.sample_scenarios()["kotka_district_evacuation"]).model_dump(mode="json")
    base["output"]["cap_sender"] = "command centre, Kotka"
    with pytest.raises(InputError) as err:
        api.scenario_from_dict(base)
    assert err.value.problems[0][0] == "output.cap_sender"
