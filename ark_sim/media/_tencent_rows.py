"""Tencent report rows from the world's atoms: one row per group of atoms, shaped by the fields asked.

Shared by the synchronous reports (`daily_reports/get`, `hourly_reports/get`: a page of one
account's rows) and the asynchronous report files (`_tencent_async.py`: every sub-customer's rows
of an agency), so both answer the same rows for the same account, level, day and time line.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from ark_sim.common import group_atoms, ratio, sum_metrics
from ark_sim.world import METRICS, World

# v3.0 names the world's ads dynamic creatives (N-upgrade): a v3.0 key or filter reads the ad's field
ATOM_FIELD = {"dynamic_creative_id": "ad_id"}


def _atom_value(atom: Any, name: str) -> Any:
    return getattr(atom, ATOM_FIELD.get(name, name))


# A dimension appears in a row only when the row's group_by determines it.
DETERMINED_BY = {
    "date": {"date"},
    "hour": {"hour"},
    "campaign_id": {"campaign_id", "adgroup_id", "ad_id"},
    "campaign_name": {"campaign_id", "adgroup_id", "ad_id"},
    "adgroup_id": {"adgroup_id", "ad_id", "dynamic_creative_id"},
    "adgroup_name": {"adgroup_id", "ad_id", "dynamic_creative_id"},
    "ad_id": {"ad_id"},
    "ad_name": {"ad_id"},
    "dynamic_creative_id": {"dynamic_creative_id"},
    "dynamic_creative_name": {"dynamic_creative_id"},
    "site_set": {"site_set"},
    "promoted_object_type": {"promoted_object_type", "adgroup_id", "ad_id"},
    "promoted_object_id": {"promoted_object_id", "adgroup_id", "ad_id"},
}


def _report_row(
    fields: tuple[str, ...], keys: set[str], account_id: int, members: list, names: dict
) -> dict[str, Any]:
    first = members[0]
    totals = sum_metrics(members, METRICS)
    row: dict[str, Any] = {}
    for name in fields:
        if name == "account_id":
            row[name] = account_id
        elif name in DETERMINED_BY:
            if DETERMINED_BY[name] & keys:
                if name.endswith("_name"):
                    id_field = ATOM_FIELD.get(name.replace("_name", "_id"), name.replace("_name", "_id"))
                    row[name] = names[(id_field, getattr(first, id_field))]
                else:
                    row[name] = _atom_value(first, name)
        else:
            row[name] = _metric(name, totals)
    return row


# v1.3 names of the world's metrics (v1.1 has both spellings)
_ALIASES = {
    "view_count": "impression",
    "valid_click_count": "click",
    "conversions_count": "conversion",
    "download_count": "download",
    "activated_count": "activation",
}
# cost per unit, in fen: spend over the metric it divides by
_PER = {"cpc": "click", "conversions_cost": "conversion", "activated_cost": "activation"}


def _metric(name: str, t: dict[str, int]) -> int | float:
    if name in t:
        return t[name]
    if name in _ALIASES:
        return t[_ALIASES[name]]
    if name in _PER:
        return round(t["cost"] / t[_PER[name]]) if t[_PER[name]] else 0
    if name == "ctr":
        return ratio(t["click"], t["impression"])
    if name == "conversions_rate":
        return ratio(t["conversion"], t["click"])
    if name == "thousand_display_price":
        return round(t["cost"] * 1000 / t["impression"]) if t["impression"] else 0
    raise KeyError(name)


@dataclass(frozen=True)
class LevelReport:
    """What a report call asks: the time grain (`daily` / `hourly`), the `group_by` keys, the
    fields of a row and the filters ((field, allowed values) pairs)."""

    kind: str
    group_keys: tuple[str, ...]
    fields: tuple[str, ...]
    filters: list[tuple[str, set[str]]]

    def rows(
        self, world: World, media: str, account_id: int, days: Iterable[date], time_line: str
    ) -> list[dict]:
        """The account's rows over `days`, one per group, groups sorted by key."""
        atoms = [atom for day in days for atom in world.atoms(media, account_id, day, time_line)]
        atoms = [a for a in atoms if all(str(_atom_value(a, f)) in values for f, values in self.filters)]
        groups = group_atoms(atoms, lambda atom: tuple(_atom_value(atom, g) for g in self.group_keys))
        if not groups:
            return []
        names = world.entities(media, account_id).names()
        keys = set(self.group_keys) | ({"date"} if self.kind == "hourly" else set())
        return [_report_row(self.fields, keys, account_id, members, names) for _, members in groups]
