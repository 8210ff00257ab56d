"""WeChat ads through the unified Tencent Marketing API (contract B of the research).

WeChat accounts are read with gdt's conventions, codes and quota headers, with `account_id`
naming the WeChat account; the agency lists its accounts with `wechat_advertiser/get`. Why this
contract and not the legacy WeChat marketing API: see docs/media/wx.md.
"""

from __future__ import annotations

from dataclasses import replace

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
    endpoints,
)

API = replace(
    gdt.API,
    media="wx",
    endpoints=endpoints(
        EndpointSpec(
            name="wechat_advertiser/get",
            path="/v1.1/wechat_advertiser/get",
            paging=Paging.PAGE,
            page_size=100,
        ),
        gdt.FUNDS_ENDPOINT,
        gdt.DAILY_REPORTS_ENDPOINT,
    ),
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
    app=MediaApp(app_id="1110002", secret="wx-secret"),
    assets=MediaAssets(
        agent_lists=(AgentList(),),
        account_lists=(
            AccountList(
                name="advertisers",
                agents="agents",
                endpoint="wechat_advertiser/get",
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
