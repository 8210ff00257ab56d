"""gdt: the Tencent Marketing API as the simulator serves it, v1.1, v1.3 and v3.0 (wx reuses it: wx.py).

Conventions (docs/media/gdt.md, the contract tables in `_tencent_contract.py`): query parameters
`access_token`, `timestamp`, `nonce` on every call, structured values JSON-encoded; envelope
`{code, message, message_cn, errors?, data?}`, `data` only on success, the trace id at the end of
the message and in `X-TSA-Trace-Id`; errors are HTTP 200; money in integer fen; every answer
carries `X-RateLimit-Remaining: <day%>,<minute%>`. Every request is checked against its
endpoint's contract before a handler runs; handlers read the checked values (`call.args`).
What the media answer today is modelled too (`_tencent_v3.py`): v1.x reports without
`adq_accounts_upgrade_enabled=true` have no rows after 2024-04-30, retired endpoints answer 12007
after their last day, and report calls count against the row quotas (`ark_sim/rows.py`).

Also gdt's world (agents and 8-11 digit accounts, site sets, fund types), the seed's Redis keys
and HBase tables for it, and how a client signs a request (`tencent_sign`): `MEDIA` at the end.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Any

from pydantic import Field

from ark_sim.common import (
    ApiError,
    Incoming,
    Outgoing,
    as_int,
    dumps,
    page_info,
    page_slice,
    project,
    query_value,
)
from ark_sim.config import ProfileConfig, StrictModel
from ark_sim.contract import ApiContract, Args, EndpointContract, ParamError
from ark_sim.faults import Fault, FaultKind, mistype, pad, truncate
from ark_sim.media import _tencent_async as tasks
from ark_sim.media import _tencent_v3 as v3
from ark_sim.media._tencent_contract import (
    ADVERTISER_NORMAL_ROWS,
    AUTH,
    CODES,
    CONVENTIONS,
    DEFAULT_METRICS,
    GROUP_BY_V1,
    LEGACY,
    MEANINGS,
    PARAM_CODES,
    QUOTA,
    RETIRED,
    SOURCES,
    TIME_LINES,
    V11,
    V13,
    V30,
    VERSION_ROWS,
    VERSIONS,
    advertiser_contract,
    funds_contract,
    group_by,
    oauth_contract,
    report_contract,
)
from ark_sim.media._tencent_rows import LevelReport
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
from ark_sim.rows import RowQuotaExceeded
from ark_sim.spec import AccountKey, AgentKey, MediaSpec, Records, Rows, Table, WorldSpec
from ark_sim.state import SimState
from ark_sim.tokens import Grant, TokenState
from ark_sim.world import World, atom_records, fund_records

NAME = "gdt"

# code -> (message, message_cn) where the simulator has its own texts (11017's English text is the
# vendor's); every other code answers with its meaning from the contract's code table.
MESSAGES: dict[int, tuple[str, str]] = {
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
NONCE_MAX = 32
AUTH_NAMES = frozenset(p.name for p in AUTH)


@dataclass
class Call:
    """One checked request inside a handler."""

    state: SimState
    media: str
    contract: EndpointContract
    args: Args
    grant: Grant | None = None
    account: Account | None = None  # the account_id's account, when the endpoint takes one
    agency_self: bool = False  # account_id named the token's own agency
    outcome: str | None = None  # how the counters file a successful answer, when not "0"

    @property
    def version(self) -> str:
        return self.contract.version

    @property
    def tenant(self) -> str:
        assert self.grant is not None
        return self.grant.tenant


@dataclass(frozen=True)
class Endpoint:
    """One API of one version: its contract (path, parameters, records), handler, and records."""

    contract: EndpointContract
    handler: Callable[[TencentApi, Call], dict]
    agency_ok: bool = False  # account_id may be the token's own agency id
    authenticated: bool = True  # False: oauth, which authenticates with client_id/secret
    records: Records | None = None  # an account's data: how many records it answers for a day

    @property
    def name(self) -> str:
        return self.contract.name


@dataclass
class TencentApi:
    """The Tencent conventions, shared by gdt and wx; each media supplies its paths and levels."""

    media: str
    endpoints: dict[str, Endpoint]  # by path, every version's
    levels: dict[str, dict[str, str]]  # version -> request level name -> base level (ADVERTISER, ...)

    # -- the request pipeline -----------------------------------------------------------------------

    def handle(self, state: SimState, incoming: Incoming, fault: Fault | None) -> tuple[str, Outgoing]:
        """Answer one request; returns the endpoint name (for counters) and the response."""
        trace_id = uuid.uuid4().hex
        path = incoming.path.rstrip("/")
        if path.startswith(tasks.DOWNLOAD_PREFIX):  # an async report file's download address
            return tasks.DOWNLOAD, tasks.download(self, state, path)
        endpoint = self.endpoints.get(path)
        throttled, outcome = False, None
        retired = self._retired(path, state.clock.today())
        if retired is not None:
            name, header = retired[0], "100%,100%"
            body = self._error(ApiError(12007, retired[1]), trace_id)
        elif endpoint is None or incoming.method != endpoint.contract.method:
            name = endpoint.name if endpoint else "unknown"
            header = "100%,100%"
            body = self._error(ApiError(12007, f"no API {incoming.method} {incoming.path}"), trace_id)
        else:
            name = endpoint.name
            decision = state.quotas.acquire(self.media, state.app_id(self.media), name)
            header = decision.header
            if not decision.allowed:
                throttled = True
                body = self._error(ApiError(THROTTLE_CODES[decision.exhausted], ""), trace_id)
            elif fault is not None and fault.kind is FaultKind.BUSY:
                body = self._error(ApiError(BUSY_CODE, ""), trace_id)
            else:
                body, outcome = self._run(state, incoming, endpoint, trace_id)
        headers = {"X-TSA-Trace-Id": trace_id, "X-RateLimit-Remaining": header}
        if isinstance(body, Outgoing):  # a redirect to a file's download address
            body.headers.update(headers)
            return name, body
        outcome = outcome or str(body["code"])
        if body["code"] == 0 and (kib := state.faults.huge_page_kb(self.media)):
            body = pad(body, kib)
        if body["code"] == 0 and fault is not None and fault.kind is FaultKind.WRONG_TYPES:
            body, outcome = mistype(body, fault.variant), "wrong_types"
        raw = dumps(body)
        if fault is not None and fault.kind is FaultKind.MALFORMED:
            raw, outcome = truncate(raw), "malformed"
        return name, Outgoing(200, raw, outcome, headers, throttled=throttled)

    def coded(self, code: int, out: Outgoing) -> Outgoing:
        """`out` answered with body code `code` instead (a tamper rule's `code`), trace id kept."""
        trace_id = out.headers.get("X-TSA-Trace-Id") or uuid.uuid4().hex
        return replace(out, body=dumps(self._error(ApiError(code, ""), trace_id)), outcome=str(code))

    def _retired(self, path: str, today: date) -> tuple[str, str] | None:
        """(name, message) when `path` is a retired endpoint past its last day (N-retire)."""
        name = path.lstrip("/").partition("/")[2]
        if name not in v3.RETIRED:
            return None
        last, replacement, _ = v3.RETIRED[name]
        if today <= last:
            return None
        return name, f"{name} was retired after {last}; use {replacement}"

    def _run(
        self, state: SimState, incoming: Incoming, endpoint: Endpoint, trace_id: str
    ) -> tuple[dict | Outgoing, str | None]:
        query = dict(incoming.query)
        try:
            grant = self._authenticate(state, query) if endpoint.authenticated else None
            # oauth needs no auth parameters (D-tok3); sent all the same, they are ignored
            values: dict[str, Any] = {k: v for k, v in query.items() if k not in AUTH_NAMES}
            if endpoint.contract.body:  # a POST: the parameters are its JSON body (auth stays in the query)
                values = _json_body(incoming)
            args = endpoint.contract.check(values, PARAM_CODES, state.clock.today())
            call = Call(state, self.media, endpoint.contract, args, grant)
            if grant is not None:
                self._resolve_account(call, endpoint)
            data = endpoint.handler(self, call)
        except ApiError as exc:
            return self._error(exc, trace_id), None
        if isinstance(data, Outgoing):
            return data, None
        return {"code": 0, "message": "", "message_cn": "", "data": data}, call.outcome

    def _error(self, exc: ApiError, trace_id: str) -> dict:
        """The error envelope: the trace id ends both messages (D-err); a parameter error lists
        the parameter in `errors[]` (COMMON_PARAM_EXCEPTION); there is no body `trace_id`."""
        meaning = MEANINGS.get(exc.code, "")
        message, message_cn = MESSAGES.get(exc.code, (meaning, meaning))
        body: dict[str, Any] = {
            "code": exc.code,
            "message": f"{exc.message or message} trace_id: {trace_id}",
            "message_cn": f"{message_cn} trace_id: {trace_id}",
        }
        if isinstance(exc, ParamError):
            body["errors"] = [
                {
                    "type": "COMMON_PARAM_EXCEPTION",
                    "description": exc.message,
                    "common_param_exception_spec": {
                        "error_fields": [exc.param],
                        "error_user_msg": exc.message,
                    },
                }
            ]
        return body

    def _authenticate(self, state: SimState, query: Mapping[str, str]) -> Grant:
        """The vendor's checks in their order (12000, 11005, 11002, 11000, 12101, 12100)."""
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
        token_state, grant = state.access(self.media, token)
        if token_state is TokenState.UNKNOWN:
            raise ApiError(11002, MESSAGES[11002][0])
        if token_state is TokenState.EXPIRED:
            raise ApiError(11000, MESSAGES[11000][0])
        assert grant is not None
        now = state.clock.now()
        stamp = as_int(query["timestamp"])
        skew = state.config.timestamp_skew_s
        if stamp is None or abs(now - stamp) > skew:
            raise ApiError(12101, f"timestamp {query['timestamp']!r} is over {skew:g} s off the server's")
        nonce = query["nonce"]
        if len(nonce) > NONCE_MAX:
            raise ParamError(18003, f"nonce is longer than {NONCE_MAX} characters", "nonce")
        if not state.nonces.use(self.media, nonce, now):
            raise ApiError(12100, MESSAGES[12100][0])
        return grant

    def _resolve_account(self, call: Call, endpoint: Endpoint) -> None:
        """`account_id` (already an int64 >= 1) -> the token's account, its own agency, or an error."""
        account_id = call.args.get("account_id")
        if account_id is None:
            return
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


def _json_body(incoming: Incoming) -> dict[str, Any]:
    """A POST's JSON object body, or the parameter error a body that is none gets (12003)."""
    try:
        value = json.loads(incoming.body or b"{}")
    except ValueError:
        raise ApiError(12003, "the request body is not valid JSON") from None
    if not isinstance(value, dict):
        raise ApiError(12003, "the request body must be a JSON object")
    return value


def record_names(call: Call) -> tuple[str, ...]:
    """The `fields` a call asked for, else every record field its contract declares."""
    return tuple(dict.fromkeys(call.args["fields"] or (f.name for f in call.contract.records)))


# -- handlers ---------------------------------------------------------------------------------------


def advertiser_get(api: TencentApi, call: Call) -> dict:
    """An agency's sub-customers (or one advertiser with account_id); normal or cursor pagination."""
    a = call.args
    fields = record_names(call)
    world = call.state.world
    if call.account is not None:
        accounts = [call.account]
    else:
        accounts = world.agent_accounts(api.media, call.tenant, call.grant.agent_id)
    rows = [_advertiser_item(call, account) for account in accounts]
    rows = [r for r in rows if _matches_name_filter(a["filtering"], r)]
    cursor_mode = a["pagination_mode"] == "PAGINATION_MODE_CURSOR" and not call.state.faults.cursor_ignored(
        api.media
    )
    if cursor_mode:
        page_size, cursor = a["page_size"], a["cursor"] or 0
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
    page, page_size = a["page"], a["page_size"]
    visible = rows[:ADVERTISER_NORMAL_ROWS]
    return {
        "list": [project(r, fields) for r in visible[page_slice(page, page_size)]],
        "page_info": page_info(page, page_size, len(rows)),
    }


def _advertiser_item(call: Call, account: Account) -> dict:
    info = call.state.world.account_info(account.media, account.account_id)
    item = {
        "account_id": account.account_id,
        "corporation_name": info.company,
        "system_status": info.system_status,
        "daily_budget": info.daily_budget,
        "agency_account_id": account.agent_id,
        "system_industry_id": info.industry_id,
        "registration_type": "REGISTRATION_TYPE_CORPORATION",
    }
    return project(item, [f.name for f in call.contract.records])


def _matches_name_filter(filters: list[dict] | None, row: dict) -> bool:
    """`filtering` on corporation_name with EQUALS / CONTAINS (the contract admits nothing else)."""
    for item in filters or ():
        name = row["corporation_name"]
        if item["operator"] == "EQUALS" and name not in item["values"]:
            return False
        if item["operator"] == "CONTAINS" and not any(v in name for v in item["values"]):
            return False
    return True


def funds_get(api: TencentApi, call: Call) -> dict:
    """The account's fund records (1-3 fund types), or the agency's own when account_id is its id.

    The world's records name today's spend `realtime_cost` (v1.3); v1.1 names it `today_cost`.
    """
    fields = record_names(call)
    world = call.state.world
    if call.agency_self:
        records = agency_funds(world, api.media, call.grant.agent_id, world.today())
    else:
        records = world.funds(api.media, call.account.account_id)
    if call.version == V11:
        records = [{("today_cost" if k == "realtime_cost" else k): v for k, v in r.items()} for r in records]
    return {"list": [project(r, fields) for r in records]}


def daily_reports_get(api: TencentApi, call: Call) -> dict:
    return _report(api, call, "daily")


def hourly_reports_get(api: TencentApi, call: Call) -> dict:
    return _report(api, call, "hourly")


def _report(api: TencentApi, call: Call, kind: str) -> dict:
    a = call.args
    level = api.levels[call.version][a["level"]]
    start, end = a["date_range"]["start_date"], a["date_range"]["end_date"]
    default_groups = [g for g in group_by(kind, call.version)[level] if g != "site_set"]
    group_keys = tuple(dict.fromkeys(a["group_by"] or default_groups))
    defaults = DEFAULT_METRICS[V13 if a.get(v3.UPGRADE_FLAG) else call.version]  # the flag: the new system
    fields = tuple(dict.fromkeys(a["fields"] or (*group_keys, *defaults)))
    page, page_size = a["page"], a["page_size"]
    filters = [(item["field"], set(item["values"])) for item in a["filtering"] or ()]
    account_id = call.account.account_id
    report = LevelReport(kind=kind, group_keys=group_keys, fields=fields, filters=filters)
    days = _served_days(call, start, end)
    groups = report.rows(call.state.world, api.media, account_id, days, a["time_line"])
    rows = groups[page_slice(page, page_size)]
    try:
        call.state.rows.take(api.media, (account_id, kind, level), len(rows))
    except RowQuotaExceeded as exc:
        raise ApiError(v3.ROWS_CODE, str(exc)) from None
    return {"list": rows, "page_info": page_info(page, page_size, len(groups))}


def _served_days(call: Call, start: date, end: date) -> list[date]:
    """The days a report answers: all of them, but on v1.x without the upgrade flag only those of
    the old metric system (N-metrics: no data after 2024-04-30); a call that lost days to it is
    counted as `old_metrics`."""
    days = [start + timedelta(days=i) for i in range((end - start).days + 1)]
    if call.version in LEGACY and not call.args.get(v3.UPGRADE_FLAG):
        served = [day for day in days if day <= v3.OLD_METRICS_LAST_DAY]
        if len(served) < len(days):
            call.outcome = "old_metrics"
        return served
    return days


def oauth_token(api: TencentApi, call: Call) -> dict:
    """`GET /oauth/token` with grant_type=refresh_token: a new access token, and (unless the
    media's `tokens.refresh_answer_token` is off) a new refresh token; the old ones die at once."""
    a = call.args
    app = call.state.config.media[api.media].app
    if a["client_id"] != app.app_id or a["client_secret"] != app.secret:
        raise ApiError(11007, MESSAGES[11007][0])
    if a["grant_type"] == "authorization_code":
        raise ApiError(11011, "the simulator issues no authorization codes; use grant_type=refresh_token")
    state, grant = call.state.refresh(api.media, a["refresh_token"])
    if state is TokenState.UNKNOWN:
        raise ApiError(11010, MESSAGES[11010][0])
    if state is TokenState.EXPIRED:
        raise ApiError(11012, MESSAGES[11012][0])
    ttl = call.state.config.media[api.media].tokens
    data: dict[str, Any] = {"access_token": grant.access_token}
    if ttl.refresh_answer_token:
        data["refresh_token"] = grant.refresh_token
    data |= {
        "access_token_expires_in": int(ttl.access_ttl_s),
        "refresh_token_expires_in": int(ttl.refresh_ttl_s),
    }
    return data


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
                "bill_deposit_amount": 0 if fund_type != "FUND_TYPE_CASH" else (h >> 40) % 100_000,
                "fund_status": status,
                "realtime_cost": spend if fund_type == "FUND_TYPE_CASH" else 0,
                "effect_funds": _effect_funds(fund_type, balance, day),
            }
            # no credit_roll_spec: it belonged to the deleted wechat_funds/get, not to funds/get
            records.append(record)
        return records

    return funds


def _effect_funds(fund_type: str, balance: int, day: date) -> list[dict]:
    """A gift's validity: one grant valid for 30 days from the first of the month (v3.0 only)."""
    if fund_type != "FUND_TYPE_GIFT" or not balance:
        return []
    start = day.replace(day=1)
    return [
        {
            "effect_date": start.isoformat(),
            "expire_date": (start + timedelta(days=30)).isoformat(),
            "amount": balance,
        }
    ]


def agency_funds(world: World, media: str, agent_id: int, day: date) -> list[dict]:
    """`funds/get` on an agency's own id: one cash record."""
    h = stable_hash(world.seed, media, agent_id, day, "agency-fund")
    return [
        {
            "fund_type": "FUND_TYPE_CASH",
            "balance": 100_000_000 + h % 900_000_000,
            "bill_deposit_amount": 0,
            "fund_status": "FUND_STATUS_NORMAL",
            "realtime_cost": 0,
            "effect_funds": [],
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


def report_tables(levels: Mapping[str, Mapping[str, str]]) -> tuple[Table, ...]:
    """The seed's daily report tables of a Tencent media: one per base level, a row per spending
    account, filled by the versions that serve the level (`levels`: version -> level -> base)."""
    by_level: dict[str, list[str]] = {}
    for version, served in levels.items():
        for base in served.values():
            by_level.setdefault(base, []).append(version)
    return tuple(
        Table(
            dataset=f"daily_report_{base.lower()}_v3",
            rows=Rows.PER_ACCOUNT,
            endpoint="daily_reports/get",
            versions=() if len(versions) == len(levels) else tuple(versions),
        )
        for base, versions in by_level.items()
    )


# -- the gdt API and declaration ----------------------------------------------------------------------

V1_LEVELS = {f"REPORT_LEVEL_{level}": level for level in GROUP_BY_V1["daily"]}
LEVELS = {V11: V1_LEVELS, V13: V1_LEVELS, V30: {f"REPORT_LEVEL_{level}": level for level in v3.LEVELS}}
LEVEL_SOURCES = {
    V11: "D-hr11",
    V13: "TGo `pkg/model/model_report_level.go` (31 values)",
    V30: f"{v3.DAILY_LEVEL_SOURCE}; {v3.HOURLY_LEVEL_SOURCE}",
}


def tencent_endpoints(
    listings: tuple[Endpoint, ...],
    levels: Mapping[str, Mapping[str, str]],
    level_sources: Mapping[str, str],
) -> dict[str, Endpoint]:
    """A Tencent media's endpoints by path: its agency listing(s), then funds and the daily and
    hourly reports in every version (at that version's `levels`), then the unversioned oauth/token."""
    served = list(listings)
    for version in VERSIONS:
        served += [
            Endpoint(funds_contract(version), funds_get, agency_ok=True, records=fund_records),
            *(
                Endpoint(
                    report_contract(
                        kind=kind,
                        version=version,
                        levels=levels[version],
                        level_source=level_sources[version],
                    ),
                    handler,
                    records=atom_records,
                )
                for kind, handler in (("daily", daily_reports_get), ("hourly", hourly_reports_get))
            ),
        ]
    v30 = levels[V30]
    served += [
        Endpoint(tasks.add_contract(v30), tasks.async_add, agency_ok=True),
        Endpoint(tasks.get_contract(), tasks.async_get, agency_ok=True),
        Endpoint(tasks.files_contract(), tasks.async_files, agency_ok=True),
    ]
    served.append(Endpoint(oauth_contract(), oauth_token, authenticated=False))
    return {e.contract.path: e for e in served}


def tencent_contract(media: str, endpoints: Mapping[str, Endpoint]) -> ApiContract:
    """A Tencent media's whole contract (the docs' tables), its endpoints ordered by version."""
    order = {version: i for i, version in enumerate(VERSIONS)}
    ordered = sorted(endpoints.values(), key=lambda e: order.get(e.contract.version, len(order)))
    return ApiContract(
        media=media,
        sources=SOURCES,
        versions=VERSION_ROWS,
        conventions=CONVENTIONS,
        auth=AUTH,
        endpoints=tuple(e.contract for e in ordered),
        codes=CODES,
        quota=QUOTA,
        retired=RETIRED,
    )


API = TencentApi(
    media=NAME,
    endpoints=tencent_endpoints(
        tuple(Endpoint(advertiser_contract(v), advertiser_get, agency_ok=True) for v in VERSIONS),
        LEVELS,
        LEVEL_SOURCES,
    ),
    levels=LEVELS,
)

MEDIA = MediaSpec(
    name=NAME,
    platform_id=1,
    api=API,
    contract=tencent_contract(NAME, API.endpoints),
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
        # the seed's hourly ad table: one row per account and time line (the key's suffix); v3.0
        # has no AD level, its hourly report of the same grain is the dynamic creatives'
        Table(
            dataset="hourly_report_ad",
            rows=Rows.PER_ACCOUNT,
            endpoint="hourly_reports/get",
            time_lines=TIME_LINES,
            versions=LEGACY,
        ),
        Table(
            dataset="hourly_report_dynamic_creative",
            rows=Rows.PER_ACCOUNT,
            endpoint="hourly_reports/get",
            time_lines=TIME_LINES,
            versions=(V30,),
        ),
    ),
    versions=VERSIONS,
    sign=tencent_sign,
)
