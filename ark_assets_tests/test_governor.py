"""The rate governor's probe on a media without quota headers, against the real Redis.

The contract (`fetch/governor.py`): before any throttle the rate climbs by `probe_start`; a
throttle cuts it and remembers the rate it came at as the ceiling; for `cooldown_s` afterwards
the probe climbs back only to `ceiling_margin` below that ceiling and stays there (a throttle met
there lowers the ceiling); once the cool-down is over it probes above, slowly. A call nobody
needs (a hedged copy) gets only a spare slot: never while a caller of this process waits for one,
never one the shared bucket has promised to another process.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from dataclasses import replace

import pytest
import redis
import redis.asyncio as aioredis

from ark_assets.fetch.governor import GovernorSettings, RateGovernor

pytestmark = pytest.mark.stack  # every test here runs against the real services

SETTINGS = GovernorSettings(
    initial_rate=100.0,
    adjust_interval_s=0.001,  # every observation adjusts (the real interval is 0.25 s)
    probe_start=0.10,
    probe_increase=0.05,
    throttle_decrease=0.15,
    cooldown_s=0.5,
    ceiling_margin=0.03,
    probe_after_cooldown=0.01,
)


async def _probe(governor: RateGovernor, times: int) -> float:
    for _ in range(times):
        await asyncio.sleep(0.002)  # past the adjust interval, in Redis and in the process
        await governor.observe_success()
    return await governor.rate()


def test_the_probe_stays_below_the_ceiling_it_just_met_then_probes_above_slowly() -> None:
    app = f"test{secrets.token_hex(4)}"

    async def scenario() -> list[float]:
        client = aioredis.Redis(db=2)
        governor = RateGovernor(client, "jrtt", app, "advertiser/fund/get", SETTINGS)
        try:
            climbed = await _probe(governor, 5)  # slow start: +10% a step
            await asyncio.sleep(0.002)
            cut = await governor.observe_throttle()  # the ceiling is the rate it came at
            held = await _probe(governor, 20)  # back up to 3% below the ceiling, and no further
            await asyncio.sleep(0.002)
            lowered = await governor.observe_throttle()  # met at the cap: the ceiling comes down
            held_lower = await _probe(governor, 20)
            await asyncio.sleep(SETTINGS.cooldown_s)
            above = await _probe(governor, 5)  # the cool-down is over: +1% a step
            return [climbed, cut, held, lowered, held_lower, above]
        finally:
            await client.aclose()

    try:
        climbed, cut, held, lowered, held_lower, above = asyncio.run(scenario())
    finally:
        redis.Redis(db=2).delete(f"ark:governor:jrtt:{app}:advertiser/fund/get")
    assert climbed == pytest.approx(100 * 1.1**5, rel=1e-6)
    assert cut == pytest.approx(climbed * 0.85, rel=1e-6)
    assert held == pytest.approx(climbed * 0.97, rel=1e-6)
    assert lowered == pytest.approx(held * 0.85, rel=1e-6)
    assert held_lower == pytest.approx(held * 0.97, rel=1e-6)
    assert above == pytest.approx(held_lower * 1.01**5, rel=1e-6)


def test_a_quota_header_still_drives_the_rate_whatever_the_ceiling() -> None:
    app = f"test{secrets.token_hex(4)}"

    async def scenario() -> tuple[float, float]:
        client = aioredis.Redis(db=2)
        governor = RateGovernor(client, "gdt", app, "funds/get", SETTINGS)
        try:
            await governor.observe_throttle()
            after_throttle = await governor.rate()
            for _ in range(3):
                time.sleep(0.002)
                await governor.observe_level(95)  # far from the limit: +20% a step
            return after_throttle, await governor.rate()
        finally:
            await client.aclose()

    try:
        after_throttle, climbed = asyncio.run(scenario())
    finally:
        redis.Redis(db=2).delete(f"ark:governor:gdt:{app}:funds/get")
    assert climbed == pytest.approx(after_throttle * 1.2**3, rel=1e-6)


def test_a_spare_slot_is_one_nobody_is_waiting_for() -> None:
    app = f"test{secrets.token_hex(4)}"
    # 4 calls/s with a bucket of 1 call; one slot per lease, so every caller leases its own
    paced = GovernorSettings(initial_rate=4.0, burst_s=0.25, max_debt_s=0.5, lease_s=0.0)

    async def scenario() -> tuple[bool, bool, bool]:
        client = aioredis.Redis(db=2)
        here = RateGovernor(client, "gdt", app, "funds/get", paced)
        try:
            idle = await here.try_spare()  # a fresh bucket is full and nobody waits: spare
            waiting = [asyncio.create_task(here.acquire()) for _ in range(5)]  # 5 slots over ~1.25 s
            await asyncio.sleep(0.05)
            callers_wait = await here.try_spare()
            await asyncio.gather(*waiting)
            # another process reserves the next 5 s of the shared bucket (slots in advance)
            other = RateGovernor(client, "gdt", app, "funds/get", replace(paced, max_debt_s=5.0, lease_s=5.0))
            await other.acquire()
            promised = await here.try_spare()
            return idle, callers_wait, promised
        finally:
            await client.aclose()

    try:
        idle, callers_wait, promised = asyncio.run(scenario())
    finally:
        redis.Redis(db=2).delete(f"ark:governor:gdt:{app}:funds/get")
    assert idle is True
    assert callers_wait is False  # this process's callers were waiting for every slot
    assert promised is False  # the bucket's slots belong to the other process's reservations
