"""Fault matrix, media side: what a run does when the media APIs misbehave (docs/RELIABILITY.md).

The contract, per fault: either the run recovers by itself (retries, backoff, one token refresh),
or the affected accounts end in a recorded failure with a clear reason and a re-run after the
fault clears completes the partition. Afterwards, always: every account has exactly one outcome,
nothing stored earlier is lost, and HBase equals `ark-sim truth` after at most one re-run (the
invariants live in `fault_matrix.py`). Faults come from the simulator's deterministic knobs; each
test selects one asset of a small tenant so the whole matrix stays within CI's budget.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import redis

from ark_assets.media.registry import media as media_named
from ark_assets.media.registry import names as media_names
from ark_assets_tests.fault_matrix import (
    assert_nothing_lost,
    assert_one_outcome_each,
    assert_rows_equal_truth,
    changed,
    fault_platform,
    rerun_completes,
    snapshot,
    step_errors,
    table_of,
    when,
)
from ark_assets_tests.platform import Platform
from ark_sim.config import FaultConfig
from ark_sim.media import lookup

pytestmark = [pytest.mark.stack, pytest.mark.api_paths]  # the real services; run in both API versions

# Every asset a test here runs; the first run stores the rows "stored earlier".
BASELINE = [
    "gdt/agents",
    "gdt/advertisers",
    "gdt/funds",
    "gdt/daily_report_adgroup",
    "jrtt/funds",
    "wx/funds",
]
# every fault off (the simulator config's defaults), and no latency
NO_FAULTS = FaultConfig().model_dump() | {"median_ms": 0.0}

# ##### FIXTURES


@pytest.fixture(scope="module")
def platform() -> Iterator[Platform]:
    with fault_platform(baseline=BASELINE) as platform:
        yield platform


@pytest.fixture(autouse=True)
def _healthy_media(platform: Platform) -> Iterator[None]:
    """Each test starts and ends with a fault-free simulator at its configured quotas."""
    _heal(platform)
    yield
    _heal(platform)


def _heal(platform: Platform) -> None:
    sim = platform.sim
    for media in media_names():
        sim.set_faults(media, **NO_FAULTS)
        for endpoint in lookup(media).endpoints:
            sim.set_quotas(media, endpoint, **sim.config.quota_limits(media, endpoint).model_dump())
    sim.reset()


def _requests(platform: Platform, media: str, endpoint: str) -> dict[str, int]:
    return platform.sim.counters()["requests"].get(f"{media} {endpoint}", {})


def _fault_run(platform: Platform, asset: str, **run: Any) -> tuple[Any, dict]:
    """Run one asset under the current fault; check the invariants that hold whatever happened."""
    before = snapshot(platform, [asset])
    result = platform.run([asset], **run)
    assert result.success, step_errors(result)
    [outcome] = assert_one_outcome_each(result, [asset]).values()
    assert_nothing_lost(platform, before)
    return result, {"outcome": outcome, "metadata": _metadata(result, asset)}


def _metadata(result: Any, asset: str) -> dict[str, Any]:
    [event] = [
        e
        for e in result.get_asset_materialization_events()
        if e.event_specific_data.materialization.asset_key.to_user_string() == asset
    ]
    return {k: v.value for k, v in event.event_specific_data.materialization.metadata.items()}


# ##### TESTS: recovered within the run

RECOVERED = [
    # 5xx gateway pages on a fifth of the calls: retried with backoff
    pytest.param("gdt/funds", {"http_5xx": 0.2}, {}, "http_5", id="http-5xx"),
    # held requests: the client gives up after 0.5 s and retries
    pytest.param(
        "gdt/funds", {"timeout": 0.15, "timeout_hold_s": 3.0}, {"timeout_s": 0.5}, "timeout", id="timeouts"
    ),
    # connections reset without an answer (aiohttp itself re-sends a GET once when a reused
    # keep-alive connection turns out dead, so the engine's own retries may be fewer)
    pytest.param("jrtt/funds", {"reset": 0.2}, {}, "reset", id="connection-resets"),
    # HTTP 200 with JSON cut in half
    pytest.param("wx/funds", {"malformed": 0.2}, {}, "malformed", id="malformed-json"),
    # code 0 but a mistyped field: code as text, data as text, the list as an object, page_info as text
    pytest.param(
        "gdt/daily_report_adgroup", {"wrong_types": 0.25}, {}, "wrong_types", id="wrong-types-pages"
    ),
    # the same on cursor paging (cursor_page_info's has_more/cursor as text)
    pytest.param("gdt/advertisers", {"wrong_types": 0.3}, {}, "wrong_types", id="wrong-types-cursor"),
]


@pytest.mark.parametrize(("asset", "faults", "api", "outcome"), RECOVERED)
def test_transient_faults_are_retried_within_the_run(
    platform: Platform, asset: str, faults: dict, api: dict, outcome: str
) -> None:
    media = media_named(asset.split("/")[0]).name
    platform.sim.set_faults(media, **faults)
    resources = {"media_api": changed(platform.resources["media_api"], **api)} if api else None
    _, seen = _fault_run(platform, asset, resources=resources)
    counters = platform.sim.counters()["requests"]
    injected = sum(
        n
        for k, by in counters.items()
        if k.startswith(f"{media} ")
        for o, n in by.items()
        if o.startswith(outcome)
    )
    assert injected > 0, counters  # the fault really happened
    assert seen["outcome"].complete and seen["outcome"].failed == 0, seen
    answered = sum(_requests(platform, media, e).get("0", 0) for e in lookup(media).endpoints)
    assert seen["metadata"]["requests"] >= answered  # every good answer was read (and counted)
    if outcome != "reset":
        assert seen["metadata"]["retries"] >= injected
    assert_rows_equal_truth(platform, [asset])


def test_a_burst_of_5xx_is_ridden_out(platform: Platform) -> None:
    """Every call fails with a gateway 5xx until 25 of them went by, then the media is back (gdt's
    funds: a call per account; jrtt's come in a few batches)."""
    sim = platform.sim
    sim.set_faults("gdt", http_5xx=1.0)

    def errors() -> int:
        return sum(n for o, n in _requests(platform, "gdt", "funds/get").items() if o.startswith("http_"))

    watcher = when(lambda: errors() >= 25, lambda: sim.set_faults("gdt", http_5xx=0.0))
    _, seen = _fault_run(platform, "gdt/funds")
    watcher.join(timeout=5)
    assert errors() >= 25
    assert seen["outcome"].complete, seen
    assert_rows_equal_truth(platform, ["gdt/funds"])


def test_a_throttle_storm_slows_the_run_down_but_loses_nothing(platform: Platform) -> None:
    """10 calls/s with a 5-call burst, and every throttle blocks the endpoint for a second."""
    platform.sim.set_quotas("gdt", "funds/get", per_minute=600, burst_seconds=0.5, block_seconds=1.0)
    _, seen = _fault_run(platform, "gdt/funds")
    assert seen["metadata"]["throttles"] > 0
    assert seen["outcome"].complete, seen
    assert_rows_equal_truth(platform, ["gdt/funds"])


def test_a_token_expiring_mid_run_is_refreshed_once_and_rotated(platform: Platform) -> None:
    sim, tenant = platform.sim, platform.tenant
    sim.set_faults("jrtt", median_ms=40)  # the run lasts long enough to expire tokens inside it
    old = redis.Redis(db=2).zrange(f"jrtt_new_access_token_{tenant}", 0, -1)

    def ok_calls() -> int:  # the account level: a call per active account (funds come in batches)
        return _requests(platform, "jrtt", "report/advertiser/get").get("0", 0)

    watcher = when(lambda: ok_calls() >= 10, lambda: sim.expire_tokens("jrtt", tenant, refresh=False))
    _, seen = _fault_run(platform, "jrtt/report_advertiser")
    watcher.join(timeout=5)
    assert _requests(platform, "jrtt", "report/advertiser/get").get("40102", 0) > 0  # "token expired" seen
    refreshes = seen["metadata"]["token_refreshes"]
    assert 1 <= refreshes <= len(old)  # at most once per agent, however many of its calls saw 40102
    assert seen["outcome"].complete, seen
    new = redis.Redis(db=2).zrange(f"jrtt_new_access_token_{tenant}", 0, -1)
    assert len(new) == len(old) and len(set(old) - set(new)) == refreshes  # rotated pairs are in Redis
    assert_rows_equal_truth(platform, ["jrtt/report_advertiser"])


def test_a_huge_page_is_stored_whole(platform: Platform) -> None:
    """Every funds answer padded to ~512 KiB: ~15 MiB through the engine, the spool and HBase."""
    platform.sim.set_faults("gdt", huge_page_kb=512)
    _, seen = _fault_run(platform, "gdt/funds")
    assert seen["outcome"].complete, seen
    assert_rows_equal_truth(platform, ["gdt/funds"])
    table, _, _ = table_of("gdt/funds")
    sizes = [len(v[b"info:data"]) for _, v in platform.hbase.scan_date(table, platform.day)]
    assert min(sizes) > 512 * 1024 / 3  # every row holds its share of the padding
    assert seen["metadata"]["records"] == len(sizes)
    platform.sim.set_faults("gdt", huge_page_kb=0)
    rerun_completes(platform, ["gdt/funds"])  # and back to normal-sized rows


# ##### TESTS: accounts fail clearly, a re-run completes


def test_a_daily_quota_spent_mid_run_fails_the_rest_fast_alerts_and_a_rerun_completes(
    platform: Platform,
) -> None:
    sim = platform.sim
    sim.set_quotas("gdt", "funds/get", per_day=12)
    alerts_before = len(platform.sink.events)
    _, seen = _fault_run(platform, "gdt/funds")
    outcome = seen["outcome"]
    assert (outcome.succeeded, outcome.failed) == (12, 30 - 12), outcome
    assert not outcome.complete and "DailyQuotaExhausted" in outcome.failed_accounts
    counted = _requests(platform, "gdt", "funds/get")
    assert counted.get("0") == 12 and counted.get("11018", 0) <= 16  # the rest never called the media
    assert platform.sink.wait_for(alerts_before + 1, timeout=10)
    assert any("daily quota" in json.dumps(e) for e in platform.sink.events[alerts_before:])
    assert_rows_equal_truth(platform, ["gdt/funds"])  # the failed accounts kept yesterday's run's rows
    # midnight: a fresh quota (and the spent-quota marker expires)
    sim.set_quotas("gdt", "funds/get", per_day=5_000_000)
    app = platform.resources["media_api"].app("gdt").app_id
    raw = redis.Redis(db=2)
    for key in raw.scan_iter(match=f"ark:quota_exhausted:gdt:{app}:*"):
        raw.delete(key)
    rerun_completes(platform, ["gdt/funds"])


def test_a_cursor_that_loops_fails_the_listing_clearly_and_keeps_the_lists(platform: Platform) -> None:
    """has_more forever with a cursor that never advances: caught at the repeated cursor."""
    platform.sim.set_faults("gdt", cursor_loop=True)
    key = f"gdt_advertiser_v1.1_{platform.tenant}_{platform.day:%Y%m%d}"
    members_before = redis.Redis(db=2).zrange(key, 0, -1, withscores=True)
    _, seen = _fault_run(platform, "gdt/advertisers")
    outcome = seen["outcome"]
    agents = len(platform.sim.world.agents("gdt", platform.tenant))
    assert (outcome.failed, outcome.complete) == (agents, False), outcome
    assert "paging never ended" in outcome.failed_accounts
    # two calls per agent: the second repeats the cursor, and the engine stops there
    assert sum(_requests(platform, "gdt", "advertiser/get").values()) == 2 * agents
    assert redis.Redis(db=2).zrange(key, 0, -1, withscores=True) == members_before
    platform.sim.set_faults("gdt", cursor_loop=False)
    rerun_completes(platform, ["gdt/advertisers"])
