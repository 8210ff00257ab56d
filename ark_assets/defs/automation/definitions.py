"""What runs without a person: the cross-media jobs, the schedules, and the sensors of every media."""

import dagster as dg

from ark_assets.automation.freshness import freshness_checks, late_partitions_sensor
from ark_assets.automation.intraday import intraday_schedules
from ark_assets.automation.jobs import all_media_daily, reports_lookback, rerun_failed_job
from ark_assets.automation.schedules import daily_yesterday, reports_lookback_schedule
from ark_assets.automation.sensors import build_sensors
from ark_assets.automation.tasks_ahead import tasks_ahead_sensor
from ark_assets.automation.token_health import token_health_checks, token_health_sensor
from ark_assets.media.registry import all_media


@dg.definitions
def defs() -> dg.Definitions:
    return dg.Definitions(
        jobs=[all_media_daily, reports_lookback, rerun_failed_job(all_media())],
        schedules=[daily_yesterday, reports_lookback_schedule, *intraday_schedules(all_media())],
        sensors=[
            *build_sensors(all_media()),
            late_partitions_sensor(all_media()),
            token_health_sensor(all_media()),
            tasks_ahead_sensor(all_media()),
        ],
        asset_checks=[freshness_checks(all_media()), token_health_checks(all_media())],
    )
