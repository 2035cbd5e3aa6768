"""Sweep files: the schema, the design (every point), and the check of every point before a run.

A sweep file names a base scenario, the parameters to vary (any path ``--set`` accepts) and the
replications (SPEC section 5, docs/sweeps.md). ``load_sweep`` reads and checks it, expands the
design and validates each point's scenario; anything wrong is an ``InputError`` whose lines read
``parameters.<path>: point <k> (value <v>): <what is wrong>``.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
import pandas as pd
from pydantic import Field, ValidationError, model_validator

from sim.core.errors import InputError
from sim.scenario.loader import (
    apply_override,
    load_config_file,
    load_scenario,
    read_scenario_file,
    validation_problems,
)
from sim.scenario.schema import Scenario
from sim.scenario.types import Strict

SUMMARY_SECTIONS = (
    "population",
    "duration_s",
    "evacuation",
    "shelters",
    "alerts",
    "services",
    "cyber",
    "relatives_notified_fraction",
    "hazards",
    "shelter_operations",
    "location",
)
MAX_POINTS = 20_000
MAX_RUNS = 200_000
MAX_SWEEP_BYTES = 1_000_000
NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$"
PathKey = Annotated[str, Field(min_length=1, max_length=300, pattern=r"^[A-Za-z0-9_]+(\.[A-Za-z0-9_]+)*$")]


class Values(Strict):
    """The values a parameter takes (grid designs)."""

    values: list[Any] = Field(min_length=1, max_length=10_000, description="every value, in order")


class Range(Strict):
    """A range a parameter is sampled from (lhs, sobol, morris)."""

    low: float = Field(description="lowest value")
    high: float = Field(description="highest value")
    integer: bool = Field(False, description="round sampled values to whole numbers")

    @model_validator(mode="after")
    def _ordered(self) -> Range:
        if not (math.isfinite(self.low) and math.isfinite(self.high)) or self.high <= self.low:
            msg = f"high must be above low, got low {self.low}, high {self.high}"
            raise ValueError(msg)
        return self


class Tie(Strict):
    """A parameter that follows another: ``offset + scale x`` the other's value (for example walk = 1 - car)."""

    tie: PathKey = Field(description="the parameter it follows")
    scale: float = Field(1.0, ge=-1e9, le=1e9, description="multiplies the other's value")
    offset: float = Field(0.0, ge=-1e9, le=1e9, description="added")


class Adequacy(Strict):
    """Replications until each named figure's 95 % confidence half-width is within a share of its mean."""

    min: int = Field(5, ge=2, le=10_000, description="seeds run at every point first")
    max: int = Field(100, ge=2, le=10_000, description="never more seeds than this at a point")
    ci_halfwidth: dict[PathKey, float] = Field(
        min_length=1, description="figure -> largest half-width as a share of the mean (0.02: 2 %)"
    )

    @model_validator(mode="after")
    def _bounds(self) -> Adequacy:
        if self.max < self.min:
            msg = f"max must be >= min, got min {self.min}, max {self.max}"
            raise ValueError(msg)
        for k, v in self.ci_halfwidth.items():
            if k.split(".")[0] not in SUMMARY_SECTIONS:
                msg = f"ci_halfwidth.{k}: not a figure of summary.json (sections: {', '.join(SUMMARY_SECTIONS)})"
                raise ValueError(msg)
            if not 0 < v <= 10:
                msg = f"ci_halfwidth.{k}: must be in (0, 10], got {v}"
                raise ValueError(msg)
        return self


class SweepConfig(Strict):
    """A sweep file (SPEC section 5)."""

    name: str = Field(pattern=NAME_PATTERN, description="short name, used in the output folder's name")
    description: str = Field("", max_length=20_000, description="free text")
    scenario: str = Field(min_length=1, max_length=4096, description="base scenario, relative to the sweep file")
    parameters: dict[PathKey, Values | Range | Tie] = Field(
        min_length=1, max_length=50, description="scenario path -> {values}, {low, high} or {tie}"
    )
    design: Literal["grid", "lhs", "sobol", "morris"] = Field("grid", description="how points are chosen")
    samples: int | None = Field(None, ge=1, le=100_000, description="lhs: points; sobol/morris: base samples N")
    seeds: int | list[Annotated[int, Field(ge=0, le=2**63 - 1)]] | Adequacy = Field(
        1, description="replications per point: a count (seeds 1..N), a list, or {min, max, ci_halfwidth}"
    )
    design_seed: int = Field(0, ge=0, le=2**32 - 1, description="seed of the lhs/sobol/morris sampling")
    morris_levels: int = Field(4, ge=2, le=100, description="grid levels of the Morris design")
    keep_runs: bool = Field(False, description="keep every run's directory under runs/")

    @model_validator(mode="after")
    def _consistent(self) -> SweepConfig:
        problems = []
        free = {p: v for p, v in self.parameters.items() if not isinstance(v, Tie)}
        if not free:
            problems.append("at least one parameter must vary (not only ties)")
        for path, spec in self.parameters.items():
            if isinstance(spec, Tie) and (spec.tie not in free):
                problems.append(f"{path}: tie must name a parameter that varies, got {spec.tie!r}")
            if self.design == "grid" and isinstance(spec, Range):
                problems.append(f"{path}: a grid takes {{values: [...]}}, not a range")
            if self.design != "grid" and isinstance(spec, Values):
                problems.append(f"{path}: {self.design} takes {{low, high}}, not values")
        if self.design != "grid" and self.samples is None:
            problems.append(f"samples: {self.design} needs samples: N")
        if isinstance(self.seeds, int) and not 1 <= self.seeds <= 10_000:
            problems.append(f"seeds: must be 1..10000, got {self.seeds}")
        if isinstance(self.seeds, list) and (not self.seeds or len(set(self.seeds)) != len(self.seeds)):
            problems.append("seeds: a list of distinct seeds, at least one")
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def free(self) -> list[str]:
        """The parameters that vary (ties follow them)."""
        return [p for p, v in self.parameters.items() if not isinstance(v, Tie)]

    def seed_list(self) -> list[int]:
        """The seeds every point runs first (with adequacy: its ``min`` seeds)."""
        if isinstance(self.seeds, int):
            return list(range(1, self.seeds + 1))
        if isinstance(self.seeds, list):
            return list(self.seeds)
        return list(range(1, self.seeds.min + 1))

    def max_seeds(self) -> int:
        """The most seeds a point can get."""
        return self.seeds.max if isinstance(self.seeds, Adequacy) else len(self.seed_list())


@dataclass
class Sweep:
    """A checked sweep: its config, the base scenario's data, the design, and where it came from."""

    config: SweepConfig
    base: dict[str, Any]  # the base scenario as parsed (overrides are applied to a copy per point)
    base_dir: Path
    scenario_path: Path
    design: pd.DataFrame  # one row per point: ``point`` and a column per parameter (ties included)
    fingerprint: str  # of the resolved sweep and the base scenario: --resume refuses a changed sweep

    def overrides(self, point: int) -> list[str]:
        """The ``--set`` assignments of a point (values as JSON, which YAML reads back exactly)."""
        row = self.design.iloc[point]
        return [f"{p}={_json(row[p])}" for p in self.config.parameters]

    def scenario(self, point: int, seed: int) -> Scenario:
        """The scenario of a point and seed, as ``sim run SCENARIO --seed S --set ...`` would load it."""
        return load_scenario(self.base, [*self.overrides(point), f"seed={seed}"], base_dir=self.base_dir)


def _json(value: Any) -> str:
    """A design value as ``--set`` text: JSON, which YAML reads back exactly (numpy scalars as Python)."""
    return json.dumps(value.item() if isinstance(value, np.generic) else value)


def _problem_lines(exc: InputError | ValidationError) -> list[tuple[str, str]]:
    return validation_problems(exc) if isinstance(exc, ValidationError) else list(exc.problems)


def read_sweep_file(path: str | Path) -> SweepConfig:
    """Read and check a sweep file (not its points yet)."""
    return load_config_file(
        path, SweepConfig, field="sweep", expected="name, scenario, parameters", max_bytes=MAX_SWEEP_BYTES
    )


def expand_design(cfg: SweepConfig) -> pd.DataFrame:
    """Every point of the design: ``point`` and one column per parameter (ties computed)."""
    free = cfg.free()
    if cfg.design == "grid":
        grid = list(itertools.product(*[cfg.parameters[p].values for p in free]))  # type: ignore[union-attr]
        if len(grid) > MAX_POINTS:
            raise InputError.single("parameters", f"the grid has {len(grid):,} points; at most {MAX_POINTS:,}")
        rows = [dict(zip(free, values, strict=True)) for values in grid]
        table = pd.DataFrame(rows, columns=free)
    else:
        ranges = [cfg.parameters[p] for p in free]
        unit = _unit_sample(cfg, len(free))
        table = pd.DataFrame(
            {p: r.low + unit[:, i] * (r.high - r.low) for i, (p, r) in enumerate(zip(free, ranges, strict=True))}  # type: ignore[union-attr]
        )
        for p, r in zip(free, ranges, strict=True):
            if r.integer:  # type: ignore[union-attr]
                table[p] = np.round(table[p]).astype(np.int64)
    for p, spec in cfg.parameters.items():
        if isinstance(spec, Tie):
            table[p] = spec.offset + spec.scale * table[spec.tie].astype(float)
    table = table[list(cfg.parameters)]
    table.insert(0, "point", np.arange(len(table), dtype=np.int64))
    return table


def problem_of(cfg: SweepConfig) -> dict[str, Any]:
    """The SALib problem of the free parameters (their names and bounds)."""
    free = cfg.free()
    return {
        "num_vars": len(free),
        "names": free,
        "bounds": [[cfg.parameters[p].low, cfg.parameters[p].high] for p in free],  # type: ignore[union-attr]
    }


def _unit_sample(cfg: SweepConfig, d: int) -> np.ndarray:
    """Points in the unit cube for lhs, sobol (Saltelli, first and total order) and morris."""
    n = int(cfg.samples or 1)
    if cfg.design == "lhs":
        from scipy.stats import qmc

        return qmc.LatinHypercube(d=d, seed=cfg.design_seed).random(n)
    unit = {"num_vars": d, "names": [f"x{i}" for i in range(d)], "bounds": [[0.0, 1.0]] * d}
    if cfg.design == "sobol":
        from SALib.sample import sobol as sobol_sample

        count = n * (d + 2)
        if count > MAX_POINTS:
            raise InputError.single(
                "samples", f"sobol with {d} parameters makes {count:,} points; at most {MAX_POINTS:,}"
            )
        return np.asarray(sobol_sample.sample(unit, n, calc_second_order=False, scramble=True, seed=cfg.design_seed))
    from SALib.sample import morris as morris_sample

    count = n * (d + 1)
    if count > MAX_POINTS:
        raise InputError.single("samples", f"morris with {d} parameters makes {count:,} points; at most {MAX_POINTS:,}")
    return np.asarray(morris_sample.sample(unit, n, num_levels=cfg.morris_levels, seed=cfg.design_seed))


def _blame(cfg: SweepConfig, field: str) -> str:
    """The parameter a scenario problem belongs to (the longest parameter path that the field starts with)."""
    hits = [p for p in cfg.parameters if field == p or field.startswith(p + ".") or p.startswith(field + ".")]
    return max(hits, key=len) if hits else next(iter(cfg.parameters))


def load_sweep(path: str | Path) -> Sweep:
    """Read a sweep file, expand its design and check every point's scenario before anything runs.

    Raises:
        InputError: the file, the base scenario, or any point is invalid (every point's problems).
    """
    cfg = read_sweep_file(path)
    sweep_path = Path(path).resolve()
    scenario_path = (sweep_path.parent / cfg.scenario).resolve()
    base = read_scenario_file(scenario_path)  # its problems are the sweep's ``scenario`` key's
    base_dir = scenario_path.parent
    for p in cfg.parameters:  # a path --set cannot take is the parameter's problem, not a point's
        try:
            apply_override(json.loads(json.dumps(base)), f"{p}=0")
        except InputError as exc:
            raise InputError([(f"parameters.{p}", m) for _, m in exc.problems]) from None
    design = expand_design(cfg)
    if len(design) * cfg.max_seeds() > MAX_RUNS:
        raise InputError.single(
            "seeds", f"{len(design):,} points x {cfg.max_seeds():,} seeds is more than {MAX_RUNS:,} runs"
        )
    sweep = Sweep(
        config=cfg,
        base=base,
        base_dir=base_dir,
        scenario_path=scenario_path,
        design=design,
        fingerprint=_fingerprint(cfg, base),
    )
    problems: list[tuple[str, str]] = []
    seed = sweep.config.seed_list()[0]
    for k in range(len(design)):
        try:
            sweep.scenario(k, seed)
        except (InputError, ValidationError) as exc:
            for field, message in _problem_lines(exc):
                param = _blame(cfg, field)
                value = _json(design.iloc[k][param])
                what = message if field == param else f"{field}: {message}"
                problems.append((f"parameters.{param}", f"point {k} (value {value}): {what}"))
    if problems:
        raise InputError(problems)
    return sweep


def base_fingerprint(base: dict[str, Any]) -> str:
    """A fingerprint of a sweep's base scenario alone (a run of the sweep can be re-made while it holds)."""
    return hashlib.sha256(json.dumps(base, sort_keys=True, default=str).encode()).hexdigest()[:16]


def _fingerprint(cfg: SweepConfig, base: dict[str, Any]) -> str:
    text = json.dumps({"sweep": cfg.model_dump(mode="json"), "scenario": base}, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]
