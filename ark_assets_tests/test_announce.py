"""The seed's `redis_channel`, heard by a real Redis subscriber.

The contract (format: `assets/announce.py`): with a channel configured, each finished media step
publishes one JSON message naming the tenant, media, date and run, the assets it stored with
their rows, and the accounts whose fetch failed; a step that fails says so (status, what was not
stored, why); no token or secret is in it; without a channel nothing is published.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator

import pytest
import redis

from ark_assets.resources.redis_store import RedisResource
from ark_assets_tests.platform import Platform, running_platform

pytestmark = pytest.mark.stack

WX = ["wx/agents", "wx/advertisers", "wx/funds"]


@pytest.fixture(scope="module")
def platform() -> Iterator[Platform]:
    with running_platform(first_run=False) as platform:
        yield platform


@pytest.fixture
def channel() -> Iterator[tuple[str, redis.client.PubSub]]:
    """A channel of this test's own, and a subscriber listening on it."""
    name = f"ark-test-{secrets.token_hex(4)}"
    subscriber = redis.Redis().pubsub()
    subscriber.subscribe(name)
    assert subscriber.get_message(timeout=5)["type"] == "subscribe"  # listening from here on
    yield name, subscriber
    subscriber.close()


def _heard(subscriber: redis.client.PubSub) -> list[dict]:
    """Every message published so far (the steps publish before their run ends)."""
    heard = []
    while (message := subscriber.get_message(ignore_subscribe_messages=True, timeout=1)) is not None:
        heard.append(json.loads(message["data"]))
    return heard


def test_each_finished_step_announces_what_it_stored(platform: Platform, channel) -> None:
    name, subscriber = channel
    result = platform.run(WX + ["gdt/agents"], resources={"redis": RedisResource(channel=name)})
    assert result.success

    heard = sorted(_heard(subscriber), key=lambda m: m["media"])
    assert [m["media"] for m in heard] == ["gdt", "wx"]  # one message per media step
    wx = heard[1]
    assert wx["event"] == "ark.media_step.finished" and wx["version"] == 1
    assert (wx["status"], wx["tenant"], wx["date"], wx["run_id"]) == (
        "SUCCEEDED", platform.tenant, "2026-11-25", result.run_id
    )  # fmt: skip
    assert [a["asset"] for a in wx["assets"]] == WX  # in the order they were stored
    funds = next(a for a in wx["assets"] if a["asset"] == "wx/funds")
    assert funds["rows"] == platform.rows("wx", "funds_get_v2") > 0
    assert wx["rows"] == sum(a["rows"] for a in wx["assets"])
    assert (wx["failed_accounts"], wx["failed_accounts_total"], wx["not_stored"]) == ([], 0, [])
    assert wx["output"] == "HBASE" and wx["error"] is None
    assert [a["asset"] for a in heard[0]["assets"]] == ["gdt/agents"]
    text = json.dumps(heard)
    for media in ("gdt", "wx"):  # no token of the tenant's agents
        assert not any(t in text for t in RedisResource().sets.tokens(media, platform.tenant).values())


def test_failed_accounts_are_announced(platform: Platform, channel) -> None:
    name, subscriber = channel
    world, tenant, sim = platform.sim.world, platform.tenant, platform.sim
    platform.run(WX)  # the day's account lists
    agent = world.agents("wx", tenant)[0].agent_id
    sim.expire_tokens("wx", tenant, agent, refresh=True)  # its token and refresh token both die
    try:
        result = platform.run(["wx/funds"], resources={"redis": RedisResource(channel=name)})
    finally:
        sim.reset(tokens=True)
        platform.reseed()
    assert result.success  # the completeness check carries the failure; the step ends normally

    [message] = _heard(subscriber)
    expected = sorted(str(a) for a, g in world.accounts("wx", tenant) if g == agent)
    assert message["failed_accounts"] == expected and message["failed_accounts_total"] == len(expected)
    assert message["assets"][0]["accounts_failed"] == len(expected)


def test_a_failed_step_announces_what_it_did_not_store_and_why(platform: Platform, channel) -> None:
    name, subscriber = channel
    other = platform.add_tenant(seed=False)  # no account lists at all
    result = platform.run(["wx/funds"], tenant=other, resources={"redis": RedisResource(channel=name)})
    assert not result.success

    [message] = _heard(subscriber)
    assert (message["status"], message["tenant"], message["assets"]) == ("FAILED", other, [])
    assert message["not_stored"] == ["wx/funds"]
    assert "empty source list" in message["error"]


def test_without_a_channel_nothing_is_published(platform: Platform, channel) -> None:
    _, subscriber = channel
    everything = redis.Redis().pubsub()
    everything.psubscribe("*")  # any channel at all
    assert everything.get_message(timeout=5)["type"] == "psubscribe"
    try:
        result = platform.run(["wx/agents"])
        raw = []
        while (message := everything.get_message(timeout=1)) is not None:
            raw.append(message["data"])
    finally:
        everything.close()
    assert result.success and result.asset_materializations_for_node("wx")  # the step did store
    assert not [m for m in raw if platform.tenant.encode() in m] and _heard(subscriber) == []
