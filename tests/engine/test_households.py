"""Households decide and leave together; shadow evacuation beyond the ordered zone (issue 19)."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

from sim.engine.model import EvacuationModel
from tests.conftest import scenario_from


def _city(layer_city):
    c = layer_city()
    stops = [0, 1000, 2000, 3000, 4000, 6000, 11000, 12000]
    for a, b in itertools.pairwise(stops):
        c.road((a, 0), (b, 0))
    for x in (0, 1000, 2000, 4000, 6000, 11000):
        c.people_at((x, 0), 2000)
    c.shelter("S", (3000, 0), 20000)
    return c.write()


def _run(layer_city, *, together=True, shadow=0.0, zone="all", coverage=0.5, compliance=0.6):
    scn = scenario_from(
        _city(layer_city),
        duration="10min",
        population={
            "count": 12000,
            "household_size_mean": 3.0,
            "compliance": compliance,
            "households_together": together,
            "shadow_share": shadow,
            "shadow_distance_m": 2500.0,
        },
        alerting={
            "orders": [{"at": 0, "zone": zone}],
            "channels": [{"type": "siren", "coverage": coverage}],
            "departure_delay": {"distribution": "lognormal", "median": 300, "sigma": 0.8},
        },
    )
    m = EvacuationModel(scn)
    m.advance_to(1)
    return m


def _household_spread(m, values: np.ndarray) -> np.ndarray:
    """Per household of two or more: do all its members share the value (inf counts as a value)?"""
    hh = m.pop.household
    v = np.where(np.isfinite(values), values, -1.0)
    order = np.lexsort((v, hh))
    hh_s, v_s = hh[order], v[order]
    new = np.r_[True, hh_s[1:] != hh_s[:-1]]
    first = np.maximum.accumulate(np.where(new, np.arange(len(hh_s)), 0))
    same = v_s == v_s[first]
    split = np.zeros(hh.max() + 1, dtype=bool)
    np.logical_or.at(split, hh_s, ~same)
    sizes = np.bincount(hh)
    return split[sizes >= 2]


def test_a_household_decides_once_and_leaves_together(layer_city):
    m = _run(layer_city)
    p = m.pop
    assert (np.bincount(p.household) >= 2).sum() > 1000
    # Everyone in a household leaves at the same time, when its first member is warned.
    assert not _household_spread(m, p.depart_t).any()
    # The channel's own reach stays person by person (SPEC: each citizen with its coverage);
    # family members it missed leave with their household without counting as warned.
    assert np.isfinite(p.warned_t).mean() == pytest.approx(0.5, abs=4 * np.sqrt(0.25 / p.n))
    first = pd.Series(p.warned_t).groupby(p.household).transform("min").to_numpy()
    gone = np.isfinite(p.depart_t)
    assert (gone & ~np.isfinite(p.warned_t)).sum() > 1000  # told by their family
    assert (p.depart_t[gone] >= first[gone]).all()
    # Households comply as a whole: about 60 % of the warned households leave.
    hh_warned = np.unique(p.household[np.isfinite(p.warned_t)])
    hh_gone = np.unique(p.household[np.isfinite(p.depart_t)])
    share = len(hh_gone) / len(hh_warned)
    assert share == pytest.approx(0.6, abs=4 * np.sqrt(0.24 / len(hh_warned)))


def test_alone_everyone_decides_for_themselves(layer_city):
    m = _run(layer_city, together=False)
    p = m.pop
    assert _household_spread(m, p.warned_t).mean() > 0.3  # split households
    assert np.isfinite(p.warned_t).mean() == pytest.approx(0.5, abs=0.03)


def test_shadow_evacuation_near_the_zone_only(layer_city):
    # The zone: homes at x = 0 and 1,000 m. Within 2,500 m of them: 2,000 m (1 km) and 4,000 m
    # (3 km from 1,000 m: outside); so only the homes at 2,000 m are in the shadow.
    zone = {"bbox": _bbox(-100, 1100)}
    m = _run(layer_city, shadow=0.2, zone=zone, coverage=1.0, compliance=1.0)
    p = m.pop
    x = m.city.node_xy[p.home_node, 0] - m.city.node_xy[:, 0].min()
    ordered = np.isfinite(p.ordered_t)
    assert ordered.sum() == (x < 1500).sum()
    leave = np.isfinite(p.depart_t) & ~ordered
    shadow_region = (x > 1500) & (x < 2500)
    assert leave[~shadow_region].sum() == 0
    share = leave[shadow_region].mean()
    n_households = len(np.unique(p.household[shadow_region]))
    assert share == pytest.approx(0.2, abs=4 * np.sqrt(0.16 / n_households) * 1.5)
    ev = m.events()
    detail = ev[ev["kind"] == "order_issued"]["detail"].iloc[0]
    assert f'"shadow":{int(leave.sum())}' in detail.replace(" ", "")
    # Off: nobody outside the zone leaves.
    off = _run(layer_city, shadow=0.0, zone=zone, coverage=1.0, compliance=1.0)
    assert (np.isfinite(off.pop.depart_t) & ~np.isfinite(off.pop.ordered_t)).sum() == 0


def _bbox(x0: float, x1: float) -> list[float]:
    from tests.conftest import lonlat

    lo = lonlat(x0, -100)
    hi = lonlat(x1, 100)
    return [lo[0], lo[1], hi[0], hi[1]]


def test_the_summary_counts_shadow_evacuees_apart_from_the_ordered():
    from sim.experiments.runner import STATE_CODES
    from sim.metrics.summary import evacuation_figures

    inf = float("inf")
    codes = STATE_CODES
    outcomes = pd.DataFrame(
        {
            "ordered_t": [0.0, 0.0, 0.0, inf, inf, inf],
            "warned_t": [5.0, 5.0, inf, inf, inf, inf],
            "depart_t": [10.0, 10.0, inf, 30.0, 40.0, inf],
            "arrival_t": [100.0, inf, inf, 200.0, inf, inf],
            "state": [
                codes["sheltered"],
                codes["evacuating"],
                codes["at_home"],
                codes["sheltered"],
                codes["evacuating"],
                codes["at_home"],
            ],
        }
    )
    fig = evacuation_figures(outcomes, codes)
    assert fig["ordered"] == 3
    assert fig["sheltered"] == 2
    assert fig["sheltered_ordered"] == 1
    assert fig["shadow_evacuees"] == 2
    assert fig["not_departed"] == 1
