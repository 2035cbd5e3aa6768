"""UTM computed by the project: PROJ's figures to a few nanometres, and the same bits everywhere."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely
from pyproj import CRS, Transformer
from shapely.geometry import LineString, Point

from sim.city.build import build_city
from sim.city.crs import MILLIMETRE, from_lonlat, project, to_lonlat, to_wgs84
from sim.city.utm import Utm
from tests.conftest import OTHER_CPU, printed_by, scenario_from

ZONES = [
    (35, False, 58.0, 62.0),
    (32, False, 0.0, 84.0),
    (56, True, -80.0, 0.0),
    (1, False, 0.0, 60.0),
    (60, True, -60.0, -1.0),
]


def epsg(zone: int, south: bool) -> str:
    return f"EPSG:{32700 + zone if south else 32600 + zone}"


@pytest.mark.parametrize(("zone", "south", "lat0", "lat1"), ZONES)
def test_forward_and_inverse_agree_with_proj_to_nanometres(zone, south, lat0, lat1):
    utm = Utm(zone, south)
    rng = np.random.default_rng(zone)
    lon = utm.central_meridian + rng.uniform(-3.5, 3.5, 50_000)
    lon = np.where(lon > 180, lon - 360, np.where(lon < -180, lon + 360, lon))
    lat = rng.uniform(lat0, lat1, 50_000)
    x, y = Transformer.from_crs("EPSG:4326", epsg(zone, south), always_xy=True).transform(lon, lat)
    xy = utm.forward(np.column_stack([lon, lat]))
    # across the antimeridian (zones 1 and 60) PROJ wraps the longitude in radians, we in degrees
    tol = 2e-8 if zone in (1, 60) else 1e-8
    assert np.abs(xy[:, 0] - x).max() < tol
    assert np.abs(xy[:, 1] - y).max() < tol
    back = utm.inverse(np.column_stack([x, y]))
    assert np.abs(back[:, 0] - lon).max() < 1e-12
    assert np.abs(back[:, 1] - lat).max() < 1e-12
    # along the central meridian the easting is exactly the false easting
    assert np.array_equal(
        utm.forward(np.column_stack([np.full(5, utm.central_meridian), lat[:5]]))[:, 0], np.full(5, 5e5)
    )


def test_the_zone_of_a_crs():
    assert Utm.of("EPSG:32635") == Utm(35, False)
    assert Utm.of("epsg:32756") == Utm(56, True)
    assert Utm.of(CRS.from_epsg(32601)) == Utm(1, False)
    for other in ("EPSG:3067", "EPSG:4326", "EPSG:32661", "EPSG:32600", CRS.from_epsg(3857), "nonsense"):
        assert Utm.of(other) is None


def test_layers_go_through_the_projects_utm_and_other_crs_are_put_on_the_millimetre():
    lonlat = np.array([[26.93, 60.46], [26.95, 60.47], [26.97, 60.45]])
    gdf = gpd.GeoDataFrame({"k": [1]}, geometry=[LineString(lonlat)], crs="EPSG:4326")
    out = project(gdf, "EPSG:32635")
    assert str(out.crs) == "EPSG:32635"
    assert np.array_equal(shapely.get_coordinates(out.geometry.to_numpy()), Utm(35, False).forward(lonlat))
    assert np.array_equal(from_lonlat(lonlat, "EPSG:32635"), Utm(35, False).forward(lonlat))
    back = to_wgs84(out)
    assert np.array_equal(
        shapely.get_coordinates(back.geometry.to_numpy()), Utm(35, False).inverse(Utm(35, False).forward(lonlat))
    )
    assert np.array_equal(
        to_lonlat(Utm(35, False).forward(lonlat), "EPSG:32635"), shapely.get_coordinates(back.geometry.to_numpy())
    )
    # an upload in the Finnish national grid reaches the UTM zone through PROJ, then the millimetre
    national = gpd.GeoDataFrame(geometry=[Point(490000.1234567, 6700000.7654321)], crs="EPSG:3067")
    m = shapely.get_coordinates(project(national, "EPSG:32635").geometry.to_numpy())[0]
    assert np.allclose(m / MILLIMETRE, np.round(m / MILLIMETRE), rtol=0, atol=1e-6)
    direct = Transformer.from_crs("EPSG:3067", "EPSG:32635", always_xy=True).transform(490000.1234567, 6700000.7654321)
    assert np.abs(m - np.array(direct)).max() < 1e-3


PROBE = """
import hashlib, numpy as np
from sim.city.utm import Utm
rng = np.random.default_rng(9)
parts = []
for zone, south in ((35, False), (19, True)):
    u = Utm(zone, south)
    lat = rng.uniform(1, 80, 100_000) * (-1 if south else 1)
    ll = np.column_stack([u.central_meridian + rng.uniform(-3, 3, 100_000), lat])
    xy = u.forward(ll)
    parts += [xy, u.inverse(xy)]
print(hashlib.sha256(b"".join(p.tobytes() for p in parts)).hexdigest())
"""


def test_the_same_bits_on_another_processor():
    here = printed_by(PROBE)
    assert len(here) == 64
    assert printed_by(PROBE, OTHER_CPU) == here


def test_an_upload_in_a_national_grid_is_put_on_the_millimetre_and_one_in_wgs84_is_not_moved(layer_city, tmp_path):
    city = layer_city().road((0, 0), (0, 400)).road((0, 400), (300, 400)).people_at((0, 0), 5).shelter("S", (0, 400), 9)
    paths = city.write()
    wgs84 = build_city(scenario_from(paths).city)
    roads = gpd.read_file(paths["roads"])
    assert np.array_equal(
        np.sort(wgs84.node_xy, axis=0),
        np.sort(
            np.unique(Utm.of(wgs84.crs).forward(shapely.get_coordinates(roads.geometry.to_numpy())), axis=0), axis=0
        ),
    )
    national = tmp_path / "roads_3067.gpkg"
    roads.to_crs("EPSG:3067").to_file(national, driver="GPKG")
    grid = build_city(scenario_from({**paths, "roads": str(national)}).city)
    mm = grid.node_xy / MILLIMETRE
    assert np.array_equal(mm, np.round(mm))
    assert np.abs(np.sort(grid.node_xy, axis=0) - np.sort(wgs84.node_xy, axis=0)).max() < 1e-3
