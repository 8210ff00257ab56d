"""What a fetch should have covered, counted from Redis on its own, not from the fetch's own list.

`completeness` compares the sources that ended in an outcome with the sources expected. If the
expectation came from the very list the fetch walked, the check could only ever say "nothing
failed". So it is counted again once the fetch is done, independently: the accounts in every key
of the day's account lists Redis holds now (for per-agent lists, every agent's key of the day,
whether or not the agent key names the agent), and, for an advertiser list, the agents in the
Redis agent key. Accounts an upstream system added after the run read its lists, or lists of an
agent nobody fetched, then make the check fail, naming a sample of them.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import date

from ark_assets.assets.parts import StepContext
from ark_assets.clients.redis_sets import RedisSets
from ark_assets.core.days import yyyymmdd
from ark_assets.core.tiers import AgentTier
from ark_assets.media.declare import AccountList, MediaDefinition

SHOWN = 20  # ids listed in the check's metadata


@dataclass(frozen=True)
class Expected:
    """The sources a fetch should have ended with, and the ids it never reached."""

    sources: int
    listed: int
    not_fetched: list[str] = field(default_factory=list)

    def metadata(self) -> dict[str, object]:
        shown = ", ".join(self.not_fetched[:SHOWN]) + (" …" if len(self.not_fetched) > SHOWN else "")
        return {
            "listed_in_redis": self.listed,
            "listed_not_fetched": len(self.not_fetched),
            "not_fetched": shown,
        }


def _glob(text: str) -> str:
    """`text` as a literal in a Redis glob pattern."""
    return "".join(f"\\{c}" if c in "*?[]\\" else c for c in text)


def _agents_with_lists(redis: RedisSets, media: MediaDefinition, tenant: str, day: date, tier) -> list[str]:
    """The agents that have an account key of `day` (per-agent lists), found by the key names."""
    before, after = media.redis.accounts[tier].split("{agent_id}")
    head = before.format(tenant=tenant, yyyymmdd=yyyymmdd(day))
    tail = after.format(tenant=tenant, yyyymmdd=yyyymmdd(day))
    found = (
        key[len(head) : len(key) - len(tail)] for key in redis.keys_matching(f"{_glob(head)}*{_glob(tail)}")
    )
    return sorted(agent for agent in found if agent.isdigit())


def accounts_in_lists(
    redis: RedisSets, media: MediaDefinition, tenant: str, day: date, listings: Collection[AccountList]
) -> set[str]:
    """Every account in the day's account keys of `listings`, as Redis holds them now."""
    accounts: set[str] = set()
    for listing in listings:
        if media.redis.per_agent(listing.tier):
            for agent in _agents_with_lists(redis, media, tenant, day, listing.tier):
                accounts |= redis.accounts(media, tenant, day, tier=listing.tier, agent_id=agent).keys()
        else:
            accounts |= redis.accounts(media, tenant, day, tier=listing.tier).keys()
    return accounts


def expected_accounts(
    step: StepContext,
    listings: Collection[AccountList],
    day: date,
    *,
    fetched: Collection[str],
    scope: Collection[str] | None,
    variants: int,
) -> Expected:
    """A per-account dataset's expectation: the accounts of `day`'s lists in Redis now (a slice: its
    own accounts), each once per variant (time line)."""
    redis, media, tenant = step.redis.sets, step.media, step.tenant
    listed = set(scope) if scope is not None else accounts_in_lists(redis, media, tenant, day, listings)
    missed = sorted(listed - set(fetched))
    return Expected(sources=len(listed) * variants, listed=len(listed), not_fetched=missed)


def expected_agents(
    redis: RedisSets,
    media: MediaDefinition,
    tenant: str,
    tier: AgentTier | None,
    *,
    fetched: Collection[str],
    agents_list: Collection[str] = (),
) -> Expected:
    """An advertiser list's expectation: one listing per agent of the Redis agent key (a slice: its agent)."""
    agents = set(redis.agents(media, tenant, tier=tier))
    if agents_list:
        agents &= set(agents_list)
    missed = sorted(agents - set(fetched))
    return Expected(sources=len(agents), listed=len(agents), not_fetched=missed)
