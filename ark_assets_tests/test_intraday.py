"""INCR: today's funds and hourly reports so far, refreshed in place, yielding to the daily run.

The contract (assets/intraday.py): a refresh of today's partition stores today's rows of every
account of the previous day's Redis lists in the daily tables, the hourly report only up to the
last complete hour; a second refresh replaces them in place (same keys, nothing added); a
finished day is never touched (a refresh of it is refused, and the stored day is unchanged);
while a daily run of the media is in flight, a refresh stores nothing and the schedule skips its
tick, so the daily run has the media's quota to itself; once it ended, the refresh runs. The
schedule ships switched off and asks for low-priority runs.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest
from dagster import (
    DagsterInstance,
    DagsterRunStatus,
    DefaultScheduleStatus,
    RunsFilter,
    SkipReason,
    build_schedule_context,
    materialize,
)

from ark_assets.assets.build import intraday_assets
from ark_assets.automation.intraday import cron_every, incr_min, intraday_schedule
from ark_assets.core.days import GMT8
from ark_assets.core.rowkey import parse
from ark_assets.core.tables import table_name
from ark_assets.media.gdt import TIME_LINES
from ark_assets.media.registry import media as media_named
from ark_assets.partitions import partition_key
from ark_assets.resources.hbase import DATA_COLUMN
from ark_assets.resources.redis_store import RedisResource
from ark_assets_tests.dagster_ui import wait_for
from ark_assets_tests.platform import HOURLY_REPORT, Platform, running_platform

GDT = media_named("gdt")
DAILY_FUNDS = ["gdt/agents", "gdt/advertisers", "gdt/funds"]
FUNDS = table_name("gdt", "funds_get_v2")
HOURLY_NAME = HOURLY_REPORT  # gdt's hourly report in the API version this run speaks
HOURLY = table_name("gdt", HOURLY_NAME)


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Platform]:
    home = tmp_path_factory.mktemp("intraday-home")
    with (
        running_platform(first_run=False) as platform,
        DagsterInstance.local_temp(str(home)) as instance,  # the schedule's context needs a real one
    ):
        platform.instance = instance
        today = datetime.now(GMT8).date()
        platform.sim.set_today(today)  # the media's today is ours: they serve today's data so far
        platform.today, platform.yesterday = today, today - timedelta(days=1)
        yield platform


@pytest.fixture(scope="module")
def tenant(platform: Platform) -> str:
    """A tenant seeded for yesterday (its account lists), with yesterday's funds stored by the daily run."""
    tenant = platform.add_tenant(day=platform.yesterday)
    assert platform.run(DAILY_FUNDS, tenant=tenant, day=platform.yesterday).success
    return tenant


def _refresh(platform: Platform, tenant: str, day=None):
    return materialize(
        intraday_assets(GDT),
        partition_key=str(partition_key(day or platform.today, tenant)),
        resources=platform.with_resources(None),
        instance=platform.instance,
        raise_on_error=False,
    )


def _keys(platform: Platform, table: str, day, tenant: str, **layout) -> dict[bytes, bytes]:
    return {
        key: value[DATA_COLUMN]
        for key, value in platform.hbase.scan_date(table, day, columns=[DATA_COLUMN])
        if parse(key, **layout).tenant == tenant
    }


@pytest.mark.stack
def test_a_refresh_stores_today_so_far_and_the_next_replaces_it_in_place(
    platform: Platform, tenant: str
) -> None:
    yesterday_funds = _keys(platform, FUNDS, platform.yesterday, tenant, kind=True)
    first = _refresh(platform, tenant)
    assert first.success

    meta = {
        m.asset_key.to_user_string(): {k: v.value for k, v in m.metadata.items()}
        for m in first.asset_materializations_for_node("gdt_intraday")
    }
    assert set(meta) == {"gdt/intraday_funds", f"gdt/intraday_{HOURLY_NAME}"}
    hour = meta[f"gdt/intraday_{HOURLY_NAME}"]["up_to_hour"]
    assert meta["gdt/intraday_funds"]["account_lists_of"] == str(platform.yesterday)
    funds = _keys(platform, FUNDS, platform.today, tenant, kind=True)
    assert len(funds) == meta["gdt/intraday_funds"]["rows_written"] > 0
    hourly = _keys(platform, HOURLY, platform.today, tenant, suffix=True)
    hours = {record["hour"] for value in hourly.values() for record in json.loads(value)["data"]}
    # up to the last complete hour, never the one still running: exactly the media's complete hours
    accounts = RedisResource().sets.accounts("gdt", tenant, platform.yesterday)
    served = {
        atom.hour
        for account in accounts
        for time_line in TIME_LINES
        for atom in platform.sim.world.atoms("gdt", int(account), platform.today, time_line)
    }
    assert hours == {h for h in served if h < hour}

    second = _refresh(platform, tenant)
    assert second.success
    assert set(_keys(platform, FUNDS, platform.today, tenant, kind=True)) == set(funds)  # in place
    # a finished day is never touched: yesterday's stored funds are exactly as the daily run left them
    assert _keys(platform, FUNDS, platform.yesterday, tenant, kind=True) == yesterday_funds


@pytest.mark.stack
def test_a_refresh_of_a_finished_day_is_refused(platform: Platform, tenant: str) -> None:
    before = _keys(platform, FUNDS, platform.yesterday, tenant, kind=True)
    result = _refresh(platform, tenant, day=platform.yesterday)
    assert not result.success
    errors = " ".join(
        str(e.event_specific_data.error) for e in result.all_events if e.is_failure and e.event_specific_data
    )
    assert f"refreshes only today's partition ({platform.today} GMT+8), not {platform.yesterday}" in errors
    assert _keys(platform, FUNDS, platform.yesterday, tenant, kind=True) == before


def _tick(platform: Platform):
    # As a context manager: the schedule context opens an instance of its own from the test's, which
    # becomes the thread's current one for Dagster until the context is closed; left open, a later
    # `materialize` would find it collected ("undefined DagsterInstance weakref").
    with build_schedule_context(
        instance=platform.instance,
        resources={"mysql": platform.mysql},
        scheduled_execution_time=datetime.now(GMT8),
    ) as context:
        return intraday_schedule(GDT)(context)  # what the daemon's tick gets: a SkipReason or RunRequests


@pytest.mark.stack
def test_a_refresh_yields_to_a_daily_run_in_flight(platform: Platform, tenant: str) -> None:
    # the daily run of yesterday, slowed to 2.5 funds calls a second (~12 s) so it is surely in flight
    platform.sim.set_quotas("gdt", "funds/get", per_minute=150, burst_seconds=1.0)
    daily: dict = {}
    thread = threading.Thread(
        target=lambda: daily.update(result=platform.run(DAILY_FUNDS, tenant=tenant, day=platform.yesterday))
    )
    try:
        thread.start()
        wait_for(
            "the daily run to start",
            lambda: platform.instance.get_runs(RunsFilter(statuses=[DagsterRunStatus.STARTED])),
            timeout=60,
            every=0.2,
        )
        tick = _tick(platform)  # the schedule skips its tick ...
        during = _refresh(platform, tenant)  # ... and a refresh launched anyway stores nothing
        daily_running = thread.is_alive()
    finally:
        thread.join(timeout=240)
        platform.sim.set_quotas("gdt", "funds/get", per_minute=20000, burst_seconds=10.0)

    assert daily_running  # the refresh did overlap the daily run
    assert isinstance(tick, SkipReason) and "is in flight: yielding" in tick.skip_message
    assert during.success and not during.asset_materializations_for_node("gdt_intraday")  # stored nothing
    result = daily["result"]
    assert result.success
    [check] = [
        e
        for e in result.get_asset_check_evaluations()
        if e.asset_key.path == ["gdt", "funds"] and e.check_name == "completeness"
    ]
    assert check.passed  # every account of the daily run got its funds
    # once the daily run ended: the tick asks for a low-priority run per tenant, and a refresh stores
    requests = _tick(platform)
    assert {r.tags["dagster/priority"] for r in requests} == {"-1"}
    assert str(partition_key(platform.today, tenant)) in {r.partition_key for r in requests}
    assert _refresh(platform, tenant).asset_materializations_for_node("gdt_intraday")


def test_the_schedule_ships_off_and_runs_every_incr_min(monkeypatch) -> None:
    schedule = intraday_schedule(GDT)
    assert schedule.default_status == DefaultScheduleStatus.STOPPED
    assert (incr_min(GDT), schedule.cron_schedule) == (60, "5 * * * *")  # :05, the last hour complete
    monkeypatch.setenv("ARK_GDT_INCR_MIN", "15")
    assert intraday_schedule(GDT).cron_schedule == "*/15 * * * *"
    assert (cron_every(120), cron_every(30)) == ("5 */2 * * *", "*/30 * * * *")
    monkeypatch.setenv("ARK_GDT_INCR_MIN", "7")
    with pytest.raises(ValueError, match="ARK_GDT_INCR_MIN='7'"):
        incr_min(GDT)
