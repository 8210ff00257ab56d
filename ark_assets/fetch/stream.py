"""The stream of sources: up to `max_in_flight` fetched at once, outcomes yielded as each ends.

Sources are read lazily from one shared iterator, and at most `max_in_flight` outcomes wait in
the queue for the consumer, so memory holds a bounded number of sources whatever their count;
the consumer can write each outcome out while the rest are still in flight.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable

from ark_assets.fetch.outcome import Outcome, Source


async def outcomes(
    fetch: Callable[[Source], Awaitable[Outcome]],
    sources: Iterable[Source],
    *,
    max_in_flight: int,
    slots: asyncio.Semaphore,
) -> AsyncIterator[Outcome]:
    """`fetch(source)` for every source, `max_in_flight` workers at once, each holding one of
    `slots` (shared by every stream of the endpoint) while it fetches; yields as outcomes come."""
    pending = iter(sources)
    results: asyncio.Queue[Outcome | None] = asyncio.Queue(maxsize=max_in_flight)

    async def worker() -> None:
        for source in pending:  # one shared iterator: sources are read lazily
            async with slots:
                outcome = await fetch(source)
            await results.put(outcome)

    async def run_workers() -> None:
        try:
            await asyncio.gather(*(worker() for _ in range(max_in_flight)))
        finally:
            await results.put(None)

    runner = asyncio.create_task(run_workers())
    try:
        while (outcome := await results.get()) is not None:
            yield outcome
        await runner  # re-raises a bug in a worker instead of ending quietly
    finally:
        runner.cancel()
