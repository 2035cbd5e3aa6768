"""Clock time beside simulated time: the `time` column QGIS and kepler.gl need to play a run."""

from __future__ import annotations

import pandas as pd

from sim import api


def test_timeseries_events_and_tracks_carry_the_clock_time_of_output_start_time(tmp_path):
    scenario = api.load_scenario(
        api.sample_scenarios()["kotka_district_evacuation"],
        ["duration=20min", "output.start_time=2026-03-14T13:30:00+02:00"],
    )
    out = api.write_run(api.run(scenario), tmp_path / "run")
    for name in ("timeseries", "events", "tracks"):
        table = pd.read_parquet(out / f"{name}.parquet")
        cols = list(table.columns)
        assert cols[cols.index("t_s") + 1] == "time", name
        start = pd.Timestamp("2026-03-14T13:30:00+02:00")
        expected = start + pd.to_timedelta(table["t_s"], unit="s")
        assert (table["time"] == expected).all(), name
        assert str(table["time"].dt.tz) in ("UTC+02:00", "pytz.FixedOffset(120)", "+02:00"), table["time"].dt.tz
    first = pd.read_parquet(out / "timeseries.parquet")["time"].iloc[1]
    assert first.isoformat() == "2026-03-14T13:31:00+02:00"
