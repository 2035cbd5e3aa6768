"""Cities from all four sources, projected once to metres."""

from __future__ import annotations

import json

import numpy as np
import pytest

from sim.city.build import build_city
from sim.city.osm import builtin_path
from sim.city.roads import pedestrian_capacity_pph, vehicle_capacity_vph
from sim.city.synthetic import generate_city
from sim.core.errors import InputError
from sim.scenario.schema import CityConfig, SyntheticCityConfig
from tests.conftest import lonlat


def test_builtin_extracts_ship_inside_the_package():
    for name in ("kotka", "helsinki"):
        path = builtin_path(name)
        assert path.is_file()
        assert path.stat().st_size > 100_000
        assert "site-packages" in str(path) or "dist-packages" in str(path)


@pytest.mark.parametrize(("name", "min_roads", "min_shelters"), [("kotka", 700, 10), ("helsinki", 5000, 20)])
def test_builtin_real_city(name, min_roads, min_shelters):
    city = build_city(CityConfig(builtin=name))
    assert city.crs == "EPSG:32635"  # UTM 35N for southern Finland
    assert city.n_roads >= min_roads
    assert len(city.shelters) >= min_shelters
    assert city.population_total > 5000
    roads = city.roads
    assert (roads["length_m"] > 0).all()
    assert np.allclose(roads["length_m"], roads.geometry.length, rtol=1e-6, atol=0.5)
    assert roads["walkable"].all() or roads["walkable"].mean() > 0.95
    assert roads["drivable"].any()
    assert set(roads["highway"]) >= {"residential", "footway"}
    # Every shelter sits on a road node, every home too.
    assert city.shelters["node"].between(0, city.n_nodes - 1).all()
    assert city.homes["node"].between(0, city.n_nodes - 1).all()
    assert city.sources["residents_from"] == "building floor area"
    lon, lat = city.nodes["lon"].mean(), city.nodes["lat"].mean()
    assert 24 < lon < 28
    assert 60 < lat < 61


def test_capacity_rule_and_override():
    # A 6 m street: 1.3 p/(m s) x (6 - 2 x 0.3) m x 3600 s = 25,272 persons per hour.
    assert pedestrian_capacity_pph(np.array([6.0]), specific_flow_pmps=1.3, boundary_m=0.3)[0] == pytest.approx(25272)
    assert vehicle_capacity_vph(np.array([2.0]), np.array([False]), lane_capacity_vph=1800)[0] == 1800
    assert vehicle_capacity_vph(np.array([2.0]), np.array([True]), lane_capacity_vph=1800)[0] == 3600


@pytest.mark.parametrize("water", ["river", "coast", "none"])
def test_synthetic_city_is_seeded_and_sized(water):
    cfg = SyntheticCityConfig(area_km2=4, population=30_000, water=water, shelters=12)
    a, b = generate_city(cfg, seed=3), generate_city(cfg, seed=3)
    assert a.n_roads == b.n_roads
    assert np.array_equal(a.nodes[["x", "y"]].to_numpy(), b.nodes[["x", "y"]].to_numpy())
    assert generate_city(cfg, seed=4).nodes["x"].sum() != a.nodes["x"].sum()
    assert a.population_total == pytest.approx(30_000)
    assert len(a.shelters) == 12
    assert a.shelters["capacity"].sum() == pytest.approx(1.2 * 30_000, rel=0.01)
    if water == "river":
        assert a.roads["bridge"].sum() >= 1
        assert len(a.water) == 1
    assert a.roads["highway"].isin(["footway"]).any()


def test_synthetic_city_scales_to_fifty_thousand_segments():
    city = generate_city(SyntheticCityConfig(area_km2=300, population=1_000_000, block_m=100))
    assert city.n_roads >= 50_000
    assert city.population_total == pytest.approx(1_000_000)


def test_osm_xml_extract(tmp_path):
    nodes, ways, nid = [], [], 1
    grid = {}
    for i in range(4):
        for j in range(4):
            lon, lat = lonlat(i * 150, j * 150)
            grid[i, j] = nid
            nodes.append(f'<node id="{nid}" lat="{lat}" lon="{lon}"/>')
            nid += 1
    wid = 100
    for j in range(4):  # east-west streets through every node: they must be split at crossings
        refs = "".join(f'<nd ref="{grid[i, j]}"/>' for i in range(4))
        ways.append(f'<way id="{wid}">{refs}<tag k="highway" v="residential"/><tag k="name" v="Row {j}"/></way>')
        wid += 1
    for i in range(4):
        refs = "".join(f'<nd ref="{grid[i, j]}"/>' for j in range(4))
        ways.append(f'<way id="{wid}">{refs}<tag k="highway" v="footway"/></way>')
        wid += 1
    corners = [lonlat(20, 20), lonlat(60, 20), lonlat(60, 60), lonlat(20, 60)]
    for k, (lon, lat) in enumerate(corners):
        nodes.append(f'<node id="{900 + k}" lat="{lat}" lon="{lon}"/>')
    ring = "".join(f'<nd ref="{900 + k}"/>' for k in (0, 1, 2, 3, 0))
    ways.append(f'<way id="500">{ring}<tag k="building" v="school"/><tag k="name" v="Test School"/></way>')
    path = tmp_path / "mini.osm"
    path.write_text('<?xml version="1.0"?><osm version="0.6">' + "".join(nodes) + "".join(ways) + "</osm>")
    city = build_city(CityConfig(osm=path))
    assert city.n_roads == 24  # 4 rows x 3 + 4 columns x 3 segments
    assert city.n_nodes == 16
    assert "Test School" in set(city.shelters["name"])
    assert city.roads["length_m"].round(0).isin([150.0]).mean() > 0.8


def test_population_polygons_and_missing_properties(layer_city, tmp_path):
    c = layer_city().road((0, 0), (0, 400)).road((0, 400), (400, 400)).shelter("S", (0, 400), 100)
    ring = [lonlat(-50, -50), lonlat(50, -50), lonlat(50, 450), lonlat(-50, 450), lonlat(-50, -50)]
    c.people.append(
        {"type": "Feature", "properties": {"population": 120}, "geometry": {"type": "Polygon", "coordinates": [ring]}}
    )
    city_cfg = c.write()
    city = build_city(CityConfig(**city_cfg))
    assert city.population_total == pytest.approx(120)
    assert city.sources["residents_from"] == "population layer"

    bad = layer_city().road((0, 0), (0, 400)).shelter("S", (0, 400), 100)
    bad.people.append({"type": "Feature", "properties": {}, "geometry": {"type": "Point", "coordinates": lonlat(0, 0)}})
    with pytest.raises(InputError) as err:
        build_city(CityConfig(**bad.write()))
    assert err.value.problems[0][0] == "city.population.0.count"


def test_layers_in_a_projected_geopackage_are_reprojected(tmp_path, layer_city):
    import geopandas as gpd

    cfg = layer_city().road((0, 0), (0, 400)).shelter("S", (0, 400), 10).people_at((0, 0), 5).write()
    roads = gpd.read_file(cfg["roads"]).to_crs("EPSG:3067")  # Finnish national grid
    gpkg = tmp_path / "roads.gpkg"
    roads.to_file(gpkg, driver="GPKG")
    city = build_city(CityConfig(roads=gpkg, shelters=cfg["shelters"], population=cfg["population"]))
    assert city.roads["length_m"].iloc[0] == pytest.approx(400, rel=0.01)
    assert json.loads(json.dumps(city.sources))["roads"].startswith(str(gpkg))
