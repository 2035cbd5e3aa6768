"""The sampled tracks: positions kept from the last sample are those projected afresh."""

from __future__ import annotations

import pandas as pd

from sim.engine.model import EvacuationModel
from sim.engine.recorder import Recorder
from sim.scenario import load_scenario

SMALL = [
    "city.synthetic.population=4000",
    "city.synthetic.area_km2=4",
    "duration=40min",
    "output.tracks.every=60",
    "output.tracks.max_citizens=400",
]


def tracks() -> pd.DataFrame:
    model = EvacuationModel(load_scenario("scenarios/synthetic_large_city.yaml", SMALL))
    model.run()
    return model.recorder.tracks()


def test_kept_positions_have_the_bits_of_positions_projected_afresh(monkeypatch):
    kept = tracks()
    with monkeypatch.context() as m:
        m.setattr(Recorder, "_lonlat", lambda self, xy: self.m.city.lonlat_of_xy(xy))
        afresh = tracks()
    pd.testing.assert_frame_equal(kept, afresh, check_exact=True)
    # Some stood still and some moved: both ways were taken.
    places = kept.groupby("citizen")[["lon", "lat"]].nunique().max(axis=1)
    assert (places == 1).any()
    assert (places > 5).any()
