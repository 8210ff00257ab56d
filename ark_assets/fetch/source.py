"""One source, fetched to its end: every page, retries with jittered backoff, one token refresh.

A source ends in exactly one `Outcome`: all its records, or a `Failure` saying why. Retryable
errors (5xx, timeouts, resets, malformed bodies, throttles) are retried per page (tenacity); an
expired token is refreshed once per source and the call repeated at once; a refused token fails
every later source of its agent without a call; a daily-quota code stops the endpoint for the day.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from tenacity import AsyncRetrying, RetryCallState, retry_if_exception, wait_random_exponential

from ark_assets.core.redact import redact_text
from ark_assets.fetch.call import Caller, Endpoint
from ark_assets.fetch.exhaustion import DailyQuotas
from ark_assets.fetch.outcome import Failure, Outcome, Source
from ark_assets.fetch.paging import EndlessPaging, Page, PageWalk, paginator, read_page
from ark_assets.fetch.report import StreamReport
from ark_assets.fetch.row_quota import RowBudget
from ark_assets.fetch.settings import EngineSettings
from ark_assets.fetch.tokens import TokenBook
from ark_assets.media import errors as e
from ark_assets.media.api import EndpointSpec


class _RetryNow(e.MediaApiError):
    """Internal: the token was just refreshed, retry the call at once (not a media error)."""

    retryable = True


@dataclass
class _Tally:
    """One source's attempts so far (over all its pages), throttles, and whether it refreshed."""

    attempts: int = 0
    throttles: int = 0
    refreshed: bool = False


class SourceFetcher:
    """Fetches single sources for one engine (its caller, tokens, quotas and retry knobs)."""

    def __init__(
        self, *, media: str, caller: Caller, tokens: TokenBook, quotas: DailyQuotas, settings: EngineSettings
    ) -> None:
        self._media = media
        self._caller = caller
        self._tokens = tokens
        self._quotas = quotas
        self._settings = settings
        self._rows = RowBudget()  # the media's row quotas per account and level (fetch/row_quota.py)
        self._dead_agents: dict[str, Failure] = {}  # agents whose token was refused, and why
        self._backoff = wait_random_exponential(multiplier=settings.backoff_s, max=settings.backoff_max_s)

    async def fetch(self, endpoint: Endpoint, source: Source, report: StreamReport) -> Outcome:
        """Every page of `source`, or the failure that ended it."""
        tally = _Tally()
        try:
            walk = PageWalk(_first_params(endpoint.spec, source, self._media))
        except ValueError as exc:
            return self._ended(source, tally, 0, failure=self._failure("BadRequest", "source", str(exc), 0))
        if source.agent_id in self._dead_agents:
            return self._ended(source, tally, 0, failure=self._dead_agents[source.agent_id])
        while True:
            try:
                page = await self._page(endpoint, source, walk.params, tally, report)
                if not walk.advance(page):
                    return self._ended(source, tally, walk.pages, records=walk.records)
            except e.MediaApiError as exc:
                failure = await self._failed(endpoint, source, exc, tally, report)
                return self._ended(source, tally, walk.pages, failure=failure)
            except EndlessPaging as exc:
                failure = self._failure("BadResponse", "paging", str(exc), tally.attempts)
                return self._ended(source, tally, walk.pages, failure=failure)

    async def _failed(
        self, endpoint: Endpoint, source: Source, exc: e.MediaApiError, tally: _Tally, report: StreamReport
    ) -> Failure:
        if isinstance(exc, e.DailyQuotaExhausted):
            await self._quotas.spent(endpoint.spec.name, exc, report)
        failure = self._failure(type(exc).__name__, exc.code, redact_text(exc.message), tally.attempts)
        if isinstance(exc, e.RefreshFailed | e.TokenExpired | e.TokenInvalid):
            self._dead_agents[source.agent_id] = failure  # its other sources fail without calls
        return failure

    def _failure(self, kind: str, code: int | str, message: str, attempts: int) -> Failure:
        return Failure(media=self._media, kind=kind, code=code, message=message, attempts=attempts)

    @staticmethod
    def _ended(
        source: Source,
        tally: _Tally,
        pages: int,
        *,
        records: list[dict[str, Any]] | None = None,
        failure: Failure | None = None,
    ) -> Outcome:
        return Outcome(
            source=source,
            records=records if failure is None else None,
            failure=failure,
            attempts=tally.attempts,
            throttles=tally.throttles,
            pages=pages,
        )

    async def _page(
        self,
        endpoint: Endpoint,
        source: Source,
        params: Mapping[str, Any],
        tally: _Tally,
        report: StreamReport,
    ) -> Page:
        """One page. The first attempt is a plain call (most succeed); only a retryable error
        builds tenacity's retry loop, which replays that error as its attempt 1 so the stop and
        backoff rules count it."""
        once = endpoint.spec.method != "GET"  # a POST is never sent again, but with a fresh token

        def retryable(exc: BaseException) -> bool:
            return isinstance(exc, _RetryNow) or (
                isinstance(exc, e.MediaApiError) and exc.retryable and not once
            )

        try:
            return await self._attempt(endpoint, source, params, tally, report)
        except e.MediaApiError as exc:
            if not retryable(exc):
                raise
            first_error: e.MediaApiError | None = exc
        retrying = AsyncRetrying(
            retry=retry_if_exception(retryable),
            stop=self._stop,
            wait=self._wait,
            reraise=True,
        )
        async for attempt in retrying:
            with attempt:
                if first_error is not None:
                    error, first_error = first_error, None
                    raise error
                return await self._attempt(endpoint, source, params, tally, report)
        raise AssertionError("unreachable: tenacity re-raises the last error")  # pragma: no cover

    async def _attempt(
        self,
        endpoint: Endpoint,
        source: Source,
        params: Mapping[str, Any],
        tally: _Tally,
        report: StreamReport,
    ) -> Page:
        """One call; an expired token is refreshed once per source and the call retried at once."""
        tally.attempts += 1
        self._quotas.check(endpoint.spec.name)
        token = self._tokens.token(source.agent_id) or ""
        quota, reserved = endpoint.spec.row_quota, None
        try:
            if not token:  # refreshed like a refused one: the agent may still hold a refresh token
                raise e.TokenInvalid(self._media, "no_token", f"no access token for agent {source.agent_id}")
            if quota is not None:  # a page reserves the rows it may answer, under the row quotas
                key = (source.target, endpoint.spec.name, params.get(quota.key_param))
                page_rows = int(params.get(endpoint.spec.page_size_param) or endpoint.spec.page_size or 1)
                reserved = await self._rows.reserve(quota, key, page_rows)
            data = await self._caller.call(
                endpoint, source, params, attempt=tally.attempts, token=token, report=report
            )
        except e.Throttled:
            if reserved is not None:  # a throttled call answered no rows; other failures keep theirs
                self._rows.settle(reserved, 0)
            tally.throttles += 1
            raise
        except (e.TokenExpired, e.TokenInvalid) as exc:
            if tally.refreshed:
                raise
            tally.refreshed = True
            await self._tokens.refresh(source.agent_id, token)
            raise _RetryNow(self._media, exc.code, "retry with the refreshed token") from exc
        page = read_page(endpoint.spec, data, params, self._media)
        if reserved is not None:
            self._rows.settle(reserved, len(page.records))
        return page

    def _stop(self, state: RetryCallState) -> bool:
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, _RetryNow):
            return False
        s = self._settings
        limit = s.max_throttled_attempts if isinstance(exc, e.Throttled) else s.max_attempts
        return state.attempt_number >= limit

    def _wait(self, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        return 0.0 if isinstance(exc, _RetryNow) else self._backoff(state)


def _first_params(spec: EndpointSpec, source: Source, media: str) -> dict[str, Any]:
    """The first call's parameters; the caller's may override the page size the endpoint declares,
    and the endpoint's derived ones (a report level in this version's spelling, its fields) override
    the caller's. A ValueError names a source id the endpoint cannot take."""
    derived = spec.call_params(source.params) if spec.call_params else {}
    params: dict[str, Any] = {
        **spec.fixed_params,
        **paginator(spec, media).first(),
        **source.params,
        **derived,
    }
    if spec.source_param:
        params[spec.source_param] = _source_value(spec, source.target)
    return params


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
