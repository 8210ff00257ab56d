"""What Tencent Marketing API v3.0 changed, as data: report levels and shapes, the new metric
system's cut-over, fund and listing fields, and the endpoints retired since the notes.

The contract builders in `_tencent_contract.py` read these tables for v3.0 (and for the v1.x
report flag); every row names its source, keys as in `_tencent_contract.SOURCES`:
`TGo3` is the Go SDK's v3 client (`pkg/api/v3/`, `pkg/model/v3/`), `N-metrics` the notice of the
metric-system switch, `N-retire` the notice retiring the `wechat_*` account endpoints.
"""

from __future__ import annotations

from datetime import date

V30 = "v3.0"

# ----- the new metric system (N-metrics: developers.e.qq.com/news/info/20240416)

# "4月30日后将停止返回数据": old-system metrics are not served for dates after this day; a v1.x report
# call gets the new system's metrics only with `adq_accounts_upgrade_enabled=true`.
OLD_METRICS_LAST_DAY = date(2024, 4, 30)
UPGRADE_FLAG = "adq_accounts_upgrade_enabled"

# ----- report levels, group_by and dimensions

# v3.0 levels the simulator serves (the enum has more: COMPONENT, CHANNEL, PROJECT, ...; see
# TGo3 `pkg/model/v3/model_report_daily_level.go`, `model_report_hourly_level.go`); CAMPAIGN, AD,
# PROMOTED_OBJECT and every `*_WECHAT` value are gone from both enums.
LEVELS = ("ADVERTISER", "ADGROUP", "DYNAMIC_CREATIVE")
DAILY_LEVEL_SOURCE = "TGo3 `pkg/model/v3/model_report_daily_level.go` (18 values; no CAMPAIGN, AD or _WECHAT)"
HOURLY_LEVEL_SOURCE = (
    "TGo3 `pkg/model/v3/model_report_hourly_level.go` (9 values; no CAMPAIGN, AD or _WECHAT)"
)

# group_by per level: which combinations v3.0 accepts has no source; these are v1.x's rules (MA
# §1.2) over v3.0's ids (the hierarchy is adgroup -> dynamic_creative: the v3.0 row struct has
# `adgroup_id` and `dynamic_creative_id`, no `campaign_id` or `ad_id`).
GROUP_BY = {
    "daily": {
        "ADVERTISER": ("date",),
        "ADGROUP": ("date", "adgroup_id", "site_set"),
        "DYNAMIC_CREATIVE": ("date", "dynamic_creative_id", "site_set"),
    },
    "hourly": {
        "ADVERTISER": ("hour",),
        "ADGROUP": ("hour", "adgroup_id"),
        "DYNAMIC_CREATIVE": ("hour", "dynamic_creative_id"),
    },
}
LEVEL_DIMENSIONS = {
    "ADVERTISER": (),
    "ADGROUP": ("adgroup_id", "adgroup_name", "site_set"),
    "DYNAMIC_CREATIVE": (
        "adgroup_id",
        "adgroup_name",
        "dynamic_creative_id",
        "dynamic_creative_name",
        "site_set",
    ),
}
DAILY_MODEL = "TGo3 `pkg/model/v3/model_report_struct.go`"
HOURLY_MODEL = "TGo3 `pkg/model/v3/model_hourly_report_api_list_struct.go`"
# the dimensions of a v3.0 row (the daily struct has `date`, the hourly one `hour` and no `date`)
DIMENSIONS = {
    "daily": (
        ("date", "string"),
        ("account_id", "int64"),
        ("adgroup_id", "int64"),
        ("adgroup_name", "string"),
        ("dynamic_creative_id", "int64"),
        ("dynamic_creative_name", "string"),
        ("site_set", "string"),
    ),
    "hourly": (
        ("hour", "int64"),
        ("account_id", "int64"),
        ("adgroup_id", "int64"),
        ("adgroup_name", "string"),
        ("dynamic_creative_id", "int64"),
        ("dynamic_creative_name", "string"),
        ("site_set", "string"),
    ),
}
# the new metric system's names the simulator computes; the same names in v1.3's structs and in
# v3.0's (both models list them), so a v1.x call with the flag answers them too
METRICS_INT = (
    "view_count",
    "valid_click_count",
    "cost",
    "cpc",
    "thousand_display_price",
    "conversions_count",
    "conversions_cost",
    "download_count",
    "activated_count",
    "activated_cost",
)
METRICS_FLOAT = ("ctr", "conversions_rate")
# v1.1's legacy names: served for dates up to OLD_METRICS_LAST_DAY without the flag, never with it
OLD_METRICS = ("impression", "click", "conversion", "download", "activation")

# ----- funds and the agency listing

FUNDS_MODEL = "TGo3 `pkg/model/v3/model_funds_get_list_struct.go`"
FUND_FIELDS = (
    ("fund_type", "string", ""),
    ("balance", "int64", "fen"),
    ("bill_deposit_amount", "int64", "fen"),
    ("fund_status", "string", ""),
    ("realtime_cost", "int64", "fen"),
    ("effect_funds", "[object]", "`{effect_date, expire_date, amount}` (TGo3 `model_effect_list_struct.go`)"),
)
ADVERTISER_MODEL = "TGo3 `pkg/model/v3/model_advertiser_get_list_struct.go`"
ADVERTISER_FIELDS = (
    ("account_id", "int64"),
    ("corporation_name", "string"),
    ("system_status", "string"),
    ("daily_budget", "int64"),
    ("agency_account_id", "int64"),
    ("system_industry_id", "int64"),
    ("registration_type", "string"),
)

# ----- endpoints retired since the notes: path tail -> (last day served, what replaces it, source)

RETIRED = {
    "wechat_funds/get": (date(2023, 8, 29), "funds/get", "N-retire"),
    "wechat_fund_statements_detailed/get": (date(2023, 8, 29), "fund_statements_detailed/get", "N-retire"),
    "wechat_daily_cost/get": (date(2023, 8, 29), "realtime_cost/get", "N-retire"),
    "daily_cost/get": (date(2023, 8, 29), "realtime_cost/get", "N-retire"),
    "wechat_agency/get": (date(2023, 8, 29), "(none: 功能下线)", "N-retire"),
    # no notice retires it; every SDK deleted it on 2022-05-13 (TGo `ced93084`): that day is ours
    "wechat_advertiser/get": (
        date(2022, 5, 12),
        "advertiser/get with the agency's token",
        "TGo `ced93084` (deleted 2022-05-13); the day is the simulator's choice",
    ),
}

# ----- row quotas of report calls (N-rows1: news/info/20190415, N-rows2: news/info/20190527)

ROWS_PER_SECOND = 12_000  # per account, report and level; going over freezes it 5 s (N-rows1)
ROWS_FREEZE_S = 5.0
ROWS_PER_WINDOW = 40_000  # per account, report and level in a 10 s window (N-rows2)
ROWS_WINDOW_S = 10.0
# which body code a row-quota refusal carries has no source: 11019 is D-err3's "your request is
# much too frequent, or the subject's / developer's frequency control reached its limit"
ROWS_CODE = 11019
