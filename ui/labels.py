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

KPIS: dict[str, Label] = {
    "ordered": Label("Ordered to leave", "people"),
    "t50": Label("Half in shelters (T50)", "h:mm"),
    "t90": Label("90 % in shelters (T90)", "h:mm"),
    "t95": Label("95 % in shelters (T95)", "h:mm"),
    "warned": Label("Warned", "%"),
    "stayed_home": Label("Stayed home", "people"),
    "stranded": Label("Stranded", "people"),
    "casualties": Label("Casualties", "people"),
    "alerting": Label("Alerting worked", "% of the time"),
    "devices_compromised": Label("Devices compromised (peak)", "devices"),
    "records_exposed": Label("Records exposed", "records"),
    "relatives": Label("Relatives told", "%"),
}


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


def people(n: float | int | None) -> str:
    """A count with thousands separators."""
    return "-" if n is None else f"{round(n):,}"
