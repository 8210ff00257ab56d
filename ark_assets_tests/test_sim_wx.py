"""Contract: the simulated wx = WeChat accounts are Tencent ad accounts, read through the unified
Tencent API (docs/media/wx.md gives the sources) over real HTTP, in every version it serves.

- gdt's envelope, auth order, codes and quota headers;
- the agency lists its accounts with `advertiser/get` (its sub-customers), cursor paged, in v1.1,
  v1.3 and v3.0; the notes' `wechat_advertiser/get` (`{account_id, wechat_account_id}`, page_info,
  page_size 1-100) is served on v1.1 only while the clock is on or before its last day
  (2022-05-12), later refused with 12007 like every retired `wechat_*` endpoint;
- `funds/get` with the WeChat account's `account_id`: the funds/get record of each version (no
  `credit_roll_spec`: that was the retired `wechat_funds/get`'s);
- reports at the `REPORT_LEVEL_*_WECHAT` levels on v1.x, at the ordinary v3.0 levels on v3.0;
- `oauth/token` rotates with the wx app's client_id/secret.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest

from ark_sim import SimConfig, running_simulator
from ark_sim.server import RunningSimulator
from ark_sim.testing import SimClient

DAY = "2024-05-10"
ONE_DAY = {"start_date": DAY, "end_date": DAY}
LIST = "/v1.1/wechat_advertiser/get"
V3_REPORT = {
    "level": "REPORT_LEVEL_DYNAMIC_CREATIVE",
    "date_range": ONE_DAY,
    "group_by": ["date", "dynamic_creative_id"],
    "fields": ["date", "dynamic_creative_id", "cost"],
}


@pytest.fixture(scope="module")
def sim() -> Iterator[RunningSimulator]:
    with running_simulator(SimConfig.load(overrides={"clock": {"today": "2024-05-20"}})) as running:
        yield running


@pytest.fixture(scope="module")
def client(sim: RunningSimulator) -> Iterator[SimClient]:
    c = SimClient(sim.base_url)
    yield c
    c.close()


def _agent(sim: RunningSimulator, tenant: str, index: int = 0) -> tuple[int, str, str]:
    agent = sim.world.agents("wx", tenant)[index]
    return (agent.agent_id, *sim.world.initial_tokens("wx", tenant)[agent.agent_id])


def test_wechat_advertiser_get_lists_the_agency_until_it_is_retired(
    sim: RunningSimulator, client: SimClient
) -> None:
    agent, token, _ = _agent(sim, "Wlist")
    retired = client.wx(LIST, token, page=1, page_size=100).json()
    assert retired["code"] == 12007 and "retired after 2022-05-12; use advertiser/get" in retired["message"]
    sim.set_today(date(2022, 5, 12))  # its last day
    try:
        _lists_the_agency(sim, client, agent, token)
    finally:
        sim.set_today(date(2024, 5, 20))


def _lists_the_agency(sim: RunningSimulator, client: SimClient, agent: int, token: str) -> None:
    expected = [a.account_id for a in sim.world.agent_accounts("wx", "Wlist", agent)]
    response = client.wx(LIST, token, page=1, page_size=100)
    assert response.headers["X-RateLimit-Remaining"] == "99%,99%"
    data = response.json()["data"]
    assert [r["account_id"] for r in data["list"]] == expected
    assert all(set(r) == {"account_id", "wechat_account_id"} for r in data["list"])
    assert all(r["wechat_account_id"].startswith("gh_") for r in data["list"])
    assert data["page_info"] == {"page": 1, "page_size": 100, "total_number": len(expected), "total_page": 1}
    paged = [client.wx(LIST, token, page=p, page_size=3).json()["data"]["list"] for p in range(1, 10)]
    assert [r["account_id"] for page in paged for r in page] == expected
    assert client.wx(LIST, token, page_size=101).json()["code"] == 18003


def test_v13_lists_the_agency_with_advertiser_get(sim: RunningSimulator, client: SimClient) -> None:
    agent, token, _ = _agent(sim, "Wv13")
    expected = [a.account_id for a in sim.world.agent_accounts("wx", "Wv13", agent)]
    fields = ["account_id", "corporation_name", "system_status", "agency_account_id"]
    seen, cursor = [], None
    while True:
        params = {"pagination_mode": "PAGINATION_MODE_CURSOR", "page_size": 4, "fields": fields}
        data = client.wx(
            "/v1.3/advertiser/get", token, **params, **({"cursor": cursor} if cursor else {})
        ).json()
        rows = data["data"]["list"]
        assert all(list(r) == fields and r["agency_account_id"] == agent for r in rows)
        seen += [r["account_id"] for r in rows]
        if not data["data"]["cursor_page_info"]["has_more"]:
            break
        cursor = data["data"]["cursor_page_info"]["cursor"]
    assert seen == expected
    # the deleted listing is served on the legacy version only
    assert client.wx("/v1.3/wechat_advertiser/get", token).json()["code"] == 12007


@pytest.mark.parametrize("version", ["v1.1", "v3.0"])
def test_every_version_lists_the_agency_with_advertiser_get(
    sim: RunningSimulator, client: SimClient, version: str
) -> None:
    agent, token, _ = _agent(sim, "Wlists")
    expected = [a.account_id for a in sim.world.agent_accounts("wx", "Wlists", agent)]
    params = {"pagination_mode": "PAGINATION_MODE_CURSOR", "page_size": 100}
    if version == "v3.0":
        params["fields"] = ["account_id", "agency_account_id"]  # required on v3.0
    data = client.wx(f"/{version}/advertiser/get", token, **params).json()["data"]
    assert [r["account_id"] for r in data["list"]] == expected
    assert not data["cursor_page_info"]["has_more"]


@pytest.mark.parametrize(
    ("path", "params", "code"),
    [
        ("/v1.1/advertiser/get", {"omit": ("nonce",)}, 12000),
        ("/v1.1/advertiser/get", {"token": "nope"}, 11002),
        # retired since 2023-08-30 (news/info/20230731): refused with the replacement named
        ("/v1.1/wechat_funds/get", {}, 12007),
        ("/v3.0/wechat_agency/get", {}, 12007),
        ("/v1.3/wechat_advertiser/get", {}, 12007),
        ("/v1.1/funds/get", {"account_id": "other"}, 12203),
        ("/v1.1/daily_reports/get", {"level": "REPORT_LEVEL_AD", "date_range": ONE_DAY}, 18009),
        ("/v1.1/daily_reports/get", {"level": "REPORT_LEVEL_AD_WECHAT", "date_range": ONE_DAY}, 0),
        ("/v1.1/daily_reports/get", {"level": "REPORT_LEVEL_ADVERTISER_WECHAT", "date_range": ONE_DAY}, 0),
        ("/v1.1/hourly_reports/get", {"level": "REPORT_LEVEL_AD_WECHAT", "date_range": ONE_DAY}, 0),
        # v3.0 has no _WECHAT level: a wx account is reported at the ordinary ones
        ("/v3.0/daily_reports/get", {**V3_REPORT, "level": "REPORT_LEVEL_ADVERTISER_WECHAT"}, 18009),
        ("/v3.0/daily_reports/get", V3_REPORT, 0),
    ],
)
def test_gdt_conventions(
    sim: RunningSimulator, client: SimClient, path: str, params: dict, code: int
) -> None:
    agent, token, _ = _agent(sim, "Wconv")
    other, _, _ = _agent(sim, "Wconv", 1)
    mine = sim.world.accounts("wx", "Wconv", agent_id=agent)[0][0]
    params = dict(params)
    token = params.pop("token", token)
    if params.get("account_id") == "other":
        params["account_id"] = sim.world.accounts("wx", "Wconv", agent_id=other)[0][0]
    elif "advertiser/get" not in path and "account_id" not in params:
        params["account_id"] = mine
    response = client.wx(path, token, **params)
    body = response.json()
    assert body["code"] == code, body
    assert "X-RateLimit-Remaining" in response.headers and "X-TSA-Trace-Id" in response.headers
    if code:
        assert body["message"].endswith(f"trace_id: {response.headers['X-TSA-Trace-Id']}")


@pytest.mark.parametrize(
    ("version", "spend"),
    [("v1.1", "today_cost"), ("v1.3", "realtime_cost")],  # each version's funds/get record
)
def test_funds_are_the_funds_get_record(
    sim: RunningSimulator, client: SimClient, version: str, spend: str
) -> None:
    agent, token, _ = _agent(sim, "Wfunds")
    seen = set()
    for account_id, owner in sim.world.accounts("wx", "Wfunds", active_only=True):
        if owner != agent:
            continue
        records = client.wx(f"/{version}/funds/get", token, account_id=account_id).json()["data"]["list"]
        assert len(records) == sim.world.funds_records("wx", account_id, date(2024, 5, 20))
        assert all(set(r) == {"fund_type", "balance", "fund_status", spend} for r in records)
        seen |= {r["fund_type"] for r in records}
    assert "FUND_TYPE_CREDIT_ROLL" in seen


def test_oauth_token_rotates_with_the_wx_app(sim: RunningSimulator, client: SimClient) -> None:
    _, token, refresh = _agent(sim, "Wrot")
    app = {"client_id": 1110002, "client_secret": "wx-secret", "grant_type": "refresh_token"}
    gdt_app = {**app, "client_id": 1110001, "client_secret": "gdt-secret"}
    assert client.wx("/oauth/token", None, **gdt_app, refresh_token=refresh).json()["code"] == 11007
    new = client.wx("/oauth/token", None, **app, refresh_token=refresh).json()["data"]
    assert client.wx("/v1.1/advertiser/get", new["access_token"]).json()["code"] == 0
    assert client.wx("/v1.1/advertiser/get", token).json()["code"] == 11002
    # a wx refresh token means nothing to gdt
    assert (
        client.gdt("/oauth/token", None, **gdt_app, refresh_token=new["refresh_token"]).json()["code"]
        == 11010
    )
