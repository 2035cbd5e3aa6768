"""Shelter operations: registration, observed vs true counts, relatives told, overflow, privacy, PFIF."""

from __future__ import annotations

import itertools
import json
import re
import xml.etree.ElementTree as ET

import numpy as np
import pandas as pd
import pytest

from sim.agents.registry import Registry
from sim.api import sample_scenarios
from sim.engine.model import EvacuationModel
from sim.experiments.runner import collect_results, run_scenario
from sim.io.pfif import NOTE_FIELDS, PERSON_FIELDS, PFIF_NS
from sim.io.rundir import write_run
from sim.scenario import load_scenario

PERFECT = {
    "link_types": {
        t: {"latency_s": 0.001, "bandwidth_mbps": 1000, "availability": 1.0, "loss": 0.0}
        for t in ("lan", "fibre", "radio", "satellite", "cellular", "internet", "diode")
    }
}


def _kotka(**parts):
    base = {
        "name": "ops",
        "seed": 4,
        "duration": "75min",
        "population": {"count": 3000},
        "alerting": {
            "orders": [{"at": 0, "zone": "all"}],
            "channels": [{"type": "ideal", "coverage": 1.0}],
            "departure_delay": {"distribution": "uniform", "low": 0, "high": 600},
        },
        "network": PERFECT,
        "shelter_operations": {"report_every": 60},
        "output": {"record_every": 60},
    }
    base.update(parts)
    return load_scenario(base)


def test_registered_never_exceeds_present_nor_present_capacity():
    m = EvacuationModel(_kotka(population={"count": 8000}))
    m.run()
    ts = m.timeseries()
    for s in m.shelters:
        present = ts[f"shelter:{s.shelter_id}"]
        registered = ts[f"registered:{s.shelter_id}"]
        assert (registered <= present).all(), s.shelter_id
        assert (present <= s.capacity).all(), s.shelter_id
    assert ts["registered"].iloc[-1] > 0
    assert (ts["registered"] < ts["sheltered"]).any()  # queues at the desks do form


def test_desks_serve_first_come_first_served_at_their_rate():
    reg = Registry(6, service_s=(20.0, 45.0, 180.0), relatives_delay_s=np.zeros(6))
    reg.add_shelter(100, 1.0)  # one desk
    idx = np.arange(6)
    reg.enqueue(
        idx,
        np.zeros(6, dtype=np.int64),
        np.array([0.0, 0, 0, 100, 500, 500]),
        digital_id=np.array([True, True, False, True, True, False]),
        has_phone=np.array([True, True, True, True, True, False]),
        online=np.array([True]),
    )
    # Three at 0 s back to back (20 s, 20 s, 45 s by phone: the desk is free again at 85 s); the
    # one at 100 s finds it free; two at 500 s: 20 s by digital ID, then 180 s on paper (no phone).
    assert list(reg.reg_start) == [0.0, 20.0, 40.0, 100.0, 500.0, 520.0]
    assert list(reg.reg_t) == [20.0, 40.0, 85.0, 120.0, 520.0, 700.0]
    assert list(reg.method) == [0, 0, 1, 0, 0, 2]


def test_observed_count_is_the_true_count_one_report_interval_later():
    m = EvacuationModel(_kotka())
    m.run()
    ts = m.timeseries().set_index("t_s")
    times = ts.index.to_numpy()
    checked = 0
    for s in m.shelters:
        true = ts[f"shelter:{s.shelter_id}"]
        seen = ts[f"observed:{s.shelter_id}"]
        for a, b in itertools.pairwise(times):
            assert seen.loc[b] == true.loc[a], (s.shelter_id, b)
            checked += int(true.loc[a] > 0)
    assert checked > 50


def test_observed_count_freezes_when_the_path_is_cut():
    scn = _kotka(hazards=[{"type": "link_cut", "id": "cut", "at": "30min", "types": ["fibre", "radio", "satellite"]}])
    m = EvacuationModel(scn)
    m.run()
    ts = m.timeseries().set_index("t_s")
    after = ts.loc[1860.0:]
    moved = 0
    for s in m.shelters:
        seen = after[f"observed:{s.shelter_id}"]
        assert seen.nunique() == 1, s.shelter_id  # the last report before the cut
        assert seen.iloc[0] == ts.loc[1740.0, f"shelter:{s.shelter_id}"]
        moved += int(after[f"shelter:{s.shelter_id}"].iloc[-1] != seen.iloc[0])
    assert moved > 0  # the true counts went on changing
    # Paper registration while the registry is unreachable.
    reg = m.registrations()
    late = reg[reg["arrival_t"] > 1900]
    assert len(late) > 0
    assert (late["method"] == "manual").all()
    assert not np.isfinite(late["in_registry_t"]).any()


def test_with_every_service_working_every_sheltered_citizen_is_reported_safe():
    m = EvacuationModel(_kotka(duration="2h"))
    m.run()
    sheltered = m.pop.state == 2
    assert sheltered.sum() > 2000
    assert np.isfinite(m.ops.registry.notified_t[sheltered]).all()
    ts = m.timeseries()
    assert ts["relatives_notified"].is_monotonic_increasing
    assert ts["unaccounted"].iloc[-1] == int((np.isfinite(m.pop.ordered_t) & ~sheltered).sum())
    result = collect_results(m, wall_time_s=0.0)
    assert result.summary["relatives_notified_fraction"] == 1.0


def test_overflow_policy_opens_reserves_on_the_observed_count():
    scn = load_scenario(sample_scenarios()["kotka_shelter_operations"], ["duration=75min"])
    m = EvacuationModel(scn)
    m.run()
    ev = m.events()
    policy = ev[ev["kind"] == "overflow_policy"]
    assert len(policy) >= 1
    assert list(policy["subject"]) == ["reserve-hall-west", "reserve-hall-east"][: len(policy)]  # in order
    opened = ev[(ev["kind"] == "shelter_opened") & (ev["cause"] == "overflow-policy")]
    assert list(opened["t_s"]) == list(policy["t_s"])
    for detail in policy["detail"]:
        fields = json.loads(detail)
        assert fields["observed"] >= 0.85 * fields["capacity"]
    turned = ev[ev["kind"] == "shelter_turned_away"]
    assert turned["detail"].map(lambda d: json.loads(d)["reason"]).isin(["full", "closed", "damaged"]).all()
    assert (turned["count"] > 0).all()


def test_district_counts_sum_to_the_population_at_every_time():
    m = EvacuationModel(_kotka(duration="20min"))
    m.run()
    d = m.district_counts()
    totals = d.groupby("t_s")["count"].sum()
    assert (totals == m.pop.n).all()
    assert set(d["district"]) <= set(m.city.districts["name"])
    assert len(totals) == len(m.timeseries())


PSEUDONYM = re.compile(r"^[RT][0-9a-f]{16}$")


@pytest.mark.parametrize("name", sorted(sample_scenarios()))
def test_no_output_of_any_sample_holds_a_direct_identifier(name, tmp_path):
    overrides = ["duration=40min"]
    if "synthetic" in name:
        overrides.append("city.synthetic.population=5000")
    scn = load_scenario(sample_scenarios()[name], overrides)
    model = EvacuationModel(scn)
    model.run()
    out = write_run(collect_results(model, wall_time_s=0.0), tmp_path / "run")
    contacts = {int(c) for c in model.ops.personal.contact if c > 0}
    contact_text = {str(c) for c in list(contacts)[:500]}
    for path in out.rglob("*"):
        if not path.is_file():
            continue
        if path.suffix == ".parquet":
            table = pd.read_parquet(path)
            for col in table.columns:
                assert col.lower() not in {"contact", "health", "name_of_person", "citizen_index", "phone"}, path
                values = table[col]
                if col in ("citizen", "person"):
                    assert values.map(lambda v: bool(PSEUDONYM.match(str(v)))).all(), (path, col)
                if values.dtype.kind in "iu":
                    assert not values.isin(list(contacts)).any(), (path, col)
                if values.dtype == object:
                    strings = values[values.map(lambda v: isinstance(v, str))]
                    assert not strings.isin(contact_text).any(), (path, col)
        else:
            text = path.read_text(errors="ignore")
            assert not any(c in text for c in contact_text), path


def test_pfif_export_has_the_pfif_1_4_structure(tmp_path):
    scn = load_scenario(sample_scenarios()["kotka_shelter_operations"], ["duration=40min"])
    result = run_scenario(scn)
    out = write_run(result, tmp_path / "run")
    root = ET.parse(out / "pfif.xml").getroot()
    assert root.tag == f"{{{PFIF_NS}}}pfif"
    persons = list(root)
    assert len(persons) == result.manifest["city"]["pfif_persons"] > 100
    statuses = {"information_sought", "is_note_author", "believed_alive", "believed_missing", "believed_dead"}
    for person in persons:
        assert person.tag == f"{{{PFIF_NS}}}person"
        tags = [c.tag.split("}")[1] for c in person]
        fields = [t for t in tags if t != "note"]
        assert fields == [f for f in PERSON_FIELDS if f in fields]  # PFIF order
        assert {"person_record_id", "source_date", "full_name"} <= set(fields)
        assert tags[-1] == "note"
        assert PSEUDONYM.match(person.findtext(f"{{{PFIF_NS}}}full_name"))
        note = person.find(f"{{{PFIF_NS}}}note")
        ntags = [c.tag.split("}")[1] for c in note]
        assert ntags == [f for f in NOTE_FIELDS if f in ntags]
        assert note.findtext(f"{{{PFIF_NS}}}person_record_id") == person.findtext(f"{{{PFIF_NS}}}person_record_id")
        assert note.findtext(f"{{{PFIF_NS}}}status") in statuses
        age = person.findtext(f"{{{PFIF_NS}}}age")
        assert age is None or re.match(r"^\d+(-\d+)?$", age)


def test_registrations_above_the_cap_are_a_uniform_sample_named_in_the_manifest(tmp_path):
    scn = load_scenario(sample_scenarios()["kotka_shelter_operations"], ["duration=40min"])
    model = EvacuationModel(scn)
    model.run()
    full = model.registrations()
    assert len(full) > 400
    cap = len(full) // 4
    capped = load_scenario(
        sample_scenarios()["kotka_shelter_operations"], ["duration=40min", f"privacy.registrations_max_records={cap}"]
    )
    result = run_scenario(capped)
    out = write_run(result, tmp_path / "run")
    table = pd.read_parquet(out / "registrations.parquet")
    manifest = json.loads((out / "manifest.json").read_text())["city"]
    assert len(table) == manifest["registrations_rows"] == cap
    assert manifest["registrations_total"] == len(full)
    # rows of the full register, unchanged, in its order, none twice
    where = full.reset_index().set_index("person").loc[table["person"], "index"].to_numpy()
    assert (np.diff(where) > 0).all()
    pd.testing.assert_frame_equal(
        table.reset_index(drop=True), full.iloc[where].reset_index(drop=True), check_categorical=False
    )
    # spread over the whole register, not its head
    assert where.max() > 0.9 * len(full)
    assert where.min() < 0.1 * len(full)
    # the PFIF export is drawn from the whole register, not the sample
    assert manifest["pfif_persons"] == int(np.isfinite(full["in_registry_t"]).sum())
    # same seed, same sample
    again = run_scenario(capped).tables["registrations"]
    assert again["person"].tolist() == table["person"].tolist()


def test_sample_positions_keep_each_row_with_equal_chance():
    from sim.experiments.runner import sample_positions

    assert sample_positions(1000, 1000, seed=1).tolist() == list(range(1000))  # under the cap: every row
    kept = np.zeros(1000)
    for seed in range(400):
        rows = sample_positions(1000, 100, seed=seed)
        assert len(set(rows)) == 100
        assert (np.diff(rows) > 0).all()
        kept[rows] += 1
    # 400 draws of 100 of 1000: each row kept 40 times on average, binomial sd about 6
    assert kept.min() > 15
    assert kept.max() < 65
    assert abs(kept[:500].sum() - kept[500:].sum()) < 0.05 * kept.sum()
    assert sample_positions(1000, 100, seed=1).tolist() != sample_positions(1000, 100, seed=2).tolist()


def test_relatives_are_told_at_their_due_time_or_when_the_service_is_back():
    # The definition: at each notify(t0, t1) with the service up, everyone in the registry not yet
    # told whose due time (registry entry + their delay) is before t1 is told at max(due, t0).
    rng = np.random.default_rng(11)
    n = 3000
    delay = rng.choice([0.0, 60.0, 600.0, 3600.0, np.inf], size=n, p=[0.2, 0.3, 0.3, 0.15, 0.05])
    reg = Registry(n, service_s=(20.0, 45.0, 180.0), relatives_delay_s=delay)
    told_t = np.full(n, np.inf)
    waiting = np.zeros(0, dtype=np.int64)
    order = rng.permutation(n)
    pos = 0
    for step in range(400):
        t0, t1 = step * 10.0, step * 10.0 + 10.0
        k = int(rng.integers(0, 30))
        new = order[pos : pos + k]
        pos += k
        reg.entry_t[new] = t0 + rng.choice([0.0, 3.0, 9.5], size=len(new))  # ties in the due times
        reg._waiting.append(new)
        waiting = np.concatenate([waiting, new])
        up = bool(step % 50 < 35)  # the service goes down now and then
        told = reg.notify(t0, t1, service_up=up)
        if up:
            due_t = reg.entry_t[waiting] + delay[waiting]
            go = due_t < t1
            told_t[waiting[go]] = np.maximum(due_t[go], t0)
            assert told == int(go.sum())
            waiting = waiting[~go]
        else:
            assert told == 0
        np.testing.assert_array_equal(reg.notified_t, told_t)
    assert np.isfinite(told_t).sum() > 1000
    assert len(waiting) > 0
