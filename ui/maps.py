"""Map builders: pydeck decks drawn from the city's own layers, with no basemap (works offline).

pydeck reads every plain string argument as a data accessor (``"pixels"`` goes to the browser
as ``"@@=pixels"``, an expression that is undefined for every row), so unit names and other
literal strings are wrapped in ``pdk.types.String``. Layers keep fixed ids, so deck.gl updates
a layer in place when the time changes instead of rebuilding the map.
"""

from __future__ import annotations

import json
import urllib.parse
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pydeck as pdk

PIXELS = pdk.types.String("pixels")
BACKGROUND = [232, 238, 242]
BLANK_STYLE = "data:application/json," + urllib.parse.quote(
    json.dumps(
        {
            "version": 8,
            "sources": {},
            "layers": [{"id": "bg", "type": "background", "paint": {"background-color": "#e8eef2"}}],
        }
    )
)

# Okabe-Ito colours, readable by colour-blind planners.
ROAD_COLOUR = [90, 90, 90]
WATER_COLOUR = [86, 180, 233, 160]
BUILDING_COLOUR = [180, 180, 180, 170]
HAZARD_COLOURS = {"flood": [0, 114, 178], "tsunami": [0, 114, 178], "earthquake": [230, 159, 0]}
ASSET_COLOURS = {
    "up": [0, 114, 178, 230],
    "on battery": [86, 180, 233, 230],
    "down": [213, 94, 0, 230],
    "compromised": [204, 121, 167, 230],
}
STATE_COLOURS = {
    "at_home": [153, 153, 153],
    "evacuating": [230, 159, 0],
    "sheltered": [0, 158, 115],
    "casualties": [213, 94, 0],
    "stranded": [204, 121, 167],
    "trapped": [86, 180, 233],
}
PICTURE_COLOUR = [0, 114, 178]  # districts shaded by the people the command centre places there
SHELTER_COLOURS = {"room": [0, 158, 115, 220], "filling": [230, 159, 0, 230], "full": [213, 94, 0, 240]}
FLOWING_COLOUR = [240, 228, 66, 230]  # people entering, no queue
QUEUE_COLOURS = (
    [213, 94, 0],
    [160, 60, 0],
    [110, 30, 0],
)  # a short queue ... the longest of the run (not the orange of people)


def road_label(road_id: object, name: object, highway: object) -> str:
    """A road as a planner names it: its street name, else its id and class."""
    if isinstance(name, str) and name.strip():
        return name
    kind = f" ({highway})" if isinstance(highway, str) and highway else ""
    return f"road {road_id}{kind}"


def road_paths(roads) -> dict[str, tuple[list, str]]:
    """Road id -> (its path in lon/lat, rounded; its label), for the congestion layer."""
    out: dict[str, tuple[list, str]] = {}
    names = roads["name"] if "name" in roads else pd.Series(None, index=roads.index)
    kinds = roads["highway"] if "highway" in roads else pd.Series(None, index=roads.index)
    for rid, geom, name, kind in zip(roads["road_id"].astype(str), roads.geometry, names, kinds, strict=True):
        if geom is None:
            continue
        parts = list(geom.geoms) if geom.geom_type == "MultiLineString" else [geom]
        out[rid] = (_round([c for part in parts for c in part.coords]), road_label(rid, name, kind))
    return out


def congestion_frame(
    paths: dict[str, tuple[list, str]], flows: pd.DataFrame | None, worst: float
) -> pd.DataFrame | None:
    """Roads with traffic in one time bin, coloured and widened by their queue.

    ``flows`` holds the bin's rows of ``road_flows`` (``road_id``, ``entered``, ``queue``,
    ``mean_delay_s``); ``worst`` is the run's longest queue, the top of the colour scale.
    """
    if flows is None or len(flows) == 0:
        return None
    rows = []
    for rid, entered, queue, delay in zip(
        flows["road_id"].astype(str), flows["entered"], flows["queue"], flows["mean_delay_s"], strict=True
    ):
        if rid not in paths:
            continue
        if queue > 0:
            x = min(float(queue) / max(worst, 1.0), 1.0)
            lo, hi = (QUEUE_COLOURS[0], QUEUE_COLOURS[1]) if x < 0.5 else (QUEUE_COLOURS[1], QUEUE_COLOURS[2])
            k = x * 2 if x < 0.5 else (x - 0.5) * 2
            colour = [round(a + (b - a) * k) for a, b in zip(lo, hi, strict=True)] + [240]
            width = 5 + 6 * x
        else:
            colour, width = FLOWING_COLOUR, 4
        wait = "" if pd.isna(delay) else f", mean wait {delay / 60:.1f} min"
        path, label = paths[rid]
        rows.append(
            {
                "path": path,
                "color": colour,
                "width": width,
                "name": label,
                "tip": f"{int(queue)} waiting, {int(entered)} entered in the interval{wait}",
            }
        )
    return pd.DataFrame(rows) if rows else None


def _round(coords) -> list[list[float]]:
    """Coordinates to 1e-5 degrees (about a metre): a third of the bytes sent to the browser."""
    return [[round(float(c[0]), 5), round(float(c[1]), 5)] for c in coords]


def _paths(roads) -> pd.DataFrame:
    rows = []
    for geom, hw in zip(roads.geometry, roads["highway"], strict=True):
        parts = list(geom.geoms) if geom.geom_type == "MultiLineString" else [geom]
        for part in parts:
            rows.append({"path": _round(part.coords), "width": 3 if hw in ("primary", "secondary", "trunk") else 2})
    return pd.DataFrame(rows or {"path": [], "width": []})


def _polygons(gdf) -> pd.DataFrame:
    rows = []
    for geom in gdf.geometry:
        if geom is None:
            continue
        parts = list(geom.geoms) if geom.geom_type == "MultiPolygon" else [geom]
        for part in parts:
            if part.geom_type == "Polygon":
                rows.append({"polygon": _round(part.exterior.coords)})
    return pd.DataFrame(rows or {"polygon": []})


def hazard_polygons(footprint: pd.DataFrame | None, t_s: float | None = None) -> pd.DataFrame:
    """The latest footprint of every hazard at ``t_s`` (default: the end) as deck polygons."""
    if footprint is None or len(footprint) == 0:
        return pd.DataFrame({"polygon": [], "fill": [], "label": []})
    fp = footprint if t_s is None else footprint[footprint["t_s"] <= t_s]
    rows = []
    for _hazard, part in fp.groupby("hazard", sort=True):
        latest = part[part["t_s"] == part["t_s"].max()]
        for r in latest.itertuples():
            geom = r.geometry
            if geom is None or geom.is_empty:
                continue
            base = HAZARD_COLOURS.get(r.type, [120, 120, 120])
            alpha = 60 if r.value < 0.1 else 110
            polys = list(geom.geoms) if hasattr(geom, "geoms") else [geom]
            for poly in polys:
                if poly.geom_type == "Polygon":
                    rows.append({"polygon": _round(poly.exterior.coords), "fill": [*base, alpha], "label": r.band})
    return pd.DataFrame(rows or {"polygon": [], "fill": [], "label": []})


def district_picture(districts, picture: pd.DataFrame | None) -> pd.DataFrame:
    """District polygons shaded by the people the command centre places there, outside shelters.

    ``picture`` is one recorded time of ``located.parquet``; the shade is the estimate of people
    at home, on the move or of unknown state (sheltered people are on the shelter markers).
    """
    rows = []
    est = pd.Series(dtype=float)
    if picture is not None and len(picture):
        outside = picture[picture["state"] != "sheltered"]
        est = outside.groupby("district")["estimate"].sum()
    by_state = (
        picture.pivot_table(index="district", columns="state", values="estimate", aggfunc="sum").fillna(0.0)
        if picture is not None and len(picture)
        else pd.DataFrame()
    )
    top = max(float(est.max()) if len(est) else 0.0, 1.0)
    for name, geom in zip(districts["name"], districts.geometry, strict=True):
        if geom is None or geom.is_empty:
            continue
        n = float(est.get(name, 0.0))
        parts = by_state.loc[name] if name in by_state.index else pd.Series(dtype=float)
        text = ", ".join(f"{k.replace('_', ' ')} {v:,.0f}" for k, v in parts.items() if v > 0) or "nobody placed"
        polys = list(geom.geoms) if geom.geom_type == "MultiPolygon" else [geom]
        for poly in polys:
            rows.append(
                {
                    "polygon": _round(poly.exterior.coords),
                    "fill": [*PICTURE_COLOUR, int(25 + 150 * n / top)],
                    "name": f"district {name}, as the command centre sees it",
                    "tip": text,
                }
            )
    return pd.DataFrame(rows or {"polygon": [], "fill": [], "name": [], "tip": []})


def base_layers(layers: dict) -> list[pdk.Layer]:
    """Water, buildings and roads: drawn once per run, the same at every time."""
    out = []
    for name, colour in (("water", WATER_COLOUR), ("buildings", BUILDING_COLOUR)):
        if name in layers and len(layers[name]):
            out.append(
                pdk.Layer(
                    "PolygonLayer",
                    _polygons(layers[name]),
                    id=name,
                    get_polygon="polygon",
                    get_fill_color=colour,
                    stroked=False,
                )
            )
    out.append(
        pdk.Layer(
            "PathLayer",
            _paths(layers["roads"]),
            id="roads",
            get_path="path",
            get_width="width",
            width_units=PIXELS,
            width_min_pixels=1,
            get_color=ROAD_COLOUR,
        )
    )
    return out


def shelter_frame(shelters: pd.DataFrame, occupancy: pd.Series | np.ndarray) -> pd.DataFrame:
    """Shelters with their occupancy at one time: fill by how full, radius by capacity (pixels)."""
    sh = shelters[["id", "name", "capacity", "lon", "lat"]].copy()
    sh["occupancy"] = np.asarray(occupancy, dtype=np.int64)
    share = sh["occupancy"] / sh["capacity"].clip(lower=1)
    sh["fill"] = [
        SHELTER_COLOURS["room"] if s < 0.8 else SHELTER_COLOURS["filling"] if s < 1 else SHELTER_COLOURS["full"]
        for s in share
    ]
    cap = sh["capacity"].astype(float)
    sh["radius"] = 5 + np.sqrt(cap / max(float(cap.max()), 1.0)) * 11
    sh["name"] = sh["name"].astype(str)
    sh["tip"] = [f"{o:,} of {c:,} places" for o, c in zip(sh["occupancy"], sh["capacity"], strict=True)]
    return sh


def time_layers(
    shelters: pd.DataFrame,
    tracks: pd.DataFrame | None = None,
    *,
    hazard: pd.DataFrame | None = None,
    assets: pd.DataFrame | None = None,
    picture: pd.DataFrame | None = None,
    congestion: pd.DataFrame | None = None,
) -> list[pdk.Layer]:
    """What changes with time: hazard, the command centre's picture, congestion, assets, evacuees, shelters."""
    out = []
    if picture is not None and len(picture):
        out.append(
            pdk.Layer(
                "PolygonLayer",
                picture,
                id="picture",
                get_polygon="polygon",
                get_fill_color="fill",
                get_line_color=[0, 60, 110],
                line_width_min_pixels=1,
                stroked=True,
                pickable=True,
            )
        )
    if hazard is not None and len(hazard):
        out.append(
            pdk.Layer("PolygonLayer", hazard, id="hazard", get_polygon="polygon", get_fill_color="fill", stroked=False)
        )
    if congestion is not None and len(congestion):
        out.append(
            pdk.Layer(
                "PathLayer",
                congestion,
                id="congestion",
                get_path="path",
                get_color="color",
                get_width="width",
                width_units=PIXELS,
                cap_rounded=True,
                pickable=True,
            )
        )
    if assets is not None and len(assets):
        a = assets[["id", "kind", "state", "lon", "lat"]].copy()
        a["fill"] = [ASSET_COLOURS.get(s, [120, 120, 120, 200]) for s in a["state"]]
        a["name"] = a["id"] + " (" + a["kind"] + ")"
        a["tip"] = a["state"]
        out.append(
            pdk.Layer(
                "ScatterplotLayer",
                a,
                id="assets",
                get_position=["lon", "lat"],
                get_fill_color="fill",
                get_radius=4,
                radius_units=PIXELS,
                pickable=True,
            )
        )
    if tracks is not None and len(tracks):
        t = pd.DataFrame(
            {
                "lon": tracks["lon"].round(5),
                "lat": tracks["lat"].round(5),
                "color": [STATE_COLOURS.get(s, [0, 0, 0]) for s in tracks["state"]],
            }
        )
        out.append(
            pdk.Layer(
                "ScatterplotLayer",
                t,
                id="evacuees",
                get_position=["lon", "lat"],
                get_fill_color="color",
                get_radius=3,
                radius_units=PIXELS,
            )
        )
    out.append(
        pdk.Layer(
            "ScatterplotLayer",
            shelters,
            id="shelters",
            get_position=["lon", "lat"],
            get_fill_color="fill",
            get_radius="radius",
            radius_units=PIXELS,
            pickable=True,
            stroked=True,
            get_line_color=[0, 0, 0],
            line_width_min_pixels=1,
        )
    )
    return out


def view_of(layers: dict, *, center: tuple[float, float] | None = None, zoom: float | None = None) -> pdk.ViewState:
    """A view that fits the city's roads (or centres on ``center``)."""
    x0, y0, x1, y1 = layers["roads"].total_bounds
    lon, lat = center if center is not None else ((x0 + x1) / 2, (y0 + y1) / 2)
    if zoom is None:
        span = max(x1 - x0, (y1 - y0) * 2, 1e-4)
        zoom = float(np.clip(np.log2(360 / span) + 0.2, 10, 17))
    return pdk.ViewState(longitude=float(lon), latitude=float(lat), zoom=zoom)


TOOLTIP = {"text": "{name}\n{tip}"}  # every pickable layer has ``name`` and ``tip`` columns


class CompactDeck(pdk.Deck):
    """A deck whose JSON has no indentation.

    pydeck indents its JSON by two spaces, which made every map message three times larger
    (1.7 MB instead of 0.5 MB for Kotka, sent again on every slider move and Play step).
    """

    def to_json(self) -> str:
        """The deck as compact JSON (same content as pydeck's, without whitespace)."""
        from pydeck.bindings.json_tools import default_serialize

        return json.dumps(self, sort_keys=True, default=default_serialize, separators=(",", ":"))


def deck_of(base: list[pdk.Layer], timed: list[pdk.Layer], view: pdk.ViewState) -> pdk.Deck:
    """One deck: the run's base layers under the layers of one time."""
    return CompactDeck(
        layers=[*base, *timed],
        initial_view_state=view,
        map_style=BLANK_STYLE,
        map_provider=None,
        tooltip=TOOLTIP,
    )


@dataclass
class Legend:
    """The map's legend: (colour, label) rows per group, all our own text."""

    groups: dict[str, list[tuple[list[int], str]]] = field(default_factory=dict)

    def html(self) -> str:
        """A small static HTML legend (no user text goes in here)."""
        parts = []
        for title, rows in self.groups.items():
            items = "".join(
                f'<span style="display:inline-block;margin-right:12px;white-space:nowrap">'
                f'<span style="display:inline-block;width:11px;height:11px;border-radius:6px;'
                f"background:rgba({c[0]},{c[1]},{c[2]},{(c[3] if len(c) > 3 else 255) / 255:.2f});"
                f'border:1px solid #333;margin-right:4px;vertical-align:middle"></span>{label}</span>'
                for c, label in rows
            )
            parts.append(f'<div style="font-size:0.85rem;margin:2px 0"><b>{title}</b>: {items}</div>')
        return "".join(parts)


LEGEND = Legend(
    {
        "Shelters (size: capacity)": [
            (SHELTER_COLOURS["room"], "under 80 % full"),
            (SHELTER_COLOURS["filling"], "80-99 %"),
            (SHELTER_COLOURS["full"], "full"),
        ],
        "People (a sample)": [
            (STATE_COLOURS["at_home"], "at home (shown at the district centre)"),
            (STATE_COLOURS["evacuating"], "on the move"),
            (STATE_COLOURS["sheltered"], "sheltered"),
            (STATE_COLOURS["casualties"], "casualty"),
            (STATE_COLOURS["stranded"], "stranded"),
            (STATE_COLOURS["trapped"], "trapped"),
        ],
        "Roads at this time": [
            (FLOWING_COLOUR, "people entering, no queue"),
            ([*QUEUE_COLOURS[0], 240], "a queue"),
            ([*QUEUE_COLOURS[2], 240], "the run's longest queue (wider)"),
        ],
        "Network assets": [(c, s) for s, c in ASSET_COLOURS.items()],
        "Command centre's view": [
            ([*PICTURE_COLOUR, 40], "few people placed in the district"),
            ([*PICTURE_COLOUR, 175], "many (outside shelters)"),
        ],
        "Hazard": [([*HAZARD_COLOURS["flood"], 110], "water"), ([*HAZARD_COLOURS["earthquake"], 110], "shaking")],
        "City": [(ROAD_COLOUR, "roads"), (BUILDING_COLOUR, "buildings"), (WATER_COLOUR, "water")],
    }
)
