"""The seed's bookkeeping around every fetch, as one resource: run log, job events, alerts.

A fetch asset records its run in three places -- a MySQL run-log row (start and end), Kafka job
events on the media's topic, Sentry for failures and alerts -- so it asks for this one resource
instead of three. The three are ordinary resources of their own (sensors use MySQL and Sentry
directly); here they are nested, configured once.
"""

from __future__ import annotations

from dagster import ConfigurableResource

from ark_assets.resources.kafka_log import KafkaLogResource
from ark_assets.resources.mysql import MySQLResource
from ark_assets.resources.sentry import SentryResource


class RunLogResource(ConfigurableResource):
    """Where a fetch asset's run is recorded.

    Args:
        mysql: the `nyfz` run, request and response logs.
        kafka_log: the media's job log topic.
        sentry: failures and alerts.
    """

    mysql: MySQLResource
    kafka_log: KafkaLogResource
    sentry: SentryResource
