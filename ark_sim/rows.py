"""Report row quotas per (media, account, report, level): rows per second and per window, with freezes.

Tencent limits the rows its report calls return, not only the calls: 12,000 rows per second per
account and level (over it, that account's level is frozen 5 s; news/info/20190415) and 40,000
rows per 10 s window (frozen for the rest of the window plus floor(used / 40,000) windows;
news/info/20190527). The simulator counts the rows each call answers in fixed one-second and
`window_s` windows (the notice's "matched rows" read as the rows answered: the simulator's
choice); a call that would go over is refused, answers nothing and freezes the key. Limits come
from `[media.<m>.rows]` (0 = no limit).
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from ark_sim.config import RowLimits


@dataclass
class _Usage:
    second: int = -1
    second_rows: int = 0
    window: int = -1
    window_rows: int = 0
    frozen_until: float = 0.0


class RowQuotaExceeded(Exception):
    """A call over a row quota (or inside a freeze): `wait_s` until the key thaws."""

    def __init__(self, message: str, wait_s: float) -> None:
        super().__init__(message)
        self.wait_s = wait_s


class RowQuotas:
    """Row counts per key; thread-safe (the server answers from one loop, tests call it directly)."""

    def __init__(
        self, limits: Callable[[str], RowLimits], clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._limits = limits
        self._clock = clock
        self._usage: dict[tuple, _Usage] = {}
        self._lock = threading.Lock()

    def take(self, media: str, key: tuple, rows: int) -> None:
        """Count `rows` answered for `key` (account, report, level), or raise RowQuotaExceeded."""
        limits = self._limits(media)
        if not (limits.per_second or limits.per_window) or rows <= 0:
            return
        now = self._clock()
        with self._lock:
            usage = self._usage.setdefault((media, *key), _Usage())
            if now < usage.frozen_until:
                wait = usage.frozen_until - now
                raise RowQuotaExceeded(f"report rows of {key} are frozen for {wait:.1f} s more", wait)
            second, window = int(now), int(now // limits.window_s)
            if usage.second != second:
                usage.second, usage.second_rows = second, 0
            if usage.window != window:
                usage.window, usage.window_rows = window, 0
            if limits.per_second and usage.second_rows + rows > limits.per_second:
                usage.frozen_until = now + limits.freeze_s
                raise RowQuotaExceeded(
                    f"{usage.second_rows + rows} rows in one second is above {limits.per_second} for {key}; "
                    f"frozen {limits.freeze_s:g} s",
                    limits.freeze_s,
                )
            if limits.per_window and usage.window_rows + rows > limits.per_window:
                used = usage.window_rows + rows
                rest = (window + 1) * limits.window_s - now
                usage.frozen_until = now + rest + math.floor(used / limits.per_window) * limits.window_s
                wait = usage.frozen_until - now
                raise RowQuotaExceeded(
                    f"{used} rows in {limits.window_s:g} s is above {limits.per_window} for {key}; "
                    f"frozen {wait:.1f} s",
                    wait,
                )
            usage.second_rows += rows
            usage.window_rows += rows

    def clear(self) -> None:
        with self._lock:
            self._usage.clear()
