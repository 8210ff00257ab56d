"""Run the fetch engine for an asset and stream its outcomes into a row spool.

Assets are synchronous Dagster ops; the engine is async. `FetchRun.fetch` runs one engine
stream to the end in a private event loop, turns every successful outcome into rows written
to the spool as they arrive (bounded memory), and keeps the failures (capped) for metadata.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, fields, replace

from ark_assets.assets.records import BadRecord
from ark_assets.clients.redis_sets import RedisSets
from ark_assets.fetch.engine import FetchEngine, FetchObserver
from ark_assets.fetch.outcome import Failure, Outcome, Source
from ark_assets.io.rows import Row, RowSpool
from ark_assets.media.declare import MediaDefinition
from ark_assets.resources.media_api import MediaApiResource

MAX_FAILURES_KEPT = 200  # failures listed in metadata; all of them are counted


@dataclass(kw_only=True)
class FetchSummary:
    """What one fetch pass did, for materialization metadata and the run log."""

    requested: int = 0
    succeeded: int = 0
    failed: int = 0
    records: int = 0
    rows: int = 0
    throttles: int = 0
    retries: int = 0
    refreshes: int = 0
    requests: int = 0
    seconds: float = 0.0
    failures: list[tuple[str, str, str, str]] = field(default_factory=list)  # target, kind, code, message
    failed_targets: set[str] = field(default_factory=set)  # every failed account (not capped)
    failed_agents: set[str] = field(default_factory=set)  # agents with at least one failed source
    failed_by_kind: dict[str, int] = field(default_factory=dict)  # error class -> sources (not capped)

    def add(self, other: FetchSummary) -> FetchSummary:
        """Fold `other` (a second pass of the same asset, e.g. details after a listing) into this one."""
        for counter in fields(self):
            value = getattr(self, counter.name)
            if isinstance(value, int | float):
                setattr(self, counter.name, value + getattr(other, counter.name))
        self.failures = (self.failures + other.failures)[:MAX_FAILURES_KEPT]
        self.failed_targets |= other.failed_targets
        self.failed_agents |= other.failed_agents
        for kind, n in other.failed_by_kind.items():
            self.failed_by_kind[kind] = self.failed_by_kind.get(kind, 0) + n
        return self

    def count(self, outcome: Outcome, rows: int) -> None:
        """Account for one source's outcome (its `rows` were written when it succeeded)."""
        self.requested += 1
        if outcome.ok:
            self.succeeded += 1
            self.records += len(outcome.records or [])
            self.rows += rows
            return
        self.failed += 1
        self.failed_agents.add(outcome.source.agent_id)
        self.failed_by_kind[outcome.failure.kind] = self.failed_by_kind.get(outcome.failure.kind, 0) + 1
        target = outcome.source.target
        if isinstance(target, tuple):  # a batch of ids (an account-details call)
            self.failed_targets.update(target)
        elif isinstance(target, str):
            self.failed_targets.add(target)
        if len(self.failures) < MAX_FAILURES_KEPT:
            shown = ",".join(target) if isinstance(target, tuple) else str(target or outcome.source.agent_id)
            failure = outcome.failure
            self.failures.append((shown, failure.kind, str(failure.code), failure.message))


@dataclass(kw_only=True)
class FetchRun:
    """Fetches for one asset run of (media, tenant): every pass of the engine goes through here.

    Args:
        media: whose API.
        tenant: whose tokens and quota.
        api: base URLs, apps and engine knobs.
        redis: tokens (and the rate governor's and refresh lock's Redis).
        observer: request/response logs and alerts.
    """

    media: MediaDefinition
    tenant: str
    api: MediaApiResource
    redis: RedisSets
    observer: FetchObserver

    def fetch(
        self,
        endpoint: str,
        sources: Iterable[Source],
        *,
        to_rows: Callable[[Outcome], Iterable[Row]],
        spool: RowSpool | None,
    ) -> FetchSummary:
        """Fetch every source; write each success's rows to `spool` (if any); summarize."""
        summary = FetchSummary()
        started = time.monotonic()
        asyncio.run(self._stream(endpoint, sources, to_rows, spool, summary))
        summary.seconds = time.monotonic() - started
        return summary

    async def _stream(
        self,
        endpoint: str,
        sources: Iterable[Source],
        to_rows: Callable[[Outcome], Iterable[Row]],
        spool: RowSpool | None,
        summary: FetchSummary,
    ) -> None:
        engine = FetchEngine(
            self.api.api_spec(self.media),  # the configured API version's paths and parameters
            base_url=self.api.base_url(self.media),
            tenant=self.tenant,
            app=self.api.app(self.media),
            redis=self.redis,
            settings=self.api.engine_settings(),
            observer=self.observer,
        )
        async with engine:
            async for outcome in engine.stream(endpoint, sources):
                rows: list[Row] = []
                if outcome.ok:
                    try:
                        # all of a source's rows, or none: a bad record fails the source, not the run
                        rows = list(to_rows(outcome))
                    except BadRecord as exc:
                        failure = Failure(
                            media=self.media.name,
                            kind="BadRecord",
                            code=exc.field,
                            message=str(exc),
                            attempts=outcome.attempts,
                        )
                        outcome = replace(outcome, records=None, failure=failure)
                        rows = []
                if outcome.ok and spool is not None:
                    for row in rows:
                        spool.write(row)
                summary.count(outcome, len(rows) if spool is not None else 0)
        stats = engine.stats
        summary.throttles, summary.retries = stats.throttles, stats.retries
        summary.refreshes, summary.requests = stats.refreshes, stats.requests
