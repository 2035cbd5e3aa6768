"""One public surface to drive a running simulation: the clock, operator actions, two pictures.

Exercises, notebooks and the app use only this class (exported as ``sim.api.Simulation``):

    sim = Simulation(scenario)
    sim.advance_to(600)
    sim.issue_order("C1", channels=["siren"])
    sim.open_shelter("hall-9", location=(26.94, 60.47), capacity=400)
    truth, seen = sim.truth(), sim.command_view()
    result = sim.result()

Actions take effect at the current simulated time. ``truth()`` is the ground truth (for a
controller); ``command_view()`` is what the command centre knows: head counts as last reported,
sensor readings as received (spoofed ones included), services as monitored, orders as sent.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from sim.agents.citizens import STATE_NAMES
from sim.core.errors import InputError
from sim.core.records import RunResult
from sim.engine.model import EvacuationModel
from sim.experiments.runner import collect_results
from sim.scenario.cyber import AttackConfig
from sim.scenario.hazards import HazardConfig
from sim.scenario.schema import Scenario
from sim.scenario.types import Area


def _validated(kind: Any, config: Any, field: str) -> Any:
    """A mapping validated as ``kind`` (a config type of the scenario); anything else as it is."""
    from pydantic import TypeAdapter, ValidationError

    from sim.scenario.loader import validation_problems

    if not isinstance(config, dict):
        return config
    try:
        return TypeAdapter(kind).validate_python(config)
    except ValidationError as exc:
        raise InputError(validation_problems(exc)).prefixed(field) from None


class Simulation:
    """A handle on a running simulation (see the module docstring)."""

    def __init__(self, scenario: Scenario, *, figures_only: bool = False):
        self._started = time.perf_counter()
        self._figures_only = figures_only  # True: result() has the summary and timeseries only
        self._model = EvacuationModel(scenario, record_tables=not figures_only)
        self._result: RunResult | None = None

    # -- clock ------------------------------------------------------------------------------

    @property
    def now(self) -> float:
        """Simulated seconds since the start."""
        return self._model.now

    @property
    def duration(self) -> float:
        """The scenario's simulated time, s."""
        return self._model.duration

    @property
    def finished(self) -> bool:
        """Whether the simulation has reached its end."""
        return self._model.now >= self._model.duration

    def advance_to(self, t_s: float, *, progress: Callable[[float, float], None] | None = None) -> None:
        """Run up to ``t_s`` (at most the scenario's duration)."""
        self._check_open()
        self._model.advance_to(t_s, progress=progress)

    def step(self) -> None:
        """Advance by one movement step."""
        self.advance_to(self.now + self._model.step_s)

    # -- operator actions --------------------------------------------------------------------

    def issue_order(self, zone: Any = "all", *, channels: list[str] | None = None, label: str = "operator") -> int:
        """Order ``zone`` out now (``all``, a district, districts or an area); returns citizens newly ordered."""
        self._check_open()
        return self._model.issue_order(zone, channels=channels, label=label)

    def open_shelter(
        self, shelter_id: str, *, capacity: int | None = None, location: tuple[float, float] | None = None
    ) -> None:
        """Open a shelter now: a closed one, or a new one at ``location`` [lon, lat] with ``capacity``."""
        self._check_open()
        self._model.open_shelter(shelter_id, capacity=capacity, location=location)

    def close_shelter(self, shelter_id: str) -> None:
        """Close a shelter now (people inside stay)."""
        self._check_open()
        self._model.close_shelter(shelter_id)

    def close_road(self, *, ids: Iterable[str | int] = (), names: Iterable[str] = (), area: Any = None) -> int:
        """Close roads by id, street name or area now; returns how many."""
        self._check_open()
        return self._model.close_road(ids=ids, names=names, area=_validated(Area, area, "area"))

    def reopen_road(self, *, ids: Iterable[str | int] = (), names: Iterable[str] = (), area: Any = None) -> int:
        """Reopen roads an operator closed; returns how many were selected."""
        self._check_open()
        return self._model.reopen_road(ids=ids, names=names, area=_validated(Area, area, "area"))

    def isolate_device(self, asset_id: str) -> None:
        """Cut a device off the network now."""
        self._check_open()
        self._model.isolate_device(asset_id)

    def inject_hazard(self, config: Any) -> None:
        """Start a hazard now (a mapping as in the scenario's ``hazards`` list, or its config)."""
        self._check_open()
        cfg = _validated(HazardConfig, {"at": self.now, **config} if isinstance(config, dict) else config, "hazard")
        self._model.inject_hazard(cfg)

    def inject_attack(self, config: Any) -> None:
        """Start an attack now (a mapping as in the scenario's ``cyber`` list, or its config)."""
        self._check_open()
        cfg = _validated(AttackConfig, {"at": self.now, **config} if isinstance(config, dict) else config, "attack")
        self._model.inject_attack(cfg)

    # -- the two pictures --------------------------------------------------------------------

    def truth(self) -> dict[str, Any]:
        """The ground truth now: people by state, every shelter's true count, services, closures."""
        m = self._model
        return {
            "t_s": self.now,
            "people": m.pop.state_counts(),
            "shelters": {
                s.shelter_id: {
                    "name": s.name,
                    "present": int(s.occupancy),
                    "capacity": int(s.capacity),
                    "open": bool(s.is_open),
                    "lon": round(float(s.lon), 6),
                    "lat": round(float(s.lat), 6),
                }
                for s in m.shelters
            },
            "services": {name: bool(up) for name, up in m.network.service_up.items()},
            "roads_closed": m.roads.closed_count()["roads_closed"],
            "devices_compromised": int(m.network.compromised.sum()),
            "sensors": {k: _finite(v) for k, v in m.sensing.true.items()},
        }

    def command_view(self) -> dict[str, Any]:
        """What the command centre knows now: reported counts, received readings, monitored services, orders.

        ``sensors`` holds each sensor's last reading received, ``readings`` the last few with their
        arrival times (a fake reading is there as the command centre got it).
        """
        m = self._model
        orders = [
            {"t_s": float(t), "by": subject, "detail": detail}
            for t, kind, subject, detail in m.recorder.raw_events
            if kind == "order_issued"
        ]
        return {
            "t_s": self.now,
            "shelters": {
                s.shelter_id: {
                    "name": s.name,
                    "reported": int(m.ops.observed[row]),
                    "reported_at_s": _finite(m.ops.observed_t[row]),
                    "capacity": int(s.capacity),
                }
                for row, s in enumerate(m.shelters)
            },
            "sensors": {k: _finite(v) for k, v in m.sensing.reading.items()},
            "readings": {k: [(t, v) for t, v in q] for k, q in m.sensing.received.items()},
            "services": {name: bool(up) for name, up in m.network.service_up.items()},
            "orders": orders,
            "warned_reported": int((m.pop.warned_t <= self.now).sum()),
            "registered": int((m.ops.registry.entry_t <= self.now).sum()),
            "location": m.locating.command_view(self.now),
        }

    # -- the end -----------------------------------------------------------------------------

    def result(self) -> RunResult:
        """Run to the end (if not there yet) and return every table and KPI; the handle is then closed."""
        if self._result is None:
            self._model.run()
            wall = time.perf_counter() - self._started
            self._result = collect_results(self._model, wall_time_s=wall, figures_only=self._figures_only)
        return self._result

    def _check_open(self) -> None:
        if self._result is not None:
            raise InputError.single("action", "the simulation has ended: result() was called")


def _finite(v: float) -> float | None:
    return float(v) if np.isfinite(v) else None


__all__ = ["STATE_NAMES", "Simulation"]
