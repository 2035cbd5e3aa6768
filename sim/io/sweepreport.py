"""A sweep's self-contained ``report.html``: response curves with bands, a heatmap, sensitivity bars, the points.

Every picture is an inline PNG (matplotlib, Agg); every text from the sweep file is escaped.
"""

from __future__ import annotations

import base64
import html
import io
import math
from typing import Any

import numpy as np
import pandas as pd

HEADLINE = (
    "evacuation.t50_s",
    "evacuation.t90_s",
    "evacuation.sheltered",
    "evacuation.casualties",
    "alerts.reach_fraction",
    "services.alerting.availability",
    "location.coverage",
)
MAX_CURVES = 12
CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"  # nothing loads from outside


def _png(fig: Any) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90, bbox_inches="tight")
    import matplotlib.pyplot as plt

    plt.close(fig)
    return '<img alt="" src="data:image/png;base64,' + base64.b64encode(buf.getvalue()).decode() + '">'


def _plt() -> Any:
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    plt.rcParams["text.parse_math"] = False  # parameter names and figures are text, never math
    return plt


def headline_figures(points: pd.DataFrame) -> list[str]:
    """The figures the report draws: the headline ones that vary, else the first that vary."""
    have = [c[: -len(".mean")] for c in points.columns if c.endswith(".mean")]
    varying = [f for f in have if points[f"{f}.mean"].nunique(dropna=True) > 1]
    chosen = [f for f in HEADLINE if f in varying]
    return (chosen or varying or have)[:6]


def _curves(points: pd.DataFrame, free: list[str], figures: list[str]) -> list[str]:
    plt = _plt()
    out = []
    for param in free:
        for fig_name in figures[:MAX_CURVES]:
            g = points.groupby(param)[[f"{fig_name}.mean", f"{fig_name}.ci95_low", f"{fig_name}.ci95_high"]].mean()
            if len(g) < 2:
                continue
            fig, ax = plt.subplots(figsize=(4.6, 3.0))
            numeric = pd.api.types.is_numeric_dtype(g.index)
            x = g.index.to_numpy(dtype=float) if numeric else np.arange(len(g), dtype=float)
            order = np.argsort(x)
            x = x[order]
            if not numeric:  # text values (districts, channel names): one tick each
                ax.set_xticks(x, [str(v) for v in g.index[order]])
            mean = g[f"{fig_name}.mean"].to_numpy(dtype=float)[order]
            lo = g[f"{fig_name}.ci95_low"].to_numpy(dtype=float)[order]
            hi = g[f"{fig_name}.ci95_high"].to_numpy(dtype=float)[order]
            if len(points) == len(g):  # one point per value: the curve with its band
                ax.fill_between(x, lo, hi, alpha=0.25, color="#0072B2", label="95 % confidence")
                ax.plot(x, mean, "-o", color="#0072B2", ms=3, label="mean over seeds")
            else:  # several points share a value (a design over more parameters): every point, and the average
                if numeric:
                    ax.scatter(points[param], points[f"{fig_name}.mean"], s=8, color="#999999", label="points")
                ax.plot(x, mean, "-", color="#0072B2", label="average")
                ax.fill_between(x, lo, hi, alpha=0.2, color="#0072B2", label="average 95 % band")
            ax.set_xlabel(param)
            ax.set_ylabel(fig_name)
            ax.legend(fontsize=7)
            out.append(_png(fig))
    return out


def _heatmap(points: pd.DataFrame, free: list[str], figure: str) -> str:
    plt = _plt()
    a, b = free
    table = points.pivot_table(index=a, columns=b, values=f"{figure}.mean", aggfunc="mean")
    fig, ax = plt.subplots(figsize=(5.0, 3.6))
    im = ax.imshow(table.to_numpy(dtype=float), origin="lower", aspect="auto", cmap="viridis")
    ax.set_xticks(range(len(table.columns)), [f"{v:g}" if isinstance(v, float) else str(v) for v in table.columns])
    ax.set_yticks(range(len(table.index)), [f"{v:g}" if isinstance(v, float) else str(v) for v in table.index])
    ax.set_xlabel(b)
    ax.set_ylabel(a)
    fig.colorbar(im, ax=ax, label=figure)
    return _png(fig)


def _sensitivity_bars(sens: pd.DataFrame, figure: str) -> str:
    plt = _plt()
    part = sens[sens["figure"] == figure]
    fig, ax = plt.subplots(figsize=(5.0, 0.5 + 0.35 * len(part)))
    y = np.arange(len(part))
    if "ST" in part:
        ax.barh(y - 0.2, part["S1"], 0.4, xerr=part["S1_conf"], label="first order S1", color="#0072B2")
        ax.barh(y + 0.2, part["ST"], 0.4, xerr=part["ST_conf"], label="total ST", color="#E69F00")
        ax.set_xlabel(f"Sobol index of {figure}")
    else:
        ax.barh(y, part["mu_star"], 0.6, xerr=part["mu_star_conf"], color="#0072B2", label="mu*")
        ax.set_xlabel(f"Morris mu* of {figure}")
    ax.set_yticks(y, list(part["parameter"]))
    ax.legend(fontsize=7)
    return _png(fig)


def _table(points: pd.DataFrame, params: list[str], figures: list[str]) -> str:
    cols = ["point", *params, "n", *[f"{f}.mean" for f in figures], *[f"{f}.ci95_low" for f in figures[:2]]]
    cols += ["target_met"] if "target_met" in points else []
    cols = [c for c in cols if c in points]
    head = "".join(f"<th>{html.escape(c)}</th>" for c in cols)
    body = []
    for row in points[cols].head(500).itertuples(index=False):
        cells = []
        for v in row:
            if isinstance(v, float):
                cells.append("" if math.isnan(v) else f"{v:.4g}")
            else:
                cells.append(html.escape(str(v)))
        body.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
    more = f"<p>{len(points) - 500} more points in points.parquet.</p>" if len(points) > 500 else ""
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>{more}"


def report_html(
    name: str,
    design: str,
    params: list[str],
    free: list[str],
    results: pd.DataFrame,
    points: pd.DataFrame,
    sens: pd.DataFrame,
) -> str:
    """The whole report as one HTML document (no outside resource)."""
    parts = [f"<h1>Sweep {html.escape(name)}</h1>"]
    ok = int((results["status"] == "ok").sum()) if len(results) else 0
    parts.append(
        f"<p>Design: {html.escape(design)}; {len(points)} points; {len(results)} runs, {ok} ok, "
        f"{len(results) - ok} failed. Parameters: {html.escape(', '.join(params))}.</p>"
    )
    if len(points):
        figures = headline_figures(points)
        parts.append("<h2>Response curves (mean over seeds, 95 % confidence band)</h2>")
        parts.extend(_curves(points, free, figures))
        if design == "grid" and len(free) == 2 and figures:
            parts.append(f"<h2>{html.escape(figures[0])} over both parameters</h2>")
            parts.append(_heatmap(points, free, figures[0]))
        if len(sens):
            parts.append("<h2>Sensitivity</h2>")
            for fig_name in [f for f in figures if f in set(sens["figure"])]:
                parts.append(_sensitivity_bars(sens, fig_name))
        parts.append("<h2>Points</h2>")
        parts.append(_table(points, params, figures))
    failed = results[results["status"] != "ok"] if len(results) else results
    if len(failed):
        parts.append("<h2>Failed runs</h2><ul>")
        for r in failed.head(50).itertuples():
            parts.append(f"<li>point {r.point}, seed {r.seed}: {html.escape(str(r.error))}</li>")
        parts.append("</ul>")
    style = (
        "body{font-family:sans-serif;max-width:1100px;margin:2em auto}img{margin:4px}"
        "table{border-collapse:collapse;font-size:12px}td,th{border:1px solid #ccc;padding:2px 6px}"
    )
    title = html.escape(name)
    return (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Sweep {title}</title>'
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
        f"<style>{style}</style></head><body>{''.join(parts)}</body></html>"
    )
