"""A media's day in one step: every asset of one media, fetched concurrently in one process.

Why one step per media, not one per asset: a Dagster step costs a process of its own (the
multiprocess executor) or a task (Celery), and starting one costs ~2 s of CPU; a partition of 24
assets with a check step each cost ~97 s of CPU that way, 25x the work itself. One subsettable
multi-asset per media keeps what people see -- every asset is still its own materialization
with its own metadata and checks, every lineage edge is still drawn, and selecting some assets
materializes just those -- while a partition costs three steps, one per media.

How a step runs (`run_step`):
- every selected asset is a `Part`; a part whose upstream parts in the step are done starts at
  once in a thread of its own, and its fetches go to the step's `FetchSession`: one event loop,
  one engine, one rate governor per (app, endpoint), so a media's endpoints are fetched in
  parallel, each paced by its own quota;
- when a part is done, the parts waiting for it start, then its rows are written (the IO manager,
  in this thread) and its checks are evaluated: `completeness` from its own fetch accounting,
  `row_keys` (and the comparison, when configured) by reading back what was just written;
- a part that fails does not stop the others: the parts downstream of it in the step do not run,
  the others complete and are materialized, and the step fails at the end naming what failed
  (with `ARK_COMPLETENESS_BLOCKING`, a part whose completeness check failed holds back the parts
  downstream of it the same way, as a failed blocking check holds back downstream steps);
- the parts' progress lines (every ~10 s per fetch, `progress.py`) reach the run's log through
  this thread, which alone writes to the step's Dagster log;
- when the step ends, it is announced on the Redis channel when one is configured
  (`announce.py`, the seed's `redis_channel`);
- a check selected without its asset is evaluated alone: `row_keys` reads what the output mode
  stored (`io/sinks.py`), `completeness` the partition's latest materialization.
"""

# No `from __future__ import annotations`: Dagster reads the op's parameter annotations as types.
import queue
import traceback
from collections.abc import Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait

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
from ark_assets.assets.announce import StepAnnouncement, publisher
from ark_assets.assets.checks import COMPARISON, ROW_KEYS, check_specs, compare_prefix, comparison, row_keys
from ark_assets.assets.datasets import dataset_part
from ark_assets.assets.failures import last_failures, latest_materialization, rerun_slice
from ark_assets.assets.fetching import FetchSession
from ark_assets.assets.intraday import intraday_datasets, refresh_hour
from ark_assets.assets.parts import Part, PartResult, StepContext
from ark_assets.assets.run_config import FetchConfig, MediaRunConfig
from ark_assets.assets.specs import COMPLETENESS, completeness_blocking, completeness_spec
from ark_assets.io.hbase_io_manager import HBaseIOManager
from ark_assets.io.sinks import Sink
from ark_assets.media.declare import MediaDefinition
from ark_assets.partitions import date_tenant_partitions, intraday_partitions, split_key
from ark_assets.resources.media_api import MediaApiResource
from ark_assets.resources.mysql import MySQLResource
from ark_assets.resources.redis_store import RedisResource
from ark_assets.resources.run_log import RunLogResource


def media_parts(media: MediaDefinition) -> list[Part]:
    """Every asset of one media, upstream first: agent lists, account lists, per-account datasets."""
    declared = media.assets
    return [
        *(agents_part(media, agents) for agents in declared.agent_lists),
        *(advertisers_part(media, listing) for listing in declared.account_lists),
        *(dataset_part(media, dataset) for dataset in declared.datasets),
    ]


def intraday_parts(media: MediaDefinition) -> list[Part]:
    """The intraday twins of the datasets the media declares `intraday` (INCR, `intraday.py`)."""
    return [dataset_part(media, d, intraday=True) for d in intraday_datasets(media)]


def pool_of(media: MediaDefinition) -> str:
    """The concurrency pool of a media's steps: the quotas of its app (deploy/*.yaml size it)."""
    return f"media_{media.name}"


def media_step(
    media: MediaDefinition, comparison_prefix: str | None = None, *, intraday: bool = False
) -> AssetsDefinition:
    """One media's assets as one subsettable multi-asset (op `<media>`), with every check inline.

    Args:
        comparison_prefix: the table set `matches_comparison_table` compares with (None: read
            `ARK_COMPARE_TABLE_PREFIX`; "": no comparison).
        intraday: the media's intraday twins instead (op `<media>_intraday`, `intraday.py`).
    """
    parts = intraday_parts(media) if intraday else media_parts(media)
    prefix = None if intraday else compare_prefix(comparison_prefix)

    @multi_asset(
        name=f"{media.name}_intraday" if intraday else media.name,
        specs=[p.spec for p in parts],
        check_specs=[
            *(completeness_spec(p.key) for p in parts if p.fetches),
            *(check for p in parts for check in check_specs(p.spec, prefix)),
        ],
        can_subset=True,
        partitions_def=intraday_partitions if intraday else date_tenant_partitions,
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
        hour = refresh_hour(context, media, day) if intraday else None
        if intraday and hour is None:
            return  # yielded to a daily run of the media
        chosen, config = _chosen(context, media, parts, config)
        lines: queue.SimpleQueue[str] = queue.SimpleQueue()
        with FetchSession() as session:
            services = {"mysql": mysql, "redis": redis, "media_api": media_api, "run_log": run_log}
            step = StepContext(
                **services,
                media=media,
                day=day,
                tenant=tenant,
                run_id=context.run.run_id,
                config=config,
                io_manager=io_manager,
                session=session,
                log=lines.put,
                intraday_hour=hour,
            )
            yield from _announced(context, step, chosen, prefix=prefix, lines=lines)
        yield from _checks_alone(context, parts, sink=io_manager.sink, prefix=prefix)

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
    *,
    prefix: str | None,
    lines: queue.SimpleQueue[str],
) -> Iterator[Output | AssetCheckResult]:
    """`run_step`, announced on the Redis channel when it ends (`announce.py`)."""
    sink = step.io_manager.sink
    announcement = StepAnnouncement(
        step.media.name, step.day, step.tenant, step.run_id, sink.mode, [p.key for p in chosen]
    )
    yield from announcement.watch(
        run_step(context, step, chosen, sink=sink, prefix=prefix, lines=lines),
        publisher(step.redis, context.log),
    )


def _chosen(
    context: AssetExecutionContext, media: MediaDefinition, parts: list[Part], config: MediaRunConfig
) -> tuple[list[Part], MediaRunConfig]:
    """The selected parts and their config, checked (with `failed_only`: what failed last time)."""
    chosen = [p for p in parts if p.key in context.selected_asset_keys]
    _check_config(media, parts, chosen, config)
    return _failed_only(context, media, chosen) if config.failed_only else (chosen, config)


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


def run_step(
    context: AssetExecutionContext,
    step: StepContext,
    chosen: list[Part],
    *,
    sink: Sink,
    prefix: str | None,
    lines: queue.SimpleQueue[str] | None = None,
) -> Iterator[Output | AssetCheckResult]:
    """Run the chosen parts, each as soon as its upstream in the step is done; yield each one's
    output and checks as it finishes; fail at the end if any part failed (see the module doc).
    `lines` (filled by the parts' progress) are written to the step's log as they come."""
    in_step = {p.name for p in chosen}
    blocking = completeness_blocking()
    held: set[str] = set()  # parts whose blocking completeness check failed
    waiting = list(chosen)
    done: dict[str, PartResult] = {}
    failed: dict[str, str] = {}
    running: dict[Future[PartResult], Part] = {}
    pool = ThreadPoolExecutor(max_workers=max(1, len(chosen)), thread_name_prefix=f"ark-{step.media.name}")

    def start_ready() -> None:
        for part in list(waiting):
            inner = [u for u in part.upstream if u in in_step]
            blocked = [u for u in inner if u in failed or u in held]
            if blocked:
                waiting.remove(part)
                failed[part.name] = f"not run: {', '.join(blocked)} failed in this step" + (
                    " (a blocking completeness check)" if set(blocked) <= held else ""
                )
            elif all(u in done for u in inner):
                waiting.remove(part)
                running[pool.submit(part.work, step, {u: done[u] for u in inner})] = part

    try:
        start_ready()
        while running:
            finished, _ = wait(running, timeout=1.0, return_when=FIRST_COMPLETED)
            _write_lines(context, lines)
            ready: list[Part] = []
            for future in finished:
                part = running.pop(future)
                try:
                    done[part.name] = future.result()
                    ready.append(part)
                    check = done[part.name].completeness
                    if blocking and check is not None and not check.passed:
                        held.add(part.name)
                except Exception as exc:  # one asset's failure must not stop the others
                    failed[part.name] = _reason(exc)
                    context.log.error(
                        f"{part.key.to_user_string()} failed; the media's other assets go on:\n"
                        + "".join(traceback.format_exception(exc))[-4000:]
                    )
            start_ready()  # the parts downstream start before this thread writes the rows
            for part in ready:
                context.log.info(_progress(part, done[part.name], running.values()))
                yield from _emit(context, step, part, done[part.name], sink=sink, prefix=prefix)
    finally:
        step.session.close()  # cancels fetches still running if we got here by an error
        pool.shutdown(wait=True, cancel_futures=True)
        _write_lines(context, lines)
    if failed:
        lines = "\n".join(f"| {step.media.name}/{name} | {reason[:300]} |" for name, reason in failed.items())
        raise Failure(
            description=f"{len(failed)} of {len(chosen)} {step.media.name} assets failed: "
            + "; ".join(f"{step.media.name}/{name}: {reason}" for name, reason in failed.items()),
            metadata={"failed_assets": MetadataValue.md(f"| asset | reason |\n|---|---|\n{lines}")},
        )


def _write_lines(context: AssetExecutionContext, lines: queue.SimpleQueue[str] | None) -> None:
    while lines is not None and not lines.empty():
        context.log.info(lines.get_nowait())


def _progress(part: Part, result: PartResult, running: Iterable[Part]) -> str:
    """One line per finished asset, so a long step shows where it is."""
    m = {k: getattr(v, "value", v) for k, v in result.metadata.items()}
    if "accounts_requested" in m:
        done = (
            f"{m['accounts_succeeded']:,} of {m['accounts_requested']:,} sources ok, "
            f"{m['throttles']:,} throttles, {m['seconds']:.1f} s"
        )
    else:
        done = f"{m.get('agents', 0)} agents"
    still = ", ".join(p.name for p in running)
    return f"{part.key.to_user_string()} fetched ({done}); writing its rows" + (
        f"; still fetching: {still}" if still else ""
    )


def _emit(
    context: AssetExecutionContext,
    step: StepContext,
    part: Part,
    result: PartResult,
    *,
    sink: Sink,
    prefix: str | None,
) -> Iterator[Output | AssetCheckResult]:
    """The part's output (the IO manager writes it while this generator waits), then its checks."""
    checks = context.selected_asset_check_keys
    yield Output(result.spool, output_name=part.key.to_python_identifier(), metadata=result.metadata)
    if result.completeness is not None and AssetCheckKey(part.key, COMPLETENESS) in checks:
        yield result.completeness
    if AssetCheckKey(part.key, ROW_KEYS) in checks:
        yield row_keys(sink, part.spec, step.day, step.tenant)
    if prefix and AssetCheckKey(part.key, COMPARISON) in checks:
        yield comparison(sink, part.spec, step.day, step.tenant, prefix)


def _checks_alone(
    context: AssetExecutionContext, parts: list[Part], *, sink: Sink, prefix: str | None
) -> Iterator[AssetCheckResult]:
    """Checks selected without their asset (the UI's "Execute check"): evaluated on what is stored."""
    day, tenant = split_key(context.partition_key)
    by_key = {p.key: p for p in parts}
    for check in sorted(context.selected_asset_check_keys, key=lambda c: (c.asset_key.path, c.name)):
        if check.asset_key in context.selected_asset_keys:
            continue
        part = by_key[check.asset_key]
        if check.name == ROW_KEYS:
            yield row_keys(sink, part.spec, day, tenant)
        elif check.name == COMPARISON and prefix:
            yield comparison(sink, part.spec, day, tenant, prefix)
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
    metadata = latest.asset_materialization.metadata
    value = {k: getattr(v, "value", v) for k, v in metadata.items()}
    requested = value.get("accounts_requested", 0)
    failed = value.get("accounts_failed", 0)
    expected = value.get("sources_expected", requested)
    return AssetCheckResult(
        asset_key=key,
        check_name=COMPLETENESS,
        passed=requested == expected == value.get("accounts_succeeded", 0) + failed and failed == 0,
        severity=AssetCheckSeverity.ERROR,
        metadata={
            "sources_expected": expected,
            "sources_with_outcome": requested,
            "sources_failed": failed,
            "evaluated_from": f"the materialization of run {latest.run_id}",
        },
    )


def _reason(exc: BaseException) -> str:
    if isinstance(exc, Failure) and exc.description:
        return exc.description
    return f"{type(exc).__name__}: {exc}"
