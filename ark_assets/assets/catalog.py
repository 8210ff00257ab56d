"""The shapes a media declares its assets in; the factories in `factories.py` build them.

A media module lists its agent lists, account lists and account datasets (funds, reports) with
these dataclasses: which endpoint, which parameters for the day, how a response becomes HBase
rows, which table (by the seed's names). Nothing here knows a particular media.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import Any

from ark_assets.fetch.outcome import Outcome
from ark_assets.io.rows import Row
from ark_assets.resources.redis_keys import AgentTier

DayParams = Callable[[date], Mapping[str, Any]]


def no_params(day: date) -> Mapping[str, Any]:
    return {}


def tencent_day(day: date) -> Mapping[str, Any]:
    """gdt/wx: a one-day `date_range` (JSON-encoded by the engine)."""
    return {"date_range": {"start_date": day.isoformat(), "end_date": day.isoformat()}}


def ocean_day(day: date) -> Mapping[str, Any]:
    """jrtt: `start_date` = `end_date` = the day."""
    return {"start_date": day.isoformat(), "end_date": day.isoformat()}


class RowShape(StrEnum):
    """How one successful outcome becomes HBase rows."""

    PER_RECORD_KIND = "per_record_kind"  # one row per record, kind = a record field (gdt fund_type)
    ONE_PER_ACCOUNT = "one_per_account"  # one row holding the single record (jrtt funds)
    RECORDS_PER_ACCOUNT = "records_per_account"  # one row holding the record list; none when empty


@dataclass(frozen=True)
class AgentList:
    """The `agents` asset: active `eton` agents of the media joined with their Redis tokens."""

    name: str = "agents"
    dataset: str = "agent_list"
    tier: AgentTier | None = None  # jrtt: first or second tier


@dataclass(frozen=True)
class AccountList:
    """An `advertisers` asset: each agent's accounts from the media API, also written to Redis.

    Args:
        agents: the upstream agents asset name (its rows are this asset's sources).
        endpoint: the listing endpoint; `by_agent_id` sends the agent id as its source parameter.
        account_field: the record field holding the account id.
        params: the listing's parameters for the day.
        tier: jrtt tier of the Redis account key written.
        redis_per_agent: the Redis account key is per agent (wx), not per tenant.
        details_endpoint: fetched afterwards for batches of ≤ `details_batch` accounts (jrtt
            `advertiser/info`); the rows then hold those details.
    """

    name: str
    agents: str
    endpoint: str
    account_field: str
    dataset: str
    by_agent_id: bool = False
    params: DayParams = no_params
    tier: AgentTier | None = None
    redis_per_agent: bool = False
    details_endpoint: str | None = None
    details_batch: int = 100


@dataclass(frozen=True)
class AccountDataset:
    """A per-account asset (funds, a report level): sources are the day's Redis account lists.

    Args:
        upstream: the advertisers asset(s) whose account lists this reads.
        time_lines: gdt hourly reports are fetched once per time line, stored with it as suffix.
        kind_field: with PER_RECORD_KIND, the record field that becomes the row key's kind.
    """

    name: str
    dataset: str
    endpoint: str
    shape: RowShape
    upstream: tuple[str, ...]
    params: DayParams = no_params
    kind_field: str | None = None
    time_lines: tuple[str, ...] = ()
    group: str = "reports"

    def rows(self, outcome: Outcome) -> Iterable[Row]:
        """The HBase rows of one account's successful outcome."""
        account, agent = str(outcome.source.target), outcome.source.agent_id
        records = outcome.records or []
        suffix = outcome.source.params.get("time_line") if self.time_lines else None
        if self.shape is RowShape.PER_RECORD_KIND:
            return [Row(account, agent, r, kind=str(r[self.kind_field]), suffix=suffix) for r in records]
        if self.shape is RowShape.ONE_PER_ACCOUNT:
            return [Row(account, agent, r, suffix=suffix) for r in records[:1]]
        return [Row(account, agent, records, suffix=suffix)] if records else []

    @property
    def row_kind(self) -> bool:
        return self.shape is RowShape.PER_RECORD_KIND

    @property
    def row_suffix(self) -> bool:
        return bool(self.time_lines)


@dataclass(frozen=True)
class MediaAssets:
    """Everything asset-related one media declares."""

    agent_lists: tuple[AgentList, ...]
    account_lists: tuple[AccountList, ...]
    datasets: tuple[AccountDataset, ...] = field(default_factory=tuple)
