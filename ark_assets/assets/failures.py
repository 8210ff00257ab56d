"""Failed accounts as data: the JSON a program reads, the table a person reads, and the slice that
re-fetches exactly them.

Every fetching asset's materialization carries both (`failed_accounts_json`,
`failed_accounts`). The re-run of what failed (`failed_only` in a media step's config, the
`rerun_failed` job, `ark-assets rerun-failed`) reads the JSON back from the latest
materialization of the asset's partition and turns it into the seed's slice: the failed accounts
(`account_list`) of a per-account dataset, the failed agents of an advertiser list (which is
fetched per agent, so its unit of failure is the agent).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from dagster import AssetKey, AssetRecordsFilter, DagsterInstance, EventLogRecord, MetadataValue

from ark_assets.assets.run_config import FetchConfig
from ark_assets.fetch.summary import FetchSummary

FAILED_JSON = "failed_accounts_json"
FAILED_TABLE = "failed_accounts"


def failure_metadata(summary: FetchSummary, *, media: str) -> dict[str, Any]:
    """The failed sources of one fetch as JSON (every failed id; the first failures in full) and as
    a Markdown table."""
    record = {
        "media": media,
        "failed": summary.failed,  # failed sources (an account, or an agent's listing call)
        "account_ids": sorted(summary.failed_targets),  # every one, not capped
        "agent_ids": sorted(summary.failed_agents),
        "failed_by_kind": dict(sorted(summary.failed_by_kind.items())),  # error class -> sources
        "failures": summary.failures,  # source, agent_id, media, kind, code, message, attempts
        "failures_listed": len(summary.failures),
    }
    rows = "\n".join(
        f"| {f['source']} | {f['kind']} | {f['code']} | {f['attempts']} | {f['message'][:240]} |"
        for f in summary.failures
    )
    table = "| source | kind | code | attempts | reason |\n|---|---|---|---|---|\n" + rows if rows else "none"
    return {FAILED_JSON: MetadataValue.json(record), FAILED_TABLE: MetadataValue.md(table)}


@dataclass(frozen=True, kw_only=True)
class LastFailures:
    """What failed in an asset partition's latest materialization."""

    asset: AssetKey
    run_id: str
    failed: int
    account_ids: tuple[str, ...]
    agent_ids: tuple[str, ...]
    kinds: dict[str, int]

    def describe(self) -> str:
        kinds = ", ".join(f"{kind} {n}" for kind, n in sorted(self.kinds.items()))
        return (
            f"{self.asset.to_user_string()}: {self.failed} failed sources ({len(self.account_ids)} accounts, "
            f"{len(self.agent_ids)} agents; {kinds}) in run {self.run_id}"
        )


def latest_materialization(instance: DagsterInstance, key: AssetKey, partition: str) -> EventLogRecord | None:
    """The record of `key`'s latest materialization of `partition`, or None when there is none."""
    records = instance.fetch_materializations(
        AssetRecordsFilter(asset_key=key, asset_partitions=[partition]), limit=1
    ).records
    return records[0] if records else None


def last_failures(instance: DagsterInstance, key: AssetKey, partition: str) -> LastFailures | None:
    """The failures of `key`'s latest materialization of `partition`; None when it has none (or the
    partition was never materialized)."""
    latest = latest_materialization(instance, key, partition)
    if latest is None:
        return None
    stored = latest.asset_materialization.metadata.get(FAILED_JSON)
    record = getattr(stored, "value", None) or {}
    if not record.get("failed"):
        return None
    return LastFailures(
        asset=key,
        run_id=latest.run_id,
        failed=record["failed"],
        account_ids=tuple(record["account_ids"]),
        agent_ids=tuple(record["agent_ids"]),
        kinds=dict(record.get("failed_by_kind", {})),
    )


def rerun_slice(failures: LastFailures, *, per_agent: bool) -> FetchConfig:
    """The slice that re-fetches exactly what failed: the accounts, or (an advertiser list) the agents.

    A person's `agents_list` holds one agent (the seed's rule for hand-written slices); the failed
    agents of a listing come from our own record and are re-fetched together, as one slice.
    """
    if per_agent:
        return FetchConfig.model_construct(agents_list=list(failures.agent_ids), account_list=[])
    return FetchConfig(account_list=list(failures.account_ids))
