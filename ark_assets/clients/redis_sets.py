"""Tokens, agents and account lists in Redis db 2, typed and validated at the boundary (no Dagster).

The legacy jobs share these sorted sets, so what we write must look exactly like theirs and what we
read is checked before any job trusts it: a score that is not an exact agent id, or a member that
is not an id, stops the run with a `CorruptRedisKey` naming the key instead of silently sending
requests with the wrong token.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date

import redis
from redis.backoff import ExponentialWithJitterBackoff
from redis.retry import Retry

from ark_assets.clients import redis_keys
from ark_assets.clients.errors import ServiceUnavailable
from ark_assets.core.redact import remember_secret
from ark_assets.core.tiers import AgentTier
from ark_assets.media.declare import MediaDefinition
from ark_assets.media.registry import media as media_named

# Scores are IEEE doubles: above 2**53 neighbouring integers collapse, so an agent id would be
# silently rounded to another agent's id.
MAX_EXACT_SCORE = 2**53
# Ride out a blip (a restart, a dropped socket) for under a second, then fail with
# ServiceUnavailable rather than redis-py's default of ten retries. Retrying is safe: every write
# is a whole-key replacement.
_RETRY = Retry(ExponentialWithJitterBackoff(base=0.05, cap=0.5), retries=3)


class CorruptRedisKey(ValueError):
    """A sorted set holds a member or score that cannot be what the seed's format says it is."""

    def __init__(self, key: str, member: str, problem: str) -> None:
        self.key = key
        self.member = member
        super().__init__(f"Redis key {key!r} is corrupt: member {member} {problem}")


@dataclass
class RedisSets:
    """The seed's Redis (db 2): access tokens, agent lists and daily account lists per tenant.

    Plain Python, so the fetch engine can use it without importing Dagster (a third of a fetch
    process's memory); `RedisResource` is the Dagster face of the same object. Every writer
    replaces its key in one MULTI/EXEC transaction, so a concurrent reader sees the old list or
    the new one, never half of either.
    """

    host: str = "127.0.0.1"
    port: int = 6379
    db: int = 2
    password: str = ""
    socket_timeout: float = 5.0
    _client: redis.Redis | None = field(default=None, repr=False, compare=False)

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    # -- tokens -----------------------------------------------------------------------------------

    def write_tokens(
        self, media: MediaDefinition | str, tenant: str, tokens: Mapping[int | str, str]
    ) -> None:
        """Replace the tenant's token set for `media`.

        Args:
            tokens: agent id -> access token. Each token must be unique: the token is the member,
                so two agents sharing one would leave only one of them in Redis.
        """
        key = redis_keys.token_key(media, tenant)
        members: dict[str, int] = {}
        for agent_id, token in tokens.items():
            score = _agent_score(agent_id)
            if not isinstance(token, str) or not token:
                raise ValueError(f"agent {score}: access token must be a non-empty string")
            if token in members:
                raise ValueError(f"agents {members[token]} and {score} share one access token in {key!r}")
            members[token] = score
        self._replace(key, members)

    def tokens(self, media: MediaDefinition | str, tenant: str) -> dict[str, str]:
        """agent id -> access token for the tenant's `media` agents (the seed's token map).

        Each token is registered with `redact.remember_secret`, so it is scrubbed from every log,
        event and alert afterwards.
        """
        key = redis_keys.token_key(media, tenant)
        result: dict[str, str] = {}
        for raw, score in self._zrange(key):
            agent_id = _agent_id_from_score(key, "(an access token, not shown)", score)
            token = _decode(key, raw, shown=False)
            if not token:
                raise CorruptRedisKey(key, f"of agent {agent_id}", "is an empty access token")
            if agent_id in result:
                raise CorruptRedisKey(key, f"of agent {agent_id}", "is a second access token for one agent")
            remember_secret(token)
            result[agent_id] = token
        return result

    def write_refresh_tokens(
        self, media: MediaDefinition | str, tenant: str, tokens: Mapping[int | str, str]
    ) -> None:
        """Replace the tenant's refresh tokens for `media` (agent id -> refresh token)."""
        key = redis_keys.refresh_token_key(media, tenant)
        fields = {str(_agent_score(agent_id)): token for agent_id, token in tokens.items()}
        if any(not isinstance(token, str) or not token for token in fields.values()):
            raise ValueError(f"refresh tokens for {key!r} must be non-empty strings")
        with self._errors():
            pipe = self._redis().pipeline(transaction=True)
            pipe.delete(key)
            if fields:
                pipe.hset(key, mapping=fields)
            pipe.execute()

    def refresh_token(self, media: MediaDefinition | str, tenant: str, agent_id: int | str) -> str | None:
        """The agent's refresh token, or None when none is stored."""
        key = redis_keys.refresh_token_key(media, tenant)
        with self._errors():
            raw = self._redis().hget(key, str(_agent_score(agent_id)))
        if raw is None:
            return None
        token = _decode(key, raw, shown=False)
        remember_secret(token)
        return token

    def refresh_tokens(self, media: MediaDefinition | str, tenant: str) -> dict[str, str]:
        """agent id -> refresh token, every agent of the tenant's `media` (each remembered as a secret)."""
        key = redis_keys.refresh_token_key(media, tenant)
        with self._errors():
            raw = self._redis().hgetall(key)
        tokens = {_decode(key, agent): _decode(key, token, shown=False) for agent, token in raw.items()}
        for token in tokens.values():
            remember_secret(token)
        return tokens

    def rotate_tokens(
        self,
        media: MediaDefinition | str,
        tenant: str,
        agent_id: int | str,
        *,
        access_token: str,
        refresh_token: str,
    ) -> None:
        """Store an agent's new access/refresh pair in one transaction (the old pair is dead)."""
        score = _agent_score(agent_id)
        if not access_token or not refresh_token:
            raise ValueError(f"agent {score}: a rotated token pair must hold two non-empty tokens")
        remember_secret(access_token)
        remember_secret(refresh_token)
        with self._errors():
            pipe = self._redis().pipeline(transaction=True)
            pipe.zremrangebyscore(redis_keys.token_key(media, tenant), score, score)
            pipe.zadd(redis_keys.token_key(media, tenant), {access_token: score})
            pipe.hset(redis_keys.refresh_token_key(media, tenant), str(score), refresh_token)
            pipe.execute()

    # -- agents -----------------------------------------------------------------------------------

    def write_agents(
        self,
        media: MediaDefinition | str,
        tenant: str,
        agent_ids: Iterable[int | str],
        *,
        tier: AgentTier | None = None,
    ) -> None:
        """Replace an agent key (a tiered media: `tier` None for all agents, or FIRST / SECOND)."""
        key = redis_keys.agents_key(media, tenant, tier)
        self._replace(key, {str(score): score for score in map(_agent_score, agent_ids)})

    def agents(
        self, media: MediaDefinition | str, tenant: str, *, tier: AgentTier | None = None
    ) -> list[str]:
        """The agent ids in an agent key, in score order."""
        key = redis_keys.agents_key(media, tenant, tier)
        result = []
        for raw, score in self._zrange(key):
            member = _decode(key, raw)
            agent_id = _agent_id_from_score(key, repr(member), score)
            if member != agent_id:
                raise CorruptRedisKey(key, repr(member), f"differs from its score {agent_id} (the agent id)")
            result.append(agent_id)
        return result

    # -- accounts ---------------------------------------------------------------------------------

    def write_accounts(
        self,
        media: MediaDefinition | str,
        tenant: str,
        day: date,
        accounts: Mapping[int | str, int | str],
        *,
        tier: AgentTier | None = None,
        agent_id: int | str | None = None,
    ) -> None:
        """Replace a day's account key (see `redis_keys.accounts_key` for `tier` and `agent_id`).

        Args:
            accounts: account id -> agent id.
        """
        key = redis_keys.accounts_key(media, tenant, day, tier=tier, agent_id=agent_id)
        self._replace(
            key,
            {redis_keys.account_id_text(account): _agent_score(agent) for account, agent in accounts.items()},
        )

    def accounts(
        self,
        media: MediaDefinition | str,
        tenant: str,
        day: date,
        *,
        tier: AgentTier | None = None,
        agent_id: int | str | None = None,
    ) -> dict[str, str]:
        """account id -> agent id for a day's account key, in agent order."""
        key = redis_keys.accounts_key(media, tenant, day, tier=tier, agent_id=agent_id)
        result = {}
        for raw, score in self._zrange(key):
            account = _account(key, raw)
            result[account] = _agent_id_from_score(key, repr(account), score)
        return result

    def accounts_of_agent(
        self,
        media: MediaDefinition | str,
        tenant: str,
        day: date,
        agent_id: int | str,
        *,
        tier: AgentTier | None = None,
    ) -> list[str]:
        """One agent's account ids: `ZRANGEBYSCORE key agent agent`, the seed's source-list lookup."""
        key_agent = agent_id if media_named(media).redis.per_agent(tier) else None
        key = redis_keys.accounts_key(media, tenant, day, tier=tier, agent_id=key_agent)
        score = _agent_score(agent_id)
        with self._errors():
            raws = self._redis().zrangebyscore(key, score, score)
        return [_account(key, raw) for raw in raws]

    def members(self, key: str) -> set[str]:
        """A plain set's members (the platform's own keys, e.g. which accounts reported where)."""
        with self._errors():
            return {_decode(key, raw) for raw in self._redis().smembers(key)}

    def update_members(self, key: str, *, add: set[str], remove: set[str]) -> None:
        """Add and remove members of a plain set in one round trip."""
        if not add and not remove:
            return
        with self._errors():
            pipe = self._redis().pipeline()
            if add:
                pipe.sadd(key, *sorted(add))
            if remove:
                pipe.srem(key, *sorted(remove))
            pipe.execute()

    def client(self) -> redis.Redis:
        """This process's client, for a neighbour that keeps keys of its own beside the seed's
        (`token_health.py`); wrap calls in `errors()`."""
        return self._redis()

    def errors(self):  # noqa: ANN201 -- a context manager
        """Connection failures as `ServiceUnavailable` naming host:port and the variables."""
        return self._errors()

    def keys_matching(self, pattern: str) -> list[str]:
        """The keys matching a glob `pattern` (SCAN, never KEYS: the seed's Redis is shared)."""
        with self._errors():
            return sorted(k.decode() for k in self._redis().scan_iter(match=pattern, count=1000))

    # -- announcements ----------------------------------------------------------------------------

    def publish(self, channel: str, message: str) -> int:
        """PUBLISH `message` on `channel` (the seed's `redis_channel`); returns how many listened."""
        with self._errors():
            return self._redis().publish(channel, message)

    # -- plumbing ---------------------------------------------------------------------------------

    def _redis(self) -> redis.Redis:
        """This process's client, created on first use (redis-py pools and reconnects itself)."""
        if self._client is None:
            self._client = redis.Redis(
                host=self.host,
                port=self.port,
                db=self.db,
                password=self.password or None,
                socket_timeout=self.socket_timeout,
                socket_connect_timeout=self.socket_timeout,
                retry=_RETRY,
            )
        return self._client

    @contextmanager
    def _errors(self) -> Iterator[None]:
        """Turn connection failures (after `_RETRY`) into `ServiceUnavailable` naming host:port."""
        try:
            yield
        except (redis.ConnectionError, redis.TimeoutError) as exc:
            raise ServiceUnavailable(
                "Redis", self.host, self.port, str(exc), "ARK_REDIS_HOST/ARK_REDIS_PORT"
            ) from exc

    def _zrange(self, key: str) -> list[tuple[bytes, float]]:
        with self._errors():
            try:
                return self._redis().zrange(key, 0, -1, withscores=True)
            except redis.ResponseError as exc:  # redis-py's text names no key
                if "WRONGTYPE" not in str(exc):
                    raise
                kind = self._redis().type(key).decode()
                raise CorruptRedisKey(key, "(the key itself)", f"is a {kind}, not a sorted set") from None

    def _replace(self, key: str, members: dict[str, int]) -> None:
        """Swap the whole sorted set in one transaction; an empty mapping leaves no key."""
        with self._errors():
            pipe = self._redis().pipeline(transaction=True)
            pipe.delete(key)
            if members:
                pipe.zadd(key, members)
            pipe.execute()


def _agent_score(agent_id: int | str) -> int:
    """The agent id as a score, refusing ids a double cannot hold exactly."""
    score = int(redis_keys.agent_id_text(agent_id))
    if score >= MAX_EXACT_SCORE:
        raise ValueError(
            f"agent id {agent_id!r} is not below 2**53: Redis scores are doubles and would round it"
        )
    return score


def _agent_id_from_score(key: str, member: str, score: float) -> str:
    if not (score.is_integer() and 0 <= score < MAX_EXACT_SCORE):
        raise CorruptRedisKey(key, member, f"has score {score!r}, which is not an agent id")
    return str(int(score))


def _decode(key: str, raw: bytes, *, shown: bool = True) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise CorruptRedisKey(key, repr(raw) if shown else "(not shown)", "is not UTF-8 text") from None


def _account(key: str, raw: bytes) -> str:
    account = _decode(key, raw)
    try:
        return redis_keys.account_id_text(account)
    except ValueError:
        raise CorruptRedisKey(key, repr(account), "is not an account id (digits)") from None
