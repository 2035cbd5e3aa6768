"""A step's movement passes: those at a node leave their arc, are admitted to a shelter or enter the next arc.

Pass after pass, until nobody moves (or ``movement.max_passes_per_step``). The exits' scan looks at
everyone on the move in the first pass, then only at the last pass's waiting: they alone can have
changed (entered an arc they may leave again, been admitted or stranded). Everyone else is
settled for the step (on an arc until after it, not ready, or held back), and a scan of them
would find nothing.

At free speeds with the kernels loaded, the passes run in one compiled call
(:func:`sim.engine._compiled_passes.passes`: the same kernels in the same order, without a
Python call and a dozen arrays handed over per pass). It hands back when a shelter fills: the
routes are searched again (:meth:`Mover.refresh_fields`) before anyone enters an arc, and the
passes go on here. Crowd speeds need numpy's speeds after each entry: the loop below then.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from sim.agents.citizens import CAR, EVACUATING, WALK
from sim.engine import kernels, kernels_pass
from sim.engine.movement import exit_and_wait


def run(mover: Any, active: np.ndarray | None, t0: float, t1: float, turned: dict[int, int]) -> np.ndarray:
    """The passes of the step ``t0`` to ``t1`` over ``active`` (everyone on the move, ascending).

    When the passes run compiled (:func:`compiled_here`), ``active`` may be those who may be on
    the move (more, ascending) or None (everyone may be): the first scan keeps those who are.

    ``turned`` collects the people turned away per shelter row. Returns ``active`` as full scans
    would leave it (those admitted or stranded in a pass leave it at the next scan), for the
    storage's gridlock check.
    """
    p = mover.m.pop
    max_passes = mover.m.scenario.movement.max_passes_per_step
    scan, n_active, gone, k = active, -1 if active is None else len(active), [], 0
    compiled = compiled_here(mover)
    # People a queue could not take last step may try again: later passes only make queues
    # longer, so those a queue cannot take wait for the next step instead of trying in every pass.
    if not compiled:  # (the compiled passes let them try again themselves)
        assert active is not None
        mover.blocked[active] = False
    while k < max_passes:
        if compiled:
            filled, k, active, n_active, scan, waiting, n_exiting, gone_now = kernels_pass.passes(
                mover, k, max_passes, active, scan, n_active, t0, t1, turned
            )
            if len(gone_now):
                gone.append(gone_now)
            if not filled:
                break
            # A shelter filled in pass k's admission: the routes change before anyone enters an arc.
            mover.refresh_fields()
            if _enter(mover, waiting, t0, t1) == 0 and n_exiting == 0:
                break
            k += 1
            compiled = compiled_here(mover)
            continue
        if n_active == 0:
            break
        assert active is not None  # (None only for the compiled passes)
        assert scan is not None
        still, exiting, waiting = exit_and_wait(
            scan, p.state, EVACUATING, p.arc, p.t_ready, mover.blocked, p.node, mover.m.net.head, t1
        )
        if k == 0:
            active, n_active = still, len(still)
        elif len(still) < len(scan):
            n_active -= len(scan) - len(still)
            if mover.storage is not None:  # who left (``still`` is a part of ``scan``, both ascending)
                left = np.ones(len(scan), dtype=bool)
                left[np.searchsorted(scan, still)] = False
                gone.append(scan[left])
        if n_active == 0:
            break
        scan = waiting
        waiting = mover.admit(waiting, t0, turned)
        mover.refresh_fields()
        if _enter(mover, waiting, t0, t1) == 0 and len(exiting) == 0:
            break
        k += 1
        compiled = compiled_here(mover)
    assert active is not None
    if gone:  # as the last scan left it (``active`` is in ascending order, every scan's a part of it)
        keep = np.ones(len(active), dtype=bool)
        keep[np.searchsorted(active, np.concatenate(gone))] = False
        active = active[keep]
    return active


def _enter(mover: Any, waiting: np.ndarray, t0: float, t1: float) -> int:
    """The waiting enter their next arcs, drivers first (who abandon their car walk in the same pass)."""
    moved = 0
    p = mover.m.pop
    for mode in (CAR, WALK) if mover.drivers else (WALK,):
        sel = waiting[p.mode[waiting] == mode] if mover.drivers else waiting
        if len(sel):
            moved += mover.enter_arcs(sel, mode, t0, t1)
    return moved


def compiled_here(mover: Any) -> bool:
    """Whether the passes run compiled now: kernels loaded, free speeds, every route they may need searched.

    The informed share's routes are searched when an informed person of a mode first needs them;
    until both modes' are, the loop below searches them as it goes.
    """
    if mover.m.scenario.movement.density_speed or not kernels.loaded():
        return False
    informed = mover.informed_routes
    return informed is None or all(informed.searched(m) for m in ((CAR, WALK) if mover.drivers else (WALK,)))
