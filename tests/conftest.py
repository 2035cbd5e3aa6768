"""Shared fixtures: tiny cities written as real GeoJSON layers, and helpers to run them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from pyproj import Transformer

from sim.scenario import load_scenario

# Every test run uses one fixed team key: reproducible pseudonyms, and no key file is made in
# the home folder. tests/io/test_privacy.py tests the key file itself.
os.environ["SAFECITY_PSEUDONYM_KEY"] = "safecity-test-suite-key"

# A local metric frame: metres east/north of a point in Kotka, in UTM zone 35N.
_ORIGIN_LONLAT = (26.95, 60.52)
_TO_UTM = Transformer.from_crs("EPSG:4326", "EPSG:32635", always_xy=True)
_TO_LL = Transformer.from_crs("EPSG:32635", "EPSG:4326", always_xy=True)
_OX, _OY = _TO_UTM.transform(*_ORIGIN_LONLAT)


def lonlat(x_m: float, y_m: float) -> list[float]:
    """Longitude/latitude of a point ``x_m`` east and ``y_m`` north of the test origin."""
    lon, lat = _TO_LL.transform(_OX + x_m, _OY + y_m)
    return [float(lon), float(lat)]


def _fc(features: list[dict[str, Any]]) -> dict[str, Any]:
    return {"type": "FeatureCollection", "features": features}


class LayerCity:
    """Builds a layer-form city in a folder: roads as metre polylines, shelters, people."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.roads: list[dict[str, Any]] = []
        self.shelters: list[dict[str, Any]] = []
        self.people: list[dict[str, Any]] = []

    def road(self, *points_m: Sequence[float], **props: Any) -> LayerCity:
        """Add a road through metre points, with properties (id, capacity_pph, width_m...)."""
        coords = [lonlat(*p) for p in points_m]
        self.roads.append(
            {"type": "Feature", "properties": props, "geometry": {"type": "LineString", "coordinates": coords}}
        )
        return self

    def shelter(self, sid: str, at_m: Sequence[float], capacity: int) -> LayerCity:
        """Add a shelter at a metre point."""
        self.shelters.append(
            {
                "type": "Feature",
                "properties": {"id": sid, "capacity": capacity},
                "geometry": {"type": "Point", "coordinates": lonlat(*at_m)},
            }
        )
        return self

    def people_at(self, at_m: Sequence[float], count: int) -> LayerCity:
        """Add ``count`` residents at a metre point."""
        self.people.append(
            {
                "type": "Feature",
                "properties": {"count": count},
                "geometry": {"type": "Point", "coordinates": lonlat(*at_m)},
            }
        )
        return self

    def write(self) -> dict[str, str]:
        """Write the layers and return the ``city`` section of a scenario."""
        self.folder.mkdir(parents=True, exist_ok=True)
        out = {}
        for name, feats in (("roads", self.roads), ("shelters", self.shelters), ("population", self.people)):
            path = self.folder / f"{name}.geojson"
            path.write_text(json.dumps(_fc(feats)))
            out[name] = str(path)
        return out


@pytest.fixture
def layer_city(tmp_path: Path) -> Callable[[], LayerCity]:
    """A factory of layer cities in the test's own folder."""
    counter = iter(range(1000))
    return lambda: LayerCity(tmp_path / f"city{next(counter)}")


def everyone_now(**extra: Any) -> dict[str, Any]:
    """Scenario parts for a clean test: everyone ordered at 0, reached at once, leaving at once."""
    base: dict[str, Any] = {
        "alerting": {
            "orders": [{"at": 0, "zone": "all"}],
            "channels": [{"type": "ideal", "coverage": 1.0}],
            "departure_delay": {"distribution": "fixed", "value": 0},
        },
        "output": {"record_every": 10, "tracks": {"every": 60, "max_citizens": 50}},
    }
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            base[key] = {**base[key], **value}
        else:
            base[key] = value
    return base


def kotka_quake(**extra: Any) -> dict[str, Any]:
    """A magnitude 7.0 quake under Kotka at 60 s for 20 minutes: buildings fall, roads close, people
    are trapped for 10 minutes, then freed (``extra``: more scenario parts)."""
    quake = {
        "type": "earthquake",
        "id": "q",
        "at": 60,
        "epicentre": [26.95, 60.53],
        "magnitude": 7.0,
        "depth_km": 8,
        "trapped_for": "10min",
    }
    return {"name": "kotka-quake", "seed": 3, "duration": "20min", "hazards": [quake], **extra}


def scenario_from(city: dict[str, str] | dict[str, Any], **parts: Any):
    """A validated scenario on ``city`` with the given parts."""
    data = {"name": "test", "seed": 1, "city": city, **parts}
    return load_scenario(data)


@pytest.fixture
def rng() -> np.random.Generator:
    """A seeded generator for tests that draw."""
    return np.random.default_rng(12345)


# Another processor, as far as this one can pretend: glibc without its FMA and AVX2 versions of
# libm, NumPy without its AVX2 loops, numba compiling for a generic x86-64 (tests of portability).
OTHER_CPU = {
    "GLIBC_TUNABLES": "glibc.cpu.hwcaps=-AVX2,-FMA,-AVX512F,-AVX512DQ",
    "NPY_DISABLE_CPU_FEATURES": "X86_V3 X86_V4 AVX512_ICL AVX512_SPR",  # the higher ones too, on a CPU with AVX-512
    "NUMBA_CPU_NAME": "generic",
}
ROOT = Path(__file__).resolve().parents[1]


def printed_by(code: str, env: dict[str, str] | None = None) -> str:
    """What ``python -c code`` prints in the repository, with ``env`` added to this environment."""
    res = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        check=True,
    )
    return res.stdout.strip()
