"""Report page: download a run's report as HTML or PDF."""

from __future__ import annotations

import streamlit as st

from ui import report, state
from ui.components import pick_run


def render() -> None:
    """Draw the page."""
    st.title("Report")
    name = pick_run("report.run")
    if name is None:
        return
    result = state.runs()[name]
    st.table(
        {
            "Figure": [k for k, _ in report.kpi_rows(result.summary)],
            "Value": [v for _, v in report.kpi_rows(result.summary)],
        }
    )
    c1, c2 = st.columns(2)
    c1.download_button(
        "Download report (HTML)",
        report.report_html(name, result),
        file_name=f"{result.summary['scenario']}.html",
        mime="text/html",
    )
    c2.download_button(
        "Download report (PDF)",
        report.report_pdf(name, result),
        file_name=f"{result.summary['scenario']}.pdf",
        mime="application/pdf",
    )
