"""Searches kept across changes that leave a tier's graph alone are the searches made afresh."""

from __future__ import annotations

import numpy as np
import pytest

from tests.network.test_network import _assets, _links, _state

TYPES = ["fibre", "radio", "satellite"]


def _everything(net, n: int) -> dict:
    """Every route, path toward a destination and reach, as the network answers now."""
    out: dict = {}
    for s in range(n):
        for reverse in (False, True):
            for tier in (0, 1, 2):
                out["reach", s, reverse, tier] = net.reachable(s, reverse=reverse, max_tier=tier).tolist()
        for d in range(n):
            out["route", s, d] = net.route(s, d)
            out["path_to", s, d] = net.path_to(s, d)
    return out


def _afresh(net, n: int) -> dict:
    net._tiers.clear()
    net._cache.clear()
    return _everything(net, n)


@pytest.mark.parametrize("seed", range(4))
def test_kept_searches_equal_fresh_ones_after_every_change(seed):
    rng = np.random.default_rng(seed)
    n = 14
    ids = ["A", "B", *(f"N{k}" for k in range(n - 2))]  # the test service runs from A to B
    specs = []
    for _ in range(30):
        a, b = rng.choice(n, size=2, replace=False)
        specs.append((ids[a], ids[b], TYPES[rng.integers(3)], 1.0))
    links = _links(*specs)
    links["directed"] = rng.random(len(links)) < 0.2
    _, net = _state(_assets(*ids), links)
    _everything(net, n)
    kept_any = False
    for step in range(25):
        before = dict(net._tiers)
        change = rng.integers(4)
        if change == 0:  # links cut or restored
            rows = rng.choice(len(links), size=int(rng.integers(1, 4)), replace=False)
            net.cut_links(rows, cut=bool(rng.random() < 0.6), cause=f"cause{rng.integers(2)}")
        elif change == 1:  # a denial of service: no link changes
            net.set_server_load(int(rng.integers(n)), loss=float(rng.random()), delay_s=1.0)
        elif change == 2:  # devices cut off, or back
            net.isolate([int(rng.integers(n))], on=bool(rng.random() < 0.5))
        else:  # a satellite link flaps (the lower tiers' graphs stay as they were)
            sat = np.flatnonzero(links["type"].to_numpy() == "satellite")
            if len(sat):
                net.cut_links(sat[:1], cut=bool(step % 2), cause="flap")
        kept = _everything(net, n)
        kept_any |= any(net._tiers.get(t) is before.get(t) for t in (0, 1, 2) if t in before)
        assert kept == _afresh(net, n), f"seed {seed}, step {step}, change {change}"
    assert kept_any  # some change left a tier's graph (and its searches) as it was


def test_kept_searches_are_read_only():
    _, net = _state(_assets("A", "B", "C"), _links(("A", "B", "fibre", 1.0), ("B", "C", "radio", 1.0)))
    reach = net.reachable(0)
    assert reach.tolist() == [True, True, True]
    with pytest.raises(ValueError, match="read-only"):
        reach[2] = False
    assert net.route(0, 2) == [0, 1]
    net.set_server_load(1, loss=0.9, delay_s=1.0)  # no link changed: the same searches answer
    assert net.reachable(0) is reach
    net.cut_links(np.array([1]), cut=True, cause="storm")
    assert net.reachable(0).tolist() == [True, True, False]
    assert net.route(0, 2) is None


def test_an_edge_stands_for_its_lowest_tier_link_then_the_first_in_the_table():
    # C is reached by radio only; the hop A-B then takes the first fibre link, not the radio one
    # listed before it nor the second fibre link.
    links = _links(
        ("A", "B", "radio", 1.0),
        ("B", "C", "radio", 1.0),
        ("A", "B", "fibre", 1.0),
        ("A", "B", "fibre", 1.0),
    )
    _, net = _state(_assets("A", "B", "C"), links)
    assert net.route(0, 2) == [2, 1]
    assert net.path_to(0, 2) == [2, 1]
    assert net.route(0, 1) == [2]
    net.cut_links(np.array([2]), cut=True, cause="digger")
    assert net.route(0, 2) == [3, 1]
    net.cut_links(np.array([3]), cut=True, cause="digger")
    assert net.route(0, 2) == [0, 1]
