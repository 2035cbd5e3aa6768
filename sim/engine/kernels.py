"""Compiled kernels (numba) for the movement passes where the profile says so (issue 20).

Each kernel computes exactly what its vectorised reference in :mod:`sim.engine.movement`
computes, bit for bit: the same floating-point operations in the same order (no fast-math), the
same orders and tie-breaks. Tests hold every kernel to its reference on random inputs with ties,
so which one runs never changes a result.

When the kernels run (:func:`run`): once the references have spent ``AFTER_S`` seconds on
large calls (``MIN_PEOPLE``, ``MIN_ACTIVE`` or ``MIN_POPULATION``, by what the call spans) in
this process. Importing numba and loading the cached kernels costs 0.35 to 0.9 s and 100 MB,
which a run repays only if its large calls add up: so a small or short run never imports numba,
and a long one switches after its first second of them. Sooner when the run says how far it is
(:func:`note_progress`, the mover at each step): once ``EARLY_S`` spent so early that the run,
going on as it began, would spend ``PAYS_S`` (100,000 walkers on the peers' grid reach 0.25 s
of large calls five per cent into their run, a second only an eighth of the way in). A call
that repays the loading by itself (a derived terrain of ``MIN_CELLS`` cells:
``run(..., outright=True)``) loads them at once. Once loaded, the kernels serve every call,
small ones too (a numba call costs microseconds where a reference's numpy calls on a few
elements cost tens: 1.5 x faster at 20,000 citizens). ``SAFECITY_KERNELS=1`` loads them at the
first call (tests, benchmarks, a sweep's workers), ``0`` never. The first load on a machine
compiles the kernels (about 40 s, once: they are cached in a directory keyed by all the kernel
modules' sources, so a kernel never runs with an older version of one it calls compiled in; see
:mod:`sim.engine._kernel_cache`).
"""

from __future__ import annotations

import functools
import inspect
import os
import time
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar

import numpy as np
from scipy.sparse import csr_matrix

from sim.core import privacy
from sim.network.routes import fewest_hops_vectorised

# Calls this large count toward loading the kernels (smaller ones save fractions of a millisecond each).
MIN_PEOPLE = 1000  # a crowd at nodes or a queue for roads (spreading, admission)
MIN_ACTIVE = 20_000  # everyone on the move, once per step (exits, counts on roads, room, positions)
MIN_POPULATION = 200_000  # everyone, a few times per record (departures due, nodes now, district counts)
MIN_ARRIVALS = 100  # people reaching shelters' desks in one step (a Python loop per person otherwise)
MIN_DEVICES = 1000  # a route search over the communication network's devices
MIN_PSEUDONYMS = 10_000  # keyed hashes in one call (a Python call each otherwise)
MIN_CELLS = 200_000  # a derived terrain's grid: seconds by GEOS, so one such call repays the loading outright
AFTER_S = 1.0  # seconds of large calls the references serve before the kernels are loaded
EARLY_S = 0.25  # or this many, when the run's pace projects at least ``PAYS_S`` over the whole run
PAYS_S = 2.0  # (the loading repaid more than twice over, by the references' pace alone)

_compiled: Any = None  # the module of kernels, once loaded
_tried = False
_spent_s = 0.0  # time the references spent on large calls, before the kernels were loaded
_progress = 0.0  # how far the running model is (0 to 1; 0: not said)

T = TypeVar("T")
P = ParamSpec("P")


# Every kernel call asks for the mode (hundreds of thousands a run): read from os.environ's own
# dict (kept by setting os.environ too), the raw values decoded once (0.14 us a look, 0.44 before).
_ENV: Any = getattr(os.environ, "_data", None)
_ENV_KEY: Any = getattr(os.environ, "encodekey", lambda k: k)("SAFECITY_KERNELS")
_DECODED: dict[Any, str] = {None: "auto"}


def _mode() -> str:
    if _ENV is None:  # an os.environ without its dict
        return os.environ.get("SAFECITY_KERNELS", "auto")
    raw = _ENV.get(_ENV_KEY)
    mode = _DECODED.get(raw)
    if mode is None:
        mode = _DECODED[raw] = str(os.environ.decodevalue(raw))
    return mode


def enabled() -> bool:
    """Whether compiled kernels can run here (numba importable, ``SAFECITY_KERNELS`` not ``0``); loads them."""
    return _mode() != "0" and _load()


def _load() -> bool:
    global _compiled, _tried
    if not _tried:
        _tried = True
        try:
            from sim.engine import _compiled as compiled

            _compiled = compiled
        except (ImportError, OSError, RuntimeError):  # no numba here (or none that loads): the references
            _compiled = None
    return _compiled is not None


def loaded() -> bool:
    """Whether the kernels serve every call now (loaded, or ``SAFECITY_KERNELS=1``), not switched off."""
    mode = _mode()
    if mode == "0":
        return False
    return _compiled is not None or (mode == "1" and enabled())


def loaded_module() -> Any:
    """The module of kernels (:mod:`sim.engine._compiled`), for calls :func:`run` makes when :func:`loaded`."""
    return _compiled


def note_progress(done: float) -> None:
    """How far the running model is (the share of its duration simulated): for :func:`run`'s projection."""
    global _progress
    _progress = done


def _pays() -> bool:
    """Whether the references' large calls so far say the loading pays (``AFTER_S``, or ``EARLY_S`` early)."""
    if _spent_s >= AFTER_S:
        return True
    # Spent at this pace over the whole run (the pace falls once most are sheltered: hence twice over).
    return _spent_s >= EARLY_S and _progress > 0.0 and _spent_s >= PAYS_S * _progress


def run(
    size: int, at_least: int, compiled: Callable[[], T], reference: Callable[[], T], *, outright: bool = False
) -> T:
    """``compiled()`` or ``reference()`` (the same result): the kernel once loaded, or once large calls pay for it.

    ``outright``: a large call (``size >= at_least``) repays the loading by itself: load now.
    """
    global _spent_s
    if loaded():  # paid for: every call, small ones too
        return compiled()
    if size < at_least or _mode() == "0":
        return reference()
    if (outright or _pays()) and enabled():
        return compiled()
    started = time.perf_counter()
    out = reference()
    _spent_s += time.perf_counter() - started
    return out


def when_large(
    at_least: int, compiled: Callable[P, T], *, size: Callable[..., int] | None = None
) -> Callable[[Callable[P, T]], Callable[P, T]]:
    """Make a reference run ``compiled`` (same arguments, same result) for large calls once it pays.

    ``size`` measures a call from its arguments (by default the length of the first); see :func:`run`.
    """

    def wrap(reference: Callable[P, T]) -> Callable[P, T]:
        first = next(iter(inspect.signature(reference).parameters))

        def first_len(*args: Any, **kwargs: Any) -> int:
            return len(args[0] if args else kwargs[first])

        measure = size or first_len

        @functools.wraps(reference)
        def either(*args: P.args, **kwargs: P.kwargs) -> T:
            if _compiled is not None and _mode() != "0":  # loaded: every call (run's first case, inline)
                return compiled(*args, **kwargs)
            return run(
                measure(*args, **kwargs),
                at_least,
                lambda: compiled(*args, **kwargs),
                lambda: reference(*args, **kwargs),
            )

        return either

    return wrap


def spread_over_arcs(
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
    """:func:`sim.engine.movement.spread_over_arcs`, compiled (call only when :func:`enabled`)."""
    out: np.ndarray = _compiled.spread(
        np.ascontiguousarray(node, dtype=np.int64),
        np.ascontiguousarray(ready_s if arrived_s is None else arrived_s, dtype=np.float64),
        np.ascontiguousarray(tiebreak, dtype=np.int64),
        np.ascontiguousarray(out_ptr, dtype=np.int64),
        np.ascontiguousarray(out_arcs, dtype=np.int64),
        np.ascontiguousarray(arc_ok, dtype=np.bool_),
        np.ascontiguousarray(arc_head, dtype=np.int64),
        np.ascontiguousarray(arc_cost_s, dtype=np.float64),
        np.ascontiguousarray(dist_s, dtype=np.float64),
        np.ascontiguousarray(next_free_s, dtype=np.float64),
        np.ascontiguousarray(headway_s, dtype=np.float64),
        float(t_now),
    )
    return out


def admit_fifo(
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
    """:func:`sim.engine.movement.admit_fifo`, compiled (call only when :func:`enabled`).

    ``next_free_s`` is updated in place, as by the reference.
    """
    with_room = room is not None and size is not None
    nf = np.ascontiguousarray(next_free_s, dtype=np.float64)
    entry, admitted = _compiled.admit(
        np.ascontiguousarray(queue, dtype=np.int64),
        np.ascontiguousarray(ready_s, dtype=np.float64),
        np.ascontiguousarray(ready_s if arrived_s is None else arrived_s, dtype=np.float64),
        np.ascontiguousarray(tiebreak, dtype=np.int64),
        nf,
        np.ascontiguousarray(headway_s, dtype=np.float64),
        float(t_end),
        np.ascontiguousarray(room if with_room else np.zeros(0), dtype=np.float64),
        np.ascontiguousarray(size if with_room else np.zeros(0), dtype=np.float64),
        with_room,
    )
    if nf is not next_free_s:  # a copy was made (another dtype or layout): hand the update back
        next_free_s[:] = nf
    return entry, admitted


def _ints(a: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(a, dtype=np.int64)


def exit_and_wait(
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
    """:func:`sim.engine.movement.exit_and_wait`, compiled; ``node`` and ``arc`` are updated in place."""
    arc64, node64 = _ints(arc), _ints(node)
    out: tuple[np.ndarray, np.ndarray, np.ndarray] = _compiled.exit_and_wait(
        _ints(active), state, int(evacuating), arc64, t_ready, blocked, node64, _ints(arc_head), float(t_end)
    )
    for given, used in ((arc, arc64), (node, node64)):
        if used is not given:  # a copy was made (another dtype or layout): hand the update back
            given[:] = used
    return out


def count_on(
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
    """:func:`sim.engine.movement.count_on`, compiled."""
    out: tuple[np.ndarray, np.ndarray] = _compiled.count_on(
        _ints(active), _ints(arc), t_ready, mode, int(car), _ints(arc_road), float(t_mid), int(n_roads), int(n_arcs)
    )
    return out


def room_taken(active: np.ndarray, came_by: np.ndarray, used_m2: np.ndarray, n_keys: int) -> np.ndarray:
    """:func:`sim.engine.movement.room_taken`, compiled."""
    out: np.ndarray = _compiled.room_taken(_ints(active), _ints(came_by), used_m2, int(n_keys))
    return out


def due_to_leave(
    cand: np.ndarray, state: np.ndarray, depart_t: np.ndarray, at_home: int, trapped: int, t_end: float
) -> tuple[np.ndarray, float, np.ndarray]:
    """:func:`sim.engine.movement.due_to_leave`, compiled."""
    due, earliest, kept = _compiled.due_to_leave(_ints(cand), state, depart_t, int(at_home), int(trapped), float(t_end))
    return due, float(earliest), kept


def positions_now(
    idx: np.ndarray,
    t: float,
    pop: Any,
    arc_tail: np.ndarray,
    arc_head: np.ndarray,
    node_xy: np.ndarray,
    shelter_xy: np.ndarray,
) -> np.ndarray:
    """:func:`sim.engine.movement.positions_now`, compiled."""
    from sim.agents.citizens import SHELTERED

    floats = np.ascontiguousarray
    out: np.ndarray = _compiled.positions_now(
        _ints(idx),
        float(t),
        _ints(pop.node),
        _ints(pop.arc),
        floats(pop.t_entry, dtype=np.float64),
        floats(pop.t_ready, dtype=np.float64),
        pop.state,
        _ints(pop.shelter),
        floats(node_xy, dtype=np.float64),
        _ints(arc_tail),
        _ints(arc_head),
        floats(shelter_xy, dtype=np.float64).reshape(-1, 2),
        SHELTERED,
    )
    return out


def distance_on_grid(water: Any, gx: np.ndarray, gy: np.ndarray) -> np.ndarray:
    """:func:`sim.city.terrain.distance_on_grid` (GEOS), compiled for a large grid: the same numbers.

    A grid of ``MIN_CELLS`` or more loads the kernels outright (the reference takes seconds there).
    """
    from sim.city import terrain

    def compiled() -> np.ndarray:
        xs, ys = terrain.grid_axes(gx, gy)
        seg = terrain.water_edges(water)
        if seg is None:  # lines, not polygons: GEOS measures them directly
            return terrain.distance_on_grid(water, gx, gy)
        f = np.ascontiguousarray
        ax, ay, bx, by = (f(seg[:, end, axis]) for end in (0, 1) for axis in (0, 1))
        dist = _compiled.distance_on_grid(f(xs), f(ys), ax, ay, bx, by, terrain.BLOCK)
        dist[terrain.in_water(water, gx, gy)] = 0.0  # inside the water (or on its shore): GEOS says 0
        return dist

    return run(gx.size, MIN_CELLS, compiled, lambda: terrain.distance_on_grid(water, gx, gy), outright=True)


def spill_levels(height: np.ndarray, inside: np.ndarray, source: np.ndarray) -> np.ndarray | None:
    """Per cell, the lowest level at which a connected bathtub from ``source`` wets it, compiled; or None.

    With it a flood finds each level's wet cells by one comparison (``spill < level``) instead of
    labelling the grid again. None where the kernels are not loaded and the grid is small: the
    flood labels each level then, which finds the same cells. A grid of ``MIN_CELLS`` or more
    loads the kernels outright.
    """

    def compiled() -> np.ndarray | None:
        f = np.ascontiguousarray
        out: np.ndarray = _compiled.spill_levels(
            f(height, dtype=np.float64), f(inside, dtype=np.bool_), f(source, dtype=np.bool_)
        )
        return out

    return run(height.size, MIN_CELLS, compiled, lambda: None, outright=True)


def desk_starts(
    free: np.ndarray, ptr: np.ndarray, shelter: np.ndarray, arrival_t: np.ndarray, dur: np.ndarray
) -> np.ndarray:
    """:func:`sim.agents.registry.desk_starts_reference`, compiled (``free`` updated in place).

    People come sorted by shelter (then arrival), as the reference takes them.
    """
    start: np.ndarray = _compiled.desk_starts(
        free,
        ptr,
        _ints(shelter),
        np.ascontiguousarray(arrival_t, dtype=np.float64),
        np.ascontiguousarray(dur, dtype=np.float64),
    )
    return start


def held_back(
    active: np.ndarray, state: np.ndarray, arc: np.ndarray, want_arc: np.ndarray, evacuating: int
) -> np.ndarray:
    """:func:`sim.engine.movement.held_back_vectorised`, compiled."""
    # want_arc as it is (the mover keeps it as int32): a conversion would copy every citizen's each step.
    out: np.ndarray = _compiled.held_back(
        _ints(active), state, _ints(arc), np.ascontiguousarray(want_arc), int(evacuating)
    )
    return out


def full_waits(
    waiting: np.ndarray,
    mode: np.ndarray,
    want_arc: np.ndarray,
    came_by: np.ndarray,
    key: np.ndarray,
    taken_m2: np.ndarray,
    person_m2: np.ndarray,
    capacity_m2: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`sim.engine.movement.full_waits_vectorised`, compiled."""
    out: tuple[np.ndarray, np.ndarray] = _compiled.full_waits(
        _ints(waiting),
        mode,
        np.ascontiguousarray(want_arc),  # as it is (int32): no copy of everyone's
        _ints(came_by),
        _ints(key),
        np.ascontiguousarray(taken_m2, dtype=np.float64),
        np.ascontiguousarray(person_m2, dtype=np.float64),
        np.ascontiguousarray(capacity_m2, dtype=np.float64),
    )
    return out


def downstream(hit: np.ndarray, pred: np.ndarray) -> np.ndarray:
    """:func:`sim.engine.routing.downstream_vectorised`, compiled."""
    out: np.ndarray = _compiled.downstream(np.ascontiguousarray(hit, dtype=np.bool_), _ints(pred))
    return out


def closer_arcs(
    arc_ok: np.ndarray, arc_tail: np.ndarray, arc_head: np.ndarray, dist_s: np.ndarray, n_nodes: int
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`sim.engine.movement.closer_arcs_vectorised`, compiled."""
    count, only = _compiled.closer_arcs(
        np.ascontiguousarray(arc_ok, dtype=np.bool_),
        _ints(arc_tail),
        _ints(arc_head),
        np.ascontiguousarray(dist_s, dtype=np.float64),
        int(n_nodes),
    )
    return count, only


def closer_arcs_update(
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
    """:func:`sim.engine.movement.closer_arcs_update_vectorised`, compiled."""
    count, only = _compiled.closer_arcs_update(
        _ints(count),
        _ints(only),
        _ints(changed),
        np.ascontiguousarray(arc_ok, dtype=np.bool_),
        _ints(arc_tail),
        _ints(arc_head),
        np.ascontiguousarray(dist_s, dtype=np.float64),
        _ints(out_ptr),
        _ints(out_arcs),
        _ints(in_ptr),
        _ints(in_arcs),
    )
    return count, only


def pair_cost(
    arcs: np.ndarray, starts: np.ndarray, open_arcs: np.ndarray, ref_time_s: np.ndarray, delay_s: np.ndarray | None
) -> np.ndarray:
    """:func:`sim.engine.routing.pair_cost_vectorised`, compiled."""
    floats = np.ascontiguousarray
    out: np.ndarray = _compiled.pair_cost(
        _ints(arcs),
        _ints(starts),
        floats(open_arcs, dtype=np.bool_),
        floats(ref_time_s, dtype=np.float64),
        floats(ref_time_s if delay_s is None else delay_s, dtype=np.float64),
        delay_s is not None,
    )
    return out


def queue_lengths(
    state: np.ndarray, arc: np.ndarray, want_arc: np.ndarray, mode: np.ndarray, n_arcs: int
) -> np.ndarray:
    """:func:`sim.engine.movement.queue_lengths_vectorised`, compiled."""
    from sim.agents.citizens import EVACUATING

    out: np.ndarray = _compiled.queue_lengths(state, _ints(arc), want_arc, mode, int(n_arcs), EVACUATING)
    return out


def _scatter(kernel: Callable[..., None], target: np.ndarray, idx: np.ndarray, values: np.ndarray) -> None:
    vals = np.broadcast_to(np.asarray(values, dtype=target.dtype), np.shape(idx))
    kernel(target, _ints(idx), np.ascontiguousarray(vals))


def scatter_add(target: np.ndarray, idx: np.ndarray, values: np.ndarray) -> None:
    """:func:`sim.engine.movement.scatter_add_vectorised`, compiled (``target`` in place)."""
    _scatter(_compiled.scatter_add, target, idx, values)


def scatter_subtract(target: np.ndarray, idx: np.ndarray, values: np.ndarray) -> None:
    """:func:`sim.engine.movement.scatter_subtract_vectorised`, compiled (``target`` in place)."""
    _scatter(_compiled.scatter_subtract, target, idx, values)


def scatter_max(target: np.ndarray, idx: np.ndarray, values: np.ndarray) -> None:
    """:func:`sim.engine.movement.scatter_max_vectorised`, compiled (``target`` in place)."""
    _scatter(_compiled.scatter_max, target, idx, values)


def fewest_hops(graph: csr_matrix, source: int) -> np.ndarray:
    """:func:`sim.network.routes.fewest_hops_vectorised`, compiled."""
    out: np.ndarray = _compiled.fewest_hops(graph.indptr, graph.indices, int(source))
    return out


# The communication network's route search, compiled once the kernels pay (the same routes).
route_search = when_large(MIN_DEVICES, fewest_hops, size=lambda graph, source: graph.shape[0])(fewest_hops_vectorised)


def keyed_pseudonyms(idx: np.ndarray, *, key: bytes, prefix: str = "P") -> np.ndarray:
    """:func:`sim.core.privacy.pseudonyms`, compiled (a key of at most 64 bytes, a one-letter prefix)."""
    from sim.engine import _compiled_blake2 as b2

    if len(key) > 64 or len(prefix) != 1 or not prefix.isascii():
        return privacy.pseudonyms(idx, key=key, prefix=prefix)  # (never so in the engine)
    idx = np.ascontiguousarray(idx, dtype=np.int64)
    if len(idx) and idx.min() < 0:
        return privacy.pseudonyms(idx, key=key, prefix=prefix)  # raises, as the reference does
    words = np.frombuffer(key + bytes(128 - len(key)), dtype="<u8").astype(np.uint64)
    raw = b2.keyed_digests_hex(idx, words, len(key), ord(prefix), b2.IV, b2.SIGMA, b2.HEX)
    return raw.view("S17").astype("U17").astype(object)


# Pseudonyms for the register, tracks and the command centre's lists: compiled once the kernels pay.
pseudonyms = when_large(MIN_PSEUDONYMS, keyed_pseudonyms)(privacy.pseudonyms)
