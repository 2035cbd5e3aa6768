"""The device inventory: every networked city device with its security posture.

The mobile operator's towers and core are the operator's, not the city's, and are left out.

From ``defenses`` and per-asset overrides: ``patched`` (a deterministic draw at
``patched_share`` from the ``cyber/inventory`` stream), ``credentials`` (default or unique),
``identity`` (validated or not), ``internet_exposed`` (reachable from the internet uplink over
the network's links, respecting one-way links), ``role`` (safety or smart, what segmentation
separates), ``wireless`` and ``link_encrypted`` (its links), ``stores_data`` and
``storage_encrypted`` (the CCC's registry and sensor store, the COC's operational data).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sim.core.errors import InputError
from sim.network.assets import default_subnet
from sim.network.state import NetworkState
from sim.scenario.cyber import DefensesConfig

NETWORKED = frozenset({"hub", "radio_node", "siren", "sensor", "camera", "terminal", "server", "gateway", "satellite"})


def build_inventory(net: NetworkState, defenses: DefensesConfig, rng: np.random.Generator) -> pd.DataFrame:
    """One row per networked device; raises InputError for an override naming an unknown asset."""
    a = net.assets
    rows = np.nonzero(np.isin(a["kind"].to_numpy(), list(NETWORKED)))[0]
    patched = rng.random(len(a)) < defenses.patched_share
    inv = pd.DataFrame(
        {
            "id": a["id"].to_numpy()[rows],
            "kind": a["kind"].to_numpy()[rows],
            "subnet": a["subnet"].to_numpy()[rows],
            "role": [
                default_subnet(k, i, "separate") for k, i in zip(a["kind"].iloc[rows], a["id"].iloc[rows], strict=True)
            ],
            "patched": patched[rows],
            "credentials": defenses.credentials,
            "identity": defenses.device_identity,
            "strong_auth": [
                defenses.strong_authentication and k in ("server", "gateway") for k in a["kind"].iloc[rows]
            ],
        }
    )
    internet = net.index.get("internet")
    reach = net.reachable(internet) if internet is not None else np.zeros(len(a), dtype=bool)
    inv["internet_exposed"] = reach[rows]
    # Links: wired links are physically protected; wireless ones only when transit is encrypted.
    wireless = np.isin(net.link_types, ["radio", "cellular", "satellite"])
    on_air = np.zeros(len(a), dtype=bool)
    on_air[net.a[wireless]] = True
    on_air[net.b[wireless]] = True
    inv["wireless"] = on_air[rows]
    inv["link_encrypted"] = defenses.encrypt_transit
    inv["stores_data"] = [i in ("CCC", "COC") for i in inv["id"]]  # the registry and the sensor store
    inv["storage_encrypted"] = inv["stores_data"] & defenses.encrypt_storage
    inv["asset_row"] = rows
    by_id = {d: i for i, d in enumerate(inv["id"])}
    for j, o in enumerate(defenses.assets):
        if o.id not in by_id:
            raise InputError.single(f"defenses.assets.{j}.id", f"no networked device has id {o.id!r}")
        i = by_id[o.id]
        for field in ("patched", "credentials", "identity"):
            value = getattr(o, field)
            if value is not None:
                inv.loc[i, field] = value
    return inv.reset_index(drop=True)


__all__ = ["NETWORKED", "build_inventory"]
