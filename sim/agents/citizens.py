"""Citizens as vectorised arrays (one entry per person), not Mesa agents.

A city holds tens of thousands to a million people; numpy arrays update them about 500 times
faster than per-agent Python objects. Personal attributes (age band, mobility, phone, car,
digital ID) live here and never reach an output: outputs carry pseudonyms only.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from sim.core import fpmath
from sim.scenario.schema import PopulationConfig

# Free walking speed ranges per group, m/s, uniform within the range (RiMEA test 7, after
# Weidmann 1993). Limited mobility overrides the age group.
SPEED_RANGES_MPS: dict[str, tuple[float, float]] = {
    "under30": (0.58, 1.61),
    "age30to50": (1.41, 1.54),
    "over50": (0.68, 1.41),
    "limited_mobility": (0.46, 0.76),
}
AGE_GROUPS = ("under30", "age30to50", "over50")
SPEED_TRUNCATION_MPS = (0.3, 2.5)

# Citizen states (int8 codes); the timeseries counts every state, and they sum to the population.
# ``trapped``: caught in a collapsed building, at home until freed.
AT_HOME, EVACUATING, SHELTERED, CASUALTY, STRANDED, TRAPPED = 0, 1, 2, 3, 4, 5
STATE_NAMES = ("at_home", "evacuating", "sheltered", "casualties", "stranded", "trapped")
WALK, CAR = 0, 1
NEVER = np.inf


@dataclass
class Population:
    """Arrays of length ``n``: attributes fixed at creation, and the dynamic movement state."""

    n: int
    home_node: np.ndarray
    household: np.ndarray
    age_group: np.ndarray  # index into AGE_GROUPS
    limited_mobility: np.ndarray
    child: np.ndarray  # under 15 (among the youngest age group): a lower limit in water
    walk_speed_mps: np.ndarray
    has_phone: np.ndarray
    has_smartphone: np.ndarray
    household_car: np.ndarray
    digital_id: np.ndarray
    mode: np.ndarray  # WALK or CAR (preferred)
    u_delay: np.ndarray  # uniform draw turned into a departure delay by the scenario's distribution
    u_comply: np.ndarray  # uniform draw compared with the compliance probability
    # dynamic state
    state: np.ndarray
    node: np.ndarray  # current node (waiting there, or tail of the current arc)
    arc: np.ndarray  # current arc, -1 when waiting at a node
    t_ready: np.ndarray  # when at node: arrival time there; on an arc: exit time
    t_entry: np.ndarray  # when the current arc was entered
    target: np.ndarray  # node of the shelter being walked to, -1 if none
    ordered_t: np.ndarray
    warned_t: np.ndarray
    depart_t: np.ndarray
    arrival_t: np.ndarray
    shelter: np.ndarray  # shelter row, -1 if none

    def state_counts(self) -> dict[str, int]:
        """Number of citizens in each state."""
        counts = np.bincount(self.state, minlength=len(STATE_NAMES))
        return {name: int(counts[i]) for i, name in enumerate(STATE_NAMES)}


def allocate_residents(residents: np.ndarray, total: int, rng: np.random.Generator) -> np.ndarray:
    """Integer residents per home, summing to ``total``, proportional to ``residents``."""
    w = np.asarray(residents, dtype=float)
    if total <= 0 or w.sum() <= 0:
        return np.zeros(len(w), dtype=np.int64)
    exact = w / w.sum() * total
    base = np.floor(exact).astype(np.int64)
    rest = int(total - base.sum())
    if rest > 0:
        frac = exact - base
        extra = (
            rng.choice(len(w), size=rest, replace=False, p=frac / frac.sum())
            if frac.sum() > 0
            else (rng.choice(len(w), size=rest, replace=True))
        )
        np.add.at(base, extra, 1)
    return base


def sample_walk_speeds(
    age_group: np.ndarray, limited: np.ndarray, config: PopulationConfig, rng: np.random.Generator
) -> np.ndarray:
    """Free walking speeds: the scenario's normal distribution if given, else the group model."""
    n = len(age_group)
    if config.walk_speed_mps is not None:
        mean, sd = config.walk_speed_mps.mean, config.walk_speed_mps.sd
        if sd == 0:
            return np.full(n, mean)
        lo, hi = SPEED_TRUNCATION_MPS
        speed = fpmath.normal(rng, mean, sd, n)
        bad = (speed < lo) | (speed > hi)
        while bad.any():  # truncation by redrawing keeps the shape inside the range
            speed[bad] = fpmath.normal(rng, mean, sd, int(bad.sum()))
            bad = (speed < lo) | (speed > hi)
        return speed
    u = rng.random(n)
    low = np.empty(n)
    high = np.empty(n)
    for g, name in enumerate(AGE_GROUPS):
        sel = age_group == g
        low[sel], high[sel] = SPEED_RANGES_MPS[name]
    low[limited], high[limited] = SPEED_RANGES_MPS["limited_mobility"]
    return low + u * (high - low)


def create_population(
    homes: pd.DataFrame,
    total: int,
    config: PopulationConfig,
    *,
    rng: np.random.Generator,
    behaviour_rng: np.random.Generator,
) -> Population:
    """Create ``total`` citizens living at ``homes`` (``node``, ``residents``).

    Args:
        homes: one row per building or population feature, with its road node.
        total: number of citizens.
        config: the scenario's population section.
        rng: the ``population`` stream (attributes).
        behaviour_rng: the ``behaviour`` stream (reaction draws).
    """
    per_home = allocate_residents(homes["residents"].to_numpy(), total, rng)
    home_row = np.repeat(np.arange(len(homes)), per_home)
    home_node = homes["node"].to_numpy(np.int64)[home_row]
    n = len(home_node)

    # Households: consecutive residents of one home, sizes 1 + Poisson(mean - 1).
    sizes = 1 + rng.poisson(max(config.household_size_mean - 1.0, 0.0), size=n + 1)
    hh_seq = np.repeat(np.arange(len(sizes)), sizes)[:n]
    key = home_row.astype(np.int64) * (n + 1) + hh_seq
    _, household = np.unique(key, return_inverse=True)

    shares = config.age_shares
    age_group = rng.choice(3, size=n, p=[shares.under30, shares.age30to50, shares.over50]).astype(np.int8)
    limited = rng.random(n) < config.limited_mobility_share
    speed = sample_walk_speeds(age_group, limited, config, rng)
    has_phone = rng.random(n) < config.phone_share
    has_smartphone = has_phone & (rng.random(n) < config.smartphone_share)
    n_households = int(household.max()) + 1 if n else 0
    car_of_household = rng.random(n_households) < config.car_household_share
    household_car = car_of_household[household] if n else np.zeros(0, dtype=bool)
    digital_id = rng.random(n) < config.digital_id_share

    # Mode: car users come from car-owning households first, so the share matches mode_share.
    car = config.mode_share.car
    own = config.car_household_share
    p_car = np.where(
        household_car,
        min(1.0, car / own) if own > 0 else 0.0,
        max(0.0, (car - own) / (1.0 - own)) if own < 1 else 0.0,
    )
    mode = (rng.random(n) < p_car).astype(np.int8)
    # Children among the youngest group (drawn last: the draws above do not move).
    child_p = min(1.0, config.children_share / shares.under30) if shares.under30 > 0 else 0.0
    child = (age_group == 0) & (rng.random(n) < child_p)

    u_delay = behaviour_rng.random(n)
    u_comply = behaviour_rng.random(n)
    return Population(
        n=n,
        home_node=home_node,
        household=household.astype(np.int64),
        age_group=age_group,
        limited_mobility=limited,
        child=child,
        walk_speed_mps=speed,
        has_phone=has_phone,
        has_smartphone=has_smartphone,
        household_car=household_car,
        digital_id=digital_id,
        mode=mode,
        u_delay=u_delay,
        u_comply=u_comply,
        state=np.zeros(n, dtype=np.int8),
        node=home_node.copy(),
        arc=np.full(n, -1, dtype=np.int64),
        t_ready=np.full(n, NEVER),
        t_entry=np.full(n, NEVER),
        target=np.full(n, -1, dtype=np.int64),
        ordered_t=np.full(n, NEVER),
        warned_t=np.full(n, NEVER),
        depart_t=np.full(n, NEVER),
        arrival_t=np.full(n, NEVER),
        shelter=np.full(n, -1, dtype=np.int64),
    )


AGE_BANDS = ("0-29", "30-49", "50+")  # the age groups as the registry records them


@dataclass
class PersonalData:
    """Simulated personal data of each citizen: never written to any output as is.

    ``contact`` is a simulated phone number (0 for people without a phone); ``health`` a
    sensitive flag (for example a condition that needs care in the shelter); ``consent`` whether
    the person agrees to optional fields being stored by the shelter registry.
    """

    health: np.ndarray
    contact: np.ndarray
    consent: np.ndarray
    u_relatives: np.ndarray


def create_personal_data(
    pop: Population, *, health_share: float, consent_share: float, rng: np.random.Generator
) -> PersonalData:
    """Draw the personal data from its own stream (``population/personal``)."""
    n = pop.n
    health = (rng.random(n) < health_share) | (pop.limited_mobility & (rng.random(n) < 0.5))
    numbers = 358_400_000_000 + rng.integers(0, 99_999_999, size=n)
    contact = np.where(pop.has_phone, numbers, 0).astype(np.int64)
    consent = rng.random(n) < consent_share
    return PersonalData(health=health, contact=contact, consent=consent, u_relatives=rng.random(n))
