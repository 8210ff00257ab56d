"""A straggler sent a second time: the first answer of the two wins, the other is cancelled.

Only for calls that would be retried anyway (idempotent GETs). The copy is sent only when
`spare()` grants it a slot the endpoint's governor would otherwise leave unused, so a hedge never
takes quota a useful call was waiting for (in a quota-bound phase there is none to spare).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import aiohttp

_A = TypeVar("_A")


@dataclass(kw_only=True)
class _Race:
    """A hedged call in progress: the task awaiting the first call, and the copy sent after it."""

    owner: asyncio.Task[Any] | None
    copy: asyncio.Task[Any] | None = None
    won: Any = None  # the copy's answer, when it came first
    settled: bool = False  # the first call's outcome is taken: the copy must not interrupt it

    def copy_done(self, task: asyncio.Task[Any]) -> None:
        if task.cancelled() or task.exception() is not None:  # retrieved, so never "unretrieved"
            return
        if task.result() is not None and not self.settled and self.owner is not None:
            self.won, self.settled = task.result(), True
            self.owner.cancel()  # interrupts the owner's wait for the first call


async def hedged(
    send: Callable[[], Awaitable[_A]],
    *,
    after_s: float | None,
    spare: Callable[[], Awaitable[bool]],
    on_copy: Callable[[], None],
    on_win: Callable[[], None],
) -> _A:
    """`send()`'s answer; when it is still unanswered after `after_s` (None: never), a copy is sent
    if `spare()` allows, and the first answer of the two wins. Raises the first call's error when
    both fail (or no copy was sent).

    The first call is awaited in place and only a timer waits beside it, so the common case (an
    answer before the delay) costs no task of its own; a copy that answers first interrupts the
    wait by cancelling this task, which `_Race` tells apart from a real cancellation."""
    if after_s is None:
        return await send()
    loop = asyncio.get_running_loop()
    race = _Race(owner=asyncio.current_task())

    async def copy() -> _A | None:
        if not await spare():
            return None  # no slot to spare: the first call alone, as if unhedged
        on_copy()
        return await send()

    def send_copy() -> None:
        race.copy = loop.create_task(copy())
        race.copy.add_done_callback(race.copy_done)

    timer = loop.call_later(after_s, send_copy)
    try:
        answer = await send()
        race.settled = True
        return answer
    except asyncio.CancelledError:
        if race.won is None or race.owner.uncancel() > 0:  # cancelled for real
            raise
        on_win()
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
        if answer is None:
            raise
        on_win()
        return answer
    finally:
        timer.cancel()
        if race.copy is not None and not race.copy.done():
            race.copy.cancel()  # the first call answered first
