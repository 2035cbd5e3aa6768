"""The after-action report (AAR/IP, the HSEEP shape) of an exercise: HTML and PDF.

``build_aar`` rates every inject (expected vs actual action: met, late by N min, missed) and
every objective, compares the KPIs with the players' actions against the baseline without
them, drafts strengths, areas for improvement and an improvement plan (the controller's edits,
stored in the log's notes, replace the drafts), and draws one timeline of injects, actions and
outcomes. ``aar_html`` and ``aar_pdf`` render it; every text from the exercise file is escaped.
"""

from __future__ import annotations

import base64
import html
import io
import math
import textwrap
from typing import Any

from sim.core.actions import action_details, action_title

KPIS = (
    ("evacuation.sheltered", "people sheltered", "people"),
    ("evacuation.t50_s", "half in shelters (T50)", "time"),
    ("evacuation.t90_s", "90 % in shelters (T90)", "time"),
    ("evacuation.stranded", "stranded", "people"),
    ("evacuation.casualties", "casualties", "people"),
    ("alerts.reach_fraction", "ordered people warned", "share"),
    ("relatives_notified_fraction", "relatives told", "share"),
    ("location.coverage", "people located by the command centre", "share"),
)


def _get(summary: dict[str, Any], path: str) -> float | None:
    node: Any = summary
    for part in path.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return None if node is None else float(node)


def _fmt(v: float | None, unit: str) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "not reached"
    if unit == "time":
        return f"{v / 60:.0f} min"
    if unit == "share":
        return f"{100 * v:.0f} %"
    return f"{v:,.0f}"


def _clock(t: float) -> str:
    m = round(t / 60)
    return f"{m // 60}:{m % 60:02d}"


def rate_injects(meta: dict[str, Any], entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each inject: when delivered, the expected action, the first matching action by its role, the rating."""
    delivered = {e["ref"]: e for e in entries if e["kind"] == "inject"}
    actions = [e for e in entries if e["kind"] == "action"]
    out = []
    for inj in meta.get("msel", []):
        d = delivered.get(inj["id"])
        row = {
            "id": inj["id"],
            "at_s": float(inj["at"]),
            "to": inj["to"],
            "message": inj["message"],
            "expected": inj.get("expected_action"),
            "objective": inj.get("objective"),
            "delivered_s": d["sim_t"] if d else None,
            "action_s": None,
            "rating": "not delivered" if d is None else "no action expected",
            "delay_min": None,
        }
        if d is not None and inj.get("expected_action"):
            match = next(
                (
                    a
                    for a in actions
                    if a["action"] == inj["expected_action"]
                    and a["role"] == inj["to"]
                    and a["sim_t"] >= d["sim_t"]
                    and a["outcome"].get("applied", True)
                ),
                None,
            )
            if match is None:
                row["rating"] = "missed"
            else:
                delay = match["sim_t"] - d["sim_t"]
                row["action_s"] = match["sim_t"]
                row["delay_min"] = round(delay / 60, 1)
                late = delay - float(inj.get("expected_within", 900))
                row["rating"] = f"met in {delay / 60:.0f} min" if late <= 0 else f"late by {late / 60:.0f} min"
        out.append(row)
    return out


def rate_objectives(meta: dict[str, Any], injects: list[dict[str, Any]], summary: dict[str, Any]) -> list[dict]:
    """Each objective: its injects' ratings and its measure, and an overall rating."""
    out = []
    for obj in meta.get("objectives", []):
        mine = [r for r in injects if r["objective"] == obj["id"] and r["expected"]]
        evidence = [f"{r['id']}: {r['rating']}" for r in mine]
        ok = [r["rating"].startswith("met") for r in mine]
        measure = obj.get("measure")
        if measure:
            v = _get(summary, measure["kpi"])
            good = v is not None
            if good and measure.get("at_most") is not None:
                good = v <= measure["at_most"]
            if good and measure.get("at_least") is not None:
                good = v >= measure["at_least"]
            ok.append(bool(good))
            evidence.append(f"{measure['kpi']} = {v if v is not None else 'not reached'}")
        if not ok:
            rating = "not rated (no expected action or measure)"
        elif all(ok):
            rating = "met"
        elif any(ok):
            rating = "partially met"
        else:
            rating = "not met"
        out.append({"id": obj["id"], "text": obj["text"], "rating": rating, "evidence": evidence})
    return out


def build_aar(
    meta: dict[str, Any], entries: list[dict[str, Any]], result: Any, baseline: Any, notes: dict[str, str]
) -> dict[str, Any]:
    """Everything the report shows (plain data)."""
    injects = rate_injects(meta, entries)
    objectives = rate_objectives(meta, injects, result.summary)
    kpis: list[dict[str, Any]] = []
    for path, label, unit in KPIS:
        a, b = _get(result.summary, path), _get(baseline.summary, path)
        delta = None if a is None or b is None else a - b
        kpis.append({"path": path, "label": label, "unit": unit, "with": a, "without": b, "delta": delta})
    actions = [e for e in entries if e["kind"] == "action"]
    strengths, areas = [], []
    for r in injects:
        if r["rating"].startswith("met"):
            strengths.append(f"{r['to']} acted on inject {r['id']} ({action_title(r['expected'])}): {r['rating']}.")
        elif r["rating"].startswith("late") or r["rating"] == "missed":
            areas.append(f"{r['to']}: inject {r['id']} expected {action_title(r['expected'])}; {r['rating']}.")
    for k in kpis:
        if k["delta"] is None or k["delta"] == 0 or (k["unit"] == "share" and abs(k["delta"]) < 0.005):
            continue
        better = k["delta"] > 0 if k["path"] in ("evacuation.sheltered",) or k["unit"] == "share" else k["delta"] < 0
        with_, without = _fmt(k["with"], k["unit"]), _fmt(k["without"], k["unit"])
        (strengths if better else areas).append(f"{k['label']}: {with_} with the players' actions, {without} without.")
    plan = [
        {
            "issue": a,
            "action": "Rehearse this decision with its trigger and time limit; review the procedure and who holds it.",
            "capability": next((r["objective"] for r in injects if r["id"] in a and r["objective"]), "") or "",
            "responsible": next((r["to"] for r in injects if r["id"] in a), "exercise lead"),
            "due": "next exercise",
        }
        for a in areas
    ]
    met = sum(r["rating"].startswith("met") for r in injects)
    return {
        "overview": {
            "name": meta.get("name"),
            "description": meta.get("description", ""),
            "scenario": result.summary.get("scenario"),
            "date": str(meta.get("created", ""))[:10],
            "roles": meta.get("roles", []),
            "duration_s": result.summary.get("duration_s"),
        },
        "injects": injects,
        "objectives": objectives,
        "actions": [
            {"t_s": a["sim_t"], "role": a["role"], "action": a["action"], "args": a["args"], "outcome": a["outcome"]}
            for a in actions
        ],
        "kpis": kpis,
        "strengths": notes.get("strengths", "\n".join(strengths) or "None drafted from the measures."),
        "improvements": notes.get("improvements", "\n".join(areas) or "None drafted from the measures."),
        "plan": plan,
        "timeseries": result.timeseries,
        "summary": {
            "injects": len(injects),
            "delivered": sum(r["delivered_s"] is not None for r in injects),
            "actions": len(actions),
            "met": met,
            "late": sum(r["rating"].startswith("late") for r in injects),
            "missed": sum(r["rating"] == "missed" for r in injects),
            "objectives_met": sum(o["rating"] == "met" for o in objectives),
            "objectives": len(objectives),
        },
    }


def timeline_figure(rep: dict[str, Any]) -> Any:
    """One chart: the evacuation over time, shelter occupancy and services, with injects and actions marked."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    plt.rcParams["text.parse_math"] = False
    ts = rep["timeseries"]
    fig, (ax, ax2) = plt.subplots(2, 1, figsize=(9, 5.2), sharex=True, gridspec_kw={"height_ratios": [3, 1]})
    t = ts["t_s"] / 60.0
    for col, colour, label in (
        ("sheltered", "#009E73", "in shelters"),
        ("evacuating", "#E69F00", "on the way"),
        ("casualties", "#D55E00", "casualties"),
        ("stranded", "#CC79A7", "stranded"),
    ):
        if col in ts:
            ax.plot(t, ts[col], color=colour, label=label)
    for r in rep["injects"]:
        if r["delivered_s"] is not None:
            ax.axvline(r["delivered_s"] / 60, color="#0072B2", lw=0.8, ls="--")
            ax.annotate(r["id"], (r["delivered_s"] / 60, ax.get_ylim()[1]), fontsize=7, rotation=90, va="top")
    for a in rep["actions"]:
        ax.plot([a["t_s"] / 60], [0], marker="^", color="#000000", ms=7)
    ax.set_ylabel("people")
    ax.legend(fontsize=7, loc="upper left")
    ax.set_title("Injects (dashed), players' actions (triangles) and the evacuation")
    services = [c for c in ts.columns if c.startswith("service:")]
    if services:
        ax2.plot(t, ts[services].sum(axis=1), color="#56B4E9")
        ax2.set_ylabel("services up")
    ax2.set_xlabel("simulated time (min)")
    fig.tight_layout()
    return fig


def _png(fig: Any) -> str:
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90)
    plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode()


def aar_html(rep: dict[str, Any]) -> str:
    """The report as one self-contained HTML page (no outside resource, every exercise text escaped)."""
    e = html.escape
    ov = rep["overview"]
    parts = [
        f"<h1>After-action report: {e(str(ov['name']))}</h1>",
        "<h2>Overview</h2>",
        (
            f"<p>Scenario: {e(str(ov['scenario']))}. Date: {e(ov['date'])}. Roles: {e(', '.join(ov['roles']))}. "
            f"Simulated time: {_clock(float(ov['duration_s'] or 0))}.</p>"
        ),
        f"<p>{e(str(ov['description']))}</p>",
        "<h2>Objectives</h2><table><tr><th>objective</th><th>rating</th><th>evidence</th></tr>",
    ]
    for o in rep["objectives"]:
        parts.append(
            f"<tr><td>{e(o['id'])}: {e(o['text'])}</td><td>{e(o['rating'])}</td>"
            f"<td>{e('; '.join(o['evidence']))}</td></tr>"
        )
    parts.append("</table><h2>Timeline</h2>")
    parts.append(f'<img alt="timeline" src="data:image/png;base64,{_png(timeline_figure(rep))}">')
    parts.append(
        "<h2>Injects: expected and actual actions</h2><table><tr><th>inject</th><th>delivered</th><th>to</th>"
        "<th>message</th><th>expected</th><th>actual</th><th>rating</th></tr>"
    )
    for r in rep["injects"]:
        delivered = _clock(r["delivered_s"]) if r["delivered_s"] is not None else "-"
        actual = _clock(r["action_s"]) if r["action_s"] is not None else "-"
        parts.append(
            f"<tr><td>{e(r['id'])}</td><td>{delivered}</td><td>{e(r['to'])}</td><td>{e(r['message'])}</td>"
            f"<td>{e(action_title(r['expected']))}</td><td>{actual}</td><td>{e(r['rating'])}</td></tr>"
        )
    parts.append(
        "</table><h2>Players' actions</h2><table><tr><th>time</th><th>role</th><th>action</th><th>result</th></tr>"
    )
    for a in rep["actions"]:
        outcome = (
            "applied" if a["outcome"].get("applied", True) else "refused: " + "; ".join(a["outcome"].get("problem", []))
        )
        parts.append(
            f"<tr><td>{_clock(a['t_s'])}</td><td>{e(a['role'])}</td><td>{e(action_title(a['action']))} "
            f"{e(action_details(a['args']))}</td><td>{e(outcome)}</td></tr>"
        )
    parts.append(
        "</table><h2>What the players' decisions changed</h2><table><tr><th>figure</th><th>with their actions</th>"
        "<th>without (baseline)</th></tr>"
    )
    for k in rep["kpis"]:
        parts.append(
            f"<tr><td>{e(k['label'])}</td><td>{_fmt(k['with'], k['unit'])}</td>"
            f"<td>{_fmt(k['without'], k['unit'])}</td></tr>"
        )
    parts.append("</table><h2>Strengths</h2><ul>")
    parts += [f"<li>{e(line)}</li>" for line in rep["strengths"].splitlines() if line.strip()]
    parts.append("</ul><h2>Areas for improvement</h2><ul>")
    parts += [f"<li>{e(line)}</li>" for line in rep["improvements"].splitlines() if line.strip()]
    parts.append(
        "</ul><h2>Improvement plan</h2><table><tr><th>issue</th><th>corrective action</th><th>capability</th>"
        "<th>responsible</th><th>due</th></tr>"
    )
    for p in rep["plan"]:
        parts.append(
            f"<tr><td>{e(p['issue'])}</td><td>{e(p['action'])}</td><td>{e(p['capability'])}</td>"
            f"<td>{e(p['responsible'])}</td><td>{e(p['due'])}</td></tr>"
        )
    parts.append("</table>")
    style = (
        "body{font-family:sans-serif;max-width:1000px;margin:2em auto}table{border-collapse:collapse}"
        "td,th{border:1px solid #bbb;padding:3px 6px;font-size:13px;vertical-align:top}"
    )
    csp = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"
    return (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><meta http-equiv="Content-Security-Policy" '
        f'content="{csp}"><title>AAR {e(str(ov["name"]))}</title><style>{style}</style></head><body>'
        + "".join(parts)
        + "</body></html>"
    )


def aar_pdf(rep: dict[str, Any]) -> bytes:
    """The report as a PDF (A4 pages of text and the timeline chart; matplotlib, no outside fonts)."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt
    from matplotlib.backends.backend_pdf import PdfPages

    plt.rcParams["text.parse_math"] = False
    ov = rep["overview"]
    lines = [f"After-action report: {ov['name']}", ""]
    lines += [f"Scenario: {ov['scenario']}   Date: {ov['date']}   Roles: {', '.join(ov['roles'])}", ""]
    lines += ["OBJECTIVES"] + [
        f"  {o['id']}: {o['text']} -> {o['rating']} ({'; '.join(o['evidence'])})" for o in rep["objectives"]
    ]
    lines += ["", "INJECTS (expected vs actual)"]
    for r in rep["injects"]:
        lines.append(f"  {r['id']} to {r['to']}: expected {action_title(r['expected'])} -> {r['rating']}")
    lines += ["", "PLAYERS' ACTIONS"] + [
        f"  {_clock(a['t_s'])} {a['role']}: {action_title(a['action'])} {action_details(a['args'])}".rstrip()
        for a in rep["actions"]
    ]
    lines += ["", "WITH THE PLAYERS' ACTIONS vs WITHOUT (baseline)"]
    lines += [f"  {k['label']}: {_fmt(k['with'], k['unit'])} vs {_fmt(k['without'], k['unit'])}" for k in rep["kpis"]]
    lines += ["", "STRENGTHS"] + [f"  {s}" for s in rep["strengths"].splitlines()]
    lines += ["", "AREAS FOR IMPROVEMENT"] + [f"  {s}" for s in rep["improvements"].splitlines()]
    lines += ["", "IMPROVEMENT PLAN"] + [f"  {p['issue']} | {p['responsible']} | {p['due']}" for p in rep["plan"]]
    wrapped: list[str] = []
    for line in lines:
        wrapped += textwrap.wrap(line, 100, subsequent_indent="      ") or [""]
    buf = io.BytesIO()
    with PdfPages(buf) as pdf:
        per_page = 62
        for start in range(0, len(wrapped), per_page):
            fig = plt.figure(figsize=(8.27, 11.69))
            fig.text(
                0.06, 0.96, "\n".join(wrapped[start : start + per_page]), va="top", family="monospace", fontsize=7.5
            )
            pdf.savefig(fig)
            plt.close(fig)
        fig = timeline_figure(rep)
        fig.set_size_inches(8.27, 5.5)
        pdf.savefig(fig)
        plt.close(fig)
    return buf.getvalue()
