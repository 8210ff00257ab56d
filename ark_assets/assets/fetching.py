"""Run the fetch engine for an asset and stream its outcomes into a row spool.

Assets are synchronous code; the engine is async. `FetchRun.fetch` runs one engine stream to
the end and turns every successful outcome into rows written to the spool as they arrive
(bounded memory); it returns the engine's summary of the fetch (`fetch/summary.py`) with the rows
written added.

A media's step fetches all its assets at once: each asset's work runs in a thread of its own
(its bookkeeping in MySQL and Kafka stays plain blocking code) and hands its fetches to the
step's `FetchSession`, one event loop in a thread of its own where every fetch of the step shares
one engine per (media, tenant, app): one connection pool, one token book, and one rate governor
per (app, endpoint).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

from ark_assets.assets.progress import FetchProgress
from ark_assets.assets.records import BadRecord
from ark_assets.clients.redis_sets import RedisSets
from ark_assets.fetch.engine import FetchEngine
from ark_assets.fetch.outcome import Failure, Outcome, Source
from ark_assets.fetch.report import FetchObserver
from ark_assets.fetch.summary import FetchSummary
from ark_assets.io.rows import Row, RowSpool
from ark_assets.media.declare import MediaDefinition
from ark_assets.resources.media_api import MediaApiResource

_CLOSE_TIMEOUT_S = 30.0
_T = TypeVar("_T")


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
        return self.submit(work).result()

    def submit(self, work: Awaitable[_T]) -> concurrent.futures.Future[_T]:
        """Start `work` on the session's loop; its future (cancelled when the session closes)."""
        with self._guard:
            if self._closed:
                # the step is stopping: the same answer as a fetch it cancelled (run.py)
                raise concurrent.futures.CancelledError("the fetch session is closed: the step is stopping")
            future = asyncio.run_coroutine_threadsafe(_awaited(work), self._loop)
            self._running.add(future)
        future.add_done_callback(self._forget)
        return future

    def _forget(self, future: concurrent.futures.Future[Any]) -> None:
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
        session: the step's shared loop and engines.
        log: where progress lines go (`progress.py`: every ~10 s and at each fetch's end), with
            `label` (the asset) in front; None writes none.
    """

    media: MediaDefinition
    tenant: str
    api: MediaApiResource
    redis: RedisSets
    observer: FetchObserver
    session: FetchSession
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
        on_outcome: Callable[[Outcome], None] | None = None,
    ) -> FetchSummary:
        """Fetch every source; write each success's rows to `spool` (if any); the fetch's summary.

        `total`: how many sources there are, for the progress lines (when `sources` is lazy);
        `on_outcome` hears every outcome, failed ones too (before its rows are written)."""
        summary = FetchSummary()
        if total is None and isinstance(sources, list | tuple):
            total = len(sources)
        self.session.run(self._stream(endpoint, sources, to_rows, spool, summary, total, on_outcome))
        return summary

    def _engine(self) -> FetchEngine:
        return FetchEngine(
            self.api.api_spec(self.media),  # the configured API version's paths and parameters
            base_url=self.api.base_url(self.media),
            download_url=self.api.download_url(self.media),
            tenant=self.tenant,
            app=self.api.app(self.media),
            redis=self.redis,
            settings=self.api.engine_settings(),
            observer=self.observer,
        )

    async def engine(self) -> FetchEngine:
        """The step's engine for this connection (one per API version: a version is a spec of its own)."""
        spec = self.api.api_spec(self.media)
        key = (
            self.media.name,
            self.tenant,
            self.api.base_url(self.media),
            self.api.app(self.media).app_id,
            spec.version,
        )
        return await self.session.engine(key, self._engine)

    async def call(self, endpoint: str, source: Source, summary: FetchSummary) -> Outcome:
        """One source's outcome (every page of it), counted on `summary` (on the session's loop)."""
        engine = await self.engine()
        async for outcome in engine.stream(endpoint, [source], observer=self.observer, summary=summary):
            return outcome
        raise AssertionError("unreachable: a stream ends every source in one outcome")  # pragma: no cover

    async def _stream(
        self,
        endpoint: str,
        sources: Iterable[Source],
        to_rows: Callable[[Outcome], Iterable[Row]],
        spool: RowSpool | None,
        summary: FetchSummary,
        total: int | None,
        on_outcome: Callable[[Outcome], None] | None = None,
    ) -> None:
        engine = await self.engine()
        progress = None
        if self.log is not None:
            label = f"{self.label} {endpoint}".strip()
            rate = lambda: engine.rate(endpoint)  # noqa: E731
            progress = FetchProgress(log=self.log, label=label, summary=summary, total=total, rate=rate)
        async for outcome in engine.stream(endpoint, sources, observer=self.observer, summary=summary):
            if on_outcome is not None:
                on_outcome(outcome)
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
                    summary.spoiled(outcome, failure)
                    rows = []
                if spool is not None:
                    for row in rows:
                        spool.write(row)
                    summary.rows += len(rows)
            if progress is not None:
                await progress.tick()
        if progress is not None:
            progress.finish()
