"""A fourth media, declared in this one module as a media module of `ark_assets/media/` would be.

"toy" is nobody's real API: a page-numbered account listing and a one-object balance endpoint,
bearer-style header auth, its own body codes, Redis key formats and app. `test_fourth_media.py`
shows that registering this declaration is all the platform needs to build its assets, check
them, configure its resources and fetch it with the engine.
"""

from __future__ import annotations

from ark_assets.media import errors as e
from ark_assets.media.api import ApiSpec, AuthStyle, EndpointSpec, Paging, RefreshSpec, code_table, endpoints
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

CODES = {429: e.Throttled, 401: e.TokenExpired, 403: e.PermissionDenied, 500: e.TransientServerError}


def refresh_body(app_id: str, secret: str, refresh_token: str) -> dict[str, object]:
    return {"app": int(app_id), "secret": secret, "refresh": refresh_token}


MEDIA = MediaDefinition(
    name="toy",
    title="Toy ads (a test's fourth media)",
    platform_id=99,
    api=ApiSpec(
        media="toy",
        auth=AuthStyle.HEADER,
        code_key="status",
        message_key="reason",
        trace_key="trace",
        translate_code=code_table(CODES, e.UnknownCode),
        refresh=RefreshSpec(path="/oauth/refresh", method="POST", build=refresh_body),
        endpoints=endpoints(
            EndpointSpec(
                name="accounts/list",
                path="/accounts/list",
                source_param="agent",
                paging=Paging.PAGE,
                page_size=2,
                records="accounts",
            ),
            EndpointSpec(name="balance/get", path="/balance/get", source_param="account", records=""),
        ),
    ),
    redis=RedisKeys(
        tokens="toy_tokens_{tenant}",
        refresh_tokens="toy_refresh_{tenant}",
        agents={None: "toy_agents_{tenant}"},
        accounts={None: "toy_accounts_{tenant}_{yyyymmdd}"},
    ),
    app=MediaApp(app_id="77", secret="toy-secret"),
    assets=MediaAssets(
        agent_lists=(AgentList(),),
        account_lists=(
            AccountList(
                name="advertisers",
                agents="agents",
                endpoint="accounts/list",
                account_field="account_id",
                dataset="accounts_v1",
                by_agent_id=True,
            ),
        ),
        datasets=(
            AccountDataset(
                name="funds",
                dataset="balance_v1",
                endpoint="balance/get",
                shape=RowShape.ONE_PER_ACCOUNT,
                upstream=("advertisers",),
                id_field="account_id",
                money_fields=("balance",),
                group="funds",
            ),
        ),
    ),
)
