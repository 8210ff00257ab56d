"""Contract: report pages reserve rows per (account, endpoint, level) so no second and no 10 s
window ever holds more than 80% of the media's row quota (Tencent: 12,000 rows/s, 40,000 per
10 s), a short page frees its room at once, and other accounts and levels are not held back.
Pure logic, on a fake clock."""

from __future__ import annotations

import asyncio

import pytest

from ark_assets.fetch.row_quota import RowBudget
from ark_assets.media.api import RowQuota

TENCENT = RowQuota(per_second=12_000, per_window=40_000, window_s=10.0)


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += seconds


def _pages(budget: RowBudget, clock: FakeClock, key: tuple, pages: int, rows: int = 1000) -> list[float]:
    """When each of `pages` full pages of one key could be sent, one after the other."""

    async def run() -> list[float]:
        sent = []
        for _ in range(pages):
            entry = await budget.reserve(TENCENT, key, rows)
            sent.append(clock.now)
            budget.settle(entry, rows)
        return sent

    return asyncio.run(run())


def _max_in_any(times: list[float], span: float, rows: int = 1000) -> int:
    return max(sum(rows for t in times if start <= t < start + span) for start in times)


def test_no_window_ever_holds_more_than_80_percent_of_the_quota() -> None:
    clock = FakeClock()
    budget = RowBudget(clock, clock.sleep)
    sent = _pages(budget, clock, (1, "daily_reports/get", "AD"), 100)
    assert _max_in_any(sent, 1.0) <= 0.8 * 12_000
    assert _max_in_any(sent, 10.0) <= 0.8 * 40_000
    # and no slower than that: 100 pages of 1000 rows take about 100,000 / 32,000 windows
    assert sent[-1] - sent[0] == pytest.approx(30.0, abs=1.0)


def test_a_short_page_frees_its_room_at_once() -> None:
    clock = FakeClock()
    budget = RowBudget(clock, clock.sleep)

    async def run() -> float:
        for _ in range(40):  # 40 reservations of a full page, each answering 10 rows
            entry = await budget.reserve(TENCENT, (1, "daily_reports/get", "AD"), 1000)
            budget.settle(entry, 10)
        return clock.now

    assert asyncio.run(run()) == 1000.0  # never waited: 400 rows in all


def test_other_accounts_and_levels_are_not_held_back() -> None:
    clock = FakeClock()
    budget = RowBudget(clock, clock.sleep)
    _pages(budget, clock, (1, "daily_reports/get", "AD"), 9)  # the key's second is full
    start = clock.now
    _pages(budget, clock, (2, "daily_reports/get", "AD"), 9)
    _pages(budget, clock, (1, "daily_reports/get", "ADGROUP"), 9)
    _pages(budget, clock, (1, "hourly_reports/get", "AD"), 9)
    assert clock.now == start


def test_a_quota_refuses_nonsense() -> None:
    with pytest.raises(ValueError, match="window_s"):
        RowQuota(per_second=1, window_s=0)
