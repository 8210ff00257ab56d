"""What a media's step reports for each asset once its rows are written: the output, then its checks.

`emit` runs in the step's own thread as each part finishes (`media_step.run_step`): it yields the
part's output (the IO manager writes the rows while the generator waits, and remembers what the
write did), then the part's checks, each reading what was just written: `completeness` (from the
fetch, against the account lists in Redis), `row_keys` and the comparison (through the sink),
`volume` (the partition now against the tenant's trailing days). `checks_alone` evaluates checks
selected without their asset (the UI's "Execute check") on what is stored.
"""

from __future__ import annotations

from collections.abc import Iterator

from dagster import (
    AssetCheckKey,
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetExecutionContext,
    AssetKey,
    Output,
)

from ark_assets.assets.checks import COMPARISON, ROW_KEYS, check_specs, comparison, nothing_stored, row_keys
from ark_assets.assets.failures import latest_materialization
from ark_assets.assets.parts import Part, PartResult, StepContext
from ark_assets.assets.specs import COMPLETENESS, completeness, completeness_spec, stored_summary
from ark_assets.assets.volume import ACCOUNTS_KEY, ROWS_KEY, VOLUME, VolumeRule, trailing, volume, volume_spec
from ark_assets.io.sinks import Sink, Written
from ark_assets.partitions import split_key


def emit(
    context: AssetExecutionContext,
    step: StepContext,
    part: Part,
    result: PartResult,
    *,
    sink: Sink,
    prefix: str | None,
) -> Iterator[Output | AssetCheckResult]:
    """The part's output (the IO manager writes it while this generator waits), then its checks."""
    checks = context.selected_asset_check_keys
    yield Output(result.spool, output_name=part.key.to_python_identifier(), metadata=result.metadata)
    if result.completeness is not None and AssetCheckKey(part.key, COMPLETENESS) in checks:
        yield result.completeness
    if AssetCheckKey(part.key, ROW_KEYS) in checks:
        yield row_keys(sink, part.spec, step.day, step.tenant)
    if prefix and AssetCheckKey(part.key, COMPARISON) in checks:
        yield comparison(sink, part.spec, step.day, step.tenant, prefix)
    if AssetCheckKey(part.key, VOLUME) in checks:
        written = step.io_manager.written(part.key.to_user_string())
        yield _volume(context, part, written, sink)


def _volume(
    context: AssetExecutionContext, part: Part, written: Written | None, sink: Sink
) -> AssetCheckResult:
    """`volume` right after the write: what the partition holds now (`written`) against its trailing days."""
    if not sink.stores:
        return nothing_stored(part.spec, VOLUME, sink)
    if written is None:  # written by another process: read what its materialization recorded
        return _stored_volume(context, part.key)
    day, tenant = split_key(context.partition_key)
    rule = VolumeRule.from_env()
    return volume(
        part.key, written, trailing(context.instance, part.key, day, tenant, rule.trailing_days), rule
    )


def checks_alone(
    context: AssetExecutionContext, parts: list[Part], *, sink: Sink, prefix: str | None
) -> Iterator[AssetCheckResult]:
    """Checks selected without their asset (the UI's "Execute check"): evaluated on what is stored."""
    day, tenant = split_key(context.partition_key)
    by_key = {p.key: p for p in parts}
    for check in sorted(context.selected_asset_check_keys, key=lambda c: (c.asset_key.path, c.name)):
        if check.asset_key in context.selected_asset_keys:
            continue
        part = by_key[check.asset_key]
        if check.name == ROW_KEYS:
            yield row_keys(sink, part.spec, day, tenant)
        elif check.name == COMPARISON and prefix:
            yield comparison(sink, part.spec, day, tenant, prefix)
        elif check.name == COMPLETENESS:
            yield _stored_completeness(context, check.asset_key)
        elif check.name == VOLUME:
            yield _volume(context, part, None, sink)


def _never_materialized(key: AssetKey, check_name: str) -> AssetCheckResult:
    return AssetCheckResult(
        asset_key=key,
        check_name=check_name,
        passed=False,
        severity=AssetCheckSeverity.ERROR,
        metadata={"reason": "the partition was never materialized"},
    )


def _stored_completeness(context: AssetExecutionContext, key: AssetKey) -> AssetCheckResult:
    """`completeness` of the partition's latest materialization, from its metadata."""
    latest = latest_materialization(context.instance, key, context.partition_key)
    if latest is None:
        return _never_materialized(key, COMPLETENESS)
    summary, expected = stored_summary(latest.asset_materialization.metadata)
    about = {"evaluated_from": f"the materialization of run {latest.run_id}"}
    return completeness(key, summary, expected=expected, **about)


def _stored_volume(context: AssetExecutionContext, key: AssetKey) -> AssetCheckResult:
    """`volume` of the partition's latest materialization, from its metadata."""
    latest = latest_materialization(context.instance, key, context.partition_key)
    if latest is None:
        return _never_materialized(key, VOLUME)
    metadata = latest.asset_materialization.metadata
    rows, accounts = metadata.get(ROWS_KEY), metadata.get(ACCOUNTS_KEY)
    written = Written(
        rows_written=int(rows.value) if rows else 0, accounts=int(accounts.value) if accounts else 0
    )
    day, tenant = split_key(context.partition_key)
    rule = VolumeRule.from_env()
    history = trailing(context.instance, key, day, tenant, rule.trailing_days)
    return volume(key, written, history, rule, evaluated_from=f"the materialization of run {latest.run_id}")


def step_check_specs(parts: list[Part], prefix: str | None, *, intraday: bool) -> list[AssetCheckSpec]:
    """Every part's checks: completeness for a fetch, the stored rows', the day's volume."""
    return [
        *(completeness_spec(p.key) for p in parts if p.fetches),
        *(check for p in parts for check in check_specs(p.spec, prefix)),
        *(volume_spec(p.key) for p in parts if not intraday),  # today so far is no whole day
    ]
