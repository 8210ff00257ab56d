"""Every resource of the platform by key, as assets, checks and sensors ask for them.

Everything comes from `ARK_*` variables with loopback defaults (`env.py`); a caller may
replace any resource (a test's table prefix, a simulator URL), and the IO manager and the run
log are then built on the replacements, so one `hbase` or `mysql` is used throughout.
"""

from __future__ import annotations

from typing import Any

import dagster as dg

from ark_assets.io.hbase_io_manager import HBaseIOManager, hbase_io_manager_from_env
from ark_assets.resources.hbase import HBaseResource, hbase_resource_from_env
from ark_assets.resources.kafka_log import KafkaLogResource, kafka_log_resource_from_env
from ark_assets.resources.media_api import MediaApiResource, media_api_resource_from_env
from ark_assets.resources.mysql import MySQLResource, mysql_resource_from_env
from ark_assets.resources.redis_store import RedisResource, redis_resource_from_env
from ark_assets.resources.run_log import RunLogResource
from ark_assets.resources.sentry import SentryResource, sentry_resource_from_env


def platform_resources(
    *,
    hbase: HBaseResource | None = None,
    mysql: MySQLResource | None = None,
    redis: RedisResource | None = None,
    kafka_log: KafkaLogResource | None = None,
    sentry: SentryResource | None = None,
    media_api: MediaApiResource | None = None,
    io_manager: HBaseIOManager | None = None,
) -> dict[str, Any]:
    """`{key: resource}` for every resource key the platform's definitions use."""
    hbase = hbase or hbase_resource_from_env()
    mysql = mysql or mysql_resource_from_env()
    kafka_log = kafka_log or kafka_log_resource_from_env()
    sentry = sentry or sentry_resource_from_env()
    return {
        "io_manager": io_manager or hbase_io_manager_from_env(hbase=hbase),
        "redis": redis or redis_resource_from_env(),
        "hbase": hbase,
        "mysql": mysql,
        "kafka_log": kafka_log,
        "sentry": sentry,
        "media_api": media_api or media_api_resource_from_env(),
        "run_log": RunLogResource(mysql=mysql, kafka_log=kafka_log, sentry=sentry),
    }


@dg.definitions
def defs() -> dg.Definitions:
    return dg.Definitions(resources=platform_resources())
