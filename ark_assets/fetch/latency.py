"""What an endpoint's answers have taken lately: per-call timeouts and when a straggler is hedged.

A fixed timeout has to cover the slowest answer an endpoint may ever give, so a call that will
never be answered (a gateway holding the connection) holds its slot that long before it is
retried. The media answer within a narrow band most of the time, so a timeout derived from what
the endpoint has actually taken -- a multiple of its recent 99th percentile, never below a floor,
never above the configured timeout -- frees the slot much sooner and the call is retried anyway.
Each retry of a call doubles its timeout, and the share of recent calls that timed out widens
every timeout (a tenth of them timing out doubles it), so an endpoint that slows down for real
gets the time it needs instead of failing every call.

Hedging goes one step further for the calls that are retried anyway (idempotent GETs): a call
still unanswered well past the recent 95th percentile is sent a second time, and whichever answer
comes first is used. Hedges are capped at a share of the calls.

Both read the endpoint's latency as this process sees it, which includes the time the answer
waits for our own event loop. When the loop itself runs late (the process is starved of CPU:
`LoopLag`), a late answer says nothing about the endpoint: no call is hedged then, and every
timeout gets the loop's lag on top, so a busy process does not double its own load or time out
answers that are already in its socket buffer.
"""

from __future__ import annotations

import asyncio
from collections import deque
from dataclasses import dataclass


@dataclass(frozen=True)
class LatencySettings:
    """Knobs of the latency-aware timeouts and of hedging (both need `warm_up` answers first).

    timeout_factor / min_timeout_s: a call times out after `timeout_factor` x p99, at least
        `min_timeout_s` (a CPU-starved process reads its answers late) and at most the engine's
        `timeout_s`; each retry of the call doubles its timeout (up to `timeout_s`).
    hedge_factor / min_hedge_s: a call unanswered after `hedge_factor` x p95 (at least
        `min_hedge_s`) is sent again; `hedge_share` caps the copies at that share of the endpoint's
        calls, checked when a copy is offered and again when it is sent: a copy spends quota, and
        issue 19's goal is at most 0.5% of the calls in copies (0.05 before: up to 1.8% were spent
        over a capacity day's phases, bench/RESULTS.md).
    window: how many recent answers the percentiles are taken over.
    """

    adaptive_timeout: bool = True
    timeout_factor: float = 4.0
    min_timeout_s: float = 2.0
    hedge: bool = True
    hedge_factor: float = 2.0
    min_hedge_s: float = 0.25
    hedge_share: float = 0.005
    warm_up: int = 32
    window: int = 256
    lag_check_s: float = 0.1


class LatencyTracker:
    """Recent answer times of one endpoint (seconds), and the timeout and hedge delay they imply."""

    def __init__(self, settings: LatencySettings, timeout_s: float) -> None:
        self._settings = settings
        self._cap = timeout_s
        self._samples: deque[float] = deque(maxlen=settings.window)
        self._recent: deque[bool] = deque(maxlen=settings.window)  # True: the call timed out
        self._timed_out = 0  # of `_recent`
        self._since_sorted = 0
        self._p95: float | None = None
        self._p99: float | None = None
        self.calls = 0
        self.hedges = 0

    def observe(self, seconds: float) -> None:
        """An answer (of any kind) arrived after `seconds`."""
        self._outcome(timed_out=False)
        self._samples.append(seconds)
        self._since_sorted += 1
        warm = len(self._samples) >= self._settings.warm_up
        if warm and self._since_sorted >= max(1, self._settings.warm_up // 4):
            ordered = sorted(self._samples)
            self._p95 = ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]
            self._p99 = ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))]
            self._since_sorted = 0

    def timed_out(self) -> None:
        """A call got no answer within its timeout."""
        self._outcome(timed_out=True)

    def _outcome(self, *, timed_out: bool) -> None:
        if len(self._recent) == self._recent.maxlen and self._recent[0]:
            self._timed_out -= 1
        self._recent.append(timed_out)
        self._timed_out += timed_out

    def timeout_s(self, attempt: int, lag_s: float = 0.0) -> float:
        """The timeout of a call's `attempt`-th try (1-based) while the loop runs `lag_s` late."""
        s = self._settings
        if not s.adaptive_timeout or self._p99 is None:
            return self._cap
        widen = 1.0 + 10.0 * self._timed_out / len(self._recent)
        base = max(s.min_timeout_s, s.timeout_factor * self._p99) * widen + s.timeout_factor * lag_s
        return min(self._cap, base * 2 ** (attempt - 1))

    def hedge_after_s(self, timeout_s: float, lag_s: float = 0.0) -> float | None:
        """When to send a second copy of a call that times out after `timeout_s`; None: do not hedge
        (also while the loop runs `lag_s` late by more than half the smallest hedge delay).

        Counts the call; a hedge is only offered while hedges stay within `hedge_share` of calls."""
        s = self._settings
        self.calls += 1
        if not s.hedge or self._p95 is None or lag_s > s.min_hedge_s / 2:
            return None
        delay = max(s.min_hedge_s, s.hedge_factor * self._p95)
        if delay >= timeout_s or not self.may_hedge():
            return None
        return delay

    def may_hedge(self) -> bool:
        """Whether one more copy stays within `hedge_share` of the calls (stragglers offered a copy
        together are held to it when each copy is sent)."""
        return self.hedges < self._settings.hedge_share * self.calls

    def hedged(self) -> None:
        """A hedge was sent."""
        self.hedges += 1


class LoopLag:
    """How late the running event loop wakes up (seconds): its own CPU starvation, not the media's.

    `run()` sleeps `every_s` over and over and keeps the largest recent overshoot, decaying by a
    fifth per check, so a burst of lag is remembered for about a second."""

    def __init__(self, every_s: float = 0.1) -> None:
        self._every = every_s
        self.lag_s = 0.0

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            started = loop.time()
            await asyncio.sleep(self._every)
            self.woke(late_s=loop.time() - started - self._every)

    def woke(self, *, late_s: float) -> None:
        """A check woke up `late_s` later than it asked: the lag is the larger of that and the
        last lag less a fifth."""
        self.lag_s = max(late_s, self.lag_s * 0.8)
