"""The Dagster definitions of Ark Assets: what `dagster dev -w workspace.yaml` loads.

Resources are configured from `ARK_*` environment variables with loopback defaults (see
`resources/env.py`). The asset graph (agents → advertisers → funds / reports per media) is
added on top of these resources.
"""

from __future__ import annotations

from dagster import Definitions

from ark_assets.resources.hbase import hbase_resource_from_env
from ark_assets.resources.kafka_log import kafka_log_resource_from_env
from ark_assets.resources.mysql import mysql_resource_from_env
from ark_assets.resources.redis_store import redis_resource_from_env
from ark_assets.resources.sentry import sentry_resource_from_env


def build_resources() -> dict[str, object]:
    """The platform's resources by key, as assets and sensors ask for them."""
    return {
        "redis": redis_resource_from_env(),
        "hbase": hbase_resource_from_env(),
        "mysql": mysql_resource_from_env(),
        "kafka_log": kafka_log_resource_from_env(),
        "sentry": sentry_resource_from_env(),
    }


defs = Definitions(resources=build_resources())
