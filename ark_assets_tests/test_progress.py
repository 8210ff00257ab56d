"""Contract: a fetch writes a progress line every ~10 s and one line when its endpoint is done.

Pure counting against a clock the test moves (no service): what the run log shows while a step
fetches -- sources done of the total, failures, records, throttles, retries, the governor's rate --
read from the fetch's one summary as the engine counts it.
"""

from __future__ import annotations

import asyncio

from ark_assets.assets.progress import FetchProgress
from ark_assets.fetch.outcome import Failure, Outcome, Source
from ark_assets.fetch.summary import FetchSummary


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def _outcome(ok: bool, attempts: int = 1) -> Outcome:
    failure = None if ok else Failure(media="m", kind="Throttled", code=1, message="slow", attempts=3)
    return Outcome(
        source=Source("1", "2"),
        records=[{}, {}] if ok else None,
        failure=failure,
        attempts=attempts,
        throttles=0,
        pages=1,
    )


def test_a_line_every_ten_seconds_and_one_at_the_end() -> None:
    lines: list[str] = []
    clock = Clock()
    summary = FetchSummary()

    async def rate() -> float:
        return 240.0

    progress = FetchProgress(
        log=lines.append, label="gdt/funds funds/get", summary=summary, total=4, rate=rate, clock=clock
    )

    async def ended(outcome: Outcome) -> None:  # what the engine does as each source ends
        summary.count(outcome)
        await progress.tick()

    async def fetch() -> None:
        summary.throttles += 1  # a throttle answer, then its retry answered
        await ended(_outcome(True, attempts=2))
        clock.now += 5
        await ended(_outcome(True))  # 5 s in: not yet
        clock.now += 6
        await ended(_outcome(False))  # 11 s in: a line
        await ended(_outcome(True))

    asyncio.run(fetch())
    progress.finish()
    assert lines == [
        "gdt/funds funds/get: 3/4 sources (1 failed), 4 records, 1 throttles, 1 retries, "
        "governor 240 calls/s",
        "gdt/funds funds/get: done, 4/4 sources (1 failed), 6 records, 1 throttles, 1 retries in 11.0 s",
    ]
