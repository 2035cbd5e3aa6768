"""How much memory a scenario's run needs at its peak, and a warning when this machine has less.

The estimate is the measured footprint of issue 20 (``docs/performance.md``, "Memory per citizen
and per road segment"), rounded up: 0.75 GB for the interpreter, the libraries, the
compiled kernels and a large city's flood grid; 800 bytes per citizen (270 once built, the rest
the run's record, its outputs and temporaries); 1.4 kB per road segment. Against the measured
peaks of the command line (``benchmarks/bench_memory.py``, the million's flood and DDoS) it is
1.1 to 1.2 times the peak from 100,000 to 5,000,000 citizens, and more for small runs: rather a
warning too many than one too few.

It is known before the city is built when the scenario says how many people there are (a
synthetic city's ``population``, or ``population.count``); a synthetic city's road segments
follow from its area and block size. Real cities without ``population.count`` are the size
of their data (tens of thousands): no estimate, no warning.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sim.scenario.schema import Scenario, SyntheticCityConfig

BASE_BYTES = 750_000_000
PER_CITIZEN_BYTES = 800
PER_SEGMENT_BYTES = 1_400


@dataclass(frozen=True)
class RunSize:
    """What a run holds, as far as its scenario tells: ``field`` is where the citizens come from."""

    field: str
    citizens: int
    road_segments: int

    @property
    def peak_bytes(self) -> int:
        """The estimated peak memory of ``python -m sim run`` on this scenario."""
        return peak_bytes(self.citizens, self.road_segments)


def peak_bytes(citizens: int, road_segments: int) -> int:
    """The estimated peak memory of a run of ``citizens`` on ``road_segments`` (the module docstring)."""
    return BASE_BYTES + PER_CITIZEN_BYTES * citizens + PER_SEGMENT_BYTES * road_segments


SIZING = ("population.count", "city.synthetic.population", "city.synthetic.area_km2", "city.synthetic.block_m")
"""The scenario fields a run's size comes from (a sweep that varies one has points of different sizes)."""


def street_grid(area_km2: float, block_m: float) -> tuple[float, int]:
    """A synthetic city's square: its side (m) and junctions per side (``sim.city.synthetic`` lays them so)."""
    side = math.sqrt(area_km2) * 1000.0
    return side, max(3, round(side / block_m) + 1)


def synthetic_segments(area_km2: float, block_m: float) -> int:
    """The road segments of a synthetic city's full street grid (a few are dropped for its water)."""
    _, n = street_grid(area_km2, block_m)
    return 2 * n * (n - 1)


def size_of(values: Mapping[str, Any]) -> RunSize | None:
    """The run's size from the :data:`SIZING` fields' values (None or absent: not given), or None if unknown."""
    population = values.get("city.synthetic.population")
    segments = 0
    if population is not None:  # a synthetic city
        segments = synthetic_segments(float(values["city.synthetic.area_km2"]), float(values["city.synthetic.block_m"]))
    if values.get("population.count") is not None:
        return RunSize("population.count", int(values["population.count"]), segments)
    if population is not None:
        return RunSize("city.synthetic.population", int(population), segments)
    return None


def sizing_values(scenario: Scenario) -> dict[str, Any]:
    """The :data:`SIZING` fields of a scenario (None where it has no synthetic city or no count)."""
    synthetic: SyntheticCityConfig | None = scenario.city.synthetic
    return {
        "population.count": scenario.population.count,
        "city.synthetic.population": synthetic.population if synthetic else None,
        "city.synthetic.area_km2": synthetic.area_km2 if synthetic else None,
        "city.synthetic.block_m": synthetic.block_m if synthetic else None,
    }


def run_size(scenario: Scenario) -> RunSize | None:
    """The run's size from the scenario alone, or None when only its city data can tell."""
    return size_of(sizing_values(scenario))


def gb(n_bytes: float) -> str:
    """Bytes as GB with one decimal (``4.6 GB``)."""
    return f"{n_bytes / 1e9:.1f} GB"


def memory_warning(scenario: Scenario, available: int | None, *, processes: int = 1) -> tuple[str, str] | None:
    """``(field, message)`` when ``processes`` runs of ``scenario`` at once need more than ``available`` bytes.

    ``available``: what the machine has now (:func:`sim.core.machine.available_memory`; None:
    unknown, nothing is said). ``processes``: runs side by side (a sweep's workers).
    """
    size = run_size(scenario)
    if size is None or available is None:
        return None
    need = size.peak_bytes * processes
    if need <= available:
        return None
    what = f"{size.citizens:,} citizens" + (
        f" and about {size.road_segments:,} road segments" if size.road_segments else ""
    )
    runs = f"{processes} runs side by side of {what} need" if processes > 1 else f"a run of {what} needs"
    text = f"{runs} about {gb(need)} of memory at the peak; this machine has {gb(available)} available now"
    return size.field, f"{text} (docs/performance.md: memory per citizen)"
