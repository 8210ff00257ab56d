"""Who to fetch for a partition: the day's accounts from Redis, narrowed by the run config.

The seed's token lookup (notes §1.3): an account's agent is its score in the day's account key,
and that agent's token authorises the call. Account keys are written by the advertiser assets
(or by upstream systems, which the account-list sensor notices).
"""

from __future__ import annotations

from datetime import date

from dagster import Failure

from ark_assets.assets.run_config import FetchConfig
from ark_assets.clients.redis_keys import accounts_key, agents_key
from ark_assets.clients.redis_sets import RedisSets
from ark_assets.media.declare import AccountList, MediaDefinition


def day_accounts(
    redis: RedisSets, media: MediaDefinition, tenant: str, day: date, listings: tuple[AccountList, ...]
) -> dict[str, str]:
    """account id -> agent id from the day's account keys of `listings`."""
    accounts: dict[str, str] = {}
    for listing in listings:
        if media.redis.per_agent(listing.tier):
            for agent in redis.agents(media, tenant, tier=listing.tier):
                accounts |= redis.accounts(media, tenant, day, tier=listing.tier, agent_id=agent)
        else:
            accounts |= redis.accounts(media, tenant, day, tier=listing.tier)
    return accounts


def day_account_keys(
    redis: RedisSets, media: MediaDefinition, tenant: str, day: date, listings: tuple[AccountList, ...]
) -> list[str]:
    """The Redis keys `day_accounts` reads (per-agent lists: one per agent in the agent key), for messages."""
    keys: list[str] = []
    for listing in listings:
        if media.redis.per_agent(listing.tier):
            agents = redis.agents(media, tenant, tier=listing.tier)  # none: the agent key is what is empty
            keys += [accounts_key(media, tenant, day, tier=listing.tier, agent_id=a) for a in agents] or [
                agents_key(media, tenant, listing.tier)
            ]
        else:
            keys.append(accounts_key(media, tenant, day, tier=listing.tier))
    return keys


def narrow(accounts: dict[str, str], config: FetchConfig) -> tuple[dict[str, str], frozenset[str] | None]:
    """The accounts a run fetches and, for a slice, its scope (None = the whole partition).

    `account_list` wins over `agents_list`; ids not in the day's lists are a clear error, not a
    silent skip.
    """
    if config.account_list:
        unknown = sorted(set(config.account_list) - accounts.keys())
        if unknown:
            shown = ", ".join(unknown[:20]) + (" …" if len(unknown) > 20 else "")
            raise Failure(
                f"account_list holds accounts that are not in the day's account lists: {shown}; "
                f"check the ids and the partition's date and tenant"
            )
        chosen = {a: accounts[a] for a in config.account_list}
        return chosen, frozenset(chosen)
    if config.agents_list:
        [agent] = config.agents_list
        chosen = {a: g for a, g in accounts.items() if g == agent}
        if not chosen:
            raise Failure(f"agents_list agent {agent} has no accounts in the day's account lists")
        return chosen, frozenset(chosen)
    return accounts, None
