"""The quota-aware async fetch engine: every source ends in exactly one outcome, streamed.

One engine serves one (media, tenant, app): it holds the HTTP connections, the tokens, and per
endpoint a rate governor (shared through Redis by every run using the app), a latency tracker and
an in-flight limit. Its parts, one job each:

- `stream.py`: the stream of sources, outcomes yielded as they finish (bounded memory);
- `source.py`: one source to its end: pages, retries, one token refresh (`tokens.py`);
- `paging.py`: the paging strategies; `call.py`: one call and its body-code translation;
- `hedge.py` + `latency.py`: a straggler's copy, on a spare governor slot only; timeouts that
  follow the endpoint's recent latency;
- `exhaustion.py`: a spent daily quota; `report.py` + `summary.py`: each stream's observer and
  its one summary, handed to every call of the stream as a plain parameter.

Several streams may run on one engine at once (one per asset of a media, in one event loop): they
share its connections, tokens and endpoints, and each has its own observer and summary.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterable

import aiohttp
import redis.asyncio as aioredis

from ark_assets.clients.redis_sets import RedisSets
from ark_assets.fetch import stream as streaming
from ark_assets.fetch.call import Caller, Endpoint
from ark_assets.fetch.exhaustion import DailyQuotas
from ark_assets.fetch.governor import RateGovernor
from ark_assets.fetch.latency import LatencyTracker, LoopLag
from ark_assets.fetch.outcome import Outcome, Source
from ark_assets.fetch.report import FetchObserver, LogObserver, ResponseEvent, StreamReport
from ark_assets.fetch.settings import EngineSettings
from ark_assets.fetch.source import SourceFetcher
from ark_assets.fetch.summary import FetchSummary
from ark_assets.fetch.tokens import TokenBook
from ark_assets.media.api import ApiSpec
from ark_assets.media.declare import MediaApp

__all__ = ["EngineSettings", "FetchEngine", "FetchObserver", "ResponseEvent"]

# Connections per engine: a stream per endpoint, each up to max_in_flight, plus hedges.
_CONNECTIONS_PER_IN_FLIGHT = 8


class FetchEngine:
    """Fetch sources of one media for one tenant; use as `async with FetchEngine(...) as engine`.

    `summary` counts every stream of the engine (a stream's own summary counts just that stream).
    """

    def __init__(
        self,
        spec: ApiSpec,
        *,
        base_url: str,
        tenant: str,
        app: MediaApp,
        redis: RedisSets,
        settings: EngineSettings | None = None,
        observer: FetchObserver | None = None,
        download_url: str | None = None,
    ) -> None:
        self.spec = spec
        self.media = str(spec.media)
        self.base_url = base_url.rstrip("/")
        self.download_url = (download_url or base_url).rstrip("/")
        self.tenant = tenant
        self.app = app
        self.settings = settings or EngineSettings()
        self.observer = observer or LogObserver()
        self.summary = FetchSummary()
        self._store = redis
        self._endpoints: dict[str, Endpoint] = {}
        self._lag = LoopLag(self.settings.latency.lag_check_s)
        self._lag_task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> FetchEngine:
        # One Redis call per request (the governor): a pool that blocks when every connection is
        # busy, sized to the sources in flight (redis-py's default pool raises instead of waiting).
        pool = aioredis.BlockingConnectionPool(
            host=self._store.host,
            port=self._store.port,
            db=self._store.db,
            password=self._store.password or None,
            max_connections=self.settings.max_in_flight + 8,
            timeout=60,
        )
        self._client = aioredis.Redis(connection_pool=pool)
        connector = aiohttp.TCPConnector(
            limit=self.settings.max_in_flight * _CONNECTIONS_PER_IN_FLIGHT, ttl_dns_cache=300
        )
        self._session = aiohttp.ClientSession(connector=connector, raise_for_status=False)
        self.tokens = TokenBook(
            self.spec,
            self.tenant,
            store=self._store,
            client=self._client,
            session=self._session,
            base_url=self.base_url,
            app_id=self.app.app_id,
            app_secret=self.app.secret,
        )
        try:
            await self.tokens.load()
        except BaseException:  # e.g. a corrupt token key: `async with` will not call __aexit__
            await self._session.close()
            await self._client.aclose()
            raise
        self._quotas = DailyQuotas(self._client, media=self.media, app_id=self.app.app_id, tenant=self.tenant)
        caller = Caller(
            self.spec,
            session=self._session,
            base_url=self.base_url,
            lag=self._lag,
            download_url=self.download_url,
            download_timeout_s=self.settings.download_timeout_s,
        )
        self._sources = SourceFetcher(
            media=self.media, caller=caller, tokens=self.tokens, quotas=self._quotas, settings=self.settings
        )
        self._lag_task = asyncio.create_task(self._lag.run())
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._lag_task is not None:
            self._lag_task.cancel()
            await asyncio.gather(self._lag_task, return_exceptions=True)
        self.summary.refreshes = self.tokens.refreshes
        await self._session.close()
        await self._client.aclose()

    async def stream(
        self,
        endpoint: str,
        sources: Iterable[Source],
        *,
        observer: FetchObserver | None = None,
        summary: FetchSummary | None = None,
    ) -> AsyncIterator[Outcome]:
        """Fetch every source, yielding one outcome per source as each finishes.

        Args:
            observer: hears about this stream's calls (default: the engine's observer).
            summary: counts this stream's calls and outcomes (beside the engine's own `summary`);
                its `seconds` and `refreshes` are the stream's wall time and the token refreshes
                made while it ran.
        """
        state = self._endpoint(endpoint)
        await self._quotas.load(state.spec.name)
        summaries = (self.summary,) if summary is None or summary is self.summary else (self.summary, summary)
        report = StreamReport(observer or self.observer, summaries)
        started, refreshed_before = time.monotonic(), self.tokens.refreshes

        async def fetch(source: Source) -> Outcome:
            return await self._sources.fetch(state, source, report)

        try:
            async for outcome in streaming.outcomes(
                fetch, sources, max_in_flight=self.settings.max_in_flight, slots=state.slots
            ):
                for counted in summaries:
                    counted.count(outcome)
                yield outcome
        finally:
            if summary is not None and summary is not self.summary:
                # refreshes are the engine's (its streams share the tokens): those made meanwhile
                summary.refreshes += self.tokens.refreshes - refreshed_before
                summary.seconds += time.monotonic() - started

    @property
    def client(self) -> aioredis.Redis:
        """The engine's Redis client (the governor's, the token lock's, the task slots')."""
        return self._client

    async def rate(self, endpoint: str) -> float:
        """The rate (calls/s) the shared governor allows `endpoint` now."""
        return await self._endpoint(endpoint).governor.rate()

    def _endpoint(self, name: str) -> Endpoint:
        spec = self.spec.endpoint(name)
        if spec.name not in self._endpoints:
            s = self.settings
            self._endpoints[spec.name] = Endpoint(
                spec=spec,
                governor=RateGovernor(self._client, self.media, self.app.app_id, spec.name, s.governor),
                latency=LatencyTracker(s.latency, s.timeout_s),
                slots=asyncio.Semaphore(s.max_in_flight),
            )
        return self._endpoints[spec.name]
