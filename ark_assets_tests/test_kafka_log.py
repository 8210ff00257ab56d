"""Contract of the Kafka job log (`KafkaLogResource`), against the real local broker at 127.0.0.1:9092.

- events arrive on `{topic_prefix}{media}_api_log` field for field, in order, keyed by tenant, with
  the job's parameters (`argv`) and `log_content` scrubbed of tokens and passwords;
- with no prefix the topics are exactly the seed's `gdt_api_log`, `jrtt_api_log`, `wx_api_log`;
- an event with a malformed `data_date` cannot be built;
- a broker outage never raises from `emit`: events go to the on-disk spool, and a later resource on
  the same spool delivers them (on flush, ahead of its next emit, at teardown), emptying the spool;
- what cannot be kept is counted as dropped and logged: a full spool, a record Kafka refuses.

Every test writes to topics under its own uuid prefix, so tests run in any order and can be rerun.
"""

from __future__ import annotations

import json
import logging
import re
import uuid
from contextlib import AbstractContextManager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from dagster import DagsterResourceFunctionError, build_resources

from ark_assets.clients.job_events import GMT8, LOG_TIME_FORMAT, JobLogEvent, LogType
from ark_assets.clients.kafka_events import KafkaDeliveryStats
from ark_assets.core.redact import remember_secret
from ark_assets.resources.kafka_log import KafkaLogResource
from ark_assets_tests.kafka_reader import consume_events, consume_records

BOOTSTRAP = "127.0.0.1:9092"
UNREACHABLE = "127.0.0.1:1"  # nothing listens on port 1: connections are refused at once

# ##### FIXTURES


@pytest.fixture
def prefix() -> str:
    return f"t{uuid.uuid4().hex[:12]}_"


@pytest.fixture
def spool_dir(tmp_path: Path) -> Path:
    return tmp_path / "spool"


def make_event(log_type: LogType = LogType.API_JOB_START, **fields: object) -> JobLogEvent:
    values: dict[str, object] = {
        "tenant": "T100117",
        "cur_job": "dmp_task_gdt_api_3",
        "interface": "funds/get",
        "agent_id": 1050262,
        "data_date": "2020-05-10",
        "argv": {"agent_id": 1050262, "tenant_alias": "T100117", "data_date": "2020-05-10"},
        "log_content": "ApiHandler start",
        "log_type": log_type,
    }
    return JobLogEvent(**(values | fields))


def live(prefix: str, spool_dir: Path) -> AbstractContextManager[Any]:
    """A resource on the real broker, set up and torn down as in a Dagster run."""
    return build_resources({"kafka_log": KafkaLogResource(topic_prefix=prefix, spool_dir=str(spool_dir))})


def spool_lines(resource: KafkaLogResource) -> list[dict]:
    path = resource.spool_path
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def spool_events(spool_dir: Path, prefix: str, media: str, count: int) -> list[JobLogEvent]:
    """Emit `count` events through a resource whose broker is unreachable, so they land in the spool."""
    down = KafkaLogResource(bootstrap_servers=UNREACHABLE, topic_prefix=prefix, spool_dir=str(spool_dir))
    events = [make_event(log_content=f"spooled {i}") for i in range(count)]
    for event in events:
        down.emit(media, event)
    assert down.stats == KafkaDeliveryStats(spooled=count)
    return events


# ##### TESTS


@pytest.mark.stack
def test_round_trip_keeps_fields_order_and_key_and_redacts_secrets(prefix: str, spool_dir: Path) -> None:
    token = f"tok{uuid.uuid4().hex}"
    remember_secret(token)
    argv = {
        "agent_id": 1050262,
        "tenant_alias": "T100117",
        "data_date": "2020-05-10",
        "access_token": token,
        "password": "hunter2-secret",
        "account_list": ["99872976879"],
    }
    start = make_event(LogType.API_JOB_START, argv=argv, log_content=f"拉取资金 start, token {token}")
    end = make_event(LogType.API_JOB_END, argv=argv, log_content="ApiHandler end password=hunter2-secret")

    with live(prefix, spool_dir) as res:
        res.kafka_log.emit("gdt", start)
        res.kafka_log.emit("gdt", end)
        assert res.kafka_log.flush() == KafkaDeliveryStats(delivered=2)

    records = consume_records(BOOTSTRAP, f"{prefix}gdt_api_log", min_records=2)
    assert [record.key for record in records] == [b"T100117", b"T100117"]
    raw = b"".join(record.value for record in records)
    assert token.encode() not in raw and b"hunter2" not in raw
    assert "拉取资金".encode() in raw  # ensure_ascii=False: readable UTF-8, not \u escapes

    redacted_argv = argv | {"access_token": "[redacted]", "password": "[redacted]"}
    common = {
        "tenant": "T100117",
        "cur_job": "dmp_task_gdt_api_3",
        "interface": "funds/get",
        "agent_id": "1050262",
        "data_date": "2020-05-10",
        "argv": redacted_argv,
    }
    assert [json.loads(record.value) for record in records] == [
        common
        | {
            "log_content": "拉取资金 start, token [redacted]",
            "log_type": "API_JOB_START",
            "log_time": start.log_time,
        },
        common
        | {
            "log_content": "ApiHandler end password=[redacted]",
            "log_type": "API_JOB_END",
            "log_time": end.log_time,
        },
    ]
    # log_time is the wall clock in GMT+8, whatever the machine's time zone
    logged = datetime.strptime(start.log_time, LOG_TIME_FORMAT).replace(tzinfo=GMT8)
    assert abs(datetime.now(GMT8) - logged) < timedelta(minutes=1)


@pytest.mark.parametrize(
    ("media", "topic"),
    [("gdt", "gdt_api_log"), ("jrtt", "jrtt_api_log"), ("wx", "wx_api_log")],
)
def test_default_topics_are_the_seeds(media: str, topic: str) -> None:
    assert KafkaLogResource().topic_for(media) == topic


@pytest.mark.parametrize(
    "bad",
    [
        "20200510",  # the Redis-key form, without dashes
        "2020/05/10",  # wrong separator
        "2020-5-10",  # unpadded month
        "2020-02-30",  # not a real day
        "",  # missing
    ],
)
def test_malformed_data_date_is_refused_naming_the_value(bad: str) -> None:
    with pytest.raises(ValueError, match=re.escape(repr(bad))):
        make_event(data_date=bad)


def test_illegal_topic_prefix_fails_at_setup() -> None:
    with pytest.raises(DagsterResourceFunctionError) as failure:
        with build_resources({"kafka_log": KafkaLogResource(topic_prefix="bad prefix!")}):
            pass
    assert "topic_prefix 'bad prefix!'" in str(failure.value.user_exception)


@pytest.mark.stack
def test_unreachable_broker_spools_and_a_later_resource_delivers_on_flush(
    prefix: str, spool_dir: Path
) -> None:
    down = KafkaLogResource(bootstrap_servers=UNREACHABLE, topic_prefix=prefix, spool_dir=str(spool_dir))
    events = [make_event(LogType.API_JOB_START), make_event(LogType.API_JOB_ERROR, log_content="code 11017")]
    for event in events:
        down.emit("jrtt", event)  # must not raise
    assert down.stats == KafkaDeliveryStats(spooled=2)
    assert [line["value"] for line in spool_lines(down)] == [event.to_dict() for event in events]

    with live(prefix, spool_dir) as res:
        assert res.kafka_log.flush() == KafkaDeliveryStats(redelivered=2)
        assert spool_lines(res.kafka_log) == []

    assert consume_events(BOOTSTRAP, f"{prefix}jrtt_api_log", min_events=2) == [e.to_dict() for e in events]


@pytest.mark.stack
def test_next_emit_delivers_the_spool_first(prefix: str, spool_dir: Path) -> None:
    spooled = spool_events(spool_dir, prefix, "wx", 2)
    fresh = make_event(LogType.API_JOB_END)

    with live(prefix, spool_dir) as res:
        res.kafka_log.emit("wx", fresh)
        assert res.kafka_log.flush() == KafkaDeliveryStats(delivered=1, redelivered=2)

    expected = [event.to_dict() for event in [*spooled, fresh]]
    assert consume_events(BOOTSTRAP, f"{prefix}wx_api_log", min_events=3) == expected


@pytest.mark.stack
def test_teardown_delivers_the_spool(prefix: str, spool_dir: Path) -> None:
    spooled = spool_events(spool_dir, prefix, "gdt", 2)

    with live(prefix, spool_dir) as res:
        kafka_log = res.kafka_log

    assert kafka_log.stats == KafkaDeliveryStats(redelivered=2)
    assert spool_lines(kafka_log) == []
    assert consume_events(BOOTSTRAP, f"{prefix}gdt_api_log", min_events=2) == [e.to_dict() for e in spooled]


@pytest.mark.stack
def test_full_spool_counts_and_logs_dropped_events(
    prefix: str, spool_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    down = KafkaLogResource(
        bootstrap_servers=UNREACHABLE, topic_prefix=prefix, spool_dir=str(spool_dir), max_spool_events=2
    )
    with caplog.at_level(logging.WARNING, logger="ark_assets.resources.kafka_log"):
        for i in range(3):
            down.emit("gdt", make_event(log_content=f"event {i}"))

    assert down.stats == KafkaDeliveryStats(spooled=2, dropped=1)
    assert [line["value"]["log_content"] for line in spool_lines(down)] == ["event 0", "event 1"]
    assert any(
        "spool is full (2 events)" in r.getMessage() and "1 dropped so far" in r.getMessage()
        for r in caplog.records
    )


@pytest.mark.stack
def test_a_record_kafka_refuses_is_dropped_and_logged_not_spooled(
    prefix: str, spool_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # over the producer's 1 MB max_request_size (digits: redact_text is slow on long runs of letters)
    too_large = make_event(log_content="0" * 2_000_000)
    fine = make_event()

    with live(prefix, spool_dir) as res:
        with caplog.at_level(logging.WARNING, logger="ark_assets.resources.kafka_log"):
            res.kafka_log.emit("gdt", too_large)
            res.kafka_log.emit("gdt", fine)
        assert res.kafka_log.flush() == KafkaDeliveryStats(delivered=1, dropped=1)
        assert spool_lines(res.kafka_log) == []

    assert any("MessageSizeTooLarge" in r.getMessage() for r in caplog.records)
    assert consume_events(BOOTSTRAP, f"{prefix}gdt_api_log", min_events=1) == [fine.to_dict()]
