"""Shelter operations: registration desks, the registry, head-count reports, the overflow policy.

It owns the simulated personal data, the registry (desks, queues, entries, relatives told),
the command centre's view of each shelter (the last reported count and when it arrived), the
reserve halls. A report passes :meth:`ShelterOperations.tampered` on its way, where an attack on
the counts (``CyberState.report_factor``) alters it. docs/shelters.md describes the process.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from sim.agents.citizens import AGE_BANDS, SHELTERED, create_personal_data
from sim.agents.registry import METHOD_NAMES, Registry, desk_starts_reference
from sim.core.errors import InputError
from sim.engine import kernels
from sim.engine.behaviour import departure_delays

# The desks' first-come-first-served queue: compiled for a large wave of arrivals (the same starts).
desk_starts = kernels.when_large(
    kernels.MIN_ARRIVALS, kernels.desk_starts, size=lambda free, ptr, shelter, *_: len(shelter)
)(desk_starts_reference)


class ShelterOperations:
    """The shelter operations of a running model (see the module docstring)."""

    def __init__(self, model: Any):
        self.m = model  # the EvacuationModel (read through, never imported: no cycle)
        ops = self.m.scenario.shelter_operations
        priv = self.m.scenario.privacy
        self.personal = create_personal_data(
            self.m.pop,
            health_share=priv.health_share,
            consent_share=priv.consent_share,
            rng=self.m.streams.get("population/personal"),
        )
        t = ops.registration_time
        self.registry = Registry(
            self.m.pop.n,
            service_s=(t.digital_id, t.phone, t.manual),
            relatives_delay_s=departure_delays(ops.relatives.delay, self.personal.u_relatives),
            desk_starts=desk_starts,
        )
        for s in self.m.shelters:
            self.registry.add_shelter(s.capacity, ops.desks_per_100_places)
        known = set(self.m.book.index)
        for j, sid in enumerate(ops.reserve):
            if sid not in known:
                raise InputError.single(f"shelter_operations.reserve.{j}", f"no shelter has id {sid!r}")
        self.reserve = list(ops.reserve)
        self.observed = np.zeros(len(self.m.shelters), dtype=np.int64)  # the CCC's view of each shelter
        self.observed_t = np.full(len(self.m.shelters), -np.inf)
        self.new_sheltered: list[np.ndarray] = []  # admitted since the desks last looked
        self.terminal_rows = np.zeros(0, dtype=np.int64)

    def add_shelter(self, capacity: int) -> None:
        """Desks and an empty reported count for a shelter opened during the run."""
        self.registry.add_shelter(capacity, self.m.scenario.shelter_operations.desks_per_100_places)
        self.observed = np.append(self.observed, 0)
        self.observed_t = np.append(self.observed_t, -np.inf)

    def tampered(self, row: int, count: int) -> int | None:
        """A head count as an attacker altered it (None: the tampered report was rejected)."""
        factor = self.m.cyber.report_factor(row)
        if factor is None:
            return count
        if self.m.defenses.encrypt_transit:
            self.m.cyber.rejected += 1
            self.m.log_event("spoof_rejected", self.m.shelters[row].shelter_id, "tampered report fails authentication")
            return None
        self.m.cyber.false_readings += 1
        return round(count * factor)

    def registry_online(self) -> np.ndarray:
        """Per shelter: can its desk reach the registry now?"""
        if not self.m.network.service_up.get("shelter_registry", False):
            return np.zeros(len(self.m.shelters), dtype=bool)
        if len(self.terminal_rows) != len(self.m.shelters):
            index = self.m._asset_index
            self.terminal_rows = np.array([index.get(f"terminal-{s.shelter_id}", -1) for s in self.m.shelters])
        terms = self.terminal_rows
        to_ccc = self.m.network.reachable(self.m._asset_index["CCC"], reverse=True)  # who can reach the CCC
        ok = terms >= 0
        out = np.zeros(len(self.m.shelters), dtype=bool)
        out[ok] = self.m.network.operational()[terms[ok]] & to_ccc[terms[ok]]
        return out

    def operate(self, t0: float, t1: float) -> None:
        """Registration queues for newcomers, paper sync, relatives' messages."""
        if not self.m.scenario.shelter_operations.enabled:
            self.new_sheltered = []
            return
        p = self.m.pop
        new = np.concatenate(self.new_sheltered) if self.new_sheltered else np.zeros(0, dtype=np.int64)
        self.new_sheltered = []
        if len(new):
            self.registry.enqueue(
                new,
                p.shelter[new],
                p.arrival_t[new],
                digital_id=p.digital_id,
                has_phone=p.has_phone,
                online=self.registry_online(),
            )
        self.registry.sync(t1, registry_up=self.m.network.service_up.get("shelter_registry", False))
        self.registry.notify(t0, t1, service_up=self.m.network.service_up.get("relatives_notification", False))

    def report_process(self, row: int):
        """A shelter's terminal reports its head count to the CCC every ``report_every``."""
        every = self.m.scenario.shelter_operations.report_every
        sid = self.m.shelters[row].shelter_id
        term = f"terminal-{sid}"
        if term not in self.m._asset_index:
            return
        yield self.m.env.timeout(0)
        while True:
            count = self.m.shelters[row].occupancy
            count = self.tampered(row, count)  # what an attacker on the report's path makes of it
            if count is not None and self.m.network.operational()[self.m._asset_index[term]]:
                taken = float(self.m.env.now)
                self.m.network.send(
                    term,
                    "CCC",
                    kind="report",
                    on_delivered=lambda _t, r=row, c=count, tk=taken: self.report_arrived(r, c, tk),
                )
            yield self.m.env.timeout(every)

    def report_arrived(self, row: int, count: int, taken: float) -> None:
        """A head count reached the command centre (an older one overtaken by a newer is dropped)."""
        if taken < self.observed_t[row]:
            return  # an older report overtaken by a newer one
        self.observed[row] = count
        self.observed_t[row] = taken
        self.overflow_policy()

    def overflow_policy(self) -> None:
        """Open the next reserve shelter when the observed occupancy of open shelters passes the threshold."""
        if not self.reserve:
            return
        rows = [r for r, s in enumerate(self.m.shelters) if s.is_open]
        cap = sum(self.m.shelters[r].capacity for r in rows)
        seen = int(sum(self.observed[r] for r in rows))
        threshold = self.m.scenario.shelter_operations.open_reserve_at
        if cap > 0 and seen >= threshold * cap:
            sid = self.reserve.pop(0)
            self.m.log_event("overflow_policy", sid, f"observed={seen}; capacity={cap}; threshold={threshold:g}")
            self.m.reopen_shelters([sid], cause="overflow-policy")

    def registered(self) -> np.ndarray:
        """Citizen rows of everyone registered, in the register's order (ascending)."""
        return np.nonzero(self.registry.queued)[0]

    def in_registry_times(self, idx: np.ndarray) -> np.ndarray:
        """When citizens ``idx`` entered the registry, to the second as it keeps them (inf: not yet)."""
        return np.round(self.registry.entry_t[idx])

    def registrations(self, idx: np.ndarray | None = None) -> pd.DataFrame:
        """One row per registered citizen (``idx``: these rows of :meth:`registered` only).

        Columns: pseudonym, shelter, times, method, stored fields. The fields are those the
        registry stores (``privacy.store``, with consent); never health or contact. Times are to
        the second, as a registry keeps them (full-precision times made this table 37 MB for a
        million people, a fifth of it incompressible digits); shelter and method are categories.
        Pseudonyms are made only for the rows asked for (a keyed hash each).
        """
        reg = self.registry
        idx = self.registered() if idx is None else idx
        priv = self.m.scenario.privacy
        shelter_ids = [s.shelter_id for s in self.m.shelters]
        frame = pd.DataFrame(
            {
                "person": kernels.pseudonyms(idx, key=self.m.registry_key, prefix="R"),
                "shelter": pd.Categorical.from_codes(self.m.pop.shelter[idx], categories=shelter_ids),
                "arrival_t": np.round(reg.arrival_t[idx]),
                "registered_t": np.round(reg.reg_t[idx]),
                "method": pd.Categorical.from_codes(reg.method[idx], categories=list(METHOD_NAMES)),
                "in_registry_t": self.in_registry_times(idx),
                "relatives_notified_t": np.round(reg.notified_t[idx]),
            }
        )
        if "age_band" in priv.store:
            bands = np.array(AGE_BANDS, dtype=object)[self.m.pop.age_group[idx]]
            frame["age_band"] = np.where(self.personal.consent[idx], bands, None)
        return frame

    def registry_records(self) -> dict[str, int]:
        """What the registry's data store holds now, by sensitivity class (for data-theft attacks)."""
        reg = self.registry
        stored = np.isfinite(reg.entry_t)
        consent = self.personal.consent & stored
        priv = self.m.scenario.privacy
        out = {"identity": int(stored.sum()), "location": int(stored.sum())}
        out["age_band"] = int(consent.sum()) if "age_band" in priv.store else 0
        out["contact"] = int((consent & (self.personal.contact > 0)).sum()) if "contact" in priv.store else 0
        out["health"] = int((consent & self.personal.health).sum()) if "health" in priv.store else 0
        return out

    def summary(self) -> dict[str, Any]:
        """Registration, relatives and overflow figures for the summary."""
        p = self.m.pop
        fig = self.registry.figures(p.state == SHELTERED, np.isfinite(p.ordered_t))
        fig["registry_records"] = self.registry_records()
        return fig
