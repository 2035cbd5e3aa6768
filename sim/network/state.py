"""The running network: asset and link states, power and batteries, messages, services.

Everything happens on the model's one SimPy clock:

- **Links** go down and come back as alternating renewal processes: up periods exponential with
  mean ``a / (1 - a) * R`` and repairs exponential with mean ``R`` (``network.repair_time``), so
  the long-run share of time up is the link's availability ``a``; each link draws from its own
  stream ``network/link/<id>``. Hazards and operators can also cut links.
- **Power**: an asset is fed by its substation; when the substation fails (damage, outage) the
  asset runs on battery for ``battery_h`` hours, then goes dark until power returns.
- **Messages** are SimPy processes: routed over working links and assets, preferring fibre (and
  other wired links), then radio, then satellite; they queue for each link's bandwidth, pay its
  latency, may be lost with its loss probability (then retried twice, 5 s apart). Every delivery
  and every loss is an event.
- **Services** are up when their dependency chain works (``sim.network.topology``); their state
  changes are recorded exactly, so availability is the share of simulated time up.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import simpy
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import breadth_first_order

from sim.core import fpmath
from sim.network.routes import fewest_hops_vectorised
from sim.network.topology import ALERT_SERVICES, TIER
from sim.scenario.network import ServiceConfig

GRID, BATTERY, OFF = 0, 1, 2
MAX_ATTEMPTS = 3
RETRY_S = 5.0
MESSAGE_BYTES = {"alert": 2000, "reading": 200, "report": 1000, "notification": 500}

LogFn = Callable[[str, str, str], None]
StreamFn = Callable[[str], np.random.Generator]


@dataclass
class _Tier:
    """One tier's graph (links usable, of that tier or lower, between working assets) and its searches."""

    links: np.ndarray  # which links are its edges
    graph: csr_matrix
    pred: dict[int, np.ndarray] = field(default_factory=dict)  # shortest-path predecessors from a source
    tree_to: dict[int, np.ndarray] = field(default_factory=dict)  # ... toward a destination
    reach: dict[tuple[int, bool], np.ndarray] = field(default_factory=dict)  # reachable from (or to) a source
    pairs: dict[tuple[int, int], int] | None = None  # (u, v): the link an edge u -> v stands for


class NetworkState:
    """Asset, link, power and service state of the running network."""

    # The search behind routes: :func:`fewest_hops_vectorised`, or a copy giving the same predecessors.
    fewest_hops: Callable[[csr_matrix, int], np.ndarray] = staticmethod(fewest_hops_vectorised)

    def __init__(
        self,
        env: simpy.Environment,
        assets: pd.DataFrame,
        links: pd.DataFrame,
        services: list[ServiceConfig],
        *,
        stream: StreamFn,
        log: LogFn,
        repair_time_s: float,
        min_share: float,
    ):
        self.env = env
        self.assets = assets.reset_index(drop=True)
        self.links = links.reset_index(drop=True)
        self.services = services
        self.log = log
        self.min_share = min_share
        self.index = {a: i for i, a in enumerate(self.assets["id"])}
        n, m = len(self.assets), len(self.links)
        self.kind = self.assets["kind"].to_numpy()
        self.power_of = np.array([self.index.get(p, -1) if p else -1 for p in self.assets["power"]], dtype=np.int64)
        self.battery_s = self.assets["battery_h"].to_numpy(dtype=float) * 3600.0
        self.damaged = np.zeros(n, dtype=bool)
        self.grid_cut = np.zeros(n, dtype=bool)  # substations cut by an outage
        self.power = np.full(n, GRID, dtype=np.int8)
        # Cyber state: compromised devices still run (that is the danger); isolated ones are cut off.
        self.compromised = np.zeros(n, dtype=bool)
        self.isolated = np.zeros(n, dtype=bool)
        self.server_loss = np.zeros(n)  # drop probability of requests through an overloaded server
        self.server_delay = np.zeros(n)  # mean response time added by its queue, s
        self.intercept_types: set[str] = set()  # wireless link types an eavesdropper listens on
        self.intercepted: dict[str, int] = {}
        self._power_epoch = np.zeros(n, dtype=np.int64)
        self.a = np.array([self.index[x] for x in self.links["a"]], dtype=np.int64)
        self.b = np.array([self.index[x] for x in self.links["b"]], dtype=np.int64)
        self.tier = np.array([TIER[t] for t in self.links["type"]], dtype=np.int8)
        self.directed = self.links["directed"].to_numpy(dtype=bool)
        self.latency = self.links["latency_s"].to_numpy(dtype=float)
        self.bandwidth_bps = self.links["bandwidth_mbps"].to_numpy(dtype=float) * 1e6
        self.loss = self.links["loss"].to_numpy(dtype=float)
        self.link_up = np.ones(m, dtype=bool)
        self.link_cut: dict[str, np.ndarray] = {}
        self.busy_until = np.zeros(m)  # each link sends one message at a time, first come first served
        self.asset_ids = self.assets["id"].to_numpy()
        self.link_ids = self.links["id"].to_numpy()
        self.link_types = self.links["type"].to_numpy()
        self._msg_rng = stream("network/messages")
        self._version = 0
        self._cache: dict[Any, Any] = {}  # cleared on every change
        self._tiers: dict[int, _Tier] = {}  # each tier's graph and searches, while its links stay the same
        self.service_up: dict[str, bool] = {}
        self.transitions: list[tuple[float, str, bool]] = []
        self.service_level: dict[str, float] = {}  # share of requests or people served now
        self.level_changes: list[tuple[float, str, float]] = []
        avail = self.links["availability"].to_numpy(dtype=float)
        for li in range(m):
            if avail[li] < 1.0:
                rng = stream(f"network/link/{self.links['id'].iat[li]}")
                self.link_up[li] = rng.random() < avail[li]
                env.process(self._renewal(li, avail[li], repair_time_s, rng))
        self.evaluate_services()

    # ------------------------------------------------------------------ state

    def operational(self) -> np.ndarray:
        """Assets that work now: not damaged, not cut from the grid (substations), powered.

        Cached until the next change (every change of these arrays ends in ``_changed``).
        """
        if "operational" not in self._cache:
            self._cache["operational"] = ~self.damaged & ~self.grid_cut & (self.power != OFF) & ~self.isolated
        return self._cache["operational"]

    def usable_links(self) -> np.ndarray:
        """Links that are up and not cut."""
        if "usable" not in self._cache:
            cut = np.zeros(len(self.links), dtype=bool)
            for mask in self.link_cut.values():
                cut |= mask
            self._cache["usable"] = self.link_up & ~cut
        return self._cache["usable"]

    def _changed(self) -> None:
        self._version += 1
        self._cache.clear()
        self.evaluate_services()

    def _renewal(self, li: int, availability: float, repair_s: float, rng: np.random.Generator):
        up_mean = availability / (1.0 - availability) * repair_s
        while True:
            wait = fpmath.exponential_scalar(rng, up_mean if self.link_up[li] else repair_s)
            yield self.env.timeout(wait)
            self.link_up[li] = not self.link_up[li]
            self.log("link_up" if self.link_up[li] else "link_down", str(self.link_ids[li]), "cause=random")
            self._changed()

    def damage(self, ids: list[str], *, cause: str) -> list[str]:
        """Assets damaged by a hazard (they stay down); returns those newly damaged."""
        newly = []
        for a in ids:
            i = self.index[a]
            if not self.damaged[i]:
                self.damaged[i] = True
                newly.append(a)
                self.log("asset_failed", a, f"kind={self.kind[i]}; cause={cause}")
        if newly:
            self._power_changed(cause)
            self._changed()
        return newly

    def set_grid(self, substations: list[str], *, on: bool, cause: str) -> None:
        """Cut or restore the grid supply of substations (a power outage)."""
        changed = False
        for s in substations:
            i = self.index[s]
            if self.grid_cut[i] == (not on):
                continue
            self.grid_cut[i] = not on
            changed = True
            self.log("power_restored" if on else "power_cut", s, f"cause={cause}")
        if changed:
            self._power_changed(cause)
            self._changed()

    def _power_changed(self, cause: str) -> None:
        feeding = ~self.damaged & ~self.grid_cut
        for i in range(len(self.assets)):
            p = self.power_of[i]
            if p < 0:
                continue
            if feeding[p]:
                if self.power[i] != GRID:
                    self.power[i] = GRID
                    self._power_epoch[i] += 1
                    self.log("asset_power_restored", self.assets["id"].iat[i], f"cause={cause}")
            elif self.power[i] == GRID:
                self._power_epoch[i] += 1
                if self.battery_s[i] > 0:
                    self.power[i] = BATTERY
                    self.env.process(self._battery(i, self._power_epoch[i], cause))
                else:
                    self.power[i] = OFF
                    self.log("asset_power_off", self.assets["id"].iat[i], f"battery=0h; cause={cause}")

    def _battery(self, i: int, epoch: int, cause: str):
        yield self.env.timeout(self.battery_s[i])
        if self._power_epoch[i] == epoch and self.power[i] == BATTERY:
            self.power[i] = OFF
            self.log(
                "asset_power_off", self.assets["id"].iat[i], f"battery={self.battery_s[i] / 3600:g}h; cause={cause}"
            )
            self._changed()

    def cut_links(self, link_rows: np.ndarray, *, cut: bool, cause: str) -> None:
        """Cut links (a hazard, an attack, an operator) or lift that cause's cut."""
        mask = self.link_cut.setdefault(cause, np.zeros(len(self.links), dtype=bool))
        rows = np.asarray(link_rows, dtype=np.int64)
        before = mask[rows].copy()
        mask[rows] = cut
        for r in rows[before != cut]:
            self.log("link_cut" if cut else "link_restored", str(self.links["id"].iat[r]), f"cause={cause}")
        if (before != cut).any():
            self._changed()

    # ------------------------------------------------------------------ reachability

    def set_server_load(self, row: int, *, loss: float, delay_s: float) -> None:
        """A server's share of requests dropped and its response delay (denial of service)."""
        self.server_loss[row] = loss
        self.server_delay[row] = delay_s
        self.set_cyber()

    def compromise(self, row: int) -> None:
        """An attacker controls a device (it still runs: that is the danger)."""
        self.compromised[row] = True
        self.set_cyber()

    def reimage(self, rows: np.ndarray | list[int]) -> None:
        """Devices wiped and reinstalled: no longer compromised nor isolated."""
        idx = np.asarray(rows, dtype=np.int64)
        self.compromised[idx] = False
        self.isolated[idx] = False
        self.set_cyber()

    def isolate(self, rows: np.ndarray | list[int], *, on: bool = True) -> None:
        """Cut devices off the network (or reconnect them), keeping the caches right."""
        self.isolated[np.asarray(rows, dtype=np.int64)] = on
        self.set_cyber()

    def set_cyber(self) -> None:
        """Re-judge routes and services after a change in cyber state."""
        self._changed()

    def serving(self) -> np.ndarray:
        """Assets that work and can serve: operational and not drowned by a denial of service."""
        return self.operational() & (self.server_loss < 0.5)

    def _tier(self, max_tier: int) -> _Tier:
        """The graph of working links up to ``max_tier`` and the searches made on it.

        Kept across changes that leave this graph as it was (a satellite link flapping leaves the
        fibre graph alone; a denial of service changes no link): a search on the same graph finds
        the same paths, so only a different set of links starts afresh.
        """
        key = ("tier", max_tier)
        if key not in self._cache:
            ok = self.usable_links() & (self.tier <= max_tier)
            op = self.operational()
            ok &= op[self.a] & op[self.b]
            kept = self._tiers.get(max_tier)
            if kept is None or not np.array_equal(kept.links, ok):
                src = np.concatenate([self.a[ok], self.b[ok & ~self.directed]])
                dst = np.concatenate([self.b[ok], self.a[ok & ~self.directed]])
                n = len(self.assets)
                kept = _Tier(ok, csr_matrix((np.ones(len(src)), (src, dst)), shape=(n, n)))
                self._tiers[max_tier] = kept
            self._cache[key] = kept
        tier: _Tier = self._cache[key]
        return tier

    def reachable(self, src: int, *, reverse: bool = False, max_tier: int = 2) -> np.ndarray:
        """Assets a message from ``src`` can reach now (``reverse``: that can reach ``src``). Read-only."""
        if not self.operational()[src]:
            return np.zeros(len(self.assets), dtype=bool)
        tier = self._tier(max_tier)
        key = (src, reverse)
        if key not in tier.reach:
            out = np.zeros(len(self.assets), dtype=bool)
            g = tier.graph
            order = breadth_first_order(g.T.tocsr() if reverse else g, src, directed=True, return_predecessors=False)
            out[order] = True
            out.flags.writeable = False
            tier.reach[key] = out
        return tier.reach[key]

    def route(self, src: int, dst: int) -> list[int] | None:
        """Link rows of the preferred working path (fibre first, then radio, then satellite)."""
        key = ("path", src, dst)
        if key in self._cache:
            return self._cache[key]
        self._cache[key] = path = self._find_route(src, dst)
        return path

    def _find_route(self, src: int, dst: int) -> list[int] | None:
        op = self.operational()
        if not (op[src] and op[dst]):
            return None
        for t in (0, 1, 2):
            tier = self._tier(t)
            if src not in tier.pred:
                pred = self.fewest_hops(tier.graph, src)
                pred.flags.writeable = False
                tier.pred[src] = pred
            pred = tier.pred[src]
            if dst != src and pred[dst] < 0:
                continue
            nodes = [dst]
            while nodes[-1] != src:
                nodes.append(int(pred[nodes[-1]]))
            nodes.reverse()
            return [self._link_between(u, v, t) for u, v in itertools.pairwise(nodes)]
        return None

    def _link_between(self, u: int, v: int, max_tier: int) -> int:
        """The usable link of lowest tier (then first in the table) for the edge ``u`` -> ``v`` of a tier's graph."""
        tier = self._tier(max_tier)
        if tier.pairs is None:
            # The graph's links only: any other usable link joining u and v has a higher tier, or
            # an endpoint out of order (and then u -> v is no edge of this graph).
            pairs: dict[tuple[int, int], int] = {}
            links = np.flatnonzero(tier.links)
            for li in links[np.argsort(self.tier[links], kind="stable")]:
                a, b = int(self.a[li]), int(self.b[li])
                pairs.setdefault((a, b), int(li))
                if not self.directed[li]:
                    pairs.setdefault((b, a), int(li))
            tier.pairs = pairs
        return tier.pairs[(u, v)]

    # ------------------------------------------------------------------ messages

    def send(
        self,
        src: str,
        dst: str,
        *,
        kind: str,
        on_delivered: Callable[..., None] | None = None,
        on_lost: Callable[[str], None] | None = None,
        split: bool = False,
    ) -> None:
        """Send a message from asset ``src`` to asset ``dst`` (a SimPy process).

        With ``split`` the message stands for many requests, one per recipient (an app's pushes):
        an overloaded server on the way drops its share of them instead of the whole message, and
        ``on_delivered(t, share)`` gets the share that got through.
        """
        self.env.process(self._message(self.index[src], self.index[dst], kind, on_delivered, on_lost, split))

    def path_to(self, src: int, dst: int) -> list[int] | None:
        """Link rows of a shortest working path from ``src`` to ``dst`` (None: no path).

        One search per tier on the reversed graph from ``dst`` (fibre first, then radio, then
        satellite, as ``route``), cached until the next change: many sources, one destination,
        cheaply.
        """
        key = ("path_to", src, dst)
        if key in self._cache:
            return self._cache[key]
        path: list[int] | None = None
        if src == dst:
            path = []
        elif self.operational()[dst] and self.operational()[src]:
            for t in (0, 1, 2):
                tier = self._tier(t)
                if dst not in tier.tree_to:
                    reverse = tier.graph.T.tocsr()
                    pred = self.fewest_hops(reverse, dst)
                    pred.flags.writeable = False
                    tier.tree_to[dst] = pred
                pred = tier.tree_to[dst]
                if pred[src] < 0:
                    continue
                nodes = [src]
                while nodes[-1] != dst:
                    nodes.append(int(pred[nodes[-1]]))
                path = [self._link_between(u, v, t) for u, v in itertools.pairwise(nodes)]
                break
        self._cache[key] = path
        return path

    def reaches(self, src: str, dst: str, rng: np.random.Generator) -> bool:
        """Whether a small report from ``src`` gets to ``dst`` now.

        It needs a working source, a working route and a serving destination, and it survives each
        link's loss and each overloaded server's drop on the way (draws from ``rng``). Reports this
        small take no bandwidth from other messages and arrive within the step.
        """
        s, d = self.index[src], self.index[dst]
        if not (self.operational()[s] and self.serving()[d]):
            return False
        path = self.path_to(s, d)
        if path is None:
            return False
        cur = s
        for li in path:
            if self.loss[li] > 0 and rng.random() < self.loss[li]:
                return False
            cur = int(self.b[li]) if int(self.a[li]) == cur else int(self.a[li])
            if self.server_loss[cur] > 0 and rng.random() < self.server_loss[cur]:
                return False
        return True

    def _message(self, src: int, dst: int, kind: str, on_delivered, on_lost, split: bool = False):
        t0 = float(self.env.now)
        share = 1.0
        bits = MESSAGE_BYTES.get(kind, 1000) * 8.0
        subject = f"{self.asset_ids[src]}->{self.asset_ids[dst]}"
        reason = "no route"
        for attempt in range(MAX_ATTEMPTS):
            if attempt:
                yield self.env.timeout(RETRY_S)
            path = self.route(src, dst)
            if path is None:
                reason = "no route"
                break
            ok = True
            cur = src
            for li in path:
                if not self.usable_links()[li]:
                    ok, reason = False, "link down on the way"
                    break
                # Queue for the link (FIFO), send at its bandwidth, then travel its latency.
                now = float(self.env.now)
                start = max(now, self.busy_until[li])
                self.busy_until[li] = start + bits / self.bandwidth_bps[li]
                yield self.env.timeout(self.busy_until[li] - now + self.latency[li])
                if self.loss[li] > 0 and self._msg_rng.random() < self.loss[li]:
                    ok, reason = False, f"lost on {self.link_ids[li]}"
                    break
                if self.intercept_types and self.link_types[li] in self.intercept_types:
                    self.intercepted[kind] = self.intercepted.get(kind, 0) + 1
                head = int(self.b[li]) if int(self.a[li]) == cur else int(self.a[li])
                cur = head
                if self.server_loss[head] > 0 or self.server_delay[head] > 0:
                    if split:  # many requests: the server serves its share of them
                        share *= 1.0 - self.server_loss[head]
                    elif self._msg_rng.random() < self.server_loss[head]:
                        ok, reason = False, f"dropped by overloaded {self.asset_ids[head]}"
                        break
                    yield self.env.timeout(fpmath.exponential_scalar(self._msg_rng, self.server_delay[head]))
            if ok:
                if (self.operational()[dst] and share > 0) if split else self.serving()[dst]:
                    delay = float(self.env.now) - t0
                    via = "/".join(sorted({str(self.link_types[li]) for li in path})) or "local"
                    served = f"; served={share:.4f}" if split else ""
                    self.log("message_delivered", subject, f"kind={kind}; delay={delay:.3f}; via={via}{served}")
                    if on_delivered is not None:
                        if split:
                            on_delivered(float(self.env.now), share)
                        else:
                            on_delivered(float(self.env.now))
                    return
                reason = "destination down" if not self.operational()[dst] else "destination overloaded"
                break
        self.log("message_lost", subject, f"kind={kind}; reason={reason}")
        if on_lost is not None:
            on_lost(reason)

    # ------------------------------------------------------------------ services

    def _endpoint_rows(self, svc: ServiceConfig) -> np.ndarray:
        ids = self.assets["id"].to_numpy()
        return np.nonzero(np.isin(self.kind, svc.endpoints) | np.isin(ids, svc.endpoints))[0]

    def _chain(self, svc: ServiceConfig) -> list[int]:
        """Asset rows of the service's chain: its platform, then the servers it goes via."""
        return [self.index[svc.platform], *(self.index[v] for v in svc.via)]

    def _endpoint_share(self, svc: ServiceConfig, chain: list[int]) -> float | None:
        """Share of the service's endpoints its ``chain`` reaches now (1 without endpoints).

        None when a server of its chain does not work or a hop of the chain has no route.
        """
        operational = self.operational()
        if not all(operational[c] for c in chain):
            return None
        for u, v in itertools.pairwise(chain):
            if not self.reachable(u)[v]:
                return None
        ends = self._endpoint_rows(svc)
        if len(ends) == 0:
            return 1.0
        if svc.direction == "out":
            return float(self.reachable(chain[-1])[ends].mean())
        return float(self.reachable(chain[0], reverse=True)[ends].mean())

    def service_is_up(self, svc: ServiceConfig) -> bool:
        """Does the service's chain work now (every server serving, enough endpoints reached)?"""
        return self._judge(svc)[0]

    def _judge(self, svc: ServiceConfig) -> tuple[bool, float]:
        """(up, level) of a service now.

        Up: every server of its chain serves (a denial of service drops under half its requests)
        and it reaches at least ``min_share`` of its endpoints. Level: the share of its requests
        or people it serves: the product of ``1 - loss`` over its chain's servers times the share
        of its endpoints reached; 0 when a server does not work or a hop has no route.
        """
        chain = self._chain(svc)
        reached = self._endpoint_share(svc, chain)
        if reached is None:
            return False, 0.0
        serving = self.serving()
        min_share = svc.min_share if svc.min_share is not None else self.min_share
        up = all(serving[c] for c in chain) and reached >= min_share - 1e-12
        return up, float(np.prod([1.0 - self.server_loss[c] for c in chain])) * reached

    def evaluate_services(self) -> None:
        """Re-judge every service; record changes of state and of level."""
        t = float(self.env.now)
        judged = {svc.name: self._judge(svc) for svc in self.services}
        state = {name: up for name, (up, _) in judged.items()}
        alerting = [state[n] for n in ALERT_SERVICES if n in state]
        state["alerting"] = any(alerting) if alerting else True
        levels = {name: level for name, (_, level) in judged.items()}
        alert_levels = [levels[n] for n in ALERT_SERVICES if n in levels]
        levels["alerting"] = max(alert_levels) if alert_levels else 1.0
        for name, level in levels.items():
            if self.service_level.get(name) != level:
                self.service_level[name] = level
                self.level_changes.append((t, name, level))
        for name, up in state.items():
            if self.service_up.get(name) != up:
                if name in self.service_up:
                    self.log("service_up" if up else "service_down", name, "")
                self.service_up[name] = up
                self.transitions.append((t, name, up))

    def mean_levels(self, duration_s: float) -> dict[str, float]:
        """Time-weighted mean level of each service over the run, from its exact changes."""
        return {
            name: _time_mean([(t, lv) for t, n, lv in self.level_changes if n == name], duration_s)
            for name in self.service_level
        }

    def availability(self, duration_s: float) -> dict[str, float]:
        """Share of simulated time each service was up, from its exact transitions."""
        return {
            name: _time_mean([(t, float(up)) for t, n, up in self.transitions if n == name], duration_s)
            for name in self.service_up
        }

    def dependencies(self, svc: ServiceConfig) -> set[str]:
        """Assets the service's messages pass now (its preferred routes), with their substations."""
        chain = self._chain(svc)
        hops = list(itertools.pairwise(chain))
        for e in self._endpoint_rows(svc):
            hops.append((chain[-1], int(e)) if svc.direction == "out" else (int(e), chain[0]))
        deps = set(chain)
        for u, v in hops:
            path = self.route(u, v)
            if path is None:
                continue
            for li in path:
                deps.update((int(self.a[li]), int(self.b[li])))
        rows = np.array(sorted(deps), dtype=np.int64)
        powered = self.power_of[rows]
        rows = np.union1d(rows, powered[powered >= 0])
        return set(self.assets["id"].to_numpy()[rows])


def _time_mean(changes: list[tuple[float, float]], duration_s: float) -> float:
    """Mean over ``[0, duration_s]`` of a value that takes ``changes`` (time, new value) in order."""
    if duration_s <= 0:
        return changes[-1][1] if changes else 1.0
    total = 0.0
    for (t, value), (t_next, _) in zip(changes, [*changes[1:], (duration_s, 0.0)], strict=True):
        total += value * max(0.0, min(t_next, duration_s) - min(t, duration_s))
    return round(total / duration_s, 6)


__all__ = ["BATTERY", "GRID", "OFF", "NetworkState"]
