"""`ark-sim seed`: write a tenant's `eton` rows and Redis keys exactly as the seed's jobs expect them.

MySQL (`eton`): the tenant (status 1) and every agent of gdt (platform 1), jrtt (3, level 1 or 2
with parent_agent_id) and wx (8), the inactive ones included, so the platform's own filter
(auth_status in (1, 2) and auth_type = 1) is what keeps them out. Redis (db 2): only ACTIVE
agents: token sets and refresh tokens, agent keys, and the day's account keys.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from datetime import date

from ark_assets.media import Media
from ark_assets.resources.mysql import _UPSERT_AGENT, MySQLResource
from ark_assets.resources.redis_keys import AgentTier, accounts_key, agents_key, token_key
from ark_assets.resources.redis_store import RedisResource
from ark_sim.world import World

logger = logging.getLogger(__name__)

_DELETE_AGENTS = "DELETE FROM {eton}.`agents` WHERE tenant_alias = %s AND platform_id IN (%s, %s, %s)"


@dataclass
class SeedReport:
    """What `seed_tenant` wrote: eton agent rows per media and the size of every Redis key."""

    tenant: str
    day: date
    agents: dict[str, int] = field(default_factory=dict)
    redis_keys: dict[str, int] = field(default_factory=dict)


def seed_tenant(
    world: World, tenant: str, day: date, *, redis: RedisResource, mysql: MySQLResource
) -> SeedReport:
    """Write the tenant's eton rows (replacing its agents) and Redis keys for `day`."""
    report = SeedReport(tenant, day)
    _seed_mysql(world, tenant, mysql, report)
    _seed_redis(world, tenant, day, redis, report)
    return report


def _seed_mysql(world: World, tenant: str, mysql: MySQLResource, report: SeedReport) -> None:
    mysql.ensure_schema()
    mysql.upsert_tenant(tenant_alias=tenant, name=f"模拟租户 {tenant}", status=1)
    rows = []
    for media in Media:
        agents = world.agents(media, tenant, active_only=False)
        report.agents[media.value] = len(agents)
        rows.extend(
            (
                tenant,
                media.platform_id,
                str(a.agent_id),
                a.name,
                a.level,
                None if a.parent_id is None else str(a.parent_id),
                a.auth_status,
                a.auth_type,
            )
            for a in agents
        )
    # Replace, not merge: a re-seed with another profile must not leave the old agents behind.
    # MySQLResource has no bulk agent writer (upsert_agent opens a connection per row); this uses
    # its own connection helper and statement, in one transaction.
    with mysql._cursor() as cur:
        cur.execute(mysql._sql(_DELETE_AGENTS), (tenant, *(m.platform_id for m in Media)))
        cur.executemany(mysql._sql(_UPSERT_AGENT), rows)
    logger.info("eton: tenant %s and %d agents written", tenant, len(rows))


def _seed_redis(world: World, tenant: str, day: date, redis: RedisResource, report: SeedReport) -> None:
    for media in Media:
        agents = world.agents(media, tenant)
        tokens = world.initial_tokens(media, tenant)
        redis.write_tokens(media, tenant, {a.agent_id: tokens[a.agent_id][0] for a in agents})
        redis.write_refresh_tokens(media, tenant, {a.agent_id: tokens[a.agent_id][1] for a in agents})
        report.redis_keys[token_key(media, tenant)] = len(agents)
    for media in (Media.GDT, Media.WX):
        ids = [a.agent_id for a in world.agents(media, tenant)]
        redis.write_agents(media, tenant, ids)
        report.redis_keys[agents_key(media, tenant)] = len(ids)
    for tier in (None, AgentTier.FIRST, AgentTier.SECOND):
        ids = [a.agent_id for a in world.agents(Media.JRTT, tenant, tier=tier)]
        redis.write_agents(Media.JRTT, tenant, ids, tier=tier)
        report.redis_keys[agents_key(Media.JRTT, tenant, tier)] = len(ids)

    gdt = dict(world.accounts(Media.GDT, tenant))
    redis.write_accounts(Media.GDT, tenant, day, gdt)
    report.redis_keys[accounts_key(Media.GDT, tenant, day)] = len(gdt)
    for tier in (AgentTier.FIRST, AgentTier.SECOND):
        accounts = dict(world.accounts(Media.JRTT, tenant, tier=tier))
        redis.write_accounts(Media.JRTT, tenant, day, accounts, tier=tier)
        report.redis_keys[accounts_key(Media.JRTT, tenant, day, tier=tier)] = len(accounts)
    wx_keys = set()
    for agent in world.agents(Media.WX, tenant):
        accounts = dict(world.accounts(Media.WX, tenant, agent_id=agent.agent_id))
        redis.write_accounts(Media.WX, tenant, day, accounts, agent_id=agent.agent_id)
        key = accounts_key(Media.WX, tenant, day, agent_id=agent.agent_id)
        report.redis_keys[key] = len(accounts)
        wx_keys.add(key)
    _drop_stale_wx_keys(redis, tenant, day, wx_keys)
    logger.info("redis: %d keys written for %s on %s", len(report.redis_keys), tenant, day)


def _drop_stale_wx_keys(redis: RedisResource, tenant: str, day: date, keep: set[str]) -> None:
    """wx account keys name their agent: a re-seed must delete the day's keys of agents now gone.

    (Every other key has a fixed name and is replaced whole by its writer.)
    """
    pattern = f"wx_advertiser_{tenant}_*_{day:%Y%m%d}"
    sets = redis.sets
    with sets._errors():
        client = sets._redis()
        exact = re.compile(rf"wx_advertiser_{tenant}_[0-9]+_{day:%Y%m%d}")
        found = [k.decode() for k in client.scan_iter(match=pattern)]
        stale = [k for k in found if exact.fullmatch(k) and k not in keep]
        if stale:
            client.delete(*stale)
            logger.info("redis: deleted %d stale wx account keys", len(stale))
