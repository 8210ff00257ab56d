"""Jobs: the seed's "full manual run" of every media in one launch, and one job per media."""

from __future__ import annotations

from dagster import AssetSelection, define_asset_job

from ark_assets.media import Media

# Every asset of every media for one (day, tenant): what the seed's scheduler ran as ~35 jobs.
all_media_daily = define_asset_job(
    "all_media_daily",
    selection=AssetSelection.all(),
    description="Every media's agents, advertisers, funds and reports for one (day, tenant) partition.",
)

# One job per media, tagged so the instance's `media` run-tag limit keeps one run per media at a time.
media_daily = {
    media: define_asset_job(
        f"{media}_daily",
        selection=AssetSelection.groups(media.value),
        tags={"media": media.value},
        description=f"{media}: agents, advertisers, funds and reports for one (day, tenant) partition.",
    )
    for media in Media
}

# Reports only (funds are a point-in-time balance and must not be overwritten later).
reports_lookback = define_asset_job(
    "reports_lookback",
    selection=AssetSelection.tag("layer", "reports"),
    description="Re-fetch reports of recent days: the media revise them for a few days.",
)
