"""Results page: KPI cards and charts of a run."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from ui import charts, state
from ui.components import kpi_cards, pick_run
from ui.labels import KPIS, SERVICE_LABELS, percent


def shelter_rows(table: pd.DataFrame) -> pd.DataFrame:
    """Shelters by name with their figures, thousands separated, busiest first."""
    t = table.sort_values(["peak_occupancy", "name"], ascending=[False, True])
    return pd.DataFrame(
        {
            "Shelter": t["name"].astype(str),
            "Places": [f"{v:,}" for v in t["capacity"]],
            "Most present": [f"{v:,}" for v in t["peak_occupancy"]],
            "Present at the end": [f"{v:,}" for v in t["final_occupancy"]],
            "Turned away": [f"{v:,}" for v in t["turned_away"]],
            "Status": t["status"].astype(str),
        }
    )


def service_rows(services: dict) -> pd.DataFrame:
    """Each city service in words: the share of the time it was up and the share it served."""
    rows = []
    for name, figures in services.items():
        rows.append(
            {
                "Service": SERVICE_LABELS.get(name, name),
                "Up (% of the time)": percent(figures.get("availability")),
                "Served (% of requests or people)": percent(figures.get("level", figures.get("availability"))),
            }
        )
    return pd.DataFrame(rows)


def catchment_rows(catchments: pd.DataFrame, shelters: pd.DataFrame) -> pd.DataFrame:
    """Each shelter by name with the districts its people came from, largest first."""
    names = dict(zip(shelters["id"].astype(str), shelters["name"].astype(str), strict=True))
    rows = []
    for sid, part in catchments.groupby("shelter", sort=False):
        part = part.sort_values(["people", "district"], ascending=[False, True])
        served = ", ".join(
            f"{d} {p:,} ({s:.0%})" for d, p, s in zip(part["district"], part["people"], part["share"], strict=True)
        )
        rows.append(
            {
                "Shelter": names.get(str(sid), str(sid)),
                "People": int(part["people"].sum()),
                "From the districts": served,
            }
        )
    out = pd.DataFrame(rows or {"Shelter": [], "People": [], "From the districts": []})
    out = out.sort_values(["People", "Shelter"], ascending=[False, True]).reset_index(drop=True)
    out["People"] = [f"{v:,}" for v in out["People"]]
    return out


def render() -> None:
    """Draw the page."""
    st.title("Results")
    name = pick_run("results.run")
    if name is None:
        return
    result = state.runs()[name]
    s = result.summary
    kpi_cards(result)
    cols = st.columns(4)
    services = s.get("services", {})
    alerting = services.get("alerting", {}).get("availability")
    cols[0].metric(
        KPIS["alerting"].text,
        percent(alerting),
        help="service availability: share of simulated time the alerting service was up",
    )
    cyber = s.get("cyber", {})
    cols[1].metric(
        KPIS["devices_compromised"].text,
        f"{cyber.get('devices_compromised_peak', 0):,}",
        help="devices_compromised_peak",
    )
    cols[2].metric(
        KPIS["records_exposed"].text,
        f"{cyber.get('records_exposed', 0):,}",
        help="records_exposed: person records readable by an attacker",
    )
    told = s.get("relatives_notified_fraction")
    cols[3].metric(
        KPIS["relatives"].text,
        percent(told),
        help="share of sheltered people whose relatives got a 'safe and well' message",
    )
    ts = result.timeseries
    st.subheader("Where people are over time")
    st.pyplot(charts.evacuation_curve(ts), clear_figure=True)
    caps = {k: v["capacity"] for k, v in s["shelters"].items()}
    table = result.tables["shelters"]
    names = dict(zip(table["id"], table["name"].astype(str), strict=True))
    st.subheader("Busiest shelters: true count (solid), what the command centre saw (dotted), capacity (dashed)")
    st.pyplot(charts.shelter_occupancy(ts, caps, observed=True, names=names), clear_figure=True)
    st.subheader("Shelters")
    st.dataframe(shelter_rows(table), hide_index=True, width="stretch")
    catchments = result.tables.get("catchments")
    if catchments is not None:
        st.subheader("Catchments: the districts each shelter served")
        st.caption("Where the people each shelter took lived (home districts; the Map page names the districts).")
        st.dataframe(catchment_rows(catchments, table), hide_index=True, width="stretch")
    if any(c.startswith("service:") for c in ts.columns):
        st.subheader("City services over time")
        st.pyplot(charts.service_timeline(ts), clear_figure=True)
    if services:
        st.subheader("City services: up, and what they served")
        st.caption(
            "A server under a denial of service can be up yet drop part of its requests: "
            "'Served' is the share of requests or people the service reached, averaged over the run."
        )
        st.dataframe(service_rows(services), hide_index=True, width="stretch")
        if services.get("alerting", {}).get("sirens_dark"):
            share = services["alerting"].get("sirens_dark_share")
            st.text(f"The sirens were silent for {percent(share)} of the time.")
    if s["alerts"].get("channels"):
        st.subheader("Who each warning channel reached")
        st.pyplot(charts.channel_reach(s["alerts"]["channels"]), clear_figure=True)
    if "devices_compromised" in ts and ts["devices_compromised"].max() > 0:
        st.subheader("Compromised devices over time")
        st.pyplot(charts.compromised_devices(ts), clear_figure=True)
