"""The Ocean Engine (Toutiao) open API's contract, as data: `/open_api/2/` and v3.0's custom report.

The parameters, rules, paging and record fields of every endpoint the simulator serves, the code
table and the quota signals, each row with its source (keys in `SOURCES`) or `NO_SOURCE`. Where
the official SDK (OE) and a community one disagree, OE wins. The simulator checks every request
against these tables before a handler runs (`ark_sim.contract`); the docs' tables are rendered
from them. v3.0's custom report (upgraded accounts) is declared in the same version, as the official
SDK generates it beside the v2 endpoints.
"""

from __future__ import annotations

from datetime import date

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
    paging,
)

V2, UNVERSIONED = "v2", "-"

PARAM_CODES = ParamCodes(
    missing=40001,
    wrong_type=40001,
    above_max=40001,
    below_min=40001,
    bad_json=40001,
    not_in_enum=40001,
    unknown=40001,
)
SOURCES = tuple(
    Row(point=key, value=what, source="")
    for key, what in (
        ("OE", "oceanengine/ad_open_sdk_go @9283cb7a (v1.1.93, official, OpenAPI-generated)"),
        ("OEJ", "oceanengine/ad_open_sdk_java @df23cf42 (official; javadoc defaults)"),
        ("BB", "bububa/oceanengine @e3ac8d5 (community; its comments quote the docs)"),
        (
            "OE-up",
            "oceanengine/ad_open_sdk_go README: the SDK covers 巨量广告升级版 (the upgraded platform: "
            "project -> promotion), whose data is read through `report/custom/get`",
        ),
        ("DH", "donghaic/taotiao-marketing-api-java-sdk @33ce9f9 (community; the only code table)"),
        (
            "legacy",
            "what the legacy jobs this platform replaces send or read (quoted where cited; no public source)",
        ),
    )
)
VERSION_ROWS = (
    Row(
        point=V2,
        value="the one version Ark speaks: paths `/open_api/2/<resource>/<action>/` for the legacy "
        "(campaign -> ad) endpoints, and `/open_api/v3.0/report/custom/get/` for upgraded accounts "
        "(project -> promotion); the official SDK generates both side by side",
        source="OE `api/api_*_v2.go`, `api/api_report_custom_get_v30.go`; OE-up",
    ),
    Row(
        point=UNVERSIONED,
        value="OAuth: `/open_api/oauth2/<action>/`",
        source="OE `api/api_oauth2_refresh_token.go:72`",
    ),
)
CONVENTIONS = (
    Row(
        point="auth",
        value="header `Access-Token: <token>` (no `Bearer`)",
        source="OE `middleware/auth.go`; BB `core/client.go:163`",
    ),
    Row(
        point="query encoding",
        value="strings as they are; every other value (ints, arrays, objects) JSON-encoded, so "
        "`advertiser_ids=[1,2]` holds JSON numbers",
        source="OE `api/client.go:3774-3810`",
    ),
    Row(
        point="JSON body on a GET",
        value="accepted as the parameters (an id may then be a JSON number or a digit string)",
        source='legacy (the legacy jobs send `{"advertiser_id": "1664757665615880"}` as a body)',
    ),
    Row(
        point="envelope",
        value="`{code, message, request_id, data}`",
        source="OE `models/model_*_response.go`",
    ),
    Row(
        point="errors",
        value="HTTP 200 with `code` ≠ 0 and `data: {}`; a parameter error's message names the parameter",
        source="BB `model/response.go` (`IsError`); the message text: " + NO_SOURCE,
    ),
    Row(
        point="money",
        value="float yuan",
        source="OE `models/model_advertiser_fund_get_v2_response_data.go` (`*float64`)",
    ),
    Row(point="ids", value="int64 (advertiser ids above 2**53)", source="OE models"),
    Row(point="request id header", value="`X-Tt-Logid` = `request_id`", source=NO_SOURCE),
    Row(point="undeclared parameter", value="refused with 40001 naming it", source=NO_SOURCE),
)
REPORT_METRICS = (
    "cost",
    "show",
    "click",
    "ctr",
    "avg_show_cost",
    "avg_click_cost",
    "convert",
    "convert_cost",
    "convert_rate",
    "active",
    "download_finish",
    "deep_convert",
)
_METRIC_TYPES = {
    "show": "int64",
    "click": "int64",
    "convert": "int64",
    "active": "int64",
    "download_finish": "int64",
    "deep_convert": "int64",
}
INFO_FIELDS = (
    "id",
    "name",
    "role",
    "status",
    "company",
    "first_industry_name",
    "second_industry_name",
    "create_time",
)
INFO_IDS_MAX = 100
REPORT_SPAN_DAYS = 30
EARLIEST = date(2016, 10, 26)
STAT_TIME = "STAT_GROUP_BY_FIELD_STAT_TIME"
FIELD_ID = "STAT_GROUP_BY_FIELD_ID"
GROUP_BY = (
    "STAT_GROUP_BY_FIELD_ID",
    "STAT_GROUP_BY_FIELD_STAT_TIME",
    "STAT_GROUP_BY_INVENTORY",
    "STAT_GROUP_BY_MATERIAL_ID",
    "STAT_GROUP_BY_GENDER",
    "STAT_GROUP_BY_AGE",
    "STAT_GROUP_BY_CITY_NAME",
    "STAT_GROUP_BY_PROVINCE_NAME",
    "STAT_GROUP_BY_PLATFORM",
    "STAT_GROUP_BY_AC",
    "STAT_GROUP_BY_CREATIVE_MATERIAL_MODE",
    "STAT_GROUP_BY_IMAGE_MODE",
    "STAT_GROUP_BY_PRICING_CATEGORY",
    "STAT_GROUP_BY_PRICING",
    "STAT_GROUP_BY_CREATIVE_COMPONENT_ID",
    "STAT_GROUP_BY_LANDING_TYPE",
    "STAT_GROUP_BY_EXTERNAL_ACTION",
    "STAT_GROUP_BY_CAMPAIGN_TYPE",
)
GRANULARITIES = (
    "STAT_TIME_GRANULARITY_DAILY",
    "STAT_TIME_GRANULARITY_HOURLY",
    "STAT_TIME_GRANULARITY_WEEK",
    "STAT_TIME_GRANULARITY_MONTH",
)
INTEGRATED_GROUP_BY = (
    STAT_TIME,
    FIELD_ID,
    "STAT_GROUP_BY_TIME_DAY",
    "STAT_GROUP_BY_TIME_HOUR",
    "STAT_GROUP_BY_CAMPAIGN_ID",
    "STAT_GROUP_BY_AD_ID",
    "STAT_GROUP_BY_CREATIVE_ID",
)


def _get(name: str, source: str, **rest: object) -> EndpointContract:
    """A GET of v2 at `/open_api/2/<name>` (its quota name is the path's tail)."""
    return EndpointContract(
        name=name, method="GET", path=f"/open_api/2/{name}", version=V2, source=source, **rest
    )


def _dates_ordered(args: Args, today: date) -> str | None:
    if args["start_date"] > args["end_date"]:
        return f"start_date {args['start_date']} is after end_date {args['end_date']}"
    return None


def _span(args: Args, today: date) -> str | None:
    if (args["end_date"] - args["start_date"]).days > REPORT_SPAN_DAYS:
        return f"the date range may span {REPORT_SPAN_DAYS} days at most"
    if args["start_date"] < EARLIEST:
        return f"dates before {EARLIEST} are not served"
    return None


ORDERED = Rule(text="start_date ≤ end_date", code=40001, source=NO_SOURCE, check=_dates_ordered)
SPAN = Rule(
    text="end_date − start_date ≤ 30 days, from 2016-10-26 on",
    code=40001,
    source="BB `model/report/get_request.go:18-20` (只支持查询2016-10-26及以后的日期，时间跨度不能超过30天)",
    check=_span,
)


def _agent_param(name: str, source: str) -> Param:
    return Param(
        name=name, type=Type.INT64, required=True, low=1, note="an agent in the token's tree", source=source
    )


def _report_metrics_fields(source: str) -> tuple[Field, ...]:
    return tuple(Field(name=m, type=_METRIC_TYPES.get(m, "float64"), source=source) for m in REPORT_METRICS)


def advertiser_select() -> EndpointContract:
    source = "OE `api/api_agent_advertiser_select_v2.go:125-136`"
    return _get(
        "agent/advertiser/select",
        source,
        params=(
            _agent_param("advertiser_id", source + " (functionally required: the agent to list)"),
            Param(
                name="company_ids", type=Type.INT64S, note="accepted; the simulator ignores it", source=source
            ),
            Param(
                name="filtering",
                type=Type.OBJECT,
                open=True,
                members=(
                    Param(
                        name="advertiser_ids",
                        type=Type.INT64S,
                        source="OE `models/model_agent_advertiser_select_v2_filtering.go`",
                    ),
                ),
                note="the simulator ignores it",
                source="OE `models/model_agent_advertiser_select_v2_filtering.go`",
            ),
            *paging(
                page_source="OEJ `AgentAdvertiserSelectV2Api.java:80`",
                size_source="default: OEJ `AgentAdvertiserSelectV2Api.java:81`, BB; maximum: " + NO_SOURCE,
                size_high=1000,
                size_default=100,
            ),
            Param(
                name="cursor",
                type=Type.INT64,
                low=0,
                note="omit on the first call",
                source="OE :134; BB `model/agent/advertiser_select.go:21` (第一次拉取，无需入参)",
            ),
            Param(
                name="count",
                type=Type.INT64,
                low=1,
                high=1000,
                default=100,
                source="OE :131; maximum and default: " + NO_SOURCE,
            ),
        ),
        paging="two modes (BB `model/agent/advertiser_select.go:22-27`): `page`, `page_size` → "
        "`data.page_info "
        "{page, page_size, total_number, total_page}`, stop at `page ≥ total_page`; `cursor`, `count` → "
        "`data.cursor_page_info {count, cursor, has_more: bool, total_number}`, stop at `has_more = false` "
        "(OE `models/model_agent_advertiser_select_v2_response_data_cursor_page_info.go`). Which mode a call "
        "carrying only `count` gets has no source: the simulator answers in cursor mode when `cursor` or "
        "`count` is sent, and in page mode always with the fault `cursor_ignored`",
        records=(
            Field(
                name="(id)",
                type="int64",
                source="OE `models/model_agent_advertiser_select_v2_response_data.go` (`list []int64`)",
            ),
        ),
        notes=(
            "`data` also holds `advertiser_ids` (the same ids) and `account_source` (`AD`): OE "
            "`models/model_agent_advertiser_select_v2_response_data.go`.",
        ),
    )


def child_agent_select() -> EndpointContract:
    source = "OE `api/api_agent_child_agent_select_v2.go:100-105`"
    return _get(
        "agent/child_agent/select",
        source,
        params=(
            _agent_param("advertiser_id", source + " (the SDK refuses < 1)"),
            Param(name="page", type=Type.INT32, low=1, default=1, source="OE (request `page *int32`); OEJ"),
            Param(
                name="page_size",
                type=Type.INT32,
                low=1,
                high=1000,
                default=100,
                source="default: OEJ; maximum: " + NO_SOURCE,
            ),
        ),
        paging="`page`, `page_size` → `data.page_info`, stop at `page ≥ total_page`",
        records_at="data.child_agent_ids",
        records=(
            Field(
                name="(id)",
                type="int64",
                source="OE `models/model_agent_child_agent_select_v2_response_data.go`",
            ),
        ),
        notes=("`data.list` holds the same ids (OE).",),
    )


def advertiser_info() -> EndpointContract:
    source = "OE `api/api_advertiser_info_v2.go:88-99`"
    model = "OE `models/model_advertiser_info_v2_response_data.go`"
    types = {"id": "int64"}
    return _get(
        "advertiser/info",
        source,
        params=(
            Param(
                name="advertiser_ids",
                type=Type.INT64S,
                required=True,
                low=1,
                high=INFO_IDS_MAX,
                note="one id outside the token's tree fails the call (40002)",
                source=source + " (`[]int64`, JSON-encoded); 1–100: BB `model/advertiser/info.go:13`",
            ),
            Param(
                name="fields",
                type=Type.STRINGS,
                values=INFO_FIELDS,
                note="absent: all of them",
                source="OE :99; the names the simulator serves: " + model,
            ),
        ),
        records_at="data (an array)",
        records=tuple(Field(name=f, type=types.get(f, "string"), source=model) for f in INFO_FIELDS),
    )


_FUND_MODEL = "OE `models/model_advertiser_fund_get_v2_response_data.go`"
FUND_MONEY = (
    "balance",
    "valid_balance",
    "cash",
    "valid_cash",
    "grant",
    "valid_grant",
    "default_grant",
    "common_grant",
    "search_grant",
    "union_grant",
    "compensation_grant",
    "compensation_valid_grant",
    "return_goods_abs",
    "valid_return_goods_abs",
    "return_goods_cost",
    "return_goods_grant",
    "return_goods_valid_grant",
)


def fund_get() -> EndpointContract:
    source = "OE `api/api_advertiser_fund_get_v2.go:88-96`"
    return _get(
        "advertiser/fund/get",
        source,
        params=(
            Param(
                name="advertiser_id",
                type=Type.INT64,
                required=True,
                low=1,
                note="an advertiser or an agent",
                source=source + "; BB `model/advertiser/fund_get.go` (广告主ID或代理商ID)",
            ),
            Param(
                name="grant_type_split",
                type=Type.ENUM,
                values=("ON", "OFF"),
                default="OFF",
                note="the simulator answers the same either way",
                source="OE `models/model_advertiser_fund_get_v2_grant_type_split.go`; default: BB",
            ),
        ),
        records_at="data (one object)",
        records=(
            Field(name="advertiser_id", type="int64", source=_FUND_MODEL),
            Field(name="name", type="string", source=_FUND_MODEL),
            Field(name="email", type="string", source=_FUND_MODEL),
            *(Field(name=m, type="float64", source=_FUND_MODEL, note="yuan") for m in FUND_MONEY),
            *(
                Field(name=w, type="string", source=_FUND_MODEL, note="a string")
                for w in ("wallet_id", "wallet_name", "wallet_total_balance_valid")
            ),
        ),
    )


ACCOUNT_FUND_SOURCE = "OE `api/api_account_fund_get_v30.go`"
_ACCOUNT_FUND_MODEL = "OE `models/model_account_fund_get_v3_0_response_data_list_inner.go`"
# OE checks `len(account_ids) > 50`; BB `marketing-api/model/advertiser/account_fund_get.go` says
# 最多支持20个账户 (at most 20)
ACCOUNT_FUND_IDS_MAX = 50
ACCOUNT_FUND_MONEY = (
    "balance",
    "valid_balance",
    "cash",
    "valid_cash",
    "grant",
    "valid_grant",
    "default_grant",
    "common_grant",
    "search_grant",
    "union_grant",
    "compensation_grant",
    "compensation_valid_grant",
    "return_goods_abs",
    "valid_return_goods_abs",
    "wallet_total_balance_valid",
)


def account_fund_get() -> EndpointContract:
    """`GET /open_api/v3.0/account/fund/get/`: the balances of a batch of accounts in one call."""
    return EndpointContract(
        name="account/fund/get",
        method="GET",
        path="/open_api/v3.0/account/fund/get",
        version=V2,
        source=ACCOUNT_FUND_SOURCE
        + "; BB `marketing-api/api/advertiser/account_fund_get.go` (批量查询账户余额)",
        params=(
            Param(
                name="account_ids",
                type=Type.INT64S,
                required=True,
                low=1,
                high=ACCOUNT_FUND_IDS_MAX,
                note="one id outside the token's tree fails the call (40002, as `advertiser/info`: "
                + NO_SOURCE
                + ")",
                source=ACCOUNT_FUND_SOURCE + " (`[]int64`, 1–50 ids; BB's comment says at most 20)",
            ),
            Param(
                name="account_type",
                type=Type.ENUM,
                required=True,
                values=("AD",),
                note="STAR, LOCAL and QIANCHUAN (OE's enum) are refused: the simulator serves AD accounts",
                source="OE `models/model_account_fund_get_v3_0_account_type.go`",
            ),
            Param(
                name="grant_type_split",
                type=Type.ENUM,
                values=("ON", "OFF"),
                default="OFF",
                note="the simulator answers the same either way",
                source="OE `models/model_account_fund_get_v3_0_grant_type_split.go`",
            ),
        ),
        records=(
            Field(name="account_id", type="int64", source=_ACCOUNT_FUND_MODEL),
            *(
                Field(
                    name=m,
                    type="int64",
                    source=_ACCOUNT_FUND_MODEL,
                    note="no source states the unit: the simulator serves fen (its choice)",
                )
                for m in ACCOUNT_FUND_MONEY
            ),
            Field(name="wallet_id", type="int64", source=_ACCOUNT_FUND_MODEL),
        ),
        notes=(
            "One record per id asked, in the order asked (duplicates once): " + NO_SOURCE + ". The values "
            "are `advertiser/fund/get`'s, in fen.",
        ),
    )


_AGENT_ROW = (
    "OE `models/model_report_agent_get_v2_v2_response_data_list_inner.go` (74 fields; the "
    "simulator serves these)"
)
AGENT_ROW_FIELDS = (
    ("advertiser_id", "int64"),
    ("advertiser_name", "string"),
    ("agent_id", "int64"),
    ("agent_name", "string"),
    ("company_name", "string"),
    ("cost", "float64"),
    ("cash_cost", "float64"),
    ("grants_cost", "float64"),
    ("show", "int64"),
    ("click", "int64"),
    ("ctr", "float64"),
    ("cpc", "float64"),
    ("cpm", "float64"),
    ("account_status", "string"),
    ("account_source", "string"),
    ("first_industry", "string"),
    ("second_industry", "string"),
    ("register_time", "string"),
)


def agent_report() -> EndpointContract:
    source = "OE `api/api_report_agent_get_v2_v2.go:124-153`"
    return _get(
        "report/agent/get_v2",
        source,
        params=(
            _agent_param("agent_id", source),
            *date_span(source),
            Param(
                name="filtering",
                type=Type.OBJECT,
                open=True,
                members=(
                    Param(
                        name="advertiser_ids",
                        type=Type.INT64S,
                        low=1,
                        high=100,
                        source=(
                            "OE `models/model_report_agent_get_v2_v2_filtering.go`; 1–100: BB "
                            "`model/report/get_request.go`"
                        ),
                    ),
                ),
                note="other members accepted and ignored",
                source="OE `models/model_report_agent_get_v2_v2_filtering.go`",
            ),
            *paging(
                page_source="OEJ `ReportAgentGetV2V2Api.java`",
                size_source="default: OEJ `ReportAgentGetV2V2Api.java`; maximum: " + NO_SOURCE,
                size_high=100,
                size_default=20,
            ),
            Param(name="cursor", type=Type.INT64, low=0, source="OE :135; first call: " + NO_SOURCE),
            Param(
                name="cursor_size",
                type=Type.INT64,
                low=1,
                high=1000,
                default=100,
                source="OE :138; maximum and default: " + NO_SOURCE,
            ),
        ),
        rules=(ORDERED,),
        paging="`page`, `page_size` → `data.page_info`, stop at `page ≥ total_page`; `cursor`, "
        "`cursor_size` → "
        "`data.cursor_info {cursor, cursor_size, has_more: int64, total_number}`, stop at `has_more = 0` (OE "
        "`models/model_report_agent_get_v2_v2_response_data_cursor_info.go`); the mode is picked as for "
        "`agent/advertiser/select` (" + NO_SOURCE + ")",
        records=tuple(Field(name=n, type=t, source=_AGENT_ROW) for n, t in AGENT_ROW_FIELDS),
        notes=(
            "Rows carry no date (OE); the simulator answers one row per advertiser of the agent "
            "for the whole "
            "range, spending or not (" + NO_SOURCE + ").",
        ),
    )


def level_report(level: str) -> EndpointContract:
    source = f"OE `api/api_report_{level}_get_v2.go:142-180`"
    row = (
        f"OE `models/model_report_{level}_get_v2_response_data_list_inner.go` (276 fields; the "
        f"simulator serves these)"
    )
    dimensions = [Field(name="stat_datetime", type="string", source=row)]
    if level in ("campaign", "ad"):
        dimensions += [
            Field(name="campaign_id", type="int64", source=row),
            Field(name="campaign_name", type="string", source=row),
        ]
    if level == "ad":
        dimensions += [
            Field(name="ad_id", type="int64", source=row),
            Field(name="ad_name", type="string", source=row),
        ]

    def served_groups(args: Args, today: date) -> str | None:
        outside = [g for g in args["group_by"] or () if g not in (STAT_TIME, FIELD_ID)]
        return (
            f"the simulator serves group_by {STAT_TIME} and {FIELD_ID} only, not {outside}"
            if outside
            else None
        )

    def served_granularity(args: Args, today: date) -> str | None:
        if args["time_granularity"] not in GRANULARITIES[:2]:
            return f"the simulator serves daily and hourly granularity only, not {args['time_granularity']}"
        return None

    return _get(
        f"report/{level}/get",
        source,
        params=(
            Param(
                name="advertiser_id",
                type=Type.INT64,
                required=True,
                low=1,
                note="an advertiser, not an agent",
                source=source,
            ),
            *date_span(source),
            Param(
                name="fields",
                type=Type.STRINGS,
                low=1,
                values=REPORT_METRICS,
                note="absent: all of them",
                source=row,
            ),
            Param(
                name="group_by",
                type=Type.STRINGS,
                low=1,
                values=GROUP_BY,
                default=[STAT_TIME],
                source=(
                    f"OE `models/model_report_{level}_get_v2_group_by.go`; default: BB "
                    f"`model/report/get_request.go:24`"
                ),
            ),
            Param(
                name="time_granularity",
                type=Type.ENUM,
                values=GRANULARITIES,
                default=GRANULARITIES[0],
                source=f"OE `models/model_report_{level}_get_v2_time_granularity.go`; BB :26",
            ),
            Param(
                name="order_field",
                type=Type.STRING,
                note="a metric name (OE: 242); the simulator orders by time all the same",
                source=f"OE `models/model_report_{level}_get_v2_order_field.go`",
            ),
            Param(
                name="order_type", type=Type.ENUM, values=("ASC", "DESC"), default="DESC", source="OE; BB :30"
            ),
            *paging(page_source="OEJ", size_source="OEJ; 1–1000: BB :34", size_high=1000, size_default=20),
            Param(
                name="filtering",
                type=Type.OBJECT,
                open=True,
                members=(
                    *(
                        Param(
                            name=n,
                            type=Type.INT64S,
                            high=100,
                            source=f"OE `models/model_report_{level}_get_v2_filtering.go`; ≤ 100: BB",
                        )
                        for n in ("campaign_ids", "ad_ids", "creative_ids")
                    ),
                    *_status_filter(level),
                ),
                note="other members accepted and ignored",
                source=f"OE `models/model_report_{level}_get_v2_filtering.go`",
            ),
        ),
        rules=(
            ORDERED,
            SPAN,
            Rule(
                text="group_by: the simulator serves STAT_TIME and FIELD_ID",
                code=40001,
                source=NO_SOURCE,
                check=served_groups,
            ),
            Rule(
                text="time_granularity: the simulator serves DAILY and HOURLY",
                code=40001,
                source=NO_SOURCE,
                check=served_granularity,
            ),
        ),
        paging=(
            "`page`, `page_size` → `data.page_info`, stop at `page ≥ total_page` (OE `…_response_data.go`)"
        ),
        records=(*dimensions, *_report_metrics_fields(row)),
        notes=(
            "Rows are ordered by time, descending with `order_type` DESC (the documented default, "
            "BB :30), then by id.",
            "This API's \"ad\" (广告计划) is the world's adgroup; the simulator's ids come from its world.",
            *(
                (
                    f"Deleted entities are left out unless `filtering.status` is `{STATUS_ALL[level]}` "
                    f"(BB `marketing-api/api/report/{level}_get.go:12`: 默认不获取删除…数据).",
                )
                if level in STATUS_ALL
                else ()
            ),
            "An account on the upgraded platform (project -> promotion) has no campaigns or ads: its "
            "campaign and ad reports answer no rows; its advertiser report covers all of its spend "
            "(the account level has no entity hierarchy): " + NO_SOURCE + ".",
        ),
    )


# the status a v2 report's filtering keeps deleted entities with (BB `api/report/{level}_get.go:12`)
STATUS_ALL = {"campaign": "CAMPAIGN_STATUS_ALL", "ad": "AD_STATUS_ALL"}
STATUS_VALUES = {
    "campaign": (
        "CAMPAIGN_STATUS_DELETE",
        "CAMPAIGN_STATUS_ENABLE",
        "CAMPAIGN_STATUS_ADVERTISER_BUDGET_EXCEED",
        "CAMPAIGN_STATUS_DISABLE",
        "CAMPAIGN_STATUS_NOT_DELETE",
        "CAMPAIGN_STATUS_ALL",
    ),
    "ad": (
        "AD_STATUS_DELIVERY_OK",
        "AD_STATUS_NOT_DELETE",
        "AD_STATUS_NOT_START",
        "AD_STATUS_DONE",
        "AD_STATUS_REAUDIT",
        "AD_STATUS_CAMPAIGN_EXCEED",
        "AD_STATUS_DISABLE",
        "AD_STATUS_BUDGET_EXCEED",
        "AD_STATUS_NO_SCHEDULE",
        "AD_STATUS_ALL",
        "AD_STATUS_AUDIT",
        "AD_STATUS_CREATE",
        "AD_STATUS_DELETE",
        "AD_STATUS_CAMPAIGN_DISABLE",
        "AD_STATUS_AUDIT_DENY",
        "AD_STATUS_BALANCE_EXCEED",
    ),
}


def _status_filter(level: str) -> tuple[Param, ...]:
    if level not in STATUS_VALUES:
        return ()
    return (
        Param(
            name="status",
            type=Type.ENUM,
            values=STATUS_VALUES[level],
            note=f"absent: deleted entities left out; `{STATUS_ALL[level]}` keeps them; the simulator "
            "tells deleted from the rest only (every other value keeps the entities not deleted)",
            source=f"OE `models/model_report_{level}_get_v2_filtering_status.go`; "
            f"BB `api/report/{level}_get.go:12`",
        ),
    )


# ----- the upgraded platform's custom report (v3.0)

CUSTOM_SOURCE = "OE `api/api_report_custom_get_v30.go`"
CUSTOM_MODEL = "BB `marketing-api/model/report/v3/custom_get.go`"
CUSTOM_TOPICS = ("BASIC_DATA",)  # served; OE `models/model_report_custom_get_v3_0_data_topic.go` has 18
CUSTOM_DIMENSIONS = (
    ("stat_time_day", "string"),
    ("stat_time_hour", "string"),
    ("cdp_project_id", "int64"),
    ("cdp_project_name", "string"),
    ("cdp_promotion_id", "int64"),
    ("cdp_promotion_name", "string"),
)
CUSTOM_METRICS = (
    ("stat_cost", "float64"),
    ("show_cnt", "int64"),
    ("click_cnt", "int64"),
    ("ctr", "float64"),
    ("cpm_platform", "float64"),
    ("cpc_platform", "float64"),
    ("convert_cnt", "int64"),
    ("conversion_cost", "float64"),
    ("conversion_rate", "float64"),
    ("active", "int64"),
    ("download_finish_cnt", "int64"),
    ("deep_convert_cnt", "int64"),
)
CUSTOM_PAGE_SIZE_MAX = 1000


def custom_report() -> EndpointContract:
    """`GET /open_api/v3.0/report/custom/get/`: an upgraded account's projects and promotions."""

    def one_time(args: Args, today: date) -> str | None:
        times = [d for d in args["dimensions"] if d.startswith("stat_time_")]
        return f"dimensions may hold one time dimension, got {times}" if len(times) > 1 else None

    def ordered(args: Args, today: date) -> str | None:
        return _dates_ordered({"start_date": args["start_time"], "end_date": args["end_time"]}, today)

    def span(args: Args, today: date) -> str | None:
        return _span({"start_date": args["start_time"], "end_date": args["end_time"]}, today)

    def sortable(args: Args, today: date) -> str | None:
        chosen = {*args["dimensions"], *args["metrics"]}
        outside = [o["field"] for o in args["order_by"] if o["field"] not in chosen]
        return f"order_by field(s) {outside} are not among the dimensions or metrics" if outside else None

    def hour_one_day(args: Args, today: date) -> str | None:
        if "stat_time_hour" in args["dimensions"] and args["start_time"] != args["end_time"]:
            return "stat_time_hour needs start_time = end_time"
        return None

    return EndpointContract(
        name="report/custom/get",
        method="GET",
        path="/open_api/v3.0/report/custom/get",
        version=V2,
        source=f"{CUSTOM_SOURCE}; OE-up",
        params=(
            Param(name="advertiser_id", type=Type.INT64, required=True, low=1, source=CUSTOM_SOURCE),
            Param(
                name="dimensions",
                type=Type.STRINGS,
                required=True,
                low=1,
                values=tuple(n for n, _ in CUSTOM_DIMENSIONS),
                note="the simulator serves these of BASIC_DATA's dimensions",
                source=f"{CUSTOM_SOURCE}; names: BB `marketing-api/model/report/v3/dimensions.go`",
            ),
            Param(
                name="metrics",
                type=Type.STRINGS,
                required=True,
                low=1,
                values=tuple(n for n, _ in CUSTOM_METRICS),
                note="the simulator serves these of BASIC_DATA's metrics",
                source=f"{CUSTOM_SOURCE}; names: BB `marketing-api/model/report/v3/metrics.go`",
            ),
            Param(
                name="filters",
                type=Type.OBJECTS,
                required=True,
                members=(
                    Param(name="field", type=Type.STRING, required=True, source=CUSTOM_MODEL),
                    Param(name="type", type=Type.INT64, required=True, low=1, high=3, source=CUSTOM_MODEL),
                    Param(
                        name="operator", type=Type.INT64, required=True, low=1, high=11, source=CUSTOM_MODEL
                    ),
                    Param(name="values", type=Type.STRINGS, required=True, low=1, source=CUSTOM_MODEL),
                ),
                note="`[]` for none (BB sends `[]` when empty); the simulator filters on "
                "`cdp_project_id` / `cdp_promotion_id` with operator 1 (equals) and ignores the rest",
                source=f"OE `models/model_report_custom_get_v3_0_filters_inner.go`; {CUSTOM_MODEL}",
            ),
            Param(name="start_time", type=Type.DATE, required=True, source=CUSTOM_SOURCE),
            Param(name="end_time", type=Type.DATE, required=True, source=CUSTOM_SOURCE),
            Param(
                name="order_by",
                type=Type.OBJECTS,
                required=True,
                members=(
                    Param(name="field", type=Type.STRING, required=True, source=CUSTOM_MODEL),
                    Param(
                        name="type",
                        type=Type.ENUM,
                        values=("ASC", "DESC"),
                        default="DESC",
                        source="OE `models/model_report_custom_get_v3_0_order_by_type.go`",
                    ),
                ),
                note="`[]` for none; rows keep the simulator's order (" + NO_SOURCE + ")",
                source=f"OE `models/model_report_custom_get_v3_0_order_by_inner.go`; {CUSTOM_MODEL}",
            ),
            *paging(
                page_source=CUSTOM_SOURCE,
                size_source=f"{CUSTOM_MODEL} (默认值: 20；取值范围: 1-1000)",
                size_high=CUSTOM_PAGE_SIZE_MAX,
                size_default=20,
            ),
            Param(
                name="data_topic",
                type=Type.ENUM,
                values=CUSTOM_TOPICS,
                default="BASIC_DATA",
                note="the other topics of the enum: 40001 (the simulator serves BASIC_DATA)",
                source="OE `models/model_report_custom_get_v3_0_data_topic.go`",
            ),
        ),
        rules=(
            Rule(text="start_time ≤ end_time", code=40001, source=NO_SOURCE, check=ordered),
            Rule(
                text="end_time − start_time ≤ 30 days, from 2016-10-26 on",
                code=40001,
                source=f"{CUSTOM_MODEL} (时间跨度不能超过30天)",
                check=span,
            ),
            Rule(text="one time dimension", code=40001, source=NO_SOURCE, check=one_time),
            Rule(text="stat_time_hour: one day", code=40001, source=NO_SOURCE, check=hour_one_day),
            Rule(
                text="order_by names a chosen dimension or metric",
                code=40001,
                source=f"{CUSTOM_MODEL} (字段必须在选中的metrics或dimensions中)",
                check=sortable,
            ),
        ),
        paging="`page`, `page_size` → `data.page_info {page, page_size, total_number, total_page}`; stop at "
        "`page ≥ total_page` (OE `models/model_report_custom_get_v3_0_response_data_page_info.go`)",
        records_at="data.rows",
        records=(
            Field(
                name="dimensions",
                type="object",
                source="OE `models/model_report_custom_get_v3_0_response_data_rows_inner.go`",
                note="the asked dimensions: " + ", ".join(f"`{n}` {t}" for n, t in CUSTOM_DIMENSIONS),
            ),
            Field(
                name="metrics",
                type="object",
                source="OE `models/model_report_custom_get_v3_0_response_data_rows_inner.go`",
                note="the asked metrics: " + ", ".join(f"`{n}` {t}" for n, t in CUSTOM_METRICS),
            ),
        ),
        notes=(
            "An account on the legacy platform (campaign -> ad) has no projects: its custom report "
            "answers no rows. An upgraded account's projects are the world's campaigns and its "
            "promotions the world's adgroups (this API's old \"ad\"): " + NO_SOURCE + ".",
            "Deleted projects and promotions are reported like the others: no source documents a "
            "status filter for this report (" + NO_SOURCE + ").",
            "`data.total_metrics` carries the metrics summed over every row.",
        ),
    )


def integrated_report() -> EndpointContract:
    source = "BB `marketing-api/api/report/integrated_get.go` (not in OE); legacy"
    return _get(
        "report/integrated/get",
        source,
        params=(
            Param(name="advertiser_id", type=Type.INT64, required=True, low=1, source=source),
            *date_span(source),
            Param(name="fields", type=Type.STRINGS, low=1, values=REPORT_METRICS, source=source),
            Param(
                name="group_by",
                type=Type.STRINGS,
                low=1,
                values=INTEGRATED_GROUP_BY,
                default=[STAT_TIME],
                source=source + "; the values the simulator serves: " + NO_SOURCE,
            ),
            *paging(page_source=source, size_source=source, size_high=1000, size_default=20),
            Param(
                name="filtering",
                type=Type.OBJECT,
                open=True,
                members=tuple(
                    Param(name=n, type=Type.INT64S, high=100, source=source)
                    for n in ("campaign_ids", "ad_ids", "creative_ids")
                ),
                source=source,
            ),
        ),
        rules=(ORDERED, SPAN),
        paging="`page`, `page_size` → `data.page_info`, stop at `page ≥ total_page`",
        records=(
            Field(name="dimensions", type="object", source=source),
            Field(name="metrics", type="object", source=source),
        ),
        notes=("Served for completeness; the platform does not call it.",),
    )


def refresh() -> EndpointContract:
    source = (
        "OE `api/api_oauth2_refresh_token.go:72-99`, `models/model_oauth2_refresh_token_request.go:16-20`"
    )
    model = "OE `models/model_oauth2_refresh_token_response_data.go`"
    return EndpointContract(
        name="oauth2/refresh_token",
        method="POST",
        path="/open_api/oauth2/refresh_token",
        version=UNVERSIONED,
        source=source,
        body=True,
        params=(
            Param(
                name="app_id",
                type=Type.INT64,
                required=True,
                strict_json=True,
                source=(
                    "OE `models/model_oauth2_refresh_token_request.go:16` (`*int64`); BB "
                    "`model/oauth/access_token.go` (`uint64`)"
                ),
            ),
            Param(name="secret", type=Type.STRING, required=True, source="OE `…_request.go:20`"),
            Param(name="refresh_token", type=Type.STRING, required=True, source="OE `…_request.go:18`"),
            Param(
                name="grant_type",
                type=Type.ENUM,
                values=("refresh_token",),
                codes={"not_in_enum": 40108},
                note="absent in OE's request; BB sends it; another value: 40108 (DH)",
                source="BB `marketing-api/api/oauth/refresh_token.go`; DH `StatusCode.java` (40108)",
            ),
        ),
        records_at="data",
        records=(
            Field(name="access_token", type="string", source=model),
            Field(name="expires_in", type="int64", source=model),
            Field(name="refresh_token", type="string", source=model),
            Field(name="refresh_token_expires_in", type="int64", source=model),
        ),
        notes=(
            "Every refresh issues a new pair and resets both lifetimes; the old refresh token "
            "expires (OE :55; BB "
            "`api/oauth/refresh_token.go:11-12`); the old access token dies too (" + NO_SOURCE + ").",
        ),
    )


def endpoint_contracts() -> tuple[EndpointContract, ...]:
    return (
        advertiser_select(),
        child_agent_select(),
        advertiser_info(),
        fund_get(),
        account_fund_get(),
        agent_report(),
        *(level_report(level) for level in ("advertiser", "campaign", "ad")),
        custom_report(),
        integrated_report(),
        refresh(),
    )


_TAMPER = "on request: a tamper rule's `code` (`ark_sim/tamper.py`)"
_DH = "DH `src/main/java/com/github/toutiao/sdk/support/StatusCode.java`"
CODES = (
    Code(code=0, meaning="OK", source=_DH, emitted="every good request"),
    Code(
        code=40001,
        meaning="parameter error (the message names it)",
        source=_DH,
        emitted="a bad or undeclared parameter",
    ),
    Code(
        code=40002,
        meaning="no permission for the operation",
        source=_DH,
        emitted="an id outside the token's tree",
    ),
    Code(code=40003, meaning="bad `filtering.field`", source=_DH, emitted=_TAMPER),
    Code(
        code=40100, meaning="request too frequent", source=_DH, emitted="the per-second or per-minute quota"
    ),
    Code(
        code=40101,
        meaning="illegal partner (app_id or secret)",
        source=_DH,
        emitted="a refresh with another app's id or secret",
    ),
    Code(code=40102, meaning="access token expired", source=_DH, emitted="an expired access token"),
    Code(code=40103, meaning="refresh token expired", source=_DH, emitted="an expired refresh token"),
    Code(code=40104, meaning="access token empty", source=_DH, emitted="no `Access-Token` header"),
    Code(code=40105, meaning="access token wrong", source=_DH, emitted="an unknown access token"),
    Code(code=40106, meaning="account login anomaly", source=_DH, emitted=_TAMPER),
    Code(code=40107, meaning="refresh token wrong", source=_DH, emitted="an unknown refresh token"),
    Code(
        code=40108,
        meaning="wrong grant type",
        source=_DH,
        emitted="a refresh with grant_type other than refresh_token",
    ),
    Code(code=40109, meaning="AES decryption error", source=_DH, emitted=_TAMPER),
    Code(code=40200, meaning="recharge amount too small", source=_DH, emitted=_TAMPER),
    Code(code=40201, meaning="balance insufficient", source=_DH, emitted=_TAMPER),
    Code(code=40300, meaning="advertiser not enabled", source=_DH, emitted=_TAMPER),
    Code(code=40301, meaning="advertiser blacklisted", source=_DH, emitted=_TAMPER),
    Code(code=50000, meaning="system error", source=_DH, emitted="fault `busy`"),
    Code(
        code=51007,
        meaning="material query error",
        source=NO_SOURCE + " (named by other clients, in no SDK above)",
        emitted=_TAMPER,
    ),
    Code(
        code=61002,
        meaning="the developer's daily call limit",
        source=NO_SOURCE + " (named by other clients, in no SDK above)",
        emitted="the daily quota",
    ),
    Code(
        code=61003,
        meaning="restricted across same-subject accounts",
        source=NO_SOURCE + " (named by other clients, in no SDK above)",
        emitted=_TAMPER,
    ),
)
MEANINGS = {c.code: c.meaning for c in CODES}
QUOTA = (
    Row(
        point="quota header",
        value="none: no SDK reads or documents one",
        source="OE, BB (grep: no RateLimit)",
    ),
    Row(point="throttle", value="body code 40100", source=_DH),
    Row(point="daily cap", value="body code 61002", source=NO_SOURCE + " (as code 61002 above)"),
    Row(point="limits", value="`[media.<m>.quota]` in sim.toml", source=NO_SOURCE),
)
