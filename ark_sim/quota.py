"""Per (media, app, endpoint) quotas: per-second and per-minute token buckets, a daily counter, blocks.

Simulator choice (no vendor publishes its algorithm): a "per minute" quota is enforced the way an
API gateway does it smoothly, as a token bucket of capacity `per_minute * burst_seconds / 60`
refilled continuously at `per_minute / 60` tokens per second. A client therefore cannot spend a
whole minute's quota in one burst, but a steady `per_minute` rate always passes. The per-second
quota is a bucket of capacity `per_second` refilled at `per_second` per second; the daily quota is
a plain counter that resets at midnight in the configured time zone.

A request takes one token from every bucket that exists; when one is short the request is
throttled, consumes nothing, and (when `block_seconds` > 0) the endpoint answers every request of
that app with the same throttle until the block ends.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from enum import Enum

from ark_sim.config import QuotaLimits, SimConfig


class Exhausted(Enum):
    """Which quota ran out; each media maps it to its own body code."""

    SECOND = "second"
    MINUTE = "minute"
    DAY = "day"


@dataclass(frozen=True)
class Decision:
    """The outcome of one request against a quota, and what the quota headers should say."""

    exhausted: Exhausted | None
    day_percent: int
    minute_percent: int

    @property
    def allowed(self) -> bool:
        return self.exhausted is None

    @property
    def header(self) -> str:
        """`X-RateLimit-Remaining`: this app's quota left for this endpoint, day then minute."""
        return f"{self.day_percent}%,{self.minute_percent}%"


class _Bucket:
    def __init__(self, capacity: float, rate: float, now: float) -> None:
        self.capacity = capacity
        self.rate = rate
        self.tokens = capacity
        self.stamp = now

    def refill(self, now: float) -> None:
        self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now

    def percent(self) -> int:
        # Whole tokens only: a partial token is no request, so an empty bucket reads 0%.
        return _percent(math.floor(self.tokens), self.capacity)


class _Quota:
    """The live state of one (media, app, endpoint) quota."""

    def __init__(self, limits: QuotaLimits, now: float, today: date) -> None:
        self.limits = limits
        self.second = _Bucket(limits.per_second, limits.per_second, now) if limits.per_second else None
        minute_capacity = max(1.0, limits.per_minute * limits.burst_seconds / 60)
        self.minute = _Bucket(minute_capacity, limits.per_minute / 60, now) if limits.per_minute else None
        self.day = today
        self.day_used = 0
        self.blocked_until = 0.0
        self.block_kind: Exhausted | None = None

    def acquire(self, now: float, today: date) -> Decision:
        if today != self.day:
            self.day, self.day_used = today, 0
        for bucket in (self.second, self.minute):
            if bucket is not None:
                bucket.refill(now)
        exhausted = self._blocked(now) or self._short()
        if exhausted is None:
            for bucket in (self.second, self.minute):
                if bucket is not None:
                    bucket.tokens -= 1
            self.day_used += 1
        elif self.limits.block_seconds > 0 and now >= self.blocked_until:
            self.blocked_until = now + self.limits.block_seconds
            self.block_kind = exhausted
        return Decision(exhausted, self._day_percent(), self.minute.percent() if self.minute else 100)

    def _blocked(self, now: float) -> Exhausted | None:
        return self.block_kind if now < self.blocked_until else None

    def _short(self) -> Exhausted | None:
        # The daily quota first: it is the one that will not come back by waiting a minute.
        if self.limits.per_day and self.day_used >= self.limits.per_day:
            return Exhausted.DAY
        if self.second is not None and self.second.tokens < 1:
            return Exhausted.SECOND
        if self.minute is not None and self.minute.tokens < 1:
            return Exhausted.MINUTE
        return None

    def _day_percent(self) -> int:
        if not self.limits.per_day:
            return 100
        return _percent(self.limits.per_day - self.day_used, self.limits.per_day)


class QuotaBook:
    """All quotas of a simulator (thread-safe); limits come from the config and can change live."""

    def __init__(
        self,
        config: SimConfig,
        today: Callable[[], date],
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._config = config
        self._overrides: dict[tuple[str, str | None], dict] = {}
        self._today = today
        self._clock = clock
        self._lock = threading.Lock()
        self._quotas: dict[tuple[str, int, str], _Quota] = {}

    def limits(self, media: str, endpoint: str) -> QuotaLimits:
        """The endpoint's effective limits: config default, config endpoint, then live changes."""
        limits = self._config.quota_limits(media, endpoint)
        for key in ((media, None), (media, endpoint)):
            if key in self._overrides:
                limits = limits.model_copy(update=self._overrides[key])
        return QuotaLimits.model_validate(limits.model_dump())

    def acquire(self, media: str, app_id: int, endpoint: str) -> Decision:
        """Take one request from the (media, app, endpoint) quota, or report which quota is short."""
        now, today = self._clock(), self._today()
        with self._lock:
            key = (media, app_id, endpoint)
            quota = self._quotas.get(key)
            if quota is None:
                quota = self._quotas[key] = _Quota(self.limits(media, endpoint), now, today)
            return quota.acquire(now, today)

    def update(self, media: str, endpoint: str | None, **changes: float) -> QuotaLimits:
        """Change limits at run time (endpoint None = every endpoint of the media); resets their state."""
        unknown = sorted(set(changes) - set(QuotaLimits.model_fields))
        if unknown:
            raise ValueError(f"unknown quota knobs {unknown}; known: {', '.join(QuotaLimits.model_fields)}")
        QuotaLimits.model_validate({**self.limits(media, endpoint or "").model_dump(), **changes})
        with self._lock:
            merged = {**self._overrides.get((media, endpoint), {}), **changes}
            self._overrides[(media, endpoint)] = merged
            for key in [k for k in self._quotas if k[0] == media and endpoint in (None, k[2])]:
                del self._quotas[key]
        return self.limits(media, endpoint or "")

    def reset(self) -> None:
        """Refill every bucket, zero the daily counters and lift every block (limits stay)."""
        with self._lock:
            self._quotas.clear()


def _percent(left: float, limit: float) -> int:
    return max(0, min(100, math.floor(100 * left / limit)))
