"""Run reports as self-contained HTML and as PDF (matplotlib), from a run's tables only.

All text that comes from user data (scenario names, descriptions, ids) is HTML-escaped; charts
are embedded as PNG data; the HTML loads nothing from anywhere.
"""

from __future__ import annotations

import base64
import html
import io
import textwrap

import matplotlib.pyplot as plt
from matplotlib.backends.backend_pdf import PdfPages
from matplotlib.figure import Figure

from sim import api
from ui import charts
from ui.labels import FIGURES, KPIS, clock, figure_value, percent

# Run names and descriptions are user text: a "$" must never start mathtext.
plt.rcParams["text.parse_math"] = False


def kpi_rows(summary: dict) -> list[tuple[str, str]]:
    """(label, value with unit) for the report's KPI table."""
    out = []
    for f in FIGURES:
        v = figure_value(summary, f)
        if v is None:
            text = "not reached" if f.unit == "time" else "-"
        elif f.unit == "time":
            text = f"{clock(v)} (h:mm)"
        elif f.unit == "share":
            text = percent(v)
        else:
            text = f"{int(v):,} {f.unit}"
        out.append((f.text, text))
    alerting = summary.get("services", {}).get("alerting", {}).get("availability")
    if alerting is not None:
        lab = KPIS["alerting"]
        out.append((f"{lab.text} ({lab.unit})", percent(alerting)))
    return out


def figures(result: api.RunResult) -> list[tuple[str, Figure]]:
    """The report's charts."""
    ts = result.timeseries
    s = result.summary
    caps = {k: v["capacity"] for k, v in s["shelters"].items()}
    out = [
        ("Where people are over time", charts.evacuation_curve(ts)),
        ("Busiest shelters (dotted: what the command centre saw)", charts.shelter_occupancy(ts, caps, observed=True)),
    ]
    if any(c.startswith("service:") for c in ts.columns):
        out.append(("City services over time", charts.service_timeline(ts)))
    if s["alerts"].get("channels"):
        out.append(("Who each warning channel reached", charts.channel_reach(s["alerts"]["channels"])))
    if "devices_compromised" in ts and ts["devices_compromised"].max() > 0:
        out.append(("Compromised devices over time", charts.compromised_devices(ts)))
    return out


def moments(result: api.RunResult) -> list[tuple[str, float]]:
    """Start, peak (most people on the move) and end: the times the report maps."""
    tracks, ts = result.tracks, result.timeseries
    times = sorted(float(t) for t in tracks["t_s"].unique()) if len(tracks) else [float(ts["t_s"].max())]
    moving = ts["evacuating"] if "evacuating" in ts else ts.iloc[:, 1]
    peak_t = float(ts["t_s"].iloc[int(moving.to_numpy().argmax())])
    peak = min(times, key=lambda t: abs(t - peak_t))
    return [("Start", times[0]), ("Peak (most people on the move)", peak), ("End", times[-1])]


def map_figures(result: api.RunResult) -> list[tuple[str, Figure]]:
    """The city map at the start, the peak and the end of the run."""
    from ui.maps import hazard_polygons

    layers = api.city_layers(api.Scenario.model_validate(result.scenario))
    ts = result.timeseries
    shelters = result.tables["shelters"]
    footprint = result.tables.get("hazard")
    out = []
    for label, t in moments(result):
        row = ts[ts["t_s"] <= t].iloc[-1]
        frame = shelters[["id", "lon", "lat", "capacity"]].copy()
        frame["occupancy"] = [int(row.get(f"shelter:{sid}", 0)) for sid in frame["id"]]
        people = result.tracks[result.tracks["t_s"] == t] if len(result.tracks) else None
        title = f"Map at {label.lower()}: {format_clock(t)}"
        out.append((title, charts.map_figure(layers, frame, people, hazard=hazard_polygons(footprint, t), title=title)))
    return out


def format_clock(t_s: float) -> str:
    """Simulated time as h:mm."""
    m = round(t_s / 60)
    return f"{m // 60}:{m % 60:02d}"


def report_html(name: str, result: api.RunResult) -> str:
    """A self-contained HTML report: scenario, KPIs, charts."""
    s = result.summary
    scenario = result.scenario
    parts = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>SafeCity Twin report: {html.escape(name)}</title>",
        (
            "<style>body{font-family:sans-serif;max-width:60rem;margin:2rem auto;color:#222}"
            "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.3rem .6rem;text-align:left}"
            "img{max-width:100%}</style></head><body>"
        ),
        f"<h1>SafeCity Twin report: {html.escape(name)}</h1>",
        f"<p>{html.escape(str(scenario.get('description') or scenario.get('name', '')))}</p>",
        f"<p>Seed {int(s['seed'])}, {s['population']:,} people, {s['duration_s'] / 60:.0f} simulated minutes.</p>",
        "<h2>Key figures</h2><table>",
    ]
    parts += [f"<tr><th>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>" for k, v in kpi_rows(s)]
    parts.append("</table>")
    for title, fig in [*map_figures(result), *figures(result)]:
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=100)
        plt.close(fig)
        data = base64.b64encode(buf.getvalue()).decode("ascii")
        parts.append(
            f"<h2>{html.escape(title)}</h2><img alt='{html.escape(title)}' src='data:image/png;base64,{data}'>"
        )
    parts.append("<h2>Scenario</h2><pre>" + html.escape(api.dump_yaml(scenario)) + "</pre>")
    parts.append("</body></html>")
    return "\n".join(parts)


A4 = (8.27, 11.69)


def _text_pages(pdf: PdfPages, title: str, lines: list[str], *, per_page: int, fontsize: float, mono: bool) -> None:
    for start in range(0, max(len(lines), 1), per_page):
        page = plt.figure(figsize=A4)
        page.text(0.06, 0.96, title if start == 0 else f"{title} (continued)", fontsize=12, weight="bold")
        page.text(
            0.06,
            0.94,
            "\n".join(lines[start : start + per_page]),
            fontsize=fontsize,
            family="monospace" if mono else "sans-serif",
            va="top",
        )
        pdf.savefig(page)
        plt.close(page)


def _chart_page(pdf: PdfPages, title: str, chart: Figure) -> None:
    """A chart on an A4 page of its own (every page of the PDF has the same size)."""
    buf = io.BytesIO()
    chart.savefig(buf, format="png", dpi=150)
    plt.close(chart)
    buf.seek(0)
    image = plt.imread(buf)
    page = plt.figure(figsize=A4)
    page.text(0.06, 0.96, title, fontsize=12, weight="bold")
    h, w = image.shape[:2]
    width = 0.88
    height = min(0.85, width * (h / w) * (A4[0] / A4[1]))
    ax = page.add_axes((0.06, 0.93 - height, width, height))
    ax.imshow(image)
    ax.axis("off")
    pdf.savefig(page)
    plt.close(page)


def report_pdf(name: str, result: api.RunResult) -> bytes:
    """The same report as a PDF of A4 pages: figures, the description in full, maps, charts, the scenario."""
    buf = io.BytesIO()
    desc = str(result.scenario.get("description") or "")
    desc_lines = [line for para in desc.splitlines() for line in (textwrap.wrap(para, 95) or [""])]
    with PdfPages(buf) as pdf:
        fig = plt.figure(figsize=A4)
        fig.text(0.06, 0.96, textwrap.shorten(f"SafeCity Twin report: {name}", 80), fontsize=15, weight="bold")
        first = desc_lines[:12]
        fig.text(0.06, 0.93, "\n".join(first), fontsize=9, va="top")
        rows = kpi_rows(result.summary)
        ax = fig.add_axes((0.06, 0.25, 0.88, 0.5))
        ax.axis("off")
        table = ax.table(cellText=[[k, v] for k, v in rows], colLabels=["Figure", "Value"], loc="upper left")
        table.scale(1, 1.4)
        pdf.savefig(fig)
        plt.close(fig)
        if len(desc_lines) > len(first):
            _text_pages(pdf, "Description", desc_lines[len(first) :], per_page=70, fontsize=9, mono=False)
        for title, chart in [*map_figures(result), *figures(result)]:
            _chart_page(pdf, title, chart)
        _text_pages(pdf, "Scenario", api.dump_yaml(result.scenario).splitlines(), per_page=90, fontsize=6, mono=True)
    return buf.getvalue()
