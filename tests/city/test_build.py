"""Cities from all four sources, projected once to metres."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
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


def _export_osm_xml(src, out) -> None:
    import osmium

    with osmium.SimpleWriter(str(out)) as writer:
        for obj in osmium.FileProcessor(str(src)):
            writer.add(obj)


def test_kotka_from_osm_xml_and_from_pbf_is_the_same_city(tmp_path):
    from sim import api

    xml = tmp_path / "kotka.osm"
    _export_osm_xml(builtin_path("kotka"), xml)
    assert xml.read_bytes().startswith(b"<?xml")
    a, b = build_city(CityConfig(builtin="kotka")), build_city(CityConfig(osm=xml))
    assert a.n_roads == b.n_roads > 600
    assert a.n_nodes == b.n_nodes
    assert np.array_equal(a.nodes[["x", "y"]].to_numpy(), b.nodes[["x", "y"]].to_numpy())
    assert a.population_total == b.population_total
    assert list(a.shelters["name"]) == list(b.shelters["name"])
    # And the same run: the evacuation curve is identical, not just close.
    sample = api.load_scenario(api.sample_scenarios()["kotka_district_evacuation"], ["duration=30min"])
    data = sample.model_dump(mode="json")
    data["city"] = {"osm": str(xml)}
    from_xml = api.run(api.scenario_from_dict(data))
    from_pbf = api.run(sample)
    cols = ["t_s", "at_home", "evacuating", "sheltered"]
    pd.testing.assert_frame_equal(from_xml.timeseries[cols], from_pbf.timeseries[cols])


def test_a_broken_or_hostile_osm_xml_is_refused_with_the_field_named(tmp_path):
    import time

    broken = tmp_path / "broken.osm"
    broken.write_text('<?xml version="1.0"?><osm version="0.6"><node id="1" lat="60" lon=')
    with pytest.raises(InputError) as err:
        build_city(CityConfig(osm=broken))
    assert err.value.problems[0][0] == "city.osm"
    # Entity expansion ("billion laughs"): refused quickly, without expanding it.
    lol = "".join(f'<!ENTITY l{i} "{f"&l{i - 1};" * 10}">' for i in range(1, 10))
    bomb = tmp_path / "bomb.osm"
    bomb.write_text(
        f'<?xml version="1.0"?><!DOCTYPE osm [<!ENTITY l0 "lol">{lol}]>'
        '<osm version="0.6"><node id="1" lat="60" lon="27"><tag k="name" v="&l9;"/></node></osm>'
    )
    started = time.monotonic()
    with pytest.raises(InputError) as err:
        build_city(CityConfig(osm=bomb))
    assert err.value.problems[0][0] == "city.osm"
    assert time.monotonic() - started < 10


def test_named_layers_of_one_geopackage_and_shapefiles(tmp_path, layer_city):
    import shutil
    import zipfile

    import geopandas as gpd

    from sim import api

    cfg = layer_city().road((0, 0), (0, 400)).road((0, 400), (300, 400)).shelter("S", (0, 400), 50)
    cfg = cfg.people_at((0, 0), 30).write()
    gpkg = tmp_path / "city.gpkg"
    for name, layer in (("roads", "streets"), ("shelters", "refuges"), ("population", "people")):
        gpd.read_file(cfg[name]).to_crs("EPSG:3067").to_file(gpkg, layer=layer, driver="GPKG")
    named = CityConfig(
        roads={"path": gpkg, "layer": "streets"},
        shelters={"path": gpkg, "layer": "refuges"},
        population={"path": gpkg, "layer": "people"},
    )
    city = build_city(named)
    assert city.n_roads == 2
    assert city.population_total == pytest.approx(30)
    assert "layer streets" in city.sources["roads"]
    # The layer survives the round trip through the run directory's scenario.yaml.
    again = CityConfig.model_validate(named.model_dump(mode="json"))
    assert again.roads.layer == "streets"
    # A multi-layer file without a layer name: refused, with the names to choose from.
    with pytest.raises(InputError) as err:
        build_city(CityConfig(roads=gpkg, shelters=cfg["shelters"], population=cfg["population"]))
    assert err.value.problems[0][0] == "city.roads"
    assert "streets, refuges, people" in err.value.problems[0][1]
    with pytest.raises(InputError) as err:
        build_city(CityConfig(roads={"path": gpkg, "layer": "lanes"}, shelters=cfg["shelters"]))
    assert "no layer 'lanes'" in err.value.problems[0][1]

    # Shapefiles: plain (with their .prj) and zipped, in a projected CRS.
    shp_dir = tmp_path / "shp"
    shp_dir.mkdir()
    gpd.read_file(cfg["roads"]).to_crs("EPSG:3067").to_file(shp_dir / "roads.shp")
    layers = {"shelters": cfg["shelters"], "population": cfg["population"]}
    from_shp = build_city(CityConfig(roads=shp_dir / "roads.shp", **layers))
    assert from_shp.roads["length_m"].sum() == pytest.approx(city.roads["length_m"].sum(), rel=1e-6)
    zipped = tmp_path / "roads.zip"
    with zipfile.ZipFile(zipped, "w") as z:
        for part in shp_dir.iterdir():
            z.write(part, part.name)
    from_zip = build_city(CityConfig(roads=zipped, **layers))
    assert from_zip.n_roads == 2
    # An upload of a zipped shapefile is accepted too.
    saved = api.save_upload("roads", "roads.zip", zipped.read_bytes(), folder=tmp_path / "up")
    assert saved.exists()
    # A shapefile that does not say its coordinate system is refused (it could be in metres).
    (shp_dir / "roads.prj").unlink()
    with pytest.raises(InputError) as err:
        build_city(CityConfig(roads=shp_dir / "roads.shp", shelters=cfg["shelters"]))
    assert "coordinate reference system" in err.value.problems[0][1]
    shutil.rmtree(shp_dir)


def test_a_zip_that_expands_too_far_is_refused_before_reading(tmp_path, monkeypatch):
    import zipfile

    from sim.city import layers

    monkeypatch.setattr(layers, "MAX_UNZIPPED_BYTES", 1000)
    z = tmp_path / "big.zip"
    with zipfile.ZipFile(z, "w", compression=zipfile.ZIP_DEFLATED) as f:
        f.writestr("roads.shp", b"\0" * 100_000)
    with pytest.raises(InputError) as err:
        build_city(CityConfig(roads=z))
    assert err.value.problems[0][0] == "city.roads"
    assert "expands to more than" in err.value.problems[0][1]


def test_bad_passage_kinds_and_strips_are_refused_by_field(layer_city):
    bad = layer_city().road((0, 0), (0, 100), passage="tunnel").shelter("S", (0, 100), 5).people_at((0, 0), 1)
    with pytest.raises(InputError) as err:
        build_city(CityConfig(**bad.write()))
    assert err.value.problems[0] == ("city.roads.0.passage", "must be one of street, door, gate, passage, got 'tunnel'")
    neg = layer_city().road((0, 0), (0, 100), boundary_m=-1).shelter("S", (0, 100), 5).people_at((0, 0), 1)
    with pytest.raises(InputError) as err:
        build_city(CityConfig(**neg.write()))
    assert err.value.problems[0][0] == "city.roads.0.boundary_m"
