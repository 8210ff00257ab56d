"""WeChat ads through the unified Tencent Marketing API (contract B of the research).

WeChat accounts are read with gdt's conventions, codes and quota headers, with `account_id`
naming the WeChat account; the agency lists its accounts with `wechat_advertiser/get`. Why this
contract and not the legacy WeChat marketing API: see docs/media/wx.md.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from ark_assets.assets.catalog import (
    AccountDataset,
    AccountList,
    AgentList,
    MediaAssets,
    RowShape,
    tencent_day,
)
from ark_assets.media import Media, gdt
from ark_assets.media.spec import EndpointSpec, Paging

SPEC = replace(
    gdt.SPEC,
    media=Media.WX,
    endpoints={
        spec.name: spec
        for spec in (
            EndpointSpec("wechat_advertiser/get", "/v1.1/wechat_advertiser/get", None, Paging.PAGE, 100),
            EndpointSpec("funds/get", "/v1.1/funds/get", "account_id"),
            EndpointSpec(
                "daily_reports/get",
                "/v1.1/daily_reports/get",
                "account_id",
                Paging.PAGE,
                gdt.REPORT_PAGE_SIZE,
            ),
        )
    },
)


# ----- assets: what Ark Assets materializes from wx, and where it stores it

REPORT_LEVELS = ("ADVERTISER", "CAMPAIGN", "ADGROUP", "AD")


def _daily_report(level: str) -> AccountDataset:
    def params(day: date) -> dict:
        return {"level": f"REPORT_LEVEL_{level}_WECHAT", **tencent_day(day)}

    name = f"daily_report_{level.lower()}"
    return AccountDataset(
        name, f"{name}_v3", "daily_reports/get", RowShape.RECORDS_PER_ACCOUNT, ("advertisers",), params=params
    )


ASSETS = MediaAssets(
    agent_lists=(AgentList(),),
    account_lists=(
        AccountList(
            "advertisers",
            "agents",
            "wechat_advertiser/get",
            "account_id",
            "wechat_advertiser_get_v1.1",
            redis_per_agent=True,
        ),
    ),
    datasets=(
        gdt.FUNDS,  # same endpoint, record shape and table name rule as gdt's
        *(_daily_report(level) for level in REPORT_LEVELS),
    ),
)
