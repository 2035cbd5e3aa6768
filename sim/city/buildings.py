"""Residents and shelter places from building footprints.

Residents of a building = residential floor area / floor area per person, where the floor
area is footprint x levels x a type factor (1 for homes, 0.6 for untyped ``building=yes``,
0 for industry, retail, public buildings...). Shelter places of a public building = floor
area x 0.5 usable / 3.5 m² per person (the Sphere handbook's minimum covered living space).
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd

RESIDENTIAL_FACTOR: dict[str, float] = {
    "residential": 1.0,
    "apartments": 1.0,
    "house": 1.0,
    "detached": 1.0,
    "semidetached_house": 1.0,
    "terrace": 1.0,
    "bungalow": 1.0,
    "dormitory": 1.0,
    "farm": 1.0,
    "cabin": 0.5,
    "yes": 0.6,
}
DEFAULT_LEVELS: dict[str, float] = {
    "apartments": 4.0,
    "residential": 2.0,
    "house": 1.5,
    "detached": 1.5,
    "terrace": 2.0,
    "yes": 2.0,
    "school": 2.0,
    "public": 2.0,
    "civic": 2.0,
    "church": 1.0,
    "kindergarten": 1.0,
}
SHELTER_BUILDINGS = frozenset(
    {
        "school",
        "public",
        "kindergarten",
        "civic",
        "college",
        "university",
        "church",
        "sports_hall",
        "community_centre",
        "townhall",
        "government",
    }
)
SHELTER_USABLE_SHARE = 0.5
SHELTER_M2_PER_PERSON = 3.5  # Sphere handbook, minimum covered living space per person
MIN_SHELTER_CAPACITY = 20


def building_table(buildings: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Add ``kind``, ``levels`` and ``floor_area_m2`` to metric building footprints."""
    b = buildings.copy()
    kind = b["building"].astype(str).str.lower() if "building" in b else pd.Series("yes", index=b.index)
    b["kind"] = kind
    levels = pd.to_numeric(b["levels"], errors="coerce") if "levels" in b else pd.Series(np.nan, index=b.index)
    b["levels"] = levels.fillna(kind.map(DEFAULT_LEVELS)).fillna(1.0).clip(1, 80)
    b["floor_area_m2"] = b.geometry.area * b["levels"]
    return b


def resident_weights(buildings: gpd.GeoDataFrame, *, floor_area_per_person_m2: float) -> np.ndarray:
    """Expected residents per building (before scaling to a target count)."""
    factor = buildings["kind"].map(RESIDENTIAL_FACTOR).fillna(0.0).to_numpy()
    return buildings["floor_area_m2"].to_numpy() * factor / floor_area_per_person_m2


def shelter_candidates(buildings: gpd.GeoDataFrame, pois: gpd.GeoDataFrame) -> pd.DataFrame:
    """Public buildings and amenity points usable as shelters: id, name, x, y, capacity, source."""
    rows = []
    amenity = buildings["amenity"] if "amenity" in buildings else pd.Series(None, index=buildings.index)
    is_shelter = buildings["kind"].isin(SHELTER_BUILDINGS) | amenity.notna()
    chosen = buildings[is_shelter]
    taken = []
    for _i, b in chosen.iterrows():
        cap = int(max(MIN_SHELTER_CAPACITY, b["floor_area_m2"] * SHELTER_USABLE_SHARE / SHELTER_M2_PER_PERSON))
        c = b.geometry.representative_point()
        osm_id = b.get("osm_id")
        sid = f"S{int(osm_id)}" if osm_id is not None and pd.notna(osm_id) else f"SB{_i}"
        label = b.get("amenity") if isinstance(b.get("amenity"), str) else b["kind"]
        name = b.get("name") if isinstance(b.get("name"), str) else f"{str(label).replace('_', ' ').title()} {sid}"
        rows.append({"id": sid, "name": name, "x": c.x, "y": c.y, "capacity": cap, "source": "osm building"})
        taken.append(b.geometry)
    for _i, p in pois.iterrows():
        geom = p.geometry
        if geom is None:
            continue
        # An amenity mapped as a point inside a building already counted is the same place.
        if any(t.buffer(5).contains(geom.representative_point()) for t in taken):
            continue
        c = geom.representative_point()
        area = geom.area if geom.geom_type in ("Polygon", "MultiPolygon") else 0.0
        cap = int(max(MIN_SHELTER_CAPACITY * 5, area * 2 * SHELTER_USABLE_SHARE / SHELTER_M2_PER_PERSON))
        osm_id = p.get("osm_id")
        sid = f"S{int(osm_id)}" if osm_id is not None and pd.notna(osm_id) else f"SP{_i}"
        name = p.get("name") if isinstance(p.get("name"), str) else f"{str(p.get('amenity')).title()} {sid}"
        rows.append({"id": sid, "name": name, "x": c.x, "y": c.y, "capacity": cap, "source": "osm amenity"})
    out = pd.DataFrame(rows, columns=["id", "name", "x", "y", "capacity", "source"])
    return out.drop_duplicates("id").reset_index(drop=True)
