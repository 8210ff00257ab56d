"""Tencent Guangdiantong (Tencent Marketing API): everything the platform knows about gdt.

Three API versions (`ARK_GDT_API_VERSION`): v3.0, the default, what the media serve today and the
SDKs ship for new work (TencentAd marketing-api-go-sdk `pkg/api/v3/`); v1.1, the notes'; v1.3.
They differ in paths, levels, required parameters and record names:
- v3.0 has the two-level hierarchy adgroup -> dynamic_creative (no CAMPAIGN, AD or
  PROMOTED_OBJECT level: `pkg/model/v3/model_report_daily_level.go`) and requires `fields` and
  `group_by` on every report (`pkg/api/v3/api_daily_reports.go`), `fields`, `pagination_mode`
  and `page_size` on `advertiser/get` (`api_advertiser.go`);
- the old metric system answers no data after 2024-04-30 (developers.e.qq.com/news/info/20240416),
  so a v1.x report call sends `adq_accounts_upgrade_enabled=true` and asks the new system's
  metric names; without the flag its rows would come back empty.
Every call names its record `fields`, so the stored schema is defined by this module, not by a
default nobody documents.

Quirks that matter (docs/media/gdt.md): errors are HTTP 200 with a body code; every call
carries access_token/timestamp/nonce in the query string; structured parameters are JSON
strings; money is integer fen; `advertiser/get` in normal paging mode stops at 1000 rows, so we
page it by cursor; every response carries `X-RateLimit-Remaining: <day%>,<minute%>` and the
trace id in `X-TSA-Trace-Id` (and at the end of an error's message: the body has no trace field);
report calls also count rows per account and level (12,000 rows/s, 40,000 per 10 s; news/info
20190415, 20190527). wx reuses these conventions (media/wx.py).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from ark_assets.media import errors as e
from ark_assets.media import tencent_async
from ark_assets.media.api import (
    ApiSpec,
    AuthStyle,
    EndpointSpec,
    Paging,
    QuotaHeader,
    RefreshSpec,
    RowQuota,
    code_table,
    endpoints,
)
from ark_assets.media.bulk import Activity
from ark_assets.media.declare import (
    AccountDataset,
    AccountList,
    AgentList,
    MediaApp,
    MediaAssets,
    MediaDefinition,
    RedisKeys,
    RowShape,
)
from ark_assets.media.tencent_reports import (
    DAILY_RETENTION,
    FIELD_TYPES,
    HOURLY_RETENTION,
    LEGACY,
    V11,
    V13,
    V30,
    report_params,
)
from ark_assets.media.token_life import TokenLife

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
# rows a report answers per account and level: 12,000 a second (news/info/20190415), 40,000 in
# 10 s (news/info/20190527); the engine stays under them
REPORT_ROWS = RowQuota(per_second=12_000, per_window=40_000, window_s=10.0)
QUOTA = QuotaHeader(name="X-RateLimit-Remaining", minute_pct=_minute_pct)
TRACE_HEADER = "X-TSA-Trace-Id"
TRANSLATE = code_table(CODES, e.UnknownCode)
REFRESH = RefreshSpec(
    path="/oauth/token",
    method="GET",
    build=refresh_params,
    # the answer's access_token_expires_in 86400 and refresh_token_expires_in 2592000 (30 days)
    life=TokenLife(
        access_s=86_400,
        refresh_s=2_592_000,
        source="https://developers.e.qq.com/v3.0/docs/api/oauth/refresh_token (应答示例); TencentAd "
        "marketing-api-go-sdk pkg/model/model_oauth_token_response_data.go",
    ),
)
# The record fields every call names, from the SDK models (docs/media/gdt.md tabulates them).
ADVERTISER_FIELDS = (
    "account_id",
    "corporation_name",
    "system_status",
    "daily_budget",
    "agency_account_id",
    "system_industry_id",
)
FUND_FIELDS = {
    V13: ("fund_type", "balance", "fund_status", "realtime_cost"),  # pkg/model/model_funds_get_list_struct.go
    # pkg/model/v3/model_funds_get_list_struct.go
    V30: ("fund_type", "balance", "bill_deposit_amount", "fund_status", "realtime_cost", "effect_funds"),
}


def funds_endpoint(version: str) -> EndpointSpec:
    return EndpointSpec(
        name="funds/get",
        path=f"/{version}/funds/get",
        source_param="account_id",
        fixed_params={"fields": list(FUND_FIELDS[version])} if version in FUND_FIELDS else {},
    )


def reports_endpoint(kind: str, version: str, level_suffix: str = "") -> EndpointSpec:
    """`daily_reports/get` or `hourly_reports/get` in `version`, with the level's parameters."""
    return EndpointSpec(
        name=f"{kind}_reports/get",
        path=f"/{version}/{kind}_reports/get",
        source_param="account_id",
        paging=Paging.PAGE,
        page_size=REPORT_PAGE_SIZE,
        call_params=report_params(kind, version, level_suffix),
        row_quota=REPORT_ROWS,
        bulk=tencent_async.async_report(kind, FIELD_TYPES) if version == V30 else None,
        retention=DAILY_RETENTION if kind == "daily" else HOURLY_RETENTION[version],
    )


def advertiser_endpoint(version: str, fields: tuple[str, ...] = ADVERTISER_FIELDS) -> EndpointSpec:
    """An agency token lists its sub-customers; cursor mode because normal mode stops at 1000 rows.

    v1.1 has no `pagination_mode` in its SDK (the notes' platform sent it all the same): when an
    answer comes back in page mode the engine walks on by page, and fails the agent clearly if
    normal mode's 1000-row cap cuts the list. v1.3 and v3.0 name the record `fields` (v3.0
    requires them, with `pagination_mode` and `page_size`).
    """
    fixed: dict[str, Any] = {"pagination_mode": "PAGINATION_MODE_CURSOR"}
    if version != V11:
        fixed["fields"] = list(fields)
    return EndpointSpec(
        name="advertiser/get",
        path=f"/{version}/advertiser/get",
        paging=Paging.CURSOR,
        page_size=100,
        fixed_params=fixed,
    )


def tencent_api(
    media: str, version: str, listings: tuple[EndpointSpec, ...], *reports: EndpointSpec, **roles: str
) -> ApiSpec:
    """A Tencent media's API in `version`: its listing(s), funds and its report endpoints."""
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
        endpoints=endpoints(
            *listings, funds_endpoint(version), *reports, *(tencent_async.ENDPOINTS if version == V30 else ())
        ),
        roles=roles,
    )


def _gdt_api(version: str) -> ApiSpec:
    return tencent_api(
        "gdt",
        version,
        (advertiser_endpoint(version),),
        reports_endpoint("daily", version),
        reports_endpoint("hourly", version),
    )


API = _gdt_api(V30)
API_V11 = _gdt_api(V11)
API_V13 = _gdt_api(V13)


# ----- assets: what Ark Assets materializes from gdt, and where it stores it

# daily report levels and the versions that serve them (empty = every version)
REPORT_LEVELS = {
    "ADVERTISER": (),
    "CAMPAIGN": LEGACY,
    "ADGROUP": (),
    "AD": LEGACY,
    "PROMOTED_OBJECT": LEGACY,
    "DYNAMIC_CREATIVE": (V30,),
}
TIME_LINES = ("REQUEST_TIME", "REPORTING_TIME", "ACTIVE_TIME")
ACCOUNT_LEVEL = "ADVERTISER"
# an account is active when its account-level report shows impressions, clicks or cost; one without
# rows there has none at any deeper level or hour (every level groups the same data)
ACTIVITY = Activity(dataset="daily_report_advertiser", fields=("view_count", "valid_click_count", "cost"))


def daily_report(level: str, versions: tuple[str, ...] = ()) -> AccountDataset:
    """A daily report at `level`, stored in the seed's `daily_report_{level}_v3` table."""

    def params(day: date) -> dict[str, Any]:
        return {"level": level, **tencent_day(day)}

    name = f"daily_report_{level.lower()}"
    return AccountDataset(
        name=name,
        dataset=f"{name}_v3",
        endpoint="daily_reports/get",
        shape=RowShape.RECORDS_PER_ACCOUNT,
        upstream=("advertisers",),
        params=params,
        versions=versions,
        activity=level != ACCOUNT_LEVEL,  # the account level is the signal itself
    )


def hourly_report(level: str, versions: tuple[str, ...]) -> AccountDataset:
    """The seed's hourly report: one row per account and time line (the key's suffix); v1.x at the
    AD level (`hourly_report_ad`), v3.0 at the dynamic creative, the AD level's successor."""

    def params(day: date) -> dict[str, Any]:
        return {"level": level, **tencent_day(day)}

    name = f"hourly_report_{level.lower()}"
    return AccountDataset(
        name=name,
        dataset=name,
        endpoint="hourly_reports/get",
        shape=RowShape.RECORDS_PER_ACCOUNT,
        upstream=("advertisers",),
        params=params,
        time_lines=TIME_LINES,
        versions=versions,
        activity=True,
        intraday=True,  # today's hours so far (INCR)
        hour_field="hour",
    )


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
    api_versions=(API_V11, API_V13),
    notes_version=V11,
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
            *(daily_report(level, versions) for level, versions in REPORT_LEVELS.items()),
            hourly_report("AD", LEGACY),
            hourly_report("DYNAMIC_CREATIVE", (V30,)),
        ),
        activity=ACTIVITY,
    ),
    docs="docs/media/gdt.md",
    owners=("team:ads-tencent",),
)
