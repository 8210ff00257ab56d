"""One call to a media endpoint, and the translation of its answer into data or a typed error.

A call waits for its governor slot, goes out with the timeout its endpoint's recent latency
implies (hedged when it straggles, `hedge.py`), feeds the answer's quota signal back to the
governor, and turns the envelope's body code into the media's error class (`media/errors.py`).
Every answer, good or bad, is reported to the stream's observer (tokens never included).
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import aiohttp

from ark_assets.core.redact import redact_text
from ark_assets.fetch.download import save_download
from ark_assets.fetch.governor import RateGovernor
from ark_assets.fetch.hedge import hedged
from ark_assets.fetch.latency import LatencyTracker, LoopLag
from ark_assets.fetch.outcome import Source
from ark_assets.fetch.report import ResponseEvent, StreamReport
from ark_assets.media import errors as e
from ark_assets.media.api import ApiSpec, EndpointSpec


@dataclass(frozen=True)
class Endpoint:
    """What an engine keeps per endpoint: its pacing, its latency, its in-flight limit."""

    spec: EndpointSpec
    governor: RateGovernor
    latency: LatencyTracker
    slots: asyncio.Semaphore  # streams of one endpoint share it (their governor paces them together)


@dataclass(frozen=True)
class _Answer:
    """An HTTP answer as read off the wire (a download's body went to `file` instead)."""

    status: int
    rate_header: str | None
    trace_id: str | None
    body: bytes
    file: dict[str, Any] | None = None


@dataclass(kw_only=True)
class _Exchange:
    """One call in progress: what the observer is told about it."""

    spec: EndpointSpec
    source: Source
    attempt: int
    started: float
    status: int | None = None
    trace_id: str | None = None


class Caller:
    """Sends calls of one (media, app) over one HTTP session."""

    def __init__(
        self,
        api: ApiSpec,
        *,
        session: aiohttp.ClientSession,
        base_url: str,
        lag: LoopLag,
        download_url: str | None = None,
        download_timeout_s: float = 600.0,
    ) -> None:
        self._api = api
        self._media = str(api.media)
        self._session = session
        self._base_url = base_url
        self._download_url = download_url or base_url
        self._download_timeout_s = download_timeout_s
        self._lag = lag
        self._timeouts: dict[float, aiohttp.ClientTimeout] = {}

    async def call(
        self,
        endpoint: Endpoint,
        source: Source,
        params: Mapping[str, Any],
        *,
        attempt: int,
        token: str,
        report: StreamReport,
    ) -> Any:
        """The answer's `data`; raises the media error its body code (or the transport) stands for."""
        governor, tracker, spec = endpoint.governor, endpoint.latency, endpoint.spec
        await governor.acquire()
        timeout = self._download_timeout_s if spec.download else tracker.timeout_s(attempt, self._lag.lag_s)
        # only a plain GET is hedged: a second POST may create a second task, a second download
        # fetches the file twice
        plain = spec.method == "GET" and not spec.download
        after_s = tracker.hedge_after_s(timeout, self._lag.lag_s) if plain else None
        exchange = _Exchange(spec=spec, source=source, attempt=attempt, started=time.monotonic())

        async def spare() -> bool:  # within the copies' share, on a slot no call is waiting for
            return tracker.may_hedge() and await governor.try_spare()

        def on_copy() -> None:
            tracker.hedged()
            report.add(hedges=1)

        try:
            answer = await hedged(
                lambda: self._send(endpoint.spec, token, params, timeout, tracker),
                after_s=after_s,
                spare=spare,
                on_copy=on_copy,
                on_win=lambda: report.add(hedge_wins=1),
            )
        except TimeoutError as exc:
            tracker.timed_out()
            report.add(timeouts=1)
            raise self._failed(
                exchange, report, e.TransportError, "timeout", f"no answer in {timeout:.1f} s"
            ) from exc
        except aiohttp.ClientError as exc:
            # aiohttp's text names host:port ("Cannot connect to host 127.0.0.1:8600 ...")
            message = f"{type(exc).__name__}: {exc}"[:300]
            raise self._failed(exchange, report, e.TransportError, "reset", message) from exc
        return await self._answered(endpoint, exchange, answer, report)

    async def _answered(
        self, endpoint: Endpoint, exchange: _Exchange, answer: _Answer, report: StreamReport
    ) -> Any:
        """An answer's data (a download's file), its quota signal fed to the governor; raises
        what its body code stands for."""
        governor = endpoint.governor
        exchange.status, exchange.trace_id = answer.status, answer.trace_id
        report.add(requests=1)
        if (
            self._api.quota is not None
            and (level := self._api.quota.minute_pct(answer.rate_header)) is not None
        ):
            await governor.observe_level(level)
        if answer.file is not None:  # a download: its file is the data
            self._notify(exchange, report, 0, "", "ok")
            if self._api.quota is None:
                await governor.observe_success()
            return answer.file
        envelope = self._envelope(exchange, answer, report)
        throttled = self._translate(exchange, envelope, report)
        if throttled:
            await governor.observe_throttle()
            raise throttled
        if self._api.quota is None:  # no quota signal: probe upward while calls succeed
            await governor.observe_success()
        return envelope.get("data")

    def _envelope(self, exchange: _Exchange, answer: _Answer, report: StreamReport) -> dict[str, Any]:
        """The parsed JSON envelope; a 5xx or a body that is not one is a transient error."""
        if answer.status >= 500:
            raise self._failed(
                exchange, report, e.TransientServerError, f"http_{answer.status}", "server error"
            )
        envelope = _envelope(answer.body, self._api.code_key)
        if envelope is None or answer.status != 200:
            raise self._failed(exchange, report, e.BadResponse, "malformed", "not a JSON envelope")
        return envelope

    def _translate(
        self, exchange: _Exchange, envelope: dict[str, Any], report: StreamReport
    ) -> e.Throttled | None:
        """Report the answer; raise the error its body code stands for (a throttle is returned, so
        the caller tells the governor before raising it)."""
        api = self._api
        code = envelope[api.code_key]
        message = str(envelope.get(api.message_key, ""))
        exchange.trace_id = (envelope.get(api.trace_key) if api.trace_key else None) or exchange.trace_id
        error = api.translate_code(code, message)
        self._notify(exchange, report, code, message, error.__name__ if error is not None else "ok")
        if error is None:
            return None
        raised = error(
            self._media,
            code,
            message,
            endpoint=exchange.spec.name,
            trace_id=exchange.trace_id,
            http_status=exchange.status,
        )
        if isinstance(raised, e.Throttled):
            report.add(throttles=1)
            return raised
        raise raised

    async def _send(
        self,
        spec: EndpointSpec,
        token: str,
        params: Mapping[str, Any],
        timeout: float,
        tracker: LatencyTracker,
    ) -> _Answer:
        """One HTTP call, read to the end (a fresh timestamp and nonce each time it is sent): a GET
        with the parameters in the query, or a POST with them as a JSON body; a download's file
        (after the media's redirect) streamed to local disk."""
        body: dict[str, Any] = {}
        if spec.method == "POST":
            query, headers = self._api.request_parts(token, {})
            body = {"json": dict(params)}
        else:
            query, headers = self._api.request_parts(token, params)
        url = (self._download_url if spec.download else self._base_url) + spec.path
        started = time.monotonic()
        async with self._session.request(
            spec.method, url, params=query, headers=headers, timeout=self._timeout(timeout), **body
        ) as response:
            quota, trace = self._api.quota, self._api.trace_header
            saved = None
            if spec.download and response.content_type != "application/json" and response.status == 200:
                saved = await save_download(response)
            answer = _Answer(
                status=response.status,
                rate_header=response.headers.get(quota.name) if quota is not None else None,
                trace_id=response.headers.get(trace) if trace is not None else None,
                body=b"" if saved is not None else await response.read(),
                file=saved,
            )
        tracker.observe(time.monotonic() - started)
        return answer

    def _timeout(self, seconds: float) -> aiohttp.ClientTimeout:
        rounded = round(seconds, 2)
        if rounded not in self._timeouts:
            self._timeouts[rounded] = aiohttp.ClientTimeout(total=rounded)
        return self._timeouts[rounded]

    def _failed(
        self, exchange: _Exchange, report: StreamReport, error: type[e.MediaApiError], code: str, message: str
    ) -> e.MediaApiError:
        """The error for a call that brought no usable answer, reported to the observer first."""
        self._notify(exchange, report, code, message, error.__name__)
        return error(
            self._media,
            code,
            message,
            endpoint=exchange.spec.name,
            trace_id=exchange.trace_id,
            http_status=exchange.status,
        )

    def _notify(
        self, exchange: _Exchange, report: StreamReport, code: int | str, message: str, kind: str
    ) -> None:
        report.response(
            ResponseEvent(
                media=self._media,
                endpoint=exchange.spec.name,
                agent_id=exchange.source.agent_id,
                target=exchange.source.target,
                http_status=exchange.status,
                code=code,
                message=redact_text(message),
                trace_id=exchange.trace_id,
                attempt=exchange.attempt,
                latency_ms=(time.monotonic() - exchange.started) * 1000,
                kind=kind,
            )
        )


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
