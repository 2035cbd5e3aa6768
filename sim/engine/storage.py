"""Storage and spill-back: queues take room on the road, and a full road holds back the ones behind.

Every person on the move takes room on the road they last entered until they enter the next
one, reach a shelter or are stranded: while walking along it, and while waiting at its end for
the next road (``movement.storage``). Walkers take ``1 / jam density`` m² of the road's
effective area (both directions share it); a car occupant ``vehicle_spacing_m x 3.5 m /
car_occupancy`` of the lanes of its direction; on a shared carriageway both fill one area.
Nobody enters a road whose room is taken (first come, first served: whoever does not fit holds
back everyone behind them), so a queue grows back from a bottleneck through the junctions behind
it and holds back every stream that needs those roads.

**Gridlock**: roads that are full of people waiting for each other in a ring (a cycle in the
"waits for" graph of full roads) cannot empty by themselves. At the end of every step the engine
looks for such rings; it records a ``gridlock`` event and lets the people on a ring's roads move
on for the next step as if the roads ahead had room (they squeeze past each other, as a
mesoscopic traffic model's "stuck time" lets a vehicle that waited too long onto the next link).
docs/movement.md describes the rule and its limits.
"""

from __future__ import annotations

import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components

from sim.engine.movement import full_waits, room_taken, scatter_add, scatter_subtract
from sim.engine.routing import ArcNetwork


class Storage:
    """Who takes room where, the room taken per key, and the rings let through this step."""

    def __init__(self, net: ArcNetwork, n_people: int):
        assert net.store_key is not None
        assert net.storage_m2 is not None
        assert net.person_m2 is not None
        self.key = net.store_key
        self.capacity_m2 = net.storage_m2
        self.person_m2 = net.person_m2
        self.came_by = np.full(n_people, -1, dtype=np.int64)  # the key each person takes room on
        self.used_m2 = np.zeros(n_people)  # how much room they take there
        self.taken_m2 = np.zeros(len(net.storage_m2))
        self.let_through = np.zeros(len(net.storage_m2), dtype=bool)

    def recount(self, active: np.ndarray) -> None:
        """The room taken per key, counted afresh from ``active`` (those on the move)."""
        self.taken_m2 = room_taken(active, self.came_by, self.used_m2, len(self.capacity_m2))

    def room(self, who: np.ndarray, mode: int, arcs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """For people ``who`` queueing for ``arcs``: the room left there and the room each would take."""
        keys = self.key[mode, arcs]
        left = np.where(self.let_through[keys], np.inf, self.capacity_m2[keys] - self.taken_m2[keys])
        size = np.where(self.came_by[who] == keys, 0.0, self.person_m2[mode])
        return left, size

    def enter(self, who: np.ndarray, mode: int, arcs: np.ndarray) -> None:
        """``who`` entered ``arcs``: they leave the room they took and take room there."""
        keys = self.key[mode, arcs]
        moved = self.came_by[who] != keys
        who, keys = who[moved], keys[moved]
        self.leave(who)
        scatter_add(self.taken_m2, keys, self.person_m2[mode])
        self.came_by[who] = keys
        self.used_m2[who] = self.person_m2[mode]

    def leave(self, who: np.ndarray) -> None:
        """``who`` no longer take room on any road (sheltered, stranded, entering another)."""
        on = who[self.came_by[who] >= 0]
        scatter_subtract(self.taken_m2, self.came_by[on], self.used_m2[on])
        self.came_by[who] = -1
        self.used_m2[who] = 0.0

    def find_gridlock(self, waiting: np.ndarray, mode: np.ndarray, want_arc: np.ndarray) -> list[np.ndarray]:
        """Rings of full roads whose people wait for each other; they are let through next step.

        Args:
            waiting: people at a junction who could not enter the road they want.
            mode: their travel mode.
            want_arc: the arc each of them waits for.

        Returns:
            The keys of every ring found (each an array), also marked in ``let_through``.
        """
        self.let_through[:] = False
        came, want = full_waits(
            waiting, mode, want_arc, self.came_by, self.key, self.taken_m2, self.person_m2, self.capacity_m2
        )
        if len(came) == 0:
            return []
        nodes, index = np.unique(np.concatenate([came, want]), return_inverse=True)
        src, dst = index[: len(came)], index[len(came) :]
        graph = csr_matrix((np.ones(len(src)), (src, dst)), shape=(len(nodes), len(nodes)))
        n_comp, label = connected_components(graph, directed=True, connection="strong")
        sizes = np.bincount(label, minlength=n_comp)
        rings = [np.sort(nodes[label == c]) for c in np.flatnonzero(sizes >= 2)]
        for ring in rings:
            self.let_through[ring] = True
        return rings


__all__ = ["Storage"]
