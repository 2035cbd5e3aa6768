"""Geography: roads, buildings, shelters, population, districts (geopandas, shapely)."""

from sim.city.build import build_city
from sim.city.model import City

__all__ = ["City", "build_city"]
