"""Access/refresh tokens: deterministic initial pairs, and the live state (expiry, rotation).

A token is `<mac><tenant as hex>`: the mac (24 hex digits of blake2b over seed, media, tenant,
agent, kind and generation) makes it unguessable and deterministic, so `ark-sim seed` (which writes
the initial pairs to Redis) and `ark-sim serve` (which accepts them) agree without talking; the
tenant suffix lets the server load a tenant's world the first time one of its tokens arrives. The
platform treats tokens as opaque strings, as it must with the real media.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from enum import Enum

_MAC_HEX = 24
_MAX_TENANT_HEX = 64


def mint_token(seed: int, media: str, tenant: str, agent_id: int, kind: str, generation: int) -> str:
    """The token of one agent's `kind` ("access" / "refresh") at a rotation `generation` (0 = initial)."""
    text = f"{seed}\x1f{media}\x1f{tenant}\x1f{agent_id}\x1f{kind}\x1f{generation}".encode()
    mac = hashlib.blake2b(text, digest_size=_MAC_HEX // 2, person=b"ark-sim-token").hexdigest()
    return mac + tenant.encode("ascii").hex()


def tenant_of_token(token: str) -> str | None:
    """The tenant alias a token was minted for, or None when it is not one of ours."""
    tail = token[_MAC_HEX:]
    if not tail or len(tail) > _MAX_TENANT_HEX or len(tail) % 2:
        return None
    try:
        alias = bytes.fromhex(tail).decode("ascii")
    except ValueError:
        return None
    return alias if alias.isascii() and alias.isalnum() else None


class TokenState(Enum):
    OK = "ok"
    UNKNOWN = "unknown"
    EXPIRED = "expired"


@dataclass(frozen=True)
class Grant:
    """One agent's live token pair."""

    media: str
    tenant: str
    agent_id: int
    access_token: str
    refresh_token: str
    access_expires_at: float
    refresh_expires_at: float
    generation: int


class TokenStore:
    """The server's token state: lookups, forced expiry and refresh with rotation (thread-safe).

    Rotation is the vendors' documented behaviour of the media we model: a refresh issues a
    new pair and both old tokens stop working at once.
    """

    def __init__(
        self, seed: int, ttls: dict[str, tuple[float, float]], clock: Callable[[], float] = time.time
    ) -> None:
        self._seed = seed
        self._ttls = ttls
        self._clock = clock
        self._lock = threading.Lock()
        self._grants: dict[tuple[str, str, int], Grant] = {}
        self._access: dict[tuple[str, str], tuple[str, str, int]] = {}
        self._refresh: dict[tuple[str, str], tuple[str, str, int]] = {}

    def register(self, media: str, tenant: str, agent_ids: list[int]) -> None:
        """Issue the initial (generation 0) pair of each agent that has no live pair yet."""
        now = self._clock()
        with self._lock:
            for agent_id in agent_ids:
                if (media, tenant, agent_id) not in self._grants:
                    self._store(self._issue(media, tenant, agent_id, 0, now))

    def check_access(self, media: str, token: str) -> tuple[TokenState, Grant | None]:
        with self._lock:
            key = self._access.get((media, token))
            grant = None if key is None else self._grants[key]
        if grant is None:
            return TokenState.UNKNOWN, None
        if self._clock() >= grant.access_expires_at:
            return TokenState.EXPIRED, grant
        return TokenState.OK, grant

    def knows_refresh(self, media: str, token: str) -> bool:
        with self._lock:
            return (media, token) in self._refresh

    def refresh(
        self, media: str, refresh_token: str, *, rotate_refresh: bool = True
    ) -> tuple[TokenState, Grant | None]:
        """Rotate the pair owning `refresh_token`; returns the new grant when the token was live.

        Without `rotate_refresh` only the access token is new: the refresh token stays valid.
        """
        now = self._clock()
        with self._lock:
            key = self._refresh.get((media, refresh_token))
            if key is None:
                return TokenState.UNKNOWN, None
            old = self._grants[key]
            if now >= old.refresh_expires_at:
                return TokenState.EXPIRED, old
            del self._access[(media, old.access_token)]
            del self._refresh[(media, old.refresh_token)]
            new = self._issue(media, old.tenant, old.agent_id, old.generation + 1, now)
            if not rotate_refresh:
                new = replace(new, refresh_token=old.refresh_token, refresh_expires_at=old.refresh_expires_at)
            self._store(new)
            return TokenState.OK, new

    def expire(self, media: str, tenant: str, agent_id: int | None = None, *, refresh: bool = False) -> int:
        """Force the access tokens (and refresh tokens too when `refresh`) of agents to be expired."""
        past = self._clock() - 1
        count = 0
        with self._lock:
            for key, grant in list(self._grants.items()):
                if key[0] == media and key[1] == tenant and agent_id in (None, key[2]):
                    changes = {"access_expires_at": past}
                    if refresh:
                        changes["refresh_expires_at"] = past
                    self._grants[key] = replace(grant, **changes)
                    count += 1
        return count

    def grant(self, media: str, tenant: str, agent_id: int) -> Grant | None:
        """The agent's live pair (None when its tenant is not loaded yet)."""
        with self._lock:
            return self._grants.get((media, tenant, agent_id))

    def clear(self) -> None:
        with self._lock:
            self._grants.clear()
            self._access.clear()
            self._refresh.clear()

    def _issue(self, media: str, tenant: str, agent_id: int, generation: int, now: float) -> Grant:
        access_ttl, refresh_ttl = self._ttls[media]
        return Grant(
            media=media,
            tenant=tenant,
            agent_id=agent_id,
            access_token=mint_token(self._seed, media, tenant, agent_id, "access", generation),
            refresh_token=mint_token(self._seed, media, tenant, agent_id, "refresh", generation),
            access_expires_at=now + access_ttl,
            refresh_expires_at=now + refresh_ttl,
            generation=generation,
        )

    def _store(self, grant: Grant) -> None:
        key = (grant.media, grant.tenant, grant.agent_id)
        self._grants[key] = grant
        self._access[(grant.media, grant.access_token)] = key
        self._refresh[(grant.media, grant.refresh_token)] = key
