"""Contract: an empty or collapsed day never looks green, and `completeness` counts what Redis lists.

- `volume`: a partition whose accounts all answered with no record (0 rows) where the tenant's last
  days had rows warns, with the numbers in its metadata, while `completeness` passes (nothing
  failed) and the run succeeds; with `ARK_VOLUME_BLOCKING=1` the same day fails the run.
- `completeness` counts the expected sources from the day's account lists in Redis after the fetch,
  not from the list the fetch walked: accounts listed under an agent the fetch never reached (an
  upstream system wrote the agent's key) make it fail, naming them.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from dagster import AssetKey, materialize

from ark_assets.assets.build import media_assets
from ark_assets.media.registry import media as media_named
from ark_assets.partitions import partition_key
from ark_assets.resources.redis_store import RedisResource
from ark_assets_tests.fault_matrix import step_errors
from ark_assets_tests.platform import DAY, Platform, running_platform

pytestmark = pytest.mark.stack

REPORT = "wx/daily_report_advertiser"
FUNDS = "wx/funds"


@pytest.fixture(scope="module")
def platform() -> Iterator[Platform]:
    with running_platform(first_run=False) as platform:
        yield platform


def _checks(result, asset: str) -> dict:
    key = AssetKey(asset.split("/"))
    return {e.check_name: e for e in result.get_asset_check_evaluations() if e.asset_key == key}


def _only_idle_accounts(platform: Platform) -> int:
    """Rewrite the day's wx lists with only the accounts that spent nothing on DAY (as a truncated
    upstream list would); returns how many are left."""
    world, sets = platform.sim.world, RedisResource().sets
    left = 0
    for agent in world.agents("wx", platform.tenant):
        accounts = sets.accounts("wx", platform.tenant, DAY, agent_id=agent.agent_id)
        idle = {a: g for a, g in accounts.items() if not world.spends("wx", int(a), DAY)}
        sets.write_accounts("wx", platform.tenant, DAY, idle, agent_id=agent.agent_id)
        left += len(idle)
    return left


def test_a_day_of_empty_answers_warns_against_the_trailing_days_and_can_block(
    platform: Platform, monkeypatch: pytest.MonkeyPatch
) -> None:
    for back in (3, 2, 1):
        day = DAY - timedelta(days=back)
        platform.reseed(day)
        done = platform.run([REPORT], day=day)
        assert done.success, step_errors(done)
    platform.reseed(DAY)
    assert _only_idle_accounts(platform) > 0

    result = platform.run([REPORT])
    assert result.success, step_errors(result)
    checks = _checks(result, REPORT)
    assert checks["completeness"].passed  # every listed account answered: nothing failed
    volume = checks["volume"]
    meta = {k: v.value for k, v in volume.metadata.items()}
    assert not volume.passed and volume.severity.value == "WARN"
    assert meta["rows"] == 0 and meta["trailing_days_found"] == 3 and meta["trailing_median_rows"] > 0
    assert volume.description.startswith("0 rows where the last 3 days had")

    monkeypatch.setenv("ARK_VOLUME_BLOCKING", "1")
    blocking = media_assets(media_named("wx"), compare_prefix="")
    blocked = materialize(
        blocking,
        selection=[AssetKey(REPORT.split("/"))],
        partition_key=str(partition_key(DAY, platform.tenant)),
        resources=platform.with_resources(None),
        instance=platform.instance,
        raise_on_error=False,
    )
    assert not blocked.success
    assert _checks(blocked, REPORT)["volume"].severity.value == "ERROR"
    platform.reseed(DAY)


def test_completeness_counts_the_accounts_redis_lists_not_the_ones_fetched(platform: Platform) -> None:
    stray_agent = "99999901"  # its key of the day was written upstream; no agent key names it
    stray = {"10000000001": stray_agent, "10000000002": stray_agent}
    sets = RedisResource().sets
    sets.write_accounts("wx", platform.tenant, DAY, stray, agent_id=stray_agent)
    try:
        result = platform.run([FUNDS])
    finally:
        sets.write_accounts("wx", platform.tenant, DAY, {}, agent_id=stray_agent)
    assert result.success, step_errors(result)
    completeness = _checks(result, FUNDS)["completeness"]
    meta = {k: v.value for k, v in completeness.metadata.items()}
    assert not completeness.passed
    assert meta["sources_expected"] == meta["sources_with_outcome"] + 2 and meta["sources_failed"] == 0
    assert meta["listed_not_fetched"] == 2 and meta["not_fetched"] == "10000000001, 10000000002"

    clean = platform.run([FUNDS])  # the stray key gone: green again
    assert _checks(clean, FUNDS)["completeness"].passed
