"""INCR's job (`<media>_intraday_refresh`) and schedule (`<media>_intraday`) per media: today's
partition of its intraday assets (op `<media>_intraday`), every `incr_min` minutes.

The schedule ships switched off, like the others (`dagster schedule start <media>_intraday`, the
UI's Automation page, or `make demo`). Each tick requests one run per active tenant for today's
partition, with `dagster/priority` -1, unless a daily run of the media is queued or running: then
the tick is skipped (the refresh yields to it, `assets/intraday.py`). The minutes come from the
media's declaration (`incr_min`, 60 unless it says otherwise) or `ARK_<MEDIA>_INCR_MIN`.
"""

from __future__ import annotations

import os

from dagster import (
    AssetSelection,
    DefaultScheduleStatus,
    RunRequest,
    ScheduleDefinition,
    ScheduleEvaluationContext,
    SkipReason,
    define_asset_job,
    schedule,
)

from ark_assets.assets.intraday import PRIORITY, TAG, daily_in_flight, intraday_datasets
from ark_assets.assets.specs import INTRADAY_GROUP
from ark_assets.core.days import GMT8_NAME, today
from ark_assets.media.declare import MediaDefinition
from ark_assets.partitions import partition_key
from ark_assets.resources.mysql import MySQLResource


def incr_min(media: MediaDefinition) -> int:
    """`ARK_<MEDIA>_INCR_MIN` when set, else the declaration's `incr_min`."""
    name = f"ARK_{media.name.upper()}_INCR_MIN"
    value = os.environ.get(name, "").strip()
    if not value:
        return media.incr_min
    minutes = int(value) if value.isdigit() else 0
    if not (0 < minutes <= 1440 and (60 % minutes == 0 or minutes % 60 == 0)):
        raise ValueError(
            f"{name}={value!r}: expected minutes that divide an hour (5, 15, 30, 60) or whole hours"
        )
    return minutes


def cron_every(minutes: int) -> str:
    """A cron for every `minutes`: within the hour from :00, hourly and longer at :05 (so the hour
    that just ended is complete at the media)."""
    if minutes < 60:
        return f"*/{minutes} * * * *"
    hours = minutes // 60
    return "5 * * * *" if hours == 1 else f"5 */{hours} * * *"


def intraday_job(media: MediaDefinition):  # -> an unresolved asset job
    return define_asset_job(
        f"{media.name}_intraday_refresh",
        selection=AssetSelection.groups(INTRADAY_GROUP) & AssetSelection.tag("media", media.name),
        tags={"dagster/priority": PRIORITY, TAG: media.name},
        description=f"{media.name}: today's intraday datasets so far (INCR), for one tenant.",
    )


def intraday_schedule(media: MediaDefinition) -> ScheduleDefinition:
    minutes = incr_min(media)

    @schedule(
        name=f"{media.name}_intraday",
        job=intraday_job(media),
        cron_schedule=cron_every(minutes),
        execution_timezone=GMT8_NAME,
        default_status=DefaultScheduleStatus.STOPPED,
        description=f"Every {minutes} minutes: today's {media.name} funds and hourly reports so far, one "
        "run per active tenant; skipped while a daily run of the media is in flight.",
    )
    def _intraday(context: ScheduleEvaluationContext, mysql: MySQLResource):
        busy = daily_in_flight(context.instance, media)
        if busy is not None:
            return SkipReason(f"run {busy.run_id} ({busy.job_name}) of {media.name} is in flight: yielding")
        tenants = mysql.active_tenants()
        if not tenants:
            return SkipReason("no active tenant in eton.tenant (status = 1)")
        day, at = today(context.scheduled_execution_time), f"{context.scheduled_execution_time:%Y%m%d%H%M}"
        return [
            RunRequest(
                run_key=f"intraday:{media.name}:{tenant}:{at}",
                partition_key=str(partition_key(day, tenant)),
                tags={"dagster/priority": PRIORITY, TAG: media.name},
            )
            for tenant in tenants
        ]

    return _intraday


def intraday_schedules(media: list[MediaDefinition]) -> list[ScheduleDefinition]:
    """One per media that declares an intraday dataset."""
    return [intraday_schedule(m) for m in media if intraday_datasets(m)]
