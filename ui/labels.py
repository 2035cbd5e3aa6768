"""Words and units for planners: every form label, unit and KPI name, defined once.

Form fields are keyed by their full dotted scenario path; each has a label in plain words and
a unit. Shares are shown as percentages and durations as ``h:mm``; the schema's description
(with the technical key) stays in the tooltip.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Label:
    """How one setting is shown: words, unit (``%``, ``h:mm``, or a plain unit) and a hint."""

    text: str
    unit: str = ""


FIELDS: dict[str, Label] = {
    "seed": Label("Random seed (same seed, same results)"),
    "duration": Label("Simulated time", "h:mm"),
    "population.count": Label("People in the city", "people"),
    "population.mode_share.walk": Label("Walk", "%"),
    "population.mode_share.car": Label("Drive", "%"),
    "population.age_shares.under30": Label("Aged under 30", "%"),
    "population.age_shares.age30to50": Label("Aged 30 to 50", "%"),
    "population.age_shares.over50": Label("Aged over 50", "%"),
    "population.limited_mobility_share": Label("With limited mobility", "%"),
    "population.household_size_mean": Label("Average household size", "people"),
    "population.phone_share": Label("Own a mobile phone", "%"),
    "population.smartphone_share": Label("Of phone owners, with a smartphone", "%"),
    "population.car_household_share": Label("Households with a car", "%"),
    "population.digital_id_share": Label("Have a digital ID", "%"),
    "population.compliance": Label("Warned people who obey the order", "%"),
    "population.children_share": Label("Children under 15", "%"),
    "population.households_together": Label("Households decide and leave together", ""),
    "population.shadow_share": Label("Near the ordered zone, people who leave anyway (shadow)", "%"),
    "population.shadow_distance_m": Label("How far the shadow reaches beyond the zone", "m"),
    "network.design": Label("Network design (separate safety network, or one shared network)"),
    "network.redundancy": Label("Paths of the safety network (1 fibre, 2 + radio, 3 + satellite)"),
    "network.repair_time": Label("Average repair time of a link outage", "h:mm"),
    "network.min_share": Label("Endpoints a service needs to count as working", "%"),
    "network.siren_audible_m": Label("Distance a siren is heard", "m"),
    "defenses.segmentation": Label("Firewalls between the safety and smart networks"),
    "defenses.segmentation_misconfigured": Label("A firewall rule lets traffic through by mistake"),
    "defenses.device_identity": Label("Devices prove their identity (fake devices rejected)"),
    "defenses.credentials": Label("Device passwords (default or changed on first use)"),
    "defenses.strong_authentication": Label("Operators log in with two factors"),
    "defenses.patched_share": Label("Devices with current security updates", "%"),
    "defenses.encrypt_transit": Label("Encrypt network links (wireless included)"),
    "defenses.encrypt_storage": Label("Encrypt stored data"),
    "defenses.monitoring.enabled": Label("Intrusion detection watches the networks"),
    "defenses.monitoring.mean_time_to_detect": Label("Average time to detect an attack", "h:mm"),
    "defenses.monitoring.response": Label("Response to a detected attack (isolate or reimage)"),
    "defenses.monitoring.response_time": Label("Time from detection to response", "h:mm"),
    "defenses.monitoring.reimage_time": Label("Time a reimaged device is down", "h:mm"),
    "defenses.ddos_protection.scrubbing_rps": Label("Attack traffic removed by a scrubbing service", "requests/s"),
    "defenses.ddos_protection.failover_to_safety": Label("App alerts fail over to the safety network"),
    "defenses.servers.capacity_rps": Label("Requests a server handles", "requests/s"),
    "defenses.servers.queue_limit": Label("Requests a server holds before dropping", "requests"),
    "defenses.servers.legitimate_rps": Label("Normal load on a server", "requests/s"),
    "shelter_operations.enabled": Label("Model registration desks, reports and relatives"),
    "shelter_operations.desks_per_100_places": Label("Registration desks per 100 places", "desks"),
    "shelter_operations.registration_time.digital_id": Label("Check-in time with a digital ID", "h:mm:ss"),
    "shelter_operations.registration_time.phone": Label("Check-in time by phone", "h:mm:ss"),
    "shelter_operations.registration_time.manual": Label("Registration time on paper", "h:mm:ss"),
    "shelter_operations.report_every": Label("Shelters report their head count every", "h:mm"),
    "shelter_operations.open_reserve_at": Label("Open a reserve hall when shelters are this full", "%"),
}


STATE_LABELS: dict[str, str] = {
    "at_home": "At home",
    "evacuating": "On the way",
    "sheltered": "In a shelter",
    "casualties": "Casualties",
    "stranded": "Stranded (no route)",
    "trapped": "Trapped in rubble",
}
"""The citizens' states in words (charts, legends)."""


SERVICE_LABELS = {
    "alerting": "Alerting (any channel)",
    "alerting_siren": "Sirens",
    "cell_broadcast": "Cell broadcast",
    "app_push": "App push",
    "radio_broadcast": "Radio and TV",
    "sensor_monitoring": "Sensor monitoring",
    "shelter_registry": "Shelter registry",
    "relatives_notification": "Relatives told",
    "traffic_control": "Traffic control",
    "public_information": "Public information",
}
"""City services in words."""


@dataclass(frozen=True)
class Figure:
    """A figure of a run's summary: its key, words, where it sits in summary.json, and its unit.

    Units: ``people``, ``time`` (seconds in the summary; shown as h:mm, or minutes in tables
    of differences), ``share`` (0..1; shown in %), ``devices``, ``records``.
    """

    key: str
    text: str
    where: tuple[str | None, str]
    unit: str


FIGURES: list[Figure] = [
    Figure("ordered", "Ordered to leave", ("evacuation", "ordered"), "people"),
    Figure("sheltered", "In shelters at the end", ("evacuation", "sheltered"), "people"),
    Figure("t50", "Half in shelters (T50)", ("evacuation", "t50_s"), "time"),
    Figure("t90", "90 % in shelters (T90)", ("evacuation", "t90_s"), "time"),
    Figure("t95", "95 % in shelters (T95)", ("evacuation", "t95_s"), "time"),
    Figure("warned", "Warned", ("alerts", "reach_fraction"), "share"),
    Figure("stayed_home", "Stayed home", ("evacuation", "not_departed"), "people"),
    Figure("stranded", "Stranded", ("evacuation", "stranded"), "people"),
    Figure("casualties", "Casualties", ("evacuation", "casualties"), "people"),
    Figure("relatives", "Relatives told", (None, "relatives_notified_fraction"), "share"),
    Figure("devices_compromised", "Devices compromised (peak)", ("cyber", "devices_compromised_peak"), "devices"),
    Figure("records_exposed", "Records exposed", ("cyber", "records_exposed"), "records"),
]
"""The run's headline figures, in the order every page and report shows them."""

KPIS: dict[str, Label] = {f.key: Label(f.text, f.unit) for f in FIGURES} | {
    "alerting": Label("Alerting worked", "% of the time")
}


def figure_value(summary: dict, figure: Figure) -> float | None:
    """The raw value of a figure in a run's summary (None if absent)."""
    part, key = figure.where
    value = summary.get(key) if part is None else (summary.get(part) or {}).get(key)
    return None if value is None else float(value)


def field(key: str) -> Label:
    """The label of a dotted scenario key (a readable fallback for keys not in the table)."""
    return FIELDS.get(key) or Label(key.rsplit(".", 1)[-1].replace("_", " ").capitalize())


def clock(seconds: float | None, *, with_seconds: bool = False) -> str:
    """Seconds as ``h:mm`` (or ``h:mm:ss``); ``-`` for None."""
    if seconds is None:
        return "-"
    s = round(float(seconds))
    if with_seconds:
        return f"{s // 3600}:{(s % 3600) // 60:02d}:{s % 60:02d}"
    m = round(float(seconds) / 60)
    return f"{m // 60}:{m % 60:02d}"


def percent(share: float | None) -> str:
    """A share 0..1 as a whole percentage, ``93 %``; ``-`` for None."""
    return "-" if share is None else f"{round(share * 100)} %"


def people(n: float | int | None) -> str:
    """A count with thousands separators."""
    return "-" if n is None else f"{round(n):,}"
