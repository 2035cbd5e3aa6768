"""The derived terrain's distance to the water equals GEOS's own, point for point (issue 20)."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from shapely.geometry import LineString, MultiPolygon, Polygon

from sim import api
from sim.city.build import build_city
from sim.city.terrain import _water_geometry, distance_on_grid
from sim.scenario import load_scenario


def _grid(bounds, cell, margin=300.0):
    x0, y0, x1, y1 = bounds
    xs = np.arange(x0 - margin, x1 + margin, cell) + cell / 2
    ys = np.arange(y0 - margin, y1 + margin, cell) + cell / 2
    return np.meshgrid(xs, ys)


def _geos(water, gx, gy):
    pts = shapely.points(gx.ravel(), gy.ravel())
    return np.asarray(shapely.distance(water, pts)).reshape(gx.shape)


def _star(rng, cx, cy, r, n):
    ang = np.sort(rng.uniform(0, 2 * np.pi, n))
    rad = r * rng.uniform(0.4, 1.0, n)
    return Polygon(np.column_stack([cx + rad * np.cos(ang), cy + rad * np.sin(ang)]))


def test_random_polygons_with_holes_and_several_parts():
    rng = np.random.default_rng(7)
    outer = _star(rng, 0, 0, 800, 60)
    hole = _star(rng, 50, -30, 150, 12)
    water = MultiPolygon([Polygon(outer.exterior.coords, [hole.exterior.coords]), _star(rng, 1500, 900, 300, 25)])
    assert water.is_valid
    for cell in (7.0, 25.0, 61.0):  # grids whose sides are no multiple of the block
        gx, gy = _grid(water.bounds, cell)
        got = distance_on_grid(water, gx, gy)
        np.testing.assert_array_equal(got, _geos(water, gx, gy))
        assert (got == 0).any()
        assert (got > 0).any()


@pytest.mark.parametrize("water", ["river", "coast"])
def test_the_synthetic_city_water(water):
    scn = load_scenario({"name": "t", "city": {"synthetic": {"area_km2": 6.0, "population": 100, "water": water}}})
    city = build_city(scn.city)
    w = _water_geometry(city, scn.city.terrain)
    gx, gy = _grid(city.roads.total_bounds, 25.0)
    np.testing.assert_array_equal(distance_on_grid(w, gx, gy), _geos(w, gx, gy))


def test_kotka_sea_and_a_line_of_water():
    scn = api.load_scenario(api.sample_scenarios()["kotka_river_flood"], [])
    city = build_city(scn.city)
    w = _water_geometry(city, scn.city.terrain)
    gx, gy = _grid(city.roads.total_bounds, 40.0, margin=0.0)
    np.testing.assert_array_equal(distance_on_grid(w, gx, gy), _geos(w, gx, gy))
    line = LineString([(0, 0), (300, 40), (500, -200)])  # not polygons: GEOS is asked directly
    gx, gy = _grid(line.bounds, 20.0)
    np.testing.assert_array_equal(distance_on_grid(line, gx, gy), _geos(line, gx, gy))
