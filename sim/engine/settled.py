"""Who can still change, and what the others add up to: the passes over the unsettled (issue 20).

Sheltered and casualty are absorbing states. A shelter keeps its occupants (a closed or damaged
one too: :meth:`sim.engine.model.EvacuationModel.close_shelters`), nobody in a shelter is admitted
again or moved, and a casualty stays where they fell. Once settled, a citizen's node now (their
shelter's, or where they fell) and their state never change again. In the million-citizen run
93 % are in shelters by the first hour and 98 % by the second, yet every recorded row used to
pass over all of them to find where everyone is and to count them by district and state.

:class:`Settled` keeps those not yet settled (``live``, ascending: a superset of everyone neither
sheltered nor a casualty, so it serves any pass that skips those, as the flood's list of whom the
water can reach), everyone's node now (the settled's written once, at the look that finds them
settled) and the settled's counts by district and state. A look costs what the live cost.

The recorder's tallies (:meth:`sim.engine.recorder.Recorder.tallies`) and the command centre's
picture (:meth:`sim.engine.locating.Locating._people`) build on the looks: the states by
district, the settled with a phone per node (the towers' counts), those outside shelters (the
live and the casualties: the only ones who can be in danger).

``SAFECITY_CHECK_SETTLED=1`` makes every look, every row's tallies and every picture compare
their answers with the full passes over everyone (:func:`sim.engine.movement.nodes_now_vectorised`,
:func:`sim.engine.movement.district_state_counts_vectorised`,
:func:`sim.engine.recorder.population_tallies`,
:func:`sim.engine.locating.people_in_picture_vectorised`) and raise on any difference; the tests
run scenarios with it (``tests/engine/test_settled.py``), and the whole suite passes with it.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from sim.agents.citizens import CASUALTY, SHELTERED, STATE_NAMES
from sim.engine import kernels
from sim.engine.movement import district_state_counts_vectorised, nodes_now_vectorised


def settle_vectorised(
    live: np.ndarray,
    state: np.ndarray,
    shelter: np.ndarray,
    shelter_node: np.ndarray,
    node: np.ndarray,
    node_district: np.ndarray,
    sheltered: int,
    casualty: int,
    out_node: np.ndarray,
    settled: np.ndarray,
    live_counts: np.ndarray,
    has_phone: np.ndarray,
    phones_at: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """One look at ``live``: their nodes now into ``out_node``; returns the still live and the newly fallen.

    Both are in order (the fallen: casualties). Those now ``sheltered`` or ``casualty`` are added
    to ``settled`` (districts x states, by the district of their node now) and, if they
    ``has_phone``, to ``phones_at`` (per node); the others to ``live_counts``. All three are
    updated in place.
    """
    s = state[live]
    here = np.where(s == sheltered, shelter_node[np.maximum(shelter[live], 0)], node[live])
    out_node[live] = here
    done = (s == sheltered) | (s == casualty)
    key = node_district[here].astype(np.int64) * settled.shape[1] + s
    settled += np.bincount(key[done], minlength=settled.size).reshape(settled.shape)
    live_counts += np.bincount(key[~done], minlength=live_counts.size).reshape(live_counts.shape)
    phones_at += np.bincount(here[done & has_phone[live]], minlength=len(phones_at))
    return live[~done], live[s == casualty]


def _settle_compiled(
    live: np.ndarray, state: np.ndarray, shelter: np.ndarray, *rest: Any
) -> tuple[np.ndarray, np.ndarray]:
    shelter_node, node, node_district, sheltered, casualty, out_node, settled, live_counts, has_phone, at = rest
    ints = kernels._ints
    kept, fallen = kernels.loaded_module().settle(
        live, state, ints(shelter), ints(shelter_node), ints(node), node_district,
        int(sheltered), int(casualty), out_node, settled, live_counts, has_phone, at,
    )  # fmt: skip
    return kept, fallen


settle = kernels.when_large(kernels.MIN_POPULATION, _settle_compiled)(settle_vectorised)


class Settled:
    """Everyone's node now and the counts by district and state, from looks at the unsettled only."""

    def __init__(self, model: Any):
        self.m = model  # the EvacuationModel (read through, never imported: no cycle)
        n = model.pop.n
        self.live = np.arange(n, dtype=np.int64)
        self.node = np.zeros(n, dtype=np.int64)  # everyone's node at the last look
        self.node_district = kernels._ints(model.city.nodes["district"].to_numpy())
        shape = (len(model.city.districts), len(STATE_NAMES))
        self.settled = np.zeros(shape, dtype=np.int64)  # the settled, by district of their node and state
        self.live_counts = np.zeros(shape, dtype=np.int64)  # the live at the last look, likewise
        self.phones_at = np.zeros(model.city.n_nodes, dtype=np.int64)  # the settled with a phone, per node
        self.fallen: list[np.ndarray] = []  # the casualties, as looks found them
        self.check = os.environ.get("SAFECITY_CHECK_SETTLED") == "1"

    def look(self) -> None:
        """Find where the live are now; those settled since the last look leave ``live``."""
        p = self.m.pop
        self.live_counts = np.zeros_like(self.settled)
        self.live, fallen = settle(
            self.live, p.state, p.shelter, self.m.book.node, p.node, self.node_district,
            SHELTERED, CASUALTY, self.node, self.settled, self.live_counts, p.has_phone, self.phones_at,
        )  # fmt: skip
        if len(fallen):
            self.fallen.append(fallen)
        if self.check:
            self._check()

    def nodes(self) -> np.ndarray:
        """Everyone's node now (a look): their shelter's once sheltered, else where they last were.

        Read only, and valid until the next look (the same array, updated in place).
        """
        self.look()
        out = self.node.view()
        out.flags.writeable = False
        return out

    def counts(self) -> np.ndarray:
        """People per district (of their node) and state code at the last look (a new array)."""
        return self.settled + self.live_counts

    def outside(self) -> np.ndarray:
        """Everyone not in a shelter at the last look (the live and the casualties; none twice, not in order)."""
        if len(self.fallen) > 1:
            self.fallen = [np.concatenate(self.fallen)]
        return np.concatenate([self.live, *self.fallen])

    def phones_now(self) -> np.ndarray:
        """People with a phone per road node at the last look (a new array): the towers' counts."""
        p = self.m.pop
        with_phone = self.live[p.has_phone[self.live]]
        return self.phones_at + np.bincount(self.node[with_phone], minlength=len(self.phones_at))

    def _check(self) -> None:
        p = self.m.pop
        full = nodes_now_vectorised(p.state, p.shelter, self.m.book.node, p.node, SHELTERED)
        if not np.array_equal(self.node, full):
            wrong = np.flatnonzero(self.node != full)
            raise AssertionError(f"settled: the node now of {len(wrong)} citizens differs (first {wrong[:5]})")
        want = district_state_counts_vectorised(full, self.node_district, p.state, *self.settled.shape)
        if not np.array_equal(self.counts(), want):
            raise AssertionError("settled: the counts by district and state differ from a full pass")
        phones = np.bincount(full[p.has_phone], minlength=len(self.phones_at))
        if not np.array_equal(self.phones_now(), phones):
            raise AssertionError("settled: the people with a phone per node differ from a full pass")
        if not np.array_equal(np.sort(self.outside()), np.flatnonzero(p.state != SHELTERED)):
            raise AssertionError("settled: those outside shelters differ from a full pass")
        stale = np.setdiff1d(np.flatnonzero((p.state != SHELTERED) & (p.state != CASUALTY)), self.live)
        if len(stale):
            raise AssertionError(f"settled: {len(stale)} citizens left a settled state (first {stale[:5]})")
