"""The seed's Redis key formats (db 2), built from each media's declared templates.

Every key is a sorted set (refresh tokens: a hash). The legacy jobs still read and write these
keys, so a media declares them byte for byte (`RedisKeys` in its module, inconsistencies
included); this module only fills the templates in and refuses what a media does not have.
"""

from __future__ import annotations

from datetime import date

from ark_assets.core.days import yyyymmdd
from ark_assets.core.ids import account_id_text, agent_id_text, tenant_alias
from ark_assets.core.tiers import AgentTier
from ark_assets.media.declare import MediaDefinition
from ark_assets.media.registry import media as media_named

__all__ = [
    "accounts_key",
    "account_id_text",
    "agent_id_text",
    "agents_key",
    "refresh_token_key",
    "tenant_alias",
    "token_key",
]


def token_key(media: MediaDefinition | str, tenant: str) -> str:
    """The tenant's access tokens: member = access token, score = agent id."""
    return media_named(media).redis.tokens.format(tenant=tenant_alias(tenant))


def refresh_token_key(media: MediaDefinition | str, tenant: str) -> str:
    """The tenant's refresh tokens: a hash, field = agent id, value = refresh token.

    Not one of the seed's keys (its scripts never refreshed tokens); it sits beside the seed's
    token set so that one refresher can rotate an agent's access/refresh pair in one transaction.
    """
    return media_named(media).redis.refresh_tokens.format(tenant=tenant_alias(tenant))


def agents_key(media: MediaDefinition | str, tenant: str, tier: AgentTier | None = None) -> str:
    """A media's agent key for `tier` (None: the key without a tier): member = score = agent id."""
    declared = media_named(media)
    return _template(declared, declared.redis.agents, tier, "agent").format(tenant=tenant_alias(tenant))


def accounts_key(
    media: MediaDefinition | str,
    tenant: str,
    day: date,
    *,
    tier: AgentTier | None = None,
    agent_id: int | str | None = None,
) -> str:
    """A day's account key: member = account id, score = agent id.

    A tiered media needs the tier; a media whose account lists are per agent needs `agent_id`
    (and the others refuse one).
    """
    declared = media_named(media)
    template = _template(declared, declared.redis.accounts, tier, "account")
    fields = {"tenant": tenant_alias(tenant), "yyyymmdd": yyyymmdd(day)}
    if declared.redis.per_agent(tier):
        if agent_id is None:
            raise ValueError(f"{declared.name} account keys are per agent: pass agent_id")
        fields["agent_id"] = agent_id_text(agent_id)
    elif agent_id is not None:
        raise ValueError(f"{declared.name} account keys hold every agent of a tenant: do not pass agent_id")
    return template.format(**fields)


def _template(
    declared: MediaDefinition, templates: dict[AgentTier | None, str], tier: AgentTier | None, kind: str
) -> str:
    if tier not in templates:
        if all(t is None for t in templates):
            raise ValueError(f"{declared.name} has no agent tiers, got tier {tier!r}")
        accepted = " or ".join("None" if t is None else f"AgentTier.{t.name}" for t in templates)
        raise ValueError(f"{declared.name} {kind} keys take tier {accepted}, got {tier!r}")
    return templates[tier]
