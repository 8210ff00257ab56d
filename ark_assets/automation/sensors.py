"""Sensors: tenants and agents in step with MySQL, account lists arriving in Redis, run failures.

How dependents run without a person (documented in the README):
- agents → advertisers: declarative automation (`AutomationCondition.eager()` on the advertiser
  assets, evaluated by the `ark_automation` sensor);
- advertisers → funds / reports: the `account_lists_arrived` sensor. The day's Redis account
  keys are the contract between the two (upstream systems write them too, as in the seed), so
  the sensor watches Redis, not Dagster, and triggers a media's funds and reports for a
  (day, tenant) once its lists are there and those assets are not materialized yet.
"""

import hashlib
import json
from collections.abc import Sequence

from dagster import (
    AssetKey,
    AssetSelection,
    AutomationConditionSensorDefinition,
    DagsterEventType,
    DagsterRunStatus,
    DefaultSensorStatus,
    RunFailureSensorContext,
    RunRequest,
    RunStatusSensorContext,
    SensorDefinition,
    SensorEvaluationContext,
    SensorResult,
    SkipReason,
    run_failure_sensor,
    run_status_sensor,
    sensor,
)

from ark_assets.assets.sources import day_accounts
from ark_assets.core.days import yesterday
from ark_assets.media.declare import MediaDefinition
from ark_assets.partitions import partition_key, split_key, tenant_partitions
from ark_assets.resources.media_api import deployed_assets
from ark_assets.resources.mysql import MySQLResource, RunStatus
from ark_assets.resources.redis_store import RedisResource
from ark_assets.resources.sentry import SentryResource
from ark_assets.settings import settings


def _digest(values: list[str]) -> str:
    return hashlib.sha256(",".join(sorted(values)).encode()).hexdigest()[:16]


def build_sensors(media: Sequence[MediaDefinition]) -> list:
    """The platform's sensors for these media.

    The two polling sensors (MySQL, Redis) tick every ARK_SENSOR_INTERVAL_S: a minute is plenty
    for daily data; the browser test sets 5 so a switched-on sensor reacts within seconds. The
    run-status sensors react to a run's end at least every 30 s (Dagster's default), or as often
    as the polling ones when that is shorter (the tests' interval).
    """
    interval = settings().sensor_interval_s
    run_status_s = min(30, interval)
    return [
        _tenants_and_agents_sync(media, interval),
        _account_lists_arrived(media, interval),
        run_failure_sensor(
            name="run_failure_alert",
            default_status=DefaultSensorStatus.RUNNING,
            minimum_interval_seconds=run_status_s,
            description="A failed run -- its step failed, or it was killed or lost (the run monitor) -- "
            "closes the run-log rows it left open with the reason, and is reported to Sentry once: not "
            "again when its step already alerted.",
        )(_alert_failed_run),
        run_status_sensor(
            name="run_canceled_closes_its_log",
            run_status=DagsterRunStatus.CANCELED,
            default_status=DefaultSensorStatus.RUNNING,
            minimum_interval_seconds=run_status_s,
            description="A cancelled run closes the run-log rows it left open (CANCELED, with the reason).",
        )(_close_cancelled_run),
        AutomationConditionSensorDefinition(
            "ark_automation",
            target=AssetSelection.all(),
            default_status=DefaultSensorStatus.RUNNING,
            minimum_interval_seconds=30,
            description="Declarative automation: advertiser lists follow a fresh agent list (eager).",
        ),
    ]


def _tenants_and_agents_sync(media: Sequence[MediaDefinition], interval: int) -> SensorDefinition:
    # A sensor's run requests must fall inside its declared target: without one, Dagster fails
    # every tick that requests a run ("a sensor lacking a specified target").
    agent_lists = [AssetKey([m.name, a.name]) for m in media for a in m.assets.agent_lists]

    @sensor(
        name="tenants_and_agents_sync",
        asset_selection=AssetSelection.assets(*agent_lists),
        minimum_interval_seconds=interval,
        default_status=DefaultSensorStatus.RUNNING,
        description="Adds new active eton tenants as partitions; when a tenant's active agents change, "
        "re-materializes that media's agent list for yesterday (advertisers follow by automation).",
    )
    def tenants_and_agents_sync(
        context: SensorEvaluationContext, mysql: MySQLResource
    ) -> SensorResult | SkipReason:
        known = set(context.instance.get_dynamic_partitions(tenant_partitions.name))
        active = mysql.active_tenants()
        # Tenants that turn inactive keep their partitions: deleting a partition that a backfill
        # targets fails the backfill; schedules only ever request active tenants.
        new = sorted(set(active) - known)
        seen = json.loads(context.cursor) if context.cursor else {}
        requests = _agent_changes(mysql, media, active, known, seen)
        if not new and not requests:
            return SkipReason(f"{len(active)} active tenants, no tenant or agent changes")
        return SensorResult(
            run_requests=requests,
            dynamic_partitions_requests=[tenant_partitions.build_add_request(new)] if new else [],
            cursor=json.dumps(seen, sort_keys=True),
        )

    return tenants_and_agents_sync


def _agent_changes(
    mysql: MySQLResource,
    media: Sequence[MediaDefinition],
    active: Sequence[str],
    known: set[str],
    seen: dict[str, str],
) -> list[RunRequest]:
    """A run of a media's agent list(s) for yesterday per known tenant whose active agents of that
    media changed since `seen` (their digests, updated in place)."""
    day = yesterday()
    requests = []
    for tenant in active:
        for declared in media:
            digest = _digest([a.agent_id for a in mysql.active_agents(tenant, declared)])
            slot = f"{tenant}:{declared.name}"
            if tenant in known and seen.get(slot) not in (None, digest):
                requests.append(
                    RunRequest(
                        asset_selection=[
                            AssetKey([declared.name, a.name]) for a in declared.assets.agent_lists
                        ],
                        partition_key=str(partition_key(day, tenant)),
                        run_key=f"agents:{slot}:{digest}",
                        tags={"media": declared.name},
                    )
                )
            seen[slot] = digest
    return requests


def _account_lists_arrived(media: Sequence[MediaDefinition], interval: int) -> SensorDefinition:
    datasets = [AssetKey([m.name, d.name]) for m in media for d in deployed_assets(m).datasets]

    @sensor(
        name="account_lists_arrived",
        asset_selection=AssetSelection.assets(*datasets),
        minimum_interval_seconds=interval,
        default_status=DefaultSensorStatus.RUNNING,
        description="When yesterday's account lists of a (tenant, media) appear in Redis and that media's "
        "funds and reports are not materialized for the partition, runs them.",
    )
    def account_lists_arrived(context: SensorEvaluationContext, redis: RedisResource) -> list | SkipReason:
        day = yesterday()
        requests = []
        for tenant in context.instance.get_dynamic_partitions(tenant_partitions.name):
            key = str(partition_key(day, tenant))
            for declared in media:
                datasets = [AssetKey([declared.name, d.name]) for d in deployed_assets(declared).datasets]
                done = context.instance.get_materialized_partitions(datasets[0])
                if key in done:
                    continue
                accounts = day_accounts(redis.sets, declared, tenant, day, declared.assets.account_lists)
                if not accounts:
                    continue
                requests.append(
                    RunRequest(
                        asset_selection=datasets,
                        partition_key=key,
                        tags={"media": declared.name},
                        run_key=f"accounts:{declared.name}:{key}:{_digest(list(accounts))}",
                    )
                )
        return requests or SkipReason(f"no new account lists for {day}")

    return account_lists_arrived


def _alert_failed_run(context: RunFailureSensorContext, mysql: MySQLResource, sentry: SentryResource) -> None:
    run = context.dagster_run
    reason = _failure_reason(context)
    closed = mysql.close_open_runs(run.run_id, status=RunStatus.FAILED, reason=reason)
    if mysql.was_alerted(run.run_id):
        return  # the step that failed sent its alert, with its traceback
    tenant, day = _partition_of(run.tags)
    sentry.capture_message(
        f"run {run.run_id} of {run.job_name} failed: {reason}"
        + (f" ({closed} run-log rows left open were closed)" if closed else ""),
        tenant=tenant,
        media=run.tags.get("media", "all"),
        level="error",
        data_date=str(day) if day else None,
        run_id=run.run_id,
    )


def _close_cancelled_run(context: RunStatusSensorContext, mysql: MySQLResource) -> None:
    run = context.dagster_run
    mysql.close_open_runs(run.run_id, status=RunStatus.CANCELED, reason=f"run {run.run_id} was cancelled")


def _partition_of(tags: dict[str, str]) -> tuple[str, object]:
    """(tenant, day) of a run's partition tag, ("-", None) for a run of no partition."""
    if "dagster/partition" not in tags:
        return "-", None
    day, tenant = split_key(tags["dagster/partition"])
    return tenant, day


def _failure_reason(context: RunFailureSensorContext) -> str:
    """Why the run failed: its failure event, and what Dagster saw of a worker that died (a SIGKILL,
    an OOM kill, a lost host) when the run was failed from outside."""
    reason = context.failure_event.message or "the run failed"
    engine_events = context.instance.all_logs(
        context.dagster_run.run_id, of_type=DagsterEventType.ENGINE_EVENT
    )
    died = [
        e.message for e in engine_events if e.message and ("terminated" in e.message or "worker" in e.message)
    ]
    return f"{reason} {died[-1]}" if died else reason
