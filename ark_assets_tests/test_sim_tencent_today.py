"""Contract: the simulated Tencent Marketing API as it answers today (gdt and wx; docs/media/gdt.md).

- v3.0: levels ADVERTISER, ADGROUP, DYNAMIC_CREATIVE (no CAMPAIGN or AD: 18009), `fields` and
  `group_by` required (18001), rows that name adgroups and dynamic creatives and add up across
  levels and between daily and hourly; `funds/get` with `bill_deposit_amount` and `effect_funds`;
  `advertiser/get` requiring `fields`, `pagination_mode` and `page_size`.
- The old metric system: a v1.x report without `adq_accounts_upgrade_enabled=true` answers no rows
  for a date after 2024-04-30 (code 0, counted as `old_metrics`); with the flag, the new names.
- Retired endpoints (`wechat_funds/get`, `wechat_agency/get`, `(wechat_)daily_cost/get`, ...)
  answer 12007 naming their replacement once the clock is past their last day.
- Row quotas: page x page_size over 10,000 is 18003; rows over the per-second or per-window quota
  of an account's level are refused with 11019 and freeze that account's level, not others.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta

import pytest

from ark_sim import SimConfig, running_simulator
from ark_sim.config import RowLimits
from ark_sim.rows import RowQuotaExceeded, RowQuotas
from ark_sim.server import RunningSimulator
from ark_sim.testing import SimClient

TODAY = date(2026, 12, 6)
DAY = "2026-12-01"
ONE_DAY = {"start_date": DAY, "end_date": DAY}
DC = {"level": "REPORT_LEVEL_DYNAMIC_CREATIVE", "date_range": ONE_DAY}


@pytest.fixture(scope="module")
def sim() -> Iterator[RunningSimulator]:
    with running_simulator(SimConfig.load(overrides={"clock": {"today": TODAY.isoformat()}})) as running:
        yield running


@pytest.fixture(scope="module")
def client(sim: RunningSimulator) -> Iterator[SimClient]:
    with SimClient(sim.base_url) as c:
        yield c


def _spending(sim: RunningSimulator, media: str, tenant: str, day: date | None = None) -> tuple[str, int]:
    """(token, account) of an agent's account that spent on `day` (DAY)."""
    world = sim.world
    for agent in world.agents(media, tenant):
        for account, _ in world.accounts(media, tenant, agent_id=agent.agent_id):
            if world.spends(media, account, day or date.fromisoformat(DAY)):
                return world.initial_tokens(media, tenant)[agent.agent_id][0], account
    raise AssertionError(f"no spending {media} account")


def _get(client: SimClient, media: str, path: str, token: str, **params) -> dict:
    return client.get(media, path, token, **params).json()


# ##### v3.0


@pytest.mark.parametrize(
    ("params", "code", "named"),
    [
        ({**DC, "group_by": ["date"]}, 18001, "fields"),  # fields required
        ({**DC, "fields": ["date", "cost"]}, 18001, "group_by"),  # group_by required
        ({**DC, "level": "REPORT_LEVEL_CAMPAIGN", "group_by": ["date"], "fields": ["cost"]}, 18009, "level"),
        ({**DC, "level": "REPORT_LEVEL_AD", "group_by": ["date"], "fields": ["cost"]}, 18009, "level"),
        ({**DC, "level": "REPORT_LEVEL_AD_WECHAT", "group_by": ["date"], "fields": ["cost"]}, 18009, "level"),
        ({**DC, "group_by": ["date", "ad_id"], "fields": ["cost"]}, 18009, "group_by"),  # no ad_id in v3.0
        ({**DC, "group_by": ["date"], "fields": ["campaign_id", "cost"]}, 12009, "fields"),
        ({**DC, "group_by": ["date"], "fields": ["impression"]}, 12009, "fields"),  # the old system's name
        ({**DC, "group_by": ["date"], "fields": ["cost"], "page": 6, "page_size": 2000}, 18003, None),
    ],
)
def test_v30_reports_refuse_the_retired_contract(
    sim: RunningSimulator, client: SimClient, params: dict, code: int, named: str | None
) -> None:
    token, account = _spending(sim, "gdt", "Tv3refuse")
    body = _get(client, "gdt", "/v3.0/daily_reports/get", token, account_id=account, **params)
    assert body["code"] == code, body
    if named:
        assert body["errors"][0]["common_param_exception_spec"]["error_fields"] == [named]


@pytest.mark.parametrize(
    ("kind", "days_back", "code"),
    [
        (
            "daily",
            365,
            0,
        ),  # the 365th day back is served (developers.e.qq.com/docs/insights/ad_insights/daily)
        ("daily", 366, 31057),
        ("hourly", 200, 0),  # v3.0 hourly: 365 days (v3.0/docs/api/hourly_reports/get), v1.x 90
        ("hourly", 366, 31057),
    ],
)
def test_v30_reports_refuse_a_date_past_their_retention(
    sim: RunningSimulator, client: SimClient, kind: str, days_back: int, code: int
) -> None:
    token, account = _spending(sim, "gdt", "Tv3old")
    day = (TODAY - timedelta(days=days_back)).isoformat()
    time_key = "date" if kind == "daily" else "hour"
    body = _get(
        client,
        "gdt",
        f"/v3.0/{kind}_reports/get",
        token,
        account_id=account,
        level="REPORT_LEVEL_ADVERTISER",
        date_range={"start_date": day, "end_date": day},
        group_by=[time_key],
        fields=[time_key, "cost"],
    )
    assert body["code"] == code, body


def _rows(
    client: SimClient, media: str, token: str, account: int, kind: str, level: str, keys: list[str]
) -> list:
    time_key = "date" if kind == "daily" else "hour"
    body = _get(
        client,
        media,
        f"/v3.0/{kind}_reports/get",
        token,
        account_id=account,
        level=f"REPORT_LEVEL_{level}",
        date_range=ONE_DAY,
        group_by=[time_key, *keys],
        fields=[time_key, "account_id", "adgroup_id", "dynamic_creative_id", "dynamic_creative_name", "cost"]
        if level == "DYNAMIC_CREATIVE"
        else [time_key, "account_id", "cost"],
        page_size=1000,
    )
    assert body["code"] == 0, body
    return body["data"]["list"]


@pytest.mark.parametrize("media", ["gdt", "wx"])
def test_v30_levels_add_up_and_name_dynamic_creatives(
    sim: RunningSimulator, client: SimClient, media: str
) -> None:
    token, account = _spending(sim, media, "Tv3sums")
    advertiser = _rows(client, media, token, account, "daily", "ADVERTISER", [])
    adgroups = _rows(client, media, token, account, "daily", "ADGROUP", ["adgroup_id"])
    creatives = _rows(client, media, token, account, "daily", "DYNAMIC_CREATIVE", ["dynamic_creative_id"])
    hourly = _rows(client, media, token, account, "hourly", "DYNAMIC_CREATIVE", ["dynamic_creative_id"])
    totals = {sum(r["cost"] for r in rows) for rows in (advertiser, adgroups, creatives, hourly)}
    assert len(totals) == 1 and totals.pop() > 0
    assert all(r["account_id"] == account and r["date"] == DAY for r in creatives)
    assert all({"adgroup_id", "dynamic_creative_id", "dynamic_creative_name"} <= set(r) for r in creatives)
    assert all("date" not in r and 0 <= r["hour"] <= 23 for r in hourly)  # the v3.0 hourly struct


def test_v30_funds_and_listing(sim: RunningSimulator, client: SimClient) -> None:
    token, account = _spending(sim, "gdt", "Tv3funds")
    funds = _get(client, "gdt", "/v3.0/funds/get", token, account_id=account)["data"]["list"]
    assert funds and all(
        set(r)
        == {"fund_type", "balance", "bill_deposit_amount", "fund_status", "realtime_cost", "effect_funds"}
        for r in funds
    )
    assert _get(client, "gdt", "/v3.0/advertiser/get", token)["code"] == 18001  # fields & co. required
    listed = _get(
        client,
        "gdt",
        "/v3.0/advertiser/get",
        token,
        fields=["account_id", "registration_type"],
        pagination_mode="PAGINATION_MODE_CURSOR",
        page_size=100,
    )["data"]
    assert account in {r["account_id"] for r in listed["list"]} and "cursor_page_info" in listed


# ##### the old metric system


def test_a_v1x_report_without_the_flag_has_no_rows_after_the_cut_over(
    sim: RunningSimulator, client: SimClient
) -> None:
    token, account = _spending(sim, "gdt", "Tmetrics")
    before = sim.counters()["requests"].get("gdt daily_reports/get", {}).get("old_metrics", 0)
    for version in ("v1.1", "v1.3"):
        params = {"account_id": account, "level": "REPORT_LEVEL_ADVERTISER", "date_range": ONE_DAY}
        plain = _get(client, "gdt", f"/{version}/daily_reports/get", token, **params)
        assert plain["code"] == 0 and plain["data"]["list"] == []  # what the real API does: no data
        flagged = _get(
            client,
            "gdt",
            f"/{version}/daily_reports/get",
            token,
            **params,
            adq_accounts_upgrade_enabled=True,
            fields=["date", "view_count", "cost"],
        )
        assert flagged["code"] == 0 and flagged["data"]["list"][0]["cost"] > 0
    after = sim.counters()["requests"]["gdt daily_reports/get"]["old_metrics"]
    assert after - before == 2  # the emptied answers are counted apart from the good ones


def test_a_span_across_the_cut_over_keeps_the_old_days() -> None:
    # days around the cut-over are served only within the daily reports' 365 days: a clock of 2024
    config = SimConfig.load(overrides={"clock": {"today": "2024-05-10"}})
    with running_simulator(config) as sim, SimClient(sim.base_url) as client:
        token, account = _spending(sim, "gdt", "Tspan", day=date(2024, 4, 29))
        span = {"start_date": "2024-04-29", "end_date": "2024-05-02"}
        rows = _get(
            client,
            "gdt",
            "/v1.1/daily_reports/get",
            token,
            account_id=account,
            level="REPORT_LEVEL_ADVERTISER",
            date_range=span,
        )["data"]["list"]
    assert rows and {r["date"] for r in rows} <= {"2024-04-29", "2024-04-30"}


# ##### retired endpoints


@pytest.mark.parametrize(
    ("path", "replacement"),
    [
        ("/v1.1/wechat_funds/get", "use funds/get"),
        ("/v1.3/wechat_fund_statements_detailed/get", "use fund_statements_detailed/get"),
        ("/v1.1/wechat_daily_cost/get", "use realtime_cost/get"),
        ("/v1.3/daily_cost/get", "use realtime_cost/get"),
        ("/v1.1/wechat_agency/get", "功能下线"),
        ("/v1.1/wechat_advertiser/get", "use advertiser/get"),
    ],
)
def test_retired_endpoints_answer_12007_naming_the_replacement(
    sim: RunningSimulator, client: SimClient, path: str, replacement: str
) -> None:
    token, account = _spending(sim, "wx", "Tretired")
    body = _get(client, "wx", path, token, account_id=account)
    assert body["code"] == 12007 and "retired after" in body["message"] and replacement in body["message"]


# ##### row quotas


def test_row_quotas_freeze_one_account_level() -> None:
    now = [100.0]
    quotas = RowQuotas(
        lambda media: RowLimits(per_second=100, freeze_s=5, per_window=250, window_s=10), lambda: now[0]
    )
    quotas.take("gdt", (1, "daily", "AD"), 60)
    with pytest.raises(RowQuotaExceeded) as second:
        quotas.take("gdt", (1, "daily", "AD"), 60)  # 120 rows in one second
    assert second.value.wait_s == 5
    quotas.take("gdt", (1, "daily", "ADGROUP"), 60)  # another level is not frozen
    quotas.take("gdt", (2, "daily", "AD"), 60)  # nor another account
    now[0] = 103.0
    with pytest.raises(RowQuotaExceeded):
        quotas.take("gdt", (1, "daily", "AD"), 1)  # still frozen
    now[0] = 105.5
    quotas.take("gdt", (1, "daily", "AD"), 90)  # thawed: 150 rows in this window
    now[0] = 106.5
    quotas.take("gdt", (1, "daily", "AD"), 95)  # 245 rows in this 10 s window
    now[0] = 107.5
    with pytest.raises(RowQuotaExceeded) as window:
        quotas.take("gdt", (1, "daily", "AD"), 10)  # 255 > 250 per window
    # frozen for the rest of the window (to 110) plus floor(used / 250) = 1 window
    assert window.value.wait_s == pytest.approx(2.5 + 10)


def test_rows_over_the_quota_are_refused_with_11019_over_http() -> None:
    config = SimConfig.load(
        overrides={
            "clock": {"today": TODAY.isoformat()},
            "media": {"gdt": {"rows": {"per_second": 1, "freeze_s": 30}}},
        }
    )
    with running_simulator(config) as sim, SimClient(sim.base_url) as client:
        token, account = _spending(sim, "gdt", "Trows")
        params = {
            **DC,
            "group_by": ["date", "dynamic_creative_id"],
            "fields": ["dynamic_creative_id", "cost"],
        }
        first = _get(
            client, "gdt", "/v3.0/daily_reports/get", token, account_id=account, **params, page_size=1
        )
        assert first["code"] == 0 and len(first["data"]["list"]) == 1
        again = _get(
            client, "gdt", "/v3.0/daily_reports/get", token, account_id=account, **params, page_size=1
        )
        assert again["code"] == 11019 and "rows" in again["message"]
        # the freeze holds the account's level, not its other levels
        other = {**params, "level": "REPORT_LEVEL_ADVERTISER", "group_by": ["date"], "fields": ["cost"]}
        assert _get(client, "gdt", "/v3.0/daily_reports/get", token, account_id=account, **other)["code"] == 0
