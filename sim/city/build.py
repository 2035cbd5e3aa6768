"""Build a :class:`City` from any of the four sources (with a per-process cache).

Each source has its own module with a ``city_from_<source>`` function (``osm``: extracts and
the built-in cities; ``layers``; ``synthetic``); all of them end in ``assemble.assemble_city``.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

from sim.city.layers import city_from_layers
from sim.city.model import City
from sim.city.osm import city_from_builtin, city_from_osm
from sim.city.synthetic import city_from_synthetic
from sim.scenario.schema import CityConfig


def build_city(config: CityConfig) -> City:
    """Build (or fetch from this process's cache) the city a scenario describes.

    Raises:
        InputError: a layer is missing, unreadable or invalid; the path names the field.
    """
    key = json.dumps(config.model_dump(mode="json"), sort_keys=True)
    return _build_city_cached(key)


@lru_cache(maxsize=8)
def _build_city_cached(key: str) -> City:
    config = CityConfig.model_validate(json.loads(key))
    source = config.source
    if source == "builtin":
        assert config.builtin is not None
        return city_from_builtin(
            config.builtin, data_shelters=config.data_shelters, district_size_m=config.district_size_m
        )
    if source == "osm":
        assert config.osm is not None
        return city_from_osm(
            config.osm,
            name=Path(config.osm).name.split(".")[0],
            field="city.osm",
            data_shelters=config.data_shelters,
            district_size_m=config.district_size_m,
        )
    if source == "roads":
        return city_from_layers(config)
    assert config.synthetic is not None  # exactly one source: validated by CityConfig
    return city_from_synthetic(config.synthetic, seed=config.synthetic.seed)


__all__ = ["build_city", "city_from_builtin", "city_from_layers", "city_from_osm", "city_from_synthetic"]
