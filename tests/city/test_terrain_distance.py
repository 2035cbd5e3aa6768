"""The derived terrain's distance to the water equals GEOS's own, point for point (issue 20).

Both ways of measuring it: the blocks measured by GEOS (``sim.city.terrain.distance_on_grid``)
and the compiled kernel the engine uses (``sim.engine.kernels.distance_on_grid``).
"""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from shapely.geometry import LineString, MultiPolygon, Polygon

from sim import api
from sim.city import terrain
from sim.city.build import build_city
from sim.city.terrain import _water_geometry
from sim.engine import kernels
from sim.scenario import load_scenario


@pytest.fixture(params=["geos", "compiled"])
def distance_on_grid(request, monkeypatch):
    """The grid distance measured by GEOS per block, or by the compiled kernel."""
    if request.param == "geos":
        return terrain.distance_on_grid
    if not kernels.enabled():
        pytest.skip("numba is not installed")
    monkeypatch.setenv("SAFECITY_KERNELS", "1")
    return kernels.distance_on_grid


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


def test_random_polygons_with_holes_and_several_parts(distance_on_grid):
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
def test_the_synthetic_city_water(water, distance_on_grid):
    scn = load_scenario({"name": "t", "city": {"synthetic": {"area_km2": 6.0, "population": 100, "water": water}}})
    city = build_city(scn.city)
    w = _water_geometry(city, scn.city.terrain)
    gx, gy = _grid(city.roads.total_bounds, 25.0)
    np.testing.assert_array_equal(distance_on_grid(w, gx, gy), _geos(w, gx, gy))


def test_kotka_sea_and_a_line_of_water(distance_on_grid):
    scn = api.load_scenario(api.sample_scenarios()["kotka_river_flood"], [])
    city = build_city(scn.city)
    w = _water_geometry(city, scn.city.terrain)
    gx, gy = _grid(city.roads.total_bounds, 40.0, margin=0.0)
    np.testing.assert_array_equal(distance_on_grid(w, gx, gy), _geos(w, gx, gy))
    line = LineString([(0, 0), (300, 40), (500, -200)])  # not polygons: GEOS is asked directly
    gx, gy = _grid(line.bounds, 20.0)
    np.testing.assert_array_equal(distance_on_grid(line, gx, gy), _geos(line, gx, gy))


def test_repeated_vertices_and_points_on_the_edges_and_corners(distance_on_grid):
    """Zero-length edges (a vertex repeated), and grid points exactly on edges, vertices and their extensions."""
    ring = [(0.0, 0.0), (100.0, 0.0), (100.0, 0.0), (100.0, 60.0), (40.0, 100.0), (40.0, 100.0), (0.0, 60.0)]
    water = Polygon(ring)
    assert water.is_valid
    gx, gy = _grid(water.bounds, 10.0, margin=60.0)
    gx, gy = gx - 5.0, gy - 5.0  # points on x = 0, 100 and y = 0, 60, 100: on edges and at vertices
    got = distance_on_grid(water, gx, gy)
    np.testing.assert_array_equal(got, _geos(water, gx, gy))
    assert ((got == 0) & ~shapely.contains_xy(water, gx, gy)).any()  # on the shore: 0, as GEOS says


def test_the_compiled_segment_distance_is_geos_bit_for_bit():
    """Random segments at UTM magnitudes, many with the point beyond an end or the segment a point."""
    if not kernels.enabled():
        pytest.skip("numba is not installed")
    from sim.engine import _compiled_terrain

    rng = np.random.default_rng(11)
    n = 20_000
    a = 3.3e5 + rng.uniform(-1e4, 1e4, (n, 2))
    b = a + rng.normal(0, 300, (n, 2))
    b[::10] = a[::10]  # a zero-length edge
    p = a + rng.normal(0, 500, (n, 2))
    want = shapely.distance(shapely.linestrings(np.stack([a, b], axis=1)), shapely.points(p))
    got = np.array([_compiled_terrain.point_to_segment(*p[i], *a[i], *b[i]) for i in range(n)])
    np.testing.assert_array_equal(got, want)


def test_the_engine_builds_its_terrain_with_the_kernel(monkeypatch):
    """A flood's terrain, through the model, is the terrain GEOS gives (the kernel is the one called)."""
    if not kernels.enabled():
        pytest.skip("numba is not installed")
    from sim.engine.model import EvacuationModel

    monkeypatch.setenv("SAFECITY_KERNELS", "1")
    calls = []
    real = kernels._compiled.distance_on_grid
    monkeypatch.setattr(kernels._compiled, "distance_on_grid", lambda *a: calls.append(1) or real(*a))
    scn = load_scenario({"name": "t", "city": {"synthetic": {"area_km2": 4.0, "population": 200, "water": "river"}}})
    got = EvacuationModel(scn).terrain()
    want = terrain.derived_terrain(build_city(scn.city), scn.city.terrain)
    assert calls
    np.testing.assert_array_equal(got.height, want.height)


def test_points_that_are_no_regular_grid_are_refused(distance_on_grid):
    """Both walk a grid's rows and columns in blocks: scattered points would get wrong distances."""
    water = Polygon([(0, 0), (100, 0), (100, 60), (0, 60)])
    rng = np.random.default_rng(3)
    gx, gy = rng.uniform(-50, 150, (7, 9)), rng.uniform(-50, 110, (7, 9))
    with pytest.raises(ValueError, match="regular grid"):
        distance_on_grid(water, gx, gy)
    with pytest.raises(ValueError, match="regular grid"):
        distance_on_grid(water, gx.ravel(), gy.ravel())
    gx, gy = _grid(water.bounds, 10.0)
    np.testing.assert_array_equal(distance_on_grid(water, gx, gy), _geos(water, gx, gy))
