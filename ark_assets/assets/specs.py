"""What every asset of the platform shares: its spec's common parts, the completeness check,
the metadata of a fetch, and the seed's alert for an empty source list."""

from __future__ import annotations

import os
from typing import Any

from dagster import AssetCheckResult, AssetCheckSeverity, AssetCheckSpec, AssetKey, Failure, MetadataValue

from ark_assets.assets.fetching import FetchSummary
from ark_assets.assets.recording import RunRecorder
from ark_assets.assets.run_config import FetchConfig
from ark_assets.core.tables import table_name
from ark_assets.io.layout import layout_metadata
from ark_assets.media.declare import MediaDefinition
from ark_assets.partitions import date_tenant_partitions

IO_MANAGER_KEY = "io_manager"


def asset_key(media: MediaDefinition, name: str) -> AssetKey:
    return AssetKey([media.name, name])


def asset_kwargs(
    media: MediaDefinition, name: str, dataset: str, *, kind: bool, suffix: bool, layer: str
) -> dict[str, Any]:
    """The `@asset` arguments every asset of `media` shares: key, group, partitions, table, pool."""
    return {
        "key": asset_key(media, name),
        "group_name": media.name,
        "partitions_def": date_tenant_partitions,
        "io_manager_key": IO_MANAGER_KEY,
        "metadata": layout_metadata(table_name(media.name, dataset), kind=kind, suffix=suffix),
        "kinds": {"hbase", "python"},
        "tags": {"media": media.name, "layer": layer},
        "pool": f"media_{media.name}",
    }


def completeness_blocking() -> bool:
    """`ARK_COMPLETENESS_BLOCKING=1`: a partition with failed accounts fails its run (default: the run
    succeeds, the check turns red and an alert goes out; the good accounts' rows are stored either way)."""
    value = os.environ.get("ARK_COMPLETENESS_BLOCKING", "").strip().lower()
    if value not in ("", "0", "1", "false", "true", "no", "yes"):
        raise ValueError(f"ARK_COMPLETENESS_BLOCKING={value!r}: expected 1 / true / yes or 0 / false / no")
    return value in ("1", "true", "yes")


def completeness_spec(media: MediaDefinition, name: str) -> AssetCheckSpec:
    return AssetCheckSpec(
        "completeness",
        asset=asset_key(media, name),
        blocking=completeness_blocking(),
        description="Every source of the partition ended in exactly one outcome, and none of them failed.",
    )


def completeness(summary: FetchSummary, *, expected: int) -> AssetCheckResult:
    """Every account has its rows or a recorded failure; failures make the check fail (ERROR)."""
    accounted = summary.requested == expected == summary.succeeded + summary.failed
    return AssetCheckResult(
        passed=accounted and summary.failed == 0,
        severity=AssetCheckSeverity.ERROR,
        metadata={
            "sources_expected": expected,
            "sources_with_outcome": summary.requested,
            "sources_failed": summary.failed,
            "re-run": "materialize the partition again (or only "
            "the failed accounts via account_list) once the cause is fixed",
        },
    )


def fetch_metadata(summary: FetchSummary) -> dict[str, Any]:
    failed = "\n".join(f"| {t} | {k} | {c} | {m[:240]} |" for t, k, c, m in summary.failures)
    return {
        "accounts_requested": summary.requested,
        "accounts_succeeded": summary.succeeded,
        "accounts_failed": summary.failed,
        "records": summary.records,
        "rows": summary.rows,
        "requests": summary.requests,
        "throttles": summary.throttles,
        "retries": summary.retries,
        "token_refreshes": summary.refreshes,
        "seconds": MetadataValue.float(round(summary.seconds, 3)),
        "failed_accounts": MetadataValue.md(
            "| source | kind | code | reason |\n|---|---|---|---|\n" + failed if failed else "none"
        ),
    }


def succeeded(recorder: RunRecorder, summary: FetchSummary, message: str) -> None:
    recorder.succeed(
        requested=summary.requested,
        succeeded=summary.succeeded,
        failed=summary.failed,
        records=summary.records,
        message=message,
        failed_by_kind=summary.failed_by_kind,
    )


def empty(recorder: RunRecorder, what: str) -> None:
    """An empty source list for a daily partition is an alert, as in the seed, never a silent success."""
    message = f"empty source list: {what}"
    recorder.alert(message)
    raise Failure(message)


def slice_note(config: FetchConfig) -> str:
    return f" (agents_list {config.agents_list[0]})" if config.agents_list else ""
