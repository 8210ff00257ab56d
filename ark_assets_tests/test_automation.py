"""Sensors and schedules, one state transition per test, evaluated with Dagster's test contexts
against the real MySQL and Redis; and a snapshot of every schedule and sensor the definitions load
(kind, default status, interval or cron, target), so an automation change shows up in review the
way `test_asset_specs.py`'s snapshot shows a lineage change. After an intended change:
`ARK_UPDATE_SNAPSHOTS=1 pytest ark_assets_tests/test_automation.py` and review the diff of
`snapshots/automation.json`.
"""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path

import pymysql
import pytest
import redis
from dagster import (
    AssetKey,
    DagsterEventType,
    DagsterInstance,
    SensorResult,
    SkipReason,
    asset,
    build_run_status_sensor_context,
    build_schedule_context,
    build_sensor_context,
    materialize,
)

from ark_assets.automation.schedules import LOOKBACK_DAYS, daily_yesterday, reports_lookback_schedule
from ark_assets.automation.sensors import build_sensors
from ark_assets.core.days import GMT8
from ark_assets.media.registry import all_media, media
from ark_assets.resources.media_api import deployed_assets
from ark_assets.resources.mysql import MySQLResource
from ark_assets.resources.redis_store import RedisResource
from ark_assets.resources.sentry import SentryResource, close_sdk
from ark_assets_tests.eton import create_eton, upsert_agent, upsert_tenant
from ark_assets_tests.sentry_sink import SentrySink

pytestmark = pytest.mark.stack  # every test here runs against the real services


SENSORS = {s.name: s for s in build_sensors(all_media())}
SNAPSHOT = Path(__file__).with_name("snapshots") / "automation.json"


# ##### FIXTURES


@pytest.fixture
def mysql() -> Iterator[MySQLResource]:
    unique = secrets.token_hex(4)
    resource = MySQLResource(log_database=f"ark_t_{unique}_nyfz", eton_database=f"ark_t_{unique}_eton")
    resource.migrate()
    create_eton(resource.eton_database)
    yield resource
    conn = pymysql.connect(host="127.0.0.1", user="ark", password="ark")
    with conn.cursor() as cur:
        for db in (resource.log_database, resource.eton_database):
            cur.execute(f"DROP DATABASE IF EXISTS `{db}`")
    conn.close()


@pytest.fixture
def tenant() -> Iterator[str]:
    alias = f"T4{secrets.randbelow(10**9):09d}"
    yield alias
    raw = redis.Redis(db=2)
    for key in raw.scan_iter(match=f"*_{alias}*"):
        raw.delete(key)


def _yesterday() -> date:
    return datetime.now(GMT8).date() - timedelta(days=1)


# ##### THE SNAPSHOT


def _automation() -> dict:
    """Every schedule and sensor of the loaded definitions, as a reviewer reads them."""
    from ark_assets.definitions import defs

    repository = defs.get_repository_def()
    graph = defs.resolve_asset_graph()
    current: dict[str, dict] = {}
    for schedule in repository.schedule_defs:
        current[schedule.name] = {
            "kind": "schedule",
            "cron": schedule.cron_schedule,
            "timezone": schedule.execution_timezone,
            "job": schedule.job_name,
            "default": schedule.default_status.value,
        }
    for sensor in repository.sensor_defs:
        selection = sensor.asset_selection
        current[sensor.name] = {
            "kind": sensor.sensor_type.value,
            "interval_s": sensor.minimum_interval_seconds,
            "default": sensor.default_status.value,
            "targets": sorted(k.to_user_string() for k in selection.resolve(graph)) if selection else None,
        }
    return dict(sorted(current.items()))


def test_every_schedule_and_sensor_matches_the_snapshot() -> None:
    current = _automation()
    if os.environ.get("ARK_UPDATE_SNAPSHOTS"):
        SNAPSHOT.write_text(json.dumps(current, indent=2, ensure_ascii=False) + "\n")
    assert current == json.loads(SNAPSHOT.read_text()), (
        "schedules or sensors changed: review, then ARK_UPDATE_SNAPSHOTS=1"
    )


# ##### SCHEDULES


def test_the_daily_schedule_asks_for_yesterday_once_per_active_tenant(mysql: MySQLResource) -> None:
    upsert_tenant(mysql.eton_database, tenant_alias="T100117", status=1)
    upsert_tenant(mysql.eton_database, tenant_alias="T100118", status=1)
    upsert_tenant(mysql.eton_database, tenant_alias="T999", status=0)  # inactive: never scheduled
    context = build_schedule_context(
        scheduled_execution_time=datetime(2026, 11, 26, 8, 0, tzinfo=GMT8), resources={"mysql": mysql}
    )
    requests = daily_yesterday(context)
    assert sorted(r.partition_key for r in requests) == ["2026-11-25|T100117", "2026-11-25|T100118"]
    assert {r.run_key for r in requests} == {"daily:2026-11-25:T100117", "daily:2026-11-25:T100118"}


def test_the_lookback_schedule_refetches_the_days_before_yesterday(mysql: MySQLResource) -> None:
    upsert_tenant(mysql.eton_database, tenant_alias="T100117", status=1)
    context = build_schedule_context(
        scheduled_execution_time=datetime(2026, 11, 26, 12, 0, tzinfo=GMT8), resources={"mysql": mysql}
    )
    keys = sorted(r.partition_key for r in reports_lookback_schedule(context))
    assert keys == [f"2026-11-{24 - n}|T100117" for n in reversed(range(LOOKBACK_DAYS))]


def test_no_active_tenant_skips_with_a_reason(mysql: MySQLResource) -> None:
    context = build_schedule_context(
        scheduled_execution_time=datetime(2026, 11, 26, 8, 0, tzinfo=GMT8), resources={"mysql": mysql}
    )
    assert isinstance(daily_yesterday(context), SkipReason)


# ##### SENSORS


def test_new_tenants_become_partitions_then_agent_changes_refresh_agent_lists(mysql: MySQLResource) -> None:
    sensor = SENSORS["tenants_and_agents_sync"]
    instance = DagsterInstance.ephemeral()
    upsert_tenant(mysql.eton_database, tenant_alias="T100117", status=1)
    upsert_agent(mysql.eton_database, tenant_alias="T100117", media="gdt", agent_id="1050262")
    first = sensor(build_sensor_context(instance=instance, resources={"mysql": mysql}))
    assert isinstance(first, SensorResult)
    assert first.dynamic_partitions_requests[0].partition_keys == ["T100117"]
    assert first.run_requests == []  # a new tenant has nothing to refresh yet
    instance.add_dynamic_partitions("tenants", ["T100117"])

    unchanged = sensor(
        build_sensor_context(instance=instance, cursor=first.cursor, resources={"mysql": mysql})
    )
    assert isinstance(unchanged, SkipReason)

    upsert_agent(
        mysql.eton_database, tenant_alias="T100117", media="gdt", agent_id="1050263"
    )  # a new active gdt agent
    changed = sensor(build_sensor_context(instance=instance, cursor=first.cursor, resources={"mysql": mysql}))
    [request] = changed.run_requests
    assert request.asset_selection == [AssetKey(["gdt", "agents"])]
    assert request.partition_key == f"{_yesterday()}|T100117"


def test_account_lists_arriving_in_redis_trigger_that_medias_funds_and_reports(tenant: str) -> None:
    sensor = SENSORS["account_lists_arrived"]
    instance = DagsterInstance.ephemeral()
    instance.add_dynamic_partitions("tenants", [tenant])
    with build_sensor_context(instance=instance, resources={"redis": RedisResource()}) as context:
        assert isinstance(sensor(context), SkipReason)  # nothing in Redis yet

    RedisResource().sets.write_accounts("gdt", tenant, _yesterday(), {"10707125": "1050262"})
    with build_sensor_context(instance=instance, resources={"redis": RedisResource()}) as context:
        [request] = sensor(context)
    assert request.partition_key == f"{_yesterday()}|{tenant}"
    assert set(request.asset_selection) == {
        AssetKey(["gdt", d.name]) for d in deployed_assets(media("gdt")).datasets
    }
    assert request.tags == {"media": "gdt"}


def test_a_failed_run_is_reported_to_sentry_with_its_partition(mysql: MySQLResource) -> None:
    @asset
    def broken() -> None:
        raise RuntimeError("the media said no")

    instance = DagsterInstance.ephemeral()
    result = materialize(
        [broken],
        instance=instance,
        raise_on_error=False,
        tags={"media": "jrtt", "dagster/partition": "2026-11-25|T100117"},
    )
    failure = next(e for e in result.all_events if e.event_type == DagsterEventType.RUN_FAILURE)
    with SentrySink() as sink:
        with build_run_status_sensor_context(
            sensor_name="run_failure_alert",
            dagster_event=failure,
            dagster_instance=instance,
            dagster_run=result.dagster_run,
            resources={"sentry": SentryResource(dsn=sink.dsn), "mysql": mysql},
        ) as status_context:
            SENSORS["run_failure_alert"](status_context.for_run_failure())
        [event] = sink.wait_for(1, timeout=10)
        close_sdk(timeout_s=1)
    assert event["tags"]["tenant"] == "T100117" and event["tags"]["media"] == "jrtt"
    assert event["tags"]["date"] == "2026-11-25"
    assert result.dagster_run.run_id in json.dumps(event)
