"""Asset checks that read the stored rows: row-key format, and the seed's production-vs-test counts.

(`completeness` is computed by each fetch asset from its own fetch accounting.) A media's step
evaluates these right after the IO manager wrote the asset's rows (`media_step.py`), or alone
when only the check is selected. Both read through the output mode's sink (`io/sinks.py`), so
they check what was actually written: HBase's table, FILE's files (local or on HDFS); with
output NONE nothing is stored and the result says so.

- `row_keys`: every row of the partition (its day, its tenant) parses under the table's layout
  -- salt = the account's last digit, the partition's date, digits-only ids, the tenant last --
  so the salted range scans and every downstream reader find it.
- `matches_comparison_table`: the seed's recurring need to compare a date's row count between
  a production table and a test table. Defined when `ARK_COMPARE_TABLE_PREFIX` names the other
  table set (e.g. `test` compares `tenant_gdt_funds_get_v2` with `test_tenant_gdt_funds_get_v2`).
"""

import os
from datetime import date

from dagster import AssetCheckResult, AssetCheckSeverity, AssetCheckSpec, AssetSpec

from ark_assets.core.rowkey import parse
from ark_assets.io.sinks import Sink

ROW_KEYS = "row_keys"
COMPARISON = "matches_comparison_table"
_EXAMPLES = 5


def compare_prefix(configured: str | None = None) -> str | None:
    """The comparison table set: `configured`, else `ARK_COMPARE_TABLE_PREFIX` (empty: no comparison)."""
    prefix = configured if configured is not None else os.environ.get("ARK_COMPARE_TABLE_PREFIX", "")
    return prefix or None


def _layout(spec: AssetSpec) -> tuple[str, bool, bool]:
    metadata = spec.metadata
    return metadata["hbase_table"], metadata["row_kind"], metadata["row_suffix"]


def _tenant_rows(
    sink: Sink, table: str, day: date, tenant: str, *, kind: bool, suffix: bool
) -> tuple[int, list[str]]:
    """(good keys of the tenant, bad keys) of the partition's rows, as the sink's readers find them."""
    good, bad = 0, []
    for key in sink.scan_keys(table, day, tenant):
        try:
            parsed = parse(key, kind=kind, suffix=suffix)
        except ValueError as exc:
            bad.append(f"{key}: {exc}")
            continue
        if parsed.tenant != tenant:
            continue
        if parsed.data_date != day:
            bad.append(f"{key}: date {parsed.data_date} outside the partition's day {day}")
        else:
            good += 1
    return good, bad


def nothing_stored(spec: AssetSpec, check_name: str, sink: Sink) -> AssetCheckResult:
    """Output NONE keeps no rows: the check has nothing to read, and says so instead of passing silently."""
    return AssetCheckResult(
        asset_key=spec.key,
        check_name=check_name,
        passed=True,
        severity=AssetCheckSeverity.WARN,
        description=f"Nothing to check: output mode {sink.mode} stores no rows.",
        metadata={"output": sink.mode, "checked": False},
    )


def check_specs(spec: AssetSpec, prefix: str | None) -> list[AssetCheckSpec]:
    """The HBase-reading checks of one asset: `row_keys`, and the comparison when `prefix` is set."""
    table = spec.metadata["hbase_table"]
    checks = [
        AssetCheckSpec(
            ROW_KEYS,
            asset=spec.key,
            description=f"Every key of the partition in `{table}` follows "
            "the seed's row-key design (salt, date, ids, kind, tenant).",
        )
    ]
    if prefix:
        checks.append(
            AssetCheckSpec(
                COMPARISON,
                asset=spec.key,
                description=f"The partition's row count in `{table}` equals the one in `{prefix}_{table}` "
                "(the seed's production vs test comparison).",
            )
        )
    return checks


def row_keys(sink: Sink, spec: AssetSpec, day: date, tenant: str) -> AssetCheckResult:
    if not sink.stores:
        return nothing_stored(spec, ROW_KEYS, sink)
    table, kind, suffix = _layout(spec)
    good, bad = _tenant_rows(sink, table, day, tenant, kind=kind, suffix=suffix)
    return AssetCheckResult(
        asset_key=spec.key,
        check_name=ROW_KEYS,
        passed=not bad,
        severity=AssetCheckSeverity.ERROR,
        metadata={
            "output": sink.mode,
            "table": sink.location(table),
            "rows_checked": good + len(bad),
            "bad_keys": len(bad),
            "examples": "\n".join(bad[:_EXAMPLES]),
        },
    )


def comparison(sink: Sink, spec: AssetSpec, day: date, tenant: str, prefix: str) -> AssetCheckResult:
    if not sink.stores:
        return nothing_stored(spec, COMPARISON, sink)
    table, kind, suffix = _layout(spec)
    ours, _ = _tenant_rows(sink, table, day, tenant, kind=kind, suffix=suffix)
    other = sink.with_prefix(prefix)
    if not other.holds(table, day, tenant):
        return AssetCheckResult(
            asset_key=spec.key,
            check_name=COMPARISON,
            passed=False,
            severity=AssetCheckSeverity.WARN,
            metadata={
                "reason": f"{other.location(table)} holds nothing for {day}, tenant {tenant} ({sink.mode})"
            },
        )
    theirs, _ = _tenant_rows(other, table, day, tenant, kind=kind, suffix=suffix)
    return AssetCheckResult(
        asset_key=spec.key,
        check_name=COMPARISON,
        passed=ours == theirs,
        severity=AssetCheckSeverity.WARN,
        metadata={"rows": ours, "comparison_rows": theirs, "comparison_table": other.location(table)},
    )
