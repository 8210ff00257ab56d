"""Contract: alerts match what happened, one Sentry event per failure.

- A partition where some accounts failed is a successful run with a red `completeness` check,
  and one alert naming the tenant, media, date and counts (by error kind).
- With `ARK_COMPLETENESS_BLOCKING=1` the same partition fails its run -- and is still one alert:
  the run-failure sensor does not repeat what the step already sent.
- A step that fails after alerting (an empty source list) is one event, not two; the run-failure
  sensor, given that failed run, sends nothing more and leaves the run-log row its step closed.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from dagster import AssetKey, DagsterEventType, build_run_status_sensor_context, materialize

from ark_assets.assets.build import media_assets
from ark_assets.automation.sensors import build_sensors
from ark_assets.core.tiers import AgentTier
from ark_assets.media.registry import all_media
from ark_assets.partitions import partition_key
from ark_assets.resources.sentry import SentryResource
from ark_assets_tests.platform import Platform, running_platform

pytestmark = pytest.mark.stack

SENSORS = {s.name: s for s in build_sensors(all_media())}


@pytest.fixture(scope="module")
def platform() -> Iterator[Platform]:
    with running_platform() as platform:
        yield platform


def _events_of(platform: Platform, run_id: str) -> list[dict]:
    return [e for e in platform.sink.events if e.get("tags", {}).get("run_id") == run_id]


def _failed_accounts(platform: Platform) -> str:
    """Kill one first-tier jrtt agent's token and refresh token; its accounts' funds will fail."""
    world, tenant = platform.sim.world, platform.tenant
    agent = world.agents("jrtt", tenant, tier=AgentTier.FIRST)[0].agent_id
    platform.sim.expire_tokens("jrtt", tenant, agent, refresh=True)
    return agent


def _sensor_on(platform: Platform, result) -> None:
    failure = next(e for e in result.all_events if e.event_type == DagsterEventType.RUN_FAILURE)
    with build_run_status_sensor_context(
        sensor_name="run_failure_alert",
        dagster_event=failure,
        dagster_instance=platform.instance,
        dagster_run=result.dagster_run,
        resources={"mysql": platform.mysql, "sentry": SentryResource(dsn=platform.sink.dsn)},
    ) as context:
        SENSORS["run_failure_alert"](context.for_run_failure())


def test_failed_accounts_alert_once_with_tenant_media_date_and_counts(platform: Platform) -> None:
    agent = _failed_accounts(platform)
    try:
        result = platform.run(["jrtt/funds"])
    finally:
        platform.sim.reset(tokens=True)
        platform.reseed()
    assert result.success  # the good accounts are stored; the check is red
    [check] = [e for e in result.get_asset_check_evaluations() if e.check_name == "completeness"]
    assert not check.passed
    platform.sink.wait_for(1, timeout=10)
    [event] = _events_of(platform, result.run_id)
    failed = check.metadata["sources_failed"].value
    assert event["tags"]["tenant"] == platform.tenant and event["tags"]["media"] == "jrtt"
    assert event["tags"]["date"] == str(platform.day) and event["level"] == "error"
    assert event["message"].startswith(f"{failed} of ") and f"RefreshFailed {failed}" in event["message"]
    assert event["extra"]["failed"] == failed and event["extra"]["requested"] > failed
    assert agent  # one agent's accounts, the rest fetched


def test_a_blocking_completeness_check_fails_the_run_and_still_alerts_once(
    platform: Platform, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ARK_COMPLETENESS_BLOCKING", "1")
    jrtt = next(m for m in all_media() if m.name == "jrtt")
    assets = media_assets(jrtt)  # built with the setting, as definitions are at load time
    _failed_accounts(platform)
    try:
        result = materialize(
            [*[a for m in all_media() if m is not jrtt for a in media_assets(m)], *assets],
            selection=[AssetKey(["jrtt", "funds"])],
            partition_key=str(partition_key(platform.day, platform.tenant)),
            resources=platform.with_resources(None),
            instance=platform.instance,
            raise_on_error=False,
        )
    finally:
        platform.sim.reset(tokens=True)
        platform.reseed()
    assert not result.success  # the blocking check failed the run
    _sensor_on(platform, result)
    assert len(_events_of(platform, result.run_id)) == 1  # the step's alert; the sensor sent nothing


def test_a_step_that_alerted_and_failed_is_one_event_and_the_sensor_adds_none(platform: Platform) -> None:
    import redis

    raw = redis.Redis(db=2)
    keys = list(raw.scan_iter(match=f"gdt_advertiser_v1.1_{platform.tenant}_*"))
    saved = {k: raw.zrange(k, 0, -1, withscores=True) for k in keys}
    raw.delete(*keys)  # the day's account list is gone: "empty source list"
    try:
        result = platform.run(["gdt/funds"])
    finally:
        for key, members in saved.items():
            raw.zadd(key, dict(members))
    assert not result.success
    platform.sink.wait_for(1, timeout=10)
    assert len(_events_of(platform, result.run_id)) == 1  # the alert; the step's failure says the same
    _sensor_on(platform, result)
    assert len(_events_of(platform, result.run_id)) == 1
