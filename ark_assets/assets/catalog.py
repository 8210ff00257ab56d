"""The shapes a media declares its assets in; the factories in `factories.py` build them.

A media module lists its agent lists, account lists and account datasets (funds, reports) with
these dataclasses: which endpoint, which parameters for the day, how a response becomes HBase
rows, which table (by the seed's names). Nothing here knows a particular media.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import Any

from ark_assets.fetch.outcome import Outcome
from ark_assets.io.rows import Row
from ark_assets.resources.redis_keys import AgentTier

DayParams = Callable[[date], Mapping[str, Any]]

INT64_MAX = 2**63 - 1  # the media's ids are int64
_ID_TEXT = re.compile(r"^[0-9]+$")
_KIND_TEXT = re.compile(r"^[A-Za-z0-9_.\-]+$")  # what a row key's kind part may hold
_MISSING = object()


class BadRecord(ValueError):
    """A record the media returned that cannot be stored as it is: the source fails, naming the field.

    Only the fields the platform itself *uses* are checked (ids that become row keys and Redis
    members, the kind of a row key, money of funds); everything else is stored verbatim.
    """

    def __init__(self, where: str, name: str, value: Any, expected: str) -> None:
        self.field = name
        shown = "missing" if value is _MISSING else f"{value!r}"[:60]
        super().__init__(f"{where}: field {name!r} is {shown}; expected {expected}")


def record_id(record: Any, name: str, where: str) -> str:
    """`record[name]` as id text: a positive int64 (a JSON integer or a digit string), else BadRecord."""
    value = record.get(name, _MISSING) if isinstance(record, dict) else _MISSING
    text = str(value) if isinstance(value, int | str) and not isinstance(value, bool) else ""
    if not _ID_TEXT.fullmatch(text) or not 0 < int(text) <= INT64_MAX:
        raise BadRecord(where, name, value, f"a positive int64 id (1 … {INT64_MAX})")
    return text


def record_kind(record: Any, name: str, where: str) -> str:
    value = record.get(name, _MISSING) if isinstance(record, dict) else _MISSING
    if not isinstance(value, str) or not _KIND_TEXT.fullmatch(value):
        raise BadRecord(
            where, name, value, "a name of letters, digits, '_', '.' or '-' (e.g. FUND_TYPE_CASH)"
        )
    return value


def record_money(record: Any, name: str, where: str) -> None:
    """Money must be a number; negative amounts are real (credit lines, refunds) and kept as they are."""
    value = record.get(name, _MISSING) if isinstance(record, dict) else _MISSING
    if not isinstance(value, int | float) or isinstance(value, bool) or value != value:
        raise BadRecord(where, name, value, "a number (fen for gdt/wx, yuan for jrtt; negative allowed)")


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
        id_field: a record field that must hold the requested account's id (jrtt funds).
        money_fields: record fields that must be numbers (funds); other fields are not checked.
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
    id_field: str | None = None
    money_fields: tuple[str, ...] = ()

    def rows(self, outcome: Outcome) -> Iterable[Row]:
        """The HBase rows of one account's successful outcome; a BadRecord fails the whole account."""
        account, agent = str(outcome.source.target), outcome.source.agent_id
        records = outcome.records or []
        suffix = outcome.source.params.get("time_line") if self.time_lines else None
        for number, record in enumerate(records, 1):
            where = f"{self.endpoint} record {number} of account {account}"
            if not isinstance(record, dict):
                raise BadRecord(where, "(record)", record, "a JSON object")
            if self.id_field is not None and record_id(record, self.id_field, where) != account:
                raise BadRecord(
                    where, self.id_field, record[self.id_field], f"the requested account {account}"
                )
            for name in self.money_fields:
                record_money(record, name, where)
            if self.kind_field is not None:
                record_kind(record, self.kind_field, where)
        if self.shape is RowShape.PER_RECORD_KIND:
            return [Row(account, agent, r, kind=r[self.kind_field], suffix=suffix) for r in records]
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
