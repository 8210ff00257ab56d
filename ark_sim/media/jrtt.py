"""jrtt: the Ocean Engine Marketing API (open_api v2) as the simulator serves it.

Conventions (research §2): header `Access-Token` (no "Bearer"); GET parameters in the query string
with arrays/objects JSON-encoded (a JSON body on a GET is read too, as some clients send one);
envelope `{code, message ("OK"), request_id, data}`, errors HTTP 200 with `data: {}`; money in
float yuan; int64 ids as JSON integers (above 2**53); no quota headers.

Authorisation tree: a first-tier agent's token covers its own accounts and its second-tier agents
with their accounts; a second-tier agent's token covers only its own accounts. In this API jrtt's
"ad" (广告计划) is the world's adgroup and jrtt's "creative" is the world's ad.

Also jrtt's world (first-tier agents with direct accounts, second-tier agents under them with
theirs, int64 ids), the seed's Redis keys per tier and HBase tables for it: `MEDIA` at the end.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

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
    query_value,
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
from ark_sim.spec import AccountKey, AgentKey, MediaSpec, Records, Rows, Table, Tier, WorldSpec
from ark_sim.state import SimState
from ark_sim.tokens import Grant, TokenState
from ark_sim.world import METRICS, World, atom_records, fund_records

NAME = "jrtt"

_GMT8 = ZoneInfo("Asia/Shanghai")
MESSAGES = {
    0: "OK",
    40001: "Invalid parameter",
    40002: "No permission to operate this advertiser",
    40100: "Too many requests. Please retry in some time.",
    40101: "Invalid app_id or secret",
    40102: "Access token has expired",
    40103: "Refresh token has expired",
    40104: "Access token is empty",
    40105: "Access token is invalid",
    40107: "Refresh token is invalid",
    40108: "Invalid grant_type",
    50000: "System error, please retry later",
    61002: "The developer's daily call limit is exceeded",
}
THROTTLE_CODES = {Exhausted.SECOND: 40100, Exhausted.MINUTE: 40100, Exhausted.DAY: 61002}
BUSY_CODE = 50000
PARAM_CODES = ParamCodes(
    missing=40001, wrong_type=40001, above_max=40001, below_min=40001, bad_json=40001, not_in_enum=40001
)
INFO_IDS_MAX = 100
REPORT_SPAN_DAYS = 30  # end_date - start_date
STAT_TIME = "STAT_GROUP_BY_FIELD_STAT_TIME"
FIELD_ID = "STAT_GROUP_BY_FIELD_ID"
GRANULARITIES = ("STAT_TIME_GRANULARITY_DAILY", "STAT_TIME_GRANULARITY_HOURLY")
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
# integrated/get group_by -> (dimension name, how to read it from an atom)
INTEGRATED_GROUPS: dict[str, tuple[str, Callable[[Any], Any]]] = {
    STAT_TIME: ("stat_datetime", lambda a: f"{a.date} 00:00:00"),
    "STAT_GROUP_BY_TIME_DAY": ("stat_datetime", lambda a: f"{a.date} 00:00:00"),
    "STAT_GROUP_BY_TIME_HOUR": ("stat_datetime", lambda a: f"{a.date} {a.hour:02d}:00:00"),
    "STAT_GROUP_BY_CAMPAIGN_ID": ("campaign_id", lambda a: a.campaign_id),
    "STAT_GROUP_BY_AD_ID": ("ad_id", lambda a: a.adgroup_id),
    "STAT_GROUP_BY_CREATIVE_ID": ("creative_id", lambda a: a.ad_id),
}


@dataclass
class Call:
    state: SimState
    params: Params
    body: dict[str, Any]
    grant: Grant | None = None

    @property
    def tenant(self) -> str:
        assert self.grant is not None
        return self.grant.tenant

    def scope(self) -> frozenset[int]:
        assert self.grant is not None
        return self.state.world.token_scope(NAME, self.grant.tenant, self.grant.agent_id)


@dataclass(frozen=True)
class Endpoint:
    name: str
    handler: Callable[[Call], Any]
    method: str = "GET"
    authenticated: bool = True
    records: Records | None = None  # an account's data: how many records it answers for a day


class JrttApi:
    media = NAME

    def __init__(self, endpoints: dict[str, Endpoint]) -> None:
        self.endpoints = endpoints

    def handle(self, state: SimState, incoming: Incoming, fault: Fault | None) -> tuple[str, Outgoing]:
        # Ocean Engine request ids: a GMT+8 timestamp then hex, e.g. 202405011230450102120000A1B2C3.
        request_id = datetime.now(_GMT8).strftime("%Y%m%d%H%M%S") + secrets.token_hex(8).upper()
        endpoint = self.endpoints.get(incoming.path.rstrip("/"))
        throttled = False
        if endpoint is None or incoming.method != endpoint.method:
            name = endpoint.name if endpoint else "unknown"
            body = _envelope(ApiError(40001, f"no API {incoming.method} {incoming.path}"), request_id)
        else:
            name = endpoint.name
            decision = state.quotas.acquire(self.media, state.app_id(self.media), name)
            if not decision.allowed:
                throttled = True
                code = THROTTLE_CODES[decision.exhausted]
                body = _envelope(ApiError(code, MESSAGES[code]), request_id)
            elif fault is not None and fault.kind is FaultKind.BUSY:
                body = _envelope(ApiError(BUSY_CODE, MESSAGES[BUSY_CODE]), request_id)
            else:
                body = self._run(state, incoming, endpoint, request_id)
        outcome = str(body["code"])
        if body["code"] == 0 and (kib := state.faults.huge_page_kb(self.media)):
            body = pad(body, kib)
        if body["code"] == 0 and fault is not None and fault.kind is FaultKind.WRONG_TYPES:
            body, outcome = mistype(body, fault.variant), "wrong_types"
        raw = dumps(body)
        if fault is not None and fault.kind is FaultKind.MALFORMED:
            raw, outcome = truncate(raw), "malformed"
        return name, Outgoing(200, raw, outcome, {"X-Tt-Logid": request_id}, throttled=throttled)

    def _run(self, state: SimState, incoming: Incoming, endpoint: Endpoint, request_id: str) -> dict:
        try:
            body = _json_body(incoming)
            values: dict[str, Any] = dict(incoming.query)
            values.update(body)
            call = Call(state, Params(values, PARAM_CODES), body)
            if endpoint.authenticated:
                call.grant = _authenticate(state, incoming)
            data = endpoint.handler(call)
        except ApiError as exc:
            return _envelope(exc, request_id)
        return {"code": 0, "message": "OK", "request_id": request_id, "data": data}


def _envelope(exc: ApiError, request_id: str) -> dict:
    message = MESSAGES.get(exc.code, exc.message)
    if exc.message and exc.message != message:
        message = f"{message}: {exc.message}"
    return {"code": exc.code, "message": message, "request_id": request_id, "data": {}}


def _json_body(incoming: Incoming) -> dict[str, Any]:
    if not incoming.body.strip():
        return {}
    try:
        value = json.loads(incoming.body)
    except ValueError:
        raise ApiError(40001, "the request body is not valid JSON") from None
    if not isinstance(value, dict):
        raise ApiError(40001, "the request body must be a JSON object")
    return value


def _authenticate(state: SimState, incoming: Incoming) -> Grant:
    token = incoming.headers.get("Access-Token", "").strip()
    if not token:
        raise ApiError(40104, MESSAGES[40104])
    status, grant = state.access(NAME, token)
    if status is TokenState.UNKNOWN:
        raise ApiError(40105, MESSAGES[40105])
    if status is TokenState.EXPIRED:
        raise ApiError(40102, MESSAGES[40102])
    assert grant is not None
    return grant


# -- scope helpers ----------------------------------------------------------------------------------


def _authorised(call: Call, ids: list[int]) -> None:
    scope = call.scope()
    outside = [i for i in ids if i not in scope]
    if outside:
        raise ApiError(40002, f"no permission for id(s) {outside[:5]}")


def _agent(call: Call, name: str) -> Agent:
    """The agent named by parameter `name`, inside the token's tree."""
    agent_id = call.params.integer(name, required=True)
    _authorised(call, [agent_id])
    agent = call.state.world.find_agent(NAME, call.tenant, agent_id)
    if agent is None:
        raise ApiError(40001, f"{name} {agent_id} is not an agent")
    return agent


def _advertiser(call: Call) -> int:
    """The advertiser named by `advertiser_id`, inside the token's tree and not an agent."""
    advertiser_id = call.params.integer("advertiser_id", required=True)
    _authorised(call, [advertiser_id])
    if call.state.world.find_account(NAME, call.tenant, advertiser_id) is None:
        raise ApiError(40001, f"advertiser_id {advertiser_id} is an agent, not an advertiser")
    return advertiser_id


def _cursor_mode(p: Params, *names: str) -> bool:
    return any(p.has(n) for n in names)


# -- handlers ---------------------------------------------------------------------------------------


def agent_advertiser_select(call: Call) -> dict:
    """An agent's advertiser ids (a first-tier agent: its direct accounts only)."""
    p = call.params
    agent = _agent(call, "advertiser_id")
    ids = [a.account_id for a in call.state.world.agent_accounts(NAME, call.tenant, agent.agent_id)]
    if _cursor_mode(p, "cursor", "count"):
        count = p.integer("count", 100, low=1, high=1000)
        cursor = p.integer("cursor", 0, low=0)
        chunk = ids[cursor : cursor + count]
        after = cursor + len(chunk)
        has_more = after < len(ids)
        if call.state.faults.cursor_loop(NAME):  # a broken cursor: always the first page's
            after, has_more = len(ids[:count]), True
        return {
            "list": chunk,
            "account_source": "AD",
            "cursor_page_info": {
                "count": count,
                "cursor": after,
                "has_more": has_more,
                "total_number": len(ids),
            },
        }
    page = p.integer("page", 1, low=1)
    page_size = p.integer("page_size", 100, low=1, high=1000)
    return {
        "list": ids[page_slice(page, page_size)],
        "account_source": "AD",
        "page_info": page_info(page, page_size, len(ids)),
    }


def child_agent_select(call: Call) -> dict:
    """A first-tier agent's second-tier agent ids (none for a second-tier agent)."""
    p = call.params
    agent = _agent(call, "advertiser_id")
    page = p.integer("page", 1, low=1)
    page_size = p.integer("page_size", 100, low=1, high=1000)
    children = []
    if agent.tier == Tier.FIRST:
        children = [a.agent_id for a in call.state.world.child_agents(NAME, call.tenant, agent.agent_id)]
    return {
        "child_agent_ids": children[page_slice(page, page_size)],
        "page_info": page_info(page, page_size, len(children)),
    }


def advertiser_info(call: Call) -> list[dict]:
    """Up to 100 advertisers' (or agents') details; one id outside the tree fails the whole call."""
    p = call.params
    raw_ids = p.structured("advertiser_ids", required=True)
    if not isinstance(raw_ids, list) or not 1 <= len(raw_ids) <= INFO_IDS_MAX:
        raise ApiError(40001, f"advertiser_ids must be a JSON array of 1 to {INFO_IDS_MAX} ids")
    ids = [as_int(v) for v in raw_ids]
    if any(i is None for i in ids):
        raise ApiError(40001, "advertiser_ids must hold integer ids")
    fields = p.string_list("fields", list(INFO_FIELDS))
    unknown = [f for f in fields if f not in INFO_FIELDS]
    if unknown:
        raise ApiError(40001, f"unknown field(s) {unknown}")
    _authorised(call, ids)
    world = call.state.world
    result = []
    for advertiser_id in dict.fromkeys(ids):
        agent = world.find_agent(NAME, call.tenant, advertiser_id)
        info = world.account_info(NAME, advertiser_id)
        if agent is not None:
            item = {
                "id": advertiser_id,
                "name": agent.name,
                "role": "ROLE_AGENT" if agent.tier == Tier.FIRST else "ROLE_CHILD_AGENT",
                "status": "STATUS_ENABLE",
                "company": agent.name,
            }
        else:
            item = {
                "id": advertiser_id,
                "name": info.name,
                "role": "ROLE_ADVERTISER",
                "status": info.status,
                "company": info.company,
            }
        item.update(
            first_industry_name=info.first_industry_name,
            second_industry_name=info.second_industry_name,
            create_time=info.create_time,
        )
        result.append({f: item[f] for f in fields})
    return result


def advertiser_fund_get(call: Call) -> dict:
    advertiser_id = call.params.integer("advertiser_id", required=True)
    _authorised(call, [advertiser_id])
    world = call.state.world
    agent = world.find_agent(NAME, call.tenant, advertiser_id)
    return fund(world, advertiser_id, world.today(), name=agent.name if agent else None)


def report_agent_get_v2(call: Call) -> dict:
    """One row per advertiser of the agent per day (every advertiser, spending or not)."""
    p = call.params
    agent = _agent(call, "agent_id")
    start, end = _dates(p, span=None)
    world = call.state.world
    accounts = [a.account_id for a in world.agent_accounts(NAME, call.tenant, agent.agent_id)]
    filtering = p.structured("filtering", {})
    if not isinstance(filtering, dict):
        raise ApiError(40001, "filtering must be a JSON object")
    if filtering.get("advertiser_ids"):
        wanted = {as_int(v) for v in filtering["advertiser_ids"]}
        accounts = [a for a in accounts if a in wanted]
    days = [start + timedelta(days=i) for i in range((end - start).days + 1)]
    total = len(days) * len(accounts)

    def row(index: int) -> dict:
        return _agent_row(call, agent, accounts[index % len(accounts)], days[index // len(accounts)])

    if _cursor_mode(p, "cursor", "cursor_size"):
        size = p.integer("cursor_size", 100, low=1, high=1000)
        cursor = p.integer("cursor", 0, low=0)
        indices = range(cursor, min(total, cursor + size))
        after, has_more = cursor + len(indices), int(cursor + len(indices) < total)
        if call.state.faults.cursor_loop(NAME):  # a broken cursor: always the first page's
            after, has_more = min(total, size), 1
        return {
            "list": [row(i) for i in indices],
            "cursor_info": {
                "cursor": after,
                "cursor_size": size,
                "has_more": has_more,
                "total_number": total,
            },
        }
    page = p.integer("page", 1, low=1)
    page_size = p.integer("page_size", 10, low=1, high=100)
    window = page_slice(page, page_size)
    return {
        "list": [row(i) for i in range(window.start, min(total, window.stop))],
        "page_info": page_info(page, page_size, total),
    }


def _agent_row(call: Call, agent: Agent, advertiser_id: int, day: date) -> dict:
    world = call.state.world
    info = world.account_info(NAME, advertiser_id)
    t = world.daily_totals(NAME, advertiser_id, day)
    cost = t["cost"]
    cash_share = 0.8 + (stable_hash(world.seed, advertiser_id, day, "cash-share") % 21) / 100
    cash = round(cost * cash_share)
    return {
        "advertiser_id": advertiser_id,
        "advertiser_name": info.name,
        "agent_id": agent.agent_id,
        "agent_name": agent.name,
        "company_name": info.company,
        "stat_date": day.isoformat(),
        "cost": _yuan(cost),
        "cash_cost": _yuan(cash),
        "grants_cost": _yuan(cost - cash),
        "show": t["impression"],
        "click": t["click"],
        "ctr": _pct(t["click"], t["impression"]),
        "cpc": round(cost / 100 / t["click"], 2) if t["click"] else 0.0,
        "cpm": round(cost / 100 * 1000 / t["impression"], 2) if t["impression"] else 0.0,
        "account_status": info.status,
        "account_source": "NORMAL_ADVERTISER",
        "first_industry": info.first_industry_name,
        "second_industry": info.second_industry_name,
        "register_time": info.create_time,
    }


def _dates(p: Params, span: int | None) -> tuple[date, date]:
    start = parse_day(p.text("start_date", required=True), 40001, "start_date")
    end = parse_day(p.text("end_date", required=True), 40001, "end_date")
    if start > end:
        raise ApiError(40001, f"start_date {start} is after end_date {end}")
    if span is not None and (end - start).days > span:
        raise ApiError(40001, f"the date range may span {span} days at most")
    return start, end


def _report(level: str) -> Callable[[Call], dict]:
    """report/advertiser|campaign|ad/get: flat rows per time (and entity), `page_info`."""

    def handler(call: Call) -> dict:
        p = call.params
        advertiser_id = _advertiser(call)
        start, end = _dates(p, REPORT_SPAN_DAYS)
        page = p.integer("page", 1, low=1)
        page_size = p.integer("page_size", 20, low=1, high=1000)
        group_by = p.string_list("group_by", [STAT_TIME])
        if not group_by or any(g not in (STAT_TIME, FIELD_ID) for g in group_by):
            raise ApiError(40001, f"group_by must hold {STAT_TIME} and/or {FIELD_ID}")
        hourly = p.choice("time_granularity", GRANULARITIES, GRANULARITIES[0]) == GRANULARITIES[1]
        metrics = _metric_fields(p)
        order = p.choice("order_type", ("ASC", "DESC"), "DESC")
        atoms = _atoms(call, advertiser_id, start, end)
        atoms = _filter(p, atoms)
        by_time = STAT_TIME in group_by

        def key(atom: Any) -> tuple:
            parts: list[Any] = []
            if by_time:
                parts.append(f"{atom.date} {atom.hour:02d}:00:00" if hourly else f"{atom.date} 00:00:00")
            if level == "campaign":
                parts.append(atom.campaign_id)
            elif level == "ad":
                parts.append(atom.adgroup_id)
            return tuple(parts)

        groups = group_atoms(atoms, key)
        if order == "DESC" and by_time:
            groups.sort(key=lambda g: g[0][0], reverse=True)
        names = call.state.world.entities(NAME, advertiser_id).names()
        rows = []
        for group_key, members in groups[page_slice(page, page_size)]:
            first = members[0]
            row: dict[str, Any] = {}
            if by_time:
                row["stat_datetime"] = group_key[0]
            if level in ("campaign", "ad"):
                row["campaign_id"] = first.campaign_id
                row["campaign_name"] = names[("campaign_id", first.campaign_id)]
            if level == "ad":
                row["ad_id"] = first.adgroup_id
                row["ad_name"] = names[("adgroup_id", first.adgroup_id)]
            row.update(_metrics(members, metrics))
            rows.append(row)
        return {"list": rows, "page_info": page_info(page, page_size, len(groups))}

    return handler


def report_integrated_get(call: Call) -> dict:
    """Nested rows `{"dimensions": {...}, "metrics": {...}}` grouped by any supported dimensions."""
    p = call.params
    advertiser_id = _advertiser(call)
    start, end = _dates(p, REPORT_SPAN_DAYS)
    page = p.integer("page", 1, low=1)
    page_size = p.integer("page_size", 20, low=1, high=1000)
    group_by = list(dict.fromkeys(p.string_list("group_by", [STAT_TIME])))
    unknown = [g for g in group_by if g not in INTEGRATED_GROUPS and g != FIELD_ID]
    if not group_by or unknown:
        raise ApiError(40001, f"unsupported group_by {unknown or group_by}")
    dims = [INTEGRATED_GROUPS[g] for g in group_by if g in INTEGRATED_GROUPS]
    if len([d for d in dims if d[0] == "stat_datetime"]) > 1:
        raise ApiError(40001, "group_by may hold one time dimension only")
    metrics = _metric_fields(p)
    atoms = _filter(p, _atoms(call, advertiser_id, start, end))
    groups = group_atoms(atoms, lambda a: tuple(read(a) for _, read in dims))
    rows = []
    for group_key, members in groups[page_slice(page, page_size)]:
        dimensions = {name: value for (name, _), value in zip(dims, group_key, strict=True)}
        if FIELD_ID in group_by:
            dimensions["advertiser_id"] = advertiser_id
        rows.append({"dimensions": dimensions, "metrics": _metrics(members, metrics)})
    return {"list": rows, "page_info": page_info(page, page_size, len(groups))}


def _atoms(call: Call, advertiser_id: int, start: date, end: date) -> list:
    world = call.state.world
    atoms = []
    day = start
    while day <= end:
        atoms.extend(world.atoms(NAME, advertiser_id, day))
        day += timedelta(days=1)
    return atoms


def _filter(p: Params, atoms: list) -> list:
    filtering = p.structured("filtering", {})
    if not isinstance(filtering, dict):
        raise ApiError(40001, "filtering must be a JSON object")
    for name, attribute in (
        ("campaign_ids", "campaign_id"),
        ("ad_ids", "adgroup_id"),
        ("creative_ids", "ad_id"),
    ):
        if filtering.get(name):
            wanted = {as_int(v) for v in filtering[name]}
            atoms = [a for a in atoms if getattr(a, attribute) in wanted]
    return atoms


def _metric_fields(p: Params) -> list[str]:
    fields = p.string_list("fields", list(REPORT_METRICS))
    unknown = [f for f in fields if f not in REPORT_METRICS]
    if unknown:
        raise ApiError(40001, f"unknown field(s) {unknown}")
    return fields


def _metrics(members: list, fields: list[str]) -> dict[str, Any]:
    t = sum_metrics(members, METRICS)
    cost = t["cost"] / 100
    values = {
        "cost": _yuan(t["cost"]),
        "show": t["impression"],
        "click": t["click"],
        "ctr": _pct(t["click"], t["impression"]),
        "avg_show_cost": round(cost * 1000 / t["impression"], 2) if t["impression"] else 0.0,
        "avg_click_cost": round(cost / t["click"], 2) if t["click"] else 0.0,
        "convert": t["conversion"],
        "convert_cost": round(cost / t["conversion"], 2) if t["conversion"] else 0.0,
        "convert_rate": _pct(t["conversion"], t["click"]),
        "active": t["activation"],
        "download_finish": t["download"],
        "deep_convert": t["activation"] // 2,
    }
    return {f: values[f] for f in fields}


def _yuan(fen: int) -> float:
    return round(fen / 100, 2)


def _pct(numerator: int, denominator: int) -> float:
    return round(numerator * 100 / denominator, 2) if denominator else 0.0


def refresh_token(call: Call) -> dict:
    """`POST /open_api/oauth2/refresh_token/`: a new pair; the old access and refresh tokens die."""
    body = call.body
    app = call.state.config.media[NAME].app
    if as_int(body.get("app_id")) != app.app_id or body.get("secret") != app.secret:
        raise ApiError(40101, MESSAGES[40101])
    if body.get("grant_type") != "refresh_token":
        raise ApiError(40108, MESSAGES[40108])
    token = body.get("refresh_token")
    if not isinstance(token, str) or not token:
        raise ApiError(40107, MESSAGES[40107])
    status, grant = call.state.refresh(NAME, token)
    if status is TokenState.UNKNOWN:
        raise ApiError(40107, MESSAGES[40107])
    if status is TokenState.EXPIRED:
        raise ApiError(40103, MESSAGES[40103])
    ttl = call.state.config.media[NAME].tokens
    return {
        "access_token": grant.access_token,
        "expires_in": int(ttl.access_ttl_s),
        "refresh_token": grant.refresh_token,
        "refresh_token_expires_in": int(ttl.refresh_ttl_s),
    }


# -- the world: agents in two tiers, accounts, funds --------------------------------------------------


class JrttSizes(StrictModel):
    """jrtt in a profile: first-tier agents with their direct accounts, second-tier agents with theirs."""

    first_tier_agents: int = Field(ge=1)
    direct_accounts: int = Field(ge=0)
    second_tier_agents: int = Field(ge=0)
    second_tier_accounts: int = Field(ge=0)


# Agent ids are Redis scores, so they stay below 2**53; advertiser ids are real int64 values above
# 2**53 (a float64 JSON reader breaks them), and so is every entity id inside an account.
AGENT_IDS = (1_000_000_000, 9_999_999_999)
ACCOUNT_IDS = (1_600_000_000_000_000_000, 1_800_000_000_000_000_000)
ENTITY_IDS = dict.fromkeys(("campaign", "adgroup", "ad"), ACCOUNT_IDS)


def build_roster(profile: ProfileConfig, seed: int, tenant: str) -> MediaRoster:
    sizes = profile.media_sizes(NAME)
    media = NAME
    roster = MediaRoster()
    agent_ids = Ids(seed, tenant, media, "agent")
    account_ids = Ids(seed, tenant, media, "account")

    def agent(key: object, tier: Tier, parent: int | None, state: tuple[int, int]) -> Agent:
        agent_id = agent_ids.draw(AGENT_IDS, key)
        suffix = "一级代理" if tier == Tier.FIRST else "二级代理"
        name = company_name(seed, tenant, media, agent_id).replace("有限公司", f"{suffix}有限公司")
        created = Agent(media, agent_id, name, tier, parent, *state)
        roster.add_agent(created)
        return created

    def accounts(owner: Agent, count: int, key: object) -> None:
        for j in range(count):
            account_id = account_ids.draw(ACCOUNT_IDS, key, j)
            roster.add_account(Account(media, account_id, owner.agent_id))

    first_states = active_states(seed, tenant, media, sizes.first_tier_agents)
    firsts = [agent(("first", i), Tier.FIRST, None, s) for i, s in enumerate(first_states)]
    second_states = active_states(seed, tenant, media, sizes.second_tier_agents, "second")
    seconds = [
        agent(
            ("second", i),
            Tier.SECOND,
            firsts[stable_hash(seed, tenant, media, "parent", i) % len(firsts)].agent_id,
            s,
        )
        for i, s in enumerate(second_states)
    ]
    for i, (owner, count) in enumerate(
        zip(firsts, split(sizes.direct_accounts, len(firsts), seed, tenant, "direct"), strict=True)
    ):
        accounts(owner, count, ("first", i))
    for i, (owner, count) in enumerate(
        zip(seconds, split(sizes.second_tier_accounts, len(seconds), seed, tenant, "second"), strict=True)
    ):
        accounts(owner, count, ("second", i))
    # Inactive agents are first tier; the first one also has an inactive second-tier child, so no
    # active agent's tree ever reaches an account the platform must ignore.
    for k, state in enumerate(inactive_states(profile.inactive_agents)):
        parent = agent(("inactive", k), Tier.FIRST, None, state)
        accounts(parent, profile.inactive_accounts, ("inactive", k))
        if k == 0:
            child = agent(("inactive-child", k), Tier.SECOND, parent.agent_id, (1, 2))
            accounts(child, profile.inactive_accounts, ("inactive-child", k))
    return roster


def fund(world: World, advertiser_id: int, day: date, *, name: str | None = None) -> dict:
    """`advertiser/fund/get` data of an advertiser or agent (pass its `name`), floats in yuan."""
    h = stable_hash(world.seed, NAME, advertiser_id, day, "fund")
    info = world.account_info(NAME, advertiser_id)
    cash = (h % 10_000_000) / 100
    grant = 0.0 if h % 3 == 0 else ((h >> 24) % 200_000) / 100
    frozen = 0.0 if (h >> 8) % 4 else min(cash, ((h >> 40) % 50_000) / 100)
    returned = 0.0 if (h >> 12) % 10 else ((h >> 48) % 10_000) / 100
    return {
        "advertiser_id": advertiser_id,
        "name": name or info.name,
        "email": info.email,
        "balance": round(cash + grant + returned, 2),
        "valid_balance": round(cash - frozen + grant + returned, 2),
        "cash": round(cash, 2),
        "valid_cash": round(cash - frozen, 2),
        "grant": round(grant, 2),
        "valid_grant": round(grant, 2),
        "return_goods_abs": round(returned, 2),
        "valid_return_goods_abs": round(returned, 2),
        "return_goods_cost": 0.0,
    }


def _funds(world: World, media: str, account_id: int, day: date) -> list[dict]:
    return [fund(world, account_id, day)]  # one object, not a list: one record


def sign(token: str | None, params: dict[str, Any]) -> tuple[dict[str, str], dict[str, str]]:
    """A client's request: the token in the `Access-Token` header, structured values JSON-encoded."""
    headers = {} if token is None else {"Access-Token": token}
    return {k: query_value(v) for k, v in params.items()}, headers


# -- the jrtt API and declaration ---------------------------------------------------------------------


def _report_endpoint(level: str) -> Endpoint:
    return Endpoint(f"report/{level}/get", _report(level), records=atom_records)


REPORT_LEVELS = ("advertiser", "campaign", "ad")

API = JrttApi(
    {
        "/open_api/2/agent/advertiser/select": Endpoint("agent/advertiser/select", agent_advertiser_select),
        "/open_api/2/agent/child_agent/select": Endpoint("agent/child_agent/select", child_agent_select),
        "/open_api/2/advertiser/info": Endpoint("advertiser/info", advertiser_info),
        "/open_api/2/advertiser/fund/get": Endpoint(
            "advertiser/fund/get", advertiser_fund_get, records=fund_records
        ),
        "/open_api/2/report/agent/get_v2": Endpoint("report/agent/get_v2", report_agent_get_v2),
        **{f"/open_api/2/report/{level}/get": _report_endpoint(level) for level in REPORT_LEVELS},
        "/open_api/2/report/integrated/get": Endpoint(
            "report/integrated/get", report_integrated_get, records=atom_records
        ),
        "/open_api/oauth2/refresh_token": Endpoint(
            "oauth2/refresh_token", refresh_token, method="POST", authenticated=False
        ),
    }
)

MEDIA = MediaSpec(
    name=NAME,
    platform_id=3,
    api=API,
    world=WorldSpec(
        sizes=JrttSizes,
        roster=build_roster,
        site_sets=("INVENTORY_FEED",),
        promoted_object_types=("APP",),
        entity_ids=ENTITY_IDS,
        funds=_funds,
    ),
    # every agent, then each tier in a key of its own
    agent_keys=(
        AgentKey(format="jrtt_agents_v2_{tenant}"),
        AgentKey(format="jrtt_one_agents_v2_{tenant}", tier=Tier.FIRST),
        AgentKey(format="jrtt_child_agents_v2_{tenant}", tier=Tier.SECOND),
    ),
    # account lists per tier only: first-tier agents' direct accounts, second-tier agents' accounts
    account_keys=(
        AccountKey(format="jrtt_accounts_v2_{tenant}_{day}", tier=Tier.FIRST),
        AccountKey(format="jrtt_child_advertiser_v2_{tenant}_{day}", tier=Tier.SECOND),
    ),
    tables=(
        Table(dataset="agent_list_first_tier", rows=Rows.AGENTS, tier=Tier.FIRST),
        Table(dataset="agent_list_second_tier", rows=Rows.AGENTS, tier=Tier.SECOND),
        # first tier: the agents' direct accounts with their details (the seed's "next job")
        Table(dataset="advertiser_info_v2", rows=Rows.ACCOUNTS, tier=Tier.FIRST),
        # second tier: the accounts the agent report lists (the seed's DailyReportAgent)
        Table(dataset="agent_report_v2", rows=Rows.ACCOUNTS, tier=Tier.SECOND),
        # one object per account
        Table(dataset="advertiser_fund_get_v2", rows=Rows.PER_ACCOUNT, endpoint="advertiser/fund/get"),
        *(
            Table(dataset=f"report_{level}_v2", rows=Rows.PER_ACCOUNT, endpoint=f"report/{level}/get")
            for level in REPORT_LEVELS
        ),
    ),
    sign=sign,
)
