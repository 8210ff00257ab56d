"""Partitions: one per (GMT+8 day, tenant).

Days are the media's days (GMT+8). Tenants are a dynamic dimension kept in step with the
`eton` tenant table by a sensor, so each tenant's status per day shows in the UI and a failing
tenant does not hide the others. Agents and accounts are *not* partitions: a seed-sized tenant
has ~25k accounts and 140 agents, and one run per agent would cost hundreds of run start-ups
per day; each run fetches all of a tenant's agents and accounts for one media instead.

The first day is `ARK_PARTITIONS_START` (YYYY-MM-DD): the first day a deployment fetches or
backfills. The default is recent on purpose: a partition set reaching back years shows every
asset as "0% filled" and buries the days that matter; set it earlier before backfilling history.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping
from datetime import date, datetime

from dagster import (
    DailyPartitionsDefinition,
    DynamicPartitionsDefinition,
    MultiPartitionKey,
    MultiPartitionsDefinition,
)

from ark_assets.core.days import GMT8_NAME, yesterday
from ark_assets.core.ids import TENANT

DEFAULT_START = "2026-11-01"
_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def start_date(environ: Mapping[str, str] = os.environ) -> str:
    """The first partition day: `ARK_PARTITIONS_START`, else DEFAULT_START; a ValueError names a bad one."""
    value = environ.get("ARK_PARTITIONS_START", "").strip() or DEFAULT_START
    try:
        if not _DAY.fullmatch(value):
            raise ValueError
        date.fromisoformat(value)
    except ValueError:
        raise ValueError(
            f"ARK_PARTITIONS_START={value!r} is not a day: expected YYYY-MM-DD, e.g. {DEFAULT_START}"
        ) from None
    return value


START_DATE = start_date()

daily_partitions = DailyPartitionsDefinition(start_date=START_DATE, timezone=GMT8_NAME)
tenant_partitions = DynamicPartitionsDefinition(name="tenants")
date_tenant_partitions = MultiPartitionsDefinition({"date": daily_partitions, "tenant": tenant_partitions})
# INCR (assets/intraday.py): the same days and tenants plus today, which the intraday group refreshes
# while it is still running; the daily assets' partitions end with the last finished day.
intraday_partitions = MultiPartitionsDefinition(
    {
        "date": DailyPartitionsDefinition(start_date=START_DATE, timezone=GMT8_NAME, end_offset=1),
        "tenant": tenant_partitions,
    }
)


def partition_key(day: date | str, tenant: str) -> MultiPartitionKey:
    """The partition key of (day, tenant); its string form is `YYYY-MM-DD|TENANT`."""
    return MultiPartitionKey({"date": str(day), "tenant": tenant})


def split_key(key: str | MultiPartitionKey) -> tuple[date, str]:
    """(day, tenant) of a partition key, whether Dagster handed it over as a str or a MultiPartitionKey.

    A key that is not `YYYY-MM-DD|TENANT` raises a ValueError naming it and the expected form.
    """
    if isinstance(key, MultiPartitionKey):
        dims = key.keys_by_dimension
        text, day_text, tenant = str(key), dims.get("date", ""), dims.get("tenant", "")
    else:
        text = str(key)
        day_text, _, tenant = text.partition("|")
    try:
        day = date.fromisoformat(day_text) if _DAY.fullmatch(day_text) else None
    except ValueError:
        day = None
    if day is None or not TENANT.fullmatch(tenant):
        raise ValueError(
            f"partition key {text!r} is not a (date, tenant) key: expected 'YYYY-MM-DD|TENANT' with a "
            f"calendar day and a tenant alias of letters and digits, e.g. '2024-05-19|T100117'"
        )
    return day, tenant


def check_partition_key(
    key: str | MultiPartitionKey, *, tenants: Iterable[str] | None = None, now: datetime | None = None
) -> tuple[date, str]:
    """(day, tenant) of a key a person typed, or a ValueError saying what is wrong with it and why.

    Dagster refuses such keys too ("Could not find a partition"), but without the reason: the day
    must lie between START_DATE and yesterday in GMT+8 (today's data is not final; the media
    answer no future days), and the tenant must be one the `tenants` partitions hold (the
    `tenants_and_agents_sync` sensor adds every active `eton` tenant).
    """
    day, tenant = split_key(key)
    start = date.fromisoformat(START_DATE)
    last = yesterday(now)
    if day < start:
        raise ValueError(
            f"partition key {str(key)!r}: {day} is before the first partition day {START_DATE}; "
            f"expected a day from {START_DATE} to {last}"
        )
    if day > last:
        raise ValueError(
            f"partition key {str(key)!r}: {day} is in the future or today (GMT+8); expected a day "
            f"from {START_DATE} to {last}: a day's data is fetched once it is over"
        )
    if tenants is not None and tenant not in set(tenants):
        raise ValueError(
            f"partition key {str(key)!r}: tenant {tenant!r} is not a tenant partition; expected an "
            f"active tenant of eton.tenant (the tenants_and_agents_sync sensor adds them)"
        )
    return day, tenant
