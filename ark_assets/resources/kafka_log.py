"""Job log events per media on Kafka (`{prefix}{media}_api_log`): the Dagster resource.

Delivery (the spool when the broker is down, at-least-once redelivery) is `KafkaEventLog`'s, in
`clients/kafka_events.py`; this resource holds the configuration and one client per process.
"""

from __future__ import annotations

import threading
from pathlib import Path

from dagster import ConfigurableResource, InitResourceContext
from pydantic import Field, PrivateAttr

from ark_assets.clients.job_events import JobLogEvent
from ark_assets.clients.kafka_events import TOPIC_PREFIX, KafkaDeliveryStats, KafkaEventLog
from ark_assets.media.declare import MediaDefinition
from ark_assets.media.registry import media as media_named
from ark_assets.resources.env import configured
from ark_assets.settings import default_of, settings

FLUSH_TIMEOUT_S = 10.0

_CLIENT_INIT = threading.Lock()


class KafkaLogResource(ConfigurableResource):
    """Publishes job log events per media; a broker outage spools them instead of failing the run."""

    bootstrap_servers: str = Field(
        default=default_of("kafka_bootstrap"), description="host:port[,host:port...]"
    )
    topic_prefix: str = Field(
        default=default_of("kafka_topic_prefix"), description="prepended to `{media}_api_log`"
    )
    spool_dir: str = Field(
        default=default_of("kafka_spool_dir"),
        description="where undelivered events wait (relative paths are from the working directory)",
    )
    max_spool_events: int = Field(default=100_000, gt=0, description="events beyond this are dropped")
    timeout_ms: int = Field(
        default=2_000,
        gt=0,
        description="connect, metadata and request timeout: what an unreachable broker costs an emit",
    )

    _client: KafkaEventLog | None = PrivateAttr(default=None)

    def setup_for_execution(self, context: InitResourceContext) -> None:
        self._get_client()

    def teardown_after_execution(self, context: InitResourceContext) -> None:
        if self._client is not None:
            self._client.close(FLUSH_TIMEOUT_S)

    def topic_for(self, media: MediaDefinition | str) -> str:
        """The topic a media's events go to: `{topic_prefix}{media}_api_log`."""
        return f"{self.topic_prefix}{media_named(media).name}_api_log"

    def emit(self, media: MediaDefinition | str, event: JobLogEvent) -> None:
        """Publish `event` to the media's topic, or spool it; never raises over the broker.

        Args:
            media: the media the job pulls from; an unknown media is a ValueError.
            event: the job log event (already scrubbed of secrets).
        """
        self._get_client().emit(self.topic_for(media), event)

    def flush(self, timeout_s: float = FLUSH_TIMEOUT_S) -> KafkaDeliveryStats:
        """Wait for in-flight sends, then deliver the spool in order.

        Returns:
            the delivery counters after the flush.
        """
        return self._get_client().flush(timeout_s)

    @property
    def stats(self) -> KafkaDeliveryStats:
        """A snapshot of the delivery counters."""
        return self._get_client().stats

    @property
    def spool_path(self) -> Path:
        """The spool file (JSON lines), for operators and tests."""
        return self._get_client().spool_path

    def _get_client(self) -> KafkaEventLog:
        # Lazy as well as in setup_for_execution, so the resource also works outside a Dagster run.
        with _CLIENT_INIT:
            if self._client is None:
                if not TOPIC_PREFIX.fullmatch(self.topic_prefix):
                    raise ValueError(
                        f"topic_prefix {self.topic_prefix!r} may only hold ASCII letters, digits, "
                        f"'.', '_' and '-'"
                    )
                self._client = KafkaEventLog(
                    bootstrap_servers=self.bootstrap_servers,
                    spool_dir=self.spool_dir,
                    max_spool_events=self.max_spool_events,
                    timeout_ms=self.timeout_ms,
                )
            return self._client


def kafka_log_resource_from_env() -> KafkaLogResource:
    """The resource configured by ARK_KAFKA_BOOTSTRAP, ARK_KAFKA_TOPIC_PREFIX and ARK_KAFKA_SPOOL_DIR."""
    s = settings()
    return KafkaLogResource(
        bootstrap_servers=configured(s, "kafka_bootstrap"),
        topic_prefix=configured(s, "kafka_topic_prefix"),
        spool_dir=configured(s, "kafka_spool_dir"),
    )
