"""The sampled tracks: positions kept from the last sample, projected all at once, are those projected afresh."""

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


def tracks(*, ask_at: float | None = None) -> pd.DataFrame:
    model = EvacuationModel(load_scenario("scenarios/synthetic_large_city.yaml", SMALL))
    if ask_at is not None:  # asked for part way (the app, an exercise): the rest are projected later
        model.advance_to(ask_at)
        assert len(model.recorder.tracks()) > 0
    model.run()
    return model.recorder.tracks()


def _every_sample_on_its_own(self: Recorder) -> None:
    """The definition: each sample's positions projected by themselves, whoever moved."""
    for frame in self.track_frames[self._projected :]:
        frame.pop("moved")
        ll = self.m.city.lonlat_of_xy(frame.pop("xy"))
        frame["lon"], frame["lat"] = ll[:, 0], ll[:, 1]
    self._projected = len(self.track_frames)


def test_kept_positions_have_the_bits_of_positions_projected_afresh(monkeypatch):
    kept = tracks()
    with monkeypatch.context() as m:
        m.setattr(Recorder, "_project", _every_sample_on_its_own)
        afresh = tracks()
    pd.testing.assert_frame_equal(kept, afresh, check_exact=True)
    # Some stood still and some moved: both ways were taken.
    places = kept.groupby("citizen")[["lon", "lat"]].nunique().max(axis=1)
    assert (places == 1).any()
    assert (places > 5).any()


def test_tracks_asked_for_part_way_are_the_same_at_the_end():
    pd.testing.assert_frame_equal(tracks(ask_at=17 * 60), tracks(), check_exact=True)
