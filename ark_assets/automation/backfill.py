"""A backfill over a range, planned against what the media still serve.

A partition whose day a selected asset's endpoint no longer serves (`media/retention.py`) would
only be refused by its run (`assets/retention.py`); the plan leaves it out and says so, naming the
assets and the reason, and launches the rest as one Dagster backfill (`ark-assets backfill`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta

from dagster import JobDefinition

from ark_assets.assets.retention import refusals
from ark_assets.media.registry import media as media_named
from ark_assets.partitions import partition_key
from ark_assets.resources.media_api import configured_version


@dataclass
class BackfillPlan:
    """The partitions to launch, and those skipped with why (key -> (assets, the first reason))."""

    launch: list[str] = field(default_factory=list)
    skipped: dict[str, tuple[list[str], str]] = field(default_factory=dict)

    def lines(self, job: str) -> list[str]:
        total = len(self.launch) + len(self.skipped)
        out = []
        if self.skipped:
            out.append(f"{job}: skipping {len(self.skipped)} of {total} partitions the media no longer serve")
            out += [
                f"  skip {key}: {', '.join(assets)}: {why}" for key, (assets, why) in self.skipped.items()
            ]
        return out


def days_between(first: date, last: date) -> list[date]:
    if last < first:
        raise ValueError(f"--to {last} is before --from {first}")
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def plan_backfill(
    job: JobDefinition, days: Iterable[date], tenants: Iterable[str], today: date
) -> BackfillPlan:
    """Which (day, tenant) partitions of `job` to launch, as of `today` (GMT+8)."""
    by_media: dict[str, list[str]] = defaultdict(list)
    for key in sorted(job.asset_layer.selected_asset_keys, key=lambda k: k.path):
        by_media[key.path[0]].append(key.path[-1])
    plan = BackfillPlan()
    tenants = list(tenants)
    for day in days:
        refused: dict[str, str] = {}
        for name, assets in by_media.items():
            media = media_named(name)
            api = media.api_for(configured_version(media))
            refused |= {f"{name}/{a}": why for a, why in refusals(media, api, assets, day, today).items()}
        for tenant in tenants:
            key = str(partition_key(day, tenant))
            if refused:
                plan.skipped[key] = (sorted(refused), next(iter(refused.values())))
            else:
                plan.launch.append(key)
    return plan
