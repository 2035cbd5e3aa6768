"""Engine speed: the built-in Kotka scenario, a 100,000-citizen synthetic city, and our
vectorised engine side by side with a plain per-agent Mesa implementation of the same rule.

Run: ``.venv/bin/python -m benchmarks.bench_engine [--quick]``; numbers go to docs/performance.md
by hand (these machines are shared and noisy: never turn these into timed tests).
"""

from __future__ import annotations

import argparse
import platform
import time
from typing import Any

import mesa
import numpy as np

from benchmarks.usage import steal_into
from sim.agents.citizens import EVACUATING, SHELTERED, WALK
from sim.engine import kernels
from sim.engine.model import EvacuationModel
from sim.engine.routing import compute_field
from sim.scenario import load_scenario

MILLION = [
    "city.synthetic.population=1000000",
    "city.synthetic.area_km2=300",
    "city.synthetic.block_m=100",
    "output.tracks.max_citizens=2000",
]


def timed_run(path: str, overrides: list[str]) -> tuple[float, float, EvacuationModel]:
    """Wall seconds to build and to run a scenario."""
    scn = load_scenario(path, overrides)
    t0 = time.perf_counter()
    model = EvacuationModel(scn)
    t1 = time.perf_counter()
    model.run()
    t2 = time.perf_counter()
    return t1 - t0, t2 - t1, model


class CitizenAgent(mesa.Agent):
    """One citizen as a Mesa agent, following the same point-queue rule one at a time."""

    def __init__(self, model: PerAgentModel, node: int, speed: float, depart: float):
        super().__init__(model)
        self.node, self.speed, self.depart = node, speed, depart
        self.arc, self.t_ready, self.sheltered, self.stuck = -1, depart, False, False

    def ready(self) -> bool:
        """Whether this citizen has something to do before the step ends."""
        return not self.sheltered and not self.stuck and self.t_ready < self.model.t1

    def hop(self) -> None:
        """One hop: leave the current arc, enter a shelter here, or enter the next arc."""
        m = self.model
        if self.arc >= 0:
            self.node = int(m.net.head[self.arc])
            self.arc = -1
            m.moved = True
        if m.room.get(self.node, 0) > 0:
            m.room[self.node] -= 1
            self.sheltered = True
            if m.room[self.node] == 0:
                m.filled = True  # routes change after this pass, as in the engine
            return
        best, best_cost = -1, np.inf
        for k in range(m.net.out_ptr[self.node], m.net.out_ptr[self.node + 1]):
            a = int(m.net.out_arcs[k])
            if not m.net.usable[WALK][a] or m.dist[m.net.head[a]] >= m.dist[self.node]:
                continue
            cost = max(m.next_free[a], m.t0) + m.net.ref_time_s[WALK][a] + m.dist[m.net.head[a]]
            if cost < best_cost:
                best, best_cost = a, cost
        if best < 0:
            self.stuck = True
            return
        entry = max(self.t_ready, m.t0, m.next_free[best])
        if entry >= m.t1:
            self.stuck = True  # waits for the next step
            return
        m.next_free[best] = entry + m.net.headway_s[best]
        self.arc = best
        self.t_ready = entry + m.net.length_m[best] / self.speed
        m.moved = True


class PerAgentModel(mesa.Model):
    """The baseline: every citizen a Mesa agent, stepped with ``shuffle_do``."""

    def __init__(self, ref: EvacuationModel):
        super().__init__(seed=1)
        self.net = ref.net
        self.ref = ref
        self.dist = ref.mover.routes.field(WALK).dist
        self.filled = False
        self.next_free = np.full(ref.net.n_arcs, -np.inf)
        self.room: dict[int, int] = {}
        for s in ref.shelters:
            self.room[s.node] = self.room.get(s.node, 0) + s.capacity
        p = ref.pop
        depart = np.where(np.isfinite(p.depart_t), p.depart_t, np.inf)
        for i in range(p.n):
            CitizenAgent(self, int(p.home_node[i]), float(p.walk_speed_mps[i]), float(depart[i]))
        self.t0, self.t1 = 0.0, 0.0

    def advance(self, t0: float, t1: float) -> None:
        """One movement step: passes of one hop each, first come first served, as in the engine."""
        self.t0, self.t1 = t0, t1
        self.agents.do(lambda a: setattr(a, "stuck", False))
        self.moved = True
        while self.moved:
            self.moved = False
            self.agents.select(lambda a: a.ready()).sort("t_ready").do("hop")
            if self.filled:  # a shelter filled: everyone heads for the nearest one with room
                self.filled = False
                targets = np.array(sorted(node for node, room in self.room.items() if room > 0), dtype=np.int64)
                open_arcs = np.ones(self.net.n_arcs, dtype=bool)
                self.dist = compute_field(self.net, WALK, open_arcs, targets).dist
                self.agents.do(lambda a: setattr(a, "stuck", False))
                self.moved = True


def compare_with_per_agent(n: int, hours: float, repeat: int = 5, rounds: int = 3) -> dict[str, Any]:
    """Same city, citizens, orders and rule: vectorised engine versus per-agent Mesa.

    In each of ``rounds`` rounds ours is timed ``repeat`` times (the same run from fresh models)
    and Mesa once, right after: a run of a tenth of a second moves by 20 % with the machine's
    moment, and Mesa's run of 10 to 20 s by a quarter from one minute to the next (the seventh to
    fourteenth sessions saw 8 to 14 s for the same first hour). Each round's ratio is Mesa's time
    over ours' median in that round, both at the same moment; the ratio reported is the rounds'
    median, beside the medians of all of ours and of Mesa's runs.
    """
    overrides = [
        f"duration={hours}h",
        f"city.synthetic.population={n}",
        "city.synthetic.area_km2=16",
        "population.mode_share.walk=1",
        "population.mode_share.car=0",
        "alerting.departure_delay={distribution: rayleigh, scale: 600}",
        # The baseline records nothing and runs no shelter desks, so neither do we here:
        # movement against movement.
        "output.tracks.max_citizens=0",
        "output.record_every=86400",
        "shelter_operations.enabled=false",
        "location.enabled=false",  # nor a command centre's picture of where people are
        # The same rule as the baseline: point queues at free speed on familiar routes (issue 18's
        # density, storage and re-planning are ours alone; bench_million measures them).
        "movement.density_speed=false",
        "movement.storage=false",
        "movement.informed_share=0",
    ]
    scn = load_scenario("scenarios/synthetic_large_city.yaml", overrides)
    # The same run again and again: the first loads the compiled kernels from their cache as it
    # calls them (once per process, like an import; a sweep's worker or the app's process pays it
    # once), the next are timed. The first time and the others' median are reported.
    first = EvacuationModel(scn)
    first.advance_to(scn.step)
    t0 = time.perf_counter()
    first.run()
    t_first = time.perf_counter() - t0
    times, mesa_times, ratios = [], [], []
    mesa_steal: list[float] = []  # the machine's steal time during each of Mesa's runs (Linux)
    sheltered_mesa = 0
    for _ in range(max(rounds, 1)):
        mine = []
        for _ in range(max(repeat, 1)):
            ours = EvacuationModel(scn)
            ours.advance_to(scn.step)  # orders issued, departures drawn
            t0 = time.perf_counter()
            ours.run()
            mine.append(time.perf_counter() - t0)
            assert np.array_equal(first.pop.state, ours.pop.state)  # the same run
        fresh = EvacuationModel(scn)
        fresh.advance_to(scn.step)
        baseline = PerAgentModel(fresh)
        with steal_into(mesa_steal):
            t0 = time.perf_counter()
            t = 0.0
            while t < scn.duration:
                baseline.advance(t, t + scn.step)
                t += scn.step
            mesa_times.append(time.perf_counter() - t0)
        sheltered_mesa = sum(a.sheltered for a in baseline.agents)
        times += mine
        ratios.append(mesa_times[-1] / float(np.median(mine)))
    t_ours, t_mesa = float(np.median(times)), float(np.median(mesa_times))
    return {
        "citizens": n,
        "hours": hours,
        "ours_s": t_ours,
        "ours_min_s": min(times),
        "ours_max_s": max(times),
        "ours_first_s": t_first,
        "mesa_s": t_mesa,
        "mesa_min_s": min(mesa_times),
        "mesa_max_s": max(mesa_times),
        "ratio": float(np.median(ratios)),
        "ratio_min": min(ratios),
        "ratio_max": max(ratios),
        "ratios": [float(r) for r in ratios],  # each round's, in order (bench_issue20 judges every round)
        "mesa_steal_s": mesa_steal,  # the hypervisor's steal during each round's Mesa run (busy neighbours)
        "ratio_first": t_mesa / t_first,
        "sheltered_ours": int((first.pop.state == SHELTERED).sum()),
        "sheltered_mesa": int(sheltered_mesa),
        "evacuating_ours": int((first.pop.state == EVACUATING).sum()),
        # Loaded kernels serve every call (SAFECITY_KERNELS=1, or an earlier large run in this process).
        "kernels": "loaded" if kernels._compiled is not None else "not loaded",
    }


def main() -> None:
    """Print the benchmark table."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="smaller runs, for a smoke test")
    parser.add_argument("--million", action="store_true", help="also run 1,000,000 citizens")
    args = parser.parse_args()
    print(f"machine: {platform.processor() or platform.machine()}, python {platform.python_version()}")
    build, run, m = timed_run("scenarios/kotka_district_evacuation.yaml", [])
    print(f"kotka district (3 h, {m.pop.n} citizens, {m.city.n_roads} segments): build {build:.2f}s run {run:.2f}s")
    build, run, m = timed_run("scenarios/kotka_district_evacuation.yaml", ["alerting.orders=[{at: 0, zone: all}]"])
    print(f"kotka whole city (3 h, {m.pop.n} citizens all ordered): build {build:.2f}s run {run:.2f}s")
    pop = "20000" if args.quick else "100000"
    build, run, m = timed_run("scenarios/synthetic_large_city.yaml", [f"city.synthetic.population={pop}"])
    print(f"synthetic ({pop} citizens, {m.city.n_roads} segments, 3 h): build {build:.2f}s run {run:.2f}s")
    build, run, m = timed_run("scenarios/kotka_river_flood.yaml", [])
    print(f"kotka river flood (4 h, flood judged every 60 s, {m.pop.n} citizens): build {build:.2f}s run {run:.2f}s")
    build, run, m = timed_run("scenarios/coastal_quake_tsunami.yaml", [])
    print(f"coastal quake + tsunami (2 h, {m.pop.n} citizens): build {build:.2f}s run {run:.2f}s")
    flood = "hazards=[{type: flood, at: 0, update_every: 60, stages: [{at: 0, level_m: 0.5}, {at: 3h, level_m: 4.0}]}]"
    build, run, m = timed_run("scenarios/synthetic_large_city.yaml", [f"city.synthetic.population={pop}", flood])
    print(f"synthetic ({pop} citizens) with a river flood judged every 60 s: build {build:.2f}s run {run:.2f}s")
    if args.million:
        build, run, m = timed_run(
            "scenarios/synthetic_large_city.yaml",
            MILLION,
        )
        print(f"synthetic (1,000,000 citizens, {m.city.n_roads} segments, 3 h): build {build:.2f}s run {run:.2f}s")
        build, run, m = timed_run(
            "scenarios/synthetic_large_city.yaml",
            [*MILLION, flood],
        )
        print(f"synthetic (1,000,000 citizens) with the river flood: build {build:.2f}s run {run:.2f}s")
    n = 2000 if args.quick else 20000
    # The horizon is 3 simulated hours (as for its other targets); the first hour is the busiest.
    for hours in (0.5,) if args.quick else (3.0, 1.0):
        res = compare_with_per_agent(n, hours)
        print(
            "per-agent Mesa vs vectorised: "
            + ", ".join(f"{k}={v:.3g}" if isinstance(v, float) else f"{k}={v}" for k, v in res.items() if k != "ratios")
        )


if __name__ == "__main__":
    main()
