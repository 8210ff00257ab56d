"""What the platform knows about each agent's token pair: when it was issued, when it dies, refusals.

The media say how long a pair lives in every refresh answer (`media/token_life.py`), but the seed's
token keys hold only the tokens. So the refresher (`fetch/tokens.py`) records each answer and each
refused refresh beside them, in a hash of our own per (media, tenant), `ark:token_health:{media}:
{tenant}` (field = agent id, value = JSON), without changing any of the seed's keys. No token is
stored there: a pair is known by a fingerprint (16 hex digits of its refresh token's SHA-256), so a
pair written upstream (a re-authorisation) is noticed and starts a record of its own, whose age is
unknown: it was issued at the latest when the platform first saw it (`seen_at`).

Which state was last alerted per agent is kept apart (`ark:token_alerts:{media}:{tenant}`), so the
sensor that alerts never rewrites what the refresher recorded.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

import redis

from ark_assets.clients.redis_sets import RedisSets
from ark_assets.media.token_life import TokenLife

HEALTH_KEY = "ark:token_health:{media}:{tenant}"
ALERTS_KEY = "ark:token_alerts:{media}:{tenant}"
NO_REFRESH_TOKEN = "none"


def fingerprint(refresh_token: str | None) -> str:
    """A pair's name that is no secret: 16 hex digits of its refresh token's SHA-256."""
    if not refresh_token:
        return NO_REFRESH_TOKEN
    return hashlib.sha256(refresh_token.encode()).hexdigest()[:16]


@dataclass
class TokenRecord:
    """One agent's pair as the platform knows it (times are unix seconds)."""

    pair: str
    seen_at: float
    issued_at: float | None = None  # by the platform's own refresh; None: issued upstream
    access_expires_at: float | None = None
    refresh_expires_at: float | None = None
    refused: dict[str, Any] | None = field(default=None)  # {"at", "code", "kind"} of this pair

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str | bytes) -> TokenRecord:
        return cls(**json.loads(text))


class TokenHealth:
    """The token-health records of every (media, tenant), in the seed's Redis (db 2)."""

    def __init__(self, sets: RedisSets) -> None:
        self._sets = sets

    def _client(self) -> redis.Redis:
        return self._sets.client()

    def records(self, media: str, tenant: str) -> dict[str, TokenRecord]:
        with self._sets.errors():
            raw = self._client().hgetall(HEALTH_KEY.format(media=media, tenant=tenant))
        return {agent.decode(): TokenRecord.from_json(value) for agent, value in raw.items()}

    def refreshed(
        self,
        media: str,
        tenant: str,
        agent_id: str,
        *,
        refresh_token: str,
        answer: Mapping[str, Any],
        life: TokenLife | None,
        renewed: bool,
        now: float,
    ) -> None:
        """A refresh answered. A new refresh token (`renewed`) starts a pair the platform issued
        now, dying when the answer (or the media's documented life) says; an answer without one
        keeps the stored refresh token and what was known of it. The access token's life is the
        answer's either way; a refusal recorded earlier is over."""
        pair = fingerprint(refresh_token)
        known = self.records(media, tenant).get(agent_id)
        if renewed or known is None or known.pair != pair:
            record = TokenRecord(pair=pair, seen_at=now, issued_at=now if renewed else None)
            if renewed and life is not None:
                record.refresh_expires_at = now + (_seconds(answer, life.refresh_field) or life.refresh_s)
        else:
            record = TokenRecord(
                pair=pair,
                seen_at=known.seen_at,
                issued_at=known.issued_at,
                refresh_expires_at=known.refresh_expires_at,
            )
        if life is not None:
            record.access_expires_at = now + (_seconds(answer, life.access_field) or life.access_s)
        self._write(media, tenant, agent_id, record)

    def refused(
        self,
        media: str,
        tenant: str,
        agent_id: str,
        *,
        refresh_token: str | None,
        code: str,
        kind: str,
        now: float,
    ) -> None:
        """A refresh was refused (or could not be tried): kept on the pair's record until a new pair."""
        pair = fingerprint(refresh_token)
        known = self.records(media, tenant).get(agent_id)
        record = known if known is not None and known.pair == pair else TokenRecord(pair=pair, seen_at=now)
        record.refused = {"at": now, "code": str(code), "kind": kind}
        self._write(media, tenant, agent_id, record)

    def observe(
        self, media: str, tenant: str, refresh_tokens: Mapping[str, str | None], now: float
    ) -> dict[str, TokenRecord]:
        """Every agent's record, a new one started for a pair never seen (issued upstream)."""
        records = self.records(media, tenant)
        for agent_id, token in refresh_tokens.items():
            pair = fingerprint(token)
            known = records.get(agent_id)
            if known is None or known.pair != pair:
                fresh = TokenRecord(pair=pair, seen_at=now)
                if self._write_unless_changed(media, tenant, agent_id, known, fresh):
                    records[agent_id] = fresh
        return records

    def alerted(self, media: str, tenant: str) -> dict[str, str]:
        """agent -> the state last alerted (absent: nothing alerted since it was last fine)."""
        with self._sets.errors():
            raw = self._client().hgetall(ALERTS_KEY.format(media=media, tenant=tenant))
        return {agent.decode(): state.decode() for agent, state in raw.items()}

    def mark_alerted(self, media: str, tenant: str, agent_id: str, state: str | None) -> None:
        key = ALERTS_KEY.format(media=media, tenant=tenant)
        with self._sets.errors():
            if state is None:
                self._client().hdel(key, agent_id)
            else:
                self._client().hset(key, agent_id, state)

    def _write(self, media: str, tenant: str, agent_id: str, record: TokenRecord) -> None:
        with self._sets.errors():
            self._client().hset(HEALTH_KEY.format(media=media, tenant=tenant), agent_id, record.to_json())

    def _write_unless_changed(
        self, media: str, tenant: str, agent_id: str, known: TokenRecord | None, fresh: TokenRecord
    ) -> bool:
        """Write `fresh` unless the refresher wrote the agent's record since we read `known`."""
        key = HEALTH_KEY.format(media=media, tenant=tenant)
        with self._sets.errors(), self._client().pipeline(transaction=True) as pipe:
            try:
                pipe.watch(key)
                current = pipe.hget(key, agent_id)
                if (current.decode() if current else None) != (known.to_json() if known else None):
                    return False
                pipe.multi()
                pipe.hset(key, agent_id, fresh.to_json())
                pipe.execute()
                return True
            except redis.WatchError:
                return False


def _seconds(answer: Mapping[str, Any], name: str | None) -> int | None:
    value = answer.get(name) if name else None
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None
