"""wx: WeChat ad accounts through the unified Tencent Marketing API (research §3.2, "contract B").

Same conventions, auth order, codes, contracts and quota headers as gdt (gdt.py); what differs is
the agency listing, which depends on the version: v1.1 serves the notes' `wechat_advertiser/get`
(`{account_id, wechat_account_id}`, deleted from every SDK in 2022), v1.3 serves what the current
API offers an agency, `advertiser/get` with the wx agency's token (its sub-customers); and the
`_WECHAT` report levels. docs/media/wx.md says why contract B. Its world is gdt's shape with
WeChat site sets and fund types; the seed keeps its agents under `weixin_agents_` and its account
lists per agent.
"""

from __future__ import annotations

from ark_sim.common import page_info, page_slice, project
from ark_sim.media._tencent_contract import V13, advertiser_contract, wechat_advertiser_contract
from ark_sim.media.gdt import (
    ENTITY_IDS,
    GROUP_BY,
    Call,
    Endpoint,
    TencentApi,
    TencentSizes,
    advertiser_get,
    record_names,
    report_tables,
    tencent_contract,
    tencent_endpoints,
    tencent_funds,
    tencent_roster,
    tencent_sign,
)
from ark_sim.spec import AccountKey, AgentKey, MediaSpec, Rows, Table, WorldSpec

NAME = "wx"


def wechat_advertiser_get(api: TencentApi, call: Call) -> dict:
    """An agency's WeChat ad accounts, page by page."""
    a = call.args
    page, page_size = a["page"], a["page_size"]
    world = call.state.world
    accounts = world.agent_accounts(api.media, call.tenant, call.grant.agent_id)
    chunk = accounts[page_slice(page, page_size)]
    rows = (
        {
            "account_id": a.account_id,
            "wechat_account_id": world.account_info(api.media, a.account_id).wechat_account_id,
        }
        for a in chunk
    )
    fields = record_names(call)
    return {
        "list": [project(r, fields) for r in rows],
        "page_info": page_info(page, page_size, len(accounts)),
    }


LEVELS = {f"REPORT_LEVEL_{level}_WECHAT": level for level in ("ADVERTISER", "CAMPAIGN", "ADGROUP", "AD")}
assert set(LEVELS.values()) <= set(GROUP_BY["daily"])
LEVEL_SOURCE = "TGo `pkg/model/model_report_level.go` (the four `_WECHAT` values); v1.1: D-hr11"

API = TencentApi(
    media=NAME,
    endpoints=tencent_endpoints(
        (
            Endpoint(wechat_advertiser_contract(), wechat_advertiser_get),
            Endpoint(advertiser_contract(V13), advertiser_get, agency_ok=True),
        ),
        LEVELS,
        LEVEL_SOURCE,
    ),
    levels=LEVELS,
)

MEDIA = MediaSpec(
    name=NAME,
    platform_id=8,
    api=API,
    contract=tencent_contract(NAME, API.endpoints),
    world=WorldSpec(
        sizes=TencentSizes,
        roster=tencent_roster(NAME),
        site_sets=("SITE_SET_WECHAT", "SITE_SET_MOMENTS"),
        promoted_object_types=(
            "PROMOTED_OBJECT_TYPE_LINK_WECHAT",
            "PROMOTED_OBJECT_TYPE_APP_ANDROID",
            "PROMOTED_OBJECT_TYPE_APP_IOS",
        ),
        entity_ids=ENTITY_IDS,
        funds=tencent_funds(("FUND_TYPE_CASH", "FUND_TYPE_GIFT", "FUND_TYPE_CREDIT_ROLL")),
    ),
    # `weixin_agents_`, not `wx_agents_`: the seed's spelling
    agent_keys=(AgentKey(format="weixin_agents_{tenant}"),),
    # one key per agent and day (a re-seed deletes the day's keys of agents now gone)
    account_keys=(AccountKey(format="wx_advertiser_{tenant}_{agent_id}_{day}"),),
    tables=(
        Table(dataset="agent_list", rows=Rows.AGENTS),
        # the agency listing's table keeps the notes' name whichever endpoint lists the accounts
        Table(dataset="wechat_advertiser_get_v1.1", rows=Rows.ACCOUNTS),
        # one row per account and fund type, like gdt's
        Table(dataset="funds_get_v2", rows=Rows.PER_RECORD, endpoint="funds/get"),
        *report_tables(LEVELS),
    ),
    sign=tencent_sign,
)
