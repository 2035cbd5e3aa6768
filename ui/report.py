"""Run reports as self-contained HTML and as PDF (matplotlib), from a run's tables only.

All text that comes from user data (scenario names, descriptions, ids) is HTML-escaped; charts
are embedded as PNG data; the HTML loads nothing from anywhere.
"""

from __future__ import annotations

import base64
import html
import io

import matplotlib.pyplot as plt
from matplotlib.backends.backend_pdf import PdfPages
from matplotlib.figure import Figure

from sim import api
from ui import charts

# Run names and descriptions are user text: a "$" must never start mathtext.
plt.rcParams["text.parse_math"] = False

KPIS = [
    ("Ordered to leave", ("evacuation", "ordered"), "people"),
    ("In shelters at the end", ("evacuation", "sheltered"), "people"),
    ("Half in shelters (T50)", ("evacuation", "t50_s"), "min"),
    ("90 % in shelters (T90)", ("evacuation", "t90_s"), "min"),
    ("95 % in shelters (T95)", ("evacuation", "t95_s"), "min"),
    ("Warned", ("alerts", "reach_fraction"), "%"),
    ("Stranded", ("evacuation", "stranded"), "people"),
    ("Casualties", ("evacuation", "casualties"), "people"),
    ("Relatives told", (None, "relatives_notified_fraction"), "%"),
    ("Devices compromised (peak)", ("cyber", "devices_compromised_peak"), "devices"),
    ("Records exposed", ("cyber", "records_exposed"), "records"),
]


def kpi_rows(summary: dict) -> list[tuple[str, str]]:
    """(label, value with unit) for the report's KPI table."""
    out = []
    for label, (part, key), unit in KPIS:
        v = summary.get(key) if part is None else summary.get(part, {}).get(key)
        if v is None:
            text = "not reached" if unit == "min" else "-"
        elif unit == "min":
            text = f"{v / 60:.0f} min"
        elif unit == "%":
            text = f"{100 * v:.0f} %"
        else:
            text = f"{int(v):,} {unit}"
        out.append((label, text))
    alerting = summary.get("services", {}).get("alerting", {}).get("availability")
    if alerting is not None:
        out.append(("Alerting service worked", f"{100 * alerting:.0f} % of the time"))
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
    for title, fig in figures(result):
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


def report_pdf(name: str, result: api.RunResult) -> bytes:
    """The same report as a PDF: a KPI page, one page per chart, then the scenario."""
    buf = io.BytesIO()
    with PdfPages(buf) as pdf:
        fig = plt.figure(figsize=(8.27, 11.69))
        fig.text(0.08, 0.95, f"SafeCity Twin report: {name}", fontsize=16, weight="bold")
        desc = str(result.scenario.get("description") or "")
        fig.text(0.08, 0.91, desc[:110], fontsize=9)
        rows = kpi_rows(result.summary)
        ax = fig.add_axes([0.08, 0.35, 0.84, 0.5])
        ax.axis("off")
        table = ax.table(cellText=[[k, v] for k, v in rows], colLabels=["Figure", "Value"], loc="upper left")
        table.scale(1, 1.4)
        pdf.savefig(fig)
        plt.close(fig)
        for title, chart in figures(result):
            chart.suptitle(title, fontsize=10)
            pdf.savefig(chart)
            plt.close(chart)
        lines = api.dump_yaml(result.scenario).splitlines()
        for start in range(0, len(lines), 90):  # the scenario, 90 lines a page
            page = plt.figure(figsize=(8.27, 11.69))
            page.text(0.05, 0.97, "Scenario" if start == 0 else "Scenario (continued)", fontsize=12, weight="bold")
            page.text(0.05, 0.95, "\n".join(lines[start : start + 90]), fontsize=6, family="monospace", va="top")
            pdf.savefig(page)
            plt.close(page)
    return buf.getvalue()
