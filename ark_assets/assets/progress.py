"""Progress in the run's log while a step fetches: what an engineer watching a run wants to see.

Every `every_s` seconds (10 by default), one line per endpoint being fetched: sources done of
the total, records, throttle answers, retries and the rate the governor allows now; and one line
when the endpoint is done. Lines go to the step's Dagster log (`context.log.info`), so they show
in the run's log in the UI, and cost nothing between them: counting is a few additions per answer.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from ark_assets.fetch.engine import ResponseEvent
from ark_assets.fetch.outcome import Outcome

EVERY_S = 10.0


@dataclass(kw_only=True)
class FetchProgress:
    """Counts one endpoint's fetch and writes a progress line every `every_s` seconds.

    Args:
        log: where a line goes (a step's `context.log.info`).
        label: what is fetched (`jrtt/funds advertiser/fund/get`).
        total: sources to fetch, when known up front.
        rate: the governor's current rate for the endpoint (calls/s), read when a line is due.
        every_s: seconds between lines.
        clock: monotonic seconds (tests pass their own).
    """

    log: Callable[[str], None]
    label: str
    total: int | None = None
    rate: Callable[[], Awaitable[float]] | None = None
    every_s: float = EVERY_S
    clock: Callable[[], float] = time.monotonic
    done: int = 0
    failed: int = 0
    records: int = 0
    throttles: int = 0
    retries: int = 0
    _started: float = field(default=0.0, init=False)
    _next: float = field(default=0.0, init=False)

    def __post_init__(self) -> None:
        self._started = self.clock()
        self._next = self._started + self.every_s

    def on_response(self, event: ResponseEvent) -> None:
        if event.kind == "Throttled":
            self.throttles += 1
        if event.attempt > 1:
            self.retries += 1

    async def on_outcome(self, outcome: Outcome) -> None:
        self.done += 1
        if outcome.ok:
            self.records += len(outcome.records or [])
        else:
            self.failed += 1
        if self.clock() >= self._next:
            self._next = self.clock() + self.every_s
            rate = await self.rate() if self.rate is not None else None
            self.log(self._line() + (f", governor {rate:.0f} calls/s" if rate is not None else ""))

    def finish(self) -> None:
        seconds = self.clock() - self._started
        self.log(f"{self.label}: done, {self._line(prefix=False)} in {seconds:.1f} s")

    def _line(self, *, prefix: bool = True) -> str:
        of = f"/{self.total}" if self.total is not None else ""
        counts = (
            f"{self.done}{of} sources ({self.failed} failed), {self.records} records, "
            f"{self.throttles} throttles, {self.retries} retries"
        )
        return f"{self.label}: {counts}" if prefix else counts
