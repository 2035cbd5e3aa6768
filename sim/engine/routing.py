"""Directed arcs of the road network and the routing field toward shelters.

Instead of a path per citizen, the engine keeps one *field* per travel mode: for every node,
the travel time to the nearest usable shelter (multi-source Dijkstra on the reversed graph).
Whoever stands at a node moves along an arc that gets strictly closer, so routes never loop,
and re-routing after a road closes or a shelter fills is one Dijkstra for everyone.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra

from sim.agents.citizens import CAR, WALK
from sim.city.model import City
from sim.city.roads import effective_width_m, pedestrian_capacity_pph, vehicle_capacity_vph
from sim.engine import kernels
from sim.engine.crowding import JAM_DENSITY, LANE_WIDTH_M, critical
from sim.scenario.schema import MovementConfig


@dataclass
class ArcNetwork:
    """Both directions of every road segment, with per-mode usability and queue headways.

    Queue ``q`` of arc ``a`` and mode ``m`` is ``a + m * n_arcs``: walkers and cars queue apart.
    """

    n_nodes: int
    tail: np.ndarray
    head: np.ndarray
    road: np.ndarray
    length_m: np.ndarray
    usable: np.ndarray  # (2, A) bool: can mode m use arc a at all
    car_time_s: np.ndarray
    ref_time_s: np.ndarray  # (2, A): time used to rank routes per mode
    headway_s: np.ndarray  # (2 * A,): seconds between two persons entering
    out_ptr: np.ndarray
    out_arcs: np.ndarray
    walk_area_m2: np.ndarray | None = None  # per road: length x effective width (crowd density)
    shared: np.ndarray | None = None  # per arc: walkers and cars share one carriageway (time shares)
    car_lane_km: np.ndarray | None = None  # per arc: length in km x lanes in its direction
    # Storage (movement.storage): where a person on arc a of mode m takes room (``store_key[m, a]``:
    # the road for walkers and on a shared carriageway, else the car arc itself), how much
    # room each key has (m²) and how much one person of each mode takes (m²).
    store_key: np.ndarray | None = None  # (2, A) int
    storage_m2: np.ndarray | None = None  # per key
    person_m2: np.ndarray | None = None  # (2,): per walker, per car occupant
    # Per mode: the reversed graph's fixed structure (compute_field fills in the costs).
    graph_cache: dict[object, tuple[np.ndarray, ...]] = field(default_factory=dict, repr=False)

    @property
    def n_arcs(self) -> int:
        """Number of directed arcs."""
        return len(self.tail)


def build_arcs(city: City, movement: MovementConfig, step_s: float = 10.0) -> ArcNetwork:
    """Directed arcs with capacities and storage from the rules of docs/movement.md.

    ``step_s`` (the scenario's step) sets the least storage of a road: what its capacity
    passes in one step, so that a short road never holds back a flow it could carry.
    """
    roads = city.roads
    u = roads["u"].to_numpy(np.int64)
    v = roads["v"].to_numpy(np.int64)
    r = np.arange(len(roads))
    tail = np.concatenate([u, v])
    head = np.concatenate([v, u])
    road = np.concatenate([r, r])
    length = np.concatenate([roads["length_m"].to_numpy(float)] * 2)
    walkable = roads["walkable"].to_numpy(bool)
    drivable = roads["drivable"].to_numpy(bool)
    oneway = roads["oneway"].to_numpy(bool)
    walk_ok = np.concatenate([walkable, walkable])  # pedestrians ignore one-way rules
    car_ok = np.concatenate([drivable, drivable & ~oneway])
    speed_mps = roads["speed_kph"].to_numpy(float) / 3.6
    car_time = length / np.concatenate([speed_mps, speed_mps])

    # Per road: its own boundary strip (a door's, a passage's) or the street default; the specific
    # flow never above the speed relation's maximum.
    boundary = (
        roads["boundary_m"].fillna(movement.boundary_m).to_numpy(float)
        if "boundary_m" in roads
        else np.full(len(roads), movement.boundary_m)
    )
    flow = min(movement.specific_flow_pmps, critical(movement.speed_relation)[1])
    width = roads["width_m"].to_numpy(float)
    walk_pph = pedestrian_capacity_pph(width, specific_flow_pmps=flow, boundary_m=boundary)
    lanes_total = roads["lanes"].to_numpy(float)
    car_pph = (
        vehicle_capacity_vph(lanes_total, oneway, lane_capacity_vph=movement.lane_capacity_vph) * movement.car_occupancy
    )
    lanes_dir = np.where(oneway, lanes_total, np.maximum(1.0, np.floor(lanes_total / 2.0)))
    shared = roads["shared"].to_numpy(bool) if "shared" in roads else np.zeros(len(roads), dtype=bool)
    override = roads["capacity_pph"].to_numpy(float)
    has = np.isfinite(override)
    walk_pph = np.where(has, override, walk_pph)
    car_pph = np.where(has, override, car_pph)
    with np.errstate(divide="ignore"):
        walk_h = np.where(walk_pph > 0, 3600.0 / walk_pph, np.inf)
        car_h = np.where(car_pph > 0, 3600.0 / car_pph, np.inf)
    headway = np.concatenate([walk_h, walk_h, car_h, car_h])
    zero_cap = ~np.isfinite(headway)
    usable = np.vstack([walk_ok & ~zero_cap[: len(tail)], car_ok & ~zero_cap[len(tail) :]])

    order = np.argsort(tail, kind="stable")
    out_ptr = np.zeros(city.n_nodes + 1, dtype=np.int64)
    np.add.at(out_ptr, tail + 1, 1)
    out_ptr = np.cumsum(out_ptr)
    ref = np.vstack([length / movement.reference_walk_speed_mps, car_time])
    shared_arc = np.concatenate([shared, shared]) & usable[0] & usable[1]
    walk_area = roads["length_m"].to_numpy(float) * effective_width_m(width, boundary)
    store_key, storage_m2, person_m2 = _storage(
        road,
        shared_arc,
        walk_area,
        roads["length_m"].to_numpy(float) * width,
        length * np.concatenate([lanes_dir, lanes_dir]),
        headway,
        movement,
        step_s,
    )
    return ArcNetwork(
        n_nodes=city.n_nodes,
        tail=tail,
        head=head,
        road=road,
        length_m=length,
        usable=usable,
        car_time_s=car_time,
        ref_time_s=ref,
        headway_s=headway,
        out_ptr=out_ptr,
        out_arcs=order,
        walk_area_m2=walk_area,
        car_lane_km=length / 1000.0 * np.concatenate([lanes_dir, lanes_dir]),
        shared=shared_arc,
        store_key=store_key,
        storage_m2=storage_m2,
        person_m2=person_m2,
    )


def _storage(
    road: np.ndarray,
    shared_arc: np.ndarray,
    walk_area_m2: np.ndarray,
    carriageway_m2: np.ndarray,  # per road: length x width
    lane_m: np.ndarray,  # per arc: length x lanes in its direction
    headway_s: np.ndarray,
    movement: MovementConfig,
    step_s: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Storage keys per mode and arc, room per key (m²) and room per person of each mode (m²).

    Walkers take ``1 / jam density`` of the road's effective area, both directions together (a
    crowd queueing one way blocks the other). A car occupant takes ``spacing x lane width /
    occupancy`` of the lanes of its direction. On a shared carriageway walkers and cars fill one
    room: the carriageway's whole area. Each key holds at least what its arcs pass in one step.
    """
    n_roads = len(walk_area_m2)
    n_arcs = len(road)
    person = np.array(
        [
            1.0 / JAM_DENSITY[movement.speed_relation],
            movement.vehicle_spacing_m * LANE_WIDTH_M / movement.car_occupancy,
        ]
    )
    car_key = np.where(shared_arc, road, n_roads + np.arange(n_arcs))
    keys = np.vstack([road, car_key]).astype(np.int64)
    room = np.concatenate([walk_area_m2, lane_m * LANE_WIDTH_M])
    shared_roads = np.unique(road[shared_arc])
    room[shared_roads] = np.maximum(room[shared_roads], carriageway_m2[shared_roads])
    # The least storage: one step's flow at capacity, for each mode using the key.
    for m in (0, 1):
        per_step = step_s / headway_s[m * n_arcs : (m + 1) * n_arcs] * person[m]  # 0 where no capacity (inf)
        np.maximum.at(room, keys[m], per_step)
    return keys, room, person


@dataclass
class Field:
    """Travel time to the nearest target for every node, and which target that is.

    ``pred`` (the next node toward the target, -1 at targets and unreachable nodes) and
    ``pair_cost`` (the reversed graph's costs) let ``repair_field`` update it after a loss.
    """

    dist: np.ndarray
    source: np.ndarray
    pred: np.ndarray
    pair_cost: np.ndarray


def compute_field(
    net: ArcNetwork, mode: int, open_arcs: np.ndarray, targets: np.ndarray, delay_s: np.ndarray | None = None
) -> Field:
    """Multi-source shortest travel times to ``targets`` over the open arcs usable by ``mode``.

    Args:
        net: the arc network.
        mode: ``WALK`` or ``CAR``.
        open_arcs: bool per arc, False where the road is closed.
        targets: node indices of shelters that are open and have room.
        delay_s: per arc, the wait at its entrance added to its free travel time (routes on
            current travel times, queues included); None: free travel times.
    """
    n = net.n_nodes
    pair_cost = _pair_cost(net, mode, open_arcs, delay_s)
    if len(targets) == 0:
        nowhere = np.full(n, -1, dtype=np.int64)
        return Field(dist=np.full(n, np.inf), source=nowhere, pred=nowhere.copy(), pair_cost=pair_cost)
    _arcs, _starts, perm, indices, indptr = _reversed_graph(net, mode)
    graph = csr_matrix((pair_cost[perm], indices, indptr), shape=(n, n))
    dist, pred, source = dijkstra(
        graph, directed=True, indices=np.unique(targets), min_only=True, return_predecessors=True
    )
    source = np.where(np.isfinite(dist), source, -1).astype(np.int64)
    pred = np.where(pred >= 0, pred, -1).astype(np.int64)  # scipy marks targets and the unreached -9999
    return Field(dist=dist, source=source, pred=pred, pair_cost=pair_cost)


def _pair_cost(net: ArcNetwork, mode: int, open_arcs: np.ndarray, delay_s: np.ndarray | None) -> np.ndarray:
    """Per (head, tail) pair of the reversed graph: the quickest open arc of parallel ones (closed: inf)."""
    arcs, starts = _reversed_graph(net, mode)[:2]
    return pair_cost(arcs, starts, open_arcs, net.ref_time_s[mode], delay_s)


def pair_cost_vectorised(
    arcs: np.ndarray, starts: np.ndarray, open_arcs: np.ndarray, ref_time_s: np.ndarray, delay_s: np.ndarray | None
) -> np.ndarray:
    """Per run of parallel ``arcs`` (from each of ``starts``): the least cost of its open ones, inf if none.

    An arc costs its reference time plus ``delay_s`` (if given), at least 1e-9 s.
    """
    cost = ref_time_s if delay_s is None else ref_time_s + delay_s
    arc_cost = np.where(open_arcs[arcs], np.maximum(cost[arcs], 1e-9), np.inf)
    return np.minimum.reduceat(arc_cost, starts) if len(arcs) else np.zeros(0)


pair_cost = kernels.when_large(kernels.MIN_ACTIVE, kernels.pair_cost)(pair_cost_vectorised)


def repair_field(
    net: ArcNetwork,
    mode: int,
    open_arcs: np.ndarray,
    targets: np.ndarray,
    old: Field,
    delay_s: np.ndarray | None = None,
    *,
    same_roads: bool = False,
) -> Field:
    """``old`` after a loss (targets gone, arcs closed, delays added), searched again only where it changed.

    Only nodes whose route in ``old`` ran through a lost target or a dearer pair can get farther;
    every other node keeps its time, its target and its next node. Those nodes are searched again
    from the unchanged ones around them (one Dijkstra over them, from a virtual source joined to
    each at the time its best unchanged neighbour offers). Times are the very sums a full search
    adds, so ``dist`` equals ``compute_field``'s bit for bit; where two shelters are exactly
    equally near, the target chosen can differ from a full search's (either is nearest).

    The caller guarantees a loss: ``targets`` within the old ones, ``open_arcs`` within the old,
    and ``delay_s`` (per arc, none negative; see ``compute_field``) only on top of the costs
    ``old`` was searched on (the free-flow field's, for routes on current travel times).
    ``same_roads``: ``open_arcs`` are those ``old`` was searched on; without delays no pair got
    dearer, and ``old``'s pair costs are the costs (not computed again).
    """
    n = net.n_nodes
    if len(targets) > 1 and not (targets[1:] > targets[:-1]).all():  # (the mover's are ascending already)
        targets = np.unique(targets)
    if len(targets) == 0:
        return compute_field(net, mode, open_arcs, targets, delay_s)
    arcs, starts = _reversed_graph(net, mode)[:2]
    unchanged = same_roads and delay_s is None  # the very costs ``old`` was searched on
    pair_cost = old.pair_cost if unchanged else _pair_cost(net, mode, open_arcs, delay_s)
    # Directly hit: lost targets, and nodes whose next step became dearer.
    hit = np.zeros(n, dtype=bool)
    was_target = np.flatnonzero(old.source == np.arange(n))
    still = np.zeros(n, dtype=bool)  # still a target (a mask: np.isin sorts both, per repair)
    still[targets] = True
    hit[was_target[~still[was_target]]] = True
    dearer = np.zeros(0, dtype=np.int64) if unchanged else np.flatnonzero(pair_cost > old.pair_cost)
    if len(dearer):
        head, tail = net.head[arcs[starts[dearer]]], net.tail[arcs[starts[dearer]]]
        hit[tail[old.pred[tail] == head]] = True
    if not hit.any():
        return Field(dist=old.dist, source=old.source, pred=old.pred, pair_cost=pair_cost)
    if unchanged:  # only lost shelters are hit: the nodes whose route ends at one (a route's end is its source)
        lost = np.zeros(n + 1, dtype=bool)  # (the last place: no source, -1)
        lost[:n] = hit
        affected = lost[old.source]
    else:
        affected = downstream(hit, old.pred)  # every node whose route runs through a hit one
    nodes = np.flatnonzero(affected)
    k = len(nodes)
    pos = np.full(n, -1, dtype=np.int64)
    pos[nodes] = np.arange(k)
    # Their arcs toward other nodes, entry times from unchanged neighbours, as one graph (CSR).
    f_perm, f_indices, f_indptr = _forward_graph(net, mode)
    data, indices, indptr, entry_u, entry_v = subgraph(
        f_perm, f_indices, f_indptr, pair_cost, nodes, affected, pos, old.dist
    )
    # One Dijkstra over the affected nodes from a virtual source (index k).
    sub = csr_matrix((data, indices, indptr), shape=(k + 1, k + 1))
    d, p = dijkstra(sub, directed=True, indices=k, return_predecessors=True)
    dist, source, pred = old.dist.copy(), old.source.copy(), old.pred.copy()
    dist[nodes] = d[:k]
    reached = np.isfinite(d[:k])
    via = np.full(k, -1, dtype=np.int64)  # entry neighbour of each node's route
    via[entry_u] = entry_v
    sub_pred = p[:k].astype(np.int64)
    from_entry = reached & (sub_pred == k)
    inner = reached & (sub_pred >= 0) & (sub_pred < k)
    pred[nodes] = -1
    pred[nodes[from_entry]] = via[from_entry]
    pred[nodes[inner]] = nodes[sub_pred[inner]]
    # Targets: follow each route to its entry neighbour (pointer jumping within the affected).
    hop = np.where(inner, sub_pred, np.arange(k))
    while True:
        nxt = hop[hop]
        if np.array_equal(nxt, hop):
            break
        hop = nxt
    got = np.full(k, -1, dtype=np.int64)
    ends = from_entry[hop] & reached
    got[ends] = old.source[via[hop[ends]]]
    source[nodes] = got
    return Field(dist=dist, source=source, pred=pred, pair_cost=pair_cost)


def subgraph_vectorised(
    f_perm: np.ndarray,
    f_indices: np.ndarray,
    f_indptr: np.ndarray,
    pair_cost: np.ndarray,
    nodes: np.ndarray,
    affected: np.ndarray,
    pos: np.ndarray,
    old_dist: np.ndarray,
) -> tuple[np.ndarray, ...]:
    """A repair's graph over the ``affected`` ``nodes`` (``pos``: each one's index), and a virtual source.

    Node ``i`` is ``nodes[i]``; the virtual source, index ``k = len(nodes)``, reaches each affected
    node that has an unchanged neighbour at the least time one offers (its time in ``old_dist``
    plus the step's cost; ties: the lowest neighbour). Arcs are reversed pairs (forward: ``u -> v``
    costs the pair ``(v, u)``; ``f_*``: the forward CSR, :func:`_forward_graph`). Returns the CSR
    ``(data, indices, indptr)`` of the ``k + 1`` nodes (each row's columns ascending), and the
    entries: the affected nodes' indices reached from the virtual source, ascending, and the
    neighbour each entry comes from.
    """
    k = len(nodes)
    u, v, w = _rows_of(f_indptr, f_indices, f_perm, pair_cost, nodes)
    ok = np.isfinite(w)
    u, v, w = u[ok], v[ok], w[ok]
    inside = affected[v]
    ou, ov = u[~inside], v[~inside]
    offer = old_dist[ov] + w[~inside]
    reach = np.isfinite(offer)
    ou, ov, offer = ou[reach], ov[reach], offer[reach]
    order = np.lexsort((ov, offer, ou))  # per node: least offer first (ties: lowest neighbour)
    first = np.r_[True, ou[order][1:] != ou[order][:-1]] if len(order) else np.zeros(0, dtype=bool)
    entry_u, entry_v, entry_t = ou[order][first], ov[order][first], offer[order][first]
    rows = np.concatenate([pos[v[inside]], np.full(len(entry_u), k)])
    cols = np.concatenate([u[inside], entry_u])
    sub = _csr(np.concatenate([w[inside], entry_t]), rows, cols, k + 1)  # pairs are distinct
    return sub.data, sub.indices.astype(np.int64), sub.indptr.astype(np.int64), entry_u, entry_v


def _subgraph_compiled(
    f_perm: np.ndarray,
    f_indices: np.ndarray,
    f_indptr: np.ndarray,
    pair_cost: np.ndarray,
    nodes: np.ndarray,
    affected: np.ndarray,
    pos: np.ndarray,
    old_dist: np.ndarray,
) -> tuple[np.ndarray, ...]:
    """:func:`subgraph_vectorised`, compiled (call only when the kernels are loaded)."""
    ints = kernels._ints
    out: tuple[np.ndarray, ...] = kernels.loaded_module().repair_subgraph(
        ints(f_perm), ints(f_indices), ints(f_indptr), np.ascontiguousarray(pair_cost, dtype=np.float64),
        ints(nodes), np.ascontiguousarray(affected, dtype=np.bool_), ints(pos),
        np.ascontiguousarray(old_dist, dtype=np.float64),
    )  # fmt: skip
    return out


subgraph = kernels.when_large(kernels.MIN_PEOPLE, _subgraph_compiled, size=lambda *a: len(a[4]))(subgraph_vectorised)


def _rows_of(
    indptr: np.ndarray, indices: np.ndarray, perm: np.ndarray, values: np.ndarray, rows: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The entries of CSR ``rows`` (in that order, each row's as stored): (position in ``rows``, column, value).

    What ``csr_matrix((values[perm], indices, indptr))[rows].tocoo()`` holds, without building
    the matrix (nor ``values[perm]`` beyond those rows).
    """
    start = indptr[rows]
    count = indptr[np.asarray(rows) + 1] - start
    total = int(count.sum())
    pos = np.repeat(np.arange(len(rows)), count)
    at = np.arange(total) + np.repeat(start - (np.cumsum(count) - count), count)
    return pos, indices[at], values[perm[at]]


def _csr(data: np.ndarray, rows: np.ndarray, cols: np.ndarray, n: int) -> csr_matrix:
    """``csr_matrix((data, (rows, cols)), shape=(n, n))`` for distinct (row, col) pairs, built directly.

    The same matrix (each row's columns in ascending order, as scipy's conversion leaves them),
    without the general conversion's duplicate summing.
    """
    order = np.lexsort((cols, rows))
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows, minlength=n), out=indptr[1:])
    return csr_matrix((data[order], cols[order], indptr), shape=(n, n))


def downstream_vectorised(hit: np.ndarray, pred: np.ndarray) -> np.ndarray:
    """Nodes whose chain of next nodes (``pred``, -1 at its end) meets a ``hit`` node, the hit ones included.

    Pointer jumping up the tree: each pass doubles how far up every node has looked.
    """
    up = np.where(pred >= 0, pred, np.arange(len(pred)))
    affected = np.asarray(hit, dtype=bool).copy()
    while True:
        affected |= affected[up]
        nxt = up[up]
        if np.array_equal(nxt, up):
            break
        up = nxt
    return affected


downstream = kernels.when_large(kernels.MIN_ACTIVE, kernels.downstream)(downstream_vectorised)


def arcs_into(net: ArcNetwork) -> tuple[np.ndarray, np.ndarray]:
    """Each node's arcs in, as CSR (``in_arcs[in_ptr[v]:in_ptr[v + 1]]``, ascending), built once."""
    if "in" not in net.graph_cache:
        in_ptr = np.zeros(net.n_nodes + 1, dtype=np.int64)
        np.cumsum(np.bincount(net.head, minlength=net.n_nodes), out=in_ptr[1:])
        net.graph_cache["in"] = (in_ptr, np.argsort(net.head, kind="stable").astype(np.int64))
    in_ptr, in_arcs = net.graph_cache["in"]
    return in_ptr, in_arcs


def _forward_graph(net: ArcNetwork, mode: int) -> tuple[np.ndarray, ...]:
    """The forward CSR structure (tail -> head) over the reversed graph's pairs, built once.

    Returns the order of the pairs in it, and its ``indices`` and ``indptr``.
    """
    key = ("forward", mode)
    if key not in net.graph_cache:
        n = net.n_nodes
        arcs, starts = _reversed_graph(net, mode)[:2]
        head, tail = net.head[arcs[starts]], net.tail[arcs[starts]]
        shape = csr_matrix((np.arange(1, len(starts) + 1, dtype=float), (tail, head)), shape=(n, n))
        net.graph_cache[key] = (shape.data.astype(np.int64) - 1, shape.indices.copy(), shape.indptr.copy())
    return net.graph_cache[key]


def _reversed_graph(net: ArcNetwork, mode: int) -> tuple[np.ndarray, ...]:
    """The reversed graph of a mode's usable arcs, built once: its costs change, its shape does not.

    Returns the usable arcs sorted by (head, tail) pair, the start of each pair's run, the CSR
    order of the pairs, and the CSR ``indices`` and ``indptr``. Building the sparse matrix from
    scratch cost about four times the Dijkstra search itself.
    """
    if mode not in net.graph_cache:
        n = net.n_nodes
        usable = np.flatnonzero(net.usable[mode])
        key = net.head[usable] * n + net.tail[usable]
        order = np.argsort(key, kind="stable")
        arcs, key = usable[order], key[order]
        starts = np.flatnonzero(np.r_[True, key[1:] != key[:-1]]) if len(key) else np.zeros(0, dtype=np.int64)
        pairs = key[starts]
        shape = csr_matrix((np.arange(1, len(pairs) + 1, dtype=float), (pairs // n, pairs % n)), shape=(n, n))
        perm = shape.data.astype(np.int64) - 1
        net.graph_cache[mode] = (arcs, starts, perm, shape.indices.copy(), shape.indptr.copy())
    return net.graph_cache[mode]


__all__ = ["CAR", "WALK", "ArcNetwork", "Field", "arcs_into", "build_arcs", "compute_field", "repair_field"]
