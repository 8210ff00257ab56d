"""Latency-aware timeouts and hedging (`fetch/latency.py`), no service needed.

The contract: until an endpoint has answered `warm_up` times a call gets the configured timeout
and is never hedged; afterwards its timeout is a multiple of the recent p99 (never below the
floor, never above the configured timeout), doubled per retry and widened while calls time out;
a straggler is hedged after a multiple of the recent p95, and hedges stay within their share of
the calls.
"""

from __future__ import annotations

import asyncio
import time

import pytest

from ark_assets.fetch.latency import LatencySettings, LatencyTracker, LoopLag

SETTINGS = LatencySettings(warm_up=32, window=256)


def _warm(tracker: LatencyTracker, seconds: float = 0.3, n: int = 256) -> LatencyTracker:
    for _ in range(n):
        tracker.observe(seconds)
    return tracker


def test_a_cold_endpoint_gets_the_configured_timeout_and_no_hedge() -> None:
    tracker = LatencyTracker(SETTINGS, timeout_s=10.0)
    _warm(tracker, n=SETTINGS.warm_up - 1)
    assert tracker.timeout_s(1) == 10.0
    assert tracker.hedge_after_s(10.0) is None


@pytest.mark.parametrize(
    ("answers_s", "attempt", "expected_s"),
    [
        (0.3, 1, 2.0),  # 4 x p99 = 1.2 s is below the 2 s floor
        (1.0, 1, 4.0),  # 4 x p99
        (1.0, 2, 8.0),  # a retry doubles it
        (1.0, 3, 10.0),  # ... up to the configured timeout
        (5.0, 1, 10.0),  # never above it
    ],
)
def test_a_warm_endpoint_times_out_after_a_multiple_of_its_p99(
    answers_s: float, attempt: int, expected_s: float
) -> None:
    tracker = _warm(LatencyTracker(SETTINGS, timeout_s=10.0), answers_s)
    assert tracker.timeout_s(attempt) == pytest.approx(expected_s)


def test_calls_that_time_out_widen_the_timeout() -> None:
    tracker = _warm(LatencyTracker(SETTINGS, timeout_s=30.0), 1.0)
    before = tracker.timeout_s(1)
    for _ in range(26):  # a tenth of the window timed out
        tracker.timed_out()
    assert tracker.timeout_s(1) == pytest.approx(before * (1 + 10 * 26 / 256))
    _warm(tracker, 1.0)  # answered again: the widening is gone with the window
    assert tracker.timeout_s(1) == pytest.approx(before)


def test_stragglers_are_hedged_after_a_multiple_of_the_p95_within_their_share() -> None:
    tracker = _warm(LatencyTracker(SETTINGS, timeout_s=10.0), 0.3)
    assert tracker.hedge_after_s(10.0) == pytest.approx(0.6)  # 2 x p95
    offered = 0
    for _ in range(1000):
        if tracker.hedge_after_s(10.0) is not None:
            tracker.hedged()
            offered += 1
    assert offered == pytest.approx(SETTINGS.hedge_share * 1001, abs=2)  # at most hedge_share of the calls
    assert tracker.hedge_after_s(0.5) is None  # a hedge later than the timeout is no hedge


def test_stragglers_offered_a_copy_together_are_held_to_the_share_when_sent() -> None:
    # 400 calls in flight at once, every one a straggler: each is offered a copy (none was sent
    # yet), but only 1% of the calls get one, so the copies spend at most that share of the quota.
    settings = LatencySettings(warm_up=32, window=256, hedge_share=0.01)
    tracker = _warm(LatencyTracker(settings, timeout_s=10.0), 0.3)
    offers = [tracker.hedge_after_s(10.0) for _ in range(400)]
    sent = 0
    for _ in offers:
        if tracker.may_hedge():
            tracker.hedged()
            sent += 1
    assert all(offer is not None for offer in offers)
    assert sent == 4


def test_both_can_be_switched_off() -> None:
    tracker = _warm(LatencyTracker(LatencySettings(adaptive_timeout=False, hedge=False), timeout_s=10.0))
    assert tracker.timeout_s(1) == 10.0
    assert tracker.hedge_after_s(10.0) is None


def test_a_late_loop_suppresses_hedges_and_lengthens_timeouts() -> None:
    tracker = _warm(LatencyTracker(SETTINGS, timeout_s=10.0), 0.3)
    assert tracker.hedge_after_s(10.0, lag_s=0.2) is None  # our own lag, not a straggler
    assert tracker.timeout_s(1, lag_s=0.5) == pytest.approx(2.0 + 4 * 0.5)


def test_the_loop_lag_is_the_largest_recent_overshoot_decaying_by_a_fifth_per_check() -> None:
    lag = LoopLag(every_s=0.1)
    lag.woke(late_s=0.002)  # on time, give or take
    assert lag.lag_s == pytest.approx(0.002)
    lag.woke(late_s=0.3)  # the loop was blocked: the lag is that overshoot at once
    assert lag.lag_s == pytest.approx(0.3)
    for _ in range(5):  # on time again: the burst is remembered, fading, for about a second
        lag.woke(late_s=0.001)
    assert lag.lag_s == pytest.approx(0.3 * 0.8**5)
    lag.woke(late_s=0.2)  # a new, larger overshoot replaces what is left
    assert lag.lag_s == pytest.approx(0.2)


def test_a_blocked_loop_is_measured_as_at_least_its_block() -> None:
    async def measure() -> float:
        lag = LoopLag(every_s=0.02)
        task = asyncio.create_task(lag.run())
        await asyncio.sleep(0.05)
        time.sleep(0.3)  # the loop is blocked, as by CPU starvation
        await asyncio.sleep(0.001)  # the overdue check runs first and sees how late it woke
        task.cancel()
        return lag.lag_s

    # A check that was due during the block wakes at least (0.3 s - its 0.02 s sleep) late; a busy
    # machine only adds to that, so no upper bound is asserted.
    assert asyncio.run(measure()) >= 0.3 - 0.02 - 0.005  # (rounding of the two clocks)
