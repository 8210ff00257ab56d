"""The quota-aware async fetch engine: every source ends in exactly one outcome, streamed.

One engine serves one (media, tenant, app). It keeps HTTP connections alive, paces calls
through the shared `RateGovernor`, retries what is retryable with jittered backoff (tenacity),
refreshes an expired token once under a lock, stops the media for the day on a daily-quota
code, walks every page, and yields outcomes as they finish so the caller can write them out
while the rest are still in flight: memory holds at most `max_in_flight` sources per endpoint.

Several streams may run on one engine at once (one per asset of the media, in one event loop):
they share its connections, tokens and one governor per endpoint, and each has its own observer
and counters. A call's timeout follows what its endpoint has answered in lately, and a straggler
is sent a second time before it would time out (`latency.py`): every call here is an idempotent
GET that would be retried anyway (token refreshes, which are not, never come through here).
"""

from __future__ import annotations

import asyncio
import contextvars
import json
import logging
import time
from collections.abc import AsyncIterator, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

import aiohttp
import redis.asyncio as aioredis
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception, wait_random_exponential

from ark_assets.clients.redis_sets import RedisSets
from ark_assets.core.days import GMT8
from ark_assets.core.redact import redact_text
from ark_assets.fetch.governor import GovernorSettings, RateGovernor
from ark_assets.fetch.latency import LatencySettings, LatencyTracker, LoopLag
from ark_assets.fetch.outcome import EngineStats, Failure, Outcome, Source
from ark_assets.fetch.tokens import TokenBook
from ark_assets.media import errors as e
from ark_assets.media.declare import ApiSpec, EndpointSpec, Paging

logger = logging.getLogger(__name__)

MAX_PAGES = 10_000  # a source needing more is a cursor loop or a broken page count


@dataclass(frozen=True)
class App:
    """The developer app whose quota and credentials a run uses."""

    app_id: str
    secret: str


@dataclass(frozen=True)
class EngineSettings:
    """Knobs of one engine; the defaults suit the media's documented limits.

    max_in_flight: sources fetched concurrently per endpoint (bounds memory and connections).
    timeout_s: per HTTP call at most (the latency-aware timeout is shorter once the endpoint has
    answered a few times, see `latency`). max_attempts: per page for transient errors (5xx,
    timeouts, resets, malformed bodies, system busy). max_throttled_attempts: per page when
    throttled. backoff_s / backoff_max_s: jittered exponential backoff between attempts.
    """

    max_in_flight: int = 100
    timeout_s: float = 30.0
    max_attempts: int = 6
    max_throttled_attempts: int = 30
    backoff_s: float = 0.2
    backoff_max_s: float = 10.0
    governor: GovernorSettings = field(default_factory=GovernorSettings)
    latency: LatencySettings = field(default_factory=LatencySettings)


# Connections per engine: a stream per endpoint, each up to max_in_flight, plus hedges.
_CONNECTIONS_PER_IN_FLIGHT = 8


@dataclass(frozen=True, kw_only=True)
class ResponseEvent:
    """One HTTP exchange, for request/response logs and throttle events (tokens never included)."""

    media: str
    endpoint: str
    agent_id: str
    target: str | tuple[str, ...] | None
    http_status: int | None
    code: int | str
    message: str
    trace_id: str | None
    attempt: int
    latency_ms: float
    kind: str = "ok"  # "ok", or the error class the answer translates to (Throttled, TokenExpired...)


class FetchObserver(Protocol):
    """Hooks the asset layer uses to log requests to MySQL and events to Kafka and Sentry."""

    def on_response(self, event: ResponseEvent) -> None: ...

    def on_alert(self, media: str, message: str) -> None: ...


class _NoObserver:
    def on_response(self, event: ResponseEvent) -> None:
        pass

    def on_alert(self, media: str, message: str) -> None:
        logger.warning("%s alert: %s", media, message)


class _RetryNow(e.MediaApiError):
    """Internal: the token was just refreshed, retry the call at once (not a media error)."""

    retryable = True


@dataclass(frozen=True)
class _StreamState:
    """What belongs to one stream of a shared engine: who hears about its calls, what it counted."""

    observer: FetchObserver
    stats: EngineStats


# The stream a call belongs to: set for the tasks of each `stream()`, so engine-wide code reports
# to the right observer and counters without passing them through every call.
_STREAM: contextvars.ContextVar[_StreamState | None] = contextvars.ContextVar("ark_stream", default=None)


@dataclass(frozen=True)
class _Answer:
    """An HTTP answer as read off the wire."""

    status: int
    rate_header: str | None
    trace_id: str | None
    body: bytes


@dataclass(kw_only=True)
class _Race:
    """A hedged call in progress: the task awaiting the first call, and the copy sent after it."""

    owner: asyncio.Task[Any] | None
    copy: asyncio.Task[_Answer] | None = None
    won: _Answer | None = None  # the copy's answer, when it came first
    settled: bool = False  # the first call's outcome is taken: the copy must not interrupt it

    def copy_done(self, task: asyncio.Task[_Answer]) -> None:
        if task.cancelled() or task.exception() is not None:  # retrieved, so never "unretrieved"
            return
        if not self.settled and self.owner is not None:
            self.won, self.settled = task.result(), True
            self.owner.cancel()  # interrupts the owner's wait for the first call


@dataclass
class _Tally:
    """One source's attempts so far (over all its pages), throttles, and whether it refreshed."""

    attempts: int = 0
    throttles: int = 0
    refreshed: bool = False


@dataclass(kw_only=True)
class _Call:
    """One HTTP exchange in progress: what the observer is told about it."""

    spec: EndpointSpec
    source: Source
    attempt: int
    started: float
    status: int | None = None
    trace_id: str | None = None


@dataclass
class _Page:
    records: list[dict[str, Any]]
    next_params: dict[str, Any] | None
    drop: tuple[str, ...] = ()  # parameters the next call must not carry (a change of paging mode)


class FetchEngine:
    """Fetch sources of one media for one tenant; use as `async with FetchEngine(...) as engine`."""

    def __init__(
        self,
        spec: ApiSpec,
        *,
        base_url: str,
        tenant: str,
        app: App,
        redis: RedisSets,
        settings: EngineSettings | None = None,
        observer: FetchObserver | None = None,
    ) -> None:
        self.spec = spec
        self.media = str(spec.media)
        self.base_url = base_url.rstrip("/")
        self.tenant = tenant
        self.app = app
        self.settings = settings or EngineSettings()
        self.observer = observer or _NoObserver()
        self.stats = EngineStats()
        self._store = redis
        self._governors: dict[str, RateGovernor] = {}
        self._latency: dict[str, LatencyTracker] = {}
        self._in_flight: dict[str, asyncio.Semaphore] = {}
        self._exhausted: set[str] = set()
        self._dead_agents: dict[str, Failure] = {}
        self._timeouts: dict[float, aiohttp.ClientTimeout] = {}
        self._lag = LoopLag(self.settings.latency.lag_check_s)
        self._lag_task: asyncio.Task[None] | None = None
        self._backoff = wait_random_exponential(
            multiplier=self.settings.backoff_s, max=self.settings.backoff_max_s
        )

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
        self._lag_task = asyncio.create_task(self._lag.run())
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._lag_task is not None:
            self._lag_task.cancel()
            await asyncio.gather(self._lag_task, return_exceptions=True)
        self.stats.refreshes = self.tokens.refreshes
        await self._session.close()
        await self._client.aclose()

    # ----- the public stream

    async def stream(
        self,
        endpoint: str,
        sources: Iterable[Source],
        *,
        observer: FetchObserver | None = None,
        stats: EngineStats | None = None,
    ) -> AsyncIterator[Outcome]:
        """Fetch every source, yielding one outcome per source as each finishes.

        Args:
            observer: hears about this stream's calls (default: the engine's observer).
            stats: counts this stream's calls and outcomes, beside the engine's own `stats`.
        """
        spec = self.spec.endpoint(endpoint)
        await self._load_exhaustion(spec)
        pending = iter(sources)
        results: asyncio.Queue[Outcome | None] = asyncio.Queue(maxsize=self.settings.max_in_flight)
        state = _StreamState(observer or self.observer, stats if stats is not None else self.stats)
        # streams of one endpoint share its in-flight limit (their governor paces them together)
        slots = self._in_flight.setdefault(spec.name, asyncio.Semaphore(self.settings.max_in_flight))

        async def worker() -> None:
            for source in pending:  # one shared iterator: sources are read lazily
                async with slots:
                    outcome = await self._fetch_source(spec, source)
                await results.put(outcome)

        async def run_workers() -> None:
            try:
                await asyncio.gather(*(worker() for _ in range(self.settings.max_in_flight)))
            finally:
                await results.put(None)

        context = contextvars.copy_context()
        context.run(_STREAM.set, state)
        runner = asyncio.create_task(run_workers(), context=context)
        try:
            while (outcome := await results.get()) is not None:
                self._count(outcome, state.stats)
                yield outcome
            await runner  # re-raises a bug in a worker instead of ending quietly
        finally:
            runner.cancel()

    # ----- one source

    async def _fetch_source(self, spec: EndpointSpec, source: Source) -> Outcome:
        # the caller's parameters may override the page size the endpoint declares; the endpoint's
        # derived ones (a report level in this version's spelling, its fields) override the caller's
        derived = spec.call_params(source.params) if spec.call_params else {}
        params: dict[str, Any] = {**spec.fixed_params, **self._first_page(spec), **source.params, **derived}
        if spec.source_param:
            try:
                params[spec.source_param] = _source_value(spec, source.target)
            except ValueError as exc:
                failure = Failure(
                    media=self.media, kind="BadRequest", code="source", message=str(exc), attempts=0
                )
                return Outcome(source=source, records=None, failure=failure, attempts=0, throttles=0, pages=0)
        records: list[dict[str, Any]] = []
        tally = _Tally()
        pages = 0

        def ended(*, records: list[dict[str, Any]] | None = None, failure: Failure | None = None) -> Outcome:
            return Outcome(
                source=source,
                records=records,
                failure=failure,
                attempts=tally.attempts,
                throttles=tally.throttles,
                pages=pages,
            )

        if source.agent_id in self._dead_agents:
            return ended(failure=self._dead_agents[source.agent_id])
        seen_cursors: set[Any] = set()
        while True:
            try:
                page = await self._page(spec, source, params, tally)
            except e.MediaApiError as exc:
                if isinstance(exc, e.DailyQuotaExhausted):
                    await self._mark_exhausted(spec, exc)
                failure = Failure(
                    media=self.media,
                    kind=type(exc).__name__,
                    code=exc.code,
                    message=redact_text(exc.message),
                    attempts=tally.attempts,
                )
                if isinstance(exc, e.RefreshFailed | e.TokenExpired | e.TokenInvalid):
                    self._dead_agents[source.agent_id] = failure  # its other sources fail without calls
                return ended(failure=failure)
            pages += 1
            records.extend(page.records)
            if page.next_params is None:
                return ended(records=records)
            cursor = page.next_params.get("cursor")
            if pages >= MAX_PAGES or (cursor is not None and cursor in seen_cursors):
                message = f"paging never ended after {pages} pages"
                failure = Failure(
                    media=self.media,
                    kind="BadResponse",
                    code="paging",
                    message=message,
                    attempts=tally.attempts,
                )
                return ended(failure=failure)
            seen_cursors.add(cursor)
            for name in page.drop:
                params.pop(name, None)
            params |= page.next_params

    async def _page(
        self, spec: EndpointSpec, source: Source, params: Mapping[str, Any], tally: _Tally
    ) -> _Page:
        """One page. The first attempt is a plain call (most succeed); only a retryable error
        builds tenacity's retry loop, which replays that error as its attempt 1 so the stop and
        backoff rules count it."""
        try:
            return await self._attempt(spec, source, params, tally)
        except e.MediaApiError as exc:
            if not exc.retryable:
                raise
            first_error: e.MediaApiError | None = exc
        retrying = AsyncRetrying(
            retry=retry_if_exception(lambda exc: isinstance(exc, e.MediaApiError) and exc.retryable),
            stop=self._stop,
            wait=self._wait,
            reraise=True,
        )
        async for attempt in retrying:
            with attempt:
                if first_error is not None:
                    error, first_error = first_error, None
                    raise error
                return await self._attempt(spec, source, params, tally)
        raise AssertionError("unreachable: tenacity re-raises the last error")  # pragma: no cover

    async def _attempt(
        self, spec: EndpointSpec, source: Source, params: Mapping[str, Any], tally: _Tally
    ) -> _Page:
        """One call; an expired token is refreshed once per source and the call retried at once."""
        tally.attempts += 1
        token = self.tokens.token(source.agent_id) or ""
        try:
            return await self._call(spec, source, params, tally.attempts, token)
        except e.Throttled:
            tally.throttles += 1
            raise
        except (e.TokenExpired, e.TokenInvalid) as exc:
            if tally.refreshed:
                raise
            tally.refreshed = True
            await self.tokens.refresh(source.agent_id, token)
            raise _RetryNow(self.media, exc.code, "retry with the refreshed token") from exc

    def _stop(self, state: RetryCallState) -> bool:
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, _RetryNow):
            return False
        limit = (
            self.settings.max_throttled_attempts
            if isinstance(exc, e.Throttled)
            else self.settings.max_attempts
        )
        return state.attempt_number >= limit

    # ----- one HTTP call

    def _wait(self, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        return 0.0 if isinstance(exc, _RetryNow) else self._backoff(state)

    async def _call(
        self, spec: EndpointSpec, source: Source, params: Mapping[str, Any], attempt: int, token: str
    ) -> _Page:
        if spec.name in self._exhausted:
            raise e.DailyQuotaExhausted(
                self.media, "exhausted", "daily quota already spent today", endpoint=spec.name
            )
        if not token:
            raise e.TokenInvalid(self.media, "no_token", f"no access token for agent {source.agent_id}")
        governor = self._governor(spec.name)
        await governor.acquire()
        tracker = self._tracker(spec.name)
        timeout = tracker.timeout_s(attempt, self._lag.lag_s)
        call = _Call(spec=spec, source=source, attempt=attempt, started=time.monotonic())
        try:
            answer = await self._exchange(spec, token, params, timeout, governor, tracker)
        except TimeoutError as exc:
            tracker.timed_out()
            self._add(timeouts=1)
            raise self._failed(call, e.TransportError, "timeout", f"no answer in {timeout:.1f} s") from exc
        except aiohttp.ClientError as exc:
            # aiohttp's text names host:port ("Cannot connect to host 127.0.0.1:8600 ...")
            raise self._failed(call, e.TransportError, "reset", f"{type(exc).__name__}: {exc}"[:300]) from exc
        call.status, call.trace_id = answer.status, answer.trace_id
        self._add(requests=1)
        rate_header = answer.rate_header
        body = answer.body
        if self.spec.quota is not None and (level := self.spec.quota.minute_pct(rate_header)) is not None:
            await governor.observe_level(level)
        status = call.status
        if status >= 500:
            raise self._failed(call, e.TransientServerError, f"http_{status}", "server error")
        envelope = _envelope(body, self.spec.code_key)
        if envelope is None or status != 200:
            raise self._failed(call, e.BadResponse, "malformed", "not a JSON envelope")
        code = envelope[self.spec.code_key]
        message = str(envelope.get(self.spec.message_key, ""))
        body_trace = envelope.get(self.spec.trace_key) if self.spec.trace_key else None
        error = self.spec.translate_code(code, message)
        call.trace_id = body_trace or call.trace_id
        self._notify(call, code, message, error.__name__ if error is not None else "ok")
        if error is not None:
            if issubclass(error, e.Throttled):
                self._add(throttles=1)
                await governor.observe_throttle()
            raise error(
                self.media, code, message, endpoint=spec.name, trace_id=call.trace_id, http_status=status
            )
        if self.spec.quota is None:  # no quota signal: probe upward while calls succeed
            await governor.observe_success()
        return _page(spec, envelope.get("data"), params, self.media)

    async def _exchange(
        self,
        spec: EndpointSpec,
        token: str,
        params: Mapping[str, Any],
        timeout: float,
        governor: RateGovernor,
        tracker: LatencyTracker,
    ) -> _Answer:
        """One answer for a call, hedged: when it is still unanswered after the tracker's hedge
        delay, a copy is sent (with a governor slot of its own) and the first answer of the two
        wins; the other is cancelled. Raises the first call's error when both fail.

        The first call is awaited in place and only a timer waits beside it, so the common case
        (an answer before the delay) costs no task of its own; a copy that answers first
        interrupts the wait by cancelling this task, which `_Race` tells apart from a real
        cancellation."""
        hedge_after = tracker.hedge_after_s(timeout, self._lag.lag_s)
        if hedge_after is None:
            return await self._send(spec, token, params, timeout, tracker)
        loop = asyncio.get_running_loop()
        race = _Race(owner=asyncio.current_task())

        def send_copy() -> None:
            tracker.hedged()
            self._add(hedges=1)
            race.copy = loop.create_task(self._copy(spec, token, params, timeout, governor, tracker))
            race.copy.add_done_callback(race.copy_done)

        timer = loop.call_later(hedge_after, send_copy)
        try:
            answer = await self._send(spec, token, params, timeout, tracker)
            race.settled = True
            return answer
        except asyncio.CancelledError:
            if race.won is None or race.owner.uncancel() > 0:  # cancelled for real
                raise
            self._add(hedge_wins=1)
            return race.won
        except (TimeoutError, aiohttp.ClientError) as error:
            race.settled = True  # the copy, if any, may still answer: wait for it
            timer.cancel()
            if race.copy is None:
                raise
            try:
                answer = await race.copy
            except (TimeoutError, aiohttp.ClientError):
                raise error from None  # both failed: the first call's error
            self._add(hedge_wins=1)
            return answer
        finally:
            timer.cancel()
            if race.copy is not None and not race.copy.done():
                race.copy.cancel()  # the first call answered first

    async def _copy(
        self,
        spec: EndpointSpec,
        token: str,
        params: Mapping[str, Any],
        timeout: float,
        governor: RateGovernor,
        tracker: LatencyTracker,
    ) -> _Answer:
        await governor.acquire()
        return await self._send(spec, token, params, timeout, tracker)

    async def _send(
        self,
        spec: EndpointSpec,
        token: str,
        params: Mapping[str, Any],
        timeout: float,
        tracker: LatencyTracker,
    ) -> _Answer:
        """One HTTP GET, read to the end (a fresh timestamp and nonce each time it is sent)."""
        query, headers = self.spec.request_parts(token, params)
        started = time.monotonic()
        async with self._session.request(
            "GET",
            self.base_url + spec.path,
            params=query,
            headers=headers,
            timeout=self._client_timeout(timeout),
        ) as response:
            quota, trace = self.spec.quota, self.spec.trace_header
            answer = _Answer(
                status=response.status,
                rate_header=response.headers.get(quota.name) if quota is not None else None,
                trace_id=response.headers.get(trace) if trace is not None else None,
                body=await response.read(),
            )
        tracker.observe(time.monotonic() - started)
        return answer

    def _client_timeout(self, seconds: float) -> aiohttp.ClientTimeout:
        rounded = round(seconds, 2)
        if rounded not in self._timeouts:
            self._timeouts[rounded] = aiohttp.ClientTimeout(total=rounded)
        return self._timeouts[rounded]

    def _failed(self, call: _Call, error: type[e.MediaApiError], code: str, message: str) -> e.MediaApiError:
        """The error for a call that brought no usable answer, reported to the observer first."""
        self._notify(call, code, message, error.__name__)
        return error(
            self.media,
            code,
            message,
            endpoint=call.spec.name,
            trace_id=call.trace_id,
            http_status=call.status,
        )

    def _notify(self, call: _Call, code: int | str, message: str, kind: str) -> None:
        self._observer().on_response(
            ResponseEvent(
                media=self.media,
                endpoint=call.spec.name,
                agent_id=call.source.agent_id,
                target=call.source.target,
                http_status=call.status,
                code=code,
                message=redact_text(message),
                trace_id=call.trace_id,
                attempt=call.attempt,
                latency_ms=(time.monotonic() - call.started) * 1000,
                kind=kind,
            )
        )

    # ----- the stream a call belongs to

    def _observer(self) -> FetchObserver:
        state = _STREAM.get()
        return state.observer if state is not None else self.observer

    def _add(self, **counts: int) -> None:
        """Count on the engine's stats and on the current stream's (when it has its own)."""
        state = _STREAM.get()
        targets = [self.stats] if state is None or state.stats is self.stats else [self.stats, state.stats]
        for stats in targets:
            for name, n in counts.items():
                setattr(stats, name, getattr(stats, name) + n)

    # ----- quotas and latency

    async def rate(self, endpoint: str) -> float:
        """The rate (calls/s) the shared governor allows `endpoint` now."""
        return await self._governor(self.spec.endpoint(endpoint).name).rate()

    def _tracker(self, endpoint: str) -> LatencyTracker:
        if endpoint not in self._latency:
            self._latency[endpoint] = LatencyTracker(self.settings.latency, self.settings.timeout_s)
        return self._latency[endpoint]

    def _governor(self, endpoint: str) -> RateGovernor:
        if endpoint not in self._governors:
            self._governors[endpoint] = RateGovernor(
                self._client, self.media, self.app.app_id, endpoint, self.settings.governor
            )
        return self._governors[endpoint]

    def _exhaustion_key(self, endpoint: str) -> str:
        day = datetime.now(GMT8).strftime("%Y%m%d")
        return f"ark:quota_exhausted:{self.media}:{self.app.app_id}:{endpoint}:{day}"

    async def _load_exhaustion(self, spec: EndpointSpec) -> None:
        if await self._client.exists(self._exhaustion_key(spec.name)):
            self._exhausted.add(spec.name)

    async def _mark_exhausted(self, spec: EndpointSpec, exc: e.MediaApiError) -> None:
        if spec.name in self._exhausted:
            return
        self._exhausted.add(spec.name)
        now = datetime.now(GMT8)
        midnight = (now + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
        await self._client.set(
            self._exhaustion_key(spec.name), str(exc.code), ex=int((midnight - now).total_seconds()) + 1
        )
        self._observer().on_alert(
            self.media,
            f"daily quota of {self.media} {spec.name} is exhausted (code {exc.code}); "
            f"the remaining sources of tenant {self.tenant} fail until midnight GMT+8",
        )

    def _count(self, outcome: Outcome, stream: EngineStats) -> None:
        for stats in {id(s): s for s in (self.stats, stream)}.values():
            stats.retries += max(0, outcome.attempts - outcome.pages - (1 if outcome.failure else 0))
            if outcome.failure is None:
                stats.sources_ok += 1
                stats.records += len(outcome.records or [])
            else:
                stats.sources_failed += 1
                kind = outcome.failure.kind
                stats.failures_by_kind[kind] = stats.failures_by_kind.get(kind, 0) + 1

    @staticmethod
    def _first_page(spec: EndpointSpec) -> dict[str, Any]:
        if spec.paging is Paging.PAGE:
            return {"page": 1, spec.page_size_param: spec.page_size}
        if spec.paging is Paging.CURSOR:
            return {spec.page_size_param: spec.page_size}
        return {}


def _envelope(body: bytes, code_key: str) -> dict[str, Any] | None:
    """The parsed JSON envelope, or None when the body is not one (truncated, HTML, wrong types)."""
    try:
        parsed = json.loads(body)  # Python ints keep int64 ids exact; floats never touch them
    except ValueError:
        return None
    if (
        not isinstance(parsed, dict)
        or not isinstance(parsed.get(code_key), int)
        or isinstance(parsed[code_key], bool)
    ):
        return None
    return parsed


def _page(spec: EndpointSpec, data: Any, params: Mapping[str, Any], media: str) -> _Page:
    """Records of one page and the parameters of the next one (None on the last page)."""
    if spec.records:
        records = data.get(spec.records) if isinstance(data, dict) else None
    else:
        records = [data] if isinstance(data, dict) else data
    if not isinstance(records, list):
        raise e.BadResponse(
            media, "malformed", f"no record list at data.{spec.records or ''}", endpoint=spec.name
        )
    if not all(isinstance(r, dict) for r in records):
        records = [r if isinstance(r, dict) else {"id": r} for r in records]  # bare id lists
    if spec.paging is Paging.PAGE:
        return _by_page(spec, data, records, params, media)
    if spec.paging is Paging.CURSOR:
        info = data.get(spec.cursor_info) if isinstance(data, dict) else None
        if info is None and isinstance(data, dict) and isinstance(data.get("page_info"), dict):
            # A cursor call answered in page mode (no source says which mode a first cursor call
            # gets): the rest is walked by page, never read as the last page. The next calls carry
            # page and page_size instead of the cursor parameters.
            page = _by_page(spec, data, records, params, media)
            cursor_only = tuple({spec.page_size_param, "cursor"} - {PAGE_SIZE_PARAM})
            size = data["page_info"].get("page_size")
            if page.next_params is not None and _is_int(size):
                page.next_params[PAGE_SIZE_PARAM] = size
            page.drop = cursor_only
            return page
        info = info or {}
        has_more, cursor = info.get("has_more"), info.get("cursor")
        if not (has_more is None or _is_int(has_more)) or not (cursor is None or _is_int(cursor)):
            # bool("false") is True: a mistyped flag must not be read as "more pages"
            raise e.BadResponse(media, "malformed", f"{spec.cursor_info} is mistyped", endpoint=spec.name)
        more = bool(has_more) and cursor is not None
        return _Page(records, {"cursor": cursor} if more else None)
    return _Page(records, None)


PAGE_SIZE_PARAM = "page_size"  # page mode's page size, under this name at every media here


def _by_page(
    spec: EndpointSpec, data: Any, records: list[dict[str, Any]], params: Mapping[str, Any], media: str
) -> _Page:
    """Page mode: the next page while `page < total_page`; an empty page before the last one (a
    listing capped below its own total, like Tencent's normal mode at 1000 rows) fails the source."""
    info = data.get("page_info") if isinstance(data, dict) else None
    page, total = (info or {}).get("page", params.get("page", 1)), (info or {}).get("total_page", 0)
    if not _is_int(page) or not _is_int(total):  # "3" would silently end the walk at page 1
        raise e.BadResponse(media, "malformed", "page_info numbers are not integers", endpoint=spec.name)
    if page < total and not records:
        number = (info or {}).get("total_number")
        raise e.IncompletePages(
            media,
            "paging",
            f"page {page} of {total} came back empty"
            + (f" (page_info promises {number} records)" if _is_int(number) else "")
            + ": the list is capped below its own total, so this source's records are incomplete",
            endpoint=spec.name,
        )
    return _Page(records, {"page": page + 1} if page < total else None)


def _source_value(spec: EndpointSpec, target: str | tuple[str, ...] | None) -> Any:
    """The source parameter's value: the id (or list of ids) as text, or as int64 numbers when the
    endpoint types them so (a ValueError naming the id that is not one)."""
    ids = list(target) if isinstance(target, tuple) else target
    if not spec.source_int64 or ids is None:
        return ids

    def int64(text: str) -> int:
        if not str(text).isdigit() or int(text) >= 2**63:
            raise ValueError(f"{spec.source_param} must hold int64 ids for {spec.name}, got {text!r}")
        return int(text)

    return [int64(i) for i in ids] if isinstance(ids, list) else int64(ids)


def _is_int(value: Any) -> bool:
    """An int, booleans included (`has_more` is 0/1 in some answers, true/false in others), never a string."""
    return isinstance(value, int)
