"""wx: WeChat ad accounts through the unified Tencent Marketing API (research §3.2, "contract B").

Same conventions, auth order, codes and quota headers as gdt (gdt.py); what differs is the agency
listing (`wechat_advertiser/get` -> `{account_id, wechat_account_id}`), the `_WECHAT` report
levels and `credit_roll_spec` on credit-line fund records. docs/media/wx.md says why contract B.
"""

from __future__ import annotations

from ark_assets.media import Media
from ark_sim.common import page_info, page_slice
from ark_sim.media.gdt import (
    FUND_FIELDS,
    GROUP_BY,
    Call,
    Endpoint,
    TencentApi,
    daily_reports_get,
    funds_get,
    hourly_reports_get,
    oauth_token,
)


def wechat_advertiser_get(api: TencentApi, call: Call) -> dict:
    """An agency's WeChat ad accounts, page by page (page_size 1-100, default 10)."""
    p = call.params
    page = p.integer("page", 1, low=1, high=99999)
    page_size = p.integer("page_size", 10, low=1, high=100)
    world = call.state.world
    if call.account is not None:
        accounts = [call.account]
    else:
        accounts = world.agent_accounts(api.media, call.tenant, call.grant.agent_id)
    chunk = accounts[page_slice(page, page_size)]
    return {
        "list": [
            {
                "account_id": a.account_id,
                "wechat_account_id": world.account_info(api.media, a.account_id).wechat_account_id,
            }
            for a in chunk
        ],
        "page_info": page_info(page, page_size, len(accounts)),
    }


LEVELS = {f"REPORT_LEVEL_{level}_WECHAT": level for level in ("ADVERTISER", "CAMPAIGN", "ADGROUP", "AD")}
assert set(LEVELS.values()) <= set(GROUP_BY["daily"])

API = TencentApi(
    media=Media.WX,
    endpoints={
        "/v1.1/wechat_advertiser/get": Endpoint(
            "wechat_advertiser/get", wechat_advertiser_get, account="optional", agency_ok=True
        ),
        "/v1.1/funds/get": Endpoint("funds/get", funds_get, account="required", agency_ok=True),
        "/v1.1/daily_reports/get": Endpoint("daily_reports/get", daily_reports_get, account="required"),
        "/v1.1/hourly_reports/get": Endpoint("hourly_reports/get", hourly_reports_get, account="required"),
        "/oauth/token": Endpoint("oauth/token", oauth_token, authenticated=False),
    },
    levels=LEVELS,
    fund_fields=FUND_FIELDS,
)
