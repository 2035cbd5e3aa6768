"""Scenario page: pick a sample or upload one, change the main choices, bring your own city."""

from __future__ import annotations

import streamlit as st

from sim import api
from ui import state
from ui.forms import read_duration, schema_form
from ui.labels import clock, field
from ui.maps import BLANK_STYLE, base_layers, view_of

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
        state.notify("success", "Scenario file in use:", [upload.name])
        st.rerun()


def _own_city(data: dict) -> None:
    # A toggle, not an expander: whether the uploaders show is the server's own widget state, kept
    # through the reruns each upload makes. Two runs of the browser test lost the panel: an
    # expander once found closed after three uploads, and once (tracking its open state) showing
    # an uploader whose uploads never arrived, the browser and the server apparently at odds.
    if not st.toggle(
        "Use my own city (GeoJSON / GeoPackage layers or an OpenStreetMap extract)", key=f"{KEY}.own_city"
    ):
        return
    with st.container(border=True):
        st.caption(
            f"Files are checked on the server (type, size up to {st.get_option('server.maxUploadSize')} MB, geometry, "
            "coordinate system) and kept for this session only."
        )
        osm = st.file_uploader("OpenStreetMap extract (.osm, .pbf)", key=f"{KEY}.osm")
        roads = st.file_uploader("Roads (lines)", type=["geojson", "json", "gpkg", "zip"], key=f"{KEY}.roads")
        shelters = st.file_uploader(
            "Shelters (points with id, capacity)", type=["geojson", "json", "gpkg", "zip"], key=f"{KEY}.own_shelters"
        )
        people = st.file_uploader(
            "Population (points with count)", type=["geojson", "json", "gpkg", "zip"], key=f"{KEY}.own_people"
        )
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
                new_city = data.pop("city")
                data, notes = api.rebase_on_city(data, new_city)
                scenario = api.scenario_from_dict(data)
                api.check_ui_limits(scenario)
                summary = api.city_summary(scenario)  # builds the city: every layer problem shows here
            except api.InputError as exc:
                state.show_problems(api.public_problems(exc, folder))
                return
            state.set_current("my city", scenario)
            state.notify(
                "success",
                f"Your city is in use: {summary['residents']:,} residents, {summary['roads']:,} road segments, "
                f"{summary['shelters']:,} shelters.",
                notes,
            )
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


def _orders_table(data: dict):
    """The scenario's orders as an editable table: time (h:mm), zone, channels."""
    import pandas as pd

    rows = []
    for o in data["alerting"]["orders"]:
        zone = o.get("zone", "all")
        if zone == "all":
            shown = "everyone"
        elif isinstance(zone, str):
            shown = zone
        elif isinstance(zone, list):
            shown = ", ".join(zone)
        else:
            shown = AREA_ZONE
        channels = o.get("channels")
        rows.append({"time": clock(o["at"]), "zone": shown, "channels": "all" if not channels else ", ".join(channels)})
    # Text columns even when there are no orders (an empty column would be float and not editable as text).
    return pd.DataFrame(rows, columns=["time", "zone", "channels"], dtype=object)


AREA_ZONE = "(an area: edit it in the YAML file)"


def _read_orders(data: dict, table, problems: list) -> list[dict]:
    old = data["alerting"]["orders"]
    out = []
    for i, row in enumerate(table.itertuples(index=False)):
        at = read_duration(str(row.time or "0:00"), f"alerting.orders.{i}.at", problems)
        zone_text = str(row.zone or "everyone").strip()
        if zone_text == AREA_ZONE and i < len(old):
            zone = old[i].get("zone", "all")
        elif zone_text.lower() in ("everyone", "all", ""):
            zone = "all"
        else:
            names = [z.strip() for z in zone_text.split(",") if z.strip()]
            zone = names[0] if len(names) == 1 else names
        ch_text = str(row.channels or "all").strip()
        channels = None if ch_text.lower() in ("all", "") else [c.strip() for c in ch_text.split(",") if c.strip()]
        order = {"at": at if at is not None else 0.0, "zone": zone}
        if channels:
            order["channels"] = channels
        out.append(order)
    return out


def _district_map(scenario: api.Scenario) -> None:
    import pydeck as pdk

    layers = api.city_layers(scenario)
    d = layers["districts"]
    rows = [
        {
            "polygon": [list(c[:2]) for c in g.exterior.coords],
            "name": str(n),
            "lon": g.representative_point().x,
            "lat": g.representative_point().y,
        }
        for g, n in zip(d.geometry, d["name"], strict=True)
        if g is not None and g.geom_type == "Polygon"
    ]
    deck = pdk.Deck(
        layers=[
            *base_layers(layers)[-1:],
            pdk.Layer(
                "PolygonLayer",
                rows,
                id="districts",
                get_polygon="polygon",
                get_fill_color=[0, 114, 178, 25],
                get_line_color=[0, 114, 178],
                line_width_min_pixels=1,
            ),
            pdk.Layer(
                "TextLayer",
                rows,
                id="district-names",
                get_position=["lon", "lat"],
                get_text="name",
                get_size=16,
                get_color=[0, 60, 110],
            ),
        ],
        initial_view_state=view_of(layers),
        map_style=BLANK_STYLE,
        map_provider=None,
    )
    st.pydeck_chart(deck, height=320, key=f"{KEY}.districts")


def _form(data: dict, scenario: api.Scenario) -> dict | None:
    limits = api.UI_LIMITS
    problems: list[tuple[str, str]] = []
    city = api.city_summary(scenario)
    with st.form(f"{KEY}.form"):
        st.subheader("Run")
        c1, c2 = st.columns(2)
        seed = c1.number_input(
            field("seed").text, min_value=0, max_value=2**31, value=int(data["seed"]), step=1, key=f"{KEY}.seed"
        )
        steps = list(range(10 * 60, int(limits["duration_s"]) + 1, 10 * 60))
        current = min(steps, key=lambda v: abs(v - data["duration"]))
        duration = c2.select_slider(
            f"{field('duration').text} (h:mm)", options=steps, value=current, format_func=clock, help="duration"
        )
        st.subheader("People")
        st.text(
            f"This city has {city['residents']:,} residents (from {city['residents_from']}). "
            "Leave 0 to keep them, or give another total."
        )
        pop = data["population"]
        count = pop.get("count") or 0
        new_count = st.number_input(
            field("population.count").text,
            min_value=0,
            max_value=int(limits["population"]),
            value=min(int(count), int(limits["population"])),
            step=1000,
            help="population.count: scales the city's population to this total (0: the city's own)",
            key=f"{KEY}.count",
        )
        st.subheader("Evacuation orders")
        st.caption(
            "Time since the start (h:mm); zone: everyone, or district names separated by commas (see the "
            "district map below); channels: all, or channel types separated by commas."
        )
        orders = st.data_editor(
            _orders_table(data),
            key=f"{KEY}.orders",
            num_rows="dynamic",
            hide_index=True,
            column_config={
                "time": st.column_config.TextColumn("time (h:mm)", required=True),
                "zone": st.column_config.TextColumn("who is ordered out", required=True),
                "channels": st.column_config.TextColumn("by which channels"),
            },
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
            problems += schema_form("population", data, key=f"{KEY}.form.pop")
        with st.expander("Networks: design, redundancy, outages"):
            problems += schema_form("network", data, key=f"{KEY}.form.net")
        with st.expander("Defenses"):
            problems += schema_form("defenses", data, key=f"{KEY}.form.def")
        with st.expander("Shelter operations"):
            problems += schema_form("shelter_operations", data, key=f"{KEY}.form.ops")
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
            st.checkbox(f"Hazard: {h['type']} ({h.get('id') or i}) at {clock(h['at'])}", True, key=f"{KEY}.h{i}")
            for i, h in enumerate(data["hazards"])
        ]
        keep_a = [
            st.checkbox(f"Attack: {a['type']} ({a.get('id') or i}) at {clock(a['at'])}", True, key=f"{KEY}.a{i}")
            for i, a in enumerate(data["cyber"])
        ]
        if not data["hazards"] and not data["cyber"]:
            st.text("None in this scenario.")
        if not st.form_submit_button("Apply changes", type="primary"):
            return None
    data["alerting"]["orders"] = _read_orders(data, orders, problems)
    if problems:
        raise api.InputError(problems)
    data["seed"] = int(seed)
    data["shelters"] = _shelter_overrides(data, shelters)
    pop["count"] = int(new_count) or None
    data["duration"] = float(duration)
    data["hazards"] = [h for h, k in zip(data["hazards"], keep_h, strict=True) if k]
    data["cyber"] = [a for a, k in zip(data["cyber"], keep_a, strict=True) if k]
    return data


def render() -> None:
    """Draw the page."""
    st.title("Scenario")
    state.show_notice()
    _choose_source()
    label, scenario = state.current()
    st.markdown("**In use:**")
    st.text(f"{label}: {scenario.description or scenario.name}")  # user text: never markdown or HTML
    data = api.resolved_dict(scenario)
    _own_city(api.resolved_dict(scenario))
    with st.expander("District map (names for the orders' zones)"):
        _district_map(scenario)
    try:
        edited = _form(data, scenario)
        if edited is not None:
            new = api.scenario_from_dict(edited)
            api.check_ui_limits(new)
            state.set_current(label if label.endswith("(edited)") else f"{label} (edited)", new)
            state.notify("success", "Changes applied. Run it on the Run page.")
            st.rerun()
    except api.InputError as exc:
        state.show_problems(exc)
    label, scenario = state.current()
    st.download_button(
        "Download this scenario (YAML)",
        api.dump_yaml(scenario),
        file_name=f"{scenario.name}.yaml",
        mime="text/yaml",
    )
