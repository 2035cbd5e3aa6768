"""Road state: which road segments are open to walkers and to cars, and why not.

Closures are kept per cause (a flood, an earthquake's bridge damage, an operator), per mode; a road
is open to a mode while no cause closes it. Lifting one cause's closure leaves the others in place.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from sim.agents.citizens import CAR, WALK
from sim.city.model import City
from sim.city.select import select_roads

MODE_CODES = {"walk": WALK, "car": CAR}


class RoadState:
    """Open/closed per road segment and mode (``open[WALK]``, ``open[CAR]``), with causes kept apart.

    Args:
        city: the city whose roads these are.
        log_event: where ``road_closed`` / ``road_reopened`` events go.
        changed: called whenever a road opens or closes for some mode (routes must be recomputed).
    """

    def __init__(
        self,
        city: City,
        *,
        log_event: Callable[..., None],
        changed: Callable[[], None],
        clock: Callable[[], float] = lambda: 0.0,
    ):
        self.city = city
        self._log = log_event
        self._changed = changed
        self._clock = clock
        self._closures: dict[str, np.ndarray] = {}
        self.open: np.ndarray = np.ones((2, city.n_roads), dtype=bool)
        self._closed_since = np.full(city.n_roads, np.nan)  # closed to some mode since then
        self._closed_s = np.zeros(city.n_roads)

    def closed_seconds(self, until: float) -> np.ndarray:
        """Per road: how long it has been closed to walkers or cars (or both) up to ``until``."""
        ongoing = np.where(np.isnan(self._closed_since), 0.0, until - self._closed_since)
        return self._closed_s + np.maximum(ongoing, 0.0)

    def closed_count(self) -> dict[str, int]:
        """How many segments are closed to anyone, to walkers and to cars."""
        return {
            "roads_closed": int((~self.open).any(axis=0).sum()),
            "roads_closed_walk": int((~self.open[WALK]).sum()),
            "roads_closed_car": int((~self.open[CAR]).sum()),
        }

    def select(self, *, ids: Iterable[str | int] = (), names: Iterable[str] = (), area: Any = None) -> np.ndarray:
        """Road rows chosen by id, street name or area (an operator's choice; errors name ``action``)."""
        return select_roads(self.city, ids=list(ids), names=list(names), area=area, field="action")

    def set_closed(self, roads: np.ndarray, *, closed: bool, cause: str, modes: tuple[str, ...]) -> None:
        """Close road rows to ``modes`` for ``cause``, or lift that cause's closure (``closed=False``)."""
        roads = np.asarray(roads, dtype=np.int64)
        if len(roads) == 0:
            return
        mask = self._closures.setdefault(cause, np.zeros((2, self.city.n_roads), dtype=bool))
        for m in modes:
            mask[MODE_CODES[m], roads] = closed
        before = self.open.copy()
        self.open = np.asarray(~np.stack(list(self._closures.values())).any(axis=0))
        changed = before != self.open
        if not changed.any():
            return
        now = float(self._clock())
        was, now_closed = (~before).any(axis=0), (~self.open).any(axis=0)
        ended = was & ~now_closed
        self._closed_s[ended] += now - self._closed_since[ended]
        self._closed_since[ended] = np.nan
        self._closed_since[~was & now_closed] = now
        self._changed()
        road_ids = self.city.roads["road_id"]
        for r in np.nonzero(changed.any(axis=0))[0]:
            which = [name for name, code in MODE_CODES.items() if changed[code, r]]
            kind = "road_reopened" if self.open[MODE_CODES[which[0]], r] else "road_closed"
            self._log(kind, str(road_ids.iat[r]), f"modes={','.join(which)}; cause={cause}")
