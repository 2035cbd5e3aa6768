"""Chart builders: plain functions from tables to matplotlib figures (testable without Streamlit)."""

from __future__ import annotations

import math

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.figure import Figure

from ui.labels import SERVICE_LABELS, STATE_LABELS

# Run names and descriptions are user text: a "$" must never start mathtext.
plt.rcParams["text.parse_math"] = False

# Okabe-Ito: a palette that colour-blind readers can tell apart.
PALETTE = {
    "at_home": "#999999",
    "evacuating": "#E69F00",
    "sheltered": "#009E73",
    "casualties": "#D55E00",
    "stranded": "#CC79A7",
    "trapped": "#56B4E9",
    "accent": "#0072B2",
}


def evacuation_curve(timeseries: pd.DataFrame) -> Figure:
    """People on the way, in shelters, stranded or hurt over time (stacked), time in minutes.

    People still at home are left out: in a partial evacuation they would hide the rest.
    """
    fig, ax = plt.subplots(figsize=(7, 3.2), dpi=100)
    t_min = timeseries["t_s"] / 60.0
    states = [s for s in STATE_LABELS if s in timeseries and s != "at_home"]
    ax.stackplot(
        t_min,
        *[timeseries[s] for s in states],
        labels=[STATE_LABELS[s] for s in states],
        colors=[PALETTE[s] for s in states],
        alpha=0.9,
    )
    ax.set_xlabel("Time since start (min)")
    ax.set_ylabel("People")
    ax.set_xlim(t_min.min(), t_min.max())
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False, fontsize=8)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def shelter_occupancy(
    timeseries: pd.DataFrame,
    capacities: dict[str, int],
    *,
    top: int = 8,
    observed: bool = False,
    names: dict[str, str] | None = None,
) -> Figure:
    """Occupancy over time of the busiest shelters, with their capacity as a dashed line
    (and, with ``observed``, the count the command centre saw as a dotted line)."""
    cols = [c for c in timeseries.columns if c.startswith("shelter:")]
    busiest = sorted(cols, key=lambda c: -float(timeseries[c].max()))[:top]
    fig, ax = plt.subplots(figsize=(7, 3.2), dpi=100)
    t_min = timeseries["t_s"] / 60.0
    for i, col in enumerate(busiest):
        sid = col.removeprefix("shelter:")
        label = (names or {}).get(sid, sid)
        line = ax.plot(t_min, timeseries[col], label=label[:40], color=plt.cm.tab10(i % 10))[0]
        if sid in capacities:
            ax.axhline(capacities[sid], color=line.get_color(), linestyle="--", linewidth=0.8)
        if observed and f"observed:{sid}" in timeseries:
            ax.step(t_min, timeseries[f"observed:{sid}"], where="post", color=line.get_color(), linestyle=":")
    ax.set_xlabel("Time since start (min)")
    ax.set_ylabel("People in shelter")
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False, fontsize=8)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def service_timeline(timeseries: pd.DataFrame) -> Figure:
    """Which city services worked when: one row per service, filled while it was up."""
    cols = [c for c in timeseries.columns if c.startswith("service:")]
    fig, ax = plt.subplots(figsize=(7, 0.35 * max(len(cols), 1) + 1.2), dpi=100)
    t_min = timeseries["t_s"].to_numpy() / 60.0
    for row, col in enumerate(cols):
        up = timeseries[col].to_numpy() > 0
        ax.fill_between(t_min, row - 0.35, row + 0.35, where=up, step="post", color=PALETTE["sheltered"], lw=0)
        ax.fill_between(t_min, row - 0.35, row + 0.35, where=~up, step="post", color=PALETTE["casualties"], lw=0)
    names = [c.removeprefix("service:") for c in cols]
    ax.set_yticks(range(len(cols)), [SERVICE_LABELS.get(n, n) for n in names], fontsize=8)
    ax.set_xlabel("Time since start (min)")
    ax.set_xlim(t_min.min(), t_min.max() if len(t_min) else 1)
    ax.set_title("Green: working; vermillion: down", fontsize=9, loc="left")
    fig.tight_layout()
    return fig


def channel_reach(channels: dict[str, dict]) -> Figure:
    """Share of the people ordered out that each warning channel reached (%)."""
    names = list(channels)
    values = [100.0 * (channels[n].get("reach_fraction") or 0.0) for n in names]
    fig, ax = plt.subplots(figsize=(7, 0.4 * max(len(names), 1) + 1.0), dpi=100)
    ax.barh(range(len(names)), values, color=PALETTE["accent"])
    ax.set_yticks(range(len(names)), [n.replace("_", " ") for n in names], fontsize=8)
    ax.set_xlim(0, 100)
    ax.set_xlabel("People ordered out reached (%)")
    ax.invert_yaxis()
    ax.grid(axis="x", alpha=0.3)
    fig.tight_layout()
    return fig


def compromised_devices(timeseries: pd.DataFrame) -> Figure:
    """Devices under an attacker's control, and isolated by the defenders, over time."""
    fig, ax = plt.subplots(figsize=(7, 2.8), dpi=100)
    t_min = timeseries["t_s"] / 60.0
    ax.step(t_min, timeseries["devices_compromised"], where="post", color=PALETTE["casualties"], label="Compromised")
    if "devices_isolated" in timeseries:
        ax.step(t_min, timeseries["devices_isolated"], where="post", color=PALETTE["accent"], label="Isolated")
    ax.set_xlabel("Time since start (min)")
    ax.set_ylabel("Devices")
    ax.legend(frameon=False, fontsize=8)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def compare_curves(series: dict[str, pd.DataFrame]) -> Figure:
    """People in shelters over time, one line per run."""
    fig, ax = plt.subplots(figsize=(7, 3.2), dpi=100)
    colours = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9"]
    for i, (name, ts) in enumerate(series.items()):
        ax.plot(ts["t_s"] / 60.0, ts["sheltered"], label=name, color=colours[i % len(colours)])
    ax.set_xlabel("Time since start (min)")
    ax.set_ylabel("People in shelters")
    ax.legend(frameon=False, fontsize=8)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def map_figure(
    layers: dict,
    shelters: pd.DataFrame,
    tracks: pd.DataFrame | None = None,
    *,
    hazard: pd.DataFrame | None = None,
    title: str = "",
) -> Figure:
    """A still map for reports: roads, water, buildings, the hazard, shelters by occupancy, people.

    ``shelters`` has ``lon``, ``lat``, ``capacity`` and ``occupancy``; ``tracks`` the sampled
    people at one time; ``hazard`` the footprint rows (``polygon``, ``fill``) of that time.
    """
    from matplotlib.collections import LineCollection, PolyCollection

    fig, ax = plt.subplots(figsize=(7, 6), dpi=100)
    ax.set_facecolor("#e8eef2")
    for name, colour in (("water", "#56B4E9"), ("buildings", "#b4b4b4")):
        gdf = layers.get(name)
        if gdf is not None and len(gdf):
            polys = []
            for geom in gdf.geometry:
                if geom is None:
                    continue
                for part in getattr(geom, "geoms", [geom]):
                    if part.geom_type == "Polygon":
                        polys.append(list(part.exterior.coords))
            ax.add_collection(PolyCollection(polys, facecolors=colour, edgecolors="none", alpha=0.7))
    if hazard is not None and len(hazard):
        ax.add_collection(
            PolyCollection(
                list(hazard["polygon"]),
                facecolors=[[c / 255 for c in f[:3]] + [f[3] / 255] for f in hazard["fill"]],
                edgecolors="none",
            )
        )
    segments = []
    for geom in layers["roads"].geometry:
        for part in getattr(geom, "geoms", [geom]):
            segments.append(list(part.coords))
    ax.add_collection(LineCollection(segments, colors="#5a5a5a", linewidths=0.6))
    if tracks is not None and len(tracks):
        ax.scatter(
            tracks["lon"],
            tracks["lat"],
            s=4,
            c=[PALETTE.get(s, "#000000") for s in tracks["state"]],
            linewidths=0,
            zorder=3,
        )
    share = shelters["occupancy"] / shelters["capacity"].clip(lower=1)
    colours = ["#009E73" if s < 0.8 else "#E69F00" if s < 1 else "#D55E00" for s in share]
    size = 20 + 180 * (shelters["capacity"] / max(float(shelters["capacity"].max()), 1.0)) ** 0.5
    ax.scatter(shelters["lon"], shelters["lat"], s=size, c=colours, edgecolors="black", linewidths=0.6, zorder=4)
    x0, y0, x1, y1 = layers["roads"].total_bounds
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_aspect(1 / max(0.2, math.cos(math.radians((y0 + y1) / 2))))  # metres look square
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_title(title, fontsize=10)
    fig.tight_layout()
    return fig


def sweep_response(points: pd.DataFrame, param: str, figure: str) -> Figure:
    """A figure's mean over seeds against one parameter, with its 95 % band (averaged over other parameters)."""
    fig, ax = plt.subplots(figsize=(7, 3.2), dpi=100)
    cols = [f"{figure}.mean", f"{figure}.ci95_low", f"{figure}.ci95_high"]
    g = points.groupby(param)[cols].mean().sort_index()
    numeric = pd.api.types.is_numeric_dtype(g.index)
    x = g.index.to_numpy(dtype=float) if numeric else list(range(len(g)))
    if not numeric:  # text values: one tick each
        ax.set_xticks(x, [str(v) for v in g.index])
    if numeric and len(points) > len(g):
        ax.scatter(points[param], points[f"{figure}.mean"], s=10, color="#999999", label="each point")
    ax.fill_between(x, g[cols[1]], g[cols[2]], alpha=0.25, color=PALETTE["accent"], label="95 % confidence")
    ax.plot(x, g[cols[0]], "-o", ms=3, color=PALETTE["accent"], label="mean over seeds")
    ax.set_xlabel(param)
    ax.set_ylabel(figure)
    ax.grid(alpha=0.3)
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False, fontsize=8)
    fig.tight_layout()
    return fig


def sweep_sensitivity(sens: pd.DataFrame, figure: str) -> Figure:
    """Sobol first/total order indices (or Morris mu*) of one figure, per parameter."""
    part = sens[sens["figure"] == figure]
    fig, ax = plt.subplots(figsize=(7, 0.8 + 0.4 * len(part)), dpi=100)
    y = range(len(part))
    if "ST" in part:
        ax.barh([i - 0.2 for i in y], part["S1"], 0.4, xerr=part["S1_conf"], color=PALETTE["accent"], label="S1")
        ax.barh([i + 0.2 for i in y], part["ST"], 0.4, xerr=part["ST_conf"], color="#E69F00", label="ST")
        ax.set_xlabel(f"Sobol index of {figure}")
    else:
        ax.barh(list(y), part["mu_star"], 0.6, xerr=part["mu_star_conf"], color=PALETTE["accent"], label="mu*")
        ax.set_xlabel(f"Morris mu* of {figure}")
    ax.set_yticks(list(y), list(part["parameter"]))
    ax.legend(frameon=False, fontsize=8)
    fig.tight_layout()
    return fig
