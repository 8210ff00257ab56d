"""Contract: what failed in a partition is data, and one action re-fetches exactly it.

- A partition where one agent's token died: its advertiser listing and its accounts' funds fail;
  each materialization carries the failures as JSON (media, kind, code, message, attempts, every
  failed id) beside the Markdown table.
- The `rerun_failed` job (what the UI launches; `ark-assets rerun-failed` runs the same) re-fetches
  exactly those: the failed agent's listing and the failed accounts' funds, nothing else; their
  `completeness` checks turn green, the tables equal `ark-sim truth` again, nothing is left failing.
- `failed_only` with a hand-written slice is refused before anything is fetched.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from dagster import AssetKey, Definitions

from ark_assets.assets.failures import FAILED_JSON, FAILED_TABLE
from ark_assets.automation.freshness import freshness_checks
from ark_assets.automation.jobs import rerun_failed_job
from ark_assets.automation.rerun import partition_failures, rerun_failed
from ark_assets.automation.token_health import token_health_checks
from ark_assets.core.tiers import AgentTier
from ark_assets.media.registry import all_media
from ark_assets.partitions import partition_key
from ark_assets_tests.platform import ASSETS, DAY, Platform, api_versions, running_platform
from ark_sim.truth import truth

pytestmark = pytest.mark.stack

LISTING = AssetKey(["jrtt", "advertisers_first_tier"])
FUNDS = AssetKey(["jrtt", "funds"])


@pytest.fixture(scope="module")
def platform() -> Iterator[Platform]:
    with running_platform() as platform:
        yield platform


def _materialization(result, key: AssetKey):
    [event] = [e for e in result.get_asset_materialization_events() if e.asset_key == key]
    return event.event_specific_data.materialization


def _checks(result) -> dict[AssetKey, bool]:
    evaluations = result.get_asset_check_evaluations()
    return {e.asset_key: e.passed for e in evaluations if e.check_name == "completeness"}


def test_failed_accounts_are_json_and_one_job_reruns_exactly_them(platform: Platform) -> None:
    world, tenant, sim = platform.sim.world, platform.tenant, platform.sim
    key = str(partition_key(DAY, tenant))
    agent = world.agents("jrtt", tenant, tier=AgentTier.FIRST)[0].agent_id
    accounts = sorted(str(a) for a, g in world.accounts("jrtt", tenant, tier=AgentTier.FIRST) if g == agent)
    sim.expire_tokens("jrtt", tenant, agent, refresh=True)  # its token and refresh token both die
    try:
        broken = platform.run([LISTING.to_user_string(), FUNDS.to_user_string()])
    finally:
        sim.reset(tokens=True)
        platform.reseed()  # the cause is fixed: the agent has a working token again
    assert broken.success and _checks(broken) == {LISTING: False, FUNDS: False}

    funds = _materialization(broken, FUNDS).metadata
    record = funds[FAILED_JSON].value
    assert record["media"] == "jrtt" and record["failed"] == len(accounts)
    assert record["account_ids"] == accounts and record["agent_ids"] == [str(agent)]
    assert record["failed_by_kind"] == {"RefreshFailed": len(accounts)}
    first = record["failures"][0]
    assert first["media"] == "jrtt" and first["kind"] == "RefreshFailed" and first["agent_id"] == str(agent)
    assert first["code"] and first["message"] and first["attempts"] >= 1
    assert f"| {accounts[0]} | RefreshFailed |" in funds[FAILED_TABLE].value  # and the table for people
    listing = _materialization(broken, LISTING).metadata[FAILED_JSON].value
    assert listing["agent_ids"] == [str(agent)]

    failures = partition_failures(platform.instance, all_media(), key)
    assert {f.asset for f in failures["jrtt"]} == {LISTING, FUNDS} and set(failures) == {"jrtt"}

    job = Definitions(  # the shipped job, on the platform's resources
        assets=ASSETS,
        asset_checks=[freshness_checks(all_media()), token_health_checks(all_media())],
        jobs=[rerun_failed_job(all_media())],
        resources=platform.with_resources(None),
    ).resolve_job_def("rerun_failed")
    result = rerun_failed(job, platform.instance, key, failures)
    assert result.success
    assert {e.asset_key for e in result.get_asset_materialization_events()} == {LISTING, FUNDS}
    assert _checks(result) == {LISTING: True, FUNDS: True}  # the red checks turn green
    rerun_funds = _materialization(result, FUNDS).metadata
    assert rerun_funds["accounts_requested"].value == len(accounts)  # exactly the failed ones
    assert rerun_funds[FAILED_JSON].value["failed"] == 0
    assert _materialization(result, LISTING).metadata["accounts_listed"].value == len(accounts)  # one agent's
    assert partition_failures(platform.instance, all_media(), key) == {}
    # nothing lost or duplicated
    assert platform.tables() == truth(world, tenant, DAY, api_versions())["tables"]


def test_failed_only_refuses_a_hand_written_slice(platform: Platform) -> None:
    result = platform.run([FUNDS.to_user_string()], config={"failed_only": True, "account_list": ["1"]})
    assert not result.success
    [failure] = [e for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
    assert "failed_only re-runs what failed" in failure.message + str(failure.event_specific_data.error)
