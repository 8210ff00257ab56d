"""The `volume` check: a partition's rows and active accounts against the same tenant's trailing days.

A run can succeed with nothing in it: every account answered, none had a record (a metric system
switched off, a truncated account list, a media answering empty before 08:00). `completeness` sees
no failure there; this check sees the collapse. After each write it compares what the partition
now holds -- rows, and accounts with at least one row (`active_accounts`, from the IO manager) --
with the tenant's previous `ARK_VOLUME_TRAILING_DAYS` days (their latest materializations):

- 0 rows is never green unless the trailing days had none either (a table this tenant never
  fills); 0 rows without any earlier day to compare with warns too;
- with at least `MIN_HISTORY` trailing days, rows or active accounts below `ARK_VOLUME_MIN_RATIO`
  of their trailing median warn.

The numbers are the check's metadata (the asset's *Checks* tab). A warning is yellow and the run
succeeds; `ARK_VOLUME_BLOCKING=1` makes the check blocking (ERROR: the run fails). Thresholds are
configuration; the defaults (7 days, half the median, 3 days of history) are our choice.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import date, timedelta
from statistics import median

from dagster import (
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetKey,
    AssetRecordsFilter,
    DagsterInstance,
    MetadataValue,
)

from ark_assets.io.sinks import Written
from ark_assets.partitions import partition_key, split_key

VOLUME = "volume"
MIN_HISTORY = 3  # trailing days needed before ratios are judged (our choice)
ROWS_KEY = "dagster/partition_row_count"
ACCOUNTS_KEY = "active_accounts"


@dataclass(frozen=True)
class VolumeRule:
    """What counts as a collapse (`from_env`: ARK_VOLUME_TRAILING_DAYS, ARK_VOLUME_MIN_RATIO,
    ARK_VOLUME_BLOCKING)."""

    trailing_days: int = 7
    min_ratio: float = 0.5
    blocking: bool = False

    @classmethod
    def from_env(cls) -> VolumeRule:
        days = _read("ARK_VOLUME_TRAILING_DAYS", "7", int, "a whole number of days >= 1")
        ratio = _read("ARK_VOLUME_MIN_RATIO", "0.5", float, "a fraction between 0 and 1, e.g. 0.5")
        if days < 1 or not 0 <= ratio <= 1:
            raise ValueError(
                f"ARK_VOLUME_TRAILING_DAYS={days}, ARK_VOLUME_MIN_RATIO={ratio}: "
                "expected days >= 1 and 0 <= ratio <= 1"
            )
        blocking = _read("ARK_VOLUME_BLOCKING", "0", _flag, "1 / true / yes or 0 / false / no")
        return cls(trailing_days=days, min_ratio=ratio, blocking=blocking)


def _flag(value: str) -> bool:
    lowered = value.strip().lower()
    if lowered not in ("", "0", "1", "false", "true", "no", "yes"):
        raise ValueError(value)
    return lowered in ("1", "true", "yes")


def _read(name: str, default: str, convert, expected: str):  # noqa: ANN001, ANN202 -- a small parser
    value = os.environ.get(name, default)
    try:
        return convert(value)
    except ValueError:
        raise ValueError(f"{name}={value!r}: expected {expected}") from None


def volume_spec(key: AssetKey, rule: VolumeRule | None = None) -> AssetCheckSpec:
    rule = rule or VolumeRule.from_env()
    return AssetCheckSpec(
        VOLUME,
        asset=key,
        blocking=rule.blocking,
        description=f"The partition's rows and active accounts against the tenant's last "
        f"{rule.trailing_days} days: 0 rows, or less than {rule.min_ratio:.0%} of their median, warns.",
    )


@dataclass(frozen=True)
class DayVolume:
    day: date
    rows: int
    accounts: int | None  # None: stored before the IO manager counted accounts


def trailing(instance: DagsterInstance, key: AssetKey, day: date, tenant: str, days: int) -> list[DayVolume]:
    """The tenant's previous `days` days that were materialized: their latest rows and accounts."""
    partitions = [str(partition_key(day - timedelta(days=n), tenant)) for n in range(1, days + 1)]
    records = instance.fetch_materializations(
        AssetRecordsFilter(asset_key=key, asset_partitions=partitions), limit=days * 5
    ).records
    latest: dict[str, DayVolume] = {}
    for record in records:  # newest first: the first of each partition is its latest
        metadata = record.asset_materialization.metadata
        if record.partition_key in latest or ROWS_KEY not in metadata:
            continue
        accounts = metadata.get(ACCOUNTS_KEY)
        latest[record.partition_key] = DayVolume(
            split_key(record.partition_key)[0],
            int(metadata[ROWS_KEY].value),
            int(accounts.value) if accounts is not None else None,
        )
    return sorted(latest.values(), key=lambda v: v.day, reverse=True)


def _problems(rows: int, accounts: int, history: list[DayVolume], rule: VolumeRule) -> list[str]:
    past_rows = median(h.rows for h in history) if history else None
    counted = [h.accounts for h in history if h.accounts is not None]
    past_accounts = median(counted) if counted else None
    if rows == 0:
        if past_rows is None:
            return [
                "0 rows, and no earlier day of this tenant to compare with: an empty day is never healthy"
            ]
        if past_rows > 0:
            return [f"0 rows where the last {len(history)} days had {past_rows:g} (median)"]
        return []
    if len(history) < MIN_HISTORY:
        return []
    problems = []
    if rows < rule.min_ratio * past_rows:
        problems.append(
            f"{rows} rows: below {rule.min_ratio:.0%} of the last {len(history)} days' median ({past_rows:g})"
        )
    if past_accounts and accounts < rule.min_ratio * past_accounts:
        problems.append(
            f"{accounts} active accounts: below {rule.min_ratio:.0%} of the median ({past_accounts:g})"
        )
    return problems


def volume(
    key: AssetKey, written: Written, history: list[DayVolume], rule: VolumeRule, **about: object
) -> AssetCheckResult:
    """`volume` of a partition that now holds `written.partition_rows` rows of `written.accounts` accounts."""
    rows, accounts = written.partition_rows, written.accounts
    problems = _problems(rows, accounts, history, rule)
    table = "\n".join(f"| {h.day} | {h.rows} | {'' if h.accounts is None else h.accounts} |" for h in history)
    return AssetCheckResult(
        asset_key=key,
        check_name=VOLUME,
        passed=not problems,
        severity=AssetCheckSeverity.ERROR if rule.blocking else AssetCheckSeverity.WARN,
        description="; ".join(problems) or None,
        metadata={
            "rows": rows,
            "active_accounts": accounts,
            "trailing_days_found": len(history),
            "trailing_median_rows": float(median(h.rows for h in history)) if history else None,
            "min_ratio": rule.min_ratio,
            "trailing": MetadataValue.md(f"| day | rows | active accounts |\n|---|---|---|\n{table}"),
            **about,
        },
    )
