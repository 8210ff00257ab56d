"""The seed's bookkeeping around one materialization: run log, job events, request logs, alerts.

For every fetch asset run: a MySQL run-log row at start (the job's parameters, tokens never
included) and at end; Kafka START / END / ERROR / THROTTLE events on the media's topic with the
seed's fields; request and response logs in MySQL (errors and throttles always, successes
sampled); Sentry for failures and alerts (an empty source list, a spent daily quota).
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, TypeVar

from ark_assets.clients.errors import ServiceUnavailable
from ark_assets.clients.job_events import JobLogEvent, LogType
from ark_assets.clients.mysql_sql import RequestLog, ResponseLog, RunStatus
from ark_assets.clients.outages import ride_out
from ark_assets.fetch.report import ResponseEvent
from ark_assets.fetch.summary import FetchSummary
from ark_assets.resources.run_log import RunLogResource

logger = logging.getLogger(__name__)

_LOG_BATCH = 500
_THROTTLE_EVENT_EVERY = 100  # one Kafka THROTTLE event per this many throttle answers
# A MySQL restart takes seconds: the run-log writes at start and end ride it out this long
# (fault matrix, docs/RELIABILITY.md) instead of failing a run whose data is already fetched.
RUN_LOG_RETRY_S = 20.0
_T = TypeVar("_T")


@dataclass(kw_only=True)
class RunRecorder:
    """Records one fetch asset run of (media, tenant, day); create with `start`.

    Args:
        media: the media's name (its Kafka topic, the run-log row).
        job: the seed's `cur_job_name` (the asset key, `media/asset`).
        interface: the endpoint the job calls.
        params: the job's parameters as the seed logged them (tokens are never among them).
        log: where the run is recorded.
        agent_id: the agent of a one-agent slice, "0" for the whole partition.
    """

    media: str
    tenant: str
    day: date
    job: str
    interface: str
    run_id: str
    params: Mapping[str, Any]
    log: RunLogResource
    agent_id: str = "0"
    _run_log_id: int | None = None
    _alert_sent: bool = False  # one Sentry event per run-log row: a failure after an alert is not re-sent

    def start(self) -> RunRecorder:
        def insert() -> int:
            return self.log.mysql.record_run_start(
                run_id=self.run_id,
                tenant_alias=self.tenant,
                media_name=self.media,
                cur_job_name=self.job,
                agent_id=self.agent_id,
                data_date=self.day,
                params=self.params,
            )

        self._run_log_id = _riding_out_mysql(insert)  # still down afterwards: the run fails, clearly
        self.event(LogType.API_JOB_START, f"{self.job} start")
        return self

    def succeed(self, summary: FetchSummary, message: str) -> None:
        """The run's end; sources that failed are an alert (the run itself carries on: the rest is good)."""
        self._end(RunStatus.SUCCEEDED, message=message, summary=summary)
        self.event(LogType.API_JOB_END, message)
        if summary.failed:
            by_kind = summary.failed_by_kind
            kinds = ", ".join(f"{kind} {n}" for kind, n in sorted(by_kind.items()))
            self.alert(
                f"{summary.failed} of {summary.requested} sources of {self.job} failed for tenant "
                f"{self.tenant} on {self.day}" + (f" ({kinds})" if kinds else ""),
                extra={
                    "requested": summary.requested,
                    "succeeded": summary.succeeded,
                    "failed": summary.failed,
                }
                | {f"failed_{kind}": n for kind, n in by_kind.items()},
            )

    def fail(self, exc: BaseException) -> None:
        message = f"{type(exc).__name__}: {exc}"
        self._end(RunStatus.FAILED, message=message)
        self.event(LogType.API_JOB_ERROR, message)
        if self._alert_sent:
            return  # e.g. an empty source list: alerted already, the step's failure says the same
        event_id = self.log.sentry.capture_failure(
            exc,
            tenant=self.tenant,
            media=self.media,
            agent_id=self.agent_id,
            data_date=str(self.day),
            run_id=self.run_id,
        )
        self._alerted(event_id)

    def alert(self, message: str, *, extra: Mapping[str, Any] | None = None) -> None:
        """An alert the seed sent by SMS/log: to Sentry and as an ERROR event."""
        self.event(LogType.API_JOB_ERROR, message)
        event_id = self.log.sentry.capture_message(
            message,
            tenant=self.tenant,
            media=self.media,
            level="error",
            agent_id=self.agent_id,
            data_date=str(self.day),
            run_id=self.run_id,
            extra=extra,
        )
        self._alerted(event_id)

    def _alerted(self, event_id: str | None) -> None:
        """Note in the run log that this run already alerted, so its run's failure is not alerted again."""
        self._alert_sent = True
        if event_id is None or self._run_log_id is None:
            return
        try:
            _riding_out_mysql(lambda: self.log.mysql.mark_alerted(self._run_log_id))
        except ServiceUnavailable as exc:
            logger.warning("run-log row %s: the alert went out but is not noted: %s", self._run_log_id, exc)

    def event(self, log_type: LogType, content: str) -> None:
        self.log.kafka_log.emit(
            self.media,
            JobLogEvent(
                tenant=self.tenant,
                cur_job=self.job,
                interface=self.interface,
                agent_id=self.agent_id,
                data_date=str(self.day),
                argv=self.params,
                log_content=content,
                log_type=log_type,
            ),
        )

    def _end(self, status: RunStatus, *, message: str, summary: FetchSummary | None = None) -> None:
        if self._run_log_id is None:
            return
        counts = summary or FetchSummary()
        try:
            _riding_out_mysql(
                lambda: self.log.mysql.record_run_end(
                    self._run_log_id,
                    status=status,
                    accounts_requested=counts.requested,
                    accounts_succeeded=counts.succeeded,
                    accounts_failed=counts.failed,
                    records=counts.records,
                    message=message[:2000],
                )
            )
        except ServiceUnavailable as exc:
            # The data is fetched and will be stored; losing it over its log row would be worse.
            logger.warning("run-log row %s stays STARTED: %s", self._run_log_id, exc)


def _riding_out_mysql(call: Callable[[], _T]) -> _T:
    """`call()`, retried (0.5 s doubling to 4 s) while MySQL is unreachable, for RUN_LOG_RETRY_S."""
    return ride_out(
        call,
        window_s=RUN_LOG_RETRY_S,
        first_wait_s=0.5,
        max_wait_s=4.0,
        before_retry=lambda exc, wait_s: logger.warning("%s; retrying in %.1f s", exc, wait_s),
    )


@dataclass(kw_only=True)
class LoggingObserver:
    """The engine's observer: request/response logs to MySQL, throttle events, alerts."""

    recorder: RunRecorder
    sample_rate: float
    _requests: list[RequestLog] = field(default_factory=list)
    _responses: list[ResponseLog] = field(default_factory=list)
    _throttles: int = 0
    _random: random.Random = field(default_factory=lambda: random.Random(7))

    def on_response(self, event: ResponseEvent) -> None:
        throttled = event.kind == "Throttled"
        if throttled:
            self._throttles += 1
            if self._throttles % _THROTTLE_EVENT_EVERY == 1:
                self.recorder.event(
                    LogType.API_JOB_THROTTLE,
                    f"{event.endpoint} throttled (code {event.code}); {self._throttles} throttles so far",
                )
        if event.kind == "ok" and self._random.random() >= self.sample_rate:
            return
        now = datetime.now()
        # a batch of ids (an account-details call, up to 100) is logged as its first id and its size:
        # the log column holds one account id (VARCHAR(64))
        target = (
            f"{event.target[0]}+{len(event.target) - 1}" if isinstance(event.target, tuple) else event.target
        )
        self._requests.append(
            RequestLog(
                run_id=self.recorder.run_id,
                media_name=event.media,
                endpoint=event.endpoint,
                tenant_alias=self.recorder.tenant,
                agent_id=event.agent_id,
                account_id=target,
                params={"agent_id": event.agent_id, "target": target},
                requested_at=now,
            )
        )
        self._responses.append(
            ResponseLog(
                run_id=self.recorder.run_id,
                media_name=event.media,
                endpoint=event.endpoint,
                account_id=target,
                http_status=event.http_status,
                code=event.code if isinstance(event.code, int) else None,
                message=event.message if isinstance(event.code, int) else f"{event.code}: {event.message}",
                trace_id=event.trace_id,
                attempt=event.attempt,
                latency_ms=int(event.latency_ms),
                body=None,
                received_at=now,
            )
        )
        if len(self._responses) >= _LOG_BATCH:
            self.flush()

    def on_alert(self, media: str, message: str) -> None:
        self.recorder.alert(message)

    def flush(self) -> None:
        """Write the buffered logs; a failing log write is reported, never fails the data step."""
        try:
            if self._requests:
                self.recorder.log.mysql.log_requests(self._requests)
                self.recorder.log.mysql.log_responses(self._responses)
        except Exception as exc:  # the data matters more than its request log
            logger.warning("could not write %d request/response log rows: %s", len(self._requests), exc)
        self._requests, self._responses = [], []

    @property
    def throttles(self) -> int:
        return self._throttles
