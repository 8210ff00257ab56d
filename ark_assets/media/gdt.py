"""Tencent Guangdiantong (Tencent Marketing API): everything the platform knows about gdt.

Two API versions (`ARK_GDT_API_VERSION`): v1.1, the notes' and the default, and v1.3, the one
every current SDK targets. They differ in paths, in `advertiser/get`'s paging parameters, in
record field names (v1.1 funds' `today_cost` is v1.3's `realtime_cost`; v1.3 reports have none of
v1.1's `impression`/`click`/`conversion`), so on v1.3 every call names its record `fields` and the
stored schema is defined by this module, not by a default nobody documents.

Quirks that matter (docs/media/gdt.md): errors are HTTP 200 with a body code; every call
carries access_token/timestamp/nonce in the query string; structured parameters are JSON
strings; money is integer fen; `advertiser/get` in normal paging mode stops at 1000 rows, so we
page it by cursor; every response carries `X-RateLimit-Remaining: <day%>,<minute%>` and the
trace id in `X-TSA-Trace-Id` (and at the end of an error's message: the body has no trace field).
wx reuses these conventions (media/wx.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from ark_assets.media import errors as e
from ark_assets.media.declare import (
    AccountDataset,
    AccountList,
    AgentList,
    ApiSpec,
    AuthStyle,
    EndpointSpec,
    MediaApp,
    MediaAssets,
    MediaDefinition,
    Paging,
    QuotaHeader,
    RedisKeys,
    RefreshSpec,
    RowShape,
    code_table,
    endpoints,
)

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


def parse_rate_limit(value: str | None) -> tuple[int, int] | None:
    """`X-RateLimit-Remaining: 99%,74%` -> (99, 74) as (day %, minute %); None when absent or garbled."""
    if not value:
        return None
    try:
        day, minute = (int(part.strip().rstrip("%")) for part in value.split(","))
    except ValueError:
        return None
    return day, minute


def _minute_pct(value: str | None) -> int | None:
    parsed = parse_rate_limit(value)
    return None if parsed is None else parsed[1]


def refresh_params(app_id: str, secret: str, refresh_token: str) -> dict[str, str]:
    return {
        "client_id": app_id,
        "client_secret": secret,
        "grant_type": "refresh_token",
        "refresh_token": refresh_token,
    }


def tencent_day(day: date) -> dict[str, Any]:
    """A one-day `date_range` (JSON-encoded by the engine), as every Tencent report takes it."""
    return {"date_range": {"start_date": day.isoformat(), "end_date": day.isoformat()}}


REPORT_PAGE_SIZE = 1000  # fewest calls; page * page_size must stay <= 10,000
QUOTA = QuotaHeader(name="X-RateLimit-Remaining", minute_pct=_minute_pct)
TRACE_HEADER = "X-TSA-Trace-Id"
TRANSLATE = code_table(CODES, e.UnknownCode)
REFRESH = RefreshSpec(path="/oauth/token", method="GET", build=refresh_params)
V11, V13 = "v1.1", "v1.3"

# v1.3 names every record field it stores (no source states the default set): the v1.3 model's
# names (TGo pkg/model/), what the simulator serves and docs/media/gdt.md tabulates.
ADVERTISER_FIELDS = (
    "account_id",
    "corporation_name",
    "system_status",
    "daily_budget",
    "agency_account_id",
    "system_industry_id",
)
FUND_FIELDS = ("fund_type", "balance", "fund_status", "realtime_cost")
REPORT_METRICS = (
    "view_count",
    "valid_click_count",
    "cost",
    "ctr",
    "cpc",
    "thousand_display_price",
    "conversions_count",
    "conversions_cost",
    "download_count",
    "activated_count",
)
_IDS = {
    "CAMPAIGN": ("campaign_id", "campaign_name"),
    "ADGROUP": ("campaign_id", "campaign_name", "adgroup_id", "adgroup_name"),
    "AD": ("campaign_id", "campaign_name", "adgroup_id", "adgroup_name", "ad_id", "ad_name"),
    "PROMOTED_OBJECT": ("promoted_object_type", "promoted_object_id"),
}


def _base_level(level: str) -> str:
    """`REPORT_LEVEL_AD_WECHAT` -> `AD` (a wx level has the shape of its base level)."""
    return level.removeprefix("REPORT_LEVEL_").removesuffix("_WECHAT")


def _daily_fields(params: Mapping[str, Any]) -> dict[str, Any]:
    level = _base_level(str(params.get("level", "")))
    return {"fields": ["date", "account_id", *_IDS.get(level, ()), *REPORT_METRICS]}


def _hourly_fields(params: Mapping[str, Any]) -> dict[str, Any]:
    level = _base_level(str(params.get("level", "")))
    ids = _IDS.get(level, ()) + (("promoted_object_type", "promoted_object_id") if level == "AD" else ())
    return {"fields": ["date", "hour", "account_id", *ids, *REPORT_METRICS]}


def funds_endpoint(version: str) -> EndpointSpec:
    return EndpointSpec(
        name="funds/get",
        path=f"/{version}/funds/get",
        source_param="account_id",
        fixed_params={"fields": list(FUND_FIELDS)} if version == V13 else {},
    )


def reports_endpoint(kind: str, version: str) -> EndpointSpec:
    """`daily_reports/get` or `hourly_reports/get`; on v1.3 with the level's `fields`."""
    fields = {"daily": _daily_fields, "hourly": _hourly_fields}[kind]
    return EndpointSpec(
        name=f"{kind}_reports/get",
        path=f"/{version}/{kind}_reports/get",
        source_param="account_id",
        paging=Paging.PAGE,
        page_size=REPORT_PAGE_SIZE,
        call_params=fields if version == V13 else None,
    )


def advertiser_endpoint(version: str, fields: tuple[str, ...] = ADVERTISER_FIELDS) -> EndpointSpec:
    """An agency token lists its sub-customers; cursor mode because normal mode stops at 1000 rows.

    v1.1 has no `pagination_mode` in its SDK (the notes' platform sent it all the same): when an
    answer comes back in page mode the engine walks on by page, and fails the agent clearly if
    normal mode's 1000-row cap cuts the list.
    """
    fixed: dict[str, Any] = {"pagination_mode": "PAGINATION_MODE_CURSOR"}
    if version == V13:
        fixed["fields"] = list(fields)
    return EndpointSpec(
        name="advertiser/get",
        path=f"/{version}/advertiser/get",
        paging=Paging.CURSOR,
        page_size=100,
        fixed_params=fixed,
    )


def tencent_api(media: str, version: str, listings: tuple[EndpointSpec, ...], **roles: str) -> ApiSpec:
    """A Tencent media's API in `version`: its listing(s), then funds and daily reports."""
    return ApiSpec(
        media=media,
        version=version,
        auth=AuthStyle.QUERY_NONCE,
        code_key="code",
        message_key="message",
        trace_key=None,  # no body field: the trace id ends the message and is in the header
        trace_header=TRACE_HEADER,
        quota=QUOTA,
        translate_code=TRANSLATE,
        refresh=REFRESH,
        endpoints=endpoints(*listings, funds_endpoint(version), reports_endpoint("daily", version)),
        roles=roles,
    )


def _gdt_api(version: str) -> ApiSpec:
    return tencent_api("gdt", version, (advertiser_endpoint(version), reports_endpoint("hourly", version)))


API = _gdt_api(V11)
API_V13 = _gdt_api(V13)


# ----- assets: what Ark Assets materializes from gdt, and where it stores it

REPORT_LEVELS = ("ADVERTISER", "CAMPAIGN", "ADGROUP", "AD", "PROMOTED_OBJECT")
TIME_LINES = ("REQUEST_TIME", "REPORTING_TIME", "ACTIVE_TIME")


def daily_report(level: str, *, level_suffix: str = "") -> AccountDataset:
    """A daily report at `level`, stored in the seed's `daily_report_{level}_v3` table."""

    def params(day: date) -> dict[str, Any]:
        return {"level": f"REPORT_LEVEL_{level}{level_suffix}", **tencent_day(day)}

    name = f"daily_report_{level.lower()}"
    return AccountDataset(
        name=name,
        dataset=f"{name}_v3",
        endpoint="daily_reports/get",
        shape=RowShape.RECORDS_PER_ACCOUNT,
        upstream=("advertisers",),
        params=params,
    )


def _hourly_ad(day: date) -> dict[str, Any]:
    return {"level": "REPORT_LEVEL_AD", "group_by": ["hour", "ad_id"], **tencent_day(day)}


# one row per account and fund type (`funds/get` answers 1-3 fund records); wx reads it the same way
FUNDS = AccountDataset(
    name="funds",
    dataset="funds_get_v2",
    endpoint="funds/get",
    shape=RowShape.PER_RECORD_KIND,
    upstream=("advertisers",),
    kind_field="fund_type",
    money_fields=("balance",),
    group="funds",
    intraday=True,
)

MEDIA = MediaDefinition(
    name="gdt",
    title="Tencent Guangdiantong (Tencent Marketing API)",
    platform_id=1,
    api=API,
    redis=RedisKeys(
        tokens="gdt_new_access_token_{tenant}",
        refresh_tokens="gdt_refresh_token_{tenant}",
        agents={None: "gdt_agents_v2_{tenant}"},
        accounts={None: "gdt_advertiser_v1.1_{tenant}_{yyyymmdd}"},
    ),
    api_versions=(API_V13,),
    current_version=API_V13.version,  # what every current Tencent SDK targets
    app=MediaApp(app_id="1110001", secret="gdt-secret"),
    assets=MediaAssets(
        agent_lists=(AgentList(),),
        account_lists=(
            AccountList(
                name="advertisers",
                agents="agents",
                endpoint="advertiser/get",
                account_field="account_id",
                dataset="advertiser_get_v1.1",
            ),
        ),
        datasets=(
            FUNDS,
            *(daily_report(level) for level in REPORT_LEVELS),
            # the seed's hourly ad table: one row per account and time line
            AccountDataset(
                name="hourly_report_ad",
                dataset="hourly_report_ad",
                endpoint="hourly_reports/get",
                shape=RowShape.RECORDS_PER_ACCOUNT,
                upstream=("advertisers",),
                params=_hourly_ad,
                time_lines=TIME_LINES,
                intraday=True,
                hour_field="hour",
            ),
        ),
    ),
    docs="docs/media/gdt.md",
    owners=("team:ads-tencent",),
)
