"""Contract: a dying or refused token is seen before the morning's run fails, once per agent.

Against the simulator (wx refresh tokens it issues live 3 days here) and the real Redis:
- a refresh the platform makes records the pair's lives from the answer; a refused refresh is
  recorded too (`ark:token_health:*`, beside the seed's keys, no token in it);
- the `token_health` sensor then reports the agents' check (`wx/agents`): red, one agent
  `refused` (re-authorise upstream) and one whose refresh token `refresh_expiring` in 3 days
  (`ARK_TOKEN_WARN_DAYS` 7), a table of every agent in its metadata; one Sentry alert per agent;
- the next tick with nothing changed reports nothing and alerts no one again;
- once the agents are re-authorised upstream (working pairs in Redis, a refresh that succeeds),
  the check is green again, with no alert.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from dagster import SensorResult, SkipReason

from ark_assets.automation.token_health import watch
from ark_assets.clients.token_health import HEALTH_KEY, TokenHealth
from ark_assets.media.registry import all_media
from ark_assets.resources.redis_store import RedisResource
from ark_assets.resources.sentry import SentryResource
from ark_assets_tests.fault_matrix import step_errors
from ark_assets_tests.platform import Platform, running_platform

pytestmark = pytest.mark.stack

WX = [m for m in all_media() if m.name == "wx"]


@pytest.fixture(scope="module")
def platform() -> Iterator[Platform]:
    three_days = {"media": {"wx": {"tokens": {"refresh_ttl_s": 3 * 86_400}}}}
    with running_platform(first_run=False, **three_days) as platform:
        yield platform


def _token_alerts(platform: Platform) -> list[dict]:
    return [e for e in platform.sink.events if "token_state" in (e.get("extra") or {})]


def _wait_for_token_alerts(platform: Platform, count: int, timeout: float = 10.0) -> list[dict]:
    deadline = time.monotonic() + timeout
    while len(found := _token_alerts(platform)) < count and time.monotonic() < deadline:
        time.sleep(0.1)
    return found


def _tick(platform: Platform, cursor: str | None):
    sentry = SentryResource(dsn=platform.sink.dsn)
    return watch([platform.tenant], WX, RedisResource().sets, sentry, time.time(), cursor)


def test_a_refused_and_a_dying_token_are_seen_and_alerted_once(
    platform: Platform, monkeypatch: pytest.MonkeyPatch
) -> None:
    sim, tenant = platform.sim, platform.tenant
    refreshed, refused = (a.agent_id for a in sim.world.agents("wx", tenant)[:2])
    before = _tick(platform, None)  # tokens as seeded upstream: alive, age unknown
    assert isinstance(before, SensorResult) and all(e.passed for e in before.asset_events)

    sim.expire_tokens("wx", tenant, refreshed)  # its access token died: refreshed once in the run
    sim.expire_tokens("wx", tenant, refused, refresh=True)  # both died: the refresh is refused
    run = platform.run(["wx/funds"])
    assert run.success, step_errors(run)
    records = TokenHealth(RedisResource().sets).records("wx", tenant)
    assert records[str(refused)].refused["code"] == "11012"
    assert 2.9 * 86_400 < records[str(refreshed)].refresh_expires_at - time.time() <= 3 * 86_400
    stored = RedisResource().sets.client().hgetall(HEALTH_KEY.format(media="wx", tenant=tenant))
    sets = RedisResource().sets
    tokens = {*sets.tokens("wx", tenant).values(), *sets.refresh_tokens("wx", tenant).values()}
    assert not any(t.encode() in value for t in tokens for value in stored.values())  # no token kept

    first = _tick(platform, before.cursor)
    assert isinstance(first, SensorResult)
    [check] = first.asset_events
    meta = {k: v.value for k, v in check.metadata.items()}
    assert check.asset_key.to_user_string() == "wx/agents"
    assert not check.passed and check.severity.value == "ERROR"
    assert (meta["agents_refused"], meta["agents_refresh_expiring"]) == (1, 1)
    table = meta["agents_table"]
    assert f"| {refused} | refused | its token refresh was refused (RefreshFailed 11012" in table
    assert f"| {refreshed} | refresh_expiring | its refresh token expires in 3.0 days" in table
    alerts = {a["tags"]["agent"]: a for a in _wait_for_token_alerts(platform, 2)}
    assert set(alerts) == {str(refreshed), str(refused)}
    assert alerts[str(refused)]["level"] == "error" and alerts[str(refreshed)]["level"] == "warning"
    assert "re-authorise the agent upstream" in alerts[str(refused)]["message"]

    again = _tick(platform, first.cursor)
    assert isinstance(again, SkipReason) and len(_token_alerts(platform)) == 2  # once per agent

    sim.reset(tokens=True)
    platform.reseed()  # re-authorised upstream: working pairs in Redis again
    sim.expire_tokens("wx", tenant, refused)  # (the simulator's pairs are the same as before: a refresh
    assert platform.run(["wx/funds"]).success  # that now succeeds is what ends the refusal)
    monkeypatch.setenv("ARK_TOKEN_WARN_DAYS", "2")  # the simulator's 3-day pairs are not due yet
    fixed = _tick(platform, first.cursor)
    assert isinstance(fixed, SensorResult) and all(e.passed for e in fixed.asset_events)
    assert len(_token_alerts(platform)) == 2
