"""Scenario page: pick a sample or upload one, change the main choices, bring your own city."""

from __future__ import annotations

import streamlit as st

from sim import api
from ui import state

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
            scenario = api.scenario_from_text(text, base_dir=state.upload_folder())
            api.check_files_within(scenario, [state.upload_folder()])
            api.check_ui_limits(scenario)
        except api.InputError as exc:
            state.show_problems(exc)
            return
        state.set_current(upload.name.rsplit(".", 1)[0], scenario)
        st.success(f"Using {upload.name}")


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


def _form(data: dict) -> dict | None:
    limits = api.UI_LIMITS
    with st.form(f"{KEY}.form"):
        st.subheader("People")
        pop = data["population"]
        count = pop.get("count") or 0
        c1, c2, c3 = st.columns(3)
        new_count = c1.number_input(
            "People in the city (0: the city's own number)",
            min_value=0,
            max_value=int(limits["population"]),
            value=min(int(count), int(limits["population"])),
            step=1000,
            help="population.count: scales the city's population",
        )
        car = c2.slider(
            "Share who drive (%)", 0, 100, round(pop["mode_share"]["car"] * 100), help="population.mode_share"
        )
        comply = c3.slider(
            "Share who obey an order (%)", 0, 100, round(pop["compliance"] * 100), help="population.compliance"
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
        st.subheader("Networks")
        net = data["network"]
        c1, c2 = st.columns(2)
        net["design"] = c1.radio(
            "Safety network",
            ["separate", "shared"],
            index=0 if net["design"] == "separate" else 1,
            help="network.design: a separate safety subnetwork, or one network shared with the smart city",
        )
        net["redundancy"] = c2.select_slider(
            "Redundant paths",
            options=[1, 2, 3],
            value=net["redundancy"],
            help="network.redundancy: 1 fibre; 2 + radio mesh; 3 + satellite",
        )
        st.subheader("Defenses")
        d = data["defenses"]
        c1, c2, c3 = st.columns(3)
        d["segmentation"] = c1.checkbox("Segmented networks", d["segmentation"], help="defenses.segmentation")
        d["device_identity"] = c1.checkbox("Validated device identity", d["device_identity"])
        d["credentials"] = "unique" if c2.checkbox("Unique passwords", d["credentials"] == "unique") else "default"
        d["encrypt_transit"] = c2.checkbox("Encrypted links", d["encrypt_transit"], help="defenses.encrypt_transit")
        d["encrypt_storage"] = c3.checkbox("Encrypted data stores", d["encrypt_storage"])
        d["monitoring"]["enabled"] = c3.checkbox("Intrusion detection", d["monitoring"]["enabled"])
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
    pop["count"] = int(new_count) or None
    pop["mode_share"] = {"walk": 1 - car / 100.0, "car": car / 100.0}
    pop["compliance"] = comply / 100.0
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
