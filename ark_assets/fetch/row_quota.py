"""Rows a media returns per account and report level, kept under the media's row quotas.

Tencent limits report calls by the rows they answer, per account, report and level: 12,000 rows
a second (news/info/20190415) and 40,000 rows in 10 s (news/info/20190527); over either, that
account's level is frozen for seconds. The call quota (the Redis governor) cannot see rows, so a
paged report of a big account could pass it and still be frozen. Each (account, endpoint, level)
therefore gets a budget here: a page reserves the rows it may answer (its page size) before the
call, and settles to what it did answer after, so a short page frees its room at once. The budget
is a sliding window (every 1 s and every 10 s interval stays under the limit, so the media's fixed
windows do too), kept below the limit by `HEADROOM` for the time between our clock and the
media's count. A media declares the limits on its endpoint (`EndpointSpec.row_quota`). The budget
lives in the step's process: one account's level is fetched by one step at a
time (its media's step of the partition).
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from ark_assets.media.api import RowQuota

HEADROOM = 0.8  # of each limit: the rows a window may hold on our clock


@dataclass
class _Window:
    entries: deque = field(default_factory=deque)  # [time, rows] pairs, oldest first


class RowBudget:
    """Row reservations per key; one per fetch session (its event loop)."""

    def __init__(
        self,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._clock = clock
        self._sleep = sleep
        self._windows: dict[tuple, _Window] = {}

    async def reserve(self, quota: RowQuota, key: tuple, rows: int) -> list:
        """Wait until `rows` more fit in every window of `key`; the returned entry is settled later."""
        window = self._windows.setdefault(key, _Window())
        while (wait := self._wait(quota, window, rows)) > 0:
            await self._sleep(wait)
        entry = [self._clock(), rows]
        window.entries.append(entry)
        return entry

    @staticmethod
    def settle(entry: list, rows: int) -> None:
        """The call answered `rows` (fewer than reserved frees the difference at once)."""
        entry[1] = rows

    def _wait(self, quota: RowQuota, window: _Window, rows: int) -> float:
        """Seconds until `rows` more fit (0: they fit now)."""
        now = self._clock()
        longest = max(1.0, quota.window_s if quota.per_window else 1.0)
        while window.entries and window.entries[0][0] <= now - longest:
            window.entries.popleft()
        waits = [0.0]
        for limit, span in ((quota.per_second, 1.0), (quota.per_window, quota.window_s)):
            if not limit:
                continue
            allowed = max(int(limit * HEADROOM), rows)  # one page always fits an empty window
            recent = [e for e in window.entries if e[0] > now - span]
            used = sum(e[1] for e in recent)
            for stamp, count in recent:  # the oldest entries leave first
                if used + rows <= allowed:
                    break
                used -= count
                waits.append(stamp + span - now)
            if used + rows > allowed:  # nothing left to wait for: the window is empty
                waits.append(0.0)
        return max(waits)
