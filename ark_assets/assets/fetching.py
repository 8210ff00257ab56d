"""Run the fetch engine for an asset and stream its outcomes into a row spool.

Assets are synchronous code; the engine is async. `FetchRun.fetch` runs one engine stream to
the end, turns every successful outcome into rows written to the spool as they arrive (bounded
memory), and keeps the failures (capped) for metadata.

A media's step fetches all its assets at once: each asset's work runs in a thread of its own
(its bookkeeping in MySQL and Kafka stays plain blocking code) and hands its fetches to the
step's `FetchSession`, one event loop in a thread of its own where every fetch of the step shares
one engine per (media, tenant, app): one connection pool, one token book, and one rate governor
per (app, endpoint). Without a session, `fetch` runs a private engine in a private loop.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field, fields, replace
from typing import Any, TypeVar

from ark_assets.assets.progress import FetchProgress
from ark_assets.assets.records import BadRecord
from ark_assets.clients.redis_sets import RedisSets
from ark_assets.fetch.engine import FetchEngine, FetchObserver, ResponseEvent
from ark_assets.fetch.outcome import EngineStats, Failure, Outcome, Source
from ark_assets.io.rows import Row, RowSpool
from ark_assets.media.declare import MediaDefinition
from ark_assets.resources.media_api import MediaApiResource

MAX_FAILURES_KEPT = 200  # failures listed in metadata; all of them are counted
_CLOSE_TIMEOUT_S = 30.0
_T = TypeVar("_T")


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
    timeouts: int = 0
    hedges: int = 0
    seconds: float = 0.0
    failures: list[dict[str, Any]] = field(default_factory=list)  # the first failures in full (failures.py)
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
            self.failures.append(
                {
                    "source": shown,
                    "agent_id": outcome.source.agent_id,
                    "media": failure.media,
                    "kind": failure.kind,
                    "code": str(failure.code),
                    "message": failure.message,
                    "attempts": failure.attempts,
                }
            )


class FetchSession:
    """One event loop in a thread of its own, and the engines of a step's fetches on it.

    Use as `with FetchSession() as session:`; leaving it cancels fetches still running (their
    callers see `concurrent.futures.CancelledError`), closes the engines and stops the loop.
    """

    def __init__(self) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="ark-fetch-loop", daemon=True)
        self._engines: dict[tuple[Any, ...], FetchEngine] = {}
        self._opening: asyncio.Lock | None = None
        self._running: set[concurrent.futures.Future[Any]] = set()
        self._guard = threading.Lock()
        self._closed = False

    def __enter__(self) -> FetchSession:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def run(self, work: Awaitable[_T]) -> _T:
        """Run `work` on the session's loop; blocks the calling thread until it is done."""
        with self._guard:
            if self._closed:
                # the step is stopping: the same answer as a fetch it cancelled (run.py)
                raise concurrent.futures.CancelledError("the fetch session is closed: the step is stopping")
            future = asyncio.run_coroutine_threadsafe(_awaited(work), self._loop)
            self._running.add(future)
        try:
            return future.result()
        finally:
            with self._guard:
                self._running.discard(future)

    async def engine(self, key: tuple[Any, ...], build: Callable[[], FetchEngine]) -> FetchEngine:
        """The session's engine for `key`, built and entered on first use (on the loop)."""
        if self._opening is None:
            self._opening = asyncio.Lock()
        async with self._opening:
            if key not in self._engines:
                engine = build()
                await engine.__aenter__()
                self._engines[key] = engine
        return self._engines[key]

    def close(self) -> None:
        with self._guard:
            if self._closed:
                return
            self._closed = True
            running = list(self._running)
        if not self._thread.is_alive():
            self._loop.close()
            return
        for future in running:
            future.cancel()  # cancels its task on the loop
        closing = asyncio.run_coroutine_threadsafe(self._close_engines(), self._loop)
        try:
            closing.result(timeout=_CLOSE_TIMEOUT_S)
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=_CLOSE_TIMEOUT_S)
            if not self._thread.is_alive():
                self._loop.close()

    async def _close_engines(self) -> None:
        current = asyncio.current_task()
        tasks = [t for t in asyncio.all_tasks() if t is not current]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        engines, self._engines = list(self._engines.values()), {}
        for engine in engines:
            await engine.__aexit__(None, None, None)


async def _awaited(work: Awaitable[_T]) -> _T:
    return await work


@dataclass(kw_only=True)
class FetchRun:
    """Fetches for one asset run of (media, tenant): every pass of the engine goes through here.

    Args:
        media: whose API.
        tenant: whose tokens and quota.
        api: base URLs, apps and engine knobs.
        redis: tokens (and the rate governor's and refresh lock's Redis).
        observer: request/response logs and alerts.
        session: the step's shared loop and engines; None runs each fetch in a private one.
        log: where progress lines go (`progress.py`: every ~10 s and at each fetch's end), with
            `label` (the asset) in front; None writes none.
    """

    media: MediaDefinition
    tenant: str
    api: MediaApiResource
    redis: RedisSets
    observer: FetchObserver
    session: FetchSession | None = None
    log: Callable[[str], None] | None = None
    label: str = ""

    def fetch(
        self,
        endpoint: str,
        sources: Iterable[Source],
        *,
        to_rows: Callable[[Outcome], Iterable[Row]],
        spool: RowSpool | None,
        total: int | None = None,
    ) -> FetchSummary:
        """Fetch every source; write each success's rows to `spool` (if any); summarize.

        `total`: how many sources there are, for the progress lines (when `sources` is lazy)."""
        summary = FetchSummary()
        started = time.monotonic()
        if total is None and isinstance(sources, list | tuple):
            total = len(sources)
        work = (endpoint, sources, to_rows, spool, summary, total)
        if self.session is None:
            asyncio.run(self._private(*work))
        else:
            self.session.run(self._shared(self.session, *work))
        summary.seconds = time.monotonic() - started
        return summary

    def _engine(self) -> FetchEngine:
        return FetchEngine(
            self.api.api_spec(self.media),  # the configured API version's paths and parameters
            base_url=self.api.base_url(self.media),
            tenant=self.tenant,
            app=self.api.app(self.media),
            redis=self.redis,
            settings=self.api.engine_settings(),
            observer=self.observer,
        )

    async def _private(self, *args: Any) -> None:
        async with self._engine() as engine:
            await self._stream(engine, *args)

    async def _shared(self, session: FetchSession, *args: Any) -> None:
        # one engine per connection the step's fetches use (an API version is a spec of its own)
        app = self.api.app(self.media)
        spec = self.api.api_spec(self.media)
        key = (self.media.name, self.tenant, self.api.base_url(self.media), app.app_id, spec.version)
        await self._stream(await session.engine(key, self._engine), *args)

    async def _stream(
        self,
        engine: FetchEngine,
        endpoint: str,
        sources: Iterable[Source],
        to_rows: Callable[[Outcome], Iterable[Row]],
        spool: RowSpool | None,
        summary: FetchSummary,
        total: int | None,
    ) -> None:
        stats = EngineStats()
        refreshed_before = engine.tokens.refreshes
        observer: FetchObserver = self.observer
        progress = None
        if self.log is not None:
            progress = FetchProgress(
                log=self.log,
                label=f"{self.label} {endpoint}".strip(),
                total=total,
                rate=lambda: engine.rate(endpoint),
            )
            observer = _Both(self.observer, progress)
        try:
            async for outcome in engine.stream(endpoint, sources, observer=observer, stats=stats):
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
                if progress is not None:
                    await progress.on_outcome(outcome)
            if progress is not None:
                progress.finish()
        finally:
            summary.throttles, summary.retries = stats.throttles, stats.retries
            summary.requests, summary.timeouts, summary.hedges = stats.requests, stats.timeouts, stats.hedges
            # refreshes of the engine while this fetch ran (shared by the step's concurrent fetches)
            summary.refreshes = engine.tokens.refreshes - refreshed_before


@dataclass(frozen=True)
class _Both:
    """The asset's observer (request logs, alerts) and its progress counter, as one observer."""

    observer: FetchObserver
    progress: FetchProgress

    def on_response(self, event: ResponseEvent) -> None:
        self.observer.on_response(event)
        self.progress.on_response(event)

    def on_alert(self, media: str, message: str) -> None:
        self.observer.on_alert(media, message)
