"""The seed's Redis key formats (db 2), built here and nowhere else.

Every key is a sorted set. The legacy jobs still read and write these keys, so the formats must
match them byte for byte, including their inconsistencies (`weixin_agents_` but `wx_advertiser_`,
`v1.1` for gdt accounts, the agent id inside wx account keys only).
"""

from __future__ import annotations

import re
from datetime import date, datetime
from enum import StrEnum

from ark_assets.media import Media

_TENANT = re.compile(r"[A-Za-z0-9]+")
_DIGITS = re.compile(r"[0-9]+")
# An agent id is also a sorted-set score, so it has exactly one spelling: no leading zeros.
_AGENT_ID = re.compile(r"0|[1-9][0-9]*")


class AgentTier(StrEnum):
    """A jrtt agent's tier: first tier (一代) or second tier (二代); gdt and wx have no tiers."""

    FIRST = "first"
    SECOND = "second"


# jrtt keeps all agents in one key and each tier in its own; tier None means "all agents".
_JRTT_AGENT_PREFIXES: dict[AgentTier | None, str] = {
    None: "jrtt_agents_v2",
    AgentTier.FIRST: "jrtt_one_agents_v2",
    AgentTier.SECOND: "jrtt_child_agents_v2",
}
# jrtt account lists exist per tier only.
_JRTT_ACCOUNT_PREFIXES: dict[AgentTier | None, str] = {
    AgentTier.FIRST: "jrtt_accounts_v2",
    AgentTier.SECOND: "jrtt_child_advertiser_v2",
}


def tenant_alias(tenant: str) -> str:
    """`tenant` when it is letters and digits only (e.g. T100117), else a ValueError naming it."""
    if not isinstance(tenant, str) or not _TENANT.fullmatch(tenant):
        raise ValueError(f"tenant alias {tenant!r} must be ASCII letters and digits only, like 'T100117'")
    return tenant


def agent_id_text(agent_id: int | str) -> str:
    """The agent id as decimal digits without leading zeros, else a ValueError naming it."""
    text = _id_text(agent_id)
    if text is None or not _AGENT_ID.fullmatch(text):
        raise ValueError(f"agent id {agent_id!r} must be digits without a leading zero, like 1050262")
    return text


def account_id_text(account_id: int | str) -> str:
    """The account id as digits, verbatim (they are opaque ids), else a ValueError naming it."""
    text = _id_text(account_id)
    if text is None or not _DIGITS.fullmatch(text):
        raise ValueError(f"account id {account_id!r} must be digits, like '1664757665615880'")
    return text


def day_text(day: date) -> str:
    """`day` as yyyymmdd; a datetime is refused because its calendar day depends on a time zone."""
    if not isinstance(day, date) or isinstance(day, datetime):
        raise ValueError(f"date {day!r} must be a datetime.date, like date(2020, 5, 20)")
    return day.strftime("%Y%m%d")


def token_key(media: Media | str, tenant: str) -> str:
    """`{media}_new_access_token_{tenant}`: member = access token, score = agent id."""
    return f"{Media.parse(media)}_new_access_token_{tenant_alias(tenant)}"


def refresh_token_key(media: Media | str, tenant: str) -> str:
    """`{media}_refresh_token_{tenant}`: a hash, field = agent id, value = refresh token.

    Not one of the seed's keys (its scripts never refreshed tokens); it sits beside the seed's
    token set so that one refresher can rotate an agent's access/refresh pair in one transaction.
    """
    return f"{Media.parse(media)}_refresh_token_{tenant_alias(tenant)}"


def agents_key(media: Media | str, tenant: str, tier: AgentTier | None = None) -> str:
    """A media's agent key: member = agent id, score = agent id.

    jrtt has three: all agents (`tier=None`), first tier and second tier; gdt and wx take no tier.
    """
    media = Media.parse(media)
    tenant = tenant_alias(tenant)
    if media is Media.JRTT:
        prefix = _jrtt_prefix(tier, _JRTT_AGENT_PREFIXES, "agent")
        return f"{prefix}_{tenant}"
    _refuse_tier(media, tier)
    return f"{'gdt_agents_v2' if media is Media.GDT else 'weixin_agents'}_{tenant}"


def accounts_key(
    media: Media | str,
    tenant: str,
    day: date,
    *,
    tier: AgentTier | None = None,
    agent_id: int | str | None = None,
) -> str:
    """A day's account key: member = account id, score = agent id.

    jrtt needs the tier (first and second tier accounts live apart); wx needs the agent id, which
    is part of its key; gdt needs neither.
    """
    media = Media.parse(media)
    tenant = tenant_alias(tenant)
    yyyymmdd = day_text(day)
    if media is not Media.WX and agent_id is not None:
        raise ValueError(f"{media} account keys hold every agent of a tenant: do not pass agent_id")
    if media is Media.GDT:
        _refuse_tier(media, tier)
        return f"gdt_advertiser_v1.1_{tenant}_{yyyymmdd}"
    if media is Media.JRTT:
        prefix = _jrtt_prefix(tier, _JRTT_ACCOUNT_PREFIXES, "account")
        return f"{prefix}_{tenant}_{yyyymmdd}"
    _refuse_tier(media, tier)
    if agent_id is None:
        raise ValueError("wx account keys are per agent: pass agent_id")
    return f"wx_advertiser_{tenant}_{agent_id_text(agent_id)}_{yyyymmdd}"


def _id_text(value: object) -> str | None:
    """An id's text: ints are rendered, strings kept, anything else (bool included) is None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return str(value)
    return value if isinstance(value, str) else None


def _jrtt_prefix(tier: AgentTier | None, prefixes: dict[AgentTier | None, str], kind: str) -> str:
    if tier not in prefixes:
        accepted = " or ".join("None" if t is None else f"AgentTier.{t.name}" for t in prefixes)
        raise ValueError(f"jrtt {kind} keys take tier {accepted}, got {tier!r}")
    return prefixes[tier]


def _refuse_tier(media: Media, tier: AgentTier | None) -> None:
    if tier is not None:
        raise ValueError(f"{media} has no agent tiers (only jrtt does), got tier {tier!r}")
