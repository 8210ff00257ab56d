"""Contract: the simulated jrtt (Ocean Engine open_api v2, research §2 and §4) over real HTTP.

- envelope `{code, message ("OK"), request_id, data}`; errors are HTTP 200 with `data: {}`;
- auth by the `Access-Token` header: missing 40104, unknown 40105, expired 40102; ids outside the
  token agent's tree 40002 (a first-tier token covers its second-tier agents' trees, a
  second-tier token only its own); bad parameters 40001;
- int64 advertiser ids (> 2**53) travel as exact JSON integers;
- pagination: page_info and cursor_page_info (`has_more` bool) to the end, report cursor_info
  (`has_more` int); maxima enforced;
- reports: span <= 30 days, flat rows with `stat_datetime`, integrated nested rows, agent report
  one row per advertiser for the range (no date field, as the official rows);
- oauth2/refresh_token rotates both tokens (old ones 40105 / 40107), expired refresh 40103.

Each test uses its own tenant alias, so token rotations never leak between tests.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

import pytest

from ark_sim import SimConfig, running_simulator
from ark_sim.media import jrtt as sim_jrtt
from ark_sim.media._ocean_contract import FUND_MONEY
from ark_sim.server import RunningSimulator
from ark_sim.spec import Tier as AgentTier
from ark_sim.testing import SimClient

DAY = "2024-05-10"
SELECT = "/open_api/2/agent/advertiser/select/"
INFO = "/open_api/2/advertiser/info/"
FUND = "/open_api/2/advertiser/fund/get/"
AGENT_REPORT = "/open_api/2/report/agent/get_v2/"
REFRESH = "/open_api/oauth2/refresh_token/"


@pytest.fixture(scope="module")
def sim() -> Iterator[RunningSimulator]:
    with running_simulator(SimConfig.load(overrides={"clock": {"today": "2024-05-20"}})) as running:
        yield running


@pytest.fixture(scope="module")
def client(sim: RunningSimulator) -> Iterator[SimClient]:
    c = SimClient(sim.base_url)
    yield c
    c.close()


class Tree:
    """A tenant's jrtt tree: a first-tier agent with children, and the tokens."""

    def __init__(self, sim: RunningSimulator, tenant: str) -> None:
        world = sim.world
        self.tenant = tenant
        self.tokens = world.initial_tokens("jrtt", tenant)
        firsts = world.agents("jrtt", tenant, tier=AgentTier.FIRST)
        self.parent = next(a for a in firsts if world.child_agents("jrtt", tenant, a.agent_id))
        self.other_first = next(a for a in firsts if a.agent_id != self.parent.agent_id)
        self.child = world.child_agents("jrtt", tenant, self.parent.agent_id)[0]
        self.direct = [a.account_id for a in world.agent_accounts("jrtt", tenant, self.parent.agent_id)]
        self.child_accounts = [
            a.account_id for a in world.agent_accounts("jrtt", tenant, self.child.agent_id)
        ]
        self.other_accounts = [
            a.account_id for a in world.agent_accounts("jrtt", tenant, self.other_first.agent_id)
        ]

    def token(self, agent) -> str:
        return self.tokens[agent.agent_id][0]

    def refresh(self, agent) -> str:
        return self.tokens[agent.agent_id][1]


def _spending(sim: RunningSimulator, accounts: list[int], *, upgraded: bool = False) -> int:
    """A spending account of `accounts`: a legacy one (campaigns and ads), or an upgraded one."""
    from datetime import date

    return next(
        a
        for a in accounts
        if sim.world.spends("jrtt", a, date.fromisoformat(DAY))
        and sim_jrtt.upgraded(sim.world, a) == upgraded
    )


# -- envelope and auth ------------------------------------------------------------------------------


def test_envelopes(sim: RunningSimulator, client: SimClient) -> None:
    tree = Tree(sim, "Jenv")
    ok = client.jrtt(SELECT, tree.token(tree.parent), advertiser_id=tree.parent.agent_id)
    body = ok.json()
    assert ok.status_code == 200 and set(body) == {"code", "message", "request_id", "data"}
    assert (body["code"], body["message"]) == (0, "OK")
    assert re.fullmatch(r"\d{14}[0-9A-F]{16}", body["request_id"])
    bad = client.jrtt(SELECT, "nope", advertiser_id=tree.parent.agent_id)
    assert bad.status_code == 200 and bad.json()["code"] == 40105 and bad.json()["data"] == {}
    assert client.jrtt("/open_api/2/campaign/get/", tree.token(tree.parent)).json()["code"] == 40001
    # some clients send GET parameters as a JSON body (the seed's own example does)
    as_body = client.session.get(
        f"{sim.url('jrtt')}{SELECT}",
        json={"advertiser_id": tree.parent.agent_id},
        headers={"Access-Token": tree.token(tree.parent)},
    )
    assert as_body.json()["data"]["list"] == tree.direct


def test_auth_codes(sim: RunningSimulator, client: SimClient) -> None:
    tree = Tree(sim, "Jauth")
    sim.expire_tokens("jrtt", "Jauth", tree.other_first.agent_id)
    cases = [
        (None, 40104),  # no Access-Token header
        ("", 40104),  # empty header
        ("Bearer " + tree.token(tree.parent), 40105),  # no "Bearer" prefix in this API
        ("0" * 40, 40105),
        (tree.token(tree.other_first), 40102),  # expired
        (tree.token(tree.parent), 0),
    ]
    for token, code in cases:
        body = client.jrtt(SELECT, token, advertiser_id=tree.parent.agent_id).json()
        assert body["code"] == code, (token, body)


def test_authorisation_tree(sim: RunningSimulator, client: SimClient) -> None:
    tree = Tree(sim, "Jtree")
    parent, child = tree.token(tree.parent), tree.token(tree.child)
    cases = [
        # (token, path, params, expected code)
        (parent, FUND, {"advertiser_id": tree.direct[0]}, 0),  # own direct account
        (parent, FUND, {"advertiser_id": tree.child_accounts[0]}, 0),  # a child's account
        (parent, FUND, {"advertiser_id": tree.child.agent_id}, 0),  # the child agent itself
        (parent, SELECT, {"advertiser_id": tree.child.agent_id}, 0),
        (parent, FUND, {"advertiser_id": tree.other_accounts[0]}, 40002),  # another first tier's
        (child, FUND, {"advertiser_id": tree.child_accounts[0]}, 0),
        (child, FUND, {"advertiser_id": tree.direct[0]}, 40002),  # the parent's direct account
        (child, SELECT, {"advertiser_id": tree.parent.agent_id}, 40002),
        (parent, SELECT, {"advertiser_id": tree.direct[0]}, 40001),  # an advertiser, not an agent
        (parent, FUND, {"advertiser_id": "abc"}, 40001),
        (parent, FUND, {}, 40001),
        (parent, INFO, {"advertiser_ids": [tree.direct[0], tree.child_accounts[0]]}, 0),
        (parent, INFO, {"advertiser_ids": [tree.direct[0], tree.other_accounts[0]]}, 40002),  # one bad id
        (parent, INFO, {"advertiser_ids": tree.direct[:1] * 101}, 40001),  # more than 100 ids
        (parent, INFO, {"advertiser_ids": []}, 40001),
        (parent, INFO, {"advertiser_ids": "[1,"}, 40001),
    ]
    for token, path, params, code in cases:
        body = client.jrtt(path, token, **params).json()
        assert body["code"] == code, (path, params, body)


# -- ids --------------------------------------------------------------------------------------------


def test_int64_ids_survive_the_wire(sim: RunningSimulator, client: SimClient) -> None:
    tree = Tree(sim, "Jint")
    raw = client.jrtt(SELECT, tree.token(tree.parent), advertiser_id=tree.parent.agent_id).text
    listed = re.search(r'"list":\[([0-9,]+)\]', raw).group(1).split(",")
    assert listed == [str(a) for a in tree.direct]
    assert all(len(digits) == 19 and int(digits) > 2**53 for digits in listed)
    assert any(float(digits) != int(digits) for digits in listed)  # a float64 reader would corrupt them
    info = client.jrtt(INFO, tree.token(tree.parent), advertiser_ids=tree.direct[:3]).text
    assert all(f'"id":{a}' in info for a in tree.direct[:3])
    items = json.loads(info)["data"]
    assert [i["id"] for i in items] == tree.direct[:3]
    assert {i["role"] for i in items} == {"ROLE_ADVERTISER"}
    assert set(items[0]) == {
        "id",
        "name",
        "role",
        "status",
        "company",
        "first_industry_name",
        "second_industry_name",
        "create_time",
    }
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", items[0]["create_time"])


# -- listings ---------------------------------------------------------------------------------------


def test_advertiser_select_pages_and_cursor(sim: RunningSimulator, client: SimClient) -> None:
    tree = Tree(sim, "Jpages")
    token, agent = tree.token(tree.child), tree.child.agent_id
    pages, page = [], 1
    while True:
        data = client.jrtt(SELECT, token, advertiser_id=agent, page=page, page_size=5).json()["data"]
        assert data["page_info"]["total_number"] == len(tree.child_accounts)
        if not data["list"]:
            break
        pages += data["list"]
        page += 1
    assert pages == tree.child_accounts and page - 1 == data["page_info"]["total_page"]
    cursor, seen = 0, []
    while True:
        data = client.jrtt(SELECT, token, advertiser_id=agent, cursor=cursor, count=4).json()["data"]
        info = data["cursor_page_info"]
        assert set(info) == {"count", "cursor", "has_more", "total_number"} and isinstance(
            info["has_more"], bool
        )
        seen += data["list"]
        if not info["has_more"]:
            break
        cursor = info["cursor"]
    assert seen == tree.child_accounts
    too_big = client.jrtt(SELECT, token, advertiser_id=agent, page_size=1001).json()
    assert too_big["code"] == 40001


def test_child_agents(sim: RunningSimulator, client: SimClient) -> None:
    tree = Tree(sim, "Jkids")
    path = "/open_api/2/agent/child_agent/select/"
    data = client.jrtt(path, tree.token(tree.parent), advertiser_id=tree.parent.agent_id).json()["data"]
    expected = [a.agent_id for a in sim.world.child_agents("jrtt", "Jkids", tree.parent.agent_id)]
    assert data["child_agent_ids"] == expected and data["page_info"]["total_number"] == len(expected)
    empty = client.jrtt(path, tree.token(tree.child), advertiser_id=tree.child.agent_id).json()["data"]
    assert empty["child_agent_ids"] == []


def test_fund_get_is_floats_in_yuan(sim: RunningSimulator, client: SimClient) -> None:
    tree = Tree(sim, "Jfund")
    data = client.jrtt(FUND, tree.token(tree.parent), advertiser_id=tree.direct[0]).json()["data"]
    wallet = {"wallet_id", "wallet_name", "wallet_total_balance_valid"}  # strings in the official model
    money = set(data) - {"advertiser_id", "name", "email"} - wallet
    assert money == set(FUND_MONEY)  # every money field of the official model
    assert all(isinstance(data[k], float) and round(data[k], 2) == data[k] for k in money)
    assert all(isinstance(data[k], str) for k in wallet)
    assert data["wallet_total_balance_valid"] == f"{data['valid_balance']:.2f}"
    assert data["advertiser_id"] == tree.direct[0]


def test_account_fund_get_answers_a_batch_of_balances(sim: RunningSimulator, client: SimClient) -> None:
    """v3.0's `account/fund/get`: one record per id asked (≤ 50 ids), the v2 balances in fen;
    an id outside the token's tree fails the whole batch (40002)."""
    tree = Tree(sim, "TBATCHFUND")
    ids = tree.child_accounts[:5]
    token = tree.token(tree.child)
    body = client.jrtt("/open_api/v3.0/account/fund/get/", token, account_ids=ids, account_type="AD").json()
    assert body["code"] == 0 and [r["account_id"] for r in body["data"]["list"]] == ids
    v2 = client.jrtt(FUND, token, advertiser_id=ids[0]).json()["data"]
    assert body["data"]["list"][0]["balance"] == round(v2["balance"] * 100)
    too_many = client.jrtt(
        "/open_api/v3.0/account/fund/get/", token, account_ids=list(range(1, 52)), account_type="AD"
    )
    assert too_many.json()["code"] == 40001 and "account_ids" in too_many.json()["message"]
    outside = client.jrtt(
        "/open_api/v3.0/account/fund/get/",
        token,
        account_ids=[*ids, tree.other_accounts[0]],
        account_type="AD",
    ).json()
    assert outside["code"] == 40002


def test_agent_report_lists_second_tier_accounts(sim: RunningSimulator, client: SimClient) -> None:
    tree = Tree(sim, "Jagent")
    token, agent = tree.token(tree.parent), tree.child.agent_id  # a first-tier token reads its child
    params = {"agent_id": agent, "start_date": "2024-05-09", "end_date": DAY}
    rows, page = [], 1
    while True:
        data = client.jrtt(AGENT_REPORT, token, **params, page=page, page_size=7).json()["data"]
        if not data["list"]:
            break
        rows += data["list"]
        page += 1
    # one row per advertiser for the whole range: the official rows carry no date field
    assert len(rows) == len(tree.child_accounts) == data["page_info"]["total_number"]
    assert [r["advertiser_id"] for r in rows] == tree.child_accounts
    assert not any("stat_date" in r for r in rows)
    assert all(r["agent_id"] == agent and isinstance(r["cost"], float) for r in rows)
    cursor, seen = 0, []
    while True:
        data = client.jrtt(AGENT_REPORT, token, **params, cursor=cursor, cursor_size=5).json()["data"]
        info = data["cursor_info"]
        assert info["has_more"] in (0, 1) and type(info["has_more"]) is int
        seen += data["list"]
        if not info["has_more"]:
            break
        cursor = info["cursor"]
    assert seen == rows
    assert client.jrtt(AGENT_REPORT, token, **params, page_size=101).json()["code"] == 40001


# -- reports ----------------------------------------------------------------------------------------

_REPORT_CASES = [
    ({"start_date": DAY, "end_date": DAY}, 0),
    ({"start_date": "2024-04-10", "end_date": DAY}, 0),  # 30 days apart
    ({"start_date": "2024-04-09", "end_date": DAY}, 40001),  # 31 days apart
    ({"start_date": DAY, "end_date": "2024-05-09"}, 40001),
    ({"start_date": DAY}, 40001),
    ({"start_date": "2024/05/10", "end_date": DAY}, 40001),
    ({"start_date": DAY, "end_date": DAY, "page_size": 1001}, 40001),
    ({"start_date": DAY, "end_date": DAY, "group_by": ["STAT_GROUP_BY_INVENTORY"]}, 40001),
    ({"start_date": DAY, "end_date": DAY, "time_granularity": "STAT_TIME_GRANULARITY_WEEKLY"}, 40001),
    ({"start_date": DAY, "end_date": DAY, "fields": ["cost", "costs"]}, 40001),
]


@pytest.mark.parametrize(("params", "code"), _REPORT_CASES)
@pytest.mark.parametrize("level", ["advertiser", "campaign", "ad"])
def test_report_validation(
    sim: RunningSimulator, client: SimClient, level: str, params: dict, code: int
) -> None:
    tree = Tree(sim, "Jrep")
    path = f"/open_api/2/report/{level}/get/"
    body = client.jrtt(path, tree.token(tree.parent), advertiser_id=tree.direct[0], **params).json()
    assert body["code"] == code, body


def _rows(client: SimClient, token: str, level: str, advertiser_id: int, **params) -> list[dict]:
    body = client.jrtt(
        f"/open_api/2/report/{level}/get/",
        token,
        advertiser_id=advertiser_id,
        start_date=DAY,
        end_date=DAY,
        page_size=1000,
        **params,
    ).json()
    assert body["code"] == 0, body
    return body["data"]["list"]


def test_reports_add_up_and_show_stat_datetime(sim: RunningSimulator, client: SimClient) -> None:
    tree = Tree(sim, "Jsum")
    token, account = tree.token(tree.parent), _spending(sim, tree.direct)
    advertiser = _rows(client, token, "advertiser", account)
    campaigns = _rows(client, token, "campaign", account, filtering={"status": "CAMPAIGN_STATUS_ALL"})
    ads = _rows(client, token, "ad", account, filtering={"status": "AD_STATUS_ALL"})
    hourly = _rows(client, token, "advertiser", account, time_granularity="STAT_TIME_GRANULARITY_HOURLY")
    assert [r["stat_datetime"] for r in advertiser] == [f"{DAY} 00:00:00"]
    assert all(re.fullmatch(rf"{DAY} \d\d:00:00", r["stat_datetime"]) for r in hourly) and len(hourly) > 1
    assert all("campaign_id" in r for r in campaigns) and all({"ad_id", "campaign_id"} <= set(r) for r in ads)
    shows = {sum(r["show"] for r in rows) for rows in (advertiser, campaigns, ads, hourly)}
    assert len(shows) == 1
    assert round(sum(r["cost"] for r in ads), 2) == advertiser[0]["cost"]
    integrated = client.jrtt(
        "/open_api/2/report/integrated/get/",
        token,
        advertiser_id=account,
        start_date=DAY,
        end_date=DAY,
        group_by=["STAT_GROUP_BY_TIME_DAY", "STAT_GROUP_BY_CAMPAIGN_ID"],
    ).json()["data"]
    assert integrated["list"] and all(set(r) == {"dimensions", "metrics"} for r in integrated["list"])
    assert {r["dimensions"]["campaign_id"] for r in integrated["list"]} == {
        r["campaign_id"] for r in campaigns
    }
    assert integrated["page_info"]["total_number"] == len(campaigns)


def _account_with_a_deleted_ad(sim: RunningSimulator, accounts: list[int]) -> int:
    from datetime import date

    day = date.fromisoformat(DAY)
    for account in accounts:
        gone = sim.world.entities("jrtt", account).deleted()["adgroup_id"]  # this API's "ad"
        spent = {atom.adgroup_id for atom in sim.world.atoms("jrtt", account, day)}
        if gone & spent and not sim_jrtt.upgraded(sim.world, account):
            return account
    raise AssertionError("no legacy account spent on a deleted ad that day")


def test_deleted_entities_leave_reports_unless_the_filter_keeps_them(
    sim: RunningSimulator, client: SimClient
) -> None:
    """bububa `api/report/ad_get.go:12`: deleted ads are left out by default; AD_STATUS_ALL keeps them."""
    tree = Tree(sim, "Jdel")
    accounts = tree.direct + tree.child_accounts
    account = _account_with_a_deleted_ad(sim, accounts)
    token = tree.token(tree.parent)
    total = _rows(client, token, "advertiser", account)[0]["cost"]
    default = _rows(client, token, "ad", account)
    kept = _rows(client, token, "ad", account, filtering={"status": "AD_STATUS_ALL"})
    assert round(sum(r["cost"] for r in kept), 2) == total
    assert sum(r["cost"] for r in default) < total and len(default) < len(kept)
    bad = client.jrtt(
        "/open_api/2/report/ad/get/",
        token,
        advertiser_id=account,
        start_date=DAY,
        end_date=DAY,
        filtering={"status": "CAMPAIGN_STATUS_ALL"},
    ).json()
    assert bad["code"] == 40001 and "status" in bad["message"]  # the ad report's own enum


def test_an_upgraded_account_is_read_through_the_custom_report(
    sim: RunningSimulator, client: SimClient
) -> None:
    """Projects and promotions: `/open_api/v3.0/report/custom/get/`; its v2 campaign and ad
    reports answer nothing, a legacy account's custom report nothing either."""
    tree = Tree(sim, "Jup")
    token = tree.token(tree.parent)
    accounts = tree.direct + tree.child_accounts
    upgraded, legacy = _spending(sim, accounts, upgraded=True), _spending(sim, accounts)
    total = _rows(client, token, "advertiser", upgraded)[0]["cost"]
    assert _rows(client, token, "campaign", upgraded, filtering={"status": "CAMPAIGN_STATUS_ALL"}) == []
    assert _rows(client, token, "ad", upgraded, filtering={"status": "AD_STATUS_ALL"}) == []

    def custom(account: int, dimensions: list[str], **extra) -> dict:
        body = client.jrtt(
            "/open_api/v3.0/report/custom/get/",
            token,
            advertiser_id=account,
            dimensions=dimensions,
            metrics=["stat_cost", "show_cnt"],
            filters=[],
            order_by=[],
            start_time=DAY,
            end_time=DAY,
            page_size=1000,
            **extra,
        ).json()
        assert body["code"] == 0, body
        return body["data"]

    promotions = custom(upgraded, ["stat_time_day", "cdp_promotion_id", "cdp_promotion_name"])
    assert promotions["rows"] and all(set(r) == {"dimensions", "metrics"} for r in promotions["rows"])
    assert round(sum(r["metrics"]["stat_cost"] for r in promotions["rows"]), 2) == total
    assert promotions["total_metrics"]["stat_cost"] == total
    assert promotions["page_info"]["total_number"] == len(promotions["rows"])
    projects = custom(upgraded, ["stat_time_day", "cdp_project_id"])
    assert len(projects["rows"]) <= len(promotions["rows"])
    assert custom(legacy, ["stat_time_day", "cdp_project_id"])["rows"] == []
    # the contract: filters and order_by are required (`[]` for none), the span at most 30 days
    missing = client.jrtt(
        "/open_api/v3.0/report/custom/get/",
        token,
        advertiser_id=upgraded,
        dimensions=["stat_time_day"],
        metrics=["stat_cost"],
        start_time=DAY,
        end_time=DAY,
    ).json()
    assert missing["code"] == 40001 and "filters" in missing["message"]


def test_reports_reject_agent_ids(sim: RunningSimulator, client: SimClient) -> None:
    tree = Tree(sim, "Jrej")
    body = client.jrtt(
        "/open_api/2/report/advertiser/get/",
        tree.token(tree.parent),
        advertiser_id=tree.parent.agent_id,
        start_date=DAY,
        end_date=DAY,
    ).json()
    assert body["code"] == 40001


# -- tokens -----------------------------------------------------------------------------------------


def test_refresh_rotates_both_tokens(sim: RunningSimulator, client: SimClient) -> None:
    tree = Tree(sim, "Jrot")
    agent = tree.parent
    app = {"app_id": 1700000000001, "secret": "jrtt-secret", "grant_type": "refresh_token"}
    body = client.post("jrtt", REFRESH, {**app, "refresh_token": tree.refresh(agent)}).json()
    assert body["code"] == 0 and set(body["data"]) == {
        "access_token",
        "expires_in",
        "refresh_token",
        "refresh_token_expires_in",
    }
    new = body["data"]
    assert client.jrtt(SELECT, new["access_token"], advertiser_id=agent.agent_id).json()["code"] == 0
    assert client.jrtt(SELECT, tree.token(agent), advertiser_id=agent.agent_id).json()["code"] == 40105
    assert client.post("jrtt", REFRESH, {**app, "refresh_token": tree.refresh(agent)}).json()["code"] == 40107
    cases = [
        ({**app, "secret": "wrong", "refresh_token": new["refresh_token"]}, 40101),
        ({**app, "grant_type": "auth_code", "refresh_token": new["refresh_token"]}, 40108),
        ({**app, "refresh_token": ""}, 40001),  # missing: a parameter error naming it
        ({**app, "app_id": "1700000000001", "refresh_token": new["refresh_token"]}, 40001),  # int64, not text
    ]
    for payload, code in cases:
        assert client.post("jrtt", REFRESH, payload).json()["code"] == code
    sim.expire_tokens("jrtt", "Jrot", agent.agent_id, refresh=True)
    assert client.jrtt(SELECT, new["access_token"], advertiser_id=agent.agent_id).json()["code"] == 40102
    assert (
        client.post("jrtt", REFRESH, {**app, "refresh_token": new["refresh_token"]}).json()["code"] == 40103
    )
