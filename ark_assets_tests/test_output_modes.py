"""Output modes end to end: what FILE and NONE write, what their checks read, what the run log says.

The contract: a media step in output mode FILE writes the seed's files and nothing to HBase; its
`row_keys` check reads those files (the rows it counts are the files' lines, and a bad key in a
file fails it); in mode NONE nothing is stored and each check says there was nothing to check;
the MySQL run log records the mode the rows were really written in (the seed's `output`
parameter), not HBASE whatever the setting. The checks are also driven directly on a sink of
files (no service needed) to show that they read what the mode wrote.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pymysql
import pytest
from dagster import AssetKey

from ark_assets.assets.checks import COMPARISON, ROW_KEYS, comparison, row_keys
from ark_assets.core.rowkey import RowKey
from ark_assets.core.tables import table_name
from ark_assets.io.file_sink import FileSink
from ark_assets.io.files import LocalFiles
from ark_assets.io.hbase_io_manager import HBaseIOManager
from ark_assets.io.layout import RowEncoder, TableLayout
from ark_assets.io.rows import Row, RowSpool
from ark_assets.io.sinks import NoSink
from ark_assets_tests.platform import ASSETS, Platform, running_platform

WX = ["wx/agents", "wx/advertisers", "wx/funds"]
FUNDS = AssetKey(["wx", "funds"])
DAY = date(2026, 11, 25)


@pytest.fixture(scope="module")
def platform() -> Iterator[Platform]:
    with running_platform(first_run=False) as platform:
        yield platform


def _run_log_outputs(platform: Platform, tenant: str) -> dict[str, str]:
    """The seed's `output` parameter of each asset's run-log row for `tenant`."""
    conn = pymysql.connect(host="127.0.0.1", user="ark", password="ark", database=platform.mysql.log_database)
    with conn.cursor() as cur:
        cur.execute("SELECT cur_job_name, params FROM api_result_log WHERE tenant_alias = %s", (tenant,))
        rows = cur.fetchall()
    conn.close()
    return {job: json.loads(params)["output"] for job, params in rows}


def _checks(result, name: str) -> dict[AssetKey, object]:
    return {e.asset_key: e for e in result.get_asset_check_evaluations() if e.check_name == name}


@pytest.mark.stack
def test_file_mode_writes_files_checks_them_and_logs_file(platform: Platform, tmp_path: Path) -> None:
    tenant = platform.add_tenant()
    io_manager = HBaseIOManager(hbase=platform.hbase, output="FILE", file_dir=str(tmp_path))
    result = platform.run(WX, tenant=tenant, resources={"io_manager": io_manager})
    assert result.success

    table = table_name("wx", "funds_get_v2")
    files = sorted((tmp_path / "20261125" / tenant / table).glob("*.json"))
    lines = [json.loads(line) for path in files for line in path.read_text().splitlines()]
    assert lines and all(line["tenant_alias"] == tenant for line in lines)
    check = _checks(result, ROW_KEYS)[FUNDS]
    assert check.passed
    assert check.metadata["output"].value == "FILE"
    assert check.metadata["rows_checked"].value == len(lines)  # the files' lines, not HBase's rows
    assert not platform.hbase.table_exists(table) or platform.rows("wx", "funds_get_v2") == 0
    assert set(_run_log_outputs(platform, tenant).values()) == {"FILE"}


@pytest.mark.stack
def test_none_mode_has_nothing_to_check_and_logs_none(platform: Platform) -> None:
    tenant = platform.add_tenant()
    io_manager = HBaseIOManager(hbase=platform.hbase, output="NONE")
    result = platform.run(WX, tenant=tenant, resources={"io_manager": io_manager})
    assert result.success

    checks = _checks(result, ROW_KEYS)
    assert set(checks) == {AssetKey(a.split("/")) for a in WX}
    for check in checks.values():
        assert check.passed and check.metadata["checked"].value is False
        assert "Nothing to check: output mode NONE stores no rows" in check.description
    assert set(_run_log_outputs(platform, tenant).values()) == {"NONE"}


# ##### the checks on a sink of files (no service)

SPEC = next(spec for a in ASSETS for spec in a.specs if spec.key == FUNDS)


def _write(sink: FileSink, rows: list[Row], tenant: str = "T100117") -> None:
    layout = TableLayout.from_metadata(SPEC.metadata, "wx/funds")
    spool = RowSpool.create(layout.table, DAY, tenant)
    for row in rows:
        spool.write(row)
    sink.write(spool, RowEncoder(layout, DAY, tenant, 1, "wx/funds"))
    spool.discard()


def test_row_keys_reads_the_files_and_fails_on_a_bad_key(tmp_path: Path) -> None:
    sink = FileSink(LocalFiles(), str(tmp_path))
    _write(sink, [Row(str(10_000_000 + i), "42", {"balance": i}, kind="CASH") for i in range(7)])
    good = row_keys(sink, SPEC, DAY, "T100117")
    assert good.passed and good.metadata["rows_checked"].value == 7

    table = SPEC.metadata["hbase_table"]
    [index0] = (tmp_path / "20261125" / "T100117" / table).glob("*_0.json")
    bad_key = str(RowKey("10000003", DAY, "42", "T100117", kind="CASH")).replace(
        "3|", "4|", 1
    )  # a wrong salt
    with index0.open("a") as out:
        out.write(json.dumps({"row_key": bad_key, "tenant_alias": "T100117", "data": {}}) + "\n")
    bad = row_keys(sink, SPEC, DAY, "T100117")
    assert not bad.passed and bad.metadata["bad_keys"].value == 1
    assert bad_key in bad.metadata["examples"].value


def test_the_comparison_counts_the_other_table_sets_files(tmp_path: Path) -> None:
    sink = FileSink(LocalFiles(), str(tmp_path))
    rows = [Row(str(10_000_000 + i), "42", {"balance": i}, kind="CASH") for i in range(5)]
    missing = comparison(sink, SPEC, DAY, "T100117", "cmp")
    assert not missing.passed and "holds nothing" in missing.metadata["reason"].value
    _write(sink, rows)
    _write(sink.with_prefix("cmp"), rows[:4])
    result = comparison(sink, SPEC, DAY, "T100117", "cmp")
    assert not result.passed
    assert (result.metadata["rows"].value, result.metadata["comparison_rows"].value) == (5, 4)
    assert result.metadata["comparison_table"].value == f"cmp_{SPEC.metadata['hbase_table']}"


def test_with_output_none_every_check_says_nothing_was_checked() -> None:
    for result in (row_keys(NoSink(), SPEC, DAY, "T1"), comparison(NoSink(), SPEC, DAY, "T1", "cmp")):
        assert result.check_name in (ROW_KEYS, COMPARISON)
        assert result.passed and result.metadata["checked"].value is False
        assert "output mode NONE stores no rows" in result.description
