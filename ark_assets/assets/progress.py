"""Progress in the run's log while a step fetches: what an engineer watching a run wants to see.

Every `every_s` seconds (10 by default), one line per endpoint being fetched: sources done of
the total, records, throttle answers, retries and the rate the governor allows now; and one line
when the endpoint is done. The counts are the fetch's own summary (`fetch/summary.py`), which the
engine keeps up to date as it goes; lines go to the step's Dagster log (`context.log.info`), so
they show in the run's log in the UI.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from ark_assets.fetch.summary import FetchSummary

EVERY_S = 10.0


@dataclass(kw_only=True)
class FetchProgress:
    """Writes a progress line of one endpoint's fetch every `every_s` seconds.

    Args:
        log: where a line goes (a step's `context.log.info`).
        label: what is fetched (`jrtt/funds advertiser/fund/get`).
        summary: the fetch's summary, counted by the engine as it goes.
        total: sources to fetch, when known up front.
        rate: the governor's current rate for the endpoint (calls/s), read when a line is due.
        every_s: seconds between lines.
        clock: monotonic seconds (tests pass their own).
    """

    log: Callable[[str], None]
    label: str
    summary: FetchSummary
    total: int | None = None
    rate: Callable[[], Awaitable[float]] | None = None
    every_s: float = EVERY_S
    clock: Callable[[], float] = time.monotonic
    _started: float = field(default=0.0, init=False)
    _next: float = field(default=0.0, init=False)

    def __post_init__(self) -> None:
        self._started = self.clock()
        self._next = self._started + self.every_s

    async def tick(self) -> None:
        """A source ended: write a line if one is due."""
        if self.clock() >= self._next:
            self._next = self.clock() + self.every_s
            rate = await self.rate() if self.rate is not None else None
            self.log(self._line() + (f", governor {rate:.0f} calls/s" if rate is not None else ""))

    def finish(self) -> None:
        seconds = self.clock() - self._started
        self.log(f"{self.label}: done, {self._line(prefix=False)} in {seconds:.1f} s")

    def _line(self, *, prefix: bool = True) -> str:
        s = self.summary
        of = f"/{self.total}" if self.total is not None else ""
        counts = (
            f"{s.requested}{of} sources ({s.failed} failed), {s.records} records, "
            f"{s.throttles} throttles, {s.retries} retries"
        )
        return f"{self.label}: {counts}" if prefix else counts
