"""Pseudonyms that protect: a secret key, one space per scenario and purpose, nobody seen at home.

The attack these tests replay: the seed is printed by every run, so anything derived from it
alone can be recomputed by anyone who has the outputs (last round: 10,858 of 10,858 tracks
pseudonyms mapped back to citizen rows). And a pseudonym shared by tracks (home at t = 0) and
registrations (shelter, age band) joins a home to a person.
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.core.errors import InputError
from sim.core.privacy import KEY_ENV, installation_key, key_file, pseudonyms, run_key
from sim.engine.model import EvacuationModel
from sim.experiments.runner import collect_results
from sim.scenario import load_scenario
from tests.test_scenarios import sample_scenarios

ROOT = Path(__file__).resolve().parents[2]
SHORT = ["duration=40min"]


def _run(overrides=(), *, secret: bytes = b"k" * 32):
    scn = load_scenario(sample_scenarios()["kotka_shelter_operations"], [*SHORT, *overrides])
    model = EvacuationModel(scn, pseudonym_secret=secret)
    model.run()
    return model, collect_results(model, wall_time_s=0.0)


@pytest.fixture(scope="module")
def kotka():
    return _run()


def test_the_key_file_is_made_once_private_and_reused(tmp_path, monkeypatch):
    monkeypatch.delenv(KEY_ENV)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "cfg"))
    first = installation_key()
    path = key_file()
    assert path == tmp_path / "cfg" / "safecity" / "pseudonym.key"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert installation_key() == first
    assert len(first) == 32
    path.unlink()
    assert installation_key() != first  # a new installation, a new secret


def test_a_team_key_comes_from_the_environment(monkeypatch):
    monkeypatch.setenv(KEY_ENV, "our team's shared secret")
    assert installation_key() == installation_key()
    monkeypatch.setenv(KEY_ENV, "short")
    with pytest.raises(InputError, match=f"{KEY_ENV}: must be at least 16 characters"):
        installation_key()


def test_the_seed_alone_gives_nothing_away(kotka):
    model, result = kotka
    tracks = result.tracks
    # The old derivation (a stream of the seed) and every plain function of the row index fail.
    seed_key = model.streams.fresh("privacy").bytes(16)
    for guess_key in (seed_key, b"\0" * 32, run_key(b"\0" * 32, scenario=model.scenario.name, purpose="tracks")):
        for prefix in ("T", "P"):
            guessed = set(pseudonyms(np.arange(model.pop.n), key=guess_key, prefix=prefix))
            assert guessed.isdisjoint(set(tracks["citizen"]))
    # Another secret, same scenario and seed: the same people under entirely new names.
    _, other = _run(secret=b"q" * 32)
    assert set(other.tracks["citizen"]).isdisjoint(set(tracks["citizen"]))
    pd.testing.assert_frame_equal(other.tracks.drop(columns="citizen"), tracks.drop(columns="citizen"))
    # The same secret: bit-identical.
    _, again = _run()
    pd.testing.assert_frame_equal(again.tracks, tracks)
    pd.testing.assert_frame_equal(again.tables["registrations"], result.tables["registrations"])


def test_pseudonyms_differ_between_scenarios(kotka):
    _, result = kotka
    _, renamed = _run(["name=another-exercise"])
    assert set(renamed.tracks["citizen"]).isdisjoint(set(result.tracks["citizen"]))
    assert set(renamed.tables["registrations"]["person"]).isdisjoint(set(result.tables["registrations"]["person"]))


def test_no_join_links_a_home_to_a_registration(kotka):
    model, result = kotka
    tracks, reg = result.tracks, result.tables["registrations"]
    assert len(reg) > 100
    assert set(tracks["citizen"]).isdisjoint(set(reg["person"]))
    pfif = ET.fromstring(result.files["pfif.xml"].text())
    pfif_text = " ".join(el.text or "" for el in pfif.iter())
    assert not any(c in pfif_text for c in set(tracks["citizen"]))

    # Nobody is shown at home: before leaving, a tracked citizen stands at the district centre.
    city = model.city
    centres = city.lonlat_of_xy(
        np.column_stack([city.districts.geometry.centroid.x, city.districts.geometry.centroid.y])
    )
    homes = city.lonlat_of_xy(city.node_xy[np.unique(model.pop.home_node)])
    at_home = tracks[tracks["state"].isin(["at_home", "trapped"])]
    assert len(at_home) > 0
    pts = at_home[["lon", "lat"]].to_numpy()
    to_centre = np.abs(pts[:, None, :] - centres[None, :, :]).max(axis=2).min(axis=1)
    assert (to_centre < 1e-9).all()
    to_home = np.abs(pts[:, None, :] - homes[None, :, :]).max(axis=2).min(axis=1)
    assert (to_home > 1e-7).mean() > 0.99  # a home that happens to sit on a centre is the rare exception


def test_linking_tracks_to_the_registry_is_an_explicit_choice():
    _, linked = _run(["privacy.link_tracks_to_registry=true"])
    assert set(linked.tracks["citizen"]) & set(linked.tables["registrations"]["person"])


def test_the_secret_never_reaches_an_output(tmp_path, monkeypatch):
    secret = "a team secret that must stay secret"
    scenario = load_scenario(sample_scenarios()["kotka_district_evacuation"], SHORT)
    path = tmp_path / "s.yaml"
    from sim.scenario import dump_yaml

    path.write_text(dump_yaml(scenario))
    env = {**os.environ, KEY_ENV: secret, "PYTHONPATH": str(ROOT)}
    res = subprocess.run(
        [sys.executable, "-m", "sim", "run", str(path), "--out", str(tmp_path / "run"), "--quiet"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert res.returncode == 0, res.stderr
    monkeypatch.setenv(KEY_ENV, secret)
    derived = installation_key()
    name = scenario.name
    keys = [derived, *(run_key(derived, scenario=name, purpose=p) for p in ("tracks", "registry"))]
    files = [f for f in (tmp_path / "run").rglob("*") if f.is_file()]
    assert len(files) > 10
    for f in files:
        data = f.read_bytes()
        assert b"team secret" not in data, f
        for key in keys:
            assert key not in data, f
            assert key.hex().encode() not in data, f


def test_pseudonyms_are_keyed_blake2b_of_the_row():
    """The definition, row by row: a hash keyed afresh for each row gives the very same names."""
    import hashlib

    key = bytes(range(32))
    rows = np.array([0, 1, 7, 255, 256, 65_537, 999_999, 2**40 + 3], dtype=np.int64)
    expect = ["R" + hashlib.blake2b(int(i).to_bytes(8, "little"), key=key, digest_size=8).hexdigest() for i in rows]
    got = pseudonyms(rows, key=key, prefix="R")
    assert got.dtype == object
    assert got.tolist() == expect
    assert pseudonyms(rows[::-1], key=key, prefix="R").tolist() == expect[::-1]  # no state carried over
    assert pseudonyms(np.zeros(0, dtype=np.int64), key=key).shape == (0,)
    assert pseudonyms([3], key=key + b"x").tolist() != pseudonyms([3], key=key).tolist()
    with pytest.raises(OverflowError):
        pseudonyms(np.array([-1]), key=key)  # not a row: refused, never wrapped to another row
