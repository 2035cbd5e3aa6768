"""A generated city of a chosen size, seeded.

A jittered street grid with arterials, footpaths, districts of varying density, a river with
bridges or a coastline, and shelters.

It exists for tests and for scale (up to millions of residents and 50,000+ road segments);
its numbers are plausible, not a model of a real place.
"""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry import Polygon, box

from sim.city.assemble import assemble_city
from sim.city.crs import from_lonlat, utm_crs
from sim.city.model import City
from sim.core import fpmath
from sim.core.rng import RandomStreams
from sim.scenario.schema import SyntheticCityConfig
from sim.scenario.sizing import street_grid

ARTERIAL_EVERY = 6  # every 6th street is an arterial


def generate_city(config: SyntheticCityConfig, *, seed: int = 0) -> City:
    """Generate the synthetic city described by ``config`` (deterministic for a given seed)."""
    rng = RandomStreams(seed).get("city/synthetic")
    side, n = street_grid(config.area_km2, config.block_m)
    spacing = side / (n - 1)
    crs = utm_crs(*config.origin)
    ox, oy = from_lonlat(np.array([config.origin], dtype=float), crs)[0]
    x0, y0 = ox - side / 2, oy - side / 2

    ii, jj = np.meshgrid(np.arange(n), np.arange(n), indexing="ij")  # ii: column (x), jj: row (y)
    jitter = rng.uniform(-0.18, 0.18, size=(n, n, 2)) * spacing
    x = x0 + ii * spacing + jitter[..., 0]
    y = y0 + jj * spacing + jitter[..., 1]
    node_xy = np.column_stack([x.ravel(), y.ravel()])
    node_id = np.arange(n * n).reshape(n, n)

    keep = np.ones(n * n, dtype=bool)
    side_of = np.zeros(n * n, dtype=np.int8)
    water_geoms = []
    if config.water == "river":
        half = max(25.0, 0.015 * side)
        amp = 0.08 * side

        def centre(xs: np.ndarray) -> np.ndarray:
            return y0 + side * 0.5 + amp * fpmath.sin(2 * np.pi * (xs - x0) / side)

        dy = node_xy[:, 1] - centre(node_xy[:, 0])
        keep &= np.abs(dy) > half + 0.1 * spacing
        side_of = np.sign(dy).astype(np.int8)
        xs = np.linspace(x0 - spacing, x0 + side + spacing, 200)
        top = np.column_stack([xs, centre(xs) + half])
        bottom = np.column_stack([xs[::-1], centre(xs[::-1]) - half])
        water_geoms.append(Polygon(np.vstack([top, bottom])))
    elif config.water == "coast":
        shore = y0 + 0.12 * side
        keep &= node_xy[:, 1] > shore + 0.2 * spacing
        water_geoms.append(box(x0 - spacing, y0 - 0.3 * side, x0 + side + spacing, shore))

    # Streets between grid neighbours: horizontal (along x) and vertical (along y).
    a_h, b_h = node_id[:-1, :].ravel(), node_id[1:, :].ravel()
    a_v, b_v = node_id[:, :-1].ravel(), node_id[:, 1:].ravel()
    row_h, col_v = jj[:-1, :].ravel(), ii[:, :-1].ravel()
    u = np.concatenate([a_h, a_v])
    v = np.concatenate([b_h, b_v])
    arterial = np.concatenate([row_h % ARTERIAL_EVERY == 0, col_v % ARTERIAL_EVERY == 0])
    ok = keep[u] & keep[v] & (side_of[u] == side_of[v])
    bridge = np.zeros(len(u), dtype=bool)

    extra_u, extra_v = [], []
    if config.water == "river" and config.bridges > 0:
        cols = np.unique(np.linspace(n * 0.1, n * 0.9, config.bridges).round().astype(int).clip(0, n - 1))
        for c in cols:
            column = node_id[c, :]
            south = column[keep[column] & (side_of[column] < 0)]
            north = column[keep[column] & (side_of[column] > 0)]
            if len(south) and len(north):
                extra_u.append(south.max())
                extra_v.append(north.min())
    u = np.concatenate([u[ok], np.array(extra_u, dtype=np.int64)])
    v = np.concatenate([v[ok], np.array(extra_v, dtype=np.int64)])
    arterial = np.concatenate([arterial[ok], np.ones(len(extra_u), dtype=bool)])
    bridge = np.concatenate([bridge[ok], np.ones(len(extra_u), dtype=bool)])

    # Irregularity: drop a few local streets, turn some into footpaths.
    m = len(u)
    local = ~arterial & ~bridge
    drop = local & (rng.random(m) < 0.04)
    foot = local & ~drop & (rng.random(m) < config.footpath_share)
    u, v, arterial, bridge, foot = u[~drop], v[~drop], arterial[~drop], bridge[~drop], foot[~drop]
    highway = np.where(bridge | arterial, "secondary", np.where(foot, "footway", "residential"))

    coords = np.stack([node_xy[u], node_xy[v]], axis=1)
    roads = gpd.GeoDataFrame(
        {
            "u": u,
            "v": v,
            "highway": highway,
            "bridge": bridge,
            "name": [
                f"{'Bridge' if b else 'Avenue' if a else 'Street'} {k}"
                for k, (a, b) in enumerate(zip(arterial, bridge, strict=True))
            ],
        },
        geometry=shapely.linestrings(coords),
        crs=crs,
    )

    # Districts: a k x k grid over the whole area.
    k = config.districts or int(np.clip(round(config.area_km2), 4, 400))
    kk = max(1, round(math.sqrt(k)))
    dsize = side / kk
    names, geoms = [], []
    for r in range(kk):
        for c in range(kk):
            names.append(f"{chr(65 + c) if c < 26 else 'Z' + str(c)}{r + 1}")
            geoms.append(box(x0 + c * dsize, y0 + side - (r + 1) * dsize, x0 + (c + 1) * dsize, y0 + side - r * dsize))
    districts = gpd.GeoDataFrame({"name": names}, geometry=geoms, crs=crs)
    dcol = np.clip(((node_xy[:, 0] - x0) // dsize).astype(int), 0, kk - 1)
    drow = np.clip(((y0 + side - node_xy[:, 1]) // dsize).astype(int), 0, kk - 1)
    node_d = drow * kk + dcol

    # Residents per node: district density times local noise, scaled to the population.
    density = fpmath.lognormal(rng, 0.0, 0.5, kk * kk)
    weight = density[node_d] * rng.uniform(0.5, 1.5, size=n * n)
    weight[~keep] = 0.0
    people = pd.DataFrame({"x": node_xy[:, 0], "y": node_xy[:, 1], "count": weight})
    people = people[weight > 0]
    people["count"] *= config.population / people["count"].sum()

    # Shelters: one per cell of an s x s grid, at a random kept node in it.
    n_sh = config.shelters or int(np.clip(config.population // 1500, 3, 2000))
    s = max(1, math.ceil(math.sqrt(n_sh)))
    cell = np.clip(((node_xy[:, 0] - x0) // (side / s)).astype(int), 0, s - 1) * s + np.clip(
        ((node_xy[:, 1] - y0) // (side / s)).astype(int), 0, s - 1
    )
    picks = []
    order = rng.permutation(n * n)
    seen: set[int] = set()
    for idx in order:
        if keep[idx] and cell[idx] not in seen:
            seen.add(int(cell[idx]))
            picks.append(idx)
        if len(picks) >= n_sh:
            break
    chosen = np.array(sorted(picks))
    share = rng.uniform(0.6, 1.4, size=len(chosen))
    cap = np.maximum(20, np.floor(share / share.sum() * config.shelter_capacity_ratio * config.population))
    shelters = pd.DataFrame(
        {
            "id": [f"SH{i:04d}" for i in range(len(chosen))],
            "name": [f"Shelter {i + 1}" for i in range(len(chosen))],
            "x": node_xy[chosen, 0],
            "y": node_xy[chosen, 1],
            "capacity": cap.astype(np.int64),
            "source": "synthetic",
        }
    )
    water = gpd.GeoDataFrame(geometry=water_geoms, crs=crs)
    return assemble_city(
        "synthetic",
        roads,
        crs=crs,
        node_xy=node_xy,
        people=people,
        shelters=shelters,
        data_shelters=False,
        districts=districts,
        water=water,
        sources={"synthetic": config.model_dump_json()},
    )


def city_from_synthetic(config: SyntheticCityConfig, *, seed: int = 0) -> City:
    """A generated city (the ``synthetic`` source); the same as :func:`generate_city`."""
    return generate_city(config, seed=seed)
