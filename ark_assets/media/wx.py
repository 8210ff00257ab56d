"""WeChat ads through the unified Tencent Marketing API (contract B of the research).

WeChat accounts are read with gdt's conventions, codes and quota headers, with `account_id`
naming the WeChat account; the agency lists its accounts with `wechat_advertiser/get`. Why this
contract and not the legacy `api.weixin.qq.com/marketing` one: see docs/media/wx.md.
"""

from __future__ import annotations

from dataclasses import replace

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
