"""Alerting: orders, sensor triggers, warning channels, word of mouth and CAP files.

It owns what the command centre sent and whom it reached: each channel's receipt time per
citizen, the triggers that fired, the orders built on false data, who got a false alarm, and
the CAP messages. Delivery itself is the channels' (``sim/network/channels.py``); a citizen who
is reached takes the warning here (:meth:`Alerting.warn`: compliance, trust after a false alarm
and the departure delay).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import shapely

from sim.agents.citizens import AT_HOME, CASUALTY, NEVER, TRAPPED
from sim.city.select import zone_node_mask
from sim.core import fpmath
from sim.engine.behaviour import departure_delays
from sim.network.cap import cap_alert, cap_token
from sim.network.channels import make_channel
from sim.scenario.schema import OrderConfig
from sim.scenario.types import CircleArea


class Alerting:
    """The alerting part of a running model (see the module docstring)."""

    def __init__(self, model: Any):
        self.m = model  # the EvacuationModel (read through, never imported: no cycle)
        n = model.pop.n
        scenario = model.scenario
        self.chan_receipt: dict[int, np.ndarray] = {}
        self.channel_u = {
            i: model.streams.get(f"alerting/channel/{i}").random(n) for i in range(len(scenario.alerting.channels))
        }
        self.cap_files: dict[str, str] = {}
        self.triggers_fired = [False] * len(scenario.alerting.triggers)
        self.false_orders: set[str] = set()
        self.false_alarmed = np.zeros(n, dtype=bool)
        # The evacuation zone: road nodes where someone ordered out lives (grows with each order).
        self.ordered_zone = np.zeros(model.city.n_nodes, dtype=bool)
        self.wom_rng = (
            model.streams.get("alerting/word_of_mouth") if scenario.alerting.word_of_mouth is not None else None
        )
        # Households: members sorted by household (their order and the start of each household's
        # run), and each citizen's household head (its first member): the head's draws decide.
        hh = model.pop.household
        self.hh_order = np.argsort(hh, kind="stable")
        self.hh_sorted = hh[self.hh_order]
        starts = np.flatnonzero(np.r_[True, self.hh_sorted[1:] != self.hh_sorted[:-1]]) if n else np.zeros(0, int)
        head_of = np.empty(int(hh.max()) + 1 if n else 0, dtype=np.int64)
        head_of[self.hh_sorted[starts]] = self.hh_order[starts]
        self.head = head_of[hh] if n else np.zeros(0, dtype=np.int64)
        self.u_shadow = model.streams.get("behaviour/shadow").random(n)

    def members_of(self, households: np.ndarray) -> np.ndarray:
        """Every member of ``households`` (sorted, unique household ids)."""
        lo = np.searchsorted(self.hh_sorted, households, side="left")
        hi = np.searchsorted(self.hh_sorted, households, side="right")
        size = hi - lo
        pos = np.repeat(lo - np.cumsum(size) + size, size) + np.arange(int(size.sum()))
        return self.hh_order[pos]

    def false_alarm(self, zone: Any, *, label: str, served_by: int | None = None) -> int:
        """A fake evacuation order: the citizens of ``zone`` (or those a siren serves) receive it."""
        p = self.m.pop
        at_home = (p.state == AT_HOME) | (p.state == TRAPPED)
        if served_by is not None:
            mask = self.m.served["siren"][p.home_node, 0] == served_by
        else:
            mask = zone_node_mask(self.m.city, zone, field="cyber.zone")[p.home_node]
        who = np.nonzero(mask & at_home)[0]
        if len(who):
            self.false_alarmed[who] = True
            self.m.cyber.false_alarm_reached += len(who)
            self.warn(who, np.full(len(who), float(self.m.env.now)))
        self.m.log_event("false_alarm", label, f"reached={len(who)}")
        return len(who)

    def check_triggers_on(self, sensor_id: str, value: float, *, false: bool = False) -> None:
        """A reading reached the command centre: fire the triggers it passes (once each)."""
        for i, trig in enumerate(self.m.scenario.alerting.triggers):
            if trig.sensor != sensor_id or self.triggers_fired[i] or not value > trig.above:
                continue
            self.triggers_fired[i] = True
            label = trig.id or f"trigger-{i}"
            self.m.log_event("trigger_fired", label, f"sensor={sensor_id}; reading={value:.3f}; above={trig.above:g}")
            order = OrderConfig(at=float(self.m.env.now), zone=trig.zone, channels=trig.channels, id=label)
            if false:  # the CCC believes it; the data behind it was false
                self.false_orders.add(label)
            self.issue(order, self.m._trigger_masks[i], label=label)

    def warn(self, idx: np.ndarray, receipt: np.ndarray) -> None:
        """Citizens ``idx`` (distinct) receive the order at ``receipt`` (one time each); those who comply leave.

        With ``population.households_together`` each household decides once, with its head's
        draws (compliance, delay), when its first member is warned, and all its members at home
        leave together. Family members the order itself did not reach leave with them but are not
        counted as warned: a channel's reach stays what docs/networks.md says.
        """
        if len(idx) == 0:
            return
        p = self.m.pop
        cfg = self.m.scenario
        p.warned_t[idx] = np.minimum(p.warned_t[idx], receipt)
        if cfg.population.households_together:
            who, since = self._with_households(idx, receipt)
            decider = self.head[who]
        else:
            who, since, decider = idx, p.warned_t[idx], idx
        # A false alarm earlier costs trust: those who got one comply less with the next order.
        trust = np.where(self.false_alarmed[who], 1.0 - cfg.alerting.false_alarm_trust_loss, 1.0)
        comply = p.u_comply[decider] < cfg.population.compliance * trust
        go = comply & ((p.state[who] == AT_HOME) | (p.state[who] == TRAPPED))
        self._leave(who[go], decider[go], since[go])

    def _with_households(self, idx: np.ndarray, receipt: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The households of ``idx`` (warned at ``receipt``), every member with the household's first warning."""
        p = self.m.pop
        hh, inv = np.unique(p.household[idx], return_inverse=True)
        members = self.members_of(hh)
        first = np.full(len(hh), NEVER)
        np.minimum.at(first, inv, receipt)
        own = first[np.searchsorted(hh, p.household[members])]
        return members, np.minimum(own, p.warned_t[members])

    def _leave(self, go: np.ndarray, decider: np.ndarray, since: np.ndarray) -> None:
        """Citizens ``go`` leave after their decider's departure delay, counted from ``since``."""
        if len(go) == 0:
            return
        p = self.m.pop
        delay = departure_delays(self.m.scenario.alerting.departure_delay, p.u_delay[decider])
        p.depart_t[go] = np.minimum(p.depart_t[go], since + delay)
        self.m.mover.next_departure = min(self.m.mover.next_departure, float(p.depart_t[go].min()))

    def shadow(self, mask: np.ndarray, t: float, channels: list[tuple[int, Any]]) -> int:
        """Shadow evacuation: a share of the people near the ordered zone, not ordered, leave too.

        Everyone at home within ``population.shadow_distance_m`` of the homes ordered out, not
        ordered themselves, who hears the order (one of its ``channels`` would reach them if it
        were meant for them: its coverage draw) leaves with probability
        ``population.shadow_share`` (one draw per citizen, stream ``behaviour/shadow``; the
        household head's with households together), after their departure delay from the order.
        An order for the whole city has nobody outside it. Returns how many leave.
        """
        from scipy.spatial import cKDTree

        pop_cfg = self.m.scenario.population
        p = self.m.pop
        if pop_cfg.shadow_share <= 0 or not mask.any():
            return 0
        home = (p.state == AT_HOME) | (p.state == TRAPPED)
        cand = np.nonzero(~mask & ~np.isfinite(p.ordered_t) & ~np.isfinite(p.depart_t) & home)[0]
        hears = np.zeros(len(cand), dtype=bool)
        for i, ch in channels:
            hears |= self.in_reach(i, ch, cand)
        cand = cand[hears]
        if len(cand) == 0:
            return 0
        xy = self.m.city.node_xy
        zone = cKDTree(xy[np.unique(p.home_node[mask])])
        dist, _ = zone.query(xy[p.home_node[cand]], distance_upper_bound=pop_cfg.shadow_distance_m + 1e-9)
        cand = cand[np.isfinite(dist)]
        decider = self.head[cand] if pop_cfg.households_together else cand
        leave = self.u_shadow[decider] < pop_cfg.shadow_share
        self._leave(cand[leave], decider[leave], np.full(int(leave.sum()), t))
        return int(leave.sum())

    def order_process(self, order: OrderConfig, mask: np.ndarray, *, label: str):
        """A scheduled order: wait for its time, then issue it."""
        yield self.m.env.timeout(order.at)
        self.issue(order, mask, label=label)

    def issue(self, order: OrderConfig, mask: np.ndarray, *, label: str) -> int:
        """Issue an order now to ``mask``; returns the number of citizens newly ordered out."""
        p = self.m.pop
        t = float(self.m.env.now)
        fresh = mask & ~np.isfinite(p.ordered_t) & (p.state != CASUALTY)
        p.ordered_t[fresh] = t
        self.ordered_zone[p.home_node[fresh]] = True
        targets = np.nonzero(mask & ((p.state == AT_HOME) | (p.state == TRAPPED)))[0]
        channels = self.order_channels(order)
        for i, ch in channels:
            self.deliver(i, ch, targets[self.in_reach(i, ch, targets)], t, false=label in self.false_orders)
        shadow = self.shadow(mask, t, channels)
        used = [ch.type for _, ch in channels]
        self.m.log_event(
            "order_issued", label, f"zone={_zone_text(order.zone)}; ordered={int(fresh.sum())}; shadow={shadow}"
        )
        self.write_cap(order, label, t, used)
        return int(fresh.sum())

    def order_channels(self, order: OrderConfig) -> list[tuple[int, Any]]:
        """The channels an order uses, with their index: its own list, or every channel."""
        return [
            (i, ch)
            for i, ch in enumerate(self.m.scenario.alerting.channels)
            if order.channels is None or ch.type in order.channels
        ]

    def in_reach(self, i: int, ch: Any, who: np.ndarray) -> np.ndarray:
        """Which of ``who`` channel ``i`` reaches where it works (its coverage draw).

        ``coverage`` is the share of all citizens the channel reaches, drawn among those who can
        receive it at all (phone or smartphone owners).
        """
        able = self.receivers(ch.type)
        share = float(able.mean()) if able.size else 0.0
        cut = min(1.0, ch.coverage / share) if share > 0 else 0.0
        return able[who] & (self.channel_u[i][who] < cut)

    def receivers(self, channel: str) -> np.ndarray:
        """Who can receive a channel at all (its plug-in says: phone owners, smartphone owners...)."""
        return make_channel(channel).receivers(self.m)

    def deliver(self, i: int, ch: Any, who: np.ndarray, t: float, *, false: bool = False) -> None:
        """Channel ``i`` carries an order to the citizens ``who`` it would reach if it worked.

        The channel's plug-in (``sim/network/channels.py``) sends it through the devices and
        paths that carry it; whoever it reaches takes the warning here.
        """
        if len(who) == 0:
            return

        def reach(group: np.ndarray, when: float | np.ndarray) -> None:
            if false:
                self.false_alarmed[group] = True
            self.reached(i, group, when)

        make_channel(ch.type).deliver(self.m, index=i, config=ch, who=who, t=t, reach=reach)

    def reached(self, i: int, who: np.ndarray, receipt: float | np.ndarray) -> None:
        """Channel ``i`` reached ``who`` at ``receipt``; those still at home take the warning."""
        p = self.m.pop
        when = np.broadcast_to(np.asarray(receipt, dtype=float), who.shape)
        home = (p.state[who] == AT_HOME) | (p.state[who] == TRAPPED)
        who, when = who[home], when[home]
        if len(who) == 0:
            return
        rec = self.chan_receipt.get(i)
        if rec is None:  # (not setdefault: its default, a million-long array, would be made at every call)
            rec = self.chan_receipt[i] = np.full(p.n, NEVER)
        rec[who] = np.minimum(rec[who], when)
        sooner = when < p.warned_t[who]
        self.warn(who[sooner], when[sooner])

    def write_cap(self, order: OrderConfig, label: str, t: float, channels: list[str]) -> None:
        """Write the order as a CAP 1.2 message (status Exercise) with its area."""
        from sim.city.select import area_polygon

        zone = order.zone
        if isinstance(zone, str) and zone.lower() == "all":
            geom = shapely.MultiPoint(self.m.city.node_xy).convex_hull
            desc = "the whole city"
        elif isinstance(zone, str | list):
            names = [zone] if isinstance(zone, str) else zone
            d = self.m.city.districts
            geom = shapely.union_all(d.geometry[d["name"].isin(names)].values)
            desc = "districts " + ", ".join(names)
        else:
            geom = area_polygon(self.m.city, zone)
            desc = "the area of the order"
        circles: list[tuple[float, float, float]] = []
        if isinstance(zone, CircleArea):  # CAP has circles: no polygon approximation
            circles = [(zone.center[0], zone.center[1], zone.radius_m)]
            rings = []
        else:
            polys = list(geom.geoms) if hasattr(geom, "geoms") else [geom]
            rings = [self.m.city.lonlat_of_xy(np.asarray(g.exterior.coords)) for g in polys if g.geom_type == "Polygon"]
        n = len(self.cap_files) + 1
        out = self.m.scenario.output
        # Unique per sender: the scenario, its start, its seed and the order's number.
        ident = f"{cap_token(self.m.scenario.name)}.{out.start_time:%Y%m%dT%H%M%S}.s{self.m.scenario.seed}.{n:03d}"
        self.cap_files[f"cap/{n:03d}-{_safe(label)}.xml"] = cap_alert(
            identifier=ident,
            sender=out.cap_sender,
            sent=out.start_time,
            t_s=t,
            event="Evacuation order",
            headline=f"Evacuate {desc} now",
            area_desc=desc,
            rings_lonlat=rings,
            channels=channels,
            expires_after_s=out.cap_expires_after,
            circles=circles,
        )

    def word_of_mouth(self, t0: float, t1: float) -> None:
        """Bass diffusion among the ordered: the warned tell the others between ``t0`` and ``t1``."""
        cfg = self.m.scenario.alerting.word_of_mouth
        p = self.m.pop
        ordered = np.isfinite(p.ordered_t)
        n_ordered = int(ordered.sum())
        if n_ordered == 0:
            return
        told = ordered & (p.warned_t <= t0)
        frac = told.sum() / n_ordered
        hazard_per_s = (cfg.p_per_h + cfg.q_per_h * frac) / 3600.0
        cand = np.nonzero(ordered & ~np.isfinite(p.warned_t) & ((p.state == AT_HOME) | (p.state == TRAPPED)))[0]
        if len(cand) == 0 or hazard_per_s <= 0:
            return
        prob = 1.0 - fpmath.exp_scalar(-hazard_per_s * (t1 - t0))
        rng = self.wom_rng
        assert rng is not None  # word of mouth is on: its stream exists
        hit = cand[rng.random(len(cand)) < prob]
        if len(hit):
            self.warn(hit, t0 + rng.random(len(hit)) * (t1 - t0))


def _safe(label: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "-" for c in label)[:80] or "order"


def _zone_text(zone: Any) -> str:
    if isinstance(zone, str):
        return zone
    if isinstance(zone, list):
        return ",".join(zone)
    return type(zone).__name__.removesuffix("Area").lower()
