"""What every asset of the platform shares: its spec's common parts, the completeness check,
the metadata of a fetch, and the seed's alert for an empty source list."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from dagster import (
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetKey,
    AssetSpec,
    AutomationCondition,
    Failure,
    MetadataValue,
)

from ark_assets.assets.failures import failure_metadata
from ark_assets.assets.recording import RunRecorder
from ark_assets.assets.run_config import FetchConfig
from ark_assets.core.tables import table_name
from ark_assets.fetch.summary import FetchSummary
from ark_assets.io.layout import layout_metadata
from ark_assets.media.declare import MediaDefinition
from ark_assets.settings import settings

IO_MANAGER_KEY = "io_manager"
COMPLETENESS = "completeness"
INTRADAY_GROUP = "intraday"
INTRADAY_PREFIX = "intraday_"


def asset_key(media: MediaDefinition, name: str) -> AssetKey:
    return AssetKey([media.name, name])


def asset_spec(
    media: MediaDefinition,
    name: str,
    dataset: str,
    *,
    kind: bool,
    suffix: bool,
    layer: str,
    description: str,
    upstream: Iterable[str] = (),
    automation_condition: AutomationCondition | None = None,
) -> AssetSpec:
    """The spec of one asset of `media`: key, lineage, group, table layout, kinds, tags.

    Partitions and the pool belong to the media's step (`media_step.py`), which holds them all."""
    return AssetSpec(
        asset_key(media, name),
        deps=[asset_key(media, u) for u in upstream],
        group_name=media.name,
        metadata=layout_metadata(table_name(media.name, dataset), kind=kind, suffix=suffix),
        kinds={"hbase", "python"},
        tags={"media": media.name, "layer": layer},
        description=description,
        automation_condition=automation_condition,
        skippable=True,  # a subset of the step materializes only what is selected
    ).with_io_manager_key(IO_MANAGER_KEY)


def intraday_spec(spec: AssetSpec, endpoint: str, table: str) -> AssetSpec:
    """A dataset's intraday twin (INCR, `intraday.py`): its own group, today's partitions only, no
    lineage edge (it reads the previous day's account lists in Redis), the same table."""
    return spec.replace_attributes(
        deps=[],
        group_name=INTRADAY_GROUP,
        tags={**spec.tags, "layer": INTRADAY_GROUP},
        description=f"Today's `{endpoint}` so far (up to the last complete hour), refreshed every "
        f"incr_min minutes, for every account of the previous day's Redis account lists; stored in "
        f"`{table}` under today's date (the next morning's daily run replaces it with the whole day).",
    )


def completeness_blocking() -> bool:
    """`ARK_COMPLETENESS_BLOCKING=1`: a partition with failed accounts fails its run (default: the run
    succeeds, the check turns red and an alert goes out; the good accounts' rows are stored either way).

    In a media's step a failed blocking check also keeps the step's assets downstream of it from
    running (`media_step.py`), as Dagster keeps downstream steps from running."""
    return settings().completeness_blocking


def completeness_spec(key: AssetKey) -> AssetCheckSpec:
    return AssetCheckSpec(
        COMPLETENESS,
        asset=key,
        blocking=completeness_blocking(),
        description="Every source of the partition ended in exactly one outcome, and none of them failed.",
    )


def completeness(key: AssetKey, summary: FetchSummary, *, expected: int, **about: Any) -> AssetCheckResult:
    """Every account has its rows or a recorded failure; failures make the check fail (ERROR).

    `about`: more metadata for the check (where it was evaluated from)."""
    accounted = summary.accounted and summary.requested == expected
    return AssetCheckResult(
        asset_key=key,
        check_name=COMPLETENESS,
        passed=accounted and summary.failed == 0,
        severity=AssetCheckSeverity.ERROR,
        metadata={
            "sources_expected": expected,
            "sources_with_outcome": summary.requested,
            "sources_failed": summary.failed,
            "re-run": "once the cause is fixed, launch the rerun_failed job for this partition "
            "(or `ark-assets rerun-failed KEY`): it re-fetches exactly the failed accounts",
            **about,
        },
    )


# The summary's counts under the metadata names the UI shows and users plot (keep them stable).
_METADATA = {
    "accounts_requested": "requested",
    "accounts_succeeded": "succeeded",
    "accounts_failed": "failed",
    "records": "records",
    "rows": "rows",
    "requests": "requests",
    "throttles": "throttles",
    "retries": "retries",
    "timeouts": "timeouts",
    "hedges": "hedges",
    "token_refreshes": "refreshes",
    "accounts_from_bulk": "from_bulk",
    "accounts_idle": "idle",
}
EXPECTED = "sources_expected"


def fetch_metadata(summary: FetchSummary, *, media: str, expected: int) -> dict[str, Any]:
    """A fetch asset's materialization metadata: its summary, and the sources it was to fetch."""
    return {
        **{key: getattr(summary, name) for key, name in _METADATA.items()},
        "seconds": MetadataValue.float(round(summary.seconds, 3)),
        EXPECTED: expected,
        **failure_metadata(summary, media=media),
    }


def stored_summary(metadata: Mapping[str, Any]) -> tuple[FetchSummary, int]:
    """The summary and the expected sources a materialization's metadata holds (`fetch_metadata`)."""
    value = {k: getattr(v, "value", v) for k, v in metadata.items()}
    summary = FetchSummary(**{name: int(value.get(key) or 0) for key, name in _METADATA.items()})
    return summary, int(value.get(EXPECTED, summary.requested))


def empty(recorder: RunRecorder, what: str) -> None:
    """An empty source list for a daily partition is an alert, as in the seed, never a silent success."""
    message = f"empty source list: {what}"
    recorder.alert(message)
    raise Failure(message)


def slice_note(config: FetchConfig) -> str:
    return f" (agents_list {', '.join(config.agents_list)})" if config.agents_list else ""
