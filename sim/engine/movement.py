"""Vectorised kernels of the point-queue movement model (docs/movement.md).

Each direction of a road is a first-come server: a person enters no sooner than they arrive
and no sooner than one headway (3600 / capacity_pph seconds) after the previous entrant, then
crosses at their own free speed. The queue order is the true arrival time at the entrance,
across every inflow, however many steps someone has waited. Entry times follow
``e_j = max(a_j, e_{j-1} + h)``, solved for whole queues at once with a grouped running
maximum; times are continuous, not step-rounded.

Each ``name_vectorised`` here is the reference of a compiled kernel (sim/engine/kernels.py);
``name`` runs the one or the other (``kernels.when_large``), with the same results bit for bit.
Two are the full passes the looks at the unsettled are held to instead (``nodes_now_vectorised``,
``district_state_counts_vectorised``: :mod:`sim.engine.settled`).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from sim.agents.citizens import CAR, EVACUATING, SHELTERED, WALK, Population
from sim.engine import kernels


def group_starts(sorted_keys: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For keys sorted ascending: start of each group, group index and rank of each element."""
    n = len(sorted_keys)
    if n == 0:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, empty
    new = np.empty(n, dtype=bool)
    new[0] = True
    np.not_equal(sorted_keys[1:], sorted_keys[:-1], out=new[1:])
    gid = np.cumsum(new) - 1
    starts = np.flatnonzero(new)
    return starts, gid, np.arange(n) - starts[gid]


def grouped_cummax(values: np.ndarray, gid: np.ndarray) -> np.ndarray:
    """Running maximum restarted at every group (``gid`` sorted ascending)."""
    if len(values) == 0:
        return values.copy()
    lo = float(values.min())
    span = float(values.max()) - lo + 1.0
    shifted = (values - lo) + gid * span
    return np.maximum.accumulate(shifted) - gid * span + lo


def grouped_cumsum(values: np.ndarray, gid: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """Running sum (inclusive) restarted at every group (``gid`` sorted ascending)."""
    total = np.cumsum(values)
    before = total[starts] - values[starts]
    return total - before[gid]


def admit_fifo_vectorised(
    queue: np.ndarray,
    ready_s: np.ndarray,
    tiebreak: np.ndarray,
    next_free_s: np.ndarray,
    headway_s: np.ndarray,
    t_end: float,
    arrived_s: np.ndarray | None = None,
    room: np.ndarray | None = None,
    size: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Entry times of people queueing for servers, first come first served.

    Args:
        queue: server (queue id) each person waits for.
        ready_s: the earliest time each person can enter now (their arrival, or the step's start).
        tiebreak: a stable key for equal arrival times (for example the citizen index).
        next_free_s: per server, the earliest time it admits the next person (updated in place).
        headway_s: per server, seconds between two entrants.
        t_end: only entries strictly before this time happen now; later ones keep waiting.
        arrived_s: when each person really reached the entrance: the queue order (default
            ``ready_s``). Someone who has waited since an earlier step keeps their place ahead
            of anyone who came later, from any inflow; ``ready_s`` must not decrease in this order.
        room: per person, the room left on the server they queue for (storage, m²); None: no limit.
        size: per person, the room they take there (0 for someone already counted on it).

    Returns:
        ``entry`` times and the ``admitted`` mask, in the input order. With ``room``, people
        are admitted in queue order while they fit: whoever does not fit holds back everyone
        behind them (first come, first served), and someone held back for room has an
        ``entry`` before ``t_end`` but is not admitted.
    """
    n = len(queue)
    if n == 0:
        return np.zeros(0), np.zeros(0, dtype=bool)
    o = np.lexsort((tiebreak, ready_s if arrived_s is None else arrived_s, queue))
    q = queue[o]
    a = ready_s[o]
    starts, gid, rank = group_starts(q)
    h = headway_s[q]
    run = grouped_cummax(a - rank * h, gid)
    entry = rank * h + np.maximum(next_free_s[q], run)
    admitted = entry < t_end
    if room is not None and size is not None:
        fits = grouped_cumsum(size[o], gid, starts) <= room[o] + 1e-9
        admitted &= grouped_cumsum((~fits).astype(np.int64), gid, starts) == 0
    if admitted.any():
        np.maximum.at(next_free_s, q[admitted], entry[admitted] + h[admitted])
    out_entry = np.empty(n)
    out_adm = np.empty(n, dtype=bool)
    out_entry[o] = entry
    out_adm[o] = admitted
    return out_entry, out_adm


admit_fifo = kernels.when_large(kernels.MIN_PEOPLE, kernels.admit_fifo)(admit_fifo_vectorised)


def spread_over_arcs_vectorised(
    node: np.ndarray,
    ready_s: np.ndarray,
    tiebreak: np.ndarray,
    out_ptr: np.ndarray,
    out_arcs: np.ndarray,
    arc_ok: np.ndarray,
    arc_head: np.ndarray,
    arc_cost_s: np.ndarray,
    dist_s: np.ndarray,
    next_free_s: np.ndarray,
    headway_s: np.ndarray,
    t_now: float,
    arrived_s: np.ndarray | None = None,
) -> np.ndarray:
    """Choose an outgoing arc for each person waiting at a node, spreading crowds over exits.

    Candidate arcs lead strictly closer to a shelter (``dist`` of the head below the node's), so
    no route loops. The people at one node, in arrival order, take the earliest-finishing
    "slots": slot ``k`` of arc ``a`` finishes at ``max(next_free, now) + k * headway + cost +
    dist(head)``. A lone walker takes the shortest route; a crowd fills parallel exits in
    proportion to their capacity, as long as the detour pays off. ``arrived_s`` (default
    ``ready_s``) is the arrival order at the node, as in :func:`admit_fifo`.

    Returns:
        The chosen arc per person, or -1 where no arc gets closer (stranded).
    """
    m = len(node)
    choice = np.full(m, -1, dtype=np.int64)
    if m == 0:
        return choice
    start = out_ptr[node]
    deg = out_ptr[node + 1] - start
    pair_person = np.repeat(np.arange(m), deg)
    offset = np.arange(len(pair_person)) - np.repeat(np.cumsum(deg) - deg, deg)
    pair_arc = out_arcs[start[pair_person] + offset]
    ok = arc_ok[pair_arc] & (dist_s[arc_head[pair_arc]] < dist_s[node[pair_person]])
    pair_person, pair_arc = pair_person[ok], pair_arc[ok]
    if len(pair_person) == 0:
        return choice

    # People in (node, arrival) order, their group and rank within the node.
    o = np.lexsort((tiebreak, ready_s if arrived_s is None else arrived_s, node))
    pos = np.empty(m, dtype=np.int64)
    pos[o] = np.arange(m)
    _, gid_sorted, rank_sorted = group_starts(node[o])
    group_size = np.bincount(gid_sorted)
    pp = pos[pair_person]
    g = gid_sorted[pp]
    slot_cost = (
        np.maximum(next_free_s[pair_arc], t_now)
        + rank_sorted[pp] * headway_s[pair_arc]
        + arc_cost_s[pair_arc]
        + dist_s[arc_head[pair_arc]]
    )
    so = np.lexsort((pair_arc, slot_cost, g))
    _, _, slot_rank = group_starts(g[so])
    take = so[slot_rank < group_size[g[so]]]
    # Everyone at a node has the same candidates, so each group has at least as many slots as people.
    has_choice = np.zeros(m, dtype=bool)
    has_choice[pair_person] = True
    sorted_people = o[has_choice[o]]
    choice[sorted_people] = pair_arc[take]
    return choice


spread_over_arcs = kernels.when_large(kernels.MIN_PEOPLE, kernels.spread_over_arcs)(spread_over_arcs_vectorised)


# ---------------------------------------------------------------------------- a pass's bookkeeping


def exit_and_wait_vectorised(
    active: np.ndarray,
    state: np.ndarray,
    evacuating: int,
    arc: np.ndarray,
    t_ready: np.ndarray,
    blocked: np.ndarray,
    node: np.ndarray,
    arc_head: np.ndarray,
    t_end: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Those of ``active`` still ``evacuating``; of them, who leave their arc before ``t_end``, and who then waits.

    The second leave their arc for its head node (``node`` and ``arc`` updated in place); the
    third are everyone at a node, ready before ``t_end`` and not ``blocked`` (in ``active``'s
    order, all three). The pass's people on the move are found here, in the scan the kernel
    makes anyway, instead of by a filter of their own after each pass.
    """
    active = active[state[active] == evacuating]
    on_arc = active[arc[active] >= 0]
    exiting = on_arc[t_ready[on_arc] < t_end]
    if len(exiting):
        node[exiting] = arc_head[arc[exiting]]
        arc[exiting] = -1
    waiting = active[(arc[active] < 0) & (t_ready[active] < t_end) & ~blocked[active]]
    return active, exiting, waiting


exit_and_wait = kernels.when_large(kernels.MIN_ACTIVE, kernels.exit_and_wait)(exit_and_wait_vectorised)


def count_on_vectorised(
    active: np.ndarray,
    arc: np.ndarray,
    t_ready: np.ndarray,
    mode: np.ndarray,
    car: int,
    arc_road: np.ndarray,
    t_mid: float,
    n_roads: int,
    n_arcs: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Walkers per road and cars (``mode == car``) per arc: people of ``active`` still on their arc at ``t_mid``."""
    on = active[(arc[active] >= 0) & (t_ready[active] > t_mid)]
    cars = mode[on] == car
    walkers = np.bincount(arc_road[arc[on[~cars]]], minlength=n_roads).astype(float)
    return walkers, np.bincount(arc[on[cars]], minlength=n_arcs).astype(float)


count_on = kernels.when_large(kernels.MIN_ACTIVE, kernels.count_on)(count_on_vectorised)


def room_taken_vectorised(active: np.ndarray, came_by: np.ndarray, used_m2: np.ndarray, n_keys: int) -> np.ndarray:
    """Room taken per storage key by the people of ``active`` (summed in ``active``'s order)."""
    mine = active[came_by[active] >= 0]
    return np.bincount(came_by[mine], weights=used_m2[mine], minlength=n_keys).astype(float)


room_taken = kernels.when_large(kernels.MIN_ACTIVE, kernels.room_taken)(room_taken_vectorised)


def due_to_leave_vectorised(
    cand: np.ndarray, state: np.ndarray, depart_t: np.ndarray, at_home: int, trapped: int, t_end: float
) -> tuple[np.ndarray, float, np.ndarray]:
    """Who of ``cand`` at home leaves before ``t_end``, the others' earliest departure, those still home.

    The earliest departure is over those at home who do not leave now (inf if none); those still
    home are those of ``cand`` at home or trapped there, the leaving included (the caller marks
    them as gone before it asks again, and the next call drops them).

    ``cand`` (ascending) must hold everyone at home or trapped: nobody comes home but the trapped,
    so the mover scans what the last scan kept, not everyone, and gets a whole scan's answers.
    """
    s, d = state[cand], depart_t[cand]
    home = s == at_home
    leave = home & (d < t_end)
    return cand[leave], float(d[home & ~leave].min(initial=np.inf)), cand[home | (s == trapped)]


due_to_leave = kernels.when_large(kernels.MIN_POPULATION, kernels.due_to_leave)(due_to_leave_vectorised)


def leave_home_vectorised(idx: np.ndarray, pop: Any, evacuating: int, car: int) -> np.ndarray:
    """Citizens ``idx`` leave home: on the move from their home's node, ready at their departure; the drivers of them.

    ``pop`` (the population's arrays): ``state``, ``node``, ``arc`` and ``t_ready`` are changed in
    place (a departing step's handful of people: one compiled call instead of seven numpy calls of
    a microsecond or two each).
    """
    pop.state[idx] = evacuating
    pop.node[idx] = pop.home_node[idx]
    pop.arc[idx] = -1
    pop.t_ready[idx] = pop.depart_t[idx]
    drivers: np.ndarray = idx[pop.mode[idx] == car]
    return drivers


def _leave_home_compiled(idx: np.ndarray, pop: Any, evacuating: int, car: int) -> np.ndarray:
    people = (pop.state, pop.node, pop.home_node, pop.arc, pop.t_ready, pop.depart_t, pop.mode)
    out: np.ndarray = kernels.loaded_module().leave_home(kernels._ints(idx), *people, int(evacuating), int(car))
    return out


leave_home = kernels.when_large(kernels.MIN_PEOPLE, _leave_home_compiled)(leave_home_vectorised)


# ---------------------------------------------------------------------------- where everyone is


def nodes_now_vectorised(
    state: np.ndarray, shelter: np.ndarray, shelter_node: np.ndarray, node: np.ndarray, sheltered: int
) -> np.ndarray:
    """Everyone's node now: their shelter's once ``sheltered``, else where they last were."""
    return np.where(state == sheltered, shelter_node[np.maximum(shelter, 0)], node)


def held_back_vectorised(
    active: np.ndarray, state: np.ndarray, arc: np.ndarray, want_arc: np.ndarray, evacuating: int
) -> np.ndarray:
    """Those of ``active`` still ``evacuating``, at a node and waiting for an arc (``want_arc``), in order."""
    active = active[state[active] == evacuating]
    return active[(arc[active] < 0) & (want_arc[active] >= 0)]


held_back = kernels.when_large(kernels.MIN_ACTIVE, kernels.held_back)(held_back_vectorised)


def full_waits_vectorised(
    waiting: np.ndarray,
    mode: np.ndarray,
    want_arc: np.ndarray,
    came_by: np.ndarray,
    key: np.ndarray,
    taken_m2: np.ndarray,
    person_m2: np.ndarray,
    capacity_m2: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Of ``waiting`` (at a node, wanting ``want_arc``): those on a road's room wanting another, full one.

    Returns the storage key each takes room on and the key they want, in ``waiting``'s order.
    """
    here = waiting[came_by[waiting] >= 0]
    want = key[mode[here], want_arc[here]]
    came = came_by[here]
    full = (want != came) & (taken_m2[want] + person_m2[mode[here]] > capacity_m2[want] + 1e-9)
    return came[full], want[full]


full_waits = kernels.when_large(kernels.MIN_PEOPLE, kernels.full_waits)(full_waits_vectorised)


def district_state_counts_vectorised(
    node: np.ndarray, node_district: np.ndarray, state: np.ndarray, n_districts: int, n_states: int
) -> np.ndarray:
    """People per district (of the node they are at) and state code: ``n_districts x n_states``."""
    key = node_district[node].astype(np.int64) * n_states + state
    return np.bincount(key, minlength=n_districts * n_states).reshape(n_districts, n_states)


def positions_now_vectorised(
    idx: np.ndarray,
    t: float,
    pop: Population,
    arc_tail: np.ndarray,
    arc_head: np.ndarray,
    node_xy: np.ndarray,
    shelter_xy: np.ndarray,
) -> np.ndarray:
    """Metric positions of citizens ``idx`` at ``t``: at their node, along their arc, or at their shelter.

    Interpolated along the arc by the share of its crossing done.
    """
    node, arc, t_entry, t_ready, state, shelter = pop.node, pop.arc, pop.t_entry, pop.t_ready, pop.state, pop.shelter
    xy = node_xy[node[idx]].copy()
    on = arc[idx] >= 0
    if on.any():
        a = arc[idx][on]
        span = np.maximum(t_ready[idx][on] - t_entry[idx][on], 1e-9)
        frac = np.clip((t - t_entry[idx][on]) / span, 0.0, 1.0)[:, None]
        xy[on] = node_xy[arc_tail[a]] + frac * (node_xy[arc_head[a]] - node_xy[arc_tail[a]])
    inside = state[idx] == SHELTERED
    if inside.any():
        xy[inside] = shelter_xy[shelter[idx][inside]]
    return xy


positions_now = kernels.when_large(kernels.MIN_ACTIVE, kernels.positions_now)(positions_now_vectorised)


def exposed_vectorised(
    state: np.ndarray,
    arc: np.ndarray,
    node: np.ndarray,
    sheltered: int,
    casualty: int,
    wet: np.ndarray | None = None,
    among: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Citizens neither sheltered nor casualties (ascending), and the node of each (-1: along a road).

    ``wet``: per road node, whether it is under water; those standing at a dry node are left out
    (everyone along a road stays: their depth depends on where along it they are). ``among``:
    ascending, everyone neither sheltered nor a casualty and maybe others (:class:`sim.engine.settled.Settled`'s
    ``live``): only they are looked at (default: everyone).
    """
    idx = np.arange(len(state)) if among is None else among
    out = (state[idx] != sheltered) & (state[idx] != casualty)
    if wet is not None:
        out &= (arc[idx] >= 0) | wet[node[idx]]
    idx = idx[out]
    return idx, np.where(arc[idx] < 0, node[idx], -1)


def _exposed_compiled(
    state: np.ndarray,
    arc: np.ndarray,
    node: np.ndarray,
    sheltered: int,
    casualty: int,
    wet: np.ndarray | None = None,
    among: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    ints = kernels._ints
    if wet is None:  # every node counts as wet (nobody left out)
        wet = np.ones(int(node.max(initial=-1)) + 1, dtype=bool)
    among = np.arange(len(state)) if among is None else ints(among)
    compiled = kernels.loaded_module()
    idx, at = compiled.exposed_where_wet(among, state, ints(arc), ints(node), int(sheltered), int(casualty), wet)
    return idx, at


exposed = kernels.when_large(kernels.MIN_POPULATION, _exposed_compiled)(exposed_vectorised)


def closer_arcs_vectorised(
    arc_ok: np.ndarray, arc_tail: np.ndarray, arc_head: np.ndarray, dist_s: np.ndarray, n_nodes: int
) -> tuple[np.ndarray, np.ndarray]:
    """Per node: how many usable arcs lead strictly closer (``dist_s``), and the last such arc (-1: none).

    Where a node has one closer arc it is that arc: people there need no spreading over exits.
    """
    closer = arc_ok & (dist_s[arc_head] < dist_s[arc_tail])
    tails = arc_tail[closer]
    only = np.full(n_nodes, -1, dtype=np.int64)
    only[tails] = np.nonzero(closer)[0]
    return np.bincount(tails, minlength=n_nodes), only


closer_arcs = kernels.when_large(kernels.MIN_ACTIVE, kernels.closer_arcs)(closer_arcs_vectorised)


def _arcs_of(ptr: np.ndarray, arcs: np.ndarray, nodes: np.ndarray) -> np.ndarray:
    """The arcs of ``nodes`` in a CSR (``arcs[ptr[v]:ptr[v + 1]]`` for each, in turn)."""
    count = ptr[nodes + 1] - ptr[nodes]
    start = np.repeat(ptr[nodes] - (np.cumsum(count) - count), count)
    return arcs[np.arange(int(count.sum())) + start]


def closer_arcs_update_vectorised(
    count: np.ndarray,
    only: np.ndarray,
    changed: np.ndarray,
    arc_ok: np.ndarray,
    arc_tail: np.ndarray,
    arc_head: np.ndarray,
    dist_s: np.ndarray,
    out_ptr: np.ndarray,
    out_arcs: np.ndarray,
    in_ptr: np.ndarray,
    in_arcs: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`closer_arcs_vectorised` for ``dist_s``, from its answer for other times (``count``, ``only``).

    The times differ only at the nodes ``changed``; ``arc_ok`` is the same. Whether an arc leads
    closer changes only where its tail's or its head's time did: only the ``changed`` nodes and the
    tails of arcs into them are counted again, over their arcs out (``out_*`` and ``in_*``: each
    node's arcs out and in, as CSR, ascending within a node). The arrays given are not changed.
    """
    tails = np.unique(np.concatenate([changed, arc_tail[_arcs_of(in_ptr, in_arcs, changed)]]))
    arcs = _arcs_of(out_ptr, out_arcs, tails)
    closer = arcs[arc_ok[arcs] & (dist_s[arc_head[arcs]] < dist_s[arc_tail[arcs]])]
    count, only = count.copy(), only.copy()
    count[tails] = 0
    only[tails] = -1
    count += np.bincount(arc_tail[closer], minlength=len(count))
    only[arc_tail[closer]] = closer  # each node's arcs ascending: the last closer one is its highest
    return count, only


closer_arcs_update = kernels.when_large(kernels.MIN_ACTIVE, kernels.closer_arcs_update, size=lambda *a: len(a[3]))(
    closer_arcs_update_vectorised
)


def queue_lengths_vectorised(
    state: np.ndarray, arc: np.ndarray, want_arc: np.ndarray, mode: np.ndarray, n_arcs: int
) -> np.ndarray:
    """People waiting at each arc's entrance, per mode (``2 x n_arcs``): on the move, at a node, wanting it."""
    waiting = (state == EVACUATING) & (arc < 0) & (want_arc >= 0)
    return np.vstack([np.bincount(want_arc[waiting & (mode == m)], minlength=n_arcs) for m in (WALK, CAR)])


queue_lengths = kernels.when_large(kernels.MIN_POPULATION, kernels.queue_lengths)(queue_lengths_vectorised)


def scatter_add_vectorised(target: np.ndarray, idx: np.ndarray, values: np.ndarray) -> None:
    """``target[idx[i]] += values[i]`` for each ``i`` in order (``np.add.at``), in place."""
    np.add.at(target, idx, values)


def scatter_subtract_vectorised(target: np.ndarray, idx: np.ndarray, values: np.ndarray) -> None:
    """``target[idx[i]] -= values[i]`` for each ``i`` in order (``np.subtract.at``), in place."""
    np.subtract.at(target, idx, values)


def scatter_max_vectorised(target: np.ndarray, idx: np.ndarray, values: np.ndarray) -> None:
    """``target[idx[i]] = max(target[idx[i]], values[i])`` (``np.maximum.at``: NaN wins), in place."""
    np.maximum.at(target, idx, values)


scatter_add = kernels.when_large(kernels.MIN_PEOPLE, kernels.scatter_add, size=lambda t, idx, v: len(idx))(
    scatter_add_vectorised
)
scatter_subtract = kernels.when_large(kernels.MIN_PEOPLE, kernels.scatter_subtract, size=lambda t, idx, v: len(idx))(
    scatter_subtract_vectorised
)
scatter_max = kernels.when_large(kernels.MIN_PEOPLE, kernels.scatter_max, size=lambda t, idx, v: len(idx))(
    scatter_max_vectorised
)
