"""The evacuation model: a Mesa model whose one clock is a SimPy environment.

Build it from a Scenario, then either ``run()`` it to the end or drive it from outside:
``advance_to(t)``, ``step()``, operator actions (``close_roads``, ``open_shelter``,
``issue_order`` ...) and ``inject_hazard``. It writes no files: ``tables()`` hands the
recorded tables to whoever asked (``sim.io`` writes them, ``sim.metrics`` reads them).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import geopandas as gpd
import mesa
import numpy as np
import pandas as pd
import simpy

from sim.agents.citizens import (
    AT_HOME,
    CASUALTY,
    SHELTERED,
    TRAPPED,
    WALK,
    Population,
    create_population,
)
from sim.agents.shelters import ShelterAgent
from sim.city.build import build_city
from sim.city.model import City
from sim.city.select import zone_node_mask
from sim.city.terrain import Terrain, build_terrain
from sim.core.errors import InputError
from sim.core.privacy import installation_key, run_key
from sim.core.rng import RandomStreams
from sim.cyber.attacks import CyberState, CyberWorld, make_attack
from sim.cyber.inventory import build_inventory
from sim.engine import kernels
from sim.engine.alerting import Alerting
from sim.engine.locating import Locating
from sim.engine.movement import exposed
from sim.engine.mover import Mover
from sim.engine.operations import ShelterOperations
from sim.engine.recorder import Recorder
from sim.engine.roads import RoadState
from sim.engine.routing import ArcNetwork, build_arcs, compute_field
from sim.engine.sensing import Sensing
from sim.engine.shelterbook import ShelterBook, shelter_table
from sim.hazards import make_hazard
from sim.hazards.base import World
from sim.network.assets import build_assets, read_network_layer, read_sensor_layer, serving_devices
from sim.network.channels import ChannelWorld
from sim.network.state import NetworkState
from sim.network.topology import build_links, build_services
from sim.scenario.network import SensorConfig
from sim.scenario.schema import OrderConfig, Scenario

ProgressCallback = Callable[[float, float], None]


class EvacuationModel(mesa.Model):
    """A city's citizens moving to its shelters under orders, closures and hazards."""

    def __init__(
        self,
        scenario: Scenario,
        *,
        city: City | None = None,
        pseudonym_secret: bytes | None = None,
        record_tables: bool = True,
    ):
        # The secret behind pseudonyms: the installation's (or the team's) key, never the seed.
        secret = pseudonym_secret if pseudonym_secret is not None else installation_key()
        # One pseudonym space per scenario and purpose: tracks, and the registry (and PFIF).
        self.registry_key = run_key(secret, scenario=scenario.name, purpose="registry")
        self._tracks_key = (
            self.registry_key
            if scenario.privacy.link_tracks_to_registry
            else run_key(secret, scenario=scenario.name, purpose="tracks")
        )
        self.streams = RandomStreams(scenario.seed)
        super().__init__(seed=self.streams.seed_for("mesa"))
        self.scenario = scenario
        self.city = city if city is not None else build_city(scenario.city)
        self.env = simpy.Environment()
        self.duration = float(scenario.duration)
        self.step_s = float(scenario.step)
        self.recorder = Recorder(self)  # events, rows, tracks, footprints: the run's outputs
        self.recorder.tables = record_tables  # False: the figures only (sweeps), no tracks or district counts
        self._finished = False
        self._terrain: Terrain | None = None
        self.spill_levels = kernels.spill_levels  # the World's: each cell's lowest wetting level, compiled (or None)
        self._asset_arrays: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None  # intact_assets

        # The shelter book and road state own their state; a change marks the routing fields stale.
        self.book = ShelterBook(
            self, shelter_table(self.city, scenario), log_event=self.log_event, changed=self._routes_changed
        )
        self.shelters: list[ShelterAgent] = self.book.agents  # the same list, in row order
        self.roads = RoadState(
            self.city, log_event=self.log_event, changed=self._routes_changed, clock=lambda: float(self.env.now)
        )
        self.net: ArcNetwork = build_arcs(self.city, scenario.movement, self.step_s)
        self.next_free = np.full(2 * self.net.n_arcs, -np.inf)
        self._build_population()
        self.casualty_cause = np.full(self.pop.n, -1, dtype=np.int16)
        self.cause_names: list[str] = []
        self._build_assets()
        self.mover = Mover(self)  # departures, routing fields, movement passes, admission to shelters
        self.mover.refresh_fields()
        self._check_reachable()

        if scenario.city.terrain.dem is not None:
            self.terrain()  # a DEM given is checked now, whether or not a hazard needs it
        self.hazards = [make_hazard(h, index=i) for i, h in enumerate(scenario.hazards)]
        for hz in self.hazards:
            hz.prepare(self)
        self._order_masks = [
            self._order_mask(o, f"alerting.orders.{i}") for i, o in enumerate(scenario.alerting.orders)
        ]
        self.alerting = Alerting(self)  # orders, triggers, channels, word of mouth, CAP files
        self._trigger_masks = self._check_triggers()
        self.recorder.setup_tracks(self._tracks_key)
        self.ops = ShelterOperations(self)  # desks, the registry, count reports, the overflow policy
        self._setup_cyber()
        self.locating = Locating(self)  # towers, app check-ins, cameras: the command centre's picture

        for i, order in enumerate(scenario.alerting.orders):
            self.env.process(self.alerting.order_process(order, self._order_masks[i], label=order.id or f"order-{i}"))
        for hz in self.hazards:
            hz.start(self)
        for sensor in self.sensors:  # after the hazards: a reading at t sees the hazards' state at t
            self.env.process(self.sensing.process(sensor))
        if scenario.shelter_operations.enabled:
            for row in range(len(self.shelters)):
                self.env.process(self.ops.report_process(row))
        for atk in self.cyber_attacks:
            atk.start(self)
        self.locating.start()
        self.env.process(self._tick_process())  # created last: it runs after same-time events

    # ------------------------------------------------------------------ building

    def _build_population(self) -> None:
        cfg = self.scenario.population
        total = cfg.count if cfg.count is not None else max(1, round(self.city.population_total))
        self.pop: Population = create_population(
            self.city.homes,
            total,
            cfg,
            rng=self.streams.get("population"),
            behaviour_rng=self.streams.get("behaviour"),
        )

    def _build_assets(self) -> None:
        cfg = self.scenario.network
        layer = read_sensor_layer(self.city, self.scenario.city.sensors) if self.scenario.city.sensors else []
        layer_assets, layer_links = (
            read_network_layer(self.scenario.city.network) if self.scenario.city.network else ([], [])
        )
        self.sensors: list[SensorConfig] = list(cfg.sensors) + layer
        self.asset_table = build_assets(
            self.city,
            cfg,
            shelters=self.book.table,
            sensor_layer=layer,
            layer_assets=layer_assets,
            snap_max_m=self.scenario.city.snap_max_m,
        )
        self.link_table = build_links(self.asset_table, cfg, extra=layer_links)
        self.network = NetworkState(
            self.env,
            self.asset_table,
            self.link_table,
            build_services(self.asset_table, cfg),
            stream=self.streams.get,
            log=self.log_event,
            repair_time_s=cfg.repair_time,
            min_share=cfg.min_share,
        )
        self.network.fewest_hops = kernels.route_search  # compiled once the kernels pay: the same routes
        self._asset_index = self.network.index
        self.sensing = Sensing(self)  # readings as measured, as received, and the last few received
        # Who hears which device: each home node's nearest siren (within earshot) and two nearest towers.
        self.served = serving_devices(self.city.node_xy, self.asset_table, siren_audible_m=cfg.siren_audible_m)

    def _check_triggers(self) -> list[np.ndarray]:
        known = {s.id for s in self.sensors}
        masks = []
        for i, trig in enumerate(self.scenario.alerting.triggers):
            field = f"alerting.triggers.{i}"
            if trig.sensor not in known:
                shown = ", ".join(sorted(known)) or "none"
                raise InputError.single(f"{field}.sensor", f"no sensor has id {trig.sensor!r} (sensors: {shown})")
            masks.append(self._order_mask(OrderConfig(at=0, zone=trig.zone, channels=trig.channels), field))
        return masks

    def _check_reachable(self) -> None:
        open_nodes = np.unique([s.node for s in self.shelters if s.is_open])
        if len(open_nodes) == 0:
            raise InputError.single("shelters", "no shelter is open at the start")
        reach = compute_field(self.net, WALK, self.roads.open[WALK][self.net.road], open_nodes)
        homes = np.unique(self.pop.home_node)
        if not np.isfinite(reach.dist[homes]).any():
            raise InputError.single("shelters", "no shelter can be reached from any home over the road network")

    def _order_mask(self, order: OrderConfig, field: str) -> np.ndarray:
        nodes = zone_node_mask(self.city, order.zone, field=f"{field}.zone")
        if order.channels:
            known = {c.type for c in self.scenario.alerting.channels}
            for j, ch in enumerate(order.channels):
                if ch not in known:
                    raise InputError.single(f"{field}.channels.{j}", f"channel {ch!r} is not in alerting.channels")
        return nodes[self.pop.home_node]

    def _setup_cyber(self) -> None:
        self.defenses = self.scenario.defenses
        self.inventory = build_inventory(self.network, self.defenses, self.streams.get("cyber/inventory"))
        self.cyber = CyberState(len(self.asset_table))
        self.pseudonymised = self.scenario.privacy.pseudonymise
        self.cyber_attacks = [make_attack(c, index=i) for i, c in enumerate(self.scenario.cyber)]
        for atk in self.cyber_attacks:
            atk.prepare(self)

    # -- the cyber world interface (sim.cyber.attacks.CyberWorld)

    def sensor_ids(self) -> set[str]:
        """Ids of every sensor."""
        return {s.id for s in self.sensors}

    def shelter_rows(self, target: str | None, *, field: str = "target") -> list[int]:
        """Shelter rows named by an id, ``all`` or None (``field`` names the input in errors)."""
        if target is None or target == "all":
            return list(range(len(self.shelters)))
        if target not in self.book.index:
            raise InputError.single(field, f"no shelter has id {target!r}")
        return [self.book.index[target]]

    def inject_reading(self, sensor_id: str, value: float) -> None:
        """A fake reading in the name of a sensor (an attack): it travels like a real one."""
        self.sensing.inject(sensor_id, value)

    # ------------------------------------------------------------------ World interface (for hazards)

    def stream(self, name: str) -> np.random.Generator:
        """A named random stream."""
        return self.streams.get(name)

    def log_event(self, kind: str, subject: str, detail: str = "") -> None:
        """Record an event at the current simulated time."""
        self.recorder.log_event(float(self.env.now), kind, subject, detail)

    def record_footprint(self, hazard: str, kind: str, bands: list[tuple[str, float, Any]]) -> None:
        """Record a hazard's footprint now (metric geometries, stored in lon/lat)."""
        self.recorder.record_footprint(float(self.env.now), hazard, kind, bands)

    # The run's tables, from the recorder.
    def timeseries(self) -> pd.DataFrame:
        """One row per recorded time."""
        return self.recorder.timeseries()

    def events(self) -> pd.DataFrame:
        """One row per event, in time order, with typed columns."""
        return self.recorder.events()

    def tracks(self) -> pd.DataFrame:
        """Sampled pseudonymous positions."""
        return self.recorder.tracks()

    def hazard_footprints(self) -> gpd.GeoDataFrame:
        """The hazards' footprints over time."""
        return self.recorder.hazard_footprints()

    def district_counts(self) -> pd.DataFrame:
        """People per district and state at every recorded time."""
        return self.recorder.district_counts()

    def shelter_ids(self) -> list[str]:
        """Ids of every shelter."""
        return [s.shelter_id for s in self.shelters]

    def shelter_xy(self) -> np.ndarray:
        """Metric positions of the shelters, in the order of ``shelter_ids``."""
        return self.book.xy_m.copy()

    def terrain(self) -> Terrain:
        """The city's ground height, built on first use (InputError for a bad DEM)."""
        if self._terrain is None:
            self._terrain = build_terrain(self.city, self.scenario.city.terrain, kernels.distance_on_grid)
        return self._terrain

    @property
    def terrain_source(self) -> str | None:
        """``dem`` or ``derived`` once a hazard asked for the terrain, else None."""
        return None if self._terrain is None else self._terrain.source

    def assets(self) -> pd.DataFrame:
        """Network and infrastructure assets with their state: ``damaged``, ``power_state``, ``up``."""
        table = self.asset_table.copy()
        table["damaged"] = self.network.damaged.copy()
        table["power_state"] = np.array(["grid", "battery", "off"])[self.network.power]
        table["up"] = self.network.operational()
        return table

    def intact_assets(self, *, but: tuple[str, ...] = ()) -> tuple[list[str], np.ndarray]:
        """Ids and metric positions of the assets not damaged, kinds ``but`` left out.

        What ``assets()`` says, without a table per call: a flood judges them every minute.
        """
        if self._asset_arrays is None:
            t = self.asset_table
            self._asset_arrays = (t["id"].to_numpy(), t["kind"].to_numpy(), t[["x", "y"]].to_numpy())
        ids, kind, xy = self._asset_arrays
        keep = ~self.network.damaged & ~np.isin(kind, list(but))
        return ids[keep].tolist(), xy[keep]

    def links(self) -> pd.DataFrame:
        """Network links with their state now (``up``)."""
        table = self.link_table.copy()
        table["up"] = self.network.usable_links()
        return table

    def fail_assets(self, ids: list[str], *, cause: str) -> None:
        """Damage assets (one ``asset_failed`` event each); they stay down."""
        self.network.damage(list(ids), cause=cause)

    def set_grid(self, substations: list[str], *, on: bool, cause: str) -> None:
        """Cut or restore the grid supply of substations."""
        self.network.set_grid(list(substations), on=on, cause=cause)

    def cut_links(self, rows: np.ndarray, *, cut: bool, cause: str) -> None:
        """Cut network links or lift this cause's cut."""
        self.network.cut_links(rows, cut=cut, cause=cause)

    def close_roads(self, roads: np.ndarray, *, cause: str, modes: tuple[str, ...] = ("walk", "car")) -> None:
        """Close road segments to ``modes``; people on them walk on to the end, nobody enters."""
        self.roads.set_closed(roads, closed=True, cause=cause, modes=modes)

    def reopen_roads(self, roads: np.ndarray, *, cause: str, modes: tuple[str, ...] = ("walk", "car")) -> None:
        """Lift ``cause``'s closure of road segments (another cause may still close them)."""
        self.roads.set_closed(roads, closed=False, cause=cause, modes=modes)

    def close_shelters(self, shelter_ids: list[str], *, cause: str, damaged: bool = False) -> None:
        """Close shelters: occupants stay, newcomers are sent on; ``damaged`` marks hazard damage."""
        self.book.close(shelter_ids, cause=cause, damaged=damaged)

    def reopen_shelters(self, shelter_ids: list[str], *, cause: str) -> None:
        """Reopen shelters (not damaged ones)."""
        self.book.reopen(shelter_ids, cause=cause)

    def _routes_changed(self) -> None:
        if hasattr(self, "mover"):  # before the mover exists, its first fields see the change anyway
            self.mover.fields_dirty = True

    def positions(self, idx: np.ndarray, t: float) -> np.ndarray:
        """Metric positions of citizens ``idx`` at ``t`` (see ``Mover.positions``)."""
        return self.mover.positions(idx, t)

    def exposed_citizens(self, wet: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Citizens outside shelters and alive (``wet``: at wet nodes or along roads): index, node, xy on roads."""
        p = self.pop  # (only the unsettled can be: ``Settled.live``)
        idx, node = exposed(p.state, p.arc, p.node, SHELTERED, CASUALTY, wet, self.mover.settled.live)
        return idx, node, self.mover.positions(idx[node < 0], float(self.env.now))

    def vulnerable(self, idx: np.ndarray) -> np.ndarray:
        """Which of citizens ``idx`` are children or have limited mobility (a lower limit in water)."""
        return self.pop.limited_mobility[idx] | self.pop.child[idx]

    def citizens_at_home(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Citizens at home (or trapped there): indices, home nodes, household ids."""
        p = self.pop
        idx = np.nonzero((p.state == AT_HOME) | (p.state == TRAPPED))[0]
        return idx, p.home_node[idx], p.household[idx]

    def make_casualties(self, idx: np.ndarray, *, cause: str) -> None:
        """Citizens ``idx`` become casualties of ``cause``; they stay where they are."""
        p = self.pop
        idx = np.asarray(idx, dtype=np.int64)
        idx = idx[(p.state[idx] != CASUALTY) & (p.state[idx] != SHELTERED)]
        if len(idx) == 0:
            return
        if cause not in self.cause_names:
            self.cause_names.append(cause)
        now = float(self.env.now)
        on = idx[p.arc[idx] >= 0]
        if len(on):  # stop them at the nearer end of their arc
            span = np.maximum(p.t_ready[on] - p.t_entry[on], 1e-9)
            frac = np.clip((now - p.t_entry[on]) / span, 0.0, 1.0)
            a = p.arc[on]
            p.node[on] = np.where(frac < 0.5, self.net.tail[a], self.net.head[a])
            p.arc[on] = -1
        at_home = idx[(p.state[idx] == AT_HOME) | (p.state[idx] == TRAPPED)]
        p.node[at_home] = p.home_node[at_home]
        p.state[idx] = CASUALTY
        self.casualty_cause[idx] = self.cause_names.index(cause)
        self.log_event("casualties", cause, f"count={len(idx)}")

    def trap(self, idx: np.ndarray, *, until: float, cause: str) -> None:
        """Citizens ``idx`` at home are trapped until ``until``."""
        p = self.pop
        idx = np.asarray(idx, dtype=np.int64)
        idx = idx[p.state[idx] == AT_HOME]
        if len(idx) == 0:
            return
        p.state[idx] = TRAPPED
        self.log_event("trapped", cause, f"count={len(idx)}; until={until:g}")
        self.env.process(self._release(idx, until, cause))

    def _release(self, idx: np.ndarray, until: float, cause: str):
        yield self.env.timeout(max(until - float(self.env.now), 0.0))
        p = self.pop
        idx = idx[p.state[idx] == TRAPPED]
        if len(idx) == 0:
            return
        p.state[idx] = AT_HOME
        leaving = idx[np.isfinite(p.depart_t[idx])]
        p.depart_t[leaving] = np.maximum(p.depart_t[leaving], float(self.env.now))
        if len(leaving):
            self.mover.next_departure = min(self.mover.next_departure, float(p.depart_t[leaving].min()))
        self.log_event("freed", cause, f"count={len(idx)}")

    # ------------------------------------------------------------------ operator actions (external driving)

    def close_road(
        self, *, ids: Iterable[str | int] = (), names: Iterable[str] = (), area: Any = None, cause: str = "operator"
    ) -> int:
        """Close roads chosen by id, name or area now; returns how many were closed."""
        roads = self.roads.select(ids=ids, names=names, area=area)
        self.close_roads(roads, cause=cause)
        return len(roads)

    def reopen_road(
        self, *, ids: Iterable[str | int] = (), names: Iterable[str] = (), area: Any = None, cause: str = "operator"
    ) -> int:
        """Reopen roads chosen by id, name or area now (closures of this cause); returns how many."""
        roads = self.roads.select(ids=ids, names=names, area=area)
        self.reopen_roads(roads, cause=cause)
        return len(roads)

    def isolate_device(self, asset_id: str, *, cause: str = "operator") -> None:
        """Cut a device off the network now (an operator's containment)."""
        if asset_id not in self._asset_index:
            raise InputError.single("action.id", f"no device has id {asset_id!r}")
        self.network.isolate([self._asset_index[asset_id]])
        self.log_event("device_isolated", asset_id, f"cause={cause}")

    def inject_attack(self, config: Any) -> None:
        """Start an attack (a validated attack config) on the running simulation."""
        if config.at < self.env.now:
            config = config.model_copy(update={"at": self.env.now})
        atk = make_attack(config, index=len(self.cyber_attacks))
        atk.prepare(self)
        self.cyber_attacks.append(atk)
        atk.start(self)

    def open_shelter(
        self,
        shelter_id: str,
        *,
        capacity: int | None = None,
        location: tuple[float, float] | None = None,
        cause: str = "operator",
    ) -> None:
        """Open a shelter now (a closed one, or a new one at ``location`` with ``capacity``)."""
        if shelter_id in self.book.index:
            if capacity is not None:
                self.book.resize(shelter_id, capacity)
            self.reopen_shelters([shelter_id], cause=cause)
            return
        if location is None or capacity is None or capacity < 0:
            raise InputError.single("action", "a new shelter needs a location [lon, lat] and a capacity >= 0")
        self.book.add(shelter_id, location=location, capacity=capacity, city=self.city, cause=cause)
        self.ops.add_shelter(int(capacity))

    def close_shelter(self, shelter_id: str, *, cause: str = "operator") -> None:
        """Close a shelter now."""
        self.book.row(shelter_id, field="action.shelter")
        self.close_shelters([shelter_id], cause=cause)

    def issue_order(self, zone: Any = "all", *, channels: list[str] | None = None, label: str = "operator") -> int:
        """Issue an evacuation order now; returns the number of citizens newly ordered."""
        order = OrderConfig(at=self.env.now, zone=zone, channels=channels)
        mask = self._order_mask(order, "action")
        return self.alerting.issue(order, mask, label=label)

    def inject_hazard(self, config: Any) -> None:
        """Start a hazard (a validated hazard config) on the running simulation."""
        hz = make_hazard(config, index=len(self.hazards))
        hz.prepare(self)
        self.hazards.append(hz)
        if config.at < self.env.now:
            config = config.model_copy(update={"at": self.env.now})
            hz.config = config
        hz.start(self)

    # ------------------------------------------------------------------ clock

    @property
    def now(self) -> float:
        """Simulated seconds since the start."""
        return float(self.env.now)

    def advance_to(self, t_s: float, *, progress: ProgressCallback | None = None) -> None:
        """Run the simulation up to ``t_s`` (at most the scenario's duration)."""
        target = min(float(t_s), self.duration)
        if target <= self.env.now:
            return
        if progress is None:
            self.env.run(until=target)
            return
        chunk = max(self.step_s, self.duration / 200.0)
        while self.env.now < target:
            self.env.run(until=min(target, self.env.now + chunk))
            progress(float(self.env.now), self.duration)

    def step(self) -> None:
        """Mesa's step: advance by one movement step."""
        self.advance_to(self.env.now + self.step_s)

    def run(self, *, progress: ProgressCallback | None = None) -> None:
        """Run to the end of the scenario and record the final state."""
        self.advance_to(self.duration, progress=progress)
        self.finish()

    def finish(self) -> None:
        """Record the final row (once)."""
        if not self._finished:
            self.recorder.record(self.env.now, force=True)
            self._finished = True

    def _tick_process(self):
        yield self.env.timeout(0)
        while self.env.now < self.duration:
            t0 = float(self.env.now)
            t1 = min(t0 + self.step_s, self.duration)
            self.recorder.record(t0)
            self.mover.advance(t0, t1)
            self.ops.operate(t0, t1)
            yield self.env.timeout(t1 - t0)

    # ------------------------------------------------------------------ orders and departures

    def siren_sounds(self, row: int, group: np.ndarray, when: float, reach: Callable) -> None:
        """A siren got the order: it sounds, unless an attacker silenced it."""
        if self.network.compromised[row] and self.cyber.silences(row):
            self.log_event("siren_silent", str(self.network.asset_ids[row]), f"people={len(group)}")
            return
        reach(group, when)

    def false_alarm(self, zone: Any, *, label: str, served_by: int | None = None) -> int:
        """A fake evacuation order (an attack): see ``Alerting.false_alarm``."""
        return self.alerting.false_alarm(zone, label=label, served_by=served_by)

    # ------------------------------------------------------------------ results

    def channel_receipts(self) -> list[np.ndarray | None]:
        """Per channel (in scenario order): each citizen's receipt time, infinite if never (None: reached nobody)."""
        return [self.alerting.chan_receipt.get(i) for i in range(len(self.scenario.alerting.channels))]

    def service_availability(self) -> dict[str, dict[str, Any]]:
        """Per service: the share of simulated time it worked and its mean level (share served).

        ``alerting`` also says whether the sirens were dark (``sirens_dark``) and for what share
        of the time (``sirens_dark_share``).
        """
        now = float(self.env.now)
        up = self.network.availability(now)
        levels = self.network.mean_levels(now)
        out: dict[str, dict[str, Any]] = {k: {"availability": v, "level": levels.get(k, v)} for k, v in up.items()}
        if "alerting" in out and "alerting_siren" in up:
            dark = round(1.0 - up["alerting_siren"], 6)
            out["alerting"] |= {"sirens_dark": dark > 0, "sirens_dark_share": dark}
        return out

    def cap_files(self) -> dict[str, str]:
        """CAP 1.2 XML text of every order, by run-directory path."""
        return dict(self.alerting.cap_files)

    def registrations(self, idx: np.ndarray | None = None) -> pd.DataFrame:
        """One row per registered citizen (pseudonymous): see ``ShelterOperations.registrations``."""
        return self.ops.registrations(idx)

    def registry_records(self) -> dict[str, int]:
        """What the registry's data store holds now, by sensitivity class (for data-theft attacks)."""
        return self.ops.registry_records()

    def shelter_operations_summary(self) -> dict[str, Any]:
        """Registration, relatives and overflow figures for the summary."""
        return self.ops.summary()


def _satisfies_the_interfaces(model: EvacuationModel) -> tuple[World, CyberWorld, ChannelWorld]:
    """Never called: the type checker proves here that the model satisfies the declared interfaces.

    Hazards (``World``), attacks (``CyberWorld``) and alert channels (``ChannelWorld``) declare
    what they use; mypy, in the test command, fails if the model stops offering any of it.
    """
    return model, model, model
