"""A spent daily quota: the endpoint stops for the app until midnight GMT+8, in every process.

The first daily-quota code marks (app, endpoint) spent in Redis until the media's day ends and
alerts once; every later source of the endpoint fails at once, without a call, in this run and in
any other run using the app that day.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import redis.asyncio as aioredis

from ark_assets.core.days import GMT8
from ark_assets.fetch.report import StreamReport
from ark_assets.media import errors as e


class DailyQuotas:
    """Which endpoints of one (media, app) have spent today's quota."""

    def __init__(self, client: aioredis.Redis, *, media: str, app_id: str, tenant: str) -> None:
        self._client = client
        self._media = media
        self._app_id = app_id
        self._tenant = tenant
        self._spent: set[str] = set()

    def _key(self, endpoint: str) -> str:
        day = datetime.now(GMT8).strftime("%Y%m%d")
        return f"ark:quota_exhausted:{self._media}:{self._app_id}:{endpoint}:{day}"

    async def load(self, endpoint: str) -> None:
        """Learn whether another run spent `endpoint`'s quota today."""
        if await self._client.exists(self._key(endpoint)):
            self._spent.add(endpoint)

    def check(self, endpoint: str) -> None:
        """Raise DailyQuotaExhausted when `endpoint`'s quota is spent for today."""
        if endpoint in self._spent:
            raise e.DailyQuotaExhausted(
                self._media, "exhausted", "daily quota already spent today", endpoint=endpoint
            )

    async def spent(self, endpoint: str, exc: e.MediaApiError, report: StreamReport) -> None:
        """The media answered a daily-quota code: mark the endpoint until midnight and alert (once)."""
        if endpoint in self._spent:
            return
        self._spent.add(endpoint)
        now = datetime.now(GMT8)
        midnight = (now + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
        ttl = int((midnight - now).total_seconds()) + 1
        await self._client.set(self._key(endpoint), str(exc.code), ex=ttl)
        report.alert(
            self._media,
            f"daily quota of {self._media} {endpoint} is exhausted (code {exc.code}); "
            f"the remaining sources of tenant {self._tenant} fail until midnight GMT+8",
        )
