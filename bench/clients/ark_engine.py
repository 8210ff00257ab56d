"""Client (c), `ark`: our `FetchEngine` (quota governor, retries, streaming outcomes) on the same sources.

The source list is the seed's walk done with the platform's own reader (`RedisSets`, the
Dagster-free store the engine takes; `RedisResource` is its Dagster face): every
agent in `{media}_new_access_token_{tenant}`, then that agent's accounts in the day's account
key(s), so the engine gets exactly the sources the seed clients get. Outcomes are counted as they
stream out and then dropped, as an asset writing them to HBase would do.
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import replace
from datetime import datetime

from ark_assets.clients.redis_keys import AgentTier
from ark_assets.clients.redis_sets import RedisSets
from ark_assets.fetch.engine import EngineSettings, FetchEngine
from ark_assets.fetch.governor import GovernorSettings
from ark_assets.fetch.latency import LatencySettings
from ark_assets.fetch.outcome import Source
from ark_assets.media.declare import MediaApp
from ark_assets.media.registry import media as media_named
from bench.clients.tally import Tally, parse_args

ENDPOINTS = {"gdt": "funds/get", "jrtt": "advertiser/fund/get"}


def engine_settings(overrides: dict) -> EngineSettings:
    """EngineSettings from JSON overrides; nested "governor" / "latency" objects override
    GovernorSettings / LatencySettings."""
    governor = replace(GovernorSettings(), **overrides.pop("governor", {}))
    latency = replace(LatencySettings(), **overrides.pop("latency", {}))
    return replace(EngineSettings(), governor=governor, latency=latency, **overrides)


def source_list(store: RedisSets, media: str, tenant: str, day: str) -> list[Source]:
    when = datetime.strptime(day, "%Y%m%d").date()
    tiers = (AgentTier.FIRST, AgentTier.SECOND) if media == "jrtt" else (None,)
    return [
        Source(agent_id=agent_id, target=account_id)
        for agent_id in store.tokens(media, tenant)
        for tier in tiers
        for account_id in store.accounts_of_agent(media, tenant, when, agent_id, tier=tier)
    ]


async def fetch(args, sources: list[Source], tally: Tally) -> dict:
    store = RedisSets(host=args.redis_host, port=args.redis_port, db=args.redis_db)
    engine = FetchEngine(
        media_named(args.media).api,
        base_url=args.base_url,
        tenant=args.tenant,
        app=MediaApp(app_id=args.app_id, secret=args.secret),
        redis=store,
        settings=engine_settings(json.loads(args.settings)),
    )
    async with engine:
        async for outcome in engine.stream(ENDPOINTS[args.media], sources):
            tally.throttles_seen += outcome.throttles
            if outcome.ok:
                tally.ok(outcome.source.target, len(outcome.records))
            else:
                tally.kinds[f"failed_{outcome.failure.kind}"] += 1
    summary = engine.summary
    tally.requests = summary.requests
    return {"engine_stats": {k: v for k, v in vars(summary).items() if isinstance(v, int | float)}}


def main(argv: list[str] | None = None) -> None:
    args = parse_args(__doc__.splitlines()[0], argv)
    tally = Tally("ark", args.media)
    store = RedisSets(host=args.redis_host, port=args.redis_port, db=args.redis_db)
    sources = source_list(store, args.media, args.tenant, args.date)
    started = time.perf_counter()  # like the seed clients: after the source list, before the fetch
    extra = asyncio.run(fetch(args, sources, tally))
    seconds = time.perf_counter() - started
    tally.write(args.out, sources=[s.target for s in sources], seconds=seconds, **extra)


if __name__ == "__main__":
    main()
