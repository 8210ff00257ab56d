"""One agent's token state, from what Redis holds and what the refresher recorded (no Dagster).

States, worst first: `no_token` (no access token in Redis), `refused` (the last refresh of this pair
was refused: re-authorise upstream), `refresh_expired`, `no_refresh_token`, `refresh_expiring`
(within `ARK_TOKEN_WARN_DAYS`), `access_expired` (the next run refreshes it once: reported, never
alerted, since access tokens live a day), `ok`. A pair issued upstream has an unknown age: it dies
at the latest a refresh token's documented life after the platform first saw it, and that latest
date is what it is judged by (said so in the detail) until the platform's own refresh learns it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from ark_assets.clients.token_health import TokenRecord
from ark_assets.core.days import GMT8
from ark_assets.media.token_life import TokenLife

DAY_S = 86_400
ORDER = (
    "no_token",
    "refused",
    "refresh_expired",
    "no_refresh_token",
    "refresh_expiring",
    "access_expired",
    "ok",
)
ERRORS = frozenset(ORDER[:4])
ALERTED = frozenset(ORDER[:5])  # one alert per agent on entering each of these


@dataclass(frozen=True)
class AgentToken:
    """An agent's token state and the numbers behind it."""

    agent_id: str
    state: str
    detail: str
    refresh_expires_at: float | None = None
    refresh_expiry_known: bool = False
    access_expires_at: float | None = None


def when(ts: float | None) -> str:
    return "unknown" if ts is None else datetime.fromtimestamp(ts, GMT8).strftime("%Y-%m-%d %H:%M GMT+8")


def _refresh_expiry(record: TokenRecord, life: TokenLife | None) -> tuple[float | None, bool]:
    """(when the refresh token dies, whether that is known or only its latest possible date)."""
    if record.refresh_expires_at is not None:
        return record.refresh_expires_at, True
    if life is None:
        return None, False
    return record.seen_at + life.refresh_s, False


def assess(
    agent_id: str,
    record: TokenRecord | None,
    *,
    has_token: bool,
    has_refresh_token: bool,
    life: TokenLife | None,
    now: float,
    warn_days: float,
) -> AgentToken:
    """The agent's state as of `now` (unix seconds)."""
    if not has_token:
        return AgentToken(agent_id, "no_token", "no access token in Redis: its accounts fail")
    if record is not None and record.refused:
        refused = record.refused
        return AgentToken(
            agent_id,
            "refused",
            f"its token refresh was refused ({refused['kind']} {refused['code']}, {when(refused['at'])}): "
            "re-authorise the agent upstream",
        )
    if not has_refresh_token:
        return AgentToken(
            agent_id,
            "no_refresh_token",
            "no refresh token stored: once its access token expires, its accounts fail",
        )
    expires, known = _refresh_expiry(record, life) if record is not None else (None, False)
    access = record.access_expires_at if record is not None else None
    latest = "" if known else " at the latest (issued upstream; age unknown)"
    base = dict(refresh_expires_at=expires, refresh_expiry_known=known, access_expires_at=access)
    if expires is not None and expires <= now:
        return AgentToken(agent_id, "refresh_expired", f"its refresh token expired {when(expires)}", **base)
    if expires is not None and expires - now <= warn_days * DAY_S:
        days = (expires - now) / DAY_S
        return AgentToken(
            agent_id,
            "refresh_expiring",
            f"its refresh token expires in {days:.1f} days, {when(expires)}{latest}",
            **base,
        )
    if access is not None and access <= now:
        return AgentToken(
            agent_id,
            "access_expired",
            f"access token expired {when(access)}: the next run refreshes it",
            **base,
        )
    return AgentToken(agent_id, "ok", f"refresh token valid until {when(expires)}{latest}", **base)
