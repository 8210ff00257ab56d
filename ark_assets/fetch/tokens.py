"""An agent's access token, and the one refresh allowed when it stops working.

Refreshing rotates the access/refresh pair and kills the old one, so two processes refreshing
the same agent at once would lock each other out. The refresher therefore holds a Redis lock per
(media, tenant, agent); whoever waits on the lock re-reads the token afterwards and uses the new
one instead of refreshing again. An answer with a new access token but no refresh token (Tencent's
`refresh_token` is optional in its answer) keeps the stored refresh token: it is still the
agent's, and losing the agent for the run over a field the media may omit would be wrong.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Mapping
from typing import Any

import aiohttp
import redis.asyncio as aioredis
from redis.exceptions import LockError, RedisError

from ark_assets.clients.errors import ServiceUnavailable
from ark_assets.clients.redis_sets import RedisSets
from ark_assets.clients.token_health import TokenHealth
from ark_assets.media.api import ApiSpec
from ark_assets.media.errors import RefreshFailed

logger = logging.getLogger(__name__)

LOCK_TIMEOUT_S = 30.0  # a refresher that dies frees the lock after this long
LOCK_WAIT_S = 60.0


class TokenBook:
    """Access tokens of one tenant's agents for one media, loaded from the seed's token set."""

    def __init__(
        self,
        spec: ApiSpec,
        tenant: str,
        *,
        store: RedisSets,
        client: aioredis.Redis,
        session: aiohttp.ClientSession,
        base_url: str,
        app_id: str,
        app_secret: str,
    ) -> None:
        self._spec = spec
        self._tenant = tenant
        self._store = store
        self._client = client
        self._session = session
        self._base_url = base_url
        self._app = (app_id, app_secret)
        self._tokens: dict[str, str] = {}
        self._refused: dict[str, RefreshFailed] = {}  # agents whose refresh failed in this run
        self._health = TokenHealth(store)  # what the token-health sensor reads (clients/token_health.py)
        self.refreshes = 0

    async def load(self) -> Mapping[str, str]:
        """Read `{media}_new_access_token_{tenant}` (agent id -> token)."""
        self._tokens = await asyncio.to_thread(self._store.tokens, self._spec.media, self._tenant)
        return self._tokens

    def token(self, agent_id: str) -> str | None:
        return self._tokens.get(agent_id)

    async def refresh(self, agent_id: str, stale_token: str) -> str:
        """A working token for `agent_id` after `stale_token` was refused; raises RefreshFailed.

        At most one refresh per agent per run: once refused, later callers get the same failure.
        """
        if agent_id in self._refused:
            raise self._refused[agent_id]
        lock = self._client.lock(
            f"ark:lock:token:{self._spec.media}:{self._tenant}:{agent_id}",
            timeout=LOCK_TIMEOUT_S,
            blocking_timeout=LOCK_WAIT_S,
        )
        try:
            async with lock:
                if agent_id in self._refused:  # refused while we waited for the lock
                    raise self._refused[agent_id]
                current = (await self.load()).get(agent_id)
                if current and current != stale_token:
                    return current  # another process (or task) refreshed it while we waited
                try:
                    return await self._rotate(agent_id)
                except RefreshFailed as exc:
                    self._refused[agent_id] = exc
                    await self._noted(self._note_refusal, agent_id, exc)
                    raise
        except LockError as exc:
            raise self._failed(agent_id, "lock", f"could not take the refresh lock: {exc}") from exc

    async def _rotate(self, agent_id: str) -> str:
        refresh_token = await asyncio.to_thread(
            self._store.refresh_token, self._spec.media, self._tenant, agent_id
        )
        if not refresh_token:
            raise self._failed(agent_id, "no_refresh_token", "no refresh token is stored for this agent")
        spec = self._spec.refresh
        try:
            payload = spec.build(*self._app, refresh_token)
        except ValueError as exc:  # the app id cannot be typed as the media wants it
            raise self._failed(agent_id, "app_id", f"the refresh call cannot be built: {exc}") from exc
        url = self._base_url + spec.path
        kwargs = {"params": payload} if spec.method == "GET" else {"json": payload}
        try:
            async with self._session.request(
                spec.method, url, timeout=aiohttp.ClientTimeout(total=30), **kwargs
            ) as r:
                body = await r.json(content_type=None)
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            raise self._failed(agent_id, "transport", f"refresh call failed: {type(exc).__name__}") from exc
        code = body.get(self._spec.code_key) if isinstance(body, dict) else None
        data = body.get("data") if isinstance(body, dict) else None
        access = data.get("access_token") if isinstance(data, dict) else None
        if code != 0 or not isinstance(access, str) or not access:
            message = body.get(self._spec.message_key, "") if isinstance(body, dict) else "malformed body"
            raise self._failed(
                agent_id, code if code is not None else "malformed", f"refresh refused: {message}"
            )
        renewed = data.get("refresh_token")
        kept = not (isinstance(renewed, str) and renewed)
        await asyncio.to_thread(
            self._store.rotate_tokens,
            self._spec.media,
            self._tenant,
            agent_id,
            access_token=access,
            refresh_token=refresh_token if kept else renewed,
        )
        self._tokens[agent_id] = access
        self.refreshes += 1
        await self._noted(self._note_refresh, agent_id, refresh_token if kept else renewed, data, not kept)
        logger.info(
            "refreshed the %s token of agent %s (tenant %s)%s",
            self._spec.media,
            agent_id,
            self._tenant,
            "; the answer had no new refresh token, the stored one is kept" if kept else "",
        )
        return access

    async def _noted(self, note: Callable[..., None], *args: Any) -> None:
        """Record a refresh's answer or refusal for the token-health sensor; never fails the fetch."""
        try:
            await asyncio.to_thread(note, *args)
        except (ServiceUnavailable, RedisError, ValueError) as exc:
            logger.warning("token health of a %s agent not recorded: %s", self._spec.media, exc)

    def _note_refresh(
        self, agent_id: str, refresh_token: str, answer: Mapping[str, Any], renewed: bool
    ) -> None:
        self._health.refreshed(
            str(self._spec.media),
            self._tenant,
            agent_id,
            refresh_token=refresh_token,
            answer=answer,
            life=self._spec.refresh.life,
            renewed=renewed,
            now=time.time(),
        )

    def _note_refusal(self, agent_id: str, exc: RefreshFailed) -> None:
        media = str(self._spec.media)
        self._health.refused(
            media,
            self._tenant,
            agent_id,
            refresh_token=self._store.refresh_token(media, self._tenant, agent_id),
            code=str(exc.code),
            kind=type(exc).__name__,
            now=time.time(),
        )

    def _failed(self, agent_id: str, code: int | str, message: str) -> RefreshFailed:
        return RefreshFailed(
            str(self._spec.media), code, f"agent {agent_id}: {message}", endpoint="token refresh"
        )
