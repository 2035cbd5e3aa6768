"""Scenario page: pick a sample or upload one, change the main choices, bring your own city."""

from __future__ import annotations

import streamlit as st

from sim import api
from ui import state
from ui.forms import schema_form

KEY = "scenario_page"


def _choose_source() -> None:
    samples = api.sample_scenarios()
    label, _ = state.current()
    source = st.radio("Start from", ["A sample scenario", "My own scenario file (YAML)"], horizontal=True)
    if source == "A sample scenario":
        names = list(samples)
        pick = st.selectbox("Sample", names, index=names.index(label) if label in names else 0, key=f"{KEY}.sample")
        if pick != label and st.button("Use this sample", key=f"{KEY}.use"):
            state.set_current(pick, api.load_scenario(samples[pick]))
            st.rerun()
        return
    upload = st.file_uploader("Scenario file", type=["yaml", "yml"], key=f"{KEY}.upload")
    if upload is not None and st.button("Check and use this file", key=f"{KEY}.use_upload"):
        try:
            text = upload.getvalue().decode("utf-8")
        except UnicodeDecodeError:
            st.error("upload.scenario: not a UTF-8 text file")
            return
        try:
            scenario = api.scenario_from_upload(text, folder=state.upload_folder())
            api.check_ui_limits(scenario)
        except api.InputError as exc:
            state.show_problems(exc)
            return
        state.set_current(upload.name.rsplit(".", 1)[0], scenario)
        st.success("Scenario file in use:")
        st.text(upload.name)  # user text: plain


def _own_city(data: dict) -> None:
    with st.expander("Use my own city (GeoJSON / GeoPackage layers or an OpenStreetMap extract)"):
        st.caption(
            f"Files are checked on the server (type, size up to {st.get_option('server.maxUploadSize')} MB, geometry, "
            "coordinate system) and kept for this session only."
        )
        osm = st.file_uploader("OpenStreetMap extract (.osm, .pbf)", key=f"{KEY}.osm")
        roads = st.file_uploader("Roads (lines)", type=["geojson", "json", "gpkg"], key=f"{KEY}.roads")
        shelters = st.file_uploader("Shelters (points with id, capacity)", type=["geojson", "json", "gpkg"])
        people = st.file_uploader("Population (points with count)", type=["geojson", "json", "gpkg"])
        if st.button("Check and use my city", key=f"{KEY}.city"):
            folder = state.upload_folder()
            cap = float(st.get_option("server.maxUploadSize"))  # the team's cap, checked again here
            try:
                if osm is not None:
                    data["city"] = {
                        "osm": str(api.save_upload("osm", osm.name, osm.getvalue(), folder=folder, max_mb=cap))
                    }
                elif roads is not None:
                    city = {
                        "roads": str(api.save_upload("roads", roads.name, roads.getvalue(), folder=folder, max_mb=cap))
                    }
                    if shelters is not None:
                        city["shelters"] = str(
                            api.save_upload("shelters", shelters.name, shelters.getvalue(), folder=folder, max_mb=cap)
                        )
                    if people is not None:
                        city["population"] = str(
                            api.save_upload("population", people.name, people.getvalue(), folder=folder, max_mb=cap)
                        )
                    data["city"] = city
                else:
                    st.error("upload: give an OpenStreetMap extract or a roads layer")
                    return
                scenario = api.scenario_from_dict(data)
                api.check_ui_limits(scenario)
                api.city_layers(scenario)  # builds the city: every layer problem shows here
            except api.InputError as exc:
                state.show_problems(exc)
                return
            state.set_current("my city", scenario)
            st.success("Your city is in use.")
            st.rerun()


def _shelter_table(data: dict):
    """The city's shelters with the scenario's overrides, for editing."""
    import pandas as pd

    scenario = api.scenario_from_dict(data)
    base = api.city_layers(scenario)["shelters"][["id", "name", "capacity"]].copy()
    base["open"] = True
    for s in data.get("shelters", []):
        hit = base["id"] == s["id"]
        if hit.any():
            if s.get("capacity") is not None:
                base.loc[hit, "capacity"] = s["capacity"]
            base.loc[hit, "open"] = s.get("open", True)
        else:
            extra = {"id": s["id"], "name": s.get("name") or s["id"], "capacity": s.get("capacity") or 0}
            base = pd.concat([base, pd.DataFrame([{**extra, "open": s.get("open", True)}])], ignore_index=True)
    return base.reset_index(drop=True)


def _shelter_overrides(data: dict, edited) -> list[dict]:
    """The scenario's ``shelters`` after the table was edited: overrides for what changed."""
    before = _shelter_table(data).set_index("id")
    out = {s["id"]: dict(s) for s in data.get("shelters", [])}
    for row in edited.itertuples():
        old = before.loc[row.id]
        if int(row.capacity) != int(old["capacity"]) or bool(row.open) != bool(old["open"]):
            item = out.get(row.id, {"id": row.id})
            item["capacity"] = int(row.capacity)
            item["open"] = bool(row.open)
            out[row.id] = item
    return list(out.values())


def _form(data: dict) -> dict | None:
    limits = api.UI_LIMITS
    with st.form(f"{KEY}.form"):
        st.subheader("People")
        pop = data["population"]
        count = pop.get("count") or 0
        new_count = st.number_input(
            "People in the city (0: the city's own number)",
            min_value=0,
            max_value=int(limits["population"]),
            value=min(int(count), int(limits["population"])),
            step=1000,
            help="population.count: scales the city's population",
        )
        minutes = st.slider(
            "Simulated time (min)",
            10,
            int(limits["duration_s"] / 60),
            min(int(data["duration"] / 60), int(limits["duration_s"] / 60)),
            help="duration",
        )
        st.subheader("Warning channels")
        channels = data["alerting"]["channels"]
        cols = st.columns(max(len(channels), 1))
        for col, ch in zip(cols, channels, strict=False):
            ch["coverage"] = (
                col.slider(
                    f"{ch['type'].replace('_', ' ')} reach (%)",
                    0,
                    100,
                    round(ch["coverage"] * 100),
                    help="alerting.channels[].coverage: share of people it reaches where it works",
                )
                / 100.0
            )
        with st.expander("All population settings"):
            schema_form("population", data, key=f"{KEY}.form.pop")
        with st.expander("Networks: design, redundancy, outages"):
            schema_form("network", data, key=f"{KEY}.form.net")
        with st.expander("Defenses"):
            schema_form("defenses", data, key=f"{KEY}.form.def")
        with st.expander("Shelter operations"):
            schema_form("shelter_operations", data, key=f"{KEY}.form.ops")
        st.subheader("Shelters")
        shelters = st.data_editor(
            _shelter_table(data),
            key=f"{KEY}.shelters",
            disabled=["id", "name"],
            hide_index=True,
            column_config={
                "capacity": st.column_config.NumberColumn("capacity (people)", min_value=0, step=10),
                "open": st.column_config.CheckboxColumn("open at the start"),
            },
        )
        st.subheader("Hazards and attacks")
        keep_h = [
            st.checkbox(f"Hazard: {h['type']} ({h.get('id') or i}) at {h['at'] / 60:.0f} min", True, key=f"{KEY}.h{i}")
            for i, h in enumerate(data["hazards"])
        ]
        keep_a = [
            st.checkbox(f"Attack: {a['type']} ({a.get('id') or i}) at {a['at'] / 60:.0f} min", True, key=f"{KEY}.a{i}")
            for i, a in enumerate(data["cyber"])
        ]
        if not st.form_submit_button("Apply changes", type="primary"):
            return None
    data["shelters"] = _shelter_overrides(data, shelters)
    pop["count"] = int(new_count) or None
    data["duration"] = minutes * 60.0
    data["hazards"] = [h for h, k in zip(data["hazards"], keep_h, strict=True) if k]
    data["cyber"] = [a for a, k in zip(data["cyber"], keep_a, strict=True) if k]
    return data


def render() -> None:
    """Draw the page."""
    st.title("Scenario")
    _choose_source()
    label, scenario = state.current()
    st.markdown("**In use:**")
    st.text(f"{label}: {scenario.description or scenario.name}")  # user text: never markdown or HTML
    data = api.resolved_dict(scenario)
    _own_city(api.resolved_dict(scenario))
    edited = _form(data)
    if edited is not None:
        try:
            new = api.scenario_from_dict(edited)
            api.check_ui_limits(new)
        except api.InputError as exc:
            state.show_problems(exc)
        else:
            state.set_current(label if label.endswith("(edited)") else f"{label} (edited)", new)
            st.success("Changes applied. Run it on the Run page.")
    label, scenario = state.current()
    st.download_button(
        "Download this scenario (YAML)",
        api.dump_yaml(scenario),
        file_name=f"{scenario.name}.yaml",
        mime="text/yaml",
    )
