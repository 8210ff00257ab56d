"""Contract: yesterday's funds and reports of every tenant are in by 09:00 GMT+8, or it says so.

The `late_partitions` sensor, from 09:00 GMT+8, evaluates `in_by_0900` for yesterday's (date,
tenant) partition of every funds and report asset: failed while a partition has no
materialization, passed once it has; a late tenant is alerted once (Sentry: tenant, date, the late
assets), and a tenant whose data arrives later turns green without a second alert. The instance
is all it reads: no service needed.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest
from dagster import AssetMaterialization, DagsterInstance, SensorResult, SkipReason

from ark_assets.automation.freshness import deadline_of, watch, watched
from ark_assets.core.days import GMT8, yesterday
from ark_assets.media.registry import all_media
from ark_assets.partitions import partition_key
from ark_assets.resources.sentry import SentryResource, close_sdk
from ark_assets_tests.sentry_sink import SentrySink

ASSETS = watched(all_media())
DAY = yesterday()


@pytest.fixture
def instance() -> Iterator[DagsterInstance]:
    with DagsterInstance.ephemeral() as instance:
        instance.add_dynamic_partitions("tenants", ["T1", "T2"])
        yield instance


@pytest.fixture
def sink() -> Iterator[SentrySink]:
    with SentrySink() as sink:
        yield sink
    close_sdk(timeout_s=1)


def _store(instance: DagsterInstance, tenant: str) -> None:
    for asset in ASSETS:
        instance.report_runless_asset_event(
            AssetMaterialization(asset_key=asset, partition=str(partition_key(DAY, tenant)))
        )


def test_before_nine_nothing_is_due(instance: DagsterInstance, sink: SentrySink) -> None:
    early = deadline_of(DAY) - timedelta(minutes=1)
    result = watch(instance, ASSETS, SentryResource(dsn=sink.dsn), early, None)
    assert isinstance(result, SkipReason) and "not due yet" in result.skip_message


def test_a_late_tenant_fails_its_checks_and_is_alerted_once(
    instance: DagsterInstance, sink: SentrySink
) -> None:
    sentry = SentryResource(dsn=sink.dsn)
    _store(instance, "T1")  # T1 is in, T2 is not
    at_nine = deadline_of(DAY) + timedelta(minutes=5)
    first = watch(instance, ASSETS, sentry, at_nine, None)
    assert isinstance(first, SensorResult)
    by_tenant = {}
    for evaluation in first.asset_events:
        by_tenant.setdefault(evaluation.partition.split("|")[1], set()).add(evaluation.passed)
    assert by_tenant == {"T1": {True}, "T2": {False}}
    assert len(first.asset_events) == 2 * len(ASSETS)
    [alert] = sink.wait_for(1, timeout=10)
    assert alert["tags"]["tenant"] == "T2" and alert["tags"]["date"] == str(DAY)
    assert alert["message"].startswith(f"tenant T2: {len(ASSETS)} assets of {DAY} not in by 09:00 GMT+8")

    again = watch(instance, ASSETS, sentry, at_nine + timedelta(minutes=5), first.cursor)
    assert isinstance(again, SkipReason)  # nothing changed: no evaluation, no second alert

    _store(instance, "T2")  # T2's day arrives late
    later = watch(instance, ASSETS, sentry, at_nine + timedelta(hours=1), first.cursor)
    assert isinstance(later, SensorResult)
    assert {e.partition for e in later.asset_events} == {str(partition_key(DAY, "T2"))}
    assert all(e.passed for e in later.asset_events)
    assert len(sink.events) == 1  # still the one alert


def test_the_deadline_is_nine_the_next_morning_in_gmt8() -> None:
    assert deadline_of(DAY) == datetime.combine(
        DAY + timedelta(days=1), datetime.min.time(), GMT8
    ) + timedelta(hours=9)
