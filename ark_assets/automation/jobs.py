"""Jobs: the seed's "full manual run" of every media in one launch, a lookback, one job per media,
and the re-run of what failed."""

from __future__ import annotations

from dagster import AssetSelection, define_asset_job

from ark_assets.assets.specs import INTRADAY_GROUP
from ark_assets.automation import freshness, token_health
from ark_assets.media.declare import MediaDefinition
from ark_assets.media.registry import all_media


def not_in_jobs(media: list[MediaDefinition]) -> AssetSelection:
    """The checks sensors evaluate, which no job runs: `in_by_0900` and `token_health`."""
    return freshness.not_in_jobs(media) | token_health.not_in_jobs(media)


# The intraday twins (INCR) have partitions of their own, including today; their jobs are theirs.
_DAILY = AssetSelection.all() - AssetSelection.groups(INTRADAY_GROUP)

# Every asset of every media for one (day, tenant): what the seed's scheduler ran as ~35 jobs.
all_media_daily = define_asset_job(
    "all_media_daily",
    selection=_DAILY - not_in_jobs(all_media()),
    description="Every media's agents, advertisers, funds and reports for one (day, tenant) partition.",
)

# Reports only (funds are a point-in-time balance and must not be overwritten later).
reports_lookback = define_asset_job(
    "reports_lookback",
    selection=AssetSelection.tag("layer", "reports") - not_in_jobs(all_media()),
    description="Re-fetch reports of recent days: the media revise them for a few days.",
)


def media_daily(media: MediaDefinition):  # -> an unresolved asset job (not a public type)
    """One media's whole graph, tagged so the instance's `media` run-tag limit applies to it."""
    return define_asset_job(
        f"{media.name}_daily",
        selection=AssetSelection.groups(media.name) - not_in_jobs([media]),
        tags={"media": media.name},
        description=f"{media.name}: agents, advertisers, funds and reports for one (day, tenant) partition.",
    )


def rerun_failed_job(media: list[MediaDefinition]):  # -> an unresolved asset job
    """On call's one action: for a partition, re-fetch exactly what failed in the latest
    materialization of every asset (the step's `failed_only`); assets where nothing failed are
    skipped. In the UI: Jobs -> rerun_failed -> Materialize, pick the partition, Launch; from a
    shell: `ark-assets rerun-failed KEY`."""
    return define_asset_job(
        "rerun_failed",
        selection=_DAILY - not_in_jobs(media),
        config={"ops": {m.name: {"config": {"failed_only": True}} for m in media}},
        description="Re-fetch exactly the accounts (an advertiser list: the agents) that failed in each "
        "asset's latest materialization of one (day, tenant) partition; assets where nothing failed "
        "are skipped.",
    )
