"""The `async_tasks_ahead` sensor: the async report tasks of queued runs made while they wait.

A media with agency-level async report tasks allows one task per agency per cooldown (Tencent:
5 minutes; a step asks six, `assets/tasks_ahead.py`). Every tick this sensor looks at the runs
queued or in progress, and for each partition whose reports they will fetch makes each agency's
next task as soon as its cooldown allows; the step takes them when it comes. It makes nothing for
a deployment without bulk paths (`ARK_BULK_REPORTS=0`), for a slice re-run or `rerun_failed`
(per-account calls), nor for an agency a step has taken over. Stopping it in the UI costs time,
not data: the steps then make their own tasks.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from dagster import (
    AssetKey,
    DagsterRunStatus,
    DefaultSensorStatus,
    RunsFilter,
    SensorDefinition,
    SensorEvaluationContext,
    SkipReason,
    sensor,
)

from ark_assets.assets.bulk import bulk_plans
from ark_assets.assets.tasks_ahead import Wanted, make_ahead
from ark_assets.media.declare import MediaDefinition
from ark_assets.partitions import split_key
from ark_assets.resources.media_api import MediaApiResource
from ark_assets.resources.redis_store import RedisResource
from ark_assets.settings import settings

_WAITING = [DagsterRunStatus.QUEUED, DagsterRunStatus.NOT_STARTED, DagsterRunStatus.STARTING]
_WAITING += [DagsterRunStatus.STARTED]
_NOT_BULK = {"rerun_failed"}  # jobs that fetch per account only


def tasks_ahead_sensor(media: Sequence[MediaDefinition]) -> SensorDefinition:
    # how often it ticks (ARK_TASKS_AHEAD_INTERVAL_S): well inside the media's cooldown, so a task
    # follows the last by about it
    @sensor(
        name="async_tasks_ahead",
        minimum_interval_seconds=settings().tasks_ahead_interval_s,
        default_status=DefaultSensorStatus.RUNNING,
        description="Makes the async report tasks (Tencent v3.0) of queued and running partitions ahead "
        "of their steps: one per agency per the media's cooldown, so a step finds its agencies' "
        "files made instead of waiting out the cooldowns itself.",
    )
    def async_tasks_ahead(
        context: SensorEvaluationContext, redis: RedisResource, media_api: MediaApiResource
    ) -> SkipReason:
        runs = context.instance.get_runs(filters=RunsFilter(statuses=_WAITING), limit=1000)
        wanted = wanted_by(runs, media, media_api)
        if not wanted:
            return SkipReason("no run waiting for async report tasks")
        made = make_ahead(wanted, media_api, redis.sets)
        return SkipReason(f"{made} task(s) made ahead for {len(wanted)} (media, tenant, day)")

    return async_tasks_ahead


def wanted_by(runs: Sequence[Any], media: Sequence[MediaDefinition], api: MediaApiResource) -> list[Wanted]:
    """(media, tenant, day) whose bulk-path reports these runs will fetch, each once."""
    wanted: dict[tuple[str, str, Any], Wanted] = {}
    for run in runs:
        partition = run.tags.get("dagster/partition")
        if not partition or run.job_name in _NOT_BULK or _sliced(run.run_config):
            continue
        day, tenant = split_key(partition)
        for declared in media:
            if run.tags.get("media") not in (None, declared.name):
                continue
            plans = bulk_plans(declared, api, day)
            keys = {AssetKey([declared.name, p.dataset.name]) for p in plans}
            selection = run.asset_selection
            if plans and (selection is None or keys & set(selection)):
                wanted[(declared.name, tenant, day)] = (declared, tenant, day)
    return list(wanted.values())


def _sliced(run_config: Any) -> bool:
    """A run configured with accounts, agents or `failed_only` (it asks per account)."""
    ops = run_config.get("ops", {}) if isinstance(run_config, dict) else {}
    for op in ops.values():
        config = (op or {}).get("config") or {}
        slices = [config, *(config.get("assets") or {}).values()]
        if config.get("failed_only") or any(c.get("account_list") or c.get("agents_list") for c in slices):
            return True
    return False
