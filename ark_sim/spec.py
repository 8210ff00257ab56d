"""How a media declares itself to the simulator: one `MediaSpec` per module of `ark_sim/media/`.

The generic modules (server, world, profiles, config, state, seed, truth, ...) know a media only
through its declaration. Everything particular to one media is in its module: its API and codes,
what its world holds (sizes, id ranges, site sets, fund records, tiers), the Redis keys and
`eton` rows the seed's upstream systems keep for it, and the HBase tables the seed's jobs fill.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Protocol

from ark_sim.tiers import Tier  # named here too: the media modules import it with the rest

if TYPE_CHECKING:
    from datetime import date

    from pydantic import BaseModel

    from ark_sim.common import Incoming, Outgoing
    from ark_sim.config import ProfileConfig
    from ark_sim.contract import ApiContract
    from ark_sim.faults import Fault
    from ark_sim.profiles import MediaRoster
    from ark_sim.state import SimState
    from ark_sim.world import World


# How many records an endpoint answers for one account and day (time line: gdt hourly reports).
Records = Callable[["World", str, int, "date", str], int]
# A request as a client signs it: (token, parameters) -> (query, headers).
Signer = Callable[[str | None, Mapping[str, Any]], tuple[dict[str, str], dict[str, str]]]


class Endpoint(Protocol):
    """What the generic code reads of a media's endpoint declaration."""

    @property
    def name(self) -> str: ...  # the quota/counter name, e.g. "funds/get"

    @property
    def records(self) -> Records | None: ...  # None: not an account's data (listings, oauth)


class Api(Protocol):
    """A media's request handling: its endpoints by path below its base URL (every version's),
    the pipeline, and how it answers a given body code instead (a tamper rule's `code`)."""

    @property
    def endpoints(self) -> Mapping[str, Endpoint]: ...

    def handle(self, state: SimState, incoming: Incoming, fault: Fault | None) -> tuple[str, Outgoing]: ...

    def coded(self, code: int, out: Outgoing) -> Outgoing: ...


@dataclass(frozen=True, kw_only=True)
class WorldSpec:
    """What the world generator needs to know about a media.

    Args:
        sizes: the model of the media's table in a profile (`[profiles.P] gdt = {...}`).
        roster: (profile, seed, tenant) -> the tenant's agents and accounts at this media.
        site_sets: the site sets (placements) an adgroup runs on.
        promoted_object_types: what an adgroup promotes.
        entity_ids: campaign / adgroup / ad -> the inclusive range their ids are drawn from.
        funds: (world, media, account id, day) -> the records the funds endpoint answers.
    """

    sizes: type[BaseModel]
    roster: Callable[[ProfileConfig, int, str], MediaRoster]
    site_sets: tuple[str, ...]
    promoted_object_types: tuple[str, ...]
    entity_ids: Mapping[str, tuple[int, int]]
    funds: Callable[[World, str, int, date], list[dict]]


@dataclass(frozen=True, kw_only=True)
class AgentKey:
    """A Redis sorted set of a tenant's active agents: member = score = agent id.

    Args:
        format: the key, with `{tenant}`.
        tier: only this tier's agents; None = every active agent.
    """

    format: str
    tier: Tier | None = None


@dataclass(frozen=True, kw_only=True)
class AccountKey:
    """A Redis sorted set of a day's accounts: member = account id, score = its agent id.

    Args:
        format: the key, with `{tenant}` and `{day}` (yyyymmdd); with `{agent_id}` too it is one
            key per active agent, holding that agent's accounts.
        tier: only the accounts of this tier's agents; None = every active agent's.
    """

    format: str
    tier: Tier | None = None

    @property
    def per_agent(self) -> bool:
        return "{agent_id}" in self.format


class Rows(StrEnum):
    """How many rows a table holds for a tenant and day (the seed's row-key rules)."""

    AGENTS = "agents"  # one per active agent (of the tier)
    ACCOUNTS = "accounts"  # one per account of an active agent (of the tier)
    PER_RECORD = "per_record"  # one per record the endpoint answers (the record's kind is in the key)
    PER_ACCOUNT = "per_account"  # one per account whose answer holds any record


@dataclass(frozen=True, kw_only=True)
class Table:
    """One HBase table the seed's jobs write for a media (`tenant_{media}_{dataset}`).

    Args:
        dataset: the name's tail, with the seed's version suffix (`funds_get_v2`).
        rows: the rule for its row count.
        tier: AGENTS / ACCOUNTS: that tier only.
        endpoint: PER_RECORD / PER_ACCOUNT: the endpoint whose records it stores, per account of
            an active agent.
        time_lines: the endpoint is asked once per time line, each answer a row of its own (the
            key's suffix); empty = asked once.
        versions: the API versions whose jobs fill it (a level a version lacks has no table
            there); empty = every version.
    """

    dataset: str
    rows: Rows
    tier: Tier | None = None
    endpoint: str | None = None
    time_lines: tuple[str, ...] = ()
    versions: tuple[str, ...] = ()

    def filled_by(self, version: str) -> bool:
        return not self.versions or version in self.versions

    def __post_init__(self) -> None:
        per_account = self.rows in (Rows.PER_RECORD, Rows.PER_ACCOUNT)
        if per_account != (self.endpoint is not None):
            need = "needs an" if per_account else "takes no"
            raise ValueError(f"table {self.dataset!r}: rows {self.rows} {need} endpoint")
        if per_account and self.tier is not None:
            raise ValueError(f"table {self.dataset!r}: account data covers every tier; tier is for lists")


@dataclass(frozen=True, kw_only=True)
class MediaSpec:
    """One media, as its module declares it (`MEDIA = MediaSpec(...)`).

    Args:
        name: its short name: base URL `/{name}`, `[media.{name}]` in sim.toml, Redis key prefix.
        platform_id: `eton.agents.platform_id`.
        api: the endpoints and request pipeline.
        contract: every endpoint's contract in every version, codes, quota signals, with sources
            (it drives the request checks; `ark-sim contracts` renders it into the docs).
        world: what its world holds.
        agent_keys / account_keys: the seed's Redis keys of its agents and a day's accounts.
        tables: the HBase tables the seed's jobs fill from it.
        sign: how a client signs a request (tokens in the query or a header).
        versions: the API versions it serves, oldest first; the last is what the media serve
            today (`ark-sim truth` expects that one's tables unless told another).
    """

    name: str
    platform_id: int
    api: Api
    contract: ApiContract
    world: WorldSpec
    agent_keys: tuple[AgentKey, ...]
    account_keys: tuple[AccountKey, ...]
    tables: tuple[Table, ...]
    sign: Signer
    versions: tuple[str, ...]

    def __post_init__(self) -> None:
        unknown = sorted({v for t in self.tables for v in t.versions} - set(self.versions))
        if unknown:
            raise ValueError(f"{self.name}: tables name versions {unknown} it does not serve {self.versions}")

    @property
    def today(self) -> str:
        """The version the media serve today (the newest)."""
        return self.versions[-1]

    def version(self, wanted: str | None) -> str:
        """`wanted` (None or "" = today's), or a ValueError naming the served versions."""
        if not wanted:
            return self.today
        if wanted not in self.versions:
            raise ValueError(
                f"{self.name} serves no API version {wanted!r}: expected one of {', '.join(self.versions)}"
            )
        return wanted

    @property
    def endpoints(self) -> tuple[str, ...]:
        """The endpoint names (quotas, counters, `[media.X.quota.endpoints]`), as declared; one
        name covers the endpoint in every version (one quota)."""
        return tuple(dict.fromkeys(endpoint.name for endpoint in self.api.endpoints.values()))

    def records(self, endpoint: str) -> Records:
        """How many records `endpoint` answers for an account and day."""
        for declared in self.api.endpoints.values():
            if declared.name == endpoint and declared.records is not None:
                return declared.records
        raise ValueError(f"{self.name} has no endpoint {endpoint!r} answering an account's records")
