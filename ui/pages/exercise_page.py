"""Exercise page: a controller runs a training exercise; players join with a role and act on the city.

The exercise lives in its folder's ``exercise.sqlite``; one runner process advances the city and
writes snapshots, and every browser reads them (refreshed every second). A player sees only
what their post would see: their inbox and the command centre's picture, never the truth.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st

from sim import api
from ui import maps, state
from ui.labels import SERVICE_LABELS, STATE_LABELS

KEY = "exercise_page"
WHO = f"{KEY}.who"
PLAYER_ACTIONS = ("issue_order", "open_shelter", "close_shelter", "close_road", "reopen_road", "isolate_device", "note")
"""What players can do from this page (hazards and attacks are the controller's injects)."""


def exercises_root() -> Path:
    """Where live exercises live (``SAFECITY_EXERCISES_DIR``, default ``exercises/``)."""
    return Path(os.environ.get("SAFECITY_EXERCISES_DIR", "exercises"))


def clock(t_s: float) -> str:
    """Exercise time as h:mm."""
    m = int(t_s // 60)
    return f"{m // 60}:{m % 60:02d}"


@st.cache_data(show_spinner=False, max_entries=16)
def _setup(folder: str) -> dict[str, Any]:
    out = api.exercise_setup(folder)
    out.pop("scenario")
    return out


# ---------------------------------------------------------------------------------------- joining


def _start() -> None:
    files = api.exercise_files()
    if not files:
        st.info("No exercise file in training/.")
        return
    name = st.selectbox("Exercise", list(files), key=f"{KEY}.file")
    roles = _roles_of_file(str(files[name]))
    speed = st.number_input(
        "Speed (simulated seconds per second)", min_value=1.0, max_value=3600.0, value=30.0, key=f"{KEY}.speed0"
    )
    st.caption("A passphrase for every role (at least 8 characters). Players join with theirs.")
    phrases = {r: st.text_input(f"Passphrase of {r}", type="password", key=f"{KEY}.pw.{r}") for r in roles}
    if st.button("Start the exercise", type="primary", key=f"{KEY}.start"):
        try:
            folder = api.start_exercise(files[name], root=exercises_root(), speed=float(speed), passphrases=phrases)
        except api.InputError as exc:
            state.show_problems(exc)
            return
        st.session_state[WHO] = {"folder": str(folder), "role": "controller"}
        st.rerun()


@st.cache_data(show_spinner=False, max_entries=16)
def _roles_of_file(path: str) -> list[str]:
    text = Path(path).read_text(encoding="utf-8")
    data = api.parse_yaml(text, source="exercise") or {}
    return [str(r) for r in data.get("roles", [])]


def _join() -> None:
    folders = api.live_exercises(exercises_root())
    if not folders:
        st.info("No exercise is running. The controller starts one on the other tab.")
        return
    names = [f.name for f in folders]
    name = st.selectbox("Exercise", names, key=f"{KEY}.join")
    folder = folders[names.index(name)]
    role = st.selectbox("Your role", _setup(str(folder))["roles"], key=f"{KEY}.role")
    phrase = st.text_input("Passphrase", type="password", key=f"{KEY}.phrase")
    if st.button("Join", type="primary", key=f"{KEY}.join_btn"):
        if api.exercise_login(folder, role, phrase):
            st.session_state[WHO] = {"folder": str(folder), "role": role}
            st.rerun()
        else:
            st.error("Wrong role or passphrase.")


# ---------------------------------------------------------------------------------------- the views


def _command_picture(command: dict[str, Any]) -> None:
    """The command centre's picture (never the truth)."""
    st.markdown("**Shelters as reported to the command centre**")
    rows = [
        {
            "shelter": v.get("name", k),
            "reported": v.get("reported", 0),
            "places": v.get("capacity", 0),
            "report time": clock(v["reported_at_s"]) if v.get("reported_at_s") is not None else "none yet",
        }
        for k, v in (command.get("shelters") or {}).items()
    ]
    if rows:
        st.dataframe(pd.DataFrame(rows).sort_values("reported", ascending=False), hide_index=True, height=200)
    sensors = command.get("sensors") or {}
    services = command.get("services") or {}
    c1, c2 = st.columns(2)
    with c1:
        st.markdown("**Sensor readings as received**")
        st.dataframe(pd.DataFrame({"sensor": list(sensors), "last reading": list(sensors.values())}), hide_index=True)
    with c2:
        st.markdown("**Services as monitored**")
        st.dataframe(
            pd.DataFrame(
                {
                    "service": [SERVICE_LABELS.get(k, k) for k in services],
                    "working": ["yes" if v else "NO" for v in services.values()],
                }
            ),
            hide_index=True,
            height=200,
        )
    loc = command.get("location") or {}
    districts = loc.get("districts") or {}
    if districts:
        st.markdown("**Where people are, as located** (towers, app check-ins, cameras, registrations)")
        table = pd.DataFrame(districts).T.fillna(0.0).round(0).rename(columns=PICTURE_LABELS)
        st.dataframe(table, height=200)
        st.text(f"Unaccounted for (ordered out, not seen for 30 min): {len(loc.get('unaccounted', [])):,}")
    st.text(
        f"Orders sent: {len(command.get('orders') or [])} · people warned (reported): "
        f"{command.get('warned_reported', 0):,} · registered: {command.get('registered', 0):,}"
    )


PICTURE_LABELS = {
    "at_home": STATE_LABELS["at_home"],
    "on_the_move": STATE_LABELS["evacuating"],
    "sheltered": STATE_LABELS["sheltered"],
    "unknown": "Located, state unknown",
}


def _inbox(inbox: list[dict[str, Any]]) -> None:
    st.markdown(f"**Inbox** ({len(inbox)})")
    if not inbox:
        st.text("No message yet.")
    for m in inbox[:20]:
        with st.container(border=True):
            st.text(f"{clock(m['t_s'])} · {m['id']} · from {m['from']} ({m['method']})")
            st.text(m["message"])


def _actions_table(entries: list[dict[str, Any]]) -> None:
    rows = [
        {
            "time": clock(e["sim_t"]),
            "role": e["role"],
            "action": api.action_title(e["action"]),
            "details": api.action_details(e["args"]) or "-",
            "result": "applied"
            if e["outcome"].get("applied", True)
            else "refused: " + "; ".join(e["outcome"].get("problem", [])),
        }
        for e in entries
        if e["kind"] == "action"
    ]
    if rows:
        st.table(pd.DataFrame(rows[::-1][:30]).set_index("time"))  # a plain table: readable, and findable by tests
    else:
        st.text("No action yet.")


@st.cache_data(show_spinner=False, max_entries=4)
def _layers(folder: str) -> dict:
    return api.city_layers(api.exercise_setup(folder)["scenario"])


@st.fragment(run_every=10.0)
def _truth_map(folder: str) -> None:
    """The controller's map: the city and every shelter by its true count (refreshed every 10 s)."""
    shelters = (api.exercise_view(folder, "controller").get("truth") or {}).get("shelters") or {}
    if not shelters:
        return
    table = pd.DataFrame(
        [
            {"id": k, "name": v["name"], "capacity": v["capacity"], "lon": v["lon"], "lat": v["lat"]}
            for k, v in shelters.items()
        ]
    )
    layers = _layers(folder)
    occupancy = [v["present"] for v in shelters.values()]
    deck = maps.deck_of(
        maps.base_layers(layers), maps.time_layers(maps.shelter_frame(table, occupancy)), maps.view_of(layers)
    )
    st.markdown("**The city now (truth): shelters by how full they are**")
    st.pydeck_chart(deck, height=420, key=f"{KEY}.map")


@st.fragment(run_every=1.0)
def _live(folder: str, role: str) -> None:
    view = api.exercise_view(folder, role)
    state_text = "paused" if view["paused"] else view["state"]
    st.markdown(f"### Exercise time {clock(view['sim_t'])} of {clock(view['duration_s'])}")
    st.text(f"{view['name']} · you are {role} · {state_text} · speed {view['speed']:g}x")
    if view["state"] == "done":
        st.success("The exercise has ended. The after-action report is in the exercise folder.")
    if role == "controller":
        truth = view.get("truth") or {}
        people = truth.get("people") or {}
        shown = [k for k in ("at_home", "evacuating", "sheltered", "stranded", "casualties") if k in STATE_LABELS]
        for col, key in zip(st.columns(len(shown)), shown, strict=True):
            col.metric(f"{STATE_LABELS[key]} (truth)", f"{people.get(key, 0):,}")
        st.markdown("**Shelters (true counts)**")
        sh = truth.get("shelters") or {}
        if sh:
            st.dataframe(
                pd.DataFrame(
                    [
                        {
                            "shelter": k,
                            "name": v["name"],
                            "present": v["present"],
                            "places": v["capacity"],
                            "open": v["open"],
                        }
                        for k, v in sh.items()
                    ]
                ).sort_values("present", ascending=False),
                hide_index=True,
                height=220,
            )
        st.markdown("**MSEL**")
        st.dataframe(
            pd.DataFrame(
                [
                    {
                        "inject": m["id"],
                        "at": clock(float(m["at"])),
                        "to": m["to"],
                        "message": m["message"],
                        "expected": api.action_title(m.get("expected_action")),
                        "status": f"delivered {clock(m['delivered_s'])}" if m["delivered_s"] is not None else "pending",
                    }
                    for m in view.get("msel", [])
                ]
            ),
            hide_index=True,
        )
        st.markdown("**Players' actions**")
        _actions_table(view["log"])
        with st.expander("The command centre's picture (what players see)"):
            _command_picture(view["command"])
    else:
        left, right = st.columns([1, 2])
        with left:
            _inbox(view["inbox"])
        with right:
            _command_picture(view["command"])
        st.markdown("**Your actions**")
        _actions_table(view["log"])


def _player_forms(folder: str, role: str) -> None:
    setup = _setup(folder)
    st.subheader("Act")
    action = st.selectbox("Action", list(PLAYER_ACTIONS), format_func=api.action_title, key=f"{KEY}.action")
    args: dict[str, Any] = {}
    with st.form(f"{KEY}.form.{action}", clear_on_submit=False):
        if action == "issue_order":
            zone = st.multiselect("Districts (none: the whole city)", setup["districts"], key=f"{KEY}.zone")
            chans = st.multiselect("Channels (none: every channel)", setup["channels"], key=f"{KEY}.chans")
            args = {"zone": zone or "all", **({"channels": chans} if chans else {})}
        elif action == "open_shelter":
            args = {"id": st.text_input("Shelter id", key=f"{KEY}.sid")}
            c1, c2, c3 = st.columns(3)
            lon = c1.number_input("Longitude", value=0.0, format="%.5f", key=f"{KEY}.lon")
            lat = c2.number_input("Latitude", value=0.0, format="%.5f", key=f"{KEY}.lat")
            cap = c3.number_input("Places", min_value=0, value=0, step=50, key=f"{KEY}.cap")
            if lon or lat:
                args["location"] = [lon, lat]
            if cap:
                args["capacity"] = int(cap)
        elif action == "close_shelter":
            args = {"id": st.text_input("Shelter id", key=f"{KEY}.csid")}
        elif action in ("close_road", "reopen_road"):
            names = st.text_input("Street names (comma-separated)", key=f"{KEY}.roads")
            args = {"names": [n.strip() for n in names.split(",") if n.strip()]}
        elif action == "isolate_device":
            args = {"id": st.text_input("Device id", key=f"{KEY}.dev")}
        else:
            args = {"text": st.text_area("Note", key=f"{KEY}.note")}
        if st.form_submit_button("Send", type="primary"):
            try:
                api.exercise_act(folder, role, action, args)
            except api.InputError as exc:
                state.show_problems(exc)
                return
            st.success("Sent: it takes effect at the current exercise time.")


def _controller_forms(folder: str) -> None:
    setup = _setup(folder)
    st.subheader("Control")
    c1, c2, c3 = st.columns(3)
    if c1.button("Pause", key=f"{KEY}.pause"):
        api.exercise_control(folder, paused=True)
    if c2.button("Resume", key=f"{KEY}.resume"):
        api.exercise_control(folder, paused=False)
    current = float(api.exercise_view(folder, "controller")["speed"] or 30.0)
    speed = c3.number_input("Speed", min_value=1.0, max_value=3600.0, value=current, key=f"{KEY}.speed")
    if c3.button("Set speed", key=f"{KEY}.setspeed"):
        api.exercise_control(folder, speed=float(speed))
    with st.form(f"{KEY}.inject"):
        st.markdown("**Deliver an unscheduled inject**")
        to = st.selectbox("To", [r for r in setup["roles"] if r != "controller"], key=f"{KEY}.to")
        message = st.text_area("Message", key=f"{KEY}.msg")
        effect_text = st.text_area("Effect (optional, YAML, e.g. {close_road: {names: [X]}})", key=f"{KEY}.eff")
        if st.form_submit_button("Deliver now"):
            try:
                effect = api.parse_yaml(effect_text, source="effect") if effect_text.strip() else None
                if effect is not None and not isinstance(effect, dict):
                    raise api.InputError.single("effect", "a mapping {action: {arguments}}")
                api.exercise_inject(folder, to=to, message=message, effect=effect)
            except api.InputError as exc:
                state.show_problems(exc)
            else:
                st.success("Delivered at the current exercise time.")
    with st.expander("After-action report: strengths and areas for improvement"):
        st.caption("Drafted from the measures when the report is written; what you write here replaces the drafts.")
        strengths = st.text_area("Strengths (one per line)", key=f"{KEY}.strengths")
        improvements = st.text_area("Areas for improvement (one per line)", key=f"{KEY}.improvements")
        if st.button("Save", key=f"{KEY}.save_notes"):
            api.exercise_notes(folder, strengths=strengths, improvements=improvements)
            st.success("Saved.")
    if st.button("End the exercise and write the report", key=f"{KEY}.finish"):
        api.exercise_control(folder, finish=True)
        st.info("The rest of the exercise runs at once; the report follows in a few seconds.")


def render() -> None:
    """Draw the page."""
    st.title("Exercise")
    who = st.session_state.get(WHO)
    if who is None:
        tab_join, tab_start = st.tabs(["Join as a player", "Start (controller)"])
        with tab_join:
            _join()
        with tab_start:
            _start()
        return
    folder, role = who["folder"], who["role"]
    if st.button("Leave", key=f"{KEY}.leave"):
        st.session_state.pop(WHO, None)
        st.rerun()
    _live(folder, role)
    if role == "controller":
        _truth_map(folder)
        _controller_forms(folder)
    else:
        _player_forms(folder, role)
