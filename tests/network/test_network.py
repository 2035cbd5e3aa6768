"""Networks: link availability, message queues and failover, power, services, alert delivery, CAP."""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET

import numpy as np
import pandas as pd
import pytest
import simpy

from sim.core.rng import RandomStreams
from sim.engine.model import EvacuationModel
from sim.network.cap import CAP_NS
from sim.network.state import NetworkState
from sim.scenario import load_scenario
from sim.scenario.network import ServiceConfig
from tests.conftest import everyone_now, scenario_from
from tests.experiments.test_cli import _assert_invalid, sim, write_scenario


def _assets(*ids: str, power: dict[str, str] | None = None, battery_h: float = 0.0) -> pd.DataFrame:
    power = power or {}
    return pd.DataFrame(
        {
            "id": list(ids),
            "kind": ["substation" if i.startswith("sub") else "hub" for i in ids],
            "subnet": "safety",
            "node": 0,
            "x": 0.0,
            "y": 0.0,
            "lon": 0.0,
            "lat": 0.0,
            "power": [power.get(i, "") for i in ids],
            "battery_h": battery_h,
            "sensor_type": "",
        }
    )


def _links(*specs: tuple[str, str, str, float], latency=0.01, bandwidth=1.0, loss=0.0) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "id": f"{t}-{k}",
                "a": a,
                "b": b,
                "type": t,
                "latency_s": latency,
                "bandwidth_mbps": bandwidth,
                "availability": avail,
                "loss": loss,
                "directed": False,
            }
            for k, (a, b, t, avail) in enumerate(specs)
        ]
    )


def _state(assets, links, *, seed=1, repair_s=600.0, log=None, env=None):
    env = env or simpy.Environment()
    services = [ServiceConfig(name="s", platform="A", endpoints=["B"], subnet="safety")]
    net = NetworkState(
        env,
        assets,
        links,
        services,
        stream=RandomStreams(seed).get,
        log=log or (lambda *a: None),
        repair_time_s=repair_s,
        min_share=1.0,
    )
    return env, net


@pytest.mark.parametrize("avail", [(0.9,), (0.9, 0.8), (0.9, 0.8, 0.7)])
def test_parallel_links_are_up_one_minus_product_of_downtimes(avail):
    expected = 1 - math.prod(1 - a for a in avail)
    horizon = 400 * 600.0
    means = []
    for seed in range(30):
        env, net = _state(_assets("A", "B"), _links(*[("A", "B", "fibre", a) for a in avail]), seed=seed)
        env.run(until=horizon)
        means.append(net.availability(horizon)["s"])
    mean = float(np.mean(means))
    se = float(np.std(means, ddof=1) / np.sqrt(len(means)))
    assert abs(mean - expected) <= 4 * se + 1e-3, (mean, expected, se)


def test_messages_queue_at_the_link_bandwidth():
    env, net = _state(_assets("A", "B"), _links(("A", "B", "fibre", 1.0), latency=0.01, bandwidth=1.0))
    arrivals: list[float] = []
    for _ in range(10):
        net.send("A", "B", kind="alert", on_delivered=arrivals.append)
    env.run(until=10)
    tx = 2000 * 8 / 1e6  # 16 ms per 2 kB message at 1 Mbit/s
    assert arrivals == pytest.approx([k * tx + 0.01 for k in range(1, 11)])


def test_failover_from_fibre_to_radio_then_no_route():
    log: list[tuple[str, str, str]] = []
    links = _links(("A", "B", "fibre", 1.0), ("A", "B", "radio", 1.0))
    env, net = _state(_assets("A", "B"), links, log=lambda *e: log.append(e))
    got: list[float] = []
    net.send("A", "B", kind="alert", on_delivered=got.append)
    env.run(until=1)
    assert "via=fibre" in log[-1][2]
    net.cut_links(np.array([0]), cut=True, cause="digger")
    net.send("A", "B", kind="alert", on_delivered=got.append)
    env.run(until=2)
    assert "via=radio" in log[-1][2]
    assert net.service_up["s"]
    net.cut_links(np.array([1]), cut=True, cause="storm")
    assert not net.service_up["s"]
    lost: list[str] = []
    net.send("A", "B", kind="alert", on_lost=lost.append)
    env.run(until=20)
    assert lost == ["no route"]
    assert log[-1][0] == "message_lost"


def test_a_substation_down_runs_assets_on_battery_then_dark():
    log: list[tuple[str, str, str]] = []
    assets = _assets("sub", "A", "B", power={"A": "sub", "B": "sub"}, battery_h=1.0)
    env, net = _state(assets, _links(("A", "B", "fibre", 1.0)), log=lambda *e: log.append(e))
    env.run(until=100)
    net.set_grid(["sub"], on=False, cause="storm")
    assert net.service_up["s"]  # on battery
    env.run(until=100 + 3600 - 1)
    assert net.service_up["s"]
    env.run(until=100 + 3600 + 1)
    assert not net.service_up["s"]
    dark = [e for e in log if e[0] == "asset_power_off"]
    assert {e[1] for e in dark} == {"A", "B"}
    net.set_grid(["sub"], on=True, cause="repair")  # at 3,701 s
    assert net.service_up["s"]
    env.run(until=8000)
    assert net.availability(8000)["s"] == pytest.approx(1 - 1 / 8000)  # dark from 3,700 s to 3,701 s


def test_cutting_the_fibre_with_radio_backup_keeps_alerting_up():
    def run(redundancy):
        scn = load_scenario(
            {
                "name": "cut",
                "seed": 2,
                "duration": "20min",
                "network": {"redundancy": redundancy},
                "alerting": {
                    "orders": [{"at": 60, "zone": "all"}],
                    "channels": [{"type": "siren", "coverage": 1.0}],
                    "departure_delay": {"distribution": "fixed", "value": 0},
                },
                "hazards": [{"type": "link_cut", "id": "digger", "at": 0, "types": ["fibre"]}],
            }
        )
        m = EvacuationModel(scn)
        m.run()
        return m

    with_radio = run(2)
    assert with_radio.network.service_up["alerting_siren"]
    assert with_radio.service_availability()["alerting_siren"]["availability"] == 1.0
    assert np.isfinite(with_radio.pop.warned_t).mean() > 0.99
    without = run(1)
    assert not without.network.service_up["alerting_siren"]
    assert without.service_availability()["alerting_siren"]["availability"] == 0.0
    assert np.isfinite(without.pop.warned_t).mean() == 0.0
    lost = without.events()
    assert (lost["kind"] == "message_lost").sum() > 0


CITIES = {
    "kotka": {"builtin": "kotka"},
    "helsinki": {"builtin": "helsinki"},
    "synthetic-river": {"synthetic": {"area_km2": 4, "population": 5000, "water": "river"}},
    "synthetic-coast": {"synthetic": {"area_km2": 4, "population": 5000, "water": "coast"}},
}


def _safety_deps_on_smart(m: EvacuationModel) -> dict[str, set[str]]:
    subnet = dict(zip(m.asset_table["id"], m.asset_table["subnet"], strict=True))
    out = {}
    for svc in m.network.services:
        if svc.subnet == "safety":
            bad = {a for a in m.network.dependencies(svc) if subnet[a] in ("smart", "shared")}
            if bad:
                out[svc.name] = bad
    return out


def _safety_services_survive_without_smart_assets(m: EvacuationModel) -> list[str]:
    smart = m.asset_table.loc[m.asset_table["subnet"].isin(["smart", "shared"]), "id"].tolist()
    m.network.damage(smart, cause="test")
    return [s.name for s in m.network.services if s.subnet == "safety" and not m.network.service_is_up(s)]


@pytest.mark.parametrize("city", sorted(CITIES))
def test_separate_safety_services_never_depend_on_smart_assets(city):
    m = EvacuationModel(load_scenario({"name": city, "city": CITIES[city], "network": {"redundancy": 3}}))
    assert _safety_deps_on_smart(m) == {}  # no smart asset on any route a safety service uses
    assert _safety_services_survive_without_smart_assets(m) == []  # and none is needed
    shared = EvacuationModel(load_scenario({"name": city, "city": CITIES[city], "network": {"design": "shared"}}))
    deps = shared.network.dependencies(next(s for s in shared.network.services if s.name == "alerting_siren"))
    assert "gw-smart" in deps  # the positive control: on one shared network the sirens need the COC's router
    assert "alerting_siren" in _safety_services_survive_without_smart_assets(shared)


def test_separate_safety_services_in_every_sample_scenario():
    from sim.api import sample_scenarios

    for name, path in sample_scenarios().items():
        scn = load_scenario(path, ["city.synthetic.population=5000"] if "synthetic" in name else [])
        if scn.network.design != "separate":
            continue
        m = EvacuationModel(scn)
        assert _safety_deps_on_smart(m) == {}, name
        assert _safety_services_survive_without_smart_assets(m) == [], name


def test_door_to_door_visits_households_at_the_staff_rate(layer_city):
    c = layer_city().road((0, 0), (0, 300), id="r").shelter("S", (0, 300), 10_000).people_at((0, 0), 600)
    parts = everyone_now(duration="3h")
    parts["alerting"]["channels"] = [
        {"type": "door_to_door", "coverage": 1.0, "staff": 5, "households_per_staff_h": 10, "delay": 0}
    ]
    m = EvacuationModel(scenario_from(c.write(), population={"count": 600, "household_size_mean": 2}, **parts))
    m.advance_to(60)
    households = len(np.unique(m.pop.household))
    warned = np.sort(m.pop.warned_t)
    assert warned[-1] == pytest.approx(math.ceil(households / 5) / 10 * 3600)
    assert warned[0] == pytest.approx(360.0)  # the first round: 1/10 h


def test_orders_are_written_as_cap_1_2(tmp_path):
    out = tmp_path / "run"
    res = sim(
        "run",
        "scenarios/kotka_district_evacuation.yaml",
        "--out",
        str(out),
        "--quiet",
        "--set",
        "duration=10min",
    )
    assert res.returncode == 0, res.stderr
    files = sorted((out / "cap").glob("*.xml"))
    assert files
    ns = {"cap": CAP_NS}
    for f in files:
        root = ET.parse(f).getroot()
        assert root.tag == f"{{{CAP_NS}}}alert"
        order = [child.tag.split("}")[1] for child in root]
        assert order[:7] == ["identifier", "sender", "sent", "status", "msgType", "scope", "info"]
        assert root.findtext("cap:status", namespaces=ns) == "Exercise"
        sent = root.findtext("cap:sent", namespaces=ns)
        assert sent.endswith("+00:00")
        info = root.find("cap:info", ns)
        for tag in ("category", "event", "urgency", "severity", "certainty"):
            assert info.findtext(f"cap:{tag}", namespaces=ns)
        area = info.find("cap:area", ns)
        assert area.findtext("cap:areaDesc", namespaces=ns)
        for poly in area.findall("cap:polygon", ns):
            pts = [tuple(map(float, p.split(","))) for p in poly.text.split()]
            assert len(pts) >= 4
            assert pts[0] == pts[-1]
            assert all(59 < lat < 61 and 26 < lon < 28 for lat, lon in pts)  # lat,lon order, in Kotka


@pytest.mark.parametrize(
    ("network", "field"),
    [
        ({"links": [{"a": "CCC", "b": "nowhere", "type": "fibre"}]}, "network.links.0.b"),
        ({"links": [{"a": "CCC", "b": "COC", "type": "fibre", "latency_s": -1}]}, "network.links.0.latency_s"),
        ({"services": [{"name": "x", "platform": "CCC", "via": ["ghost"]}]}, "network.services.0.via.0"),
        ({"services": [{"name": "x", "platform": "nope"}]}, "network.services.0.platform"),
        ({"redundancy": 4}, "network.redundancy"),
    ],
)
def test_bad_network_input_exits_2_naming_the_field(tmp_path, network, field):
    path = write_scenario(tmp_path, {"duration": "5min", "network": network})
    _assert_invalid(sim("validate", str(path)), field)


def test_the_design_comparison_scenarios_differ_as_designed():
    from sim.api import sample_scenarios

    paths = sample_scenarios()
    runs = {}
    for design in ("shared", "separate"):
        m = EvacuationModel(load_scenario(paths[f"kotka_flood_{design}_network"], ["duration=80min"]))
        m.run()
        runs[design] = m
    avail = {d: m.service_availability()["alerting"]["availability"] for d, m in runs.items()}
    assert avail["separate"] == 1.0
    assert avail["shared"] < 0.6  # the COC's router went dark 30 min into the outage
    assert np.isfinite(runs["shared"].pop.ordered_t).sum() == 0  # the gauge's reading never arrived
    assert np.isfinite(runs["separate"].pop.ordered_t).sum() > 1000


def _network_layer(path, features):
    import json

    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    return str(path)


def test_the_city_network_layer_adds_assets_and_links(layer_city, tmp_path):
    from tests.conftest import lonlat

    c = layer_city().road((0, 0), (0, 400), id="r").shelter("S", (0, 400), 100).people_at((0, 0), 20)
    city = c.write()
    city["network"] = _network_layer(
        tmp_path / "network.geojson",
        [
            {
                "type": "Feature",
                "properties": {"id": "my-siren", "kind": "siren", "battery_h": 6},
                "geometry": {"type": "Point", "coordinates": lonlat(0, 50)},
            },
            {
                "type": "Feature",
                "properties": {"a": "my-siren", "b": "CCC", "type": "radio", "id": "siren-radio"},
                "geometry": {"type": "LineString", "coordinates": [lonlat(0, 50), lonlat(0, 200)]},
            },
        ],
    )
    m = EvacuationModel(scenario_from(city, population={"count": 20}))
    a = m.asset_table.set_index("id")
    assert a.loc["my-siren", "kind"] == "siren"
    assert a.loc["my-siren", "battery_h"] == 6
    link = m.link_table.set_index("id").loc["siren-radio"]
    assert (link["a"], link["b"], link["type"]) == ("my-siren", "CCC", "radio")


def test_a_layer_link_to_an_unknown_asset_exits_2(layer_city, tmp_path):
    from tests.conftest import lonlat

    c = layer_city().road((0, 0), (0, 400), id="r").shelter("S", (0, 400), 100).people_at((0, 0), 20)
    city = c.write()
    city["network"] = _network_layer(
        tmp_path / "network.geojson",
        [
            {
                "type": "Feature",
                "properties": {"a": "CCC", "b": "ghost", "type": "fibre"},
                "geometry": {"type": "LineString", "coordinates": [lonlat(0, 50), lonlat(0, 200)]},
            }
        ],
    )
    path = write_scenario(tmp_path, {"name": "x", "city": city, "population": {"count": 20}})
    _assert_invalid(sim("validate", str(path)), "city.network.links.0.b")
