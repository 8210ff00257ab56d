"""gdt: the Tencent Marketing API v1.1 as the simulator serves it (wx reuses most of it, see wx.py).

Conventions (research §1): query parameters `access_token`, `timestamp`, `nonce` on every call,
structured values JSON-encoded; envelope `{code, message, message_cn, data}` with `data` only on
success and `trace_id` on errors; errors are HTTP 200; money in integer fen; every response
carries `X-TSA-Trace-Id` and `X-RateLimit-Remaining: <day%>,<minute%>`.

Also gdt's world (agents and 8-11 digit accounts, site sets, fund types), the seed's Redis keys
and HBase tables for it, and how a client signs a request (`tencent_sign`): `MEDIA` at the end.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from pydantic import Field

from ark_sim.common import (
    ApiError,
    Incoming,
    Outgoing,
    ParamCodes,
    Params,
    as_int,
    dumps,
    group_atoms,
    page_info,
    page_slice,
    parse_day,
    project,
    query_value,
    ratio,
    sum_metrics,
)
from ark_sim.config import ProfileConfig, StrictModel
from ark_sim.faults import Fault, FaultKind, mistype, pad, truncate
from ark_sim.profiles import (
    Account,
    Agent,
    Ids,
    MediaRoster,
    active_states,
    company_name,
    inactive_states,
    split,
    stable_hash,
)
from ark_sim.quota import Exhausted
from ark_sim.spec import AccountKey, AgentKey, MediaSpec, Records, Rows, Table, WorldSpec
from ark_sim.state import SimState
from ark_sim.tokens import Grant, TokenState
from ark_sim.world import DEFAULT_TIME_LINE, METRICS, World, atom_records, fund_records

NAME = "gdt"
TIME_LINES = (DEFAULT_TIME_LINE, "REPORTING_TIME", "ACTIVE_TIME")

# code -> (message, message_cn). Codes and meanings from research §1.3; the texts are ours except
# 11017's English text, which is the vendor's.
MESSAGES: dict[int, tuple[str, str]] = {
    0: ("", ""),
    10000: ("System busy, please retry later.", "系统繁忙，请稍后重试"),
    11000: ("Access token expired.", "access_token 已过期"),
    11002: ("Access token is invalid.", "access_token 不合法"),
    11005: ("Access token is empty.", "access_token 为空"),
    11007: ("client_id or client_secret is invalid.", "client_id 或 client_secret 不合法"),
    11010: ("refresh_token is invalid.", "refresh_token 不合法"),
    11011: ("authorization_code is invalid.", "authorization_code 不合法"),
    11012: ("refresh_token expired.", "refresh_token 已过期"),
    11016: ("Application has reached the request limit per second.", "应用请求已达秒级频次上限"),
    11017: ("Application has reached the request limit per minute.", "应用请求已达分钟频次上限，请稍后重试"),
    11018: ("Application has reached the request limit per day.", "应用请求已达每日频次上限"),
    12000: ("Missing global parameter access_token, timestamp or nonce.", "缺少全局参数"),
    12003: ("Invalid JSON in a parameter.", "参数 JSON 格式错误"),
    12007: ("API or method not found.", "接口或方法不存在"),
    12008: ("fields must be a JSON array.", "fields 必须为数组"),
    12009: ("Invalid field in fields.", "fields 中存在不合法的字段"),
    12100: ("nonce has already been used.", "nonce 已被使用"),
    12101: ("timestamp has expired.", "timestamp 已过期"),
    12201: ("account_id is invalid.", "account_id 不合法"),
    12203: ("No permission to operate this account_id.", "无权操作该 account_id"),
    18001: ("Missing required parameter.", "缺少必填参数"),
    18002: ("Parameter has the wrong type.", "参数类型错误"),
    18003: ("Parameter value is above the maximum.", "参数值超过最大值"),
    18004: ("Parameter value is below the minimum.", "参数值小于最小值"),
    18009: ("Parameter value is not in the enumeration.", "参数值不在枚举范围内"),
    31057: ("Invalid date range.", "日期范围不合法"),
}
THROTTLE_CODES = {Exhausted.SECOND: 11016, Exhausted.MINUTE: 11017, Exhausted.DAY: 11018}
BUSY_CODE = 10000
PARAM_CODES = ParamCodes(
    missing=18001, wrong_type=18002, above_max=18003, below_min=18004, bad_json=12003, not_in_enum=18009
)
NONCE_MAX = 32
HOURLY_LOOKBACK_DAYS = 90
REPORT_PAGE_SIZE_MAX = 1000
REPORT_ROWS_MAX = 10_000  # page * page_size
ADVERTISER_NORMAL_ROWS = 1000  # normal pagination mode covers only the first 1000 sub-customers

# Allowed group_by per level (research §1.2, v1.x): daily and hourly.
GROUP_BY = {
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
# Dimension fields a level can show, besides date/hour and account_id.
_ADGROUP_DIMENSIONS = (
    "campaign_id",
    "campaign_name",
    "adgroup_id",
    "adgroup_name",
    "site_set",
    "promoted_object_type",
    "promoted_object_id",
)
LEVEL_DIMENSIONS = {
    "ADVERTISER": (),
    "CAMPAIGN": ("campaign_id", "campaign_name"),
    "ADGROUP": _ADGROUP_DIMENSIONS,
    "AD": (*_ADGROUP_DIMENSIONS, "ad_id", "ad_name"),
    "PROMOTED_OBJECT": ("promoted_object_type", "promoted_object_id"),
}
# A dimension appears in a row only when the row's group_by determines it.
DETERMINED_BY = {
    "date": {"date"},
    "hour": {"hour"},
    "campaign_id": {"campaign_id", "adgroup_id", "ad_id"},
    "campaign_name": {"campaign_id", "adgroup_id", "ad_id"},
    "adgroup_id": {"adgroup_id", "ad_id"},
    "adgroup_name": {"adgroup_id", "ad_id"},
    "ad_id": {"ad_id"},
    "ad_name": {"ad_id"},
    "site_set": {"site_set"},
    "promoted_object_type": {"promoted_object_type", "adgroup_id", "ad_id"},
    "promoted_object_id": {"promoted_object_id", "adgroup_id", "ad_id"},
}
# v1.1 metric names, their v1.3 aliases, and derived ratios.
REPORT_METRICS = (
    *METRICS,
    "view_count",
    "valid_click_count",
    "conversions_count",
    "download_count",
    "activated_count",
    "ctr",
    "cpc",
    "thousand_display_price",
    "conversions_cost",
)
_ALIASES = {
    "view_count": "impression",
    "valid_click_count": "click",
    "conversions_count": "conversion",
    "download_count": "download",
    "activated_count": "activation",
}
DEFAULT_METRICS = ("impression", "click", "cost", "conversion")
FILTER_FIELDS = (
    "campaign_id",
    "adgroup_id",
    "ad_id",
    "site_set",
    "promoted_object_type",
    "promoted_object_id",
)
ADVERTISER_FIELDS = (
    "account_id",
    "corporation_name",
    "system_status",
    "daily_budget",
    "agency_account_id",
    "system_industry_id",
)
FUND_FIELDS = ("fund_type", "balance", "fund_status", "realtime_cost", "credit_roll_spec")


@dataclass
class Call:
    """One authenticated request inside a handler."""

    state: SimState
    media: str
    params: Params
    grant: Grant | None = None
    account: Account | None = None  # the account_id's account, when the endpoint takes one
    agency_self: bool = False  # account_id named the token's own agency

    @property
    def tenant(self) -> str:
        assert self.grant is not None
        return self.grant.tenant


@dataclass(frozen=True)
class Endpoint:
    """One API: its quota/counter name, handler, how it uses `account_id`, what records it answers."""

    name: str
    handler: Callable[[TencentApi, Call], dict]
    account: str | None = None  # "required" / "optional" / None (no account_id parameter)
    agency_ok: bool = False  # account_id may be the token's own agency id
    authenticated: bool = True  # False: oauth, which authenticates with client_id/secret
    records: Records | None = None  # an account's data: how many records it answers for a day


@dataclass
class TencentApi:
    """The Tencent conventions, shared by gdt and wx; each media supplies its paths and levels."""

    media: str
    endpoints: dict[str, Endpoint]
    levels: dict[str, str]  # request level name -> base level (ADVERTISER, CAMPAIGN, ...)
    fund_fields: tuple[str, ...] = FUND_FIELDS

    # -- the request pipeline -----------------------------------------------------------------------

    def handle(self, state: SimState, incoming: Incoming, fault: Fault | None) -> tuple[str, Outgoing]:
        """Answer one request; returns the endpoint name (for counters) and the response."""
        trace_id = uuid.uuid4().hex
        endpoint = self.endpoints.get(incoming.path.rstrip("/"))
        throttled = False
        if endpoint is None or incoming.method != "GET":
            name = endpoint.name if endpoint else "unknown"
            header = "100%,100%"
            body = self._error(ApiError(12007, f"no API {incoming.method} {incoming.path}"), trace_id)
        else:
            name = endpoint.name
            decision = state.quotas.acquire(self.media, state.app_id(self.media), name)
            header = decision.header
            if not decision.allowed:
                throttled = True
                code = THROTTLE_CODES[decision.exhausted]
                body = self._error(ApiError(code, MESSAGES[code][0]), trace_id)
            elif fault is not None and fault.kind is FaultKind.BUSY:
                body = self._error(ApiError(BUSY_CODE, MESSAGES[BUSY_CODE][0]), trace_id)
            else:
                body = self._run(state, incoming, endpoint, trace_id)
        outcome = str(body["code"])
        if body["code"] == 0 and (kib := state.faults.huge_page_kb(self.media)):
            body = pad(body, kib)
        if body["code"] == 0 and fault is not None and fault.kind is FaultKind.WRONG_TYPES:
            body, outcome = mistype(body, fault.variant), "wrong_types"
        raw = dumps(body)
        if fault is not None and fault.kind is FaultKind.MALFORMED:
            raw, outcome = truncate(raw), "malformed"
        headers = {"X-TSA-Trace-Id": trace_id, "X-RateLimit-Remaining": header}
        return name, Outgoing(200, raw, outcome, headers, throttled=throttled)

    def _run(self, state: SimState, incoming: Incoming, endpoint: Endpoint, trace_id: str) -> dict:
        call = Call(state, self.media, Params(incoming.query, PARAM_CODES))
        try:
            if endpoint.authenticated:
                call.grant = self._authenticate(call)
                self._resolve_account(call, endpoint)
            data = endpoint.handler(self, call)
        except ApiError as exc:
            return self._error(exc, trace_id)
        return {"code": 0, "message": "", "message_cn": "", "data": data}

    def _error(self, exc: ApiError, trace_id: str) -> dict:
        message, message_cn = MESSAGES.get(exc.code, (exc.message, exc.message))
        return {
            "code": exc.code,
            "message": exc.message or message,
            "message_cn": message_cn,
            "trace_id": trace_id,
        }

    def _authenticate(self, call: Call) -> Grant:
        """The vendor's checks in their order (research §4.1); the account check follows."""
        query = call.params.values
        missing = [
            name
            for name in ("access_token", "timestamp", "nonce")
            if name not in query or (name != "access_token" and query[name] == "")
        ]
        if missing:
            raise ApiError(12000, f"missing global parameter(s) {', '.join(missing)}")
        token = query["access_token"]
        if token == "":
            raise ApiError(11005, MESSAGES[11005][0])
        state, grant = call.state.access(self.media, token)
        if state is TokenState.UNKNOWN:
            raise ApiError(11002, MESSAGES[11002][0])
        if state is TokenState.EXPIRED:
            raise ApiError(11000, MESSAGES[11000][0])
        assert grant is not None
        now = call.state.clock.now()
        stamp = as_int(query["timestamp"])
        skew = call.state.config.timestamp_skew_s
        if stamp is None or abs(now - stamp) > skew:
            raise ApiError(12101, f"timestamp {query['timestamp']!r} is over {skew:g} s off the server's")
        nonce = query["nonce"]
        if len(nonce) > NONCE_MAX:
            raise ApiError(18003, f"nonce is longer than {NONCE_MAX} characters")
        if not call.state.nonces.use(self.media, nonce, now):
            raise ApiError(12100, MESSAGES[12100][0])
        return grant

    def _resolve_account(self, call: Call, endpoint: Endpoint) -> None:
        if endpoint.account is None:
            return
        raw = call.params.values.get("account_id")
        if raw is None or raw == "":
            if endpoint.account == "required":
                raise ApiError(18001, "missing required parameter account_id")
            return
        account_id = as_int(raw)
        if account_id is None or account_id <= 0:
            raise ApiError(12201, f"account_id {raw!r} is invalid")
        world, grant = call.state.world, call.grant
        assert grant is not None
        if account_id == grant.agent_id:
            if not endpoint.agency_ok:
                raise ApiError(12201, f"account_id {account_id} is an agency; this API takes advertisers")
            call.agency_self = True
            return
        account = world.find_account(self.media, grant.tenant, account_id)
        if account is None:
            if endpoint.agency_ok and world.find_agent(self.media, grant.tenant, account_id) is not None:
                raise ApiError(12203, f"no permission to operate account_id {account_id}")
            raise ApiError(12201, f"account_id {account_id} is invalid")
        if account.agent_id != grant.agent_id:
            raise ApiError(12203, f"no permission to operate account_id {account_id}")
        call.account = account

    # -- shared parameter handling ------------------------------------------------------------------

    def fields(self, call: Call, allowed: tuple[str, ...], default: tuple[str, ...]) -> tuple[str, ...]:
        """The requested `fields` (a JSON array; 12008 otherwise), each one known (12009 otherwise)."""
        raw = call.params.values.get("fields")
        if raw is None or raw == "":
            return default
        try:
            value = json.loads(raw)
        except ValueError:
            raise ApiError(12008, "fields must be a JSON array of field names") from None
        if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
            raise ApiError(12008, "fields must be a non-empty JSON array of field names")
        unknown = [v for v in value if v not in allowed]
        if unknown:
            raise ApiError(12009, f"invalid field(s) {unknown}")
        return tuple(dict.fromkeys(value))


# -- handlers ---------------------------------------------------------------------------------------


def advertiser_get(api: TencentApi, call: Call) -> dict:
    """An agency's sub-customers (or one advertiser with account_id); normal or cursor pagination."""
    p = call.params
    mode = p.choice(
        "pagination_mode", ("PAGINATION_MODE_NORMAL", "PAGINATION_MODE_CURSOR"), "PAGINATION_MODE_NORMAL"
    )
    fields = api.fields(call, ADVERTISER_FIELDS, ADVERTISER_FIELDS)
    world = call.state.world
    if call.account is not None:
        accounts = [call.account]
    else:
        accounts = world.agent_accounts(api.media, call.tenant, call.grant.agent_id)
    rows = [_advertiser_item(call, a) for a in accounts]
    rows = [r for r in rows if _matches_name_filter(p, r)]
    if mode == "PAGINATION_MODE_CURSOR":
        page_size = p.integer("page_size", 10, low=1, high=100)
        cursor = p.integer("cursor", 0, low=0)
        chunk = rows[cursor : cursor + page_size]
        after = cursor + len(chunk)
        has_more = after < len(rows)
        if call.state.faults.cursor_loop(api.media):  # a broken cursor: always the first page's
            after, has_more = len(rows[:page_size]), True
        return {
            "list": [project(r, fields) for r in chunk],
            "cursor_page_info": {
                "page_size": page_size,
                "total_number": len(rows),
                "has_more": has_more,
                "cursor": after,
            },
        }
    page = p.integer("page", 1, low=1, high=1000)
    page_size = p.integer("page_size", 10, low=1, high=100)
    visible = rows[:ADVERTISER_NORMAL_ROWS]
    return {
        "list": [project(r, fields) for r in visible[page_slice(page, page_size)]],
        "page_info": page_info(page, page_size, len(rows)),
    }


def _advertiser_item(call: Call, account: Account) -> dict:
    info = call.state.world.account_info(account.media, account.account_id)
    return {
        "account_id": account.account_id,
        "corporation_name": info.company,
        "system_status": info.system_status,
        "daily_budget": info.daily_budget,
        "agency_account_id": account.agent_id,
        "system_industry_id": info.industry_id,
    }


def _matches_name_filter(p: Params, row: dict) -> bool:
    """`filtering` on corporation_name with EQUALS / CONTAINS, the one filter the API documents."""
    filters = p.structured("filtering", [])
    if not isinstance(filters, list):
        raise ApiError(18002, "filtering must be a JSON array")
    for item in filters:
        if not isinstance(item, dict) or item.get("field") != "corporation_name":
            raise ApiError(18009, "advertiser/get filters on corporation_name only")
        values = item.get("values") or []
        operator = item.get("operator")
        name = row["corporation_name"]
        if operator == "EQUALS" and name not in values:
            return False
        if operator == "CONTAINS" and not any(str(v) in name for v in values):
            return False
        if operator not in ("EQUALS", "CONTAINS"):
            raise ApiError(18009, f"filtering operator {operator!r} is not EQUALS or CONTAINS")
    return True


def funds_get(api: TencentApi, call: Call) -> dict:
    """The account's fund records (1-3 fund types), or the agency's own when account_id is its id."""
    fields = api.fields(call, api.fund_fields, api.fund_fields)
    world = call.state.world
    if call.agency_self:
        records = agency_funds(world, api.media, call.grant.agent_id, world.today())
    else:
        records = world.funds(api.media, call.account.account_id)
    return {"list": [project(r, fields) for r in records]}


def daily_reports_get(api: TencentApi, call: Call) -> dict:
    return _report(api, call, "daily")


def hourly_reports_get(api: TencentApi, call: Call) -> dict:
    return _report(api, call, "hourly")


def _report(api: TencentApi, call: Call, kind: str) -> dict:
    p = call.params
    level_name = p.text("level", required=True)
    if level_name not in api.levels:
        raise ApiError(18009, f"level {level_name!r} is not one of {sorted(api.levels)}")
    level = api.levels[level_name]
    start, end = _date_range(call, kind)
    allowed_groups = GROUP_BY[kind][level]
    group_by = p.string_list("group_by", [g for g in allowed_groups if g != "site_set"])
    if not group_by or any(g not in allowed_groups for g in group_by):
        raise ApiError(
            18009, f"group_by {group_by} is not valid at {level_name}; allowed: {list(allowed_groups)}"
        )
    group_by = list(dict.fromkeys(group_by))
    time_dims = ("date", "hour") if kind == "hourly" else ("date",)
    allowed_fields = (*time_dims, "account_id", *LEVEL_DIMENSIONS[level], *REPORT_METRICS)
    fields = api.fields(call, allowed_fields, (*group_by, *DEFAULT_METRICS))
    page = p.integer("page", 1, low=1, high=99999)
    page_size = p.integer("page_size", 10, low=1, high=REPORT_PAGE_SIZE_MAX)
    if page * page_size > REPORT_ROWS_MAX:
        raise ApiError(18003, f"page * page_size = {page * page_size} is above {REPORT_ROWS_MAX}")
    time_line = p.choice("time_line", TIME_LINES, DEFAULT_TIME_LINE)
    filters = _report_filters(p)

    world = call.state.world
    account_id = call.account.account_id
    atoms = []
    day = start
    while day <= end:
        atoms.extend(world.atoms(api.media, account_id, day, time_line))
        day += timedelta(days=1)
    atoms = [a for a in atoms if all(str(getattr(a, f)) in values for f, values in filters)]
    groups = group_atoms(atoms, lambda a: tuple(getattr(a, g) for g in group_by))
    names = world.entities(api.media, account_id).names()
    keys = set(group_by) | ({"date"} if kind == "hourly" else set())
    rows = [
        _report_row(fields, keys, account_id, members, names)
        for _, members in groups[page_slice(page, page_size)]
    ]
    return {"list": rows, "page_info": page_info(page, page_size, len(groups))}


def _date_range(call: Call, kind: str) -> tuple[date, date]:
    value = call.params.structured("date_range", required=True)
    if not isinstance(value, dict):
        raise ApiError(18002, 'date_range must be a JSON object {"start_date": ..., "end_date": ...}')
    start = parse_day(value.get("start_date"), 18002, "date_range.start_date")
    end = parse_day(value.get("end_date"), 18002, "date_range.end_date")
    if start > end:
        raise ApiError(31057, f"start_date {start} is after end_date {end}")
    if kind == "hourly":
        if start != end:
            raise ApiError(31057, "hourly reports take a single day: start_date must equal end_date")
        if start < call.state.clock.today() - timedelta(days=HOURLY_LOOKBACK_DAYS):
            raise ApiError(31057, f"hourly reports reach back {HOURLY_LOOKBACK_DAYS} days only")
    return start, end


def _report_filters(p: Params) -> list[tuple[str, set[str]]]:
    filters = p.structured("filtering", [])
    if not isinstance(filters, list):
        raise ApiError(18002, "filtering must be a JSON array")
    result = []
    for item in filters:
        if not isinstance(item, dict) or item.get("field") not in FILTER_FIELDS:
            raise ApiError(18009, f"filtering field must be one of {list(FILTER_FIELDS)}")
        values = item.get("values")
        if item.get("operator") not in ("EQUALS", "IN") or not isinstance(values, list):
            raise ApiError(18009, "filtering operator must be EQUALS or IN, with a values array")
        result.append((item["field"], {str(v) for v in values}))
    return result


def _report_row(
    fields: tuple[str, ...], keys: set[str], account_id: int, members: list, names: dict
) -> dict[str, Any]:
    first = members[0]
    totals = sum_metrics(members, METRICS)
    row: dict[str, Any] = {}
    for name in fields:
        if name == "account_id":
            row[name] = account_id
        elif name in DETERMINED_BY:
            if DETERMINED_BY[name] & keys:
                if name.endswith("_name"):
                    id_field = name.replace("_name", "_id")
                    row[name] = names[(id_field, getattr(first, id_field))]
                else:
                    row[name] = getattr(first, name)
        else:
            row[name] = _metric(name, totals)
    return row


def _metric(name: str, t: dict[str, int]) -> int | float:
    if name in t:
        return t[name]
    if name in _ALIASES:
        return t[_ALIASES[name]]
    if name == "ctr":
        return ratio(t["click"], t["impression"])
    if name == "cpc":
        return round(t["cost"] / t["click"]) if t["click"] else 0
    if name == "thousand_display_price":
        return round(t["cost"] * 1000 / t["impression"]) if t["impression"] else 0
    if name == "conversions_cost":
        return round(t["cost"] / t["conversion"]) if t["conversion"] else 0
    raise KeyError(name)


def oauth_token(api: TencentApi, call: Call) -> dict:
    """`GET /oauth/token` with grant_type=refresh_token: a new pair; the old pair dies at once."""
    p = call.params
    app = call.state.config.media[api.media].app
    if as_int(p.values.get("client_id")) != app.app_id or p.values.get("client_secret") != app.secret:
        raise ApiError(11007, MESSAGES[11007][0])
    grant_type = p.text("grant_type", required=True)
    if grant_type == "authorization_code":
        raise ApiError(11011, "the simulator issues no authorization codes; use grant_type=refresh_token")
    if grant_type != "refresh_token":
        raise ApiError(18009, f"grant_type {grant_type!r} is not authorization_code or refresh_token")
    refresh_token = p.values.get("refresh_token") or ""
    state, grant = call.state.refresh(api.media, refresh_token)
    if state is TokenState.UNKNOWN:
        raise ApiError(11010, MESSAGES[11010][0])
    if state is TokenState.EXPIRED:
        raise ApiError(11012, MESSAGES[11012][0])
    ttl = call.state.config.media[api.media].tokens
    return {
        "access_token": grant.access_token,
        "refresh_token": grant.refresh_token,
        "access_token_expires_in": int(ttl.access_ttl_s),
        "refresh_token_expires_in": int(ttl.refresh_ttl_s),
        "authorizer_info": {
            "account_id": grant.agent_id,
            "account_role_type": "ACCOUNT_ROLE_TYPE_AGENCY",
            "scope_list": ["ads_management", "ads_insights", "account_management"],
        },
    }


# -- the world: agents, accounts, funds --------------------------------------------------------------


class TencentSizes(StrictModel):
    """gdt / wx in a profile: active agents and the total of their accounts."""

    agents: int = Field(ge=1)
    accounts: int = Field(ge=0)


AGENT_IDS = (1_000_000, 9_999_999)
# Account ids have 8 to 11 digits; the digit count is drawn first so all lengths occur.
_ACCOUNT_DIGITS = (8, 8, 8, 9, 9, 10, 10, 10, 10, 11)
# Ids of the entities inside an account.
ENTITY_IDS = {
    "campaign": (10_000_000, 99_999_999),
    "adgroup": (100_000_000, 9_999_999_999),
    "ad": (100_000_000, 9_999_999_999),
}


def tencent_roster(media: str) -> Callable[[ProfileConfig, int, str], MediaRoster]:
    """The roster builder of a Tencent media: agents without tiers, each with its accounts."""

    def build(profile: ProfileConfig, seed: int, tenant: str) -> MediaRoster:
        sizes = profile.media_sizes(media)
        roster = MediaRoster()
        agent_ids = Ids(seed, tenant, media, "agent")
        account_ids = Ids(seed, tenant, media, "account")
        counts = split(sizes.accounts, sizes.agents, seed, tenant, media, "accounts")
        states = active_states(seed, tenant, media, sizes.agents) + inactive_states(profile.inactive_agents)
        counts += [profile.inactive_accounts] * profile.inactive_agents
        for i, ((status, auth_type), count) in enumerate(zip(states, counts, strict=True)):
            agent_id = agent_ids.draw(AGENT_IDS, i)
            name = company_name(seed, tenant, media, agent_id).replace("有限公司", "代理有限公司")
            roster.add_agent(Agent(media, agent_id, name, None, None, status, auth_type))
            for j in range(count):
                roster.add_account(Account(media, _account_id(account_ids, i, j), agent_id))
        return roster

    return build


def _account_id(ids: Ids, *parts: object) -> int:
    digits = _ACCOUNT_DIGITS[stable_hash(*ids.namespace, "digits", *parts) % len(_ACCOUNT_DIGITS)]
    return ids.draw((10 ** (digits - 1), 10**digits - 1), *parts)


def tencent_funds(fund_types: tuple[str, ...]) -> Callable[[World, str, int, date], list[dict]]:
    """`funds/get` records of an account: 1-3 of `fund_types`, `realtime_cost` = that day's spend."""

    def funds(world: World, media: str, account_id: int, day: date) -> list[dict]:
        count = 1 + stable_hash(world.seed, media, account_id, "fund-count") % len(fund_types)
        spend = world.daily_totals(media, account_id, day)["cost"]
        records = []
        for fund_type in fund_types[:count]:
            h = stable_hash(world.seed, media, account_id, fund_type, day, "fund")
            if fund_type == "FUND_TYPE_CASH":
                balance = h % 5_000_000
            else:
                balance = 0 if h % 10 < 4 else (h >> 8) % 500_000
            roll = (h >> 32) % 100
            status = "FUND_STATUS_FROZEN" if roll < 2 else "FUND_STATUS_NORMAL"
            if balance < 10_000 and status == "FUND_STATUS_NORMAL":
                status = "FUND_STATUS_NOT_ENOUGH"
            record = {
                "fund_type": fund_type,
                "balance": balance,
                "fund_status": status,
                "realtime_cost": spend if fund_type == "FUND_TYPE_CASH" else 0,
            }
            if fund_type == "FUND_TYPE_CREDIT_ROLL":
                limit = 1_000_000 * (1 + (h >> 40) % 5)
                used = (h >> 20) % limit
                record["credit_roll_spec"] = {
                    "limit_amount": limit,
                    "usable_amount": limit - used,
                    "used_amount": used,
                }
            records.append(record)
        return records

    return funds


def agency_funds(world: World, media: str, agent_id: int, day: date) -> list[dict]:
    """`funds/get` on an agency's own id: one cash record."""
    h = stable_hash(world.seed, media, agent_id, day, "agency-fund")
    return [
        {
            "fund_type": "FUND_TYPE_CASH",
            "balance": 100_000_000 + h % 900_000_000,
            "fund_status": "FUND_STATUS_NORMAL",
            "realtime_cost": 0,
        }
    ]


def tencent_sign(token: str | None, params: Mapping[str, Any]) -> tuple[dict[str, str], dict[str, str]]:
    """A client's query: `access_token`, `timestamp`, `nonce` (generated unless given), then the
    parameters, structured values JSON-encoded. `omit` (a tuple of names) leaves globals out."""
    params = dict(params)
    omit = tuple(params.pop("omit", ()))
    query = {
        "access_token": token,
        "timestamp": params.pop("timestamp", None) or int(time.time()),
        "nonce": params.pop("nonce", None),
    }
    if query["nonce"] is None:
        query["nonce"] = uuid.uuid4().hex[:24]
    query = {k: str(v) for k, v in query.items() if k not in omit and v is not None}
    query.update({k: query_value(v) for k, v in params.items()})
    return query, {}


def report_tables(levels: Mapping[str, str]) -> tuple[Table, ...]:
    """The seed's daily report tables of a Tencent media: one per level, a row per spending account."""
    return tuple(
        Table(dataset=f"daily_report_{level.lower()}_v3", rows=Rows.PER_ACCOUNT, endpoint="daily_reports/get")
        for level in levels.values()
    )


# -- the gdt API and declaration ----------------------------------------------------------------------

LEVELS = {f"REPORT_LEVEL_{level}": level for level in GROUP_BY["daily"]}


def tencent_endpoints(listing_path: str, listing: Endpoint) -> dict[str, Endpoint]:
    """A Tencent media's endpoints: its agency listing, then funds, reports and oauth as gdt's."""
    return {
        listing_path: listing,
        "/v1.1/funds/get": Endpoint(
            "funds/get", funds_get, account="required", agency_ok=True, records=fund_records
        ),
        "/v1.1/daily_reports/get": Endpoint(
            "daily_reports/get", daily_reports_get, account="required", records=atom_records
        ),
        "/v1.1/hourly_reports/get": Endpoint(
            "hourly_reports/get", hourly_reports_get, account="required", records=atom_records
        ),
        "/oauth/token": Endpoint("oauth/token", oauth_token, authenticated=False),
    }


API = TencentApi(
    media=NAME,
    endpoints=tencent_endpoints(
        "/v1.1/advertiser/get", Endpoint("advertiser/get", advertiser_get, account="optional", agency_ok=True)
    ),
    levels=LEVELS,
    fund_fields=("fund_type", "balance", "fund_status", "realtime_cost"),
)

MEDIA = MediaSpec(
    name=NAME,
    platform_id=1,
    api=API,
    world=WorldSpec(
        sizes=TencentSizes,
        roster=tencent_roster(NAME),
        site_sets=(
            "SITE_SET_QZONE",
            "SITE_SET_QQCLIENT",
            "SITE_SET_MOBILE_UNION",
            "SITE_SET_TENCENT_NEWS",
            "SITE_SET_TENCENT_VIDEO",
        ),
        promoted_object_types=(
            "PROMOTED_OBJECT_TYPE_APP_ANDROID",
            "PROMOTED_OBJECT_TYPE_APP_IOS",
            "PROMOTED_OBJECT_TYPE_LINK",
            "PROMOTED_OBJECT_TYPE_ECOMMERCE",
        ),
        entity_ids=ENTITY_IDS,
        funds=tencent_funds(("FUND_TYPE_CASH", "FUND_TYPE_GIFT", "FUND_TYPE_SHARED")),
    ),
    agent_keys=(AgentKey(format="gdt_agents_v2_{tenant}"),),
    # v1.1 in the name, every agent's accounts in one key (score = agent id)
    account_keys=(AccountKey(format="gdt_advertiser_v1.1_{tenant}_{day}"),),
    tables=(
        Table(dataset="agent_list", rows=Rows.AGENTS),
        Table(dataset="advertiser_get_v1.1", rows=Rows.ACCOUNTS),
        # one row per account and fund type (the row key's kind)
        Table(dataset="funds_get_v2", rows=Rows.PER_RECORD, endpoint="funds/get"),
        *report_tables(LEVELS),
        # the seed's hourly ad table: one row per account and time line (the key's suffix)
        Table(
            dataset="hourly_report_ad",
            rows=Rows.PER_ACCOUNT,
            endpoint="hourly_reports/get",
            time_lines=TIME_LINES,
        ),
    ),
    sign=tencent_sign,
)
