"""The Tencent Marketing API's contract per version (v1.1, the notes'; v1.3; v3.0, what the media
serve today), as data.

Shared by the two media that speak this API (each passes its report levels and listing): the
parameters, rules, paging and record fields of every endpoint they serve, the code table and the
quota signals, each row with its source (keys in `SOURCES`) or `NO_SOURCE`. The simulator checks
every request against these tables before a handler runs (`ark_sim.contract`), and the docs'
contract tables are rendered from them. What v3.0 changed (levels, shapes, the new metric
system, retired endpoints, row quotas) is tabulated in `_tencent_v3.py`.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta

from ark_sim.common import ParamCodes
from ark_sim.contract import (
    NO_SOURCE,
    Args,
    Code,
    EndpointContract,
    Field,
    Param,
    Row,
    Rule,
    Type,
    date_span,
    int64,
    paging,
)
from ark_sim.media import _tencent_v3 as v3

V11, V13, V30, UNVERSIONED = "v1.1", "v1.3", v3.V30, "-"
VERSIONS = (V11, V13, V30)
LEGACY = (V11, V13)  # the versions of the old ad hierarchy, whose reports need the metric-system flag

PARAM_CODES = ParamCodes(
    missing=18001,
    wrong_type=18002,
    above_max=18003,
    below_min=18004,
    bad_json=12003,
    not_in_enum=18009,
    unknown=18002,
)
# `fields` has codes of its own: not a non-empty JSON array 12008, an unknown name 12009 (D-err3)
FIELDS_CODES = {"wrong_type": 12008, "bad_json": 12008, "below_min": 12008, "not_in_enum": 12009}
# an account id that is no id at all is "account_id invalid", as an unknown one is (D-err3)
ACCOUNT_CODES = {"wrong_type": 12201, "below_min": 12201}

TGO = "TGo"
SOURCES = tuple(
    Row(point=key, value=what, source="")
    for key, what in (
        ("TGo", "TencentAd/marketing-api-go-sdk @9cc901a6 (2026-01-22; `pkg/api` = v1.3)"),
        ("TGo3", "TencentAd/marketing-api-go-sdk @9cc901a6 (v1.7.78): `pkg/api/v3/`, `pkg/model/v3/` = v3.0"),
        (
            "N-upgrade",
            "https://developers.e.qq.com/v3.0/pages/news/info/202403301 (v3.0 upgrade: adgroup -> "
            "dynamic_creative, old create/edit APIs stopped from 2024-04-01)",
        ),
        (
            "N-metrics",
            "https://developers.e.qq.com/news/info/20240416 (old metric system unmaintained from "
            "2024-04-20, no data after 2024-04-30; v1.x needs `adq_accounts_upgrade_enabled=true`)",
        ),
        (
            "N-retire",
            "https://developers.e.qq.com/news/info/20230731 (`wechat_funds/get`, `wechat_agency/get`, "
            "`wechat_fund_statements_detailed/get`, `(wechat_)daily_cost/get` off from 2023-08-30)",
        ),
        ("N-rows1", "https://developers.e.qq.com/news/info/20190415 (12,000 rows/s per account and level)"),
        (
            "N-rows2",
            "https://developers.e.qq.com/news/info/20190527 (page × page_size ≤ 10,000; 40,000 rows per "
            "10 s per level; async reports exempt)",
        ),
        ("N-v13", "https://developers.e.qq.com/news/info/20200529 (v1.1/v1.2 requests served as v1.3)"),
        (
            "TGo@ced93084^",
            "TencentAd/marketing-api-go-sdk @67206321 (2022-05-12), the last with the wechat_* endpoints",
        ),
        (
            "TPHP@a21b7259",
            "TencentAd/marketing-api-php-sdk @a21b7259 (2020-05-26; host `…/v1.1`): the only official v1.1 "
            "contract",
        ),
        ("TJava", "TencentAd/marketing-api-java-sdk @f0d510c9 (2026-04-01)"),
        ("D-adv3", "https://developers.e.qq.com/v3.0/docs/api/advertiser/get"),
        ("D-tok3", "https://developers.e.qq.com/v3.0/docs/api/oauth/token"),
        ("D-err", "https://developers.e.qq.com/docs/reference/errorcode (the `errors[]` structure)"),
        ("D-err3", "https://developers.e.qq.com/v3.0/docs/errors (the code table)"),
        ("D-hr11", "https://developers.e.qq.com/docs/api/insights/ad_insights/hourly_reports_get (V1.1)"),
        ("D-hr3", "https://developers.e.qq.com/v3.0/docs/api/hourly_reports/get"),
        (
            "D-daily",
            "https://developers.e.qq.com/docs/insights/ad_insights/daily (daily data of the last 365 days, "
            "365 included)",
        ),
        ("D-req", "https://developers.e.qq.com/docs/start/request (current version, quotas)"),
        (
            "D-async",
            "https://developers.e.qq.com/docs/insights/ad_insights/async_reports (the async report flow; for "
            "an agency fetching all its sub-customers at once; one task per account_id per 5 minutes, the "
            "cooldown shared by every task type)",
        ),
        (
            "D-add3",
            "https://developers.e.qq.com/v3.0/docs/api/async_reports/add (POST, JSON; account_id: agencies "
            "and advertisers)",
        ),
        (
            "D-get3",
            "https://developers.e.qq.com/v3.0/docs/api/async_tasks/get (v3.0's task listing: filtering on "
            "task_id / task_name, page ≤ 99999, page_size 1–100, default 10; async_reports/get has no limits "
            "of its own on the pages seen)",
        ),
        (
            "D-rget3",
            "https://developers.e.qq.com/v3.0/docs/api/async_reports/get (its usage notes: tasks are listed "
            "for 7 days; a task's file may be downloaded for 24 hours)",
        ),
        (
            "D-files3",
            "https://developers.e.qq.com/v3.0/docs/api/async_report_files/get (host `dl.e.qq.com`; answers a "
            "redirect to the file; download the whole file, then parse it)",
        ),
        ("Mirror-tok", "https://7j0rt64lfd.apifox.cn/api-121269362 (third-party mirror of oauth/token)"),
        ("I#27", "TencentAd/marketing-api-go-sdk issue #27 (2022-01-05)"),
        ("D-daily11", "https://developers.e.qq.com/docs/api/insights/ad_insights/daily_reports_get (V1.1)"),
        ("D-daily3", "https://developers.e.qq.com/v3.0/docs/api/daily_reports/get"),
        ("D-funds3", "https://developers.e.qq.com/v3.0/docs/api/funds/get"),
        (
            "legacy",
            "what the legacy jobs this platform replaces send or read (quoted where cited; no public source)",
        ),
    )
)
VERSION_ROWS = (
    Row(
        point=V11,
        value="the notes' version, the platform's default: paths `/v1.1/...`",
        source=(
            "legacy (`https://api.e.qq.com/v1.1/funds/get`); TPHP@a21b7259 "
            "`src/TencentAds/Configuration.php:84`"
        ),
    ),
    Row(
        point=V13,
        value="the version every current SDK targets ('current version v1.3'): paths `/v1.3/...`",
        source="D-req; TGo `pkg/config/configuration.go:64`; TJava `TencentAds.java:71`",
    ),
    Row(
        point=V30,
        value="what the media serve today and the SDKs ship for new work: paths `/v3.0/...`; levels "
        "adgroup -> dynamic_creative; `fields` and `group_by` required; the new metric system",
        source="TGo3 `pkg/config/v3/configuration.go` (BasePath `https://api.e.qq.com/v3.0`); "
        "N-upgrade; N-metrics",
    ),
    Row(
        point="v1.x reports",
        value="no data after 2024-04-30 unless the call sends `adq_accounts_upgrade_enabled=true`, then the "
        "new metric system's names only",
        source="N-metrics",
    ),
    Row(
        point=UNVERSIONED,
        value="`/oauth/token`: one path for every version",
        source="TGo `pkg/ads/diff_host.go:20`",
    ),
)
CONVENTIONS = (
    Row(
        point="method",
        value="GET for every endpoint below but `async_reports/add`: POST with a JSON body (the auth "
        "parameters stay in the query)",
        source="TGo `pkg/api/api_*.go`; TGo3 `pkg/api/v3/api_async_reports.go`",
    ),
    Row(
        point="structured parameters",
        value="arrays and objects JSON-encoded in the query string",
        source="TGo `pkg/api/client.go:661-690`",
    ),
    Row(
        point="envelope",
        value="`{code, message, message_cn, errors?, data?}`; `data` only on success",
        source="TGo `pkg/model/model_funds_get_response.go`",
    ),
    Row(
        point="errors",
        value="HTTP 200 with `code` ≠ 0; the message ends in `trace_id: <32 hex>`; no body `trace_id` field",
        source="TGo `pkg/api/api_funds.go:101-105`; D-err (example)",
    ),
    Row(
        point="`errors[]`",
        value="on parameter errors: `[{type: COMMON_PARAM_EXCEPTION, description, "
        "common_param_exception_spec: "
        "{error_fields: [name], error_user_msg}}]`",
        source="D-err (type, spec = type lower-case + `_spec`); TGo `pkg/model/model_api_error_struct.go`, "
        "`model_common_param_exception_spec.go`",
    ),
    Row(
        point="trace id",
        value="header `X-TSA-Trace-Id` on every answer",
        source="TJava `ApiClient.java:708`; legacy",
    ),
    Row(
        point="money",
        value="integer fen",
        source="TGo `pkg/model/model_funds_get_list_struct.go` (`balance *int64`)",
    ),
    Row(
        point="undeclared parameter",
        value="refused with 18002 naming it",
        source=NO_SOURCE + " (a misspelt parameter must not pass unnoticed)",
    ),
)
AUTH = (
    Param(
        name="access_token",
        type=Type.STRING,
        required=True,
        source="TJava `ApiClient.java:90-92`; D-adv3 (全局参数)",
    ),
    Param(
        name="timestamp",
        type=Type.INT64,
        required=True,
        note="seconds; within ±300 s of the server's clock (12101 otherwise)",
        source="D-adv3 (全局参数)",
    ),
    Param(
        name="nonce",
        type=Type.STRING,
        required=True,
        high=32,
        note="unique (12100 when reused)",
        source="D-adv3 (全局参数)",
    ),
)

# ----- report shapes (v1.x group_by per level: D-daily11, D-hr11; which fields a level shows: the v1.3 model;
# v3.0: `_tencent_v3.py`)

GROUP_BY_V1 = {
    "daily": {
        "ADVERTISER": ("date",),
        "CAMPAIGN": ("date", "campaign_id"),
        "ADGROUP": ("date", "adgroup_id", "site_set"),
        "AD": ("date", "ad_id", "site_set"),
        "PROMOTED_OBJECT": ("date", "promoted_object_type", "promoted_object_id"),
    },
    "hourly": {
        "ADVERTISER": ("hour",),
        "CAMPAIGN": ("hour", "campaign_id"),
        "ADGROUP": ("hour", "adgroup_id"),
        "AD": ("hour", "ad_id"),
        "PROMOTED_OBJECT": ("hour", "promoted_object_type", "promoted_object_id"),
    },
}
_ADGROUP_DIMENSIONS = (
    "campaign_id",
    "campaign_name",
    "adgroup_id",
    "adgroup_name",
    "site_set",
    "promoted_object_type",
    "promoted_object_id",
)
LEVEL_DIMENSIONS_V1 = {
    "ADVERTISER": (),
    "CAMPAIGN": ("campaign_id", "campaign_name"),
    "ADGROUP": _ADGROUP_DIMENSIONS,
    "AD": (*_ADGROUP_DIMENSIONS, "ad_id", "ad_name"),
    "PROMOTED_OBJECT": ("promoted_object_type", "promoted_object_id"),
}


def group_by(kind: str, version: str) -> Mapping[str, tuple[str, ...]]:
    """base level -> the `group_by` keys it accepts, in `version`."""
    return (v3.GROUP_BY if version == V30 else GROUP_BY_V1)[kind]


def level_dimensions(version: str) -> Mapping[str, tuple[str, ...]]:
    """base level -> the dimensions its rows may show, in `version`."""
    return v3.LEVEL_DIMENSIONS if version == V30 else LEVEL_DIMENSIONS_V1


TIME_LINES = ("REQUEST_TIME", "REPORTING_TIME", "ACTIVE_TIME")
FILTER_FIELDS = {
    "v1": ("campaign_id", "adgroup_id", "ad_id", "site_set", "promoted_object_type", "promoted_object_id"),
    V30: ("adgroup_id", "dynamic_creative_id", "site_set"),
}
REPORT_PAGE_SIZE_MAX = {"v1": 1000, V30: 2000}
REPORT_ROWS_MAX = 10_000  # page * page_size (N-rows2)
# How far back a report's date may be, in days before today (GMT+8): daily 365 (D-daily); hourly
# 90 in v1.x (D-hr11: 最多支持查询 90 天内的数据), 365 in v3.0 (D-hr3: 最早支持查询 1 年内(365 天)的数据)
DAILY_LOOKBACK_DAYS = 365
HOURLY_LOOKBACK_DAYS = {V11: 90, V13: 90, V30: 365}
ADVERTISER_NORMAL_ROWS = 1000

_V11_DAILY = "TPHP@a21b7259 `src/TencentAds/Model/DailyReportsGetListStruct.php`"
_V11_HOURLY = "TPHP@a21b7259 `src/TencentAds/Model/HourlyReportsGetListStruct.php`"
_V13_DAILY = "TGo `pkg/model/model_daily_reports_get_list_struct.go`"
_V13_HOURLY = "TGo `pkg/model/model_hourly_reports_get_list_struct.go`"


def _dimension_fields(kind: str, version: str) -> tuple[Field, ...]:
    """Report dimensions per version: v1.1 rows have no `account_id` and no `*_name`; v1.1 hourly
    rows have `hour` and no `date` or `site_set`; v1.3 hourly rows have both and no `site_set`;
    v3.0 rows name adgroups and dynamic creatives, and its hourly rows have no `date`."""
    if version == V30:
        source = v3.DAILY_MODEL if kind == "daily" else v3.HOURLY_MODEL
        return tuple(Field(name=n, type=t, source=source) for n, t in v3.DIMENSIONS[kind])
    daily, hourly = kind == "daily", kind == "hourly"
    source = {("daily", V11): _V11_DAILY, ("hourly", V11): _V11_HOURLY}.get((kind, version))
    source = source or (_V13_DAILY if daily else _V13_HOURLY)
    names: list[tuple[str, str]] = []
    if daily or version == V13:
        names.append(("date", "string"))
    if hourly:
        names.append(("hour", "int64"))
    if version == V13:
        names.append(("account_id", "int64"))
    for entity in ("campaign", "adgroup", "ad"):
        names.append((f"{entity}_id", "int64"))
        if version == V13:
            names.append((f"{entity}_name", "string"))
    if daily:
        names.append(("site_set", "string"))
    names += [("promoted_object_type", "string"), ("promoted_object_id", "string")]
    return tuple(Field(name=n, type=t, source=source) for n, t in names)


def _metric_fields(kind: str, version: str) -> tuple[Field, ...]:
    """The metrics the simulator computes, under each version's names (v1.1: both the legacy
    `impression, click, ...` and the new system's `view_count, ...`; v1.3 and v3.0: the new)."""
    if version == V11:
        source = _V11_DAILY if kind == "daily" else _V11_HOURLY
        ints = ("impression", "click", "cost", "conversion", "download", "activation", "cpc")
        doubles = (
            "view_count",
            "valid_click_count",
            "ctr",
            "thousand_display_price",
            "activated_count",
            "download_count",
        )
        return (
            *(Field(name=n, type="int64", source=source) for n in ints),
            *(
                Field(
                    name=n,
                    type="float64",
                    source=source,
                    note="double in the model; the simulator sends whole counts",
                )
                if n != "ctr"
                else Field(name=n, type="float64", source=source)
                for n in doubles
            ),
            *(
                Field(name=n, type="int64", source=f"N-metrics (the new system's name; {_V13_DAILY})")
                for n in ("conversions_count", "conversions_cost", "activated_cost")
            ),
            Field(name="conversions_rate", type="float64", source=f"N-metrics ({_V13_DAILY})"),
        )
    if version == V30:
        source = v3.DAILY_MODEL if kind == "daily" else v3.HOURLY_MODEL
    else:
        source = _V13_DAILY if kind == "daily" else _V13_HOURLY
    return (
        *(Field(name=n, type="int64", source=source) for n in v3.METRICS_INT),
        *(Field(name=n, type="float64", source=source) for n in v3.METRICS_FLOAT),
    )


def report_fields(kind: str, version: str) -> tuple[Field, ...]:
    return (*_dimension_fields(kind, version), *_metric_fields(kind, version))


# The metrics a v1.x report answers when `fields` is omitted: no source states the set (D-hr11: "如不填写,
# 则根据默认值进行返回"); the simulator's are v1.1's four classic ones, and their v1.3 names. v3.0
# requires `fields`.
DEFAULT_METRICS = {
    V11: ("impression", "click", "cost", "conversion"),
    V13: ("view_count", "valid_click_count", "cost", "conversions_count"),
    V30: (),
}


def _level_base(levels: Mapping[str, str], args: Args) -> str:
    return levels[args["level"]]


def report_contract(
    *, kind: str, version: str, levels: Mapping[str, str], level_source: str
) -> EndpointContract:
    """`daily_reports/get` or `hourly_reports/get` of one version, at the media's `levels`
    (request level -> the base level whose shape it has)."""
    name = f"{kind}_reports/get"
    fields = report_fields(kind, version)
    groups = group_by(kind, version)
    dimensions = level_dimensions(version)
    family = V30 if version == V30 else "v1"
    api_file = {
        V11: f"TPHP@a21b7259 `{kind}ReportsGet`",
        V13: f"TGo `pkg/api/api_{kind}_reports.go:64-110`",
        V30: f"TGo3 `pkg/api/v3/api_{kind}_reports.go`",
    }[version]
    # the vendor's page of this report (per level group_by, filtering, paging)
    doc = (
        {"daily": "D-daily3", "hourly": "D-hr3"}[kind]
        if version == V30
        else {"daily": "D-daily11", "hourly": "D-hr11"}[kind]
    )
    group_keys = tuple(dict.fromkeys(k for keys in groups.values() for k in keys))
    metric_names = {f.name for f in _metric_fields(kind, version)}

    def groups_fit(args: Args, today: date) -> str | None:
        allowed = groups[_level_base(levels, args)]
        given = args["group_by"]
        if given is not None and (not given or any(g not in allowed for g in given)):
            return f"group_by {given} is not valid at {args['level']}; allowed: {list(allowed)}"
        return None

    def fields_fit(args: Args, today: date) -> str | None:
        time_dims = {f.name for f in fields} & {"date", "hour"}
        allowed = {*time_dims, "account_id", *dimensions[_level_base(levels, args)], *metric_names}
        allowed &= {f.name for f in fields}
        outside = [f for f in args["fields"] or () if f not in allowed]
        return f"field(s) {outside} are not shown at {args['level']}" if outside else None

    def new_system_only(args: Args, today: date) -> str | None:
        old = [f for f in args["fields"] or () if f in v3.OLD_METRICS]
        if args.get(v3.UPGRADE_FLAG) and old:
            return f"field(s) {old} belong to the old metric system; with {v3.UPGRADE_FLAG} ask the new names"
        return None

    def rows_cap(args: Args, today: date) -> str | None:
        rows = args["page"] * args["page_size"]
        return f"page * page_size = {rows} is above {REPORT_ROWS_MAX}" if rows > REPORT_ROWS_MAX else None

    def ordered(args: Args, today: date) -> str | None:
        span = args["date_range"]
        if span["start_date"] > span["end_date"]:
            return f"start_date {span['start_date']} is after end_date {span['end_date']}"
        return None

    def one_day(args: Args, today: date) -> str | None:
        span = args["date_range"]
        if span["start_date"] != span["end_date"]:
            return "hourly reports take a single day: start_date must equal end_date"
        return None

    lookback = DAILY_LOOKBACK_DAYS if kind == "daily" else HOURLY_LOOKBACK_DAYS[version]

    def recent(args: Args, today: date) -> str | None:
        if args["date_range"]["start_date"] < today - timedelta(days=lookback):
            return f"{kind} reports reach back {lookback} days only"
        return None

    rules = [
        Rule(text="`group_by` holds only the level's keys", code=18009, source=doc, check=groups_fit),
        Rule(
            text="`fields` holds only what the level shows (its dimensions and the metrics)",
            code=12009,
            source=NO_SOURCE + " (no source says which fields each level accepts)",
            check=fields_fit,
        ),
        Rule(text="page × page_size ≤ 10,000", code=18003, source="N-rows2", check=rows_cap),
        Rule(text="start_date ≤ end_date", code=31057, source="D-err3", check=ordered),
        Rule(
            text=f"within the last {lookback} days",
            code=31057,
            source=("D-daily" if kind == "daily" else "D-hr3" if version == V30 else "D-hr11")
            + "; the code: the date rules' ("
            + NO_SOURCE
            + ")",
            check=recent,
        ),
    ]
    if version in LEGACY:
        rules.append(
            Rule(
                text=f"with `{v3.UPGRADE_FLAG}=true`, `fields` names the new metric system only",
                code=12009,
                source="N-metrics; the code: " + NO_SOURCE,
                check=new_system_only,
            )
        )
    if kind == "hourly":
        rules += [
            Rule(text="one day: start_date = end_date", code=31057, source="D-hr11", check=one_day),
        ]
    params = [
        Param(
            name="account_id",
            type=Type.INT64,
            required=True,
            low=1,
            codes=ACCOUNT_CODES,
            note="an advertiser, not an agency (12201)"
            + (
                "; v3.0 daily takes `organization_id` instead, which the simulator does not serve: "
                "it requires `account_id` (" + NO_SOURCE + ")"
                if version == V30 and kind == "daily"
                else ""
            ),
            source=f"{api_file}; D-hr11 (不支持代理商 id)",
        ),
        Param(
            name="level",
            type=Type.ENUM,
            required=True,
            values=tuple(levels),
            source=level_source,
            note="other levels of the enum: 18009 (the simulator serves these)",
        ),
        Param(
            name="date_range",
            type=Type.OBJECT,
            required=True,
            members=(*date_span("TGo `pkg/model/model_report_date_range.go`"),),
            source=api_file,
        ),
        Param(
            name="filtering",
            type=Type.OBJECTS,
            members=(
                Param(
                    name="field",
                    type=Type.ENUM,
                    required=True,
                    values=FILTER_FIELDS[family],
                    source=doc,
                ),
                Param(name="operator", type=Type.ENUM, required=True, values=("EQUALS", "IN"), source=doc),
                Param(
                    name="values",
                    type=Type.STRINGS,
                    required=True,
                    low=1,
                    source="TGo `pkg/model/model_filtering_struct.go`",
                ),
            ),
            high=40,
            source=f"TGo `pkg/model/model_filtering_struct.go`; ≤ 40 items: {doc}",
        ),
        Param(
            name="group_by",
            type=Type.STRINGS,
            required=version == V30,
            low=1 if version == V30 else None,
            values=group_keys,
            note=(
                "v3.0: required"
                if version == V30
                else "the level's keys without site_set when absent (" + NO_SOURCE + "); v3.0: required"
            ),
            source=f"{api_file} (per level: {doc})",
        ),
        Param(
            name="order_by",
            type=Type.OBJECTS,
            members=(
                Param(
                    name="sort_field",
                    type=Type.STRING,
                    required=True,
                    source="TGo `pkg/model/model_order_by_struct.go`",
                ),
                Param(
                    name="sort_type",
                    type=Type.ENUM,
                    values=("ASCENDING", "DESCENDING"),
                    source="TGo `pkg/model/model_sortord.go`",
                ),
            ),
            note="accepted; rows keep the simulator's order (" + NO_SOURCE + ")",
            source="TGo `pkg/model/model_order_by_struct.go`",
        ),
        *paging(
            page_source=doc,
            size_source=(
                f"1–2000, default 10: {doc}"
                if version == V30
                else f"default 10: {doc}; maximum 1000: " + NO_SOURCE
            ),
            size_high=REPORT_PAGE_SIZE_MAX[family],
            size_default=10,
            page_high=99999,
        ),
        Param(
            name="time_line",
            type=Type.ENUM,
            values=TIME_LINES,
            default="REQUEST_TIME",
            source="TGo `pkg/model/model_time_line.go`; default: " + NO_SOURCE,
        ),
        Param(
            name="fields",
            type=Type.STRINGS,
            required=version == V30,
            low=1,
            values=tuple(f.name for f in fields),
            codes=FIELDS_CODES,
            note=(
                "v3.0: required"
                if version == V30
                else f"absent: the group_by keys and {', '.join(DEFAULT_METRICS[version])} ({NO_SOURCE}); "
                "v3.0: required"
            ),
            source=f"{api_file}; unknown names 12009, not an array 12008: D-err3",
        ),
    ]
    if version in LEGACY:
        params.append(
            Param(
                name=v3.UPGRADE_FLAG,
                type=Type.BOOL,
                note="absent or false: the old metric system, which answers no rows for dates after "
                f"{v3.OLD_METRICS_LAST_DAY} (N-metrics); true: the new system's metrics",
                source=(
                    f"TGo `pkg/api/api_{kind}_reports.go:110`; N-metrics"
                    if version == V13
                    else "N-metrics; v1.1 is served as v1.3 (N-v13)"
                ),
            )
        )
    if version == V13:
        params.append(
            Param(
                name="weixin_official_accounts_upgrade_enabled",
                type=Type.BOOL,
                note="accepted; no effect in the simulator (no source states its meaning)",
                source=f"TGo `pkg/api/api_{kind}_reports.go:107`",
            )
        )
    notes = [
        "A dimension appears in a row only when the row's `group_by` determines it (e.g. "
        "`adgroup_id` at level DYNAMIC_CREATIVE grouped by `dynamic_creative_id`): " + NO_SOURCE + ".",
        f"Rows count against the row quotas of the account, report and level ({v3.ROWS_PER_SECOND:,} "
        f"rows/s, {v3.ROWS_PER_WINDOW:,} rows per {v3.ROWS_WINDOW_S:g} s: N-rows1, N-rows2); over them "
        f"the call is refused with {v3.ROWS_CODE} and the account's level frozen (see Quota signals).",
    ]
    if version in LEGACY:
        notes.append(
            f"Without `{v3.UPGRADE_FLAG}=true` a call answers code 0 and no rows for every date after "
            f"{v3.OLD_METRICS_LAST_DAY} (N-metrics: the old metric system returns no data)."
        )
    if version == V30:
        notes.append(
            "The world's campaigns do not exist in v3.0; its adgroups are v3.0's adgroups and its ads "
            "are the dynamic creatives (`dynamic_creative_id` = the ad's id): " + NO_SOURCE + " (N-upgrade)."
        )
    return EndpointContract(
        name=name,
        method="GET",
        path=f"/{version}/{name}",
        version=version,
        source=api_file,
        params=tuple(params),
        rules=tuple(rules),
        paging="`page`, `page_size` → `data.page_info {page, page_size, total_number, total_page}`; "
        "stop when `page ≥ total_page` (TGo `pkg/model/model_page_info.go`); a page past the end is an empty "
        "list with code 0 (" + NO_SOURCE + ")",
        records=fields,
        notes=tuple(notes),
    )


_FUNDS_V11 = "TPHP@a21b7259 `src/TencentAds/Model/FundsGetListStruct.php`"
_FUNDS_V13 = "TGo `pkg/model/model_funds_get_list_struct.go`"
FUND_FIELDS = {
    V11: (
        Field(name="fund_type", type="string", source=_FUNDS_V11),
        Field(name="balance", type="int64", source=_FUNDS_V11, note="fen"),
        Field(name="fund_status", type="string", source=_FUNDS_V11),
        Field(name="today_cost", type="int64", source=_FUNDS_V11, note="fen; v1.3 names it realtime_cost"),
    ),
    V13: (
        Field(name="fund_type", type="string", source=_FUNDS_V13),
        Field(name="balance", type="int64", source=_FUNDS_V13, note="fen"),
        Field(name="fund_status", type="string", source=_FUNDS_V13),
        Field(name="realtime_cost", type="int64", source=_FUNDS_V13, note="fen"),
    ),
    V30: tuple(Field(name=n, type=t, source=v3.FUNDS_MODEL, note=note) for n, t, note in v3.FUND_FIELDS),
}


def funds_contract(version: str) -> EndpointContract:
    api_file = {
        V11: "TPHP@a21b7259 `src/TencentAds/Api/FundsApi.php:102`",
        V13: "TGo `pkg/api/api_funds.go:46,64`",
        V30: "TGo3 `pkg/api/v3/api_funds.go`",
    }[version]
    fields = FUND_FIELDS[version]
    return EndpointContract(
        name="funds/get",
        method="GET",
        path=f"/{version}/funds/get",
        version=version,
        source=api_file,
        params=(
            Param(
                name="account_id",
                type=Type.INT64,
                required=True,
                low=1,
                codes=ACCOUNT_CODES,
                note="an advertiser, or the token's own agency (its own funds: D-funds3)",
                source=api_file,
            ),
            Param(
                name="fields",
                type=Type.STRINGS,
                low=1,
                values=tuple(f.name for f in fields),
                codes=FIELDS_CODES,
                note="absent: all of them",
                source=api_file,
            ),
        ),
        records=fields,
        notes=(
            *(
                (
                    "v1.1 also models `effect_funds` ([]string); the simulator does not serve it ("
                    + NO_SOURCE
                    + ").",
                )
                if version == V11
                else ()
            ),
            "1-3 records per account (one per fund type): " + NO_SOURCE + ".",
        ),
    )


ADVERTISER_FIELDS = {
    V11: tuple(
        Field(name=n, type=t, source="TPHP@a21b7259 `src/TencentAds/Model/AdvertiserGetListStruct.php`")
        for n, t in (
            ("account_id", "int64"),
            ("corporation_name", "string"),
            ("system_status", "string"),
            ("daily_budget", "int64"),
            ("system_industry_id", "int64"),
        )
    ),
    V13: tuple(
        Field(name=n, type=t, source="TGo `pkg/model/model_advertiser_get_list_struct.go`")
        for n, t in (
            ("account_id", "int64"),
            ("corporation_name", "string"),
            ("system_status", "string"),
            ("daily_budget", "int64"),
            ("agency_account_id", "int64"),
            ("system_industry_id", "int64"),
        )
    ),
    V30: tuple(Field(name=n, type=t, source=v3.ADVERTISER_MODEL) for n, t in v3.ADVERTISER_FIELDS),
}
PAGINATION_MODES = ("PAGINATION_MODE_NORMAL", "PAGINATION_MODE_CURSOR")


def advertiser_contract(version: str) -> EndpointContract:
    """`advertiser/get`: an agency's sub-customers (or one advertiser), normal or cursor paging;
    v3.0 requires `fields`, `pagination_mode` and `page_size` (TGo3 `api_advertiser.go`)."""
    v13, v30 = version == V13, version == V30
    api_file = {
        V11: "TPHP@a21b7259 `src/TencentAds/Api/AdvertiserApi.php:384`",
        V13: "TGo `pkg/api/api_advertiser.go:164-204`",
        V30: "TGo3 `pkg/api/v3/api_advertiser.go`",
    }[version]
    cursor_source = {
        V11: NO_SOURCE
        + " (v1.1 has no such parameter in TPHP@a21b7259; the notes' platform sends it and the "
        "simulator honours it as v1.3 does)",
        V13: "TGo `pkg/api/api_advertiser.go:195-204` (added @67543140, 2024-03-29)",
        V30: "TGo3 `pkg/api/v3/api_advertiser.go` (`paginationMode`, `cursor`); D-adv3",
    }[version]
    fields = ADVERTISER_FIELDS[version]
    params = [
        Param(
            name="account_id",
            type=Type.INT64,
            low=1,
            codes=ACCOUNT_CODES,
            note="absent: all the agency's sub-customers",
            source=f"{api_file}; D-adv3",
        ),
        Param(
            name="filtering",
            type=Type.OBJECTS,
            low=1,
            high=1,
            members=(
                Param(
                    name="field", type=Type.ENUM, required=True, values=("corporation_name",), source="D-adv3"
                ),
                Param(
                    name="operator",
                    type=Type.ENUM,
                    required=True,
                    values=("EQUALS", "CONTAINS"),
                    source="D-adv3",
                ),
                Param(name="values", type=Type.STRINGS, required=True, low=1, high=1, source="D-adv3"),
            ),
            source="TGo `pkg/model/model_filtering_struct.go`; D-adv3",
        ),
        int64("page", "D-adv3", low=1, high=1000, default=1),
        int64(
            "page_size",
            "D-adv3 (minimum 1; maximum 100, default 10)" + ("; v3.0: required (TGo3)" if v30 else ""),
            low=1,
            high=100,
            default=None if v30 else 10,
            required=v30,
        ),
        Param(
            name="fields",
            type=Type.STRINGS,
            required=v30,
            low=1,
            values=tuple(f.name for f in fields),
            codes=FIELDS_CODES,
            note="v3.0: required" if v30 else "absent: all of them; v3.0: required",
            source="D-adv3" + ("; TGo3 `api_advertiser.go`" if v30 else ""),
        ),
        Param(
            name="pagination_mode",
            type=Type.ENUM,
            required=v30,
            values=PAGINATION_MODES,
            default=None if v30 else "PAGINATION_MODE_NORMAL",
            note="v3.0: required" if v30 else "",
            source=cursor_source
            + ("; TGo `pkg/model/model_pagination_mode.go`; default: D-adv3" if v13 else ""),
        ),
        Param(name="cursor", type=Type.INT64, low=0, note="omit on the first call", source=cursor_source),
    ]
    if v13 or v30:
        params.append(
            Param(
                name="agency_id",
                type=Type.INT64,
                low=1,
                note="for 服务商主体 tokens only; the simulator's agencies are not, and ignore it",
                source=("TGo `pkg/api/api_advertiser.go:183`" if v13 else "TGo3 `api_advertiser.go`")
                + "; D-adv3",
            )
        )
    return EndpointContract(
        name="advertiser/get",
        method="GET",
        path=f"/{version}/advertiser/get",
        version=version,
        source=api_file,
        params=tuple(params),
        paging="normal: `page`, `page_size` → `data.page_info`, stop at `page ≥ total_page`, and "
        "only the first "
        "1000 rows are served (D-adv3; the true `total_number` is reported, later pages are empty); cursor "
        "(`pagination_mode=PAGINATION_MODE_CURSOR`): `page_size`, `cursor` → "
        "`data.cursor_page_info {page_size, "
        "total_number, has_more: bool, cursor: int64}`, stop at `has_more = false` (TGo "
        "`pkg/model/model_cursor_page_info.go`); the cursor is the next row's offset (" + NO_SOURCE + ")",
        records=fields,
    )


def wechat_advertiser_contract() -> EndpointContract:
    """The deleted `wechat_advertiser/get` (the notes' wx listing), served on v1.1 only."""
    source = "TPHP@a21b7259 `src/TencentAds/Api/WechatAdvertiserApi.php:103`"
    model = "TPHP@a21b7259 `src/TencentAds/Model/WechatAdvertiserGetListStruct.php`"
    return EndpointContract(
        name="wechat_advertiser/get",
        method="GET",
        path=f"/{V11}/wechat_advertiser/get",
        version=V11,
        source=source
        + "; deleted from every SDK on 2022-05-13 (TGo `ced93084`, TJava `e3395dd9`, TPHP `3a46896c`)",
        params=(
            *paging(
                page_source=source + "; limits: " + NO_SOURCE,
                size_source=source + "; 1–100: D-adv3; default: " + NO_SOURCE,
                size_high=100,
                size_default=10,
                page_high=99999,
            ),
            Param(
                name="fields",
                type=Type.STRINGS,
                low=1,
                values=("account_id", "wechat_account_id"),
                codes=FIELDS_CODES,
                source=source,
            ),
        ),
        paging="`page`, `page_size` → `data.page_info`; stop at `page ≥ total_page` (" + source + ")",
        records=(
            Field(name="account_id", type="int64", source=model),
            Field(name="wechat_account_id", type="string", source=model),
        ),
        notes=(
            "Not served on v1.3 or v3.0. On v1.1 it is served only while the simulator's clock is on "
            f"or before {v3.RETIRED['wechat_advertiser/get'][0]}; later it is refused like every retired "
            "endpoint (see Retired endpoints).",
        ),
    )


def oauth_contract() -> EndpointContract:
    source = "TGo `pkg/api/api_oauth.go:169-197`; D-tok3"
    model = "TGo `pkg/model/model_oauth_token_response_data.go`"

    def refresh_needs_token(args: Args, today: date) -> str | None:
        if args["grant_type"] == "refresh_token" and not args["refresh_token"]:
            return "missing required parameter refresh_token (grant_type=refresh_token)"
        return None

    return EndpointContract(
        name="oauth/token",
        method="GET",
        path="/oauth/token",
        version=UNVERSIONED,
        source=source
        + " (no access_token, timestamp or nonce needed: D-tok3; sent, the simulator ignores them)",
        params=(
            Param(name="client_id", type=Type.INT64, required=True, source=source),
            Param(name="client_secret", type=Type.STRING, required=True, low=1, high=256, source="D-tok3"),
            Param(
                name="grant_type",
                type=Type.ENUM,
                required=True,
                values=("authorization_code", "refresh_token"),
                note="authorization_code: 11011 (the simulator issues no codes)",
                source="D-tok3",
            ),
            Param(
                name="refresh_token",
                type=Type.STRING,
                high=256,
                source="D-tok3 (required with grant_type=refresh_token)",
            ),
            Param(name="authorization_code", type=Type.STRING, high=64, source="D-tok3"),
            Param(name="redirect_uri", type=Type.STRING, high=1024, source="D-tok3"),
        ),
        rules=(
            Rule(
                text="grant_type=refresh_token needs refresh_token",
                code=18001,
                source="D-tok3",
                check=refresh_needs_token,
            ),
        ),
        records_at="data",
        records=(
            Field(name="access_token", type="string", source=model),
            Field(
                name="refresh_token",
                type="string",
                source=model + " (optional); Mirror-tok shows a refresh answer without it",
                note=(
                    "absent when `[media.<m>.tokens] refresh_answer_token = false`: the refresh "
                    "token then stays valid"
                ),
            ),
            Field(name="access_token_expires_in", type="int64", source=model),
            Field(name="refresh_token_expires_in", type="int64", source=model),
        ),
        notes=(
            "A refresh answer with a new refresh token rotates the pair: both old tokens die at once (the "
            "simulator's choice for `/oauth/token`: no source says; the v3 `oauth/refresh_token` "
            "documents it). "
            "`authorizer_info` is not returned for the refresh grant (D-tok3).",
        ),
    )


# ----- codes (D-err3, the v3.0 code table; v1.x's 10000 and 10001: D-err)

_TAMPER = "on request: a tamper rule's `code` (`ark_sim/tamper.py`)"
CODES = (
    Code(
        code=0, meaning="success", source="TGo `pkg/api/api_funds.go:101-105`", emitted="every good request"
    ),
    Code(code=10000, meaning="system busy, retry", source="D-err", emitted="fault `busy`"),
    Code(code=10001, meaning="system maintenance", source="D-err", emitted=_TAMPER),
    Code(code=11000, meaning="access_token expired", source="D-err3", emitted="an expired access token"),
    Code(code=11002, meaning="access_token invalid", source="D-err3", emitted="an unknown access token"),
    Code(code=11004, meaning="access_token malformed", source="D-err3", emitted=_TAMPER),
    Code(code=11005, meaning="access_token empty", source="D-err3", emitted="an empty access_token"),
    Code(
        code=11007,
        meaning="client_id invalid",
        source="D-err3",
        emitted="oauth/token with another app's client_id or secret",
    ),
    Code(code=11008, meaning="application request limit exceeded", source="D-err3", emitted=_TAMPER),
    Code(code=11009, meaning="authorization code expired", source="D-err3", emitted=_TAMPER),
    Code(code=11010, meaning="refresh_token malformed", source="D-err3", emitted="an unknown refresh token"),
    Code(
        code=11011,
        meaning="authorization code malformed",
        source="D-err3",
        emitted="grant_type=authorization_code",
    ),
    Code(code=11012, meaning="refresh_token expired", source="D-err3", emitted="an expired refresh token"),
    Code(code=11013, meaning="authorization code already used", source="D-err3", emitted=_TAMPER),
    Code(code=11014, meaning="API outside the authorised scope", source="D-err3", emitted=_TAMPER),
    Code(code=11016, meaning="per-second limit reached", source="D-err3", emitted="the per-second quota"),
    Code(
        code=11017,
        meaning="per-minute limit reached",
        source="D-err3; legacy",
        emitted="the per-minute quota",
    ),
    Code(code=11018, meaning="per-day limit reached", source="D-err3", emitted="the daily quota"),
    Code(
        code=11019,
        meaning="request much too frequent (subject/developer frequency control)",
        source="D-err3; for the report row quotas and the async task cooldown: "
        + NO_SOURCE
        + " (N-rows1, N-rows2 and D-async state no code)",
        emitted="a report call over a row quota, and while its account's level is frozen; an "
        "`async_reports/add` inside its account_id's cooldown",
    ),
    Code(
        code=12000,
        meaning="access_token, timestamp or nonce missing",
        source="D-err3",
        emitted="a global parameter missing",
    ),
    Code(
        code=12003,
        meaning="a parameter is not valid JSON",
        source="D-err3",
        emitted="bad JSON in a structured parameter",
    ),
    Code(
        code=12007,
        meaning="unknown API or method",
        source="D-err3; for a retired endpoint: " + NO_SOURCE + " (N-retire says only that it stops)",
        emitted="an unknown path (or one of another version); a retired endpoint after its last day",
    ),
    Code(code=12008, meaning="`fields` is not a JSON array", source="D-err3", emitted="a bad `fields`"),
    Code(code=12009, meaning="`fields` names an unknown field", source="D-err3", emitted="an unknown field"),
    Code(code=12100, meaning="nonce reused", source="D-err3", emitted="a nonce seen within `nonce_ttl_s`"),
    Code(
        code=12101,
        meaning="timestamp expired",
        source="D-err3",
        emitted="a timestamp off by more than `timestamp_skew_s`",
    ),
    Code(
        code=12201,
        meaning="account_id invalid",
        source="D-err3",
        emitted="an id that is no account of the tenant",
    ),
    Code(
        code=12203,
        meaning="no permission on account_id",
        source="D-err3",
        emitted="another agency's account",
    ),
    Code(
        code=18001,
        meaning="required parameter missing",
        source="D-err3",
        emitted="a required parameter absent",
    ),
    Code(
        code=18002,
        meaning="parameter of the wrong type",
        source="D-err3",
        emitted="a mistyped (or undeclared) parameter",
    ),
    Code(
        code=18003, meaning="parameter above its maximum", source="D-err3", emitted="a value above its limit"
    ),
    Code(
        code=18004, meaning="parameter below its minimum", source="D-err3", emitted="a value below its limit"
    ),
    Code(
        code=18009,
        meaning="parameter not in its enumeration",
        source="D-err3",
        emitted="a value outside its enum",
    ),
    Code(code=30104, meaning="request limit reached, retry after one minute", source="I#27", emitted=_TAMPER),
    Code(
        code=31002,
        meaning="invalid parameter (module-specific)",
        source="D-err3; for an async report file: " + NO_SOURCE,
        emitted="`async_report_files/get` of a task that is not completed (or expired), or of an unknown "
        "task or file",
    ),
    Code(
        code=51001,
        meaning="unable to process fetching reports, retry in one minute",
        source="D-err3; as a failed task's `result.code`: " + NO_SOURCE,
        emitted="the `result` of an async report task that failed (`async_reports.fail_rate`); else a "
        "tamper rule's `code`",
    ),
    Code(
        code=31057,
        meaning="invalid date range",
        source="D-err3",
        emitted="a date range out of order, or an hourly one too long or old",
    ),
    *(
        Code(code=c, meaning=m, source="D-err3", emitted=_TAMPER)
        for c, m in (
            (32211, "advertiser inactive"),
            (34109, "invalid parameter (module-specific)"),
            (50018, "module rate limit"),
            (60000, "service busy (module-specific)"),
            (62000, "unable to process, retry in one minute"),
            (64015, "advertiser inactive"),
            (64016, "module rate limit"),
            (66029, "module rate limit"),
            (66030, "module rate limit"),
            (67001, "invalid parameter (module-specific)"),
            (68002, "module rate limit"),
            (71000, "invalid parameter (module-specific)"),
            (72000, "service busy (module-specific)"),
            (73000, "service busy (module-specific)"),
        )
    ),
)
MEANINGS = {c.code: c.meaning for c in CODES}
QUOTA = (
    Row(
        point="`X-RateLimit-Remaining: <day%>,<minute%>`",
        value=(
            "on every answer, throttles included; floor(100·left/limit) per bucket, 100% where "
            "there is no limit"
        ),
        source="legacy (the header and its reading); the formula and its presence on throttles: " + NO_SOURCE,
    ),
    Row(point="scope", value="per app and endpoint", source="D-req"),
    Row(point="throttle codes", value="11016 second, 11017 minute, 11018 day", source="D-err3"),
    Row(
        point="block after a throttle",
        value="`block_seconds` (0 by default); D-req says 5 minutes",
        source="D-req",
    ),
    Row(
        point="limits",
        value="`[media.<m>.quota]` in sim.toml",
        source=NO_SOURCE + " (shown in the developer console only: D-req)",
    ),
    Row(
        point="report rows per second",
        value=f"{v3.ROWS_PER_SECOND:,} rows per account, report and level in a second; over it the call is "
        f"refused ({v3.ROWS_CODE}) and that account's level frozen {v3.ROWS_FREEZE_S:g} s",
        source="N-rows1; counted as the rows a call answers (the notice says matched rows): " + NO_SOURCE,
    ),
    Row(
        point="report rows per window",
        value=f"{v3.ROWS_PER_WINDOW:,} rows per account, report and level in a "
        f"{v3.ROWS_WINDOW_S:g} s window; "
        f"over it the call is refused ({v3.ROWS_CODE}) and the level frozen for the rest of the window plus "
        f"floor(used / {v3.ROWS_PER_WINDOW:,}) × {v3.ROWS_WINDOW_S:g} s",
        source="N-rows2",
    ),
    Row(point="report rows per call", value="page × page_size ≤ 10,000 (18003)", source="N-rows2"),
    Row(
        point="row limits",
        value="`[media.<m>.rows]` in sim.toml (shipped: the vendor's figures above)",
        source="N-rows1, N-rows2",
    ),
)
RETIRED = tuple(
    Row(
        point=f"`{name}`",
        value=f"served through {last}; later 12007 naming its replacement: {replacement}",
        source=source,
    )
    for name, (last, replacement, source) in v3.RETIRED.items()
)
