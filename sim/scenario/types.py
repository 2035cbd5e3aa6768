"""Types shared by every scenario section: durations, coordinates, areas and zones."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    ValidationInfo,
    WithJsonSchema,
    model_validator,
)

from sim.core.units import parse_duration

Duration = Annotated[
    float,
    BeforeValidator(parse_duration),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "number", "minimum": 0},
                {"type": "string", "description": "a duration: 90s, 15min, 1h30min, 6h or h:mm[:ss]"},
            ]
        }
    ),
]
"""Seconds; accepts a number of seconds or a string such as ``"90s"``, ``"15min"``, ``"6h"``."""

Lon = Annotated[float, Field(ge=-180.0, le=180.0)]
Lat = Annotated[float, Field(ge=-90.0, le=90.0)]
Fraction = Annotated[float, Field(ge=0.0, le=1.0)]

MAX_POPULATION = 5_000_000  # issue 20: the megacity runs on a laptop (docs/performance.md)
"""Most citizens in one run, from any source (count, synthetic city, layers)."""
MAX_SHELTER_CAPACITY = 1_000_000
"""Most places in one shelter (the largest stadiums hold about 150,000)."""


class Strict(BaseModel):
    """Base of every scenario section: unknown keys are errors."""

    model_config = ConfigDict(extra="forbid", validate_default=True)


def _resolve_path(value: Any, info: ValidationInfo) -> Any:
    """Resolve a relative path against the scenario file's folder and require the file."""
    if value is None:
        return None
    if not isinstance(value, str | Path) or str(value).strip() == "":
        msg = f"expected a file path, got {value!r}"
        raise ValueError(msg)
    base = (info.context or {}).get("base_dir")
    path = Path(value).expanduser()
    if not path.is_absolute() and base is not None:
        path = Path(base) / path
    if not path.is_file():
        msg = f"file not found: {path}"
        raise ValueError(msg)
    return path.resolve()


InputFile = Annotated[Path | None, BeforeValidator(_resolve_path)]


class LayerRef(Strict):
    """One named layer of a multi-layer file: ``{path: city.gpkg, layer: streets}``."""

    path: InputFile = Field(description="the file (GeoPackage, zipped shapefiles...), relative to the scenario file")
    layer: str = Field(min_length=1, max_length=200, description="the layer's name in that file")

    @model_validator(mode="after")
    def _has_path(self) -> LayerRef:
        if self.path is None:
            msg = "path: give the file that holds the layer"
            raise ValueError(msg)
        return self


def _resolve_layer(value: Any, info: ValidationInfo) -> Any:
    """A path (resolved like any input file) or ``{path, layer}`` (resolved by ``LayerRef``)."""
    if isinstance(value, dict | LayerRef):
        return value
    return _resolve_path(value, info)


LayerFile = Annotated[
    Path | LayerRef | None,
    BeforeValidator(_resolve_layer),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "string", "description": "a file path"},
                {
                    "type": "object",
                    "properties": {"path": {"type": "string"}, "layer": {"type": "string"}},
                    "required": ["path", "layer"],
                    "additionalProperties": False,
                },
                {"type": "null"},
            ]
        }
    ),
]
"""A vector layer: a file path, or ``{path, layer}`` for one layer of a multi-layer file."""


def layer_of(source: Path | LayerRef) -> tuple[Path, str | None]:
    """The file and the layer name (``None``: the file's only layer) of a layer source."""
    if isinstance(source, LayerRef):
        assert source.path is not None  # checked by LayerRef
        return source.path, source.layer
    return Path(source), None


# ----------------------------------------------------------------------------- places


class BBoxArea(Strict):
    """A longitude/latitude box ``[min_lon, min_lat, max_lon, max_lat]``."""

    bbox: tuple[Lon, Lat, Lon, Lat] = Field(description="[min_lon, min_lat, max_lon, max_lat]")

    @model_validator(mode="after")
    def _ordered(self) -> BBoxArea:
        x0, y0, x1, y1 = self.bbox
        if not (x0 < x1 and y0 < y1):
            msg = "bbox must be [min_lon, min_lat, max_lon, max_lat] with min < max"
            raise ValueError(msg)
        return self


class PolygonArea(Strict):
    """A polygon given as a list of ``[lon, lat]`` corners (closed automatically)."""

    polygon: list[tuple[Lon, Lat]] = Field(min_length=3, max_length=10_000, description="corners [[lon, lat], ...]")

    @model_validator(mode="after")
    def _valid(self) -> PolygonArea:
        from shapely import Polygon
        from shapely.validation import explain_validity

        shape = Polygon(self.polygon)
        if not shape.is_valid or shape.area == 0:
            why = explain_validity(shape) if not shape.is_valid else "it has no area"
            msg = f"not a valid polygon ({why}); corners must go round the area once without crossing"
            raise ValueError(msg)
        return self


class CircleArea(Strict):
    """A circle around ``center: [lon, lat]`` with ``radius_m`` metres."""

    center: tuple[Lon, Lat] = Field(description="[lon, lat] of a circle's centre")
    radius_m: float = Field(gt=0, le=100_000, description="circle radius, m")


def _area_kind(value: Any) -> str | None:
    if isinstance(value, dict):
        for key in ("bbox", "polygon", "center"):
            if key in value:
                return f"~{key}"
        return None
    if isinstance(value, BBoxArea):
        return "~bbox"
    if isinstance(value, PolygonArea):
        return "~polygon"
    if isinstance(value, CircleArea):
        return "~center"
    return None


def _zone_kind(value: Any) -> str | None:
    if isinstance(value, str):
        return "~name"
    if isinstance(value, list):
        return "~names"
    return _area_kind(value)


_AREA_HELP = (
    "an area: {bbox: [min_lon, min_lat, max_lon, max_lat]}, {polygon: [[lon, lat], ...]} "
    "or {center: [lon, lat], radius_m: R}"
)

Area = Annotated[
    Annotated[BBoxArea, Tag("~bbox")] | Annotated[PolygonArea, Tag("~polygon")] | Annotated[CircleArea, Tag("~center")],
    Discriminator(_area_kind, custom_error_type="area", custom_error_message=f"must be {_AREA_HELP}"),
]
"""An area of the city given in longitude/latitude."""

Zone = Annotated[
    Annotated[str, Tag("~name")]
    | Annotated[list[str], Tag("~names")]
    | Annotated[BBoxArea, Tag("~bbox")]
    | Annotated[PolygonArea, Tag("~polygon")]
    | Annotated[CircleArea, Tag("~center")],
    Discriminator(
        _zone_kind,
        custom_error_type="zone",
        custom_error_message=f"must be 'all', a district name, a list of district names, or {_AREA_HELP}",
    ),
]
"""Who an order or a policy covers: ``all``, a district name, a list of district names, or an area."""
