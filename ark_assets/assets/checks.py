"""Asset checks that read HBase: row-key format, and the seed's production-vs-test row counts.

(`completeness` is computed inline by each fetch asset from its own fetch accounting.)

- `row_keys`: every row of the partition (its day, its tenant) parses under the table's layout
  -- salt = the account's last digit, the partition's date, digits-only ids, the tenant last --
  so the salted range scans and every downstream reader find it.
- `matches_comparison_table`: the seed's recurring need to compare a date's row count between
  a production table and a test table. Defined when `ARK_COMPARE_TABLE_PREFIX` names the other
  table set (e.g. `test` compares `tenant_gdt_funds_get_v2` with `test_tenant_gdt_funds_get_v2`).
"""

import os
from datetime import date

from dagster import (
    AssetCheckExecutionContext,
    AssetCheckResult,
    AssetChecksDefinition,
    AssetCheckSeverity,
    AssetsDefinition,
    asset_check,
)

from ark_assets.core.rowkey import parse
from ark_assets.partitions import split_key
from ark_assets.resources.hbase import HBaseResource

_EXAMPLES = 5


def _tenant_rows(
    hbase: HBaseResource, table: str, day: date, tenant: str, *, kind: bool, suffix: bool
) -> tuple[int, list[str]]:
    """(good keys of the tenant, bad keys) of the day's rows, read with the ten salted scans."""
    good, bad = 0, []
    for key, _ in hbase.scan_date(table, day):
        try:
            parsed = parse(key, kind=kind, suffix=suffix)
        except ValueError as exc:
            bad.append(f"{key.decode(errors='replace')}: {exc}")
            continue
        if parsed.tenant != tenant:
            continue
        if parsed.data_date != day:
            bad.append(f"{key.decode()}: date {parsed.data_date} outside the partition's day {day}")
        else:
            good += 1
    return good, bad


def row_key_check(asset: AssetsDefinition) -> AssetChecksDefinition:
    metadata = asset.specs_by_key[asset.key].metadata
    table, kind, suffix = metadata["hbase_table"], metadata["row_kind"], metadata["row_suffix"]

    @asset_check(
        asset=asset,
        name="row_keys",
        description=f"Every key of the partition in `{table}` follows "
        "the seed's row-key design (salt, date, ids, kind, tenant).",
    )
    def _row_keys(context: AssetCheckExecutionContext, hbase: HBaseResource) -> AssetCheckResult:
        day, tenant = split_key(context.op_execution_context.partition_key)
        good, bad = _tenant_rows(hbase, table, day, tenant, kind=kind, suffix=suffix)
        return AssetCheckResult(
            passed=not bad,
            severity=AssetCheckSeverity.ERROR,
            metadata={
                "rows_checked": good + len(bad),
                "bad_keys": len(bad),
                "examples": "\n".join(bad[:_EXAMPLES]),
            },
        )

    return _row_keys


def comparison_check(asset: AssetsDefinition, prefix: str) -> AssetChecksDefinition:
    metadata = asset.specs_by_key[asset.key].metadata
    table, kind, suffix = metadata["hbase_table"], metadata["row_kind"], metadata["row_suffix"]

    @asset_check(
        asset=asset,
        name="matches_comparison_table",
        description=f"The partition's row count in "
        f"`{table}` equals the one in `{prefix}_{table}` (the seed's production vs test comparison).",
    )
    def _compare(context: AssetCheckExecutionContext, hbase: HBaseResource) -> AssetCheckResult:
        day, tenant = split_key(context.op_execution_context.partition_key)
        ours, _ = _tenant_rows(hbase, table, day, tenant, kind=kind, suffix=suffix)
        other_hbase = hbase.model_copy(
            update={"table_prefix": "_".join(p for p in (prefix, hbase.table_prefix) if p)}
        )
        if not other_hbase.table_exists(table):
            return AssetCheckResult(
                passed=False,
                severity=AssetCheckSeverity.WARN,
                metadata={"reason": f"no table {other_hbase.full_name(table)}"},
            )
        theirs, _ = _tenant_rows(other_hbase, table, day, tenant, kind=kind, suffix=suffix)
        return AssetCheckResult(
            passed=ours == theirs,
            severity=AssetCheckSeverity.WARN,
            metadata={
                "rows": ours,
                "comparison_rows": theirs,
                "comparison_table": other_hbase.full_name(table),
            },
        )

    return _compare


def build_checks(
    assets: list[AssetsDefinition], compare_prefix: str | None = None
) -> list[AssetChecksDefinition]:
    """`row_keys` for every HBase-backed asset; the comparison when a prefix is configured."""
    compare_prefix = (
        compare_prefix if compare_prefix is not None else os.environ.get("ARK_COMPARE_TABLE_PREFIX")
    )
    checks = [row_key_check(a) for a in assets]
    if compare_prefix:
        checks += [comparison_check(a, compare_prefix) for a in assets]
    return checks
