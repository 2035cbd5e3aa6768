"""Sensing: hazard sensors sample, their readings travel to the command centre, triggers act.

It owns each sensor's reading as measured (``true``), as last received by the command centre
(``reading``, what the timeseries records) and the last few received with their arrival times
(``received``, spoofed ones included: the command centre's picture).
"""

from __future__ import annotations

import collections
from typing import Any

import numpy as np

from sim.scenario.network import SensorConfig

SENSOR_QUANTITY = {"river_gauge": "water_level_m", "sea_gauge": "sea_level_m", "seismometer": "pga_g"}
"""The hazard quantity each sensor type measures."""
READINGS_KEPT = 20
"""Readings per sensor the command centre's picture keeps (the most recent)."""


class Sensing:
    """The sensors of a running model (see the module docstring)."""

    def __init__(self, model: Any):
        self.m = model  # the EvacuationModel (read through, never imported: no cycle)
        self.reading: dict[str, float] = {s.id: np.nan for s in model.sensors}  # as received by the CCC
        self.true: dict[str, float] = {s.id: np.nan for s in model.sensors}  # as measured
        # The last readings the CCC received per sensor (time, value), spoofed ones included.
        self.received: dict[str, collections.deque] = {
            s.id: collections.deque(maxlen=READINGS_KEPT) for s in model.sensors
        }

    def inject(self, sensor_id: str, value: float) -> None:
        """A fake reading in the name of a sensor: it travels like a real one."""
        self.m.cyber.false_readings += 1
        self.m.network.send(
            sensor_id,
            "CCC",
            kind="reading",
            on_delivered=lambda _t: self.arrived(sensor_id, value, spoofed=True),
        )

    def process(self, sensor: SensorConfig):
        """A sensor's sampling loop: measure, maybe lie or stay silent, send to the command centre."""
        quantity = SENSOR_QUANTITY[sensor.type]
        row = self.m._asset_index[sensor.id]
        xy = self.m.asset_table[["x", "y"]].to_numpy(dtype=float)[row : row + 1]
        yield self.m.env.timeout(0)  # let hazards with the same onset act first
        while True:
            t = float(self.m.env.now)
            if self.m.network.operational()[row]:
                value = 0.0  # a gauge's normal level, a seismometer at rest
                for hz in self.m.hazards:
                    seen = hz.observe(quantity, xy, t, sensor.every)
                    if seen is not None and np.isfinite(seen[0]):
                        value = max(value, float(seen[0]))
                self.true[sensor.id] = value
                if self.m.network.compromised[row] and self.m.cyber.lies(row):
                    value *= float(self.m.cyber.lie_factor[row])
                    self.m.cyber.false_readings += 1
                if self.m.cyber.suppresses(sensor.id):
                    yield self.m.env.timeout(sensor.every)
                    continue
                self.m.cyber.sensor_records += 1
                # The reading travels to the command centre; triggers act on what arrives there.
                self.m.network.send(
                    sensor.id,
                    "CCC",
                    kind="reading",
                    on_delivered=lambda _t, sid=sensor.id, v=value: self.arrived(sid, v),
                )
            yield self.m.env.timeout(sensor.every)

    def arrived(self, sensor_id: str, value: float, *, spoofed: bool = False) -> None:
        """A reading reached the command centre: keep it and let the triggers judge it."""
        self.reading[sensor_id] = value
        self.received[sensor_id].append((float(self.m.env.now), float(value)))
        row = self.m._asset_index[sensor_id]
        lying = bool(self.m.network.compromised[row] and self.m.cyber.lies(row))
        self.m.alerting.check_triggers_on(sensor_id, value, false=spoofed or lying)
