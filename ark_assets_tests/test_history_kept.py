"""Contract: history is never lost to a re-run.

- A re-run deletes a stored row only when the media answered for its account that day without it:
  an account that left the day's Redis lists (nobody asked the media about it) keeps its rows, in
  HBase and in FILE output alike (`io/coverage.py`).
- A date the media no longer serve (wx `daily_reports/get`: 365 days back) is refused before any
  call, with the reason and the source, and the rows stored for that date stay as they were.
- A backfill over a range says which partitions it skips, and why (`ark-assets backfill --dry-run`).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from ark_assets.cli import main
from ark_assets.core.days import today
from ark_assets.core.rowkey import RowKey
from ark_assets.core.tables import table_name
from ark_assets.io.hbase_io_manager import HBaseIOManager
from ark_assets.io.layout import TableLayout
from ark_assets.resources.hbase import DATA_COLUMN
from ark_assets.resources.redis_store import RedisResource
from ark_assets_tests.fault_matrix import step_errors
from ark_assets_tests.platform import DAY, Platform, running_platform

pytestmark = pytest.mark.stack

FUNDS_TABLE = table_name("wx", "funds_get_v2")
REPORT = "wx/daily_report_advertiser"
REPORT_TABLE = table_name("wx", "daily_report_advertiser_v3")


@pytest.fixture(scope="module")
def platform() -> Iterator[Platform]:
    with running_platform(first_run=False) as platform:
        yield platform


def _stored(io_manager: HBaseIOManager, table: str, tenant: str, day=DAY) -> Counter:
    """account -> rows of the partition, as the output mode's readers find them."""
    layout = TableLayout(table, kind=True)
    return Counter(
        parsed.account_id
        for key in io_manager.sink.scan_keys(table, day, tenant)
        if (parsed := layout.parse(key)).tenant == tenant
    )


def _without_one_account(platform: Platform) -> str:
    """Take one account out of the day's wx lists (as if it left its agent); returns it."""
    sets = RedisResource().sets
    agent = platform.sim.world.agents("wx", platform.tenant)[0].agent_id
    accounts = sets.accounts("wx", platform.tenant, DAY, agent_id=agent)
    gone = sorted(accounts)[0]
    del accounts[gone]
    sets.write_accounts("wx", platform.tenant, DAY, accounts, agent_id=agent)
    return gone


@pytest.mark.parametrize("output", ["HBASE", "FILE"])
def test_an_account_gone_from_the_days_lists_keeps_its_rows(
    platform: Platform, output: str, tmp_path: Path
) -> None:
    io_manager = HBaseIOManager(hbase=platform.hbase, output=output, file_dir=str(tmp_path))
    resources = {"io_manager": io_manager}
    first = platform.run(["wx/funds"], resources=resources)
    assert first.success, step_errors(first)
    before = _stored(io_manager, FUNDS_TABLE, platform.tenant)
    gone = _without_one_account(platform)
    try:
        rerun = platform.run(["wx/funds"], resources=resources)
    finally:
        platform.reseed()
    assert rerun.success, step_errors(rerun)

    after = _stored(io_manager, FUNDS_TABLE, platform.tenant)
    assert after == before and after[gone] > 0  # the account nobody asked about keeps its funds
    [event] = rerun.get_asset_materialization_events()
    meta = {k: v.value for k, v in event.event_specific_data.materialization.metadata.items()}
    assert (meta["stale_rows_deleted"], meta["rows_kept"]) == (0, before[gone])
    assert meta["covered_accounts"] == len(before) - 1


def _plant_legacy_rows(platform: Platform, day) -> dict[bytes, bytes]:
    """Rows a legacy job stored for `day` long ago: what a refused re-run must leave alone."""
    platform.hbase.ensure_table(REPORT_TABLE)
    planted = {}
    for account, agent in list(platform.sim.world.accounts("wx", platform.tenant))[:5]:
        key = str(RowKey(str(account), day, str(agent), platform.tenant)).encode()
        planted[key] = json.dumps({"tenant_alias": platform.tenant, "data": [{"legacy": 1}]}).encode()
    with platform.hbase.writer(REPORT_TABLE) as writer:
        for key, value in planted.items():
            writer.put(key, {DATA_COLUMN: value})
    return planted


def test_a_date_the_media_no_longer_serve_is_refused_before_any_call_and_keeps_its_rows(
    platform: Platform,
) -> None:
    old = today() - timedelta(days=400)  # wx daily reports: 365 days back
    platform.reseed(old)  # the day's account lists are in Redis: nothing but the date stops a fetch
    planted = _plant_legacy_rows(platform, old)
    calls = platform.sim.counters()["requests"].get("wx daily_reports/get", {})

    result = platform.run([REPORT], day=old)

    assert not result.success
    [error] = {e for e in step_errors(result) if "refused before any call" in e}
    assert f"{old} is outside what wx serves of daily_reports/get (365 days back" in error
    assert "developers.e.qq.com/docs/insights/ad_insights/daily" in error
    assert platform.sim.counters()["requests"].get("wx daily_reports/get", {}) == calls  # no call
    assert not result.get_asset_materialization_events()
    assert {key: platform.hbase.row(REPORT_TABLE, key)[DATA_COLUMN] for key in planted} == planted


def test_a_backfill_plan_says_which_partitions_it_skips(platform: Platform, tmp_path: Path) -> None:
    start = today() - timedelta(days=367)
    runner = CliRunner()
    result = runner.invoke(
        main,
        [
            "backfill",
            "wx_daily",
            "--from",
            str(start),
            "--to",
            str(start + timedelta(days=3)),
            "--tenant",
            platform.tenant,
            "--dry-run",
        ],
        env={"DAGSTER_HOME": str(tmp_path)},
    )
    assert result.exit_code == 0, result.output
    skipped = [f"{start + timedelta(days=d)}|{platform.tenant}" for d in (0, 1)]
    kept = [f"{start + timedelta(days=d)}|{platform.tenant}" for d in (2, 3)]
    assert "skipping 2 of 4 partitions" in result.output
    lines = {line.split(": ", 1)[0].strip(): line for line in result.output.splitlines()}
    for key in skipped:
        assert "wx/daily_report_advertiser" in lines[f"skip {key}"]
        assert "365 days back" in lines[f"skip {key}"]
    assert f"would launch 2 partitions: {','.join(kept)}" in result.output
