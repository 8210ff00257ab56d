"""Partitions: one per (GMT+8 day, tenant).

Days are the media's days (GMT+8). Tenants are a dynamic dimension kept in step with the
`eton` tenant table by a sensor, so each tenant's status per day shows in the UI and a failing
tenant does not hide the others. Agents and accounts are *not* partitions: a seed-sized tenant
has ~25k accounts and 140 agents, and one run per agent would cost hundreds of run start-ups
per day; each run fetches all of a tenant's agents and accounts for one media instead.
"""

from __future__ import annotations

from datetime import date

from dagster import (
    DailyPartitionsDefinition,
    DynamicPartitionsDefinition,
    MultiPartitionKey,
    MultiPartitionsDefinition,
)

GMT8 = "Asia/Shanghai"
START_DATE = "2024-01-01"

daily_partitions = DailyPartitionsDefinition(start_date=START_DATE, timezone=GMT8)
tenant_partitions = DynamicPartitionsDefinition(name="tenants")
date_tenant_partitions = MultiPartitionsDefinition({"date": daily_partitions, "tenant": tenant_partitions})


def partition_key(day: date | str, tenant: str) -> MultiPartitionKey:
    """The partition key of (day, tenant); its string form is `YYYY-MM-DD|TENANT`."""
    return MultiPartitionKey({"date": str(day), "tenant": tenant})


def split_key(key: str | MultiPartitionKey) -> tuple[date, str]:
    """(day, tenant) of a partition key, whether Dagster handed it over as a str or a MultiPartitionKey."""
    if not isinstance(key, MultiPartitionKey):
        key = date_tenant_partitions.get_partition_key_from_str(key)
    dims = key.keys_by_dimension
    return date.fromisoformat(dims["date"]), dims["tenant"]
