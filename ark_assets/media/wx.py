"""WeChat ads through the unified Tencent Marketing API (contract B of the research).

WeChat accounts are read with gdt's conventions, codes and quota headers, with `account_id`
naming the WeChat account. How the agency lists its accounts depends on the API version
(`ARK_WX_API_VERSION`): on v1.1, the notes' and the default, with `wechat_advertiser/get`; on
v1.3 with what the current API offers an agency, `advertiser/get` with the wx agency's token (its
sub-customers; `wechat_advertiser/get` left every SDK in 2022). The asset names the role
`accounts`, so its table and Redis keys stay the same in both. Why this contract and not the
legacy WeChat marketing API: see docs/media/wx.md.
"""

from __future__ import annotations

from ark_assets.media import gdt
from ark_assets.media.declare import (
    AccountList,
    AgentList,
    EndpointSpec,
    MediaApp,
    MediaAssets,
    MediaDefinition,
    Paging,
    RedisKeys,
)

ACCOUNTS = "accounts"  # the role of the agency's account listing, whichever endpoint plays it
# what research §(c) asks of advertiser/get for a wx agency (the record has no wechat_account_id)
V13_ACCOUNT_FIELDS = ("account_id", "corporation_name", "system_status", "agency_account_id")

API = gdt.tencent_api(
    "wx",
    gdt.V11,
    (
        EndpointSpec(
            name="wechat_advertiser/get",
            path="/v1.1/wechat_advertiser/get",
            paging=Paging.PAGE,
            page_size=100,
        ),
    ),
    **{ACCOUNTS: "wechat_advertiser/get"},
)
API_V13 = gdt.tencent_api(
    "wx",
    gdt.V13,
    (gdt.advertiser_endpoint(gdt.V13, V13_ACCOUNT_FIELDS),),
    **{ACCOUNTS: "advertiser/get"},
)

# wx reports use the WeChat levels of daily_reports/get (no promoted-object level)
REPORT_LEVELS = ("ADVERTISER", "CAMPAIGN", "ADGROUP", "AD")

MEDIA = MediaDefinition(
    name="wx",
    title="WeChat ads (through the Tencent Marketing API)",
    platform_id=8,
    api=API,
    redis=RedisKeys(
        tokens="wx_new_access_token_{tenant}",
        refresh_tokens="wx_refresh_token_{tenant}",
        # the seed's spelling: `weixin_` for agents, `wx_` and the agent id for account lists
        agents={None: "weixin_agents_{tenant}"},
        accounts={None: "wx_advertiser_{tenant}_{agent_id}_{yyyymmdd}"},
    ),
    api_versions=(API_V13,),
    current_version=API_V13.version,  # what every current Tencent SDK targets
    app=MediaApp(app_id="1110002", secret="wx-secret"),
    assets=MediaAssets(
        agent_lists=(AgentList(),),
        account_lists=(
            AccountList(
                name="advertisers",
                agents="agents",
                endpoint=ACCOUNTS,
                account_field="account_id",
                dataset="wechat_advertiser_get_v1.1",
            ),
        ),
        datasets=(
            gdt.FUNDS,  # same endpoint, record shape and table name rule as gdt's
            *(gdt.daily_report(level, level_suffix="_WECHAT") for level in REPORT_LEVELS),
        ),
    ),
    docs="docs/media/wx.md",
    owners=("team:ads-tencent",),
)
