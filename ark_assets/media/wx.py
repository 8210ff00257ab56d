"""WeChat ads: WeChat ad accounts are Tencent ad accounts, read through the Tencent Marketing API.

WeChat accounts are read with gdt's conventions, codes, quota headers and row quotas, with
`account_id` naming the WeChat account, in every API version (`ARK_WX_API_VERSION`; v3.0 by
default, v1.1 the notes', v1.3). Since 2020-05-29 Tencent ADQ accounts run Moments ads without a
WeChat official account (developers.e.qq.com/news/info/20200529); the `wechat_*` account
endpoints were retired on 2023-08-30 (news/info/20230731: `funds/get` replaces `wechat_funds/get`,
`wechat_agency/get` is gone) and `wechat_advertiser/get` left every SDK in 2022 (TencentAd
marketing-api-go-sdk `ced93084`). So a wx agency lists its accounts with `advertiser/get` and
its token, funds come from `funds/get`, and reports from `daily_reports/get`: at the `_WECHAT`
levels on v1.x, at the ordinary levels on v3.0 (which has no `_WECHAT` level:
`pkg/model/v3/model_report_daily_level.go`). wx keeps its own agents, Redis keys, tables and run
log. The asset names the role `accounts`, so its table keeps the notes' name. Sources: docs/media/wx.md.
"""

from __future__ import annotations

from ark_assets.media import gdt
from ark_assets.media.api import ApiSpec
from ark_assets.media.declare import AccountList, AgentList, MediaApp, MediaAssets, MediaDefinition, RedisKeys

ACCOUNTS = "accounts"  # the role of the agency's account listing, whichever endpoint plays it
# what an agency's listing asks of advertiser/get for wx (the record has no wechat_account_id)
ACCOUNT_FIELDS = ("account_id", "corporation_name", "system_status", "agency_account_id")
LEVEL_SUFFIX = "_WECHAT"  # v1.x's WeChat levels (TencentAd go sdk pkg/model/model_report_level.go)


def _wx_api(version: str) -> ApiSpec:
    return gdt.tencent_api(
        "wx",
        version,
        (gdt.advertiser_endpoint(version, ACCOUNT_FIELDS),),
        gdt.reports_endpoint("daily", version, LEVEL_SUFFIX),
        **{ACCOUNTS: "advertiser/get"},
    )


API = _wx_api(gdt.V30)
API_V11 = _wx_api(gdt.V11)
API_V13 = _wx_api(gdt.V13)

# wx's daily report levels (no promoted-object level) and the versions serving them
REPORT_LEVELS = {
    "ADVERTISER": (),
    "CAMPAIGN": gdt.LEGACY,
    "ADGROUP": (),
    "AD": gdt.LEGACY,
    "DYNAMIC_CREATIVE": (gdt.V30,),
}

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
    api_versions=(API_V11, API_V13),
    notes_version=gdt.V11,
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
            *(gdt.daily_report(level, versions) for level, versions in REPORT_LEVELS.items()),
        ),
        activity=gdt.ACTIVITY,
    ),
    docs="docs/media/wx.md",
    owners=("team:ads-tencent",),
)
