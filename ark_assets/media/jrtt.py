"""Toutiao / Ocean Engine Marketing API: conventions, endpoints and codes.

Quirks that matter (see docs/media/jrtt.md): the token travels in an `Access-Token` header;
errors, throttles included, are HTTP 200 with a body code; there is no quota header, so the
rate is learnt from `40100` answers; ids are int64 beyond float precision; money is float yuan;
second-tier agents' accounts are listed through the agent report.
"""

from __future__ import annotations

from ark_assets.assets.catalog import AccountDataset, AccountList, AgentList, MediaAssets, RowShape, ocean_day
from ark_assets.fetch import errors as e
from ark_assets.media import Media
from ark_assets.media.spec import AuthStyle, EndpointSpec, MediaSpec, Paging, RefreshSpec
from ark_assets.resources.redis_keys import AgentTier

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


def translate_code(code: int, message: str) -> type[e.MediaApiError] | None:
    """None for success; the error class for a known code; UnknownCode for any other."""
    if code == 0:
        return None
    return CODES.get(code, e.UnknownCode)


def refresh_body(app_id: str, secret: str, refresh_token: str) -> dict[str, str]:
    return {"app_id": app_id, "secret": secret, "grant_type": "refresh_token", "refresh_token": refresh_token}


REPORT_PAGE_SIZE = 1000

SPEC = MediaSpec(
    media=Media.JRTT,
    auth=AuthStyle.HEADER,
    code_key="code",
    message_key="message",
    trace_key="request_id",
    quota_header=False,
    translate_code=translate_code,
    refresh=RefreshSpec(path="/open_api/oauth2/refresh_token/", method="POST", build=refresh_body),
    endpoints={
        spec.name: spec
        for spec in (
            EndpointSpec(
                "agent/advertiser/select",
                "/open_api/2/agent/advertiser/select/",
                "advertiser_id",
                Paging.CURSOR,
                1000,
                page_size_param="count",
            ),
            EndpointSpec(
                "agent/child_agent/select",
                "/open_api/2/agent/child_agent/select/",
                "advertiser_id",
                Paging.PAGE,
                100,
                records="child_agent_ids",
            ),
            # a source here is a batch of up to 100 advertiser ids; `data` is the array of records
            EndpointSpec("advertiser/info", "/open_api/2/advertiser/info/", "advertiser_ids", records=""),
            # `data` is one object per advertiser
            EndpointSpec(
                "advertiser/fund/get", "/open_api/2/advertiser/fund/get/", "advertiser_id", records=""
            ),
            EndpointSpec(
                "report/agent/get_v2",
                "/open_api/2/report/agent/get_v2/",
                "agent_id",
                Paging.CURSOR,
                100,
                page_size_param="cursor_size",
                cursor_info="cursor_info",
            ),
            EndpointSpec(
                "report/advertiser/get",
                "/open_api/2/report/advertiser/get/",
                "advertiser_id",
                Paging.PAGE,
                REPORT_PAGE_SIZE,
            ),
            EndpointSpec(
                "report/campaign/get",
                "/open_api/2/report/campaign/get/",
                "advertiser_id",
                Paging.PAGE,
                REPORT_PAGE_SIZE,
            ),
            EndpointSpec(
                "report/ad/get", "/open_api/2/report/ad/get/", "advertiser_id", Paging.PAGE, REPORT_PAGE_SIZE
            ),
            EndpointSpec(
                "report/integrated/get",
                "/open_api/2/report/integrated/get/",
                "advertiser_id",
                Paging.PAGE,
                REPORT_PAGE_SIZE,
            ),
        )
    },
)


# ----- assets: what Ark Assets materializes from jrtt, and where it stores it

FIRST, SECOND = AgentTier.FIRST, AgentTier.SECOND
UPSTREAM = ("advertisers_first_tier", "advertisers_second_tier")


def _report(level: str) -> AccountDataset:
    return AccountDataset(
        f"report_{level}",
        f"report_{level}_v2",
        f"report/{level}/get",
        RowShape.RECORDS_PER_ACCOUNT,
        UPSTREAM,
        params=ocean_day,
    )


ASSETS = MediaAssets(
    agent_lists=(
        AgentList("agents_first_tier", "agent_list_first_tier", FIRST),
        AgentList("agents_second_tier", "agent_list_second_tier", SECOND),
    ),
    account_lists=(
        # first tier: the agent's own accounts, then their details (the seed's "next job" account_list)
        AccountList(
            "advertisers_first_tier",
            "agents_first_tier",
            "agent/advertiser/select",
            "id",
            "advertiser_info_v2",
            by_agent_id=True,
            tier=FIRST,
            details_endpoint="advertiser/info",
        ),
        # second tier: accounts come through the agent report (the seed's DailyReportAgent)
        AccountList(
            "advertisers_second_tier",
            "agents_second_tier",
            "report/agent/get_v2",
            "advertiser_id",
            "agent_report_v2",
            by_agent_id=True,
            params=ocean_day,
            tier=SECOND,
        ),
    ),
    datasets=(
        AccountDataset(
            "funds",
            "advertiser_fund_get_v2",
            "advertiser/fund/get",
            RowShape.ONE_PER_ACCOUNT,
            UPSTREAM,
            group="funds",
            id_field="advertiser_id",
            money_fields=("balance",),
        ),
        *(_report(level) for level in ("advertiser", "campaign", "ad")),
    ),
)
