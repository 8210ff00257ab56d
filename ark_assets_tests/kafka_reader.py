"""Reading Kafka topics back in tests: by manual partition assignment, from the beginning."""

from __future__ import annotations

import json
import time
from typing import Any

from kafka import KafkaConsumer, TopicPartition
from kafka.consumer.fetcher import ConsumerRecord


def consume_records(
    bootstrap_servers: str, topic: str, *, timeout_s: float = 10.0, min_records: int | None = None
) -> list[ConsumerRecord]:
    """Every record of `topic` from the beginning, waiting up to `timeout_s` for `min_records`.

    Reads by manual partition assignment rather than as a consumer group: reading back is not
    consuming, and a group join would cost the broker's initial rebalance delay (3 s) per call.
    """
    consumer = KafkaConsumer(
        bootstrap_servers=bootstrap_servers,
        group_id=None,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    records: list[ConsumerRecord] = []
    deadline = time.monotonic() + timeout_s
    try:
        while time.monotonic() < deadline and (min_records is None or len(records) < min_records):
            if not consumer.assignment():
                partitions = consumer.partitions_for_topic(topic)
                if not partitions:
                    time.sleep(0.1)  # the topic does not exist (yet)
                    continue
                consumer.assign([TopicPartition(topic, p) for p in sorted(partitions)])
            for batch in consumer.poll(timeout_ms=200).values():
                records.extend(batch)
    finally:
        consumer.close()
    return sorted(records, key=lambda r: (r.partition, r.offset))


def consume_events(
    bootstrap_servers: str, topic: str, *, timeout_s: float = 10.0, min_events: int | None = None
) -> list[dict[str, Any]]:
    """The decoded event dicts of `topic` (see `consume_records`)."""
    records = consume_records(bootstrap_servers, topic, timeout_s=timeout_s, min_records=min_events)
    return [json.loads(record.value) for record in records]
