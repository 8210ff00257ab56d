"""Schedules: yesterday's partitions after the media close the day, and a lookback re-fetch.

The media's daily data for a GMT+8 day is complete after 08:00 the next morning (the media's docs),
so the daily schedule runs at 08:00 GMT+8 for yesterday, one run per active tenant. Reports
keep being revised for a few days (late attribution), so a second schedule re-fetches the
reports of the `LOOKBACK_DAYS` days before yesterday; funds are a point-in-time balance and
are never re-fetched for past days.
"""

from datetime import date, timedelta

from dagster import RunRequest, ScheduleEvaluationContext, SkipReason, schedule

from ark_assets.automation.jobs import all_media_daily, reports_lookback
from ark_assets.core.days import GMT8_NAME, yesterday
from ark_assets.partitions import partition_key
from ark_assets.resources.mysql import MySQLResource

LOOKBACK_DAYS = 3  # how long the media revise a day's reports (the simulator's revision window too)


def _yesterday(context: ScheduleEvaluationContext) -> date:
    return yesterday(context.scheduled_execution_time)


@schedule(
    name="daily_yesterday",
    job=all_media_daily,
    cron_schedule="0 8 * * *",
    execution_timezone=GMT8_NAME,
    description="08:00 GMT+8: every media for yesterday, one run per active tenant.",
)
def daily_yesterday(context: ScheduleEvaluationContext, mysql: MySQLResource):
    day = _yesterday(context)
    tenants = mysql.active_tenants()
    if not tenants:
        return SkipReason("no active tenant in eton.tenant (status = 1)")
    return [
        RunRequest(run_key=f"daily:{day}:{tenant}", partition_key=str(partition_key(day, tenant)))
        for tenant in tenants
    ]


@schedule(
    name="reports_lookback",
    job=reports_lookback,
    cron_schedule="0 12 * * *",
    execution_timezone=GMT8_NAME,
    description=f"12:00 GMT+8: re-fetch reports of the {LOOKBACK_DAYS} days before yesterday (revisions).",
)
def reports_lookback_schedule(context: ScheduleEvaluationContext, mysql: MySQLResource):
    yesterday = _yesterday(context)
    tenants = mysql.active_tenants()
    if not tenants:
        return SkipReason("no active tenant in eton.tenant (status = 1)")
    days = [yesterday - timedelta(days=n) for n in range(1, LOOKBACK_DAYS + 1)]
    return [
        RunRequest(
            run_key=f"lookback:{yesterday}:{day}:{tenant}", partition_key=str(partition_key(day, tenant))
        )
        for day in days
        for tenant in tenants
    ]
