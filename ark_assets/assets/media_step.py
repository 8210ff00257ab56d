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
- before anything runs, the selected assets whose endpoint no longer serves the partition's day
  are refused (`retention.py`): each fails at once with the reason, nothing of it is fetched;
- when a part is done, the parts waiting for it start, and this thread (the op's) records the
  fields its records carried (`drift.py`: a drift is reported; under policy `fail` the part is
  not written), writes its rows (the IO manager) and evaluates its checks (`step_checks.py`):
  `completeness` from its fetch's summary, `row_keys` (and the comparison, when configured) by
  reading back what was just written, `volume` against the tenant's trailing days;
- a part that fails does not stop the others: the parts downstream of it in the step do not run,
  the others complete and are materialized, and the step fails at the end naming what failed
  (with `ARK_COMPLETENESS_BLOCKING`, a part whose completeness check failed holds back the parts
  downstream of it the same way, as a failed blocking check holds back downstream steps);
- the parts' progress lines (every ~10 s per fetch, `progress.py`) reach the run's log through
  this thread, which alone writes to the step's Dagster log;
- when the step ends, it is announced on the Redis channel when one is configured
  (`announce.py`, the seed's `redis_channel`);
- a check selected without its asset is evaluated alone: `row_keys` reads what the output mode
  stored (`io/sinks.py`), `completeness` and `volume` the partition's latest materialization.
"""

# No `from __future__ import annotations`: Dagster reads the op's parameter annotations as types.
import asyncio
import queue
import traceback
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace

from dagster import (
    AssetCheckResult,
    AssetExecutionContext,
    AssetsDefinition,
    Failure,
    MetadataValue,
    Output,
    ResourceParam,
    multi_asset,
)

from ark_assets.assets.advertisers import NOT_PER_ACCOUNT, advertisers_part
from ark_assets.assets.agents import agents_part
from ark_assets.assets.announce import StepAnnouncement, publisher
from ark_assets.assets.bulk import BulkBook
from ark_assets.assets.checks import compare_prefix
from ark_assets.assets.datasets import dataset_part
from ark_assets.assets.drift import drift_gate
from ark_assets.assets.failures import last_failures, rerun_slice
from ark_assets.assets.fetching import FetchSession
from ark_assets.assets.intraday import intraday_datasets, refresh_hour
from ark_assets.assets.parts import Part, PartResult, StepContext
from ark_assets.assets.retention import refuse_outside_retention
from ark_assets.assets.run_config import FetchConfig, MediaRunConfig
from ark_assets.assets.specs import (
    completeness_blocking,
)
from ark_assets.assets.step_checks import checks_alone, emit, step_check_specs
from ark_assets.core.days import today
from ark_assets.io.hbase_io_manager import HBaseIOManager
from ark_assets.io.sinks import Sink
from ark_assets.media.declare import MediaDefinition
from ark_assets.partitions import date_tenant_partitions, intraday_partitions, split_key
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


def intraday_parts(media: MediaDefinition, api_version: str | None = None) -> list[Part]:
    """The intraday twins of the datasets the media declares `intraday` (INCR, `intraday.py`), of
    its configured API version."""
    return [dataset_part(media, d, intraday=True) for d in intraday_datasets(media, api_version)]


def pool_of(media: MediaDefinition) -> str:
    """The concurrency pool of a media's steps: the quotas of its app (deploy/*.yaml size it)."""
    return f"media_{media.name}"


def media_step(
    media: MediaDefinition,
    comparison_prefix: str | None = None,
    api_version: str | None = None,
    *,
    intraday: bool = False,
) -> AssetsDefinition:
    """One media's assets as one subsettable multi-asset (op `<media>`), with every check inline:
    `comparison_prefix` the table set `matches_comparison_table` compares with (None: read
    `ARK_COMPARE_TABLE_PREFIX`; "": none), `api_version` the API version it holds (None: the
    configured one), `intraday` its intraday twins instead (op `<media>_intraday`, `intraday.py`)."""
    version = configured_version(media, api_version)
    parts = intraday_parts(media, version) if intraday else media_parts(media, version)
    prefix = None if intraday else compare_prefix(comparison_prefix)

    @multi_asset(
        name=f"{media.name}_intraday" if intraday else media.name,
        specs=[p.spec for p in parts],
        check_specs=step_check_specs(parts, prefix, intraday=intraday),
        can_subset=True,
        partitions_def=intraday_partitions() if intraday else date_tenant_partitions(),
        pool=pool_of(media),
        description=_about(media, intraday=intraday),
    )
    def _media(
        context: AssetExecutionContext,
        config: MediaRunConfig,
        mysql: MySQLResource,
        redis: RedisResource,
        media_api: MediaApiResource,
        run_log: RunLogResource,
        io_manager: ResourceParam[HBaseIOManager],
    ) -> Iterator[Output | AssetCheckResult]:
        day, tenant = split_key(context.partition_key)
        _check_version(media, version, media_api)
        hour = refresh_hour(context, media, day) if intraday else None
        if intraday and hour is None:
            return  # yielded to a daily run of the media
        chosen, config = _chosen(context, media, parts, config, media_api)
        messages: queue.SimpleQueue[str | _Done | None] = queue.SimpleQueue()
        where = {"media": media, "day": day, "tenant": tenant, "run_id": context.run.run_id}
        services = {"mysql": mysql, "redis": redis, "media_api": media_api, "run_log": run_log}
        with FetchSession() as session, BulkBook(api=media_api, **where) as bulk:  # its files go at the end
            step = StepContext(
                **services,
                **where,
                config=config,
                io_manager=io_manager,
                session=session,
                log=messages.put,
                intraday_hour=hour,
                chosen=frozenset(p.name for p in chosen),
                bulk=bulk,
            )
            yield from _announced(context, step, chosen, messages, prefix=prefix)
        yield from checks_alone(context, parts, sink=io_manager.sink, prefix=prefix)

    return _media


def _about(media: MediaDefinition, *, intraday: bool) -> str:
    about = (
        f"{media.title}: every selected asset of the media for one (day, tenant), in one step; the "
        "media's endpoints are fetched in parallel, each within its own quota."
    )
    return about + (" Today's data so far (INCR), refreshed every incr_min minutes." if intraday else "")


def _announced(
    context: AssetExecutionContext,
    step: StepContext,
    chosen: list[Part],
    messages: "queue.SimpleQueue[str | _Done | None]",
    *,
    prefix: str | None,
) -> Iterator[Output | AssetCheckResult]:
    """`run_step`, announced on the Redis channel when it ends (`announce.py`)."""
    sink = step.io_manager.sink
    announcement = StepAnnouncement(
        step.media.name, step.day, step.tenant, step.run_id, sink.mode, [p.key for p in chosen]
    )
    yield from announcement.watch(
        run_step(context, step, chosen, messages, sink=sink, prefix=prefix),
        publisher(step.redis, context.log),
    )


def _chosen(
    context: AssetExecutionContext,
    media: MediaDefinition,
    parts: list[Part],
    config: MediaRunConfig,
    media_api: MediaApiResource,
) -> tuple[list[Part], MediaRunConfig]:
    """The selected parts and their config, checked (with `failed_only`: what failed last time),
    less the assets of a date the media no longer serves (refused, `retention.py`)."""
    chosen = [p for p in parts if p.key in context.selected_asset_keys]
    _check_config(media, parts, chosen, config)
    if config.failed_only:
        chosen, config = _failed_only(context, media, chosen)
    day = split_key(context.partition_key)[0]
    return refuse_outside_retention(media, media_api.api_spec(media), chosen, day, today()), config


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
    sink: Sink,
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
                refused = (
                    drift_gate(context, step, message.part, message.result) if message.part.fetches else None
                )
                if refused:  # drift policy `fail`: not written
                    message.result.spool.discard()
                    failed[message.part.name] = refused
                    context.log.error(refused)
                    continue
                yield from emit(context, step, message.part, message.result, sink=sink, prefix=prefix)
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


def _reason(exc: BaseException) -> str:
    if isinstance(exc, Failure) and exc.description:
        return exc.description
    return f"{type(exc).__name__}: {exc}"
