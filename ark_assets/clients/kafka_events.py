"""Job log events to Kafka, without ever failing or stalling a run over the broker (no Dagster).

A log event is worth less than the data the run fetches, so a broker outage must cost seconds,
never the run: events the broker cannot take go to an on-disk spool (JSON lines) and are
delivered, oldest first, by a later emit, by `flush` or at close -- possibly by the next run.
Delivery is at-least-once: an event whose acknowledgement is lost may arrive twice.
`KafkaLogResource` is the Dagster face of this client.
"""

from __future__ import annotations

import json
import logging
import re
import threading
import time
import uuid
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from kafka import KafkaProducer
from kafka.errors import KafkaError, KafkaTimeoutError, RetriableError
from kafka.producer.future import FutureRecordMetadata

from ark_assets.clients.errors import STACK_HINT
from ark_assets.clients.job_events import JobLogEvent
from ark_assets.clients.kafka_spool import EventSpool

logger = logging.getLogger(__name__)

TOPIC_PREFIX = re.compile(r"[A-Za-z0-9._-]*")  # the characters Kafka allows in topic names
# After the broker failed us, go straight to the spool for this long: a down broker then costs
# one connect timeout per half minute instead of one per event.
RECONNECT_AFTER_S = 30.0
# Warn on the first dropped event and then once per this many, so a full spool cannot flood the log.
DROP_WARNING_EVERY = 1000


@dataclass
class KafkaDeliveryStats:
    """What happened to the events of this resource so far."""

    delivered: int = 0  # acknowledged by the broker on the first try
    spooled: int = 0  # written to the spool because the broker could not take them
    redelivered: int = 0  # delivered from the spool (by this resource, whoever spooled them)
    dropped: int = 0  # lost, and logged: the spool was full, or the broker refused them for good


class KafkaEventLog:
    """One process's producer, spool and counters for job log events.

    Args:
        bootstrap_servers: host:port[,host:port...].
        spool_dir: where undelivered events wait.
        max_spool_events: events beyond this are dropped (and logged).
        timeout_ms: connect, metadata and request timeout: what an unreachable broker costs an emit.
    """

    def __init__(
        self, *, bootstrap_servers: str, spool_dir: str | Path, max_spool_events: int, timeout_ms: int
    ) -> None:
        self._bootstrap = bootstrap_servers
        self._timeout_ms = timeout_ms
        # Kafka requires it to cover request_timeout_ms + linger_ms; the rest allows one retry.
        self._delivery_timeout_ms = 2 * timeout_ms + 100
        self._spool = EventSpool(Path(spool_dir), max_spool_events)
        self._producer: KafkaProducer | None = None
        self._retry_at = 0.0  # time.monotonic() before which the broker is taken as down
        self._lock = threading.Lock()  # guards the producer, the counters and _retry_at
        self._drain_lock = threading.Lock()
        self._stats = KafkaDeliveryStats()

    @property
    def stats(self) -> KafkaDeliveryStats:
        with self._lock:
            return replace(self._stats)

    @property
    def spool_path(self) -> Path:
        return self._spool.path

    def emit(self, topic: str, event: JobLogEvent) -> None:
        record = {"id": uuid.uuid4().hex, "topic": topic, "key": event.tenant, "value": event.to_dict()}
        producer = self._connect(force=False)
        if producer is None:
            self._to_spool(record)
            return
        if len(self._spool):
            # Spooled events go ahead of this one; every send settles within the delivery timeout.
            self._redeliver(producer, self._delivery_timeout_ms / 1000)
        try:
            future = _send(producer, record)
        except KafkaError as exc:  # no metadata within timeout_ms, or a record too large to ever send
            self._on_failed(record, exc)
            return
        future.add_callback(self._on_delivered)
        future.add_errback(self._on_failed, record)

    def flush(self, timeout_s: float) -> KafkaDeliveryStats:
        with self._lock:
            producer = self._producer
        if producer is not None:
            try:
                producer.flush(timeout=timeout_s)
            except KafkaError:
                pass  # sends still in flight reach the spool through their errbacks
        if len(self._spool):
            # An explicit flush is worth one connect attempt even while the broker is taken as down.
            producer = self._connect(force=True)
            if producer is not None:
                self._redeliver(producer, timeout_s)
        return self.stats

    def close(self, timeout_s: float) -> None:
        self.flush(timeout_s)
        with self._lock:
            producer, self._producer = self._producer, None
        if producer is not None:
            producer.close(timeout=timeout_s)
        dropped = self.stats.dropped
        if len(self._spool) or dropped:
            logger.warning(
                "Kafka job log: %d events left in the spool %s for a later run, %d dropped",
                len(self._spool),
                self._spool.path,
                dropped,
            )

    def _connect(self, *, force: bool) -> KafkaProducer | None:
        with self._lock:
            if not force and time.monotonic() < self._retry_at:
                return None
            if self._producer is not None:
                return self._producer
            try:
                self._producer = KafkaProducer(
                    bootstrap_servers=self._bootstrap,
                    bootstrap_timeout_ms=self._timeout_ms,
                    max_block_ms=self._timeout_ms,
                    request_timeout_ms=self._timeout_ms,
                    delivery_timeout_ms=self._delivery_timeout_ms,
                )
            except KafkaError as exc:  # kafka-python 3 raises KafkaTimeoutError (2.x: NoBrokersAvailable)
                self._retry_at = time.monotonic() + RECONNECT_AFTER_S
                logger.warning(
                    "Kafka at %s is unreachable (%s); spooling job log events to %s until it is back "
                    "(%s, or point ARK_KAFKA_BOOTSTRAP at a running Kafka)",
                    self._bootstrap,
                    exc,
                    self._spool.path,
                    STACK_HINT,
                )
            return self._producer

    def _redeliver(self, producer: KafkaProducer, timeout_s: float) -> None:
        """Send the spool in order; remove what the broker acknowledged within `timeout_s`."""
        if not self._drain_lock.acquire(blocking=False):
            return  # another thread is draining; it will take these too
        try:
            futures, refused = [], set()
            for record in self._spool.read():
                try:
                    futures.append((record["id"], _send(producer, record)))
                except RetriableError as exc:
                    self._broker_down(exc)
                    break
                except KafkaError as exc:
                    refused.add(record["id"])
                    self._drop(f"Kafka refused it ({exc})")
            try:
                producer.flush(timeout=timeout_s)
            except KafkaError:
                pass  # whatever is not acknowledged stays in the spool
            delivered, unacknowledged = set(), 0
            for record_id, future in futures:
                if future.succeeded():
                    delivered.add(record_id)
                elif future.failed() and not future.retriable():
                    refused.add(record_id)
                    self._drop(f"Kafka refused it ({future.exception})")
                else:  # timed out or failed retriably: stays in the spool
                    unacknowledged += 1
            if unacknowledged:
                self._broker_down(KafkaTimeoutError(f"{unacknowledged} spooled events not acknowledged"))
            if delivered or refused:
                self._spool.remove(delivered | refused)
            with self._lock:
                self._stats.redelivered += len(delivered)
                if delivered:
                    self._retry_at = 0.0
        finally:
            self._drain_lock.release()

    def _on_delivered(self, _metadata: object) -> None:
        with self._lock:
            self._stats.delivered += 1
            self._retry_at = 0.0

    def _on_failed(self, record: dict[str, Any], exc: BaseException) -> None:
        if isinstance(exc, RetriableError):  # broker down or slow, leader moving: try again later
            self._broker_down(exc)
            self._to_spool(record)
        else:  # this record can never be delivered; spooling it would retry it forever
            self._drop(f"Kafka refused it ({exc})")

    def _broker_down(self, exc: BaseException) -> None:
        with self._lock:
            first = time.monotonic() >= self._retry_at
            self._retry_at = time.monotonic() + RECONNECT_AFTER_S
        if first:
            logger.warning("Kafka at %s failed a send (%s); spooling job log events", self._bootstrap, exc)

    def _to_spool(self, record: dict[str, Any]) -> None:
        try:
            if self._spool.append(record):
                with self._lock:
                    self._stats.spooled += 1
                return
            reason = f"the spool is full ({len(self._spool)} events)"
        except OSError as exc:  # disk full, spool dir gone: still no reason to fail the run
            reason = f"the spool cannot be written ({exc})"
        self._drop(reason)

    def _drop(self, reason: str) -> None:
        with self._lock:
            self._stats.dropped += 1
            dropped = self._stats.dropped
        if dropped == 1 or dropped % DROP_WARNING_EVERY == 0:
            logger.warning(
                "Kafka job log event dropped: %s; spool %s; %d dropped so far",
                reason,
                self._spool.path,
                dropped,
            )


def _send(producer: KafkaProducer, record: dict[str, Any]) -> FutureRecordMetadata:
    """Publish one spool-shaped record; the key keeps a tenant's events in one partition, in order."""
    value = json.dumps(record["value"], ensure_ascii=False, default=str).encode("utf-8")
    return producer.send(record["topic"], value=value, key=record["key"].encode("utf-8"))
