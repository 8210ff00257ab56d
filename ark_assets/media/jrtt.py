"""Toutiao / Ocean Engine Marketing API: everything the platform knows about jrtt.

Two kinds of advertiser account, read side by side: a legacy account's ads (campaign -> ad) are
reported by the v2 `report/campaign|ad/get`, which leave deleted entities out unless the
filter asks for all of them (bububa/oceanengine `marketing-api/api/report/ad_get.go`: 默认不获取
删除广告计划数据 ... AD_STATUS_ALL); an account on the upgraded platform (巨量广告升级版: project ->
promotion) is read through `/open_api/v3.0/report/custom/get/` (oceanengine/ad_open_sdk_go
`api/api_report_custom_get_v30.go`), whose dimensions and metrics come from bububa's
`model/report/v3/`. Every account is asked both ways; a legacy account's custom report and an
upgraded account's campaign and ad reports answer no rows. The one API version is "v2", as the
official SDK generates v2 and v3.0 endpoints side by side.

Quirks that matter (docs/media/jrtt.md): the token travels in an `Access-Token` header;
errors, throttles included, are HTTP 200 with a body code; there is no quota header, so the
rate is learnt from `40100` answers; ids are int64 beyond float precision; money is float yuan;
agents come in two tiers: a first-tier agent's own accounts are listed with
`agent/advertiser/select` plus their details, a second-tier agent's through the agent report.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from ark_assets.core.tiers import AgentTier
from ark_assets.media import errors as e
from ark_assets.media.api import ApiSpec, AuthStyle, EndpointSpec, Paging, RefreshSpec, code_table, endpoints
from ark_assets.media.bulk import Activity, ReportFamilies
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
from ark_assets.media.retention import Retention
from ark_assets.media.token_life import TokenLife

CODES: dict[int, type[e.MediaApiError]] = {
    40100: e.Throttled,
    61002: e.DailyQuotaExhausted,
    40102: e.TokenExpired,
    **dict.fromkeys((40104, 40105, 40106), e.TokenInvalid),
    **dict.fromkeys((40101, 40103, 40107, 40108, 40109), e.RefreshFailed),
    **dict.fromkeys((40002, 40300, 40301, 61003), e.PermissionDenied),
    **dict.fromkeys((40001, 40003, 40200, 40201), e.BadRequest),
    **dict.fromkeys((50000, 51007), e.TransientServerError),
}


def refresh_body(app_id: str, secret: str, refresh_token: str) -> dict[str, Any]:
    """The body the official SDK sends (OE `model_oauth2_refresh_token_request.go`): `app_id` an
    int64 JSON number, no `grant_type`."""
    if not app_id.isdigit():
        raise ValueError(f"the jrtt app id must be an integer (int64), got {app_id!r}")
    return {"app_id": int(app_id), "secret": secret, "refresh_token": refresh_token}


def ocean_day(day: date) -> dict[str, Any]:
    """`start_date` = `end_date` = the day."""
    return {"start_date": day.isoformat(), "end_date": day.isoformat()}


REPORT_PAGE_SIZE = 1000
FUND_BATCH = 50  # account ids per account/fund/get call (the official SDK's maximum)
# the agent report lists every advertiser of an agent with its day's totals, spending or not
# (OE `models/model_report_agent_get_v2_v2_response_data_list_inner.go`): the activity signal
ACTIVITY = Activity(
    endpoint="report/agent/get_v2",
    id_field="advertiser_id",
    params=ocean_day,
    fields=("show", "click", "cost"),
)
# Ocean Engine states no rolling retention for its reports, only the first day they serve (and a
# query span of 30 days at most, which one-day partitions never reach)
REPORT_RETENTION = Retention(
    earliest=date(2016, 10, 26),
    source="bububa/oceanengine marketing-api/model/report/get_request.go and model/report/v3/custom_get.go "
    "(只支持查询2016-10-26及以后的日期)",
)


def _report_endpoint(level: str) -> EndpointSpec:
    return EndpointSpec(
        name=f"report/{level}/get",
        path=f"/open_api/2/report/{level}/get/",
        source_param="advertiser_id",
        paging=Paging.PAGE,
        page_size=REPORT_PAGE_SIZE,
        retention=REPORT_RETENTION,
    )


# the status that keeps deleted (and paused) entities in a v2 report (bububa api/report/*_get.go:12)
STATUS_ALL = {"campaign": "CAMPAIGN_STATUS_ALL", "ad": "AD_STATUS_ALL"}
# the custom report's dimensions per level and the metrics asked (bububa model/report/v3/)
CUSTOM_DIMENSIONS = {
    "project": ("stat_time_day", "cdp_project_id", "cdp_project_name"),
    "promotion": ("stat_time_day", "cdp_project_id", "cdp_promotion_id", "cdp_promotion_name"),
}
CUSTOM_METRICS = (
    "stat_cost",
    "show_cnt",
    "click_cnt",
    "ctr",
    "cpm_platform",
    "cpc_platform",
    "convert_cnt",
    "conversion_cost",
    "conversion_rate",
    "active",
    "download_finish_cnt",
    "deep_convert_cnt",
)


API = ApiSpec(
    media="jrtt",
    version="v2",  # the one version: /open_api/2/ (and v3.0's custom report, as the SDK has it)
    auth=AuthStyle.HEADER,
    code_key="code",
    message_key="message",
    trace_key="request_id",
    translate_code=code_table(CODES, e.UnknownCode),
    refresh=RefreshSpec(
        path="/open_api/oauth2/refresh_token/",
        method="POST",
        build=refresh_body,
        # access 1 day, refresh 30 days, both reset by every refresh (the answer's expires_in and
        # refresh_token_expires_in: oceanengine/ad_open_sdk_go
        # models/model_oauth2_refresh_token_response_data.go)
        life=TokenLife(
            access_s=86_400,
            refresh_s=30 * 86_400,
            access_field="expires_in",
            source="bububa/oceanengine marketing-api/api/oauth/refresh_token.go "
            "(Access_Token有效期(默认1天), Refresh_Token有效期是30天)",
        ),
    ),
    endpoints=endpoints(
        EndpointSpec(
            name="agent/advertiser/select",
            path="/open_api/2/agent/advertiser/select/",
            source_param="advertiser_id",
            paging=Paging.CURSOR,
            page_size=1000,
            page_size_param="count",
        ),
        # `data.child_agent_ids` is a list of bare ids
        EndpointSpec(
            name="agent/child_agent/select",
            path="/open_api/2/agent/child_agent/select/",
            source_param="advertiser_id",
            paging=Paging.PAGE,
            page_size=100,
            records="child_agent_ids",
        ),
        # a source here is a batch of up to 100 advertiser ids, sent as int64 JSON numbers (OE
        # `[]int64`); `data` is the array of records
        EndpointSpec(
            name="advertiser/info",
            path="/open_api/2/advertiser/info/",
            source_param="advertiser_ids",
            records="",
            source_int64=True,
        ),
        # `data` is one object per advertiser
        EndpointSpec(
            name="advertiser/fund/get",
            path="/open_api/2/advertiser/fund/get/",
            source_param="advertiser_id",
            records="",
        ),
        # v3.0's balances of up to 50 accounts per call (OE `api/api_account_fund_get_v30.go`: 1-50
        # `[]int64`; BB's comment says 20): one record per account, `data.list`
        EndpointSpec(
            name="account/fund/get",
            path="/open_api/v3.0/account/fund/get/",
            source_param="account_ids",
            source_int64=True,
            fixed_params={"account_type": "AD"},
        ),
        EndpointSpec(
            name="report/agent/get_v2",
            path="/open_api/2/report/agent/get_v2/",
            source_param="agent_id",
            paging=Paging.CURSOR,
            page_size=100,
            page_size_param="cursor_size",
            cursor_info="cursor_info",
        ),
        *(_report_endpoint(level) for level in ("advertiser", "campaign", "ad")),
        # rows are `{dimensions, metrics}` objects under `data.rows`; page_size 1-1000 (bububa
        # model/report/v3/custom_get.go)
        EndpointSpec(
            name="report/custom/get",
            path="/open_api/v3.0/report/custom/get/",
            source_param="advertiser_id",
            paging=Paging.PAGE,
            page_size=REPORT_PAGE_SIZE,
            records="rows",
            fixed_params={"data_topic": "BASIC_DATA", "filters": [], "order_by": []},
            retention=REPORT_RETENTION,
        ),
    ),
)


# ----- assets: what Ark Assets materializes from jrtt, and where it stores it

FIRST, SECOND = AgentTier.FIRST, AgentTier.SECOND
UPSTREAM = ("advertisers_first_tier", "advertisers_second_tier")


def _report(level: str) -> AccountDataset:
    """A v2 report of a legacy account's `level`, deleted entities included."""

    def params(day: date) -> dict[str, Any]:
        status = {"filtering": {"status": STATUS_ALL[level]}} if level in STATUS_ALL else {}
        return {**ocean_day(day), **status}

    return AccountDataset(
        name=f"report_{level}",
        dataset=f"report_{level}_v2",
        endpoint=f"report/{level}/get",
        shape=RowShape.RECORDS_PER_ACCOUNT,
        upstream=UPSTREAM,
        params=params,
        activity=True,
        detail_of="report_campaign" if level == "ad" else "",
    )


def _custom_report(level: str) -> AccountDataset:
    """An upgraded account's daily `level` (project / promotion) through the custom report."""

    def params(day: date) -> dict[str, Any]:
        return {
            "dimensions": list(CUSTOM_DIMENSIONS[level]),
            "metrics": list(CUSTOM_METRICS),
            "start_time": day.isoformat(),
            "end_time": day.isoformat(),
        }

    return AccountDataset(
        name=f"report_{level}",
        dataset=f"report_{level}_v3",
        endpoint="report/custom/get",
        shape=RowShape.RECORDS_PER_ACCOUNT,
        upstream=UPSTREAM,
        params=params,
        activity=True,
        detail_of="report_project" if level == "promotion" else "",
    )


# a legacy account reports in campaign -> ad, an upgraded one in project -> promotion, and the
# account level (report/advertiser/get) covers both: an account is asked the family it had rows in
# last time, the other only when that one's rows fall short of the account's show, click and cost
V2_TOTALS = ("show", "click", "cost")
FAMILIES = ReportFamilies(
    account_level="report_advertiser",
    tops=("report_campaign", "report_project"),
    totals={
        "report_advertiser": V2_TOTALS,
        "report_campaign": V2_TOTALS,
        "report_project": ("metrics.show_cnt", "metrics.click_cnt", "metrics.stat_cost"),
    },
    memory="jrtt_report_family_{family}_{tenant}",
)

MEDIA = MediaDefinition(
    name="jrtt",
    title="Toutiao / Ocean Engine",
    platform_id=3,
    api=API,
    redis=RedisKeys(
        tokens="jrtt_new_access_token_{tenant}",
        refresh_tokens="jrtt_refresh_token_{tenant}",
        # all agents in one key and each tier in its own; account lists exist per tier only
        agents={
            None: "jrtt_agents_v2_{tenant}",
            FIRST: "jrtt_one_agents_v2_{tenant}",
            SECOND: "jrtt_child_agents_v2_{tenant}",
        },
        accounts={
            FIRST: "jrtt_accounts_v2_{tenant}_{yyyymmdd}",
            SECOND: "jrtt_child_advertiser_v2_{tenant}_{yyyymmdd}",
        },
    ),
    app=MediaApp(app_id="1700000000001", secret="jrtt-secret"),
    assets=MediaAssets(
        agent_lists=(
            AgentList(name="agents_first_tier", dataset="agent_list_first_tier", tier=FIRST),
            AgentList(name="agents_second_tier", dataset="agent_list_second_tier", tier=SECOND),
        ),
        account_lists=(
            # first tier: the agent's own accounts, then their details (the seed's "next job" account_list)
            AccountList(
                name="advertisers_first_tier",
                agents="agents_first_tier",
                endpoint="agent/advertiser/select",
                account_field="id",
                dataset="advertiser_info_v2",
                by_agent_id=True,
                tier=FIRST,
                details_endpoint="advertiser/info",
            ),
            # second tier: accounts come through the agent report (the seed's DailyReportAgent)
            AccountList(
                name="advertisers_second_tier",
                agents="agents_second_tier",
                endpoint="report/agent/get_v2",
                account_field="advertiser_id",
                dataset="agent_report_v2",
                by_agent_id=True,
                params=ocean_day,
                tier=SECOND,
            ),
        ),
        datasets=(
            # batches of an agent's accounts; the v3.0 record (int64 money) is a table of its own, not
            # mixed into the v2 table's float-yuan records (docs/media/jrtt.md)
            AccountDataset(
                name="funds",
                dataset="account_fund_get_v3",
                endpoint="account/fund/get",
                shape=RowShape.PER_RECORD_ACCOUNT,
                upstream=UPSTREAM,
                group="funds",
                id_field="account_id",
                money_fields=("balance",),
                batch=FUND_BATCH,
                intraday=True,
            ),
            *(_report(level) for level in ("advertiser", "campaign", "ad")),
            *(_custom_report(level) for level in ("project", "promotion")),
        ),
        activity=ACTIVITY,
        families=FAMILIES,
    ),
    docs="docs/media/jrtt.md",
    owners=("team:ads-oceanengine",),
)
