"""The pieces a media's step is made of: what every asset's work gets, and what it hands back.

A media's assets run in one Dagster step (`media_step.py`); each asset's work is a plain function
of a `StepContext` (the partition, the slice config, the resources, the step's fetch session) and
the results of the assets it depends on within the step, returning a `PartResult` that the step
turns into the asset's materialization and check results.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from dagster import AssetCheckResult, AssetKey, AssetSpec

from ark_assets.assets.bulk import BulkBook
from ark_assets.assets.exchange import Exchange
from ark_assets.assets.fetching import FetchRun, FetchSession
from ark_assets.assets.recording import LoggingObserver, RunRecorder
from ark_assets.assets.run import recorded_run
from ark_assets.assets.run_config import FetchConfig, MediaRunConfig
from ark_assets.fetch.summary import FetchSummary
from ark_assets.io.hbase_io_manager import HBaseIOManager
from ark_assets.io.rows import Row, RowSpool
from ark_assets.media.declare import MediaDefinition
from ark_assets.resources.media_api import MediaApiResource
from ark_assets.resources.mysql import MySQLResource
from ark_assets.resources.redis_store import RedisResource
from ark_assets.resources.run_log import RunLogResource


@dataclass(frozen=True, kw_only=True)
class StepContext:
    """What every asset's work in one media step shares."""

    media: MediaDefinition
    day: date
    tenant: str
    run_id: str
    config: MediaRunConfig
    mysql: MySQLResource
    redis: RedisResource
    media_api: MediaApiResource
    run_log: RunLogResource
    io_manager: HBaseIOManager
    session: FetchSession
    log: Callable[[str], None]  # a line for the step's run log (any thread: the step's thread writes it)
    chosen: frozenset[str] = frozenset()  # the parts this step runs (by name)
    exchange: Exchange = field(default_factory=Exchange)  # what the parts hand each other
    bulk: BulkBook | None = None  # the step's asynchronous report tasks
    # An intraday refresh (INCR) of today: the GMT+8 hour it runs in. Its account lists are the
    # previous day's (Redis holds finished days' lists) and hourly records from this hour on
    # (the hour still running) are left out.
    intraday_hour: int | None = None

    @contextmanager
    def recorded(self, key: AssetKey, endpoint: str, config: FetchConfig) -> Iterator[RunRecorder]:
        """One asset's bookkeeping (run log, events, alerts) around its work (`recorded_run`)."""
        with recorded_run(
            job=key.to_user_string(),
            run_id=self.run_id,
            media=self.media,
            tenant=self.tenant,
            day=self.day,
            endpoint=endpoint,
            config=config,
            run_log=self.run_log,
            output=self.io_manager.sink.mode,
        ) as recorder:
            yield recorder

    def contract(self, endpoint: str) -> dict[str, str]:
        """Which contract an asset's rows came from (its metadata): the API version and the path
        of `endpoint` (a name or role) in it, e.g. `v3.0`, `/v3.0/daily_reports/get`."""
        api = self.media_api.api_spec(self.media)
        return {"api_version": api.version, "api_path": api.endpoint(endpoint).path}

    def contract_label(self, endpoint: str) -> str:
        """`contract` as one text, what a row's `info:api` holds (`v3.0 /v3.0/daily_reports/get`)."""
        contract = self.contract(endpoint)
        return f"{contract['api_version']} {contract['api_path']}"

    def fetch_run(self, key: AssetKey, recorder: RunRecorder) -> tuple[FetchRun, LoggingObserver]:
        """An asset's fetches on the step's session, logged to `recorder`; flush the observer after."""
        observer = LoggingObserver(recorder=recorder, sample_rate=self.media_api.log_sample_rate)
        run = FetchRun(
            media=self.media,
            tenant=self.tenant,
            api=self.media_api,
            redis=self.redis.sets,
            observer=observer,
            session=self.session,
            log=self.log,
            label=key.to_user_string(),
        )
        return run, observer


@dataclass(kw_only=True)
class PartResult:
    """One asset's work done: its rows, its metadata, its fetch's summary and completeness.

    `rows` are kept in memory for the assets downstream in the same step (the agent lists their
    account lists are fetched for); everything else streams through the spool.
    """

    spool: RowSpool
    metadata: dict[str, Any]
    summary: FetchSummary | None = None  # what its fetch did (fetch assets only)
    completeness: AssetCheckResult | None = None
    rows: list[Row] = field(default_factory=list)


Work = Callable[[StepContext, Mapping[str, PartResult]], PartResult]


@dataclass(frozen=True, kw_only=True)
class Part:
    """One asset of a media's step.

    Args:
        name: the asset's name within the media (`funds`).
        spec: the asset's spec (key, lineage, table, group, tags...).
        upstream: the media's assets it reads (within the step, their results come in `work`'s
            second argument when they ran in the same step).
        fetches: it calls the media, so it has a `completeness` check.
        work: does it.
    """

    name: str
    spec: AssetSpec
    upstream: tuple[str, ...]
    fetches: bool
    work: Work

    @property
    def key(self) -> AssetKey:
        return self.spec.key
