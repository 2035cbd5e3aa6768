"""The arrays handed to the compiled passes, as three structs in one instead of fifty arguments.

numba unboxes every array argument at every call: about 0.4 microseconds each when the caches
are cold, as they are from one step to the next (twenty microseconds a step for fifty arrays,
measured, against three when warm). A struct (numba's ``StructRef``) is one argument. One holds
what a run never replaces (it only changes them in place: the people's, the network's, the
storage's and the flows' arrays); one the routes (made anew when the routes are); one the room at
the shelters (made anew when the routes are searched again). The three go in one more (a
``Bag``, made anew with any of them): a struct argument costs about a microsecond a call, fifty
times less than its arrays, but still a microsecond. Each is made by a cached kernel
(``make_*``): a StructRef's constructor called from Python would compile in every process
(about 0.8 s).
"""

from __future__ import annotations

from typing import Any

from numba.core import types
from numba.experimental import structref

from sim.engine._kernel_cache import njit

FIXED_FIELDS = (
    "state",
    "arc",
    "t_ready",
    "blocked",
    "node",
    "mode",
    "target",
    "shelter",
    "arrival_t",
    "want_arc",
    "t_entry",
    "walk_speed",
    "head",
    "out_ptr",
    "out_arcs",
    "road",
    "ref_time",
    "next_free",
    "headway",
    "car_time",
    "length_m",
    "shared",
    "store_key",
    "capacity_m2",
    "let_through",
    "came_by",
    "used_m2",
    "person_m2",
    "bin_entered",
    "bin_delay_s",
    "longest_wait_s",
    "codes",
    "scratch",
    "scratch_sum",
)
ROUTES_FIELDS = ("familiar", "chosen", "walk_dist", "walk_ok", "car_ok", "informed")
SHELTERS_FIELDS = ("node_has_shelter", "node_room", "at_ptr", "at_rows", "rooms")
BAG_FIELDS = ("fixed", "routes", "shelters")


def _fields_as_given(self: Any, fields: Any) -> Any:
    return tuple((name, types.unliteral(typ)) for name, typ in fields)


@structref.register
class FixedType(types.StructRef):
    """The arrays a run never replaces."""

    preprocess_fields = _fields_as_given


@structref.register
class RoutesType(types.StructRef):
    """The routes of both modes, the familiar and the chosen (informed) ones, and the open arcs."""

    preprocess_fields = _fields_as_given


@structref.register
class SheltersType(types.StructRef):
    """The room at each shelter row and node, and each node's rows."""

    preprocess_fields = _fields_as_given


@structref.register
class BagType(types.StructRef):
    """The three structs, as the one argument of a call (each struct argument costs about a microsecond)."""

    preprocess_fields = _fields_as_given


class Fixed(structref.StructRefProxy):
    """Python's handle of a :class:`FixedType` struct."""


class Routes(structref.StructRefProxy):
    """Python's handle of a :class:`RoutesType` struct."""


class Shelters(structref.StructRefProxy):
    """Python's handle of a :class:`SheltersType` struct."""


class Bag(structref.StructRefProxy):
    """Python's handle of a :class:`BagType` struct."""


structref.define_proxy(Fixed, FixedType, list(FIXED_FIELDS))
structref.define_proxy(Routes, RoutesType, list(ROUTES_FIELDS))
structref.define_proxy(Shelters, SheltersType, list(SHELTERS_FIELDS))
structref.define_proxy(Bag, BagType, list(BAG_FIELDS))


@njit(cache=True)
def make_fixed(
    state: Any,
    arc: Any,
    t_ready: Any,
    blocked: Any,
    node: Any,
    mode: Any,
    target: Any,
    shelter: Any,
    arrival_t: Any,
    want_arc: Any,
    t_entry: Any,
    walk_speed: Any,
    head: Any,
    out_ptr: Any,
    out_arcs: Any,
    road: Any,
    ref_time: Any,
    next_free: Any,
    headway: Any,
    car_time: Any,
    length_m: Any,
    shared: Any,
    store_key: Any,
    capacity_m2: Any,
    let_through: Any,
    came_by: Any,
    used_m2: Any,
    person_m2: Any,
    bin_entered: Any,
    bin_delay_s: Any,
    longest_wait_s: Any,
    codes: Any,
    scratch: Any,
    scratch_sum: Any,
) -> Any:
    """A :class:`Fixed` of these arrays (the fields in :data:`FIXED_FIELDS` order)."""
    return Fixed(
        state, arc, t_ready, blocked, node, mode, target, shelter, arrival_t, want_arc, t_entry, walk_speed,
        head, out_ptr, out_arcs, road, ref_time, next_free, headway, car_time, length_m, shared,
        store_key, capacity_m2, let_through, came_by, used_m2, person_m2,
        bin_entered, bin_delay_s, longest_wait_s, codes, scratch, scratch_sum,
    )  # fmt: skip


@njit(cache=True)
def make_routes(familiar: Any, chosen: Any, walk_dist: Any, walk_ok: Any, car_ok: Any, informed: Any) -> Any:
    """A :class:`Routes`: per mode (walk, car) ``(closer_count, only_closer, source, dist)``, familiar and chosen."""
    return Routes(familiar, chosen, walk_dist, walk_ok, car_ok, informed)


@njit(cache=True)
def make_shelters(node_has_shelter: Any, node_room: Any, at_ptr: Any, at_rows: Any, rooms: Any) -> Any:
    """A :class:`Shelters` of these arrays."""
    return Shelters(node_has_shelter, node_room, at_ptr, at_rows, rooms)


@njit(cache=True)
def make_bag(fixed: Any, routes: Any, shelters: Any) -> Any:
    """A :class:`Bag` of the three structs."""
    return Bag(fixed, routes, shelters)
