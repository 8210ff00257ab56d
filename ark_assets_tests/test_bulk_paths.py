"""The bulk paths against the real stack: no row lost, fewer calls, and every failure covered.

A tenant whose world mixes active, dormant, zero-cost-but-shown and deleted-entity accounts (and
jrtt's legacy and upgraded ones) is materialized whole on the default path, where Tencent v3.0's
reports come from the agencies' async tasks, jrtt's balances in batches, and reports below the
account level only for accounts the activity signal shows active:

- every table equals `ark-sim truth`, rows of zero-cost accounts and of deleted entities included;
- no report call went to an idle account; gdt and wx made no per-account report call at all;
  a second run asks each active jrtt account in the report family it had rows in (3 calls);
- a failed task, an expired file, a file that leaves accounts out and a refused batch each end in
  per-account calls (or smaller batches) for exactly what they lacked: the tables still equal the
  truth, and every completeness check passes;
- tasks made ahead of the step (the `async_tasks_ahead` sensor's passes) are the step's: it makes
  none, a re-run makes fresh ones, and nothing is made twice.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Iterator

import pytest

from ark_assets.assets.bulk import bulk_plans
from ark_assets.assets.sources import day_accounts
from ark_assets.assets.tasks_ahead import make_ahead
from ark_assets.clients.errors import TableNotFound
from ark_assets.core.rowkey import RowKey
from ark_assets.core.tables import table_name
from ark_assets.media.registry import media as media_named
from ark_assets.resources.hbase import DATA_COLUMN
from ark_assets.resources.media_api import configured_version
from ark_assets_tests.platform import DAY, Platform, api_versions, running_platform
from ark_sim.media import jrtt as sim_jrtt
from ark_sim.tamper import TamperRule
from ark_sim.truth import truth

pytestmark = pytest.mark.stack

MIX = {"dormant_share": 0.3, "shown_no_cost_share": 0.3, "entities": {"deleted_share": 0.4}}
BULK = all(configured_version(media_named(m)) == "v3.0" for m in ("gdt", "wx"))


@pytest.fixture(scope="module")
def platform() -> Iterator[Platform]:
    with running_platform(first_run=False, profiles={"small": MIX}) as running:
        yield running


def _run(platform: Platform) -> dict:
    """One whole partition; the calls it made (simulator counters, this run only)."""
    before = platform.sim.counters()["requests"]
    result = platform.run()
    assert result.success, [e.message for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
    failed = [e.check_name + " " + e.asset_key.to_user_string() for e in result.get_asset_check_evaluations()]
    failed = [
        name for name, e in zip(failed, result.get_asset_check_evaluations(), strict=True) if not e.passed
    ]
    assert not failed, failed
    after = platform.sim.counters()["requests"]
    return {k: sum(v.values()) - sum(before.get(k, {}).values()) for k, v in after.items()}


def _active(platform: Platform, media: str) -> set[str]:
    world = platform.sim.world
    return {str(a) for a, _ in world.accounts(media, platform.tenant) if world.spends(media, a, DAY)}


def _assert_truth(platform: Platform) -> None:
    assert platform.tables() == truth(platform.sim.world, platform.tenant, DAY, api_versions())["tables"]


@pytest.mark.api_paths
def test_a_mixed_tenant_loses_no_row_and_asks_idle_accounts_nothing(platform: Platform) -> None:
    world, tenant = platform.sim.world, platform.tenant
    accounts = {m: [str(a) for a, _ in world.accounts(m, tenant)] for m in ("gdt", "wx", "jrtt")}
    active = {m: _active(platform, m) for m in accounts}
    assert all(0 < len(active[m]) < len(accounts[m]) for m in accounts)  # a mix of both
    shown_free = [a for a in active["gdt"] if world.shown_no_cost("gdt", int(a), DAY)]
    assert shown_free  # active accounts shown at no cost are in the mix
    calls = _run(platform)
    _assert_truth(platform)
    if BULK:  # the agencies' files answered every Tencent report
        assert not {f"{m} {r}_reports/get" for m in ("gdt", "wx") for r in ("daily", "hourly")} & set(calls)
    # the account level of jrtt was asked of its active accounts only (the agent report said who)
    assert calls["jrtt report/advertiser/get"] == len(active["jrtt"])
    assert calls.get("jrtt advertiser/fund/get", 0) == 0
    assert calls["jrtt account/fund/get"] <= len(accounts["jrtt"]) / 10 + 5
    # a second run asks each active jrtt account one family only: 3 report calls each
    calls = _run(platform)
    _assert_truth(platform)
    asked = sum(calls.get(f"jrtt report/{r}/get", 0) for r in ("advertiser", "campaign", "ad", "custom"))
    assert asked == 3 * len(active["jrtt"])
    upgraded = [a for a in active["jrtt"] if sim_jrtt.upgraded(world, int(a))]
    assert calls["jrtt report/custom/get"] == 2 * len(upgraded)


# (this test runs in the default versions' pass: the async path is Tencent v3.0's)
@pytest.mark.parametrize(
    "fault",
    [
        pytest.param({"fail_rate": 1.0}, id="every-task-fails"),
        pytest.param({"expire_s": 0.01}, id="files-expire-before-the-download"),
        # the account level's file whole: it says who is active, so what the others lack is asked
        pytest.param(
            {"drop_accounts": 0.3, "drop_levels": ["REPORT_LEVEL_ADGROUP", "REPORT_LEVEL_DYNAMIC_CREATIVE"]},
            id="files-leave-accounts-out",
        ),
    ],
)
def test_a_task_without_its_file_is_fetched_per_account(platform: Platform, fault: dict) -> None:
    assert BULK, "the async path is Tencent v3.0's: run this module with the default API versions"
    for media in ("gdt", "wx"):
        platform.sim.set_async_reports(media, **fault)
    try:
        calls = _run(platform)
    finally:
        for media in ("gdt", "wx"):
            platform.sim.set_async_reports(
                media, fail_rate=0.0, expire_s=86400.0, drop_accounts=0.0, drop_levels=[]
            )
    _assert_truth(platform)
    per_account = calls.get("gdt daily_reports/get", 0) + calls.get("gdt hourly_reports/get", 0)
    assert per_account > 0  # what the files lacked was asked one account at a time
    if "drop_accounts" in fault:  # only that: far fewer calls than every active account per report
        assert per_account < 6 * len(_active(platform, "gdt"))


@pytest.mark.api_paths
def test_a_refused_batch_is_split_and_asked_again(platform: Platform) -> None:
    media = media_named("jrtt")
    listings = media.listings(("advertisers_first_tier", "advertisers_second_tier"))
    accounts = day_accounts(platform.resources["redis"].sets, media, platform.tenant, DAY, listings)
    agent, count = Counter(accounts.values()).most_common(1)[0]
    batch = [int(a) for a, g in accounts.items() if g == agent][:50]
    assert count > 1
    rule = TamperRule(
        "account/fund/get", match={"account_ids": json.dumps(batch, separators=(",", ":"))}, code=40002
    )
    platform.sim.tamper("jrtt", rule)
    try:
        calls = _run(platform)
    finally:
        platform.sim.clear_tampering()
    _assert_truth(platform)
    assert calls["jrtt account/fund/get"] >= len({*accounts.values()}) + 2  # the refused one, then halves


def test_tasks_made_ahead_are_the_steps_and_nothing_is_made_twice(platform: Platform) -> None:
    """The `async_tasks_ahead` sensor's pass, repeated while a run waits, makes each agency's tasks
    one per cooldown; the step then makes none, finds their files and stores the truth; a re-run
    of the partition makes fresh tasks (an earlier run's are never taken again)."""
    assert BULK, "the async path is Tencent v3.0's: run this module with the default API versions"
    tenant = platform.add_tenant()
    api, redis = platform.resources["media_api"], platform.resources["redis"].sets
    wanted = [(media_named(m), tenant, DAY) for m in ("gdt", "wx")]
    agencies = {m: {str(g) for _, g in platform.sim.world.accounts(m, tenant)} for m in ("gdt", "wx")}
    tasks = {m: len(bulk_plans(media_named(m), api, DAY)) * len(agencies[m]) for m in agencies}
    before = platform.sim.counters()["requests"]
    made, deadline = 0, time.monotonic() + 60
    while made < sum(tasks.values()) and time.monotonic() < deadline:
        made += make_ahead(wanted, api, redis)
        time.sleep(0.3)
    assert made == sum(tasks.values())
    assert make_ahead(wanted, api, redis) == 0  # every agency's tasks made: nothing more
    adds = _calls_since(platform, before, "async_reports/add")
    assert adds == tasks
    before = platform.sim.counters()["requests"]
    _run_tenant(platform, tenant, first=True)
    assert _calls_since(platform, before, "async_reports/add") == {"gdt": 0, "wx": 0}
    before = platform.sim.counters()["requests"]
    _run_tenant(platform, tenant, first=False)  # a re-run: fresh tasks
    assert _calls_since(platform, before, "async_reports/add") == tasks
    assert make_ahead(wanted, api, redis) == 0  # taken over by the steps: nothing made ahead


def _calls_since(platform: Platform, before: dict, endpoint: str) -> dict[str, int]:
    after = platform.sim.counters()["requests"]
    key = lambda m: f"{m} {endpoint}"  # noqa: E731
    return {
        m: sum(after.get(key(m), {}).values()) - sum(before.get(key(m), {}).values()) for m in ("gdt", "wx")
    }


def _run_tenant(platform: Platform, tenant: str, *, first: bool) -> None:
    """Materialize the other tenant's partition: its first run adds its truth to the day's tables,
    a re-run replaces its rows with the same."""
    theirs = truth(platform.sim.world, tenant, DAY, api_versions())["tables"]
    try:
        before = platform.tables()
    except TableNotFound:  # this test alone: nothing stored yet
        before = dict.fromkeys(theirs, 0)
    result = platform.run(tenant=tenant)
    assert result.success, [e.message for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
    assert platform.tables() == {t: n + (theirs[t] if first else 0) for t, n in before.items()}


def test_a_rerun_prunes_what_an_idle_account_no_longer_has_and_nothing_else(platform: Platform) -> None:
    """The accounts the media answered are one set for both uses (`assets/dataset_fetch.py`,
    `io/coverage.py`): an account the activity signal shows idle is asked no deeper level, and that
    answer (no rows that day) lets a re-run delete what an earlier run stored for it there; a row
    of an account nobody was asked about (in no list of the day) stays."""
    world, tenant = platform.sim.world, platform.tenant
    idle = [(str(a), str(g)) for a, g in world.accounts("jrtt", tenant) if not world.spends("jrtt", a, DAY)][
        :3
    ]
    stray = ("1999999999999999", idle[0][1])  # an account of no list: nobody answered for it
    table = table_name("jrtt", "report_campaign_v2")
    keys = {account: str(RowKey(account, DAY, agent, tenant)).encode() for account, agent in [*idle, stray]}
    platform.hbase.ensure_table(table)
    with platform.hbase.writer(table) as writer:
        for key in keys.values():
            writer.put(
                key, {DATA_COLUMN: json.dumps({"tenant_alias": tenant, "data": [{"stale": 1}]}).encode()}
            )

    calls = _run(platform)

    assert calls["jrtt report/campaign/get"] > 0  # the level was fetched, for the active accounts
    assert {a for a, key in keys.items() if platform.hbase.row(table, key)} == {stray[0]}
    with platform.hbase.writer(table) as writer:  # (the table is the platform's own)
        writer.delete(keys[stray[0]])
