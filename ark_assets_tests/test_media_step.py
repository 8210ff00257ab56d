"""The execution shape: one step per media (`assets/media_step.py`), on the real stack.

The contract:
- a partition runs as one step per media, every asset still its own materialization with its
  own metadata, and `completeness` (fetch assets) and `row_keys` (every asset) reported per asset;
- a media's endpoints are fetched side by side within its step (their run-log intervals overlap),
  and the step's log says how each fetch went (a progress line at each fetch's end);
- selecting one asset runs just it (and its checks) in its media's step; a slice can be given to
  one asset of the step (`assets: {name: {...}}`); an account list whose agent list is not in the
  step reads the stored agent list;
- one endpoint failing (every call refused) leaves the media's other endpoints complete, its own
  asset materialized with a failed `completeness` check and its stored rows kept; an asset whose
  work raises fails the step at the end, naming it, after the others were materialized;
- a check selected without its asset is evaluated on what is stored.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pymysql
import pytest
import redis
from dagster import AssetCheckKey, AssetKey, AssetSelection, Definitions, define_asset_job

from ark_assets.media.registry import all_media
from ark_assets.partitions import partition_key
from ark_assets_tests.fault_matrix import changed, fault_platform, snapshot, step_errors
from ark_assets_tests.platform import ASSETS, HOURLY_REPORT, Platform

pytestmark = pytest.mark.stack  # every test here runs against the real services

EVERY_ASSET = sorted(k.to_user_string() for a in ASSETS for k in a.keys)
HOURLY = f"gdt/{HOURLY_REPORT}"  # the hourly report of the API version this run speaks
GDT_DATASETS = ["gdt/funds", "gdt/daily_report_adgroup", HOURLY]

# ##### FIXTURES


@pytest.fixture(scope="module")
def platform() -> Iterator[Platform]:
    # unique apps: the daily quota this module spends, and its governors, are its own
    with fault_platform() as platform:
        platform.sim.set_faults("gdt", median_ms=30, sigma=0.2)  # fetches take long enough to overlap
        first = platform.run()
        assert first.success, step_errors(first)
        platform.first = first
        yield platform


def _materialized(result: Any) -> dict[str, Any]:
    """asset -> (its step, its materialization's metadata as plain values)."""
    found = {}
    for event in result.get_asset_materialization_events():
        materialization = event.step_materialization_data.materialization
        metadata = {k: getattr(v, "value", v) for k, v in materialization.metadata.items()}
        found[materialization.asset_key.to_user_string()] = (event.step_key, metadata)
    return found


def _checks(result: Any) -> dict[tuple[str, str], bool]:
    return {
        (e.asset_key.to_user_string(), e.check_name): e.passed for e in result.get_asset_check_evaluations()
    }


def _run_log(platform: Platform, run_id: str) -> dict[str, tuple]:
    conn = pymysql.connect(host="127.0.0.1", user="ark", password="ark", database=platform.mysql.log_database)
    with conn.cursor() as cur:
        cur.execute(
            "SELECT cur_job_name, status, started_at, ended_at FROM api_result_log WHERE run_id = %s",
            (run_id,),
        )
        rows = cur.fetchall()
    conn.close()
    return {job: (status, started, ended) for job, status, started, ended in rows}


# ##### TESTS


def test_a_partition_is_one_step_per_media_with_a_materialization_and_checks_per_asset(
    platform: Platform,
) -> None:
    found = _materialized(platform.first)
    assert sorted(found) == EVERY_ASSET
    assert {asset: step for asset, (step, _) in found.items()} == {a: a.split("/")[0] for a in EVERY_ASSET}
    steps = {e.step_key for e in platform.first.get_step_success_events()}
    assert steps == {m.name for m in all_media()}  # nothing else ran: no check steps
    for asset, (_, metadata) in found.items():
        assert "rows_written" in metadata, asset  # the IO manager's own metadata, per asset
        if "agents" not in asset.split("/")[1]:
            assert metadata["accounts_requested"] == metadata["accounts_succeeded"] > 0, asset
    checks = _checks(platform.first)
    assert {a for a, name in checks if name == "row_keys"} == set(EVERY_ASSET)
    assert {a for a, name in checks if name == "completeness"} == {
        a for a in EVERY_ASSET if "agents" not in a.split("/")[1]
    }
    assert all(checks.values())


def test_a_medias_endpoints_are_fetched_side_by_side_in_its_step(platform: Platform) -> None:
    log = _run_log(platform, platform.first.run_id)
    datasets = [log[a] for a in ("gdt/funds", "gdt/daily_report_adgroup", HOURLY)]
    assert all(status == "SUCCEEDED" for status, _, _ in datasets)
    latest_start = max(started for _, started, _ in datasets)
    earliest_end = min(ended for _, _, ended in datasets)
    assert latest_start < earliest_end, datasets  # all three were fetching at one instant
    listing = log["gdt/advertisers"]
    assert listing[2] <= min(started for _, started, _ in datasets)  # after the account list
    messages = [e.user_message for e in platform.instance.all_logs(platform.first.run_id)]
    for asset, endpoint in (("gdt/funds", "funds/get"), (HOURLY, "hourly_reports/get")):
        assert any(m.startswith(f"{asset} {endpoint}: done, ") for m in messages), asset


def test_one_selected_asset_runs_alone_in_its_medias_step(platform: Platform) -> None:
    before = platform.tables()
    result = platform.run(["wx/daily_report_adgroup"])
    assert result.success, step_errors(result)
    assert {a: step for a, (step, _) in _materialized(result).items()} == {"wx/daily_report_adgroup": "wx"}
    assert set(_checks(result)) == {
        ("wx/daily_report_adgroup", "completeness"),
        ("wx/daily_report_adgroup", "row_keys"),
        ("wx/daily_report_adgroup", "volume"),
    }
    assert platform.tables() == before


def test_a_slice_can_be_given_to_one_asset_of_the_step(platform: Platform) -> None:
    account = str(platform.sim.world.accounts("gdt", platform.tenant)[0][0])
    before = platform.tables()
    result = platform.run(
        ["gdt/funds", "gdt/daily_report_adgroup"], config={"assets": {"funds": {"account_list": [account]}}}
    )
    assert result.success, step_errors(result)
    found = _materialized(result)
    assert found["gdt/funds"][1]["accounts_requested"] == 1  # its own slice
    assert found["gdt/funds"][1]["covered_accounts"] == 1  # only its rows could be replaced
    total = len(platform.sim.world.accounts("gdt", platform.tenant))
    assert found["gdt/daily_report_adgroup"][1]["accounts_requested"] == total  # the whole partition
    assert platform.tables() == before


def test_an_account_list_without_its_agent_list_in_the_step_reads_the_stored_one(platform: Platform) -> None:
    result = platform.run(["gdt/advertisers"])
    assert result.success, step_errors(result)
    [(_, metadata)] = _materialized(result).values()
    assert metadata["accounts_listed"] == len(platform.sim.world.accounts("gdt", platform.tenant))


def test_one_endpoint_failing_leaves_the_other_endpoints_of_the_media_complete(platform: Platform) -> None:
    sim = platform.sim
    before = snapshot(platform, GDT_DATASETS)
    sim.set_quotas("gdt", "hourly_reports/get", per_day=3)  # the endpoint's daily quota is all but spent
    # per account: on v3.0 the agencies' async tasks would answer the hourly report without it
    per_account = {"media_api": changed(platform.resources["media_api"], bulk_reports=False)}
    try:
        result = platform.run(GDT_DATASETS, resources=per_account)
    finally:
        sim.set_quotas(
            "gdt", "hourly_reports/get", **sim.config.quota_limits("gdt", "hourly_reports/get").model_dump()
        )
        app = platform.resources["media_api"].app("gdt").app_id
        raw = redis.Redis(db=2)
        for key in raw.scan_iter(match=f"ark:quota_exhausted:gdt:{app}:*"):
            raw.delete(key)
    assert result.success, step_errors(result)  # failed accounts are the checks' business, not the run's
    found, checks = _materialized(result), _checks(result)
    assert sorted(found) == sorted(GDT_DATASETS)
    hourly = found[HOURLY][1]
    assert hourly["accounts_failed"] > 0 and "DailyQuotaExhausted" in str(hourly["failed_accounts"])
    assert not checks[(HOURLY, "completeness")]
    for asset in ("gdt/funds", "gdt/daily_report_adgroup"):  # the media's other endpoints
        assert found[asset][1]["accounts_failed"] == 0
        assert checks[(asset, "completeness")] and checks[(asset, "row_keys")]
    assert snapshot(platform, GDT_DATASETS) == before  # the failed accounts kept their stored rows


def test_an_asset_that_fails_fails_the_step_after_the_others_are_materialized(platform: Platform) -> None:
    before = platform.tables()
    result = platform.run(
        GDT_DATASETS, config={"assets": {"daily_report_adgroup": {"account_list": ["999999999"]}}}
    )
    assert not result.success
    assert sorted(_materialized(result)) == ["gdt/funds", HOURLY]
    assert all(_checks(result).values())
    errors = " ".join(step_errors(result))
    assert "1 of 3 gdt assets failed" in errors and "gdt/daily_report_adgroup" in errors
    assert "not in the day's account lists: 999999999" in errors
    assert platform.tables() == before


def test_a_check_selected_alone_is_evaluated_on_what_is_stored(platform: Platform) -> None:
    funds = AssetKey(["wx", "funds"])
    checks = AssetSelection.checks(AssetCheckKey(funds, "row_keys"), AssetCheckKey(funds, "completeness"))
    # a job of the two checks alone, with the partition as a run tag: what the UI's "Execute" on a
    # check of a partition launches
    job = define_asset_job("wx_funds_checks", selection=checks)
    defs = Definitions(assets=ASSETS, jobs=[job], resources=platform.with_resources(None))
    result = defs.resolve_job_def("wx_funds_checks").execute_in_process(
        tags={"dagster/partition": str(partition_key(platform.day, platform.tenant))},
        instance=platform.instance,
    )
    assert result.success and not result.get_asset_materialization_events()
    evaluations = {e.check_name: e for e in result.get_asset_check_evaluations()}
    assert set(evaluations) == {"row_keys", "completeness"} and all(e.passed for e in evaluations.values())
    assert evaluations["row_keys"].metadata["rows_checked"].value == platform.rows("wx", "funds_get_v2")
    assert "evaluated_from" in evaluations["completeness"].metadata
