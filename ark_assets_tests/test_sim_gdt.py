"""Contract: the simulated gdt (Tencent Marketing API v1.1 and v1.3; docs/media/gdt.md) over real HTTP,
on dates before the old metric system stopped (2024-04-30; v3.0 and what changed since:
test_sim_tencent_today.py).

- envelope `{code, message, message_cn, data}`, `data` only on success; on errors the trace id
  (= the X-TSA-Trace-Id header) ends the messages, a parameter error lists the parameter in
  `errors[]`, there is no body `trace_id`, and every error is HTTP 200;
- the auth checks run in the vendor's order: 12000, 11005, 11002, 11000, 12101, 12100, 12203/12201;
- advertiser/get: page/page_size limits, the 1000-row cap of normal mode, cursor mode to the end,
  a page past the end is an empty list with code 0;
- reports: level/group_by/fields/page/date validation codes, projection, consistent totals across
  levels and between daily and hourly, time lines, late revisions;
- funds/get: 1-3 records per account, today's spend `today_cost` on v1.1 and `realtime_cost` on v1.3;
- oauth/token rotates both tokens, or (configured) answers without a refresh token and keeps it
  valid; forced expiry gives 11000.

Each test uses its own tenant alias, so token rotations and nonces never leak between tests.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import date

import pytest

from ark_sim import SimConfig, running_simulator
from ark_sim.server import RunningSimulator
from ark_sim.testing import SimClient

# before the old metric system's last day (2024-04-30): v1.x reports answer the old names without
# the upgrade flag here; what changed after it is test_sim_tencent_today.py's
TODAY = date(2024, 4, 29)
DAY = "2024-04-20"
ONE_DAY = {"start_date": DAY, "end_date": DAY}
IN_AD = {"field": "ad_id", "operator": "IN", "values": ["1", "2"]}  # values are strings (TGo FilteringStruct)


@pytest.fixture(scope="module")
def sim() -> Iterator[RunningSimulator]:
    # 2 agents over 2,400 accounts: the bigger agent holds more than the 1000-row normal-mode cap.
    config = SimConfig.load(
        overrides={"clock": {"today": TODAY.isoformat()}, "profiles": {"small": {"gdt": {"accounts": 2400}}}}
    )
    with running_simulator(config) as running:
        yield running


@pytest.fixture(scope="module")
def client(sim: RunningSimulator) -> Iterator[SimClient]:
    c = SimClient(sim.base_url)
    yield c
    c.close()


def _agents(sim: RunningSimulator, tenant: str) -> list[tuple[int, str, str]]:
    """(agent id, access token, refresh token) of the tenant's active gdt agents, biggest first."""
    tokens = sim.world.initial_tokens("gdt", tenant)
    agents = sim.world.agents("gdt", tenant)
    agents.sort(key=lambda a: -len(sim.world.accounts("gdt", tenant, agent_id=a.agent_id)))
    return [(a.agent_id, *tokens[a.agent_id]) for a in agents]


def _spending_account(sim: RunningSimulator, tenant: str, agent_id: int, day: date) -> int:
    return next(
        a for a, _ in sim.world.accounts("gdt", tenant, agent_id=agent_id) if sim.world.spends("gdt", a, day)
    )


# -- envelope ---------------------------------------------------------------------------------------


def test_success_and_error_envelopes(sim: RunningSimulator, client: SimClient) -> None:
    _, token, _ = _agents(sim, "Tenv")[0]
    ok = client.gdt("/v1.1/advertiser/get", token)
    assert ok.status_code == 200
    assert set(ok.json()) == {"code", "message", "message_cn", "data"} and ok.json()["code"] == 0
    bad = client.gdt("/v1.1/advertiser/get", "not-a-token")
    body = bad.json()
    assert bad.status_code == 200
    assert set(body) == {"code", "message", "message_cn"} and body["code"] == 11002
    trace = bad.headers["X-TSA-Trace-Id"]
    assert len(trace) == 32 and trace == trace.lower()
    assert body["message"].endswith(f"trace_id: {trace}") and body["message_cn"].endswith(
        f"trace_id: {trace}"
    )
    # a parameter error names the parameter in errors[] (the official errors structure)
    param = client.gdt("/v1.1/advertiser/get", token, page_size=101).json()
    assert param["code"] == 18003 and param["errors"] == [
        {
            "type": "COMMON_PARAM_EXCEPTION",
            "description": param["errors"][0]["description"],
            "common_param_exception_spec": {
                "error_fields": ["page_size"],
                "error_user_msg": param["errors"][0]["description"],
            },
        }
    ]
    assert "page_size" in param["errors"][0]["description"]


def test_unknown_api_is_12007_and_foreign_paths_404(sim: RunningSimulator, client: SimClient) -> None:
    _, token, _ = _agents(sim, "Tenv")[0]
    assert client.gdt("/v1.1/campaigns/get", token).json()["code"] == 12007
    assert client.gdt("/v1.1/wechat_advertiser/get", token).json()["code"] == 12007  # that is wx's
    assert client.gdt("/v1.2/advertiser/get", token).json()["code"] == 12007  # a version not served
    assert client.gdt("/v1.3/advertiser/get", token).json()["code"] == 0
    assert client.session.post(f"{sim.url('gdt')}/v1.1/funds/get").json()["code"] == 12007
    assert client.session.get(f"{sim.base_url}/baidu/v1/anything").status_code == 404


# -- auth order -------------------------------------------------------------------------------------


def test_auth_checks_run_in_the_vendors_order(sim: RunningSimulator, client: SimClient) -> None:
    tenant = "Tauth"
    (owner, token, _), (other, other_token, _) = _agents(sim, tenant)
    sim.expire_tokens("gdt", tenant, other)  # `other_token` is now expired
    mine = sim.world.accounts("gdt", tenant, agent_id=owner)[0][0]
    theirs = sim.world.accounts("gdt", tenant, agent_id=other)[0][0]
    old = int(time.time()) - 301
    client.gdt("/v1.1/funds/get", token, nonce="used-nonce", account_id=mine)  # burn a nonce
    cases = [
        # (token, params, expected): each case is also wrong at every later step
        ("unknown", {"omit": ("nonce",), "timestamp": old, "account_id": theirs}, 12000),  # nonce missing
        (None, {"timestamp": old, "account_id": theirs}, 12000),  # access_token missing
        ("x", {"omit": ("timestamp",), "account_id": theirs}, 12000),  # timestamp missing
        ("", {"timestamp": old, "account_id": theirs}, 11005),  # empty token
        ("unknown", {"timestamp": old, "nonce": "used-nonce", "account_id": theirs}, 11002),
        (other_token, {"timestamp": old, "nonce": "used-nonce", "account_id": theirs}, 11000),  # expired
        (token, {"timestamp": old, "nonce": "used-nonce", "account_id": theirs}, 12101),  # 301 s old
        (token, {"timestamp": int(time.time()) + 310, "account_id": theirs}, 12101),  # from the future
        (token, {"nonce": "used-nonce", "account_id": theirs}, 12100),  # nonce reused
        (token, {"account_id": theirs}, 12203),  # another agent's account
        (token, {"account_id": 12345}, 12201),  # nobody's account
        (token, {"account_id": "abc"}, 12201),
        (token, {"account_id": mine}, 0),
    ]
    for case_token, params, expected in cases:
        body = client.gdt("/v1.1/funds/get", case_token, **params).json()
        assert body["code"] == expected, (case_token, params, body)


def test_reports_reject_agency_ids(sim: RunningSimulator, client: SimClient) -> None:
    owner, token, _ = _agents(sim, "Tagency")[0]
    body = client.gdt(
        "/v1.1/daily_reports/get",
        token,
        account_id=owner,
        level="REPORT_LEVEL_ADVERTISER",
        date_range=ONE_DAY,
    ).json()
    assert body["code"] == 12201
    # funds/get takes the agency's own id (its own funds)
    funds = client.gdt("/v1.1/funds/get", token, account_id=owner).json()
    assert funds["code"] == 0 and len(funds["data"]["list"]) == 1


# -- advertiser/get ---------------------------------------------------------------------------------


def test_advertiser_get_normal_mode_covers_only_1000_rows(sim: RunningSimulator, client: SimClient) -> None:
    owner, token, _ = _agents(sim, "Tpages")[0]
    total = len(sim.world.accounts("gdt", "Tpages", agent_id=owner))
    assert total > 1000
    seen = []
    for page in range(1, 12):
        data = client.gdt("/v1.1/advertiser/get", token, page=page, page_size=100).json()["data"]
        assert data["page_info"] == {
            "page": page,
            "page_size": 100,
            "total_number": total,
            "total_page": -(-total // 100),
        }
        seen += [row["account_id"] for row in data["list"]]
    assert len(seen) == len(set(seen)) == 1000  # page 11 is empty although total_page says more
    straddle = client.gdt("/v1.1/advertiser/get", token, page=34, page_size=30).json()["data"]["list"]
    assert len(straddle) == 10  # rows 990-999 only


def test_advertiser_get_cursor_mode_reaches_the_end(sim: RunningSimulator, client: SimClient) -> None:
    owner, token, _ = _agents(sim, "Tcursor")[0]
    expected = sorted(a for a, _ in sim.world.accounts("gdt", "Tcursor", agent_id=owner))
    seen, cursor, calls = [], None, 0
    while True:
        params = {"pagination_mode": "PAGINATION_MODE_CURSOR", "page_size": 100}
        if cursor is not None:
            params["cursor"] = cursor
        data = client.gdt("/v1.1/advertiser/get", token, **params).json()["data"]
        info = data["cursor_page_info"]
        assert set(info) == {"page_size", "total_number", "has_more", "cursor"}
        assert isinstance(info["has_more"], bool) and isinstance(info["cursor"], int)
        seen += [row["account_id"] for row in data["list"]]
        calls += 1
        if not info["has_more"]:
            break
        cursor = info["cursor"]
    assert seen == expected and calls == -(-len(expected) // 100)


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"page_size": 101}, 18003),  # page_size 1-100
        ({"page_size": 0}, 18004),
        ({"page": 1001}, 18003),  # page 1-1000
        ({"page": "x"}, 18002),
        ({"pagination_mode": "PAGINATION_MODE_FAST"}, 18009),
        ({"fields": ["account_id", "balance"]}, 12009),
        ({"page": 30, "page_size": 100}, 0),  # past the end (2,400 accounts in all): empty, code 0
    ],
)
def test_advertiser_get_parameters(sim: RunningSimulator, client: SimClient, params: dict, code: int) -> None:
    _, token, _ = _agents(sim, "Tparams")[-1]
    body = client.gdt("/v1.1/advertiser/get", token, **params).json()
    assert body["code"] == code
    if code == 0:
        assert body["data"]["list"] == []


def test_advertiser_get_fields_and_filtering(sim: RunningSimulator, client: SimClient) -> None:
    owner, token, _ = _agents(sim, "Tfields")[-1]
    rows = client.gdt("/v1.1/advertiser/get", token, fields=["corporation_name", "account_id"]).json()["data"]
    assert all(list(r) == ["corporation_name", "account_id"] for r in rows["list"])
    name = rows["list"][0]["corporation_name"]
    filtered = client.gdt(
        "/v1.3/advertiser/get",
        token,
        filtering=[{"field": "corporation_name", "operator": "EQUALS", "values": [name]}],
    ).json()["data"]["list"]
    assert filtered and all(r["corporation_name"] == name for r in filtered)
    assert all(r["agency_account_id"] == owner for r in filtered)
    # agency_account_id is a v1.3 field: the v1.1 model has none
    v11 = client.gdt("/v1.1/advertiser/get", token).json()["data"]["list"]
    assert v11 and all("agency_account_id" not in r for r in v11)
    assert client.gdt("/v1.1/advertiser/get", token, fields=["agency_account_id"]).json()["code"] == 12009


# -- funds ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("version", "spend"),
    [
        ("v1.1", "today_cost"),  # the v1.1 model's name (TPHP@a21b7259 FundsGetListStruct)
        ("v1.3", "realtime_cost"),  # the v1.3 model's name (TGo model_funds_get_list_struct.go)
    ],
)
def test_funds_get_returns_the_worlds_records(
    sim: RunningSimulator, client: SimClient, version: str, spend: str
) -> None:
    owner, token, _ = _agents(sim, "Tfunds")[-1]
    for account_id, _ in sim.world.accounts("gdt", "Tfunds", agent_id=owner)[:8]:
        records = client.gdt(f"/{version}/funds/get", token, account_id=account_id).json()["data"]["list"]
        assert len(records) == sim.world.funds_records("gdt", account_id, TODAY)
        assert records[0]["fund_type"] == "FUND_TYPE_CASH"
        assert all(set(r) == {"fund_type", "balance", "fund_status", spend} for r in records)
        assert all(isinstance(r["balance"], int) and isinstance(r[spend], int) for r in records)


# -- reports ----------------------------------------------------------------------------------------

_REPORT_CASES = [
    # (endpoint, params, expected code), on v1.1
    ("daily", {"level": "REPORT_LEVEL_AD", "date_range": ONE_DAY}, 0),
    ("daily", {"date_range": ONE_DAY}, 18001),  # level missing
    ("daily", {"level": "REPORT_LEVEL_BIDWORD_X", "date_range": ONE_DAY}, 18009),
    ("daily", {"level": "REPORT_LEVEL_AD_WECHAT", "date_range": ONE_DAY}, 18009),  # wx levels on gdt
    ("daily", {"level": "REPORT_LEVEL_AD"}, 18001),  # date_range missing
    ("daily", {"level": "REPORT_LEVEL_AD", "date_range": "{not json"}, 12003),
    (
        "daily",
        {"level": "REPORT_LEVEL_AD", "date_range": {"start_date": DAY, "end_date": "2024-04-19"}},
        31057,
    ),
    ("daily", {"level": "REPORT_LEVEL_AD", "date_range": {"start_date": "20240510", "end_date": DAY}}, 18002),
    ("daily", {"level": "REPORT_LEVEL_AD", "date_range": ONE_DAY, "group_by": ["hour", "ad_id"]}, 18009),
    ("daily", {"level": "REPORT_LEVEL_CAMPAIGN", "date_range": ONE_DAY, "group_by": ["ad_id"]}, 18009),
    ("daily", {"level": "REPORT_LEVEL_ADGROUP", "date_range": ONE_DAY, "group_by": ["date", "site_set"]}, 0),
    ("daily", {"level": "REPORT_LEVEL_AD", "date_range": ONE_DAY, "fields": '"cost"'}, 12008),
    ("daily", {"level": "REPORT_LEVEL_AD", "date_range": ONE_DAY, "fields": "cost"}, 12008),
    ("daily", {"level": "REPORT_LEVEL_AD", "date_range": ONE_DAY, "fields": ["cost", "costs"]}, 12009),
    ("daily", {"level": "REPORT_LEVEL_CAMPAIGN", "date_range": ONE_DAY, "fields": ["ad_id"]}, 12009),
    ("daily", {"level": "REPORT_LEVEL_AD", "date_range": ONE_DAY, "fields": ["hour"]}, 12009),
    ("daily", {"level": "REPORT_LEVEL_AD", "date_range": ONE_DAY, "page_size": 1001}, 18003),
    ("daily", {"level": "REPORT_LEVEL_AD", "date_range": ONE_DAY, "page": 11, "page_size": 1000}, 18003),
    ("daily", {"level": "REPORT_LEVEL_AD", "date_range": ONE_DAY, "page": 10, "page_size": 1000}, 0),
    ("daily", {"level": "REPORT_LEVEL_AD", "date_range": ONE_DAY, "page": 0}, 18004),
    ("daily", {"level": "REPORT_LEVEL_AD", "date_range": ONE_DAY, "time_line": "CLICK_TIME"}, 18009),
    ("daily", {"level": "REPORT_LEVEL_AD", "date_range": ONE_DAY, "filtering": [IN_AD]}, 0),
    (
        "daily",
        {"level": "REPORT_LEVEL_AD", "date_range": ONE_DAY, "filtering": [{**IN_AD, "field": "cost"}]},
        18009,
    ),
    ("daily", {"level": "REPORT_LEVEL_AD", "date_range": ONE_DAY, "filtering": {"field": "ad_id"}}, 18002),
    ("hourly", {"level": "REPORT_LEVEL_AD", "date_range": ONE_DAY, "group_by": ["hour", "ad_id"]}, 0),
    (
        "hourly",
        {"level": "REPORT_LEVEL_CAMPAIGN", "date_range": ONE_DAY, "group_by": ["hour", "ad_id"]},
        18009,
    ),
    ("hourly", {"level": "REPORT_LEVEL_AD", "date_range": ONE_DAY, "group_by": ["date", "ad_id"]}, 18009),
    (
        "hourly",
        {"level": "REPORT_LEVEL_AD", "date_range": {"start_date": "2024-04-19", "end_date": DAY}},
        31057,
    ),
    (
        "hourly",
        {"level": "REPORT_LEVEL_AD", "date_range": {"start_date": "2024-01-01", "end_date": "2024-01-01"}},
        31057,
    ),
    # daily data of the last 365 days, the 365th included (docs/insights/ad_insights/daily)
    (
        "daily",
        {"level": "REPORT_LEVEL_AD", "date_range": {"start_date": "2023-04-30", "end_date": "2023-04-30"}},
        0,
    ),
    (
        "daily",
        {"level": "REPORT_LEVEL_AD", "date_range": {"start_date": "2023-04-29", "end_date": "2023-04-29"}},
        31057,
    ),
    # filtering values are strings (TGo FilteringStruct `values []string`): a number is refused
    (
        "daily",
        {"level": "REPORT_LEVEL_AD", "date_range": ONE_DAY, "filtering": [{**IN_AD, "values": [1]}]},
        18002,
    ),
    # the v1.1 model has no account_id and no *_name; the new system's names are asked of it too
    ("daily", {"level": "REPORT_LEVEL_AD", "date_range": ONE_DAY, "fields": ["account_id"]}, 12009),
    ("daily", {"level": "REPORT_LEVEL_AD", "date_range": ONE_DAY, "fields": ["conversions_count"]}, 0),
    ("daily", {"level": "REPORT_LEVEL_AD", "date_range": ONE_DAY, "fields": ["ad_name"]}, 12009),
    # v1.1 hourly rows have hour but no date
    ("hourly", {"level": "REPORT_LEVEL_AD", "date_range": ONE_DAY, "fields": ["date", "cost"]}, 12009),
    # v1.1 takes the metric-system flag (N-metrics), not v1.3's WeChat one: an undeclared parameter
    (
        "daily",
        {
            "level": "REPORT_LEVEL_AD",
            "date_range": ONE_DAY,
            "weixin_official_accounts_upgrade_enabled": "true",
        },
        18002,
    ),
    # with the flag, the old system's names are refused
    (
        "daily",
        {
            "level": "REPORT_LEVEL_AD",
            "date_range": ONE_DAY,
            "adq_accounts_upgrade_enabled": "true",
            "fields": ["impression"],
        },
        12009,
    ),
]
_V13_CASES = [
    # (endpoint, params, expected code), on v1.3
    ("daily", {"level": "REPORT_LEVEL_AD", "date_range": ONE_DAY, "fields": ["account_id", "view_count"]}, 0),
    (
        "daily",
        {"level": "REPORT_LEVEL_AD", "date_range": ONE_DAY, "fields": ["ad_name", "conversions_count"]},
        0,
    ),
    # v1.3 has none of the legacy metric names
    ("daily", {"level": "REPORT_LEVEL_AD", "date_range": ONE_DAY, "fields": ["impression"]}, 12009),
    ("daily", {"level": "REPORT_LEVEL_AD", "date_range": ONE_DAY, "fields": ["click", "cost"]}, 12009),
    ("hourly", {"level": "REPORT_LEVEL_AD", "date_range": ONE_DAY, "fields": ["date", "hour", "cost"]}, 0),
    ("daily", {"level": "REPORT_LEVEL_AD", "date_range": ONE_DAY, "adq_accounts_upgrade_enabled": "true"}, 0),
    (
        "daily",
        {"level": "REPORT_LEVEL_AD", "date_range": ONE_DAY, "adq_accounts_upgrade_enabled": "yes"},
        18002,
    ),
]


@pytest.mark.parametrize(
    ("version", "kind", "params", "code"),
    [("v1.1", *case) for case in _REPORT_CASES] + [("v1.3", *case) for case in _V13_CASES],
)
def test_report_validation(
    sim: RunningSimulator, client: SimClient, version: str, kind: str, params: dict, code: int
) -> None:
    owner, token, _ = _agents(sim, "Treport")[-1]
    account_id = _spending_account(sim, "Treport", owner, date.fromisoformat(DAY))
    body = client.gdt(f"/{version}/{kind}_reports/get", token, account_id=account_id, **params).json()
    assert body["code"] == code, body


def _report(
    client: SimClient, token: str, kind: str, account_id: int, level: str, version: str = "v1.1", **params
) -> list[dict]:
    body = client.gdt(
        f"/{version}/{kind}_reports/get",
        token,
        account_id=account_id,
        level=f"REPORT_LEVEL_{level}",
        date_range=params.pop("date_range", ONE_DAY),
        page_size=1000,
        **params,
    ).json()
    assert body["code"] == 0, body
    assert body["data"]["page_info"]["total_number"] == len(body["data"]["list"])
    return body["data"]["list"]


def test_levels_and_granularities_add_up(sim: RunningSimulator, client: SimClient) -> None:
    owner, token, _ = _agents(sim, "Tsums")[-1]
    account_id = _spending_account(sim, "Tsums", owner, date.fromisoformat(DAY))
    totals = {}
    for level in ("ADVERTISER", "CAMPAIGN", "ADGROUP", "AD", "PROMOTED_OBJECT"):
        rows = _report(client, token, "daily", account_id, level)
        totals[level] = sum(r["cost"] for r in rows)
        assert all(r["date"] == DAY for r in rows)
    hourly = _report(client, token, "hourly", account_id, "AD", group_by=["hour", "ad_id"])
    totals["hourly"] = sum(r["cost"] for r in hourly)
    current = _report(client, token, "daily", account_id, "AD", version="v1.3")
    totals["v1.3"] = sum(r["cost"] for r in current)
    assert len(set(totals.values())) == 1 and totals["AD"] > 0
    # the same rows under each version's default metric names
    assert set(_report(client, token, "daily", account_id, "ADVERTISER")[0]) == {
        "date",
        "impression",
        "click",
        "cost",
        "conversion",
    }
    assert set(_report(client, token, "daily", account_id, "ADVERTISER", version="v1.3")[0]) == {
        "date",
        "view_count",
        "valid_click_count",
        "cost",
        "conversions_count",
    }
    assert all(0 <= r["hour"] <= 23 for r in hourly)
    assert len(_report(client, token, "daily", account_id, "ADVERTISER")) == 1


def test_filtering_keeps_matching_rows(sim: RunningSimulator, client: SimClient) -> None:
    owner, token, _ = _agents(sim, "Tfilter")[-1]
    account_id = _spending_account(sim, "Tfilter", owner, date.fromisoformat(DAY))
    rows = _report(client, token, "daily", account_id, "AD")
    wanted = [str(rows[0]["ad_id"])]
    only = _report(client, token, "daily", account_id, "AD", filtering=[{**IN_AD, "values": wanted}])
    assert only == rows[:1]


def test_fields_are_projected_in_order(sim: RunningSimulator, client: SimClient) -> None:
    owner, token, _ = _agents(sim, "Tproj")[-1]
    account_id = _spending_account(sim, "Tproj", owner, date.fromisoformat(DAY))
    fields = [
        "hour",
        "campaign_id",
        "adgroup_id",
        "ad_id",
        "promoted_object_type",
        "promoted_object_id",
        "cost",
    ]
    rows = _report(client, token, "hourly", account_id, "AD", group_by=["hour", "ad_id"], fields=fields)
    assert rows and all(list(r) == fields for r in rows)
    assert all(isinstance(r["cost"], int) for r in rows)  # fen


def test_time_lines_differ(sim: RunningSimulator, client: SimClient) -> None:
    owner, token, _ = _agents(sim, "Ttime")[-1]
    account_id = _spending_account(sim, "Ttime", owner, date.fromisoformat(DAY))
    by_line = {
        line: _report(
            client, token, "daily", account_id, "AD", time_line=line, fields=["ad_id", "conversion", "cost"]
        )
        for line in ("REQUEST_TIME", "REPORTING_TIME", "ACTIVE_TIME")
    }
    assert len({len(rows) for rows in by_line.values()}) == 1
    assert by_line["REQUEST_TIME"] != by_line["REPORTING_TIME"] != by_line["ACTIVE_TIME"]


def test_accounts_without_spend_have_no_rows(sim: RunningSimulator, client: SimClient) -> None:
    owner, token, _ = _agents(sim, "Tidle")[-1]
    day = date.fromisoformat(DAY)
    idle = next(
        a
        for a, _ in sim.world.accounts("gdt", "Tidle", agent_id=owner)
        if not sim.world.spends("gdt", a, day)
    )
    assert _report(client, token, "daily", idle, "AD") == []
    assert client.gdt("/v1.1/funds/get", token, account_id=idle).json()["data"]["list"]


def test_late_revisions_over_http(sim: RunningSimulator, client: SimClient) -> None:
    owner, token, _ = _agents(sim, "Trevise")[-1]
    day = date(2024, 4, 19)
    account_id = _spending_account(sim, "Trevise", owner, day)
    dated = {"date_range": {"start_date": "2024-04-19", "end_date": "2024-04-19"}}
    try:
        sim.set_today(date(2024, 4, 20))  # one day old: not final yet
        early = _report(client, token, "daily", account_id, "AD", **dated)
        sim.set_today(date(2024, 4, 25))  # final
        final = _report(client, token, "daily", account_id, "AD", **dated)
    finally:
        sim.set_today(TODAY)
    assert [r["ad_id"] for r in early] == [r["ad_id"] for r in final]
    assert sum(r["cost"] for r in early) < sum(r["cost"] for r in final)


# -- tokens -----------------------------------------------------------------------------------------


def test_refresh_rotates_both_tokens(sim: RunningSimulator, client: SimClient) -> None:
    _, token, refresh = _agents(sim, "Trotate")[0]
    app = {"client_id": 1110001, "client_secret": "gdt-secret", "grant_type": "refresh_token"}
    body = client.gdt("/oauth/token", None, omit=("timestamp", "nonce"), **app, refresh_token=refresh).json()
    assert body["code"] == 0
    data = body["data"]
    assert data["access_token_expires_in"] == 86400 and data["refresh_token_expires_in"] == 2592000
    assert client.gdt("/v1.1/advertiser/get", data["access_token"]).json()["code"] == 0
    assert client.gdt("/v1.1/advertiser/get", token).json()["code"] == 11002  # old access token dead
    again = client.gdt("/oauth/token", None, **app, refresh_token=refresh).json()
    assert again["code"] == 11010  # old refresh token dead
    bad_client = client.gdt("/oauth/token", None, **{**app, "client_secret": "nope"}, refresh_token="x")
    assert bad_client.json()["code"] == 11007
    newer = client.gdt("/oauth/token", None, **app, refresh_token=data["refresh_token"]).json()
    assert newer["code"] == 0 and newer["data"]["access_token"] != data["access_token"]


def test_refresh_without_a_new_refresh_token_keeps_it_valid() -> None:
    """Tencent's refresh answer may lack `refresh_token` (optional in every SDK model; a mirror of the
    doc shows one without it): configured so, the simulator answers that way and the refresh token
    stays valid, while the old access token dies."""
    config = SimConfig.load(overrides={"media": {"gdt": {"tokens": {"refresh_answer_token": False}}}})
    with running_simulator(config) as sim, SimClient(sim.base_url) as client:
        _, token, refresh = _agents(sim, "Tkeep")[0]
        app = {"client_id": 1110001, "client_secret": "gdt-secret", "grant_type": "refresh_token"}
        first = client.gdt("/oauth/token", None, **app, refresh_token=refresh).json()
        assert first["code"] == 0 and "refresh_token" not in first["data"]
        assert client.gdt("/v1.3/advertiser/get", token).json()["code"] == 11002
        second = client.gdt("/oauth/token", None, **app, refresh_token=refresh).json()  # the same one again
        assert second["code"] == 0 and second["data"]["access_token"] != first["data"]["access_token"]
        assert client.gdt("/v1.3/advertiser/get", second["data"]["access_token"]).json()["code"] == 0


def test_forced_expiry(sim: RunningSimulator, client: SimClient) -> None:
    tenant = "Texpire"
    agent, token, refresh = _agents(sim, tenant)[0]
    assert client.gdt("/v1.1/advertiser/get", token).json()["code"] == 0
    assert sim.expire_tokens("gdt", tenant, agent) == 1
    assert client.gdt("/v1.1/advertiser/get", token).json()["code"] == 11000
    app = {"client_id": 1110001, "client_secret": "gdt-secret", "grant_type": "refresh_token"}
    fresh = client.gdt("/oauth/token", None, **app, refresh_token=refresh).json()["data"]
    assert client.gdt("/v1.1/advertiser/get", fresh["access_token"]).json()["code"] == 0
    # expiring the refresh token too (over the admin endpoint) gives 11012 on refresh
    response = client.session.post(
        f"{sim.base_url}/admin/tokens/expire", json={"media": "gdt", "tenant": tenant, "refresh": True}
    )
    assert response.json() == {"expired": len(sim.world.agents("gdt", tenant, active_only=False))}
    assert (
        client.gdt("/oauth/token", None, **app, refresh_token=fresh["refresh_token"]).json()["code"] == 11012
    )
