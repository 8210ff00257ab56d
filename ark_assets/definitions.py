"""The Dagster definitions of Ark Assets: what `dagster dev -w workspace.yaml` loads.

Resources are configured from `ARK_*` environment variables with loopback defaults (see
`resources/env.py`); the asset graph is built from each media's declarations
(`media/<media>.py: ASSETS`) by the factories in `assets/factories.py`; every job's executor is
chosen by `ARK_EXECUTOR` (`execution.py`).
"""

from __future__ import annotations

from dagster import Definitions

from ark_assets.assets.checks import build_checks
from ark_assets.assets.factories import media_assets
from ark_assets.automation.jobs import all_media_daily, media_daily, reports_lookback
from ark_assets.automation.schedules import daily_yesterday, reports_lookback_schedule
from ark_assets.automation.sensors import build_sensors
from ark_assets.execution import executor_from_env
from ark_assets.io.hbase_io_manager import hbase_io_manager_from_env
from ark_assets.media import Media, gdt, jrtt, wx
from ark_assets.resources.hbase import hbase_resource_from_env
from ark_assets.resources.kafka_log import kafka_log_resource_from_env
from ark_assets.resources.media_api import media_api_resource_from_env
from ark_assets.resources.mysql import mysql_resource_from_env
from ark_assets.resources.redis_store import redis_resource_from_env
from ark_assets.resources.sentry import sentry_resource_from_env

DECLARATIONS = {Media.GDT: gdt.ASSETS, Media.JRTT: jrtt.ASSETS, Media.WX: wx.ASSETS}


def build_resources() -> dict[str, object]:
    """The platform's resources by key, as assets and sensors ask for them."""
    return {
        "io_manager": hbase_io_manager_from_env(),
        "redis": redis_resource_from_env(),
        "hbase": hbase_resource_from_env(),
        "mysql": mysql_resource_from_env(),
        "kafka_log": kafka_log_resource_from_env(),
        "sentry": sentry_resource_from_env(),
        "media_api": media_api_resource_from_env(),
    }


def build_assets() -> list:
    return [a for media, declared in DECLARATIONS.items() for a in media_assets(media, declared)]


ASSETS = build_assets()

defs = Definitions(
    assets=ASSETS,
    asset_checks=build_checks(ASSETS),
    jobs=[all_media_daily, *media_daily.values(), reports_lookback],
    schedules=[daily_yesterday, reports_lookback_schedule],
    sensors=build_sensors(DECLARATIONS),
    resources=build_resources(),
    executor=executor_from_env(),  # ARK_EXECUTOR: multiprocess (default) or celery (execution.py)
)
