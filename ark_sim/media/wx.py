"""wx: WeChat ad accounts, which are Tencent ad accounts: the unified Tencent Marketing API.

Same conventions, auth order, codes, contracts, quota headers and row quotas as gdt (gdt.py). An
agency lists its WeChat accounts with `advertiser/get` in every version (its sub-customers); the
notes' `wechat_advertiser/get` (`{account_id, wechat_account_id}`, deleted from every SDK in 2022)
is still declared for v1.1 but refused once the clock is past its retirement, as every `wechat_*`
account endpoint is (news/info/20230731: `funds/get` replaces `wechat_funds/get`). v1.x reports
use the `_WECHAT` levels; v3.0 has none (`pkg/model/v3/model_report_daily_level.go`) and serves a
wx account's reports at the ordinary levels. docs/media/wx.md gives the sources. Its world is
gdt's shape with WeChat site sets and fund types; the seed keeps its agents under `weixin_agents_`
and its account lists per agent.
"""

from __future__ import annotations

from ark_sim.common import page_info, page_slice, project
from ark_sim.media import _tencent_v3 as v3
from ark_sim.media._tencent_contract import (
    GROUP_BY_V1,
    V11,
    V13,
    V30,
    VERSIONS,
    advertiser_contract,
    wechat_advertiser_contract,
)
from ark_sim.media.gdt import (
    ENTITY_IDS,
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


WECHAT_LEVELS = {
    f"REPORT_LEVEL_{level}_WECHAT": level for level in ("ADVERTISER", "CAMPAIGN", "ADGROUP", "AD")
}
assert set(WECHAT_LEVELS.values()) <= set(GROUP_BY_V1["daily"])
LEVELS = {
    V11: WECHAT_LEVELS,
    V13: WECHAT_LEVELS,
    V30: {f"REPORT_LEVEL_{level}": level for level in v3.LEVELS},
}
LEVEL_SOURCES = {
    V11: "D-hr11",
    V13: "TGo `pkg/model/model_report_level.go` (the four `_WECHAT` values)",
    V30: f"{v3.DAILY_LEVEL_SOURCE}; {v3.HOURLY_LEVEL_SOURCE}",
}

API = TencentApi(
    media=NAME,
    endpoints=tencent_endpoints(
        (
            Endpoint(wechat_advertiser_contract(), wechat_advertiser_get),
            *(Endpoint(advertiser_contract(v), advertiser_get, agency_ok=True) for v in VERSIONS),
        ),
        LEVELS,
        LEVEL_SOURCES,
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
    versions=VERSIONS,
)
