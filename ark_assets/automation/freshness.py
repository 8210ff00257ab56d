"""Freshness per tenant: yesterday's funds and reports must be in by 09:00 GMT+8.

The media close a day by 08:00 the next morning and the daily schedule starts at 08:00; an
engineer who opens the UI at 09:00 wants to see, per tenant, whether that worked. Every funds and
report asset has an `in_by_0900` check; from 09:00 GMT+8 the `late_partitions` sensor evaluates it
for yesterday's (date, tenant) partition of every active tenant: failed while the partition has no
materialization, passed once one is stored (and whether it came in time). A tenant whose day is late
is alerted once (Sentry: tenant, date, the late assets).

The check is evaluated by the sensor, not by a run: it reads only the instance, and a run per
tenant each morning would cost more than the check.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date, datetime, time, timedelta

from dagster import (
    AssetCheckEvaluation,
    AssetCheckKey,
    AssetCheckResult,
    AssetChecksDefinition,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetKey,
    AssetSelection,
    DagsterInstance,
    DefaultSensorStatus,
    SensorEvaluationContext,
    SensorResult,
    SkipReason,
    multi_asset_check,
    sensor,
)

from ark_assets.assets.failures import latest_materialization
from ark_assets.core.days import GMT8, yesterday
from ark_assets.media.declare import MediaDefinition
from ark_assets.partitions import partition_key, split_key, tenant_partitions
from ark_assets.resources.media_api import deployed_assets
from ark_assets.resources.sentry import SentryResource

CHECK = "in_by_0900"
DEADLINE = time(9, 0)  # GMT+8, the day after the partition's day
INTERVAL_S = 300


def watched(media: Sequence[MediaDefinition]) -> list[AssetKey]:
    """The assets whose partitions must be in by the deadline: every media's funds and reports."""
    return [AssetKey([m.name, d.name]) for m in media for d in deployed_assets(m).datasets]


def not_in_jobs(media: Sequence[MediaDefinition]) -> AssetSelection:
    """The freshness checks, which the jobs leave out: the sensor evaluates them, not each run."""
    return AssetSelection.checks(*(AssetCheckKey(asset, CHECK) for asset in watched(media)))


def deadline_of(day: date) -> datetime:
    return datetime.combine(day + timedelta(days=1), DEADLINE, tzinfo=GMT8)


def evaluate(
    instance: DagsterInstance, assets: Sequence[AssetKey], tenant: str, day: date, now: datetime
) -> list[AssetCheckEvaluation]:
    """`in_by_0900` of each asset for (day, tenant) as of `now` (after the deadline)."""
    key = str(partition_key(day, tenant))
    deadline = deadline_of(day)
    evaluations = []
    for asset in assets:
        latest = latest_materialization(instance, asset, key)
        if latest is not None:
            at = datetime.fromtimestamp(latest.timestamp, GMT8)
            metadata = {
                "materialized_at": at.isoformat(),
                "deadline": deadline.isoformat(),
                "late": at > deadline,
            }
            evaluations.append(_evaluation(asset, key, True, metadata))
        else:
            metadata = {
                "materialized_at": "not yet",
                "deadline": deadline.isoformat(),
                "checked_at": now.isoformat(),
            }
            evaluations.append(_evaluation(asset, key, False, metadata))
    return evaluations


def _evaluation(asset: AssetKey, key: str, passed: bool, metadata: dict) -> AssetCheckEvaluation:
    return AssetCheckEvaluation(
        asset_key=asset,
        check_name=CHECK,
        passed=passed,
        partition=key,
        severity=AssetCheckSeverity.ERROR,
        metadata=metadata,
        description=None if passed else "not materialized by 09:00 GMT+8",
    )


def freshness_checks(media: Sequence[MediaDefinition]) -> AssetChecksDefinition:
    """The `in_by_0900` check of every watched asset (the sensor reports their evaluations)."""

    @multi_asset_check(
        name="in_by_0900",
        can_subset=True,
        specs=[
            AssetCheckSpec(
                CHECK,
                asset=asset,
                description="Yesterday's partition of each tenant is materialized by 09:00 GMT+8 "
                "(evaluated from 09:00 by the late_partitions sensor).",
            )
            for asset in watched(media)
        ],
    )
    def _in_by_0900(context):  # noqa: ANN001, ANN202 -- Dagster reads a generator's outputs itself
        # executed on demand (the UI's "Execute"): for the run's partition, else yesterday of every tenant
        now = datetime.now(GMT8)
        run_key = context.run.tags.get("dagster/partition")
        if run_key:
            day, tenant = split_key(run_key)
            partitions = [(tenant, day)]
        else:
            tenants = context.instance.get_dynamic_partitions(tenant_partitions.name)
            partitions = [(tenant, yesterday(now)) for tenant in tenants]
        selected = {key.asset_key for key in context.selected_asset_check_keys}
        for tenant, day in partitions:
            for evaluation in evaluate(
                context.instance, [a for a in watched(media) if a in selected], tenant, day, now
            ):
                yield AssetCheckResult(
                    asset_key=evaluation.asset_key,
                    check_name=CHECK,
                    passed=evaluation.passed,
                    metadata={"partition": evaluation.partition, **evaluation.metadata},
                )

    return _in_by_0900


def late_partitions_sensor(media: Sequence[MediaDefinition]):
    assets = watched(media)

    @sensor(
        name="late_partitions",
        minimum_interval_seconds=INTERVAL_S,
        default_status=DefaultSensorStatus.RUNNING,
        description="From 09:00 GMT+8: is yesterday's funds and report data of every tenant in? Reports "
        "`in_by_0900` per asset and (date, tenant); a late tenant is alerted once.",
    )
    def late_partitions(
        context: SensorEvaluationContext, sentry: SentryResource
    ) -> SensorResult | SkipReason:
        return watch(context.instance, assets, sentry, datetime.now(GMT8), context.cursor)

    return late_partitions


def watch(
    instance: DagsterInstance,
    assets: Sequence[AssetKey],
    sentry: SentryResource,
    now: datetime,
    cursor: str | None,
) -> SensorResult | SkipReason:
    """One tick of `late_partitions` at `now`: new evaluations, one alert per late (tenant, day)."""
    day = yesterday(now)
    if now < deadline_of(day):
        return SkipReason(f"before 09:00 GMT+8: yesterday ({day}) is not due yet")
    state = json.loads(cursor) if cursor else {}
    seen = state.get(str(day), {})  # tenant -> "late" / "in"
    events, alerts = [], []
    for tenant in instance.get_dynamic_partitions(tenant_partitions.name):
        evaluations = evaluate(instance, assets, tenant, day, now)
        status = "in" if all(e.passed for e in evaluations) else "late"
        if seen.get(tenant) == status:
            continue  # nothing new to report
        events += evaluations
        if status == "late" and tenant not in seen:
            late = [e.asset_key.to_user_string() for e in evaluations if not e.passed]
            alerts.append((tenant, late))
        seen[tenant] = status
    for tenant, late in alerts:
        sentry.capture_message(
            f"tenant {tenant}: {len(late)} assets of {day} not in by 09:00 GMT+8: {', '.join(late[:10])}"
            + (" …" if len(late) > 10 else ""),
            tenant=tenant,
            media="all",
            level="error",
            data_date=str(day),
            extra={"late_assets": late},
        )
    cursor = json.dumps({str(day): seen}, sort_keys=True)  # only the current day is kept
    if not events:
        return SkipReason(f"{len(seen)} tenants for {day}: nothing changed")
    return SensorResult(asset_events=events, cursor=cursor)
