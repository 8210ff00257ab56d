"""`ark-sim seed`: write a tenant's `eton` rows and Redis keys exactly as the seed's jobs expect them.

Here the simulator plays the upstream systems that own those stores, so it writes them with plain
`redis` and `pymysql` clients, in the formats each media declares (`MediaSpec.agent_keys`,
`account_keys`, `platform_id`):

- MySQL (`eton`, tables created when missing, see `eton.py`): the tenant (status 1) and every
  agent of every media, the inactive ones included, so the platform's own filter (auth_status in
  (1, 2) and auth_type = 1) is what keeps them out. A re-seed replaces the tenant's agents.
- Redis (db 2), only ACTIVE agents: per media the token set `{media}_new_access_token_{tenant}`
  (member = access token, score = agent id) and the refresh tokens `{media}_refresh_token_{tenant}`
  (a hash, agent id -> refresh token), its agent keys and the day's account keys. Each key is
  replaced whole in one MULTI/EXEC, so a reader sees the old list or the new one.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date

import pymysql
import redis

from ark_sim import eton
from ark_sim.media import registry
from ark_sim.profiles import tenant_alias
from ark_sim.spec import AccountKey, MediaSpec
from ark_sim.world import World

logger = logging.getLogger(__name__)

# The seed's one rule for every media's tokens.
TOKEN_KEY = "{media}_new_access_token_{tenant}"
REFRESH_KEY = "{media}_refresh_token_{tenant}"


@dataclass(frozen=True, kw_only=True)
class RedisTarget:
    """The Redis the seed's jobs read (every key lives in db 2)."""

    host: str = "127.0.0.1"
    port: int = 6379
    db: int = 2
    password: str = ""

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> RedisTarget:
        """ARK_REDIS_HOST / _PORT / _DB / _PASSWORD, the names the platform reads; defaults otherwise."""
        return cls(
            host=environ.get("ARK_REDIS_HOST", cls.host),
            port=int(environ.get("ARK_REDIS_PORT", cls.port)),
            db=int(environ.get("ARK_REDIS_DB", cls.db)),
            password=environ.get("ARK_REDIS_PASSWORD", cls.password),
        )


@dataclass(frozen=True, kw_only=True)
class MySQLTarget:
    """The MySQL holding the upstream `eton` database."""

    host: str = "127.0.0.1"
    port: int = 3306
    user: str = "ark"
    password: str = "ark"
    eton_database: str = "eton"

    def __post_init__(self) -> None:
        eton.database(self.eton_database)  # refuse a name that is no identifier now, not mid-seed

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> MySQLTarget:
        """ARK_MYSQL_HOST / _PORT / _USER / _PASSWORD / _ETON_DB, the names the platform reads."""
        return cls(
            host=environ.get("ARK_MYSQL_HOST", cls.host),
            port=int(environ.get("ARK_MYSQL_PORT", cls.port)),
            user=environ.get("ARK_MYSQL_USER", cls.user),
            password=environ.get("ARK_MYSQL_PASSWORD", cls.password),
            eton_database=environ.get("ARK_MYSQL_ETON_DB", cls.eton_database),
        )


class TargetUnavailable(ConnectionError):
    """A store the seed writes did not answer; the message names it, host:port and the variables."""

    def __init__(self, service: str, host: str, port: int, reason: object, hint: str) -> None:
        super().__init__(f"{service} at {host}:{port} did not answer ({reason}); check {hint}")


@dataclass
class SeedReport:
    """What `seed_tenant` wrote: eton agent rows per media and the size of every Redis key."""

    tenant: str
    day: date
    agents: dict[str, int] = field(default_factory=dict)
    redis_keys: dict[str, int] = field(default_factory=dict)


def seed_tenant(
    world: World,
    tenant: str,
    day: date,
    *,
    redis: RedisTarget = RedisTarget(),  # noqa: B008  (frozen: one shared default is safe)
    mysql: MySQLTarget = MySQLTarget(),  # noqa: B008
) -> SeedReport:
    """Write the tenant's eton rows (replacing its agents) and Redis keys for `day`."""
    report = SeedReport(tenant_alias(tenant), day)
    _seed_mysql(world, report, mysql)
    _seed_redis(world, report, redis)
    return report


# -- MySQL ------------------------------------------------------------------------------------------


def _seed_mysql(world: World, report: SeedReport, target: MySQLTarget) -> None:
    tenant, name = report.tenant, eton.database(target.eton_database)
    rows = []
    for spec in registry():
        agents = world.agents(spec.name, tenant, active_only=False)
        report.agents[spec.name] = len(agents)
        rows.extend(
            (
                tenant,
                spec.platform_id,
                str(a.agent_id),
                a.name,
                a.level,
                None if a.parent_id is None else str(a.parent_id),
                a.auth_status,
                a.auth_type,
            )
            for a in agents
        )
    platforms = [spec.platform_id for spec in registry()]
    delete = eton.DELETE_AGENTS.format(eton=name, platforms=", ".join(["%s"] * len(platforms)))
    with _mysql(target) as conn, conn.cursor() as cur:
        for statement in eton.schema_statements(name):
            cur.execute(statement)
        # Replace, not merge: a re-seed with another profile must not leave the old agents behind.
        cur.execute(eton.UPSERT_TENANT.format(eton=name), (tenant, f"模拟租户 {tenant}", 1))
        cur.execute(delete, (tenant, *platforms))
        cur.executemany(eton.INSERT_AGENT.format(eton=name), rows)
        conn.commit()
    logger.info("eton: tenant %s and %d agents written", tenant, len(rows))


@contextmanager
def _mysql(target: MySQLTarget) -> Iterator[pymysql.connections.Connection]:
    try:
        conn = pymysql.connect(
            host=target.host,
            port=target.port,
            user=target.user,
            password=target.password,
            charset="utf8mb4",
            connect_timeout=5,
        )
    except pymysql.OperationalError as exc:
        hint = "ARK_MYSQL_HOST/ARK_MYSQL_PORT/ARK_MYSQL_USER/ARK_MYSQL_PASSWORD"
        raise TargetUnavailable("MySQL", target.host, target.port, exc.args[-1], hint) from exc
    try:
        yield conn
    finally:
        conn.close()


# -- Redis ------------------------------------------------------------------------------------------


def _seed_redis(world: World, report: SeedReport, target: RedisTarget) -> None:
    client = redis.Redis(
        host=target.host,
        port=target.port,
        db=target.db,
        password=target.password or None,
        socket_timeout=5,
        socket_connect_timeout=5,
    )
    try:
        for spec in registry():
            _seed_media(world, spec, report, client)
    except (redis.ConnectionError, redis.TimeoutError) as exc:
        hint = "ARK_REDIS_HOST/ARK_REDIS_PORT/ARK_REDIS_PASSWORD"
        raise TargetUnavailable("Redis", target.host, target.port, exc, hint) from exc
    finally:
        client.close()
    logger.info("redis: %d keys written for %s on %s", len(report.redis_keys), report.tenant, report.day)


def _seed_media(world: World, spec: MediaSpec, report: SeedReport, client: redis.Redis) -> None:
    media, tenant, day = spec.name, report.tenant, f"{report.day:%Y%m%d}"
    agents = world.agents(media, tenant)
    tokens = world.initial_tokens(media, tenant)
    key = TOKEN_KEY.format(media=media, tenant=tenant)
    report.redis_keys[key] = _replace(client, key, {tokens[a.agent_id][0]: a.agent_id for a in agents})
    refresh = REFRESH_KEY.format(media=media, tenant=tenant)
    pipe = client.pipeline(transaction=True)
    pipe.delete(refresh)
    if agents:
        pipe.hset(refresh, mapping={str(a.agent_id): tokens[a.agent_id][1] for a in agents})
    pipe.execute()

    for declared in spec.agent_keys:
        key = declared.format.format(tenant=tenant)
        ids = [a.agent_id for a in world.agents(media, tenant, tier=declared.tier)]
        report.redis_keys[key] = _replace(client, key, {str(i): i for i in ids})
    for declared in spec.account_keys:
        if not declared.per_agent:
            key = declared.format.format(tenant=tenant, day=day)
            accounts = world.accounts(media, tenant, tier=declared.tier)
            report.redis_keys[key] = _replace(client, key, {str(a): g for a, g in accounts})
            continue
        written = set()
        for agent in world.agents(media, tenant, tier=declared.tier):
            key = declared.format.format(tenant=tenant, day=day, agent_id=agent.agent_id)
            accounts = world.accounts(media, tenant, agent_id=agent.agent_id)
            report.redis_keys[key] = _replace(client, key, {str(a): g for a, g in accounts})
            written.add(key)
        _drop_stale(client, declared, tenant, day, written)


def _replace(client: redis.Redis, key: str, members: dict[str, int]) -> int:
    """Swap the whole sorted set in one transaction (an empty one leaves no key); its size."""
    pipe = client.pipeline(transaction=True)
    pipe.delete(key)
    if members:
        pipe.zadd(key, members)
    pipe.execute()
    return len(members)


def _drop_stale(client: redis.Redis, declared: AccountKey, tenant: str, day: str, keep: set[str]) -> None:
    """Per-agent account keys name their agent: a re-seed deletes the day's keys of agents now gone.

    (Every other key has a fixed name and is replaced whole.)
    """
    before, after = (part.format(tenant=tenant, day=day) for part in declared.format.split("{agent_id}"))
    exact = re.compile(f"{re.escape(before)}[0-9]+{re.escape(after)}")
    found = [k.decode() for k in client.scan_iter(match=f"{before}*{after}")]
    stale = [k for k in found if exact.fullmatch(k) and k not in keep]
    if stale:
        client.delete(*stale)
        logger.info("redis: deleted %d stale account keys of %s", len(stale), tenant)
