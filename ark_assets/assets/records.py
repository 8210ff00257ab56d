"""From a media's answer to HBase rows: the checks a record must pass, and each dataset's shape.

Only the fields the platform itself *uses* are checked (ids that become row keys and Redis
members, the kind of a row key, money of funds); everything else is stored verbatim. A record
that fails its check fails its whole source (account), never the run, and names the field.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ark_assets.core.ids import INT64_MAX, positive_int64_text
from ark_assets.core.rowkey import KIND
from ark_assets.fetch.outcome import Outcome
from ark_assets.io.rows import Row
from ark_assets.media.declare import AccountDataset, RowShape

_MISSING = object()


class BadRecord(ValueError):
    """A record the media returned that cannot be stored as it is: the source fails, naming the field."""

    def __init__(self, where: str, name: str, value: Any, expected: str) -> None:
        self.field = name
        shown = "missing" if value is _MISSING else f"{value!r}"[:60]
        super().__init__(f"{where}: field {name!r} is {shown}; expected {expected}")


def _field(record: Any, name: str) -> Any:
    return record.get(name, _MISSING) if isinstance(record, dict) else _MISSING


def record_id(record: Any, name: str, where: str) -> str:
    """`record[name]` as id text: a positive int64 (a JSON integer or a digit string), else BadRecord."""
    value = _field(record, name)
    text = positive_int64_text(value) if value is not _MISSING else None
    if text is None:
        raise BadRecord(where, name, value, f"a positive int64 id (1 … {INT64_MAX})")
    return text


def record_kind(record: Any, name: str, where: str) -> str:
    """`record[name]` as a row key's kind part (a fund type), else BadRecord."""
    value = _field(record, name)
    if not isinstance(value, str) or not KIND.fullmatch(value):
        raise BadRecord(
            where, name, value, "a name of letters, digits, '_', '.' or '-' (e.g. FUND_TYPE_CASH)"
        )
    return value


def record_money(record: Any, name: str, where: str) -> None:
    """Money must be a number; negative amounts are real (credit lines, refunds) and kept as they are."""
    value = _field(record, name)
    if not isinstance(value, int | float) or isinstance(value, bool) or value != value:
        raise BadRecord(where, name, value, "a number (in the media's unit; negative allowed)")


def dataset_rows(
    dataset: AccountDataset, outcome: Outcome, *, before_hour: int | None = None
) -> Iterable[Row]:
    """The HBase rows of one account's successful outcome; a BadRecord fails the whole account.

    `before_hour` (an intraday refresh): an hourly dataset keeps only the records of complete
    hours, those whose `hour_field` is below it."""
    account, agent = str(outcome.source.target), outcome.source.agent_id
    records = outcome.records or []
    if before_hour is not None and dataset.hour_field is not None:
        records = [r for r in records if not isinstance(r, dict) or _hour(r, dataset, account) < before_hour]
    suffix = outcome.source.params.get("time_line") if dataset.time_lines else None
    for number, record in enumerate(records, 1):
        where = f"{dataset.endpoint} record {number} of account {account}"
        if not isinstance(record, dict):
            raise BadRecord(where, "(record)", record, "a JSON object")
        batch = dataset.shape is RowShape.PER_RECORD_ACCOUNT
        if (
            dataset.id_field is not None
            and not batch
            and record_id(record, dataset.id_field, where) != account
        ):
            raise BadRecord(
                where, dataset.id_field, record[dataset.id_field], f"the requested account {account}"
            )
        for name in dataset.money_fields:
            record_money(record, name, where)
        if dataset.kind_field is not None:
            record_kind(record, dataset.kind_field, where)
    if dataset.shape is RowShape.PER_RECORD_ACCOUNT:  # a batch: each record names its account
        asked = set(outcome.source.target) if isinstance(outcome.source.target, tuple) else {account}
        rows = []
        for number, record in enumerate(records, 1):
            where = f"{dataset.endpoint} record {number} of agent {agent}'s batch"
            named = record_id(record, dataset.id_field or "", where)
            if named not in asked:
                raise BadRecord(where, dataset.id_field or "", named, "an account the batch asked for")
            rows.append(Row(named, agent, record))
        return rows
    if dataset.shape is RowShape.PER_RECORD_KIND:
        return [Row(account, agent, r, kind=r[dataset.kind_field], suffix=suffix) for r in records]
    if dataset.shape is RowShape.ONE_PER_ACCOUNT:
        return [Row(account, agent, r, suffix=suffix) for r in records[:1]]
    return [Row(account, agent, records, suffix=suffix)] if records else []


def _hour(record: dict, dataset: AccountDataset, account: str) -> int:
    value = record.get(dataset.hour_field, _MISSING)
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 23:
        where = f"{dataset.endpoint} record of account {account}"
        raise BadRecord(where, dataset.hour_field or "", value, "an hour, 0-23")
    return value
