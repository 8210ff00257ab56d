"""A rate governor per (media, app, endpoint), shared through Redis by every run using that app.

Media quotas belong to the app, not to a process: two Dagster runs calling one media's `funds/get`
with the same app draw from one quota. So the pacing state lives in one Redis hash that every
engine updates atomically (Lua), and it adapts:

- where the media sends a quota header (`ApiSpec.quota`), the minute percentage is the level
  of the gateway's bucket: above `high_pct` the rate grows by `increase` (twice that at 90% and
  more), below `low_pct` it shrinks by `decrease`, at most once per `adjust_interval_s`;
- where it does not, the rate climbs while calls succeed and drops by `throttle_decrease` on a
  throttle code. The rate a throttle cut was made at is remembered as the endpoint's ceiling:
  for `cooldown_s` after a throttle the probe climbs back only to `ceiling_margin` below it (a
  throttle met there lowers the ceiling again), instead of re-provoking the throttle it just met
  every second; past the cool-down it probes above it slowly (`probe_after_cooldown`), so a
  raised quota is still found. Before any throttle was met it climbs by `probe_start`;
- any throttle also pauses every caller for `pause_s`.

Callers reserve a slot (`acquire`) and sleep until it comes; reservations queue fairly. A
process leases slots from Redis a few at a time (`lease_s` worth of calls at the current rate)
and hands them out locally, so a fast media costs one Redis round trip per lease, not per call;
a throttle answer drops the slots leased but not yet used. A call nobody needs (a hedged copy)
takes only a spare slot (`try_spare`): one no caller is waiting for, due now.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import deque
from dataclasses import asdict, dataclass

import redis.asyncio as aioredis

# The scripts read their arguments by name: ARGV[1] is one JSON object (`_LeaseArgs`,
# `_ObserveArgs`), serialised in one place (`_argv`), so Python and Lua cannot disagree on positions.

# Leases up to `wanted` slots at once. Returns {granted, tokens_before * 1000, rate * 1000}: the
# i-th granted slot (0-based) is due (i + 1 - tokens_before) / rate seconds from now (at once when
# that is negative). granted = 0: no slot within `max_debt_s`; the second value is then the number
# of ms to sleep before asking again (so a rate raised meanwhile is used at once).
_LEASE = """
local a = cjson.decode(ARGV[1])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
local h = redis.call('HMGET', KEYS[1], 'rate', 'tokens', 'ts')
local rate = tonumber(h[1]) or a.initial_rate
local burst = math.max(1, rate * a.burst_s)
local tokens = tonumber(h[2]) or burst
local ts = tonumber(h[3]) or now
tokens = math.min(burst, tokens + (now - ts) * rate / 1000)
local debt_limit = -rate * a.max_debt_s
local granted = math.min(a.wanted, math.floor(tokens - debt_limit))
local result
if granted >= 1 then
  result = {granted, math.floor(tokens * 1000), math.floor(rate * 1000)}
  tokens = tokens - granted
else
  result = {0, math.min(250, math.ceil((debt_limit - (tokens - 1)) * 1000 / rate)), math.floor(rate * 1000)}
end
redis.call('HSET', KEYS[1], 'rate', rate, 'tokens', tokens, 'ts', now)
redis.call('PEXPIRE', KEYS[1], a.ttl_ms)
return result
"""

# Beside the pacing state the hash keeps `ceiling` (the rate the last cut for a throttle was made
# at) and `throttled` (when the last throttle answer came, ms).
_OBSERVE = """
local a = cjson.decode(ARGV[1])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
local h = redis.call('HMGET', KEYS[1], 'rate', 'tokens', 'ts', 'adjusted', 'ceiling', 'throttled')
local rate = tonumber(h[1]) or a.initial_rate
local adjusted = tonumber(h[4]) or 0
local ceiling = tonumber(h[5])
local throttled = tonumber(h[6]) or 0
local due = now - adjusted >= a.adjust_interval_ms
if a.kind == 'throttle' then
  -- a burst of throttle answers reports one overload: cut once per interval, pause every time;
  -- the rate of each cut is the ceiling the probe keeps below for a while
  if due then
    ceiling = rate
    rate = math.max(a.min_rate, rate * (1 - a.throttle_decrease))
    adjusted = now
    redis.call('HSET', KEYS[1], 'ceiling', ceiling)
  end
  local tokens = tonumber(h[2]) or 0
  local ts = tonumber(h[3]) or now
  tokens = math.min(tokens + (now - ts) * rate / 1000, -rate * a.pause_ms / 1000)
  redis.call('HSET', KEYS[1], 'rate', rate, 'tokens', tokens, 'ts', now, 'adjusted', adjusted,
             'throttled', now)
elseif due and a.kind == 'header' then
  -- a quota header: ride the level of the gateway's bucket
  if a.minute_pct < a.low_pct then
    rate = math.max(a.min_rate, rate * (1 - a.decrease))
  elseif a.minute_pct >= 90 then
    rate = math.min(a.max_rate, rate * (1 + 2 * a.increase))  -- far from the limit: climb fast
  elseif a.minute_pct > a.high_pct then
    rate = math.min(a.max_rate, rate * (1 + a.increase))
  end
  redis.call('HSET', KEYS[1], 'rate', rate, 'adjusted', now)
elseif due then
  -- no quota header: probe upward while calls succeed, below the ceiling just met
  if ceiling == nil then
    rate = math.min(a.max_rate, rate * (1 + a.probe_start))
  elseif now - throttled < a.cooldown_ms then
    local cap = ceiling * (1 - a.ceiling_margin)
    if rate < cap then
      rate = math.min(a.max_rate, cap, rate * (1 + a.probe_increase))
    end
  else
    rate = math.min(a.max_rate, rate * (1 + a.probe_after_cooldown))
  end
  redis.call('HSET', KEYS[1], 'rate', rate, 'adjusted', now)
end
redis.call('PEXPIRE', KEYS[1], a.ttl_ms)
return tostring(rate)
"""


@dataclass(frozen=True)
class GovernorSettings:
    """Knobs of the adaptive pacing (calls per second for one app and endpoint).

    initial_rate: where a fresh governor starts; later runs inherit the learnt rate (kept for
        `memory_s`). max_rate / min_rate: hard bounds. burst_s: how many seconds of calls may go
        out back to back. low_pct / high_pct: the minute-quota band to stay in. increase /
        decrease: relative steps. adjust_interval_s: one adjustment per interval (responses lag
        the level they report). pause_s: everyone waits this long after a throttle answer.
        throttle_decrease: the relative cut after a throttle answer (once per interval); small,
        because a throttle means "a little too fast", and throttled calls are retried anyway.
        probe_increase: the relative step per interval while calls succeed on a media without
        quota headers, up to `ceiling_margin` below the ceiling the last throttle met.
        probe_start: that step before any throttle was met (or after the state was forgotten).
        cooldown_s: how long after a throttle the probe stays below that ceiling.
        probe_after_cooldown: the step above the ceiling once the cool-down is over (small: the
            next throttle is expected just above it).
        max_debt_s: slots are reserved at most this far ahead, so a later rate change applies soon.
        lease_s: a process leases this many seconds of calls (at the current rate) per Redis round
            trip, at most `max_lease` slots; 0 leases one slot at a time.
    """

    initial_rate: float = 100.0
    max_rate: float = 2000.0
    min_rate: float = 0.5
    burst_s: float = 0.25
    low_pct: int = 30
    high_pct: int = 60
    increase: float = 0.10
    decrease: float = 0.15
    adjust_interval_s: float = 0.25
    pause_s: float = 0.25
    throttle_decrease: float = 0.15
    probe_increase: float = 0.05
    probe_start: float = 0.10
    cooldown_s: float = 20.0
    ceiling_margin: float = 0.03
    probe_after_cooldown: float = 0.01
    max_debt_s: float = 0.25
    lease_s: float = 0.05
    max_lease: int = 64
    memory_s: float = 3600.0


@dataclass(frozen=True, kw_only=True)
class _LeaseArgs:
    """What `_LEASE` reads (by name)."""

    initial_rate: float
    burst_s: float
    ttl_ms: int
    max_debt_s: float
    wanted: int


@dataclass(frozen=True, kw_only=True)
class _ObserveArgs:
    """What `_OBSERVE` reads (by name): one observation and the knobs that decide what it does."""

    kind: str  # "throttle", "header" (with `minute_pct`) or "ok"
    minute_pct: int
    min_rate: float
    max_rate: float
    initial_rate: float
    low_pct: int
    high_pct: int
    increase: float
    decrease: float
    adjust_interval_ms: int
    pause_ms: int
    ttl_ms: int
    throttle_decrease: float
    probe_increase: float
    probe_start: float
    cooldown_ms: int
    ceiling_margin: float
    probe_after_cooldown: float

    @classmethod
    def of(cls, s: GovernorSettings, kind: str, minute_pct: int) -> _ObserveArgs:
        return cls(
            kind=kind,
            minute_pct=minute_pct,
            min_rate=s.min_rate,
            max_rate=s.max_rate,
            initial_rate=s.initial_rate,
            low_pct=s.low_pct,
            high_pct=s.high_pct,
            increase=s.increase,
            decrease=s.decrease,
            adjust_interval_ms=int(s.adjust_interval_s * 1000),
            pause_ms=int(s.pause_s * 1000),
            ttl_ms=int(s.memory_s * 1000),
            throttle_decrease=s.throttle_decrease,
            probe_increase=s.probe_increase,
            probe_start=s.probe_start,
            cooldown_ms=int(s.cooldown_s * 1000),
            ceiling_margin=s.ceiling_margin,
            probe_after_cooldown=s.probe_after_cooldown,
        )


def _argv(args: _LeaseArgs | _ObserveArgs) -> list[str]:
    """A script's ARGV: its named arguments as one JSON object (the scripts `cjson.decode` it)."""
    return [json.dumps(asdict(args))]


class RateGovernor:
    """Paces one (media, app, endpoint) for all processes sharing the Redis at `client`."""

    def __init__(
        self, client: aioredis.Redis, media: str, app_id: str, endpoint: str, settings: GovernorSettings
    ):
        self.key = f"ark:governor:{media}:{app_id}:{endpoint}"
        self._client = client
        self._settings = settings
        self._lease = client.register_script(_LEASE)
        self._observe = client.register_script(_OBSERVE)
        # The shared state takes one adjustment per interval anyway: feedback sent more often by
        # this process would be ignored by Redis, so it is not sent (one Redis call saved per answer).
        self._next_feedback = 0.0
        self._slots: deque[float] = deque()  # leased slots not yet used: when each is due (monotonic)
        self._leasing = asyncio.Lock()
        self._waiting = 0  # callers in `acquire` (leasing, or sleeping until their slot is due)
        self._rate = settings.initial_rate  # as of the last lease: sizes the next one

    async def acquire(self) -> None:
        """Wait for this caller's slot."""
        self._waiting += 1
        try:
            while not self._slots:
                async with self._leasing:  # one caller leases for everyone waiting
                    if not self._slots:
                        await self._lease_slots()
            delay = self._slots.popleft() - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
        finally:
            self._waiting -= 1

    async def try_spare(self) -> bool:
        """Take a slot only if it would otherwise go unused: no caller here waits for one, and a
        slot is due now (leased here, or in the shared bucket without borrowing from the future).

        For calls that are not needed (a hedged copy): False costs nothing, True costs quota
        that nobody was about to use."""
        if self._waiting or self._leasing.locked():
            return False
        now = time.monotonic()
        if self._slots and self._slots[0] <= now:
            self._slots.popleft()
            return True
        if self._slots:
            return False  # the next leased slot is still ahead: callers are paced right now
        s = self._settings
        args = _LeaseArgs(
            initial_rate=s.initial_rate,
            burst_s=s.burst_s,
            ttl_ms=int(s.memory_s * 1000),
            max_debt_s=0.0,
            wanted=1,
        )
        granted, _, _ = (int(v) for v in await self._lease(keys=[self.key], args=_argv(args)))
        return granted == 1

    async def _lease_slots(self) -> None:
        s = self._settings
        args = _LeaseArgs(
            initial_rate=s.initial_rate,
            burst_s=s.burst_s,
            ttl_ms=int(s.memory_s * 1000),
            max_debt_s=s.max_debt_s,
            wanted=max(1, min(s.max_lease, int(self._rate * s.lease_s))),
        )
        while True:
            granted, value, rate_milli = (
                int(v) for v in await self._lease(keys=[self.key], args=_argv(args))
            )
            self._rate = rate_milli / 1000 or s.initial_rate
            if granted:
                break
            await asyncio.sleep(value / 1000)
        now, tokens = time.monotonic(), value / 1000
        self._slots.extend(now + max(0.0, (i + 1 - tokens) / self._rate) for i in range(granted))

    async def observe_level(self, minute_pct: int) -> None:
        """Feed the minute quota percentage from `X-RateLimit-Remaining` (at most once per interval)."""
        if self._due():
            await self._feedback("header", minute_pct)

    async def observe_success(self) -> None:
        """A call went through on a media without quota headers: probe a little higher."""
        if self._due():
            await self._feedback("ok", 100)

    def _due(self) -> bool:
        now = time.monotonic()
        if now < self._next_feedback:
            return False
        self._next_feedback = now + self._settings.adjust_interval_s
        return True

    async def observe_throttle(self) -> float:
        """A throttle code came back: slow down and pause everyone (slots leased here are dropped)."""
        self._slots.clear()
        return await self._feedback("throttle", 0)

    async def rate(self) -> float:
        value = await self._client.hget(self.key, "rate")
        return float(value) if value is not None else self._settings.initial_rate

    async def _feedback(self, kind: str, minute_pct: int) -> float:
        args = _ObserveArgs.of(self._settings, kind, minute_pct)
        return float(await self._observe(keys=[self.key], args=_argv(args)))
