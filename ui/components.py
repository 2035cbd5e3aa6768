"""Components shared by the pages (pages never import each other): run picker, KPI cards."""

from __future__ import annotations

import streamlit as st

from sim import api
from ui import state
from ui.labels import KPIS, clock, people, percent


def pick_run(key: str) -> str | None:
    """A run of this session, chosen by the user (the latest first)."""
    names = list(state.runs())[::-1]
    if not names:
        st.info("No run yet: run a scenario on the Run page.")
        return None
    return st.selectbox("Run", names, key=key)


def not_reached(summary: dict, share: int) -> str:
    """Why a TXX time is missing, in plain words (for example "93 % were warned; T95 needs 95 %")."""
    ev, al = summary["evacuation"], summary["alerts"]
    ordered = ev["ordered"] or 0
    if not ordered:
        return "nobody was ordered to leave"
    warned = al.get("reach_fraction") or 0.0
    sheltered = (ev.get("sheltered") or 0) / ordered
    if warned * 100 < share:
        return f"{percent(warned)} were warned; T{share} needs {share} %"
    return f"{percent(sheltered)} reached a shelter by the end; T{share} needs {share} %"


def stayed_home(summary: dict) -> tuple[int, int, int]:
    """People ordered out who never left: (all, of them not warned, of them warned who chose to stay)."""
    ev = summary["evacuation"]
    ordered = ev["ordered"] or 0
    home = int(ev.get("not_departed") or 0)
    not_warned = min(home, round(ordered * (1 - (summary["alerts"].get("reach_fraction") or 0.0))))
    return home, not_warned, home - not_warned


def _time_card(col, summary: dict, share: int, key: str) -> None:
    value = summary["evacuation"].get(f"t{share}_s")
    lab = KPIS[key]
    if value is None:
        col.metric(lab.text, "not reached", help=f"T{share}: {not_reached(summary, share)}")
    else:
        col.metric(
            lab.text, clock(value), help=f"T{share}: time (h:mm) until {share} % of those ordered out were in a shelter"
        )


def kpi_cards(result: api.RunResult) -> None:
    """The headline figures of a run, with units; the technical term is in the tooltip."""
    s = result.summary
    ev, al = s["evacuation"], s["alerts"]
    cols = st.columns(4) + st.columns(4)  # two rows, so that values are never cut
    cols[0].metric(
        KPIS["ordered"].text, f"{people(ev['ordered'])} people", help="citizens covered by an evacuation order"
    )
    _time_card(cols[1], s, 50, "t50")
    _time_card(cols[2], s, 90, "t90")
    _time_card(cols[3], s, 95, "t95")
    reach = al["reach_fraction"]
    cols[4].metric(
        KPIS["warned"].text,
        percent(reach),
        help="share of those ordered out who received the order",
    )
    home, not_warned, chose = stayed_home(s)
    cols[5].metric(
        KPIS["stayed_home"].text,
        f"{people(home)} people",
        help=f"ordered out but never left: {not_warned:,} not warned, {chose:,} warned but chose to stay",
    )
    cols[6].metric(
        KPIS["stranded"].text, f"{people(ev.get('stranded', 0))} people", help="no usable route to a shelter with room"
    )
    by_cause = ", ".join(f"{k}: {v:,}" for k, v in ev.get("casualties_by_cause", {}).items()) or "none"
    cols[7].metric(
        KPIS["casualties"].text,
        f"{people(ev.get('casualties', 0))} people",
        help=f"killed or caught by the hazards ({by_cause})",
    )
    missing = [share for share in (50, 90, 95) if ev.get(f"t{share}_s") is None]
    if missing:
        st.caption("Not reached: " + "; ".join(f"T{m}: {not_reached(s, m)}" for m in missing) + ".")
    if home:
        st.caption(f"Stayed home: {not_warned:,} were never warned, {chose:,} were warned but chose to stay.")
