"""Map builders: pydeck decks drawn from the city's own layers, with no basemap (works offline)."""

from __future__ import annotations

import json
import urllib.parse

import pandas as pd
import pydeck as pdk

BLANK_STYLE = "data:application/json," + urllib.parse.quote(
    json.dumps(
        {
            "version": 8,
            "sources": {},
            "layers": [{"id": "bg", "type": "background", "paint": {"background-color": "#e8eef2"}}],
        }
    )
)


def _paths(roads) -> pd.DataFrame:
    rows = []
    for geom, hw in zip(roads.geometry, roads["highway"], strict=True):
        coords = [list(c[:2]) for c in geom.coords]
        rows.append({"path": coords, "width": 4 if hw in ("primary", "secondary") else 2})
    return pd.DataFrame(rows)


def _polygons(gdf) -> pd.DataFrame:
    rows = []
    for geom in gdf.geometry:
        parts = list(geom.geoms) if geom.geom_type == "MultiPolygon" else [geom]
        for part in parts:
            if part.geom_type == "Polygon":
                rows.append({"polygon": [list(c[:2]) for c in part.exterior.coords]})
    return pd.DataFrame(rows)


# Hazard bands: light to dark blue for water depth, yellow to vermillion for shaking.
HAZARD_COLOURS = {"flood": [0, 114, 178], "tsunami": [0, 114, 178], "earthquake": [230, 159, 0]}
# Okabe-Ito: working blue, on battery sky blue, down vermillion, compromised reddish purple.
ASSET_COLOURS = {
    "up": [0, 114, 178, 230],
    "on battery": [86, 180, 233, 230],
    "down": [213, 94, 0, 230],
    "compromised": [204, 121, 167, 230],
}


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
                    rows.append(
                        {
                            "polygon": [list(c[:2]) for c in poly.exterior.coords],
                            "fill": [*base, alpha],
                            "label": r.band,
                        }
                    )
    return pd.DataFrame(rows or {"polygon": [], "fill": [], "label": []})


def city_deck(
    layers: dict,
    shelters: pd.DataFrame,
    tracks: pd.DataFrame | None = None,
    *,
    footprint: pd.DataFrame | None = None,
    assets: pd.DataFrame | None = None,
) -> pdk.Deck:
    """Roads, buildings, water, hazard footprint, assets by state, shelters by occupancy, evacuees."""
    deck_layers = []
    for name, colour in (("water", [86, 180, 233, 140]), ("buildings", [190, 190, 190, 160])):
        if name in layers:
            deck_layers.append(
                pdk.Layer(
                    "PolygonLayer", _polygons(layers[name]), get_polygon="polygon", get_fill_color=colour, stroked=False
                )
            )
    deck_layers.append(
        pdk.Layer(
            "PathLayer",
            _paths(layers["roads"]),
            get_path="path",
            get_width="width",
            width_units="pixels",
            get_color=[120, 120, 120],
        )
    )
    hz = hazard_polygons(footprint)
    if len(hz):
        deck_layers.append(
            pdk.Layer("PolygonLayer", hz, get_polygon="polygon", get_fill_color="fill", stroked=False, pickable=False)
        )
    if assets is not None and len(assets):
        a = assets.copy()
        if "state" not in a:
            a["state"] = a["up"].map({True: "up", False: "down"})
        a["fill"] = a["state"].map(ASSET_COLOURS).apply(lambda c: c if isinstance(c, list) else [120, 120, 120, 200])
        a["name"] = a["id"] + " (" + a["kind"] + ", " + a["state"] + ")"
        deck_layers.append(
            pdk.Layer(
                "ScatterplotLayer",
                a[["id", "kind", "state", "name", "lon", "lat", "fill"]],
                get_position=["lon", "lat"],
                get_fill_color="fill",
                get_radius=4,
                radius_units="pixels",
                pickable=True,
            )
        )
    if tracks is not None and len(tracks):
        colours = {
            "at_home": [153, 153, 153],
            "evacuating": [230, 159, 0],
            "sheltered": [0, 158, 115],
            "casualties": [213, 94, 0],
            "stranded": [204, 121, 167],
            "trapped": [86, 180, 233],
        }
        t = tracks.copy()
        t["color"] = t["state"].map(colours)
        deck_layers.append(
            pdk.Layer(
                "ScatterplotLayer",
                t,
                get_position=["lon", "lat"],
                get_fill_color="color",
                get_radius=3,
                radius_units="pixels",
            )
        )
    sh = shelters.copy()
    sh["fill"] = sh["share"].map(
        lambda s: [0, 158, 115, 200] if s < 0.8 else [230, 159, 0, 220] if s < 1 else [213, 94, 0, 230]
    )
    deck_layers.append(
        pdk.Layer(
            "ScatterplotLayer",
            sh,
            get_position=["lon", "lat"],
            get_fill_color="fill",
            get_radius="radius",
            radius_units="pixels",
            pickable=True,
            stroked=True,
            get_line_color=[0, 0, 0],
            line_width_min_pixels=1,
        )
    )
    view = pdk.ViewState(longitude=float(sh["lon"].mean()), latitude=float(sh["lat"].mean()), zoom=13)
    return pdk.Deck(
        layers=deck_layers,
        initial_view_state=view,
        map_style=BLANK_STYLE,
        map_provider=None,
        tooltip={"text": "{name}\n{occupancy} of {capacity} places"},
    )
