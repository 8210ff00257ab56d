"""Tencent Guangdiantong (Tencent Marketing API v1.1): conventions, endpoints and codes.

Quirks that matter (see docs/media/gdt.md): errors are HTTP 200 with a body code; every call
carries access_token/timestamp/nonce in the query string; structured parameters are JSON
strings; money is integer fen; `advertiser/get` in normal paging mode stops at 1000 rows, so we
page it by cursor; every response carries `X-RateLimit-Remaining: <day%>,<minute%>`.
"""

from __future__ import annotations

from datetime import date

from ark_assets.assets.catalog import (
    AccountDataset,
    AccountList,
    AgentList,
    MediaAssets,
    RowShape,
    tencent_day,
)
from ark_assets.fetch import errors as e
from ark_assets.media import Media
from ark_assets.media.spec import AuthStyle, EndpointSpec, MediaSpec, Paging, RefreshSpec

# Body code -> error class (research: the v3.0 code table plus v1.x 10000/10001).
CODES: dict[int, type[e.MediaApiError]] = {
    **dict.fromkeys((11008, 11016, 11017, 11019, 30104, 64016, 68002, 50018, 66029, 66030), e.Throttled),
    11018: e.DailyQuotaExhausted,
    11000: e.TokenExpired,
    **dict.fromkeys((11002, 11004, 11005), e.TokenInvalid),
    **dict.fromkeys((11007, 11009, 11010, 11011, 11012, 11013), e.RefreshFailed),
    **dict.fromkeys((11014, 12201, 12203, 32211, 64015), e.PermissionDenied),
    # 12100 (nonce reused) and 12101 (timestamp skew) are cured by a retry with a fresh nonce/timestamp.
    **dict.fromkeys((10000, 10001, 51001, 62000, 60000, 72000, 73000, 12100, 12101), e.TransientServerError),
    **dict.fromkeys((12000, 12003, 12007, 12008, 12009, 18001, 18002, 18003, 18004, 18009), e.BadRequest),
    **dict.fromkeys((31002, 31057, 34109, 67001, 71000), e.BadRequest),
}


def translate_code(code: int, message: str) -> type[e.MediaApiError] | None:
    """None for success; the error class for a known code; UnknownCode for any other."""
    if code == 0:
        return None
    return CODES.get(code, e.UnknownCode)


def refresh_params(app_id: str, secret: str, refresh_token: str) -> dict[str, str]:
    return {
        "client_id": app_id,
        "client_secret": secret,
        "grant_type": "refresh_token",
        "refresh_token": refresh_token,
    }


REPORT_PAGE_SIZE = 1000  # fewest calls; page * page_size must stay <= 10,000

SPEC = MediaSpec(
    media=Media.GDT,
    auth=AuthStyle.QUERY_NONCE,
    code_key="code",
    message_key="message",
    trace_key="trace_id",
    quota_header=True,
    translate_code=translate_code,
    refresh=RefreshSpec(path="/oauth/token", method="GET", build=refresh_params),
    endpoints={
        spec.name: spec
        for spec in (
            # An agency token lists its sub-customers; cursor mode because normal mode stops at 1000 rows.
            EndpointSpec(
                "advertiser/get",
                "/v1.1/advertiser/get",
                None,
                Paging.CURSOR,
                100,
                fixed_params={"pagination_mode": "PAGINATION_MODE_CURSOR"},
            ),
            EndpointSpec("funds/get", "/v1.1/funds/get", "account_id"),
            EndpointSpec(
                "daily_reports/get", "/v1.1/daily_reports/get", "account_id", Paging.PAGE, REPORT_PAGE_SIZE
            ),
            EndpointSpec(
                "hourly_reports/get", "/v1.1/hourly_reports/get", "account_id", Paging.PAGE, REPORT_PAGE_SIZE
            ),
        )
    },
)


# ----- assets: what Ark Assets materializes from gdt, and where it stores it

REPORT_LEVELS = ("ADVERTISER", "CAMPAIGN", "ADGROUP", "AD", "PROMOTED_OBJECT")
TIME_LINES = ("REQUEST_TIME", "REPORTING_TIME", "ACTIVE_TIME")


def _daily_report(level: str) -> AccountDataset:
    def params(day: date) -> dict:
        return {"level": f"REPORT_LEVEL_{level}", **tencent_day(day)}

    name = f"daily_report_{level.lower()}"
    return AccountDataset(
        name, f"{name}_v3", "daily_reports/get", RowShape.RECORDS_PER_ACCOUNT, ("advertisers",), params=params
    )


def _hourly_ad(day: date) -> dict:
    return {"level": "REPORT_LEVEL_AD", "group_by": ["hour", "ad_id"], **tencent_day(day)}


# one row per account and fund type (`funds/get` answers 1-3 fund records); wx reads it the same way
FUNDS = AccountDataset(
    "funds",
    "funds_get_v2",
    "funds/get",
    RowShape.PER_RECORD_KIND,
    ("advertisers",),
    kind_field="fund_type",
    money_fields=("balance",),
    group="funds",
)

ASSETS = MediaAssets(
    agent_lists=(AgentList(),),
    account_lists=(
        AccountList("advertisers", "agents", "advertiser/get", "account_id", "advertiser_get_v1.1"),
    ),
    datasets=(
        FUNDS,
        *(_daily_report(level) for level in REPORT_LEVELS),
        # the seed's hourly ad table: one row per account and time line
        AccountDataset(
            "hourly_report_ad",
            "hourly_report_ad",
            "hourly_reports/get",
            RowShape.RECORDS_PER_ACCOUNT,
            ("advertisers",),
            params=_hourly_ad,
            time_lines=TIME_LINES,
        ),
    ),
)
