"""Run the fetch engine for an asset and stream its outcomes into a row spool.

Assets are synchronous Dagster ops; the engine is async. `fetch_into_spool` runs one engine
stream to the end in a private event loop, turns every successful outcome into rows written
to the spool as they arrive (bounded memory), and keeps the failures (capped) for metadata.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace

from ark_assets.assets.catalog import BadRecord
from ark_assets.fetch.engine import FetchEngine, FetchObserver
from ark_assets.fetch.outcome import Failure, Outcome, Source
from ark_assets.io.rows import Row, RowSpool
from ark_assets.media import Media, spec_of
from ark_assets.resources.media_api import MediaApiResource
from ark_assets.resources.redis_store import RedisResource

MAX_FAILURES_KEPT = 200  # failures listed in metadata; all of them are counted


@dataclass
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
    outcomes: list[Outcome] = field(default_factory=list)  # only when keep_outcomes

    def add(self, other: FetchSummary) -> FetchSummary:
        counters = (
            "requested",
            "succeeded",
            "failed",
            "records",
            "rows",
            "throttles",
            "retries",
            "refreshes",
            "requests",
            "seconds",
        )
        for name in counters:
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.failures = (self.failures + other.failures)[:MAX_FAILURES_KEPT]
        self.failed_targets |= other.failed_targets
        self.failed_agents |= other.failed_agents
        return self


def fetch_into_spool(
    *,
    media: Media,
    endpoint: str,
    sources: Iterable[Source],
    tenant: str,
    api: MediaApiResource,
    redis: RedisResource,
    observer: FetchObserver,
    to_rows: Callable[[Outcome], Iterable[Row]],
    spool: RowSpool | None,
    keep_outcomes: bool = False,
) -> FetchSummary:
    """Fetch every source; write each success's rows to `spool` (if any); summarize."""
    summary = FetchSummary()
    started = time.monotonic()

    async def run() -> None:
        engine = FetchEngine(
            spec_of(media),
            base_url=api.base_url(media),
            tenant=tenant,
            app=api.app(media),
            redis=redis.sets,
            settings=api.engine_settings(),
            observer=observer,
        )
        async with engine:
            async for outcome in engine.stream(endpoint, sources):
                summary.requested += 1
                if outcome.ok:
                    try:
                        # all of a source's rows, or none: a bad record fails the source, not the run
                        rows = list(to_rows(outcome))
                    except BadRecord as exc:
                        failure = Failure(str(media), "BadRecord", exc.field, str(exc), outcome.attempts)
                        outcome = replace(outcome, records=None, failure=failure)
                if outcome.ok:
                    summary.succeeded += 1
                    summary.records += len(outcome.records or [])
                    if spool is not None:
                        for row in rows:
                            spool.write(row)
                            summary.rows += 1
                else:
                    summary.failed += 1
                    summary.failed_agents.add(outcome.source.agent_id)
                    if isinstance(outcome.source.target, str):
                        summary.failed_targets.add(outcome.source.target)
                    elif isinstance(outcome.source.target, tuple):  # a batch of ids (jrtt details)
                        summary.failed_targets.update(outcome.source.target)
                    if len(summary.failures) < MAX_FAILURES_KEPT:
                        f = outcome.failure
                        target = (
                            ",".join(outcome.source.target)
                            if isinstance(outcome.source.target, tuple)
                            else str(outcome.source.target or outcome.source.agent_id)
                        )
                        summary.failures.append((target, f.kind, str(f.code), f.message))
                if keep_outcomes:
                    summary.outcomes.append(outcome)
        stats = engine.stats
        summary.throttles, summary.retries = stats.throttles, stats.retries
        summary.refreshes, summary.requests = stats.refreshes, stats.requests

    asyncio.run(run())
    summary.seconds = time.monotonic() - started
    return summary
