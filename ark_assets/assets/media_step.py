"""A media's day in one step: every asset of one media, fetched concurrently in one process.

Why one step per media, not one per asset: a Dagster step costs a process of its own (the
multiprocess executor) or a task (Celery), and starting one costs ~2 s of CPU; a partition of 24
assets with a check step each cost ~97 s of CPU that way, 25x the work itself. One subsettable
multi-asset per media keeps what people see -- every asset is still its own materialization
with its own metadata and checks, every lineage edge is still drawn, and selecting some assets
materializes just those -- while a partition costs three steps, one per media.

How a step runs (`run_step`):
- every selected asset is a `Part`, and the parts run as one `asyncio.TaskGroup` on the step's
  `FetchSession` loop: each part's task awaits the tasks of its upstream parts in the step, then
  runs the part's work in a thread of its own; the fetches of every part go to that same loop:
  one engine, one rate governor per (app, endpoint), so a media's endpoints are fetched in
  parallel, each paced by its own quota;
- when a part is done, the parts waiting for it start, and this thread (the op's) writes its rows
  (the IO manager) and evaluates its checks: `completeness` from its fetch's summary, `row_keys`
  (and the comparison, when configured) by reading back what was just written;
- a part that fails does not stop the others: the parts downstream of it in the step do not run,
  the others complete and are materialized, and the step fails at the end naming what failed
  (with `ARK_COMPLETENESS_BLOCKING`, a part whose completeness check failed holds back the parts
  downstream of it the same way, as a failed blocking check holds back downstream steps);
- the parts' progress lines (every ~10 s per fetch, `progress.py`) reach the run's log through
  this thread, which alone writes to the step's Dagster log;
- a check selected without its asset is evaluated alone: `row_keys` reads HBase, `completeness`
  the partition's latest materialization.
"""

# No `from __future__ import annotations`: Dagster reads the op's parameter annotations as types.
import asyncio
import queue
import traceback
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import Any

from dagster import (
    AssetCheckKey,
    AssetCheckResult,
    AssetCheckSeverity,
    AssetExecutionContext,
    AssetKey,
    AssetsDefinition,
    Failure,
    MetadataValue,
    Output,
    ResourceParam,
    multi_asset,
)

from ark_assets.assets.advertisers import NOT_PER_ACCOUNT, advertisers_part
from ark_assets.assets.agents import agents_part
from ark_assets.assets.bulk import BulkBook
from ark_assets.assets.checks import COMPARISON, ROW_KEYS, check_specs, compare_prefix, comparison, row_keys
from ark_assets.assets.datasets import dataset_part
from ark_assets.assets.failures import last_failures, latest_materialization, rerun_slice
from ark_assets.assets.fetching import FetchSession
from ark_assets.assets.parts import Part, PartResult, StepContext
from ark_assets.assets.run_config import FetchConfig, MediaRunConfig
from ark_assets.assets.specs import (
    COMPLETENESS,
    completeness,
    completeness_blocking,
    completeness_spec,
    stored_summary,
)
from ark_assets.io.hbase_io_manager import HBaseIOManager
from ark_assets.media.declare import MediaDefinition
from ark_assets.partitions import date_tenant_partitions, split_key
from ark_assets.resources.hbase import HBaseResource
from ark_assets.resources.media_api import MediaApiResource, configured_version, deployed_assets
from ark_assets.resources.mysql import MySQLResource
from ark_assets.resources.redis_store import RedisResource
from ark_assets.resources.run_log import RunLogResource


def media_parts(media: MediaDefinition, api_version: str | None = None) -> list[Part]:
    """Every asset of one media in its configured API version (`deployed_assets`), upstream first:
    agent lists, account lists, per-account datasets."""
    declared = deployed_assets(media, api_version)
    return [
        *(agents_part(media, agents) for agents in declared.agent_lists),
        *(advertisers_part(media, listing) for listing in declared.account_lists),
        *(dataset_part(media, dataset) for dataset in declared.datasets),
    ]


def pool_of(media: MediaDefinition) -> str:
    """The concurrency pool of a media's steps: the quotas of its app (deploy/*.yaml size it)."""
    return f"media_{media.name}"


def media_step(
    media: MediaDefinition, comparison_prefix: str | None = None, api_version: str | None = None
) -> AssetsDefinition:
    """One media's assets as one subsettable multi-asset (op `<media>`), with every check inline.

    Args:
        comparison_prefix: the table set `matches_comparison_table` compares with; None reads
            `ARK_COMPARE_TABLE_PREFIX`, "" turns the comparison off.
        api_version: the API version whose assets it holds; None = the configured one.
    """
    version = configured_version(media, api_version)
    parts = media_parts(media, version)
    prefix = compare_prefix(comparison_prefix)
    checks = [
        *(completeness_spec(p.key) for p in parts if p.fetches),
        *(check for p in parts for check in check_specs(p.spec, prefix)),
    ]

    @multi_asset(
        name=media.name,
        specs=[p.spec for p in parts],
        check_specs=checks,
        can_subset=True,
        partitions_def=date_tenant_partitions,
        pool=pool_of(media),
        description=f"{media.title}: every selected asset of the media for one (day, tenant), in one "
        "step; the media's endpoints are fetched in parallel, each within its own quota.",
    )
    def _media(
        context: AssetExecutionContext,
        config: MediaRunConfig,
        mysql: MySQLResource,
        redis: RedisResource,
        hbase: HBaseResource,
        media_api: MediaApiResource,
        run_log: RunLogResource,
        io_manager: ResourceParam[HBaseIOManager],
    ) -> Iterator[Output | AssetCheckResult]:
        day, tenant = split_key(context.partition_key)
        _check_version(media, version, media_api)
        chosen = [p for p in parts if p.key in context.selected_asset_keys]
        _check_config(media, parts, chosen, config)
        if config.failed_only:
            chosen, config = _failed_only(context, media, chosen)
        messages: queue.SimpleQueue[str | _Done | None] = queue.SimpleQueue()
        bulk = BulkBook(media=media, api=media_api, tenant=tenant, day=day, run_id=context.run.run_id)
        with FetchSession() as session, bulk:
            resources = {"mysql": mysql, "redis": redis, "run_log": run_log, "io_manager": io_manager}
            step = StepContext(
                **_step_of(context, media, config, chosen),
                media_api=media_api,
                session=session,
                log=messages.put,
                bulk=bulk,
                **resources,
            )
            yield from run_step(context, step, chosen, messages, hbase=hbase, prefix=prefix)
        yield from _checks_alone(context, parts, hbase=hbase, prefix=prefix)

    return _media


def _step_of(
    context: AssetExecutionContext, media: MediaDefinition, config: MediaRunConfig, chosen: list[Part]
) -> dict[str, Any]:
    """The step's partition, run, slice and chosen parts, as `StepContext` takes them."""
    day, tenant = split_key(context.partition_key)
    chosen_names = frozenset(p.name for p in chosen)
    return {
        "media": media,
        "day": day,
        "tenant": tenant,
        "run_id": context.run.run_id,
        "config": config,
        "chosen": chosen_names,
    }


def _check_version(media: MediaDefinition, version: str, media_api: MediaApiResource) -> None:
    """The step's assets were built for the version the media API resource speaks."""
    spoken = media_api.api_spec(media).version
    if spoken != version:
        raise Failure(
            f"{media.name}'s assets were defined for API version {version} but the media_api resource "
            f"speaks {spoken}: set ARK_{media.name.upper()}_API_VERSION (or ARK_API_VERSIONS) the same for "
            "the code location and its runs"
        )


def _check_config(
    media: MediaDefinition, parts: list[Part], chosen: list[Part], config: MediaRunConfig
) -> None:
    """Refuse a slice config that cannot apply, before anything is fetched or stored."""
    names = {p.name for p in parts}
    unknown = sorted(set(config.assets) - names)
    if unknown:
        raise Failure(
            f"config.assets names {', '.join(unknown)}, which are not assets of {media.name}; "
            f"expected some of {', '.join(sorted(names))}"
        )
    if config.failed_only and (config.agents_list or config.account_list or config.assets):
        raise Failure(
            f"{media.name}: failed_only re-runs what failed in the latest materialization; it takes "
            "no agents_list, account_list or assets (give those without failed_only instead)"
        )
    listings = {listing.name for listing in media.assets.account_lists}
    for part in chosen:
        if part.name in listings and config.for_asset(part.name).account_list:
            raise Failure(f"{media.name}/{part.name}: {NOT_PER_ACCOUNT}")


def _failed_only(
    context: AssetExecutionContext, media: MediaDefinition, chosen: list[Part]
) -> tuple[list[Part], MediaRunConfig]:
    """The parts to re-run and their slices: what failed in each one's latest materialization."""
    listings = {listing.name for listing in media.assets.account_lists}
    slices: dict[str, FetchConfig] = {}
    for part in chosen:
        failures = last_failures(context.instance, part.key, context.partition_key) if part.fetches else None
        if failures is None:
            continue
        slices[part.name] = rerun_slice(failures, per_agent=part.name in listings)
        context.log.info(f"re-running {failures.describe()}")
    skipped = [p.key.to_user_string() for p in chosen if p.name not in slices]
    if skipped:
        context.log.info(f"nothing failed in the latest materialization of: {', '.join(skipped)}")
    # the slices come from our own record, not from a person: built as they are, not re-validated
    config = MediaRunConfig.model_construct(agents_list=[], account_list=[], assets=slices, failed_only=True)
    return [p for p in chosen if p.name in slices], config


@dataclass(frozen=True, kw_only=True)
class _Done:
    """A part that ended: its result, or why it failed (or did not run); what is still running."""

    part: Part
    result: PartResult | None = None
    reason: str = ""
    error: BaseException | None = None
    still: tuple[str, ...] = ()


def run_step(
    context: AssetExecutionContext,
    step: StepContext,
    chosen: list[Part],
    messages: queue.SimpleQueue[str | _Done | None],
    *,
    hbase: HBaseResource,
    prefix: str | None,
) -> Iterator[Output | AssetCheckResult]:
    """Run the chosen parts, each as soon as its upstream in the step is done; yield each one's
    output and checks as it finishes; fail at the end if any part failed (see the module doc).

    The parts run as one `asyncio.TaskGroup` on the step's fetch loop (`_run_parts`), their work in
    threads; `messages` brings this thread, which alone writes to the step's Dagster log and yields
    its events, the parts' progress lines (`step.log`) and each part as it ends."""
    pool = ThreadPoolExecutor(max_workers=max(1, len(chosen)), thread_name_prefix=f"ark-{step.media.name}")
    running = step.session.submit(_run_parts(step, chosen, pool, messages.put))
    running.add_done_callback(lambda _: messages.put(None))
    failed: dict[str, str] = {}
    try:
        while (message := messages.get()) is not None:
            if isinstance(message, str):
                context.log.info(message)
            elif message.result is None:
                failed[message.part.name] = message.reason
                if message.error is not None:
                    trace = "".join(traceback.format_exception(message.error))[-4000:]
                    name = message.part.key.to_user_string()
                    context.log.error(f"{name} failed; the media's other assets go on:\n{trace}")
            else:
                context.log.info(_progress(message))
                yield from _emit(context, step, message.part, message.result, hbase=hbase, prefix=prefix)
        running.result()  # re-raises a bug in the scheduling itself
    finally:
        step.session.close()  # cancels fetches still running if we got here by an error
        pool.shutdown(wait=True, cancel_futures=True)
        while not messages.empty():  # the progress lines of parts a stopping step cut short
            if isinstance(line := messages.get_nowait(), str):
                context.log.info(line)
    if failed:
        rows = "\n".join(f"| {step.media.name}/{name} | {reason[:300]} |" for name, reason in failed.items())
        raise Failure(
            description=f"{len(failed)} of {len(chosen)} {step.media.name} assets failed: "
            + "; ".join(f"{step.media.name}/{name}: {reason}" for name, reason in failed.items()),
            metadata={"failed_assets": MetadataValue.md(f"| asset | reason |\n|---|---|\n{rows}")},
        )


async def _run_parts(
    step: StepContext, chosen: list[Part], pool: ThreadPoolExecutor, report: Callable[[_Done], None]
) -> None:
    """Every chosen part as a task that first awaits its upstream parts in the step, then runs its
    work in `pool`; a part whose upstream failed (or held it back) does not run. Every part ends in
    exactly one `report`."""
    loop = asyncio.get_running_loop()
    blocking = completeness_blocking()
    in_step = {p.name for p in chosen}
    tasks: dict[str, asyncio.Task[_Done]] = {}
    running: set[str] = set()

    async def run(part: Part) -> _Done:
        upstream = {u: await tasks[u] for u in part.upstream if u in in_step}
        failed = [u for u, d in upstream.items() if d.result is None]
        held = [u for u, d in upstream.items() if d.result is not None and _holds(d.result, blocking)]
        if failed or held:
            note = " (a blocking completeness check)" if not failed else ""
            done = _Done(part=part, reason=f"not run: {', '.join(failed + held)} failed in this step{note}")
        else:
            running.add(part.name)
            try:
                inputs = {u: d.result for u, d in upstream.items()}
                done = _Done(part=part, result=await loop.run_in_executor(pool, part.work, step, inputs))
            except Exception as exc:  # one asset's failure must not stop the others
                done = _Done(part=part, reason=_reason(exc), error=exc)
            running.discard(part.name)
            done = replace(done, still=tuple(sorted(running)))
        if done.result is None:  # what it would have handed the others will not come
            step.exchange.abandon(part.name, done.reason)
        report(done)
        return done

    async with asyncio.TaskGroup() as group:
        for part in chosen:
            tasks[part.name] = group.create_task(run(part))


def _holds(result: PartResult, blocking: bool) -> bool:
    """With ARK_COMPLETENESS_BLOCKING, a failed completeness check holds back what depends on it."""
    return blocking and result.completeness is not None and not result.completeness.passed


def _progress(done: _Done) -> str:
    """One line per finished asset, so a long step shows where it is."""
    summary = done.result.summary if done.result is not None else None
    if summary is not None:
        counts = (
            f"{summary.succeeded:,} of {summary.requested:,} sources ok, "
            f"{summary.throttles:,} throttles, {summary.seconds:.1f} s"
        )
    else:
        counts = f"{done.result.metadata.get('agents', 0) if done.result else 0} agents"
    still = ", ".join(done.still)
    return f"{done.part.key.to_user_string()} fetched ({counts}); writing its rows" + (
        f"; still fetching: {still}" if still else ""
    )


def _emit(
    context: AssetExecutionContext,
    step: StepContext,
    part: Part,
    result: PartResult,
    *,
    hbase: HBaseResource,
    prefix: str | None,
) -> Iterator[Output | AssetCheckResult]:
    """The part's output (the IO manager writes it while this generator waits), then its checks."""
    checks = context.selected_asset_check_keys
    yield Output(result.spool, output_name=part.key.to_python_identifier(), metadata=result.metadata)
    if result.completeness is not None and AssetCheckKey(part.key, COMPLETENESS) in checks:
        yield result.completeness
    if AssetCheckKey(part.key, ROW_KEYS) in checks:
        yield row_keys(hbase, part.spec, step.day, step.tenant)
    if prefix and AssetCheckKey(part.key, COMPARISON) in checks:
        yield comparison(hbase, part.spec, step.day, step.tenant, prefix)


def _checks_alone(
    context: AssetExecutionContext, parts: list[Part], *, hbase: HBaseResource, prefix: str | None
) -> Iterator[AssetCheckResult]:
    """Checks selected without their asset (the UI's "Execute check"): evaluated on what is stored."""
    day, tenant = split_key(context.partition_key)
    by_key = {p.key: p for p in parts}
    for check in sorted(context.selected_asset_check_keys, key=lambda c: (c.asset_key.path, c.name)):
        if check.asset_key in context.selected_asset_keys:
            continue
        part = by_key[check.asset_key]
        if check.name == ROW_KEYS:
            yield row_keys(hbase, part.spec, day, tenant)
        elif check.name == COMPARISON and prefix:
            yield comparison(hbase, part.spec, day, tenant, prefix)
        elif check.name == COMPLETENESS:
            yield _stored_completeness(context, check.asset_key)


def _stored_completeness(context: AssetExecutionContext, key: AssetKey) -> AssetCheckResult:
    """`completeness` of the partition's latest materialization, from its metadata."""
    latest = latest_materialization(context.instance, key, context.partition_key)
    if latest is None:
        return AssetCheckResult(
            asset_key=key,
            check_name=COMPLETENESS,
            passed=False,
            severity=AssetCheckSeverity.ERROR,
            metadata={"reason": "the partition was never materialized"},
        )
    summary, expected = stored_summary(latest.asset_materialization.metadata)
    about = {"evaluated_from": f"the materialization of run {latest.run_id}"}
    return completeness(key, summary, expected=expected, **about)


def _reason(exc: BaseException) -> str:
    if isinstance(exc, Failure) and exc.description:
        return exc.description
    return f"{type(exc).__name__}: {exc}"
