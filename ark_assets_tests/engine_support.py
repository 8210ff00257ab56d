"""What the fetch-engine tests share: a tenant alias of their own (its Redis keys, the refresh
locks' and the rate governor's state removed afterwards), and the simulator's initial token
pairs written to Redis as the seed writes them."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager

import redis

from ark_assets.resources.redis_store import RedisResource
from ark_sim.server import RunningSimulator


@contextmanager
def own_tenant(prefix: str) -> Iterator[str]:
    alias = f"{prefix}{secrets.randbelow(10**10):010d}"
    try:
        yield alias
    finally:
        raw = redis.Redis(host="127.0.0.1", port=6379, db=2)
        for pattern in (f"*_{alias}*", f"ark:*:{alias}:*"):
            for key in raw.scan_iter(match=pattern):
                raw.delete(key)


def clear_governors() -> None:
    """Rate-governor and spent-quota state is shared through Redis per app: start from a clean slate."""
    raw = redis.Redis(host="127.0.0.1", port=6379, db=2)
    for pattern in ("ark:governor:*", "ark:quota_exhausted:*"):
        for key in raw.scan_iter(match=pattern):
            raw.delete(key)


def seed_tokens(sim: RunningSimulator, media: str, tenant: str) -> None:
    pairs = sim.world.initial_tokens(media, tenant)
    store = RedisResource().sets
    store.write_tokens(media, tenant, {agent: pair[0] for agent, pair in pairs.items()})
    store.write_refresh_tokens(media, tenant, {agent: pair[1] for agent, pair in pairs.items()})
