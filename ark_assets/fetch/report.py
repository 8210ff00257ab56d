"""Where a stream's calls are reported: its observer hears each answer, its summaries count.

Several streams may share one engine (one per asset of a media's step); each call is handed the
`StreamReport` of the stream it belongs to, so engine-wide code (the call, the quota book) reports
to the right observer and counters without any state of its own.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Protocol

from ark_assets.fetch.summary import FetchSummary

logger = logging.getLogger(__name__)


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


class LogObserver:
    """The observer of a stream nobody watches: alerts go to the log, answers nowhere."""

    def on_response(self, event: ResponseEvent) -> None:
        pass

    def on_alert(self, media: str, message: str) -> None:
        logger.warning("%s alert: %s", media, message)


@dataclass(frozen=True)
class StreamReport:
    """One stream's observer and the summaries its calls count on (its own, and maybe the engine's)."""

    observer: FetchObserver
    summaries: tuple[FetchSummary, ...]

    def add(self, **counts: int) -> None:
        for summary in self.summaries:
            for name, n in counts.items():
                setattr(summary, name, getattr(summary, name) + n)

    def response(self, event: ResponseEvent) -> None:
        self.observer.on_response(event)

    def alert(self, media: str, message: str) -> None:
        self.observer.on_alert(media, message)
