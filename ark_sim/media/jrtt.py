"""jrtt: the Ocean Engine Marketing API (open_api v2, and v3.0's custom report) as the simulator serves it.

Conventions (docs/media/jrtt.md, the contract tables in `_ocean_contract.py`): header
`Access-Token` (no "Bearer"); GET parameters in the query string with arrays/objects
JSON-encoded (a JSON body on a GET is read too, as the legacy jobs send one); envelope
`{code, message ("OK"), request_id, data}`, errors HTTP 200 with `data: {}`; money in float yuan;
int64 ids as JSON integers (above 2**53); no quota headers. Every request is checked against its
endpoint's contract before a handler runs (typed: `advertiser_ids` must be JSON numbers, the
refresh's `app_id` a JSON number); handlers read the checked values (`call.args`).

Authorisation tree: a first-tier agent's token covers its own accounts and its second-tier agents
with their accounts; a second-tier agent's token covers only its own accounts. In this API jrtt's
"ad" (广告计划) is the world's adgroup and jrtt's "creative" is the world's ad.

Two kinds of account (`upgraded_share` of the profile's jrtt sizes): a legacy account's ads are
read through the v2 campaign and ad reports; an account on the upgraded platform has projects
(the world's campaigns) and promotions (its adgroups), read through `report/custom/get` (v3.0),
and no campaigns or ads at all. The v2 campaign and ad reports leave deleted entities out unless
`filtering.status` asks for all of them (bububa `api/report/ad_get.go`).

Also jrtt's world (first-tier agents with direct accounts, second-tier agents under them with
theirs, int64 ids), the seed's Redis keys per tier and HBase tables for it: `MEDIA` at the end.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import Field

from ark_sim.common import (
    ApiError,
    Incoming,
    Outgoing,
    dumps,
    group_atoms,
    page_info,
    page_slice,
    query_value,
    sum_metrics,
)
from ark_sim.config import ProfileConfig, StrictModel
from ark_sim.contract import ApiContract, Args, EndpointContract
from ark_sim.faults import Fault, FaultKind, mistype, pad, truncate
from ark_sim.media._ocean_contract import (
    ACCOUNT_FUND_MONEY,
    CODES,
    CONVENTIONS,
    FIELD_ID,
    INFO_FIELDS,
    MEANINGS,
    PARAM_CODES,
    QUOTA,
    REPORT_METRICS,
    SOURCES,
    STAT_TIME,
    STATUS_ALL,
    V2,
    VERSION_ROWS,
    endpoint_contracts,
)
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
    unit,
)
from ark_sim.quota import Exhausted
from ark_sim.spec import AccountKey, AgentKey, MediaSpec, Records, Rows, Table, Tier, WorldSpec
from ark_sim.state import SimState
from ark_sim.tokens import Grant, TokenState
from ark_sim.world import METRICS, World, atom_records, fund_records

NAME = "jrtt"

_GMT8 = ZoneInfo("Asia/Shanghai")
# the simulator's texts; every other code answers with its meaning from the contract's code table
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
    args: Args
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
    contract: EndpointContract
    handler: Callable[[Call], Any]
    authenticated: bool = True
    records: Records | None = None  # an account's data: how many records it answers for a day

    @property
    def name(self) -> str:
        return self.contract.name


class JrttApi:
    media = NAME

    def __init__(self, endpoints: dict[str, Endpoint]) -> None:
        self.endpoints = endpoints

    def handle(self, state: SimState, incoming: Incoming, fault: Fault | None) -> tuple[str, Outgoing]:
        request_id = _request_id()
        endpoint = self.endpoints.get(incoming.path.rstrip("/"))
        throttled = False
        if endpoint is None or incoming.method != endpoint.contract.method:
            name = endpoint.name if endpoint else "unknown"
            body = _envelope(ApiError(40001, f"no API {incoming.method} {incoming.path}"), request_id)
        else:
            name = endpoint.name
            decision = state.quotas.acquire(self.media, state.app_id(self.media), name)
            if not decision.allowed:
                throttled = True
                body = _envelope(ApiError(THROTTLE_CODES[decision.exhausted], ""), request_id)
            elif fault is not None and fault.kind is FaultKind.BUSY:
                body = _envelope(ApiError(BUSY_CODE, ""), request_id)
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

    def coded(self, code: int, out: Outgoing) -> Outgoing:
        """`out` answered with body code `code` instead (a tamper rule's `code`), request id kept."""
        request_id = out.headers.get("X-Tt-Logid") or _request_id()
        return replace(out, body=dumps(_envelope(ApiError(code, ""), request_id)), outcome=str(code))

    def _run(self, state: SimState, incoming: Incoming, endpoint: Endpoint, request_id: str) -> dict:
        try:
            body = _json_body(incoming)
            values: dict[str, Any] = dict(incoming.query)
            values.update(body)
            grant = _authenticate(state, incoming) if endpoint.authenticated else None
            call = Call(state, endpoint.contract.check(values, PARAM_CODES, state.clock.today()), grant)
            data = endpoint.handler(call)
        except ApiError as exc:
            return _envelope(exc, request_id)
        return {"code": 0, "message": "OK", "request_id": request_id, "data": data}


def _request_id() -> str:
    """Ocean Engine request ids: a GMT+8 timestamp then hex, e.g. 202405011230450102120000A1B2C3."""
    return datetime.now(_GMT8).strftime("%Y%m%d%H%M%S") + secrets.token_hex(8).upper()


def _envelope(exc: ApiError, request_id: str) -> dict:
    message = MESSAGES.get(exc.code) or MEANINGS.get(exc.code) or exc.message
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
    agent_id = call.args[name]
    _authorised(call, [agent_id])
    agent = call.state.world.find_agent(NAME, call.tenant, agent_id)
    if agent is None:
        raise ApiError(40001, f"{name} {agent_id} is not an agent")
    return agent


def _advertiser(call: Call) -> int:
    """The advertiser named by `advertiser_id`, inside the token's tree and not an agent."""
    advertiser_id = call.args["advertiser_id"]
    _authorised(call, [advertiser_id])
    if call.state.world.find_account(NAME, call.tenant, advertiser_id) is None:
        raise ApiError(40001, f"advertiser_id {advertiser_id} is an agent, not an advertiser")
    return advertiser_id


def _cursor_mode(call: Call, *names: str) -> bool:
    """Cursor mode when any cursor parameter is sent (the simulator's rule; no source states how
    the media pick), page mode always while the fault `cursor_ignored` is on."""
    if call.state.faults.cursor_ignored(NAME):
        return False
    return any(n in call.args.sent for n in names)


# -- handlers ---------------------------------------------------------------------------------------


def agent_advertiser_select(call: Call) -> dict:
    """An agent's advertiser ids (a first-tier agent: its direct accounts only)."""
    a = call.args
    agent = _agent(call, "advertiser_id")
    ids = [x.account_id for x in call.state.world.agent_accounts(NAME, call.tenant, agent.agent_id)]
    if _cursor_mode(call, "cursor", "count"):
        count, cursor = a["count"], a["cursor"] or 0
        chunk = ids[cursor : cursor + count]
        after = cursor + len(chunk)
        has_more = after < len(ids)
        if call.state.faults.cursor_loop(NAME):  # a broken cursor: always the first page's
            after, has_more = len(ids[:count]), True
        return {
            "list": chunk,
            "advertiser_ids": chunk,
            "account_source": "AD",
            "cursor_page_info": {
                "count": count,
                "cursor": after,
                "has_more": has_more,
                "total_number": len(ids),
            },
        }
    page, page_size = a["page"], a["page_size"]
    chunk = ids[page_slice(page, page_size)]
    return {
        "list": chunk,
        "advertiser_ids": chunk,
        "account_source": "AD",
        "page_info": page_info(page, page_size, len(ids)),
    }


def child_agent_select(call: Call) -> dict:
    """A first-tier agent's second-tier agent ids (none for a second-tier agent)."""
    a = call.args
    agent = _agent(call, "advertiser_id")
    children = []
    if agent.tier == Tier.FIRST:
        children = [x.agent_id for x in call.state.world.child_agents(NAME, call.tenant, agent.agent_id)]
    chunk = children[page_slice(a["page"], a["page_size"])]
    return {
        "child_agent_ids": chunk,
        "list": chunk,
        "page_info": page_info(a["page"], a["page_size"], len(children)),
    }


def advertiser_info(call: Call) -> list[dict]:
    """Up to 100 advertisers' (or agents') details; one id outside the tree fails the whole call."""
    ids = call.args["advertiser_ids"]
    fields = call.args["fields"] or list(INFO_FIELDS)
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
    advertiser_id = call.args["advertiser_id"]
    _authorised(call, [advertiser_id])
    world = call.state.world
    agent = world.find_agent(NAME, call.tenant, advertiser_id)
    return fund(world, advertiser_id, world.today(), name=agent.name if agent else None)


def account_fund_get(call: Call) -> dict:
    """v3.0's batch of balances: `advertiser/fund/get`'s values of each id, money in fen."""
    ids = list(dict.fromkeys(call.args["account_ids"]))
    _authorised(call, ids)
    world = call.state.world
    records = []
    for account_id in ids:
        agent = world.find_agent(NAME, call.tenant, account_id)
        v2 = fund(world, account_id, world.today(), name=agent.name if agent else None)
        record: dict[str, Any] = {"account_id": account_id}
        record.update({m: round(float(v2[m]) * 100) for m in ACCOUNT_FUND_MONEY})
        record["wallet_id"] = int(v2["wallet_id"])
        records.append(record)
    return {"list": records}


def report_agent_get_v2(call: Call) -> dict:
    """One row per advertiser of the agent for the range (every advertiser, spending or not)."""
    a = call.args
    agent = _agent(call, "agent_id")
    world = call.state.world
    accounts = [x.account_id for x in world.agent_accounts(NAME, call.tenant, agent.agent_id)]
    wanted = (a["filtering"] or {}).get("advertiser_ids")
    if wanted:
        accounts = [x for x in accounts if x in set(wanted)]
    days = [a["start_date"] + timedelta(days=i) for i in range((a["end_date"] - a["start_date"]).days + 1)]
    total = len(accounts)

    def row(index: int) -> dict:
        return _agent_row(call, agent, accounts[index], days)

    if _cursor_mode(call, "cursor", "cursor_size"):
        size, cursor = a["cursor_size"], a["cursor"] or 0
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
    page, page_size = a["page"], a["page_size"]
    window = page_slice(page, page_size)
    return {
        "list": [row(i) for i in range(window.start, min(total, window.stop))],
        "page_info": page_info(page, page_size, total),
    }


def _agent_row(call: Call, agent: Agent, advertiser_id: int, days: list[date]) -> dict:
    world = call.state.world
    info = world.account_info(NAME, advertiser_id)
    totals = [world.daily_totals(NAME, advertiser_id, day) for day in days]
    t = {metric: sum(day[metric] for day in totals) for metric in METRICS}
    cost = t["cost"]
    cash_share = 0.8 + (stable_hash(world.seed, advertiser_id, days[0], "cash-share") % 21) / 100
    cash = round(cost * cash_share)
    return {
        "advertiser_id": advertiser_id,
        "advertiser_name": info.name,
        "agent_id": agent.agent_id,
        "agent_name": agent.name,
        "company_name": info.company,
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


def _report(level: str) -> Callable[[Call], dict]:
    """report/advertiser|campaign|ad/get: flat rows per time (and entity), `page_info`."""

    def handler(call: Call) -> dict:
        a = call.args
        advertiser_id = _advertiser(call)
        group_by = a["group_by"]
        hourly = a["time_granularity"] == "STAT_TIME_GRANULARITY_HOURLY"
        metrics = a["fields"] or list(REPORT_METRICS)
        atoms = _atoms(call, advertiser_id, a["start_date"], a["end_date"])
        if level in STATUS_ALL:
            atoms = _legacy(call, advertiser_id, atoms, (a["filtering"] or {}).get("status"), level)
        atoms = _filter(a["filtering"], atoms)
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
        if a["order_type"] == "DESC" and by_time:
            groups.sort(key=lambda g: g[0][0], reverse=True)
        names = call.state.world.entities(NAME, advertiser_id).names()
        rows = []
        for group_key, members in groups[page_slice(a["page"], a["page_size"])]:
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
        return {"list": rows, "page_info": page_info(a["page"], a["page_size"], len(groups))}

    return handler


def _legacy(call: Call, advertiser_id: int, atoms: list, status: str | None, level: str) -> list:
    """The atoms a v2 campaign or ad report sees: none of an upgraded account; without the
    `*_STATUS_ALL` status, none of a deleted campaign (and, at ad level, of a deleted ad)."""
    world = call.state.world
    if upgraded(world, advertiser_id):
        return []
    if status == STATUS_ALL[level]:
        return atoms
    gone = world.entities(NAME, advertiser_id).deleted()
    kinds = ("campaign_id",) if level == "campaign" else ("campaign_id", "adgroup_id")
    return [atom for atom in atoms if not any(getattr(atom, kind) in gone[kind] for kind in kinds)]


def upgraded(world: World, advertiser_id: int) -> bool:
    """Whether the account is on the upgraded platform (projects and promotions)."""
    share = world.profile.media_sizes(NAME).upgraded_share
    return unit(world.seed, NAME, advertiser_id, "upgraded") < share


# custom report dimensions -> how to read them from an atom (projects are the world's campaigns,
# promotions its adgroups: the v2 API's "ad")
CUSTOM_READ: dict[str, Callable[[Any], Any]] = {
    "stat_time_day": lambda atom: atom.date,
    "stat_time_hour": lambda atom: f"{atom.date} {atom.hour:02d}:00:00",
    "cdp_project_id": lambda atom: atom.campaign_id,
    "cdp_promotion_id": lambda atom: atom.adgroup_id,
}
CUSTOM_NAMES = {"cdp_project_name": "campaign_id", "cdp_promotion_name": "adgroup_id"}


def report_custom_get(call: Call) -> dict:
    """`report/custom/get` (v3.0): `{dimensions, metrics}` rows of an upgraded account."""
    a = call.args
    advertiser_id = _advertiser(call)
    world = call.state.world
    atoms = (
        []
        if not upgraded(world, advertiser_id)
        else _atoms(call, advertiser_id, a["start_time"], a["end_time"])
    )
    for item in a["filters"]:
        if item["field"] in ("cdp_project_id", "cdp_promotion_id") and item["operator"] == 1:
            wanted = set(item["values"])
            atoms = [atom for atom in atoms if str(CUSTOM_READ[item["field"]](atom)) in wanted]
    keys = [d for d in a["dimensions"] if d in CUSTOM_READ]
    groups = group_atoms(atoms, lambda atom: tuple(CUSTOM_READ[k](atom) for k in keys))
    names = world.entities(NAME, advertiser_id).names()
    rows = []
    for _, members in groups[page_slice(a["page"], a["page_size"])]:
        first = members[0]
        dimensions: dict[str, Any] = {}
        for name in a["dimensions"]:
            if name in CUSTOM_READ:
                dimensions[name] = CUSTOM_READ[name](first)
            else:
                id_field = CUSTOM_NAMES[name]
                dimensions[name] = names[(id_field, getattr(first, id_field))]
        rows.append({"dimensions": dimensions, "metrics": _custom_metrics(members, a["metrics"])})
    return {
        "rows": rows,
        "total_metrics": _custom_metrics(atoms, a["metrics"]),
        "page_info": page_info(a["page"], a["page_size"], len(groups)),
    }


def _custom_metrics(members: list, names: list[str]) -> dict[str, Any]:
    t = sum_metrics(members, METRICS)
    cost = t["cost"] / 100
    values = {
        "stat_cost": _yuan(t["cost"]),
        "show_cnt": t["impression"],
        "click_cnt": t["click"],
        "ctr": _pct(t["click"], t["impression"]),
        "cpm_platform": round(cost * 1000 / t["impression"], 2) if t["impression"] else 0.0,
        "cpc_platform": round(cost / t["click"], 2) if t["click"] else 0.0,
        "convert_cnt": t["conversion"],
        "conversion_cost": round(cost / t["conversion"], 2) if t["conversion"] else 0.0,
        "conversion_rate": _pct(t["conversion"], t["click"]),
        "active": t["activation"],
        "download_finish_cnt": t["download"],
        "deep_convert_cnt": t["activation"] // 2,
    }
    return {name: values[name] for name in names}


def report_integrated_get(call: Call) -> dict:
    """Nested rows `{"dimensions": {...}, "metrics": {...}}` grouped by any supported dimensions."""
    a = call.args
    advertiser_id = _advertiser(call)
    group_by = list(dict.fromkeys(a["group_by"]))
    dims = [INTEGRATED_GROUPS[g] for g in group_by if g in INTEGRATED_GROUPS]
    if len([d for d in dims if d[0] == "stat_datetime"]) > 1:
        raise ApiError(40001, "group_by may hold one time dimension only")
    metrics = a["fields"] or list(REPORT_METRICS)
    atoms = _filter(a["filtering"], _atoms(call, advertiser_id, a["start_date"], a["end_date"]))
    groups = group_atoms(atoms, lambda atom: tuple(read(atom) for _, read in dims))
    rows = []
    for group_key, members in groups[page_slice(a["page"], a["page_size"])]:
        dimensions = {name: value for (name, _), value in zip(dims, group_key, strict=True)}
        if FIELD_ID in group_by:
            dimensions["advertiser_id"] = advertiser_id
        rows.append({"dimensions": dimensions, "metrics": _metrics(members, metrics)})
    return {"list": rows, "page_info": page_info(a["page"], a["page_size"], len(groups))}


def _atoms(call: Call, advertiser_id: int, start: date, end: date) -> list:
    world = call.state.world
    atoms = []
    day = start
    while day <= end:
        atoms.extend(world.atoms(NAME, advertiser_id, day))
        day += timedelta(days=1)
    return atoms


def _filter(filtering: dict | None, atoms: list) -> list:
    for name, attribute in (
        ("campaign_ids", "campaign_id"),
        ("ad_ids", "adgroup_id"),
        ("creative_ids", "ad_id"),
    ):
        wanted = (filtering or {}).get(name)
        if wanted:
            atoms = [atom for atom in atoms if getattr(atom, attribute) in set(wanted)]
    return atoms


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
    a = call.args
    app = call.state.config.media[NAME].app
    if a["app_id"] != app.app_id or a["secret"] != app.secret:
        raise ApiError(40101, MESSAGES[40101])
    status, grant = call.state.refresh(NAME, a["refresh_token"])
    if status is TokenState.UNKNOWN:
        raise ApiError(40107, MESSAGES[40107])
    if status is TokenState.EXPIRED:
        raise ApiError(40103, MESSAGES[40103])
    ttl = call.state.config.media[NAME].tokens
    data: dict[str, Any] = {"access_token": grant.access_token, "expires_in": int(ttl.access_ttl_s)}
    if ttl.refresh_answer_token:
        data["refresh_token"] = grant.refresh_token
    data["refresh_token_expires_in"] = int(ttl.refresh_ttl_s)
    return data


# -- the world: agents in two tiers, accounts, funds --------------------------------------------------


class JrttSizes(StrictModel):
    """jrtt in a profile: first-tier agents with their direct accounts, second-tier agents with theirs."""

    first_tier_agents: int = Field(ge=1)
    direct_accounts: int = Field(ge=0)
    second_tier_agents: int = Field(ge=0)
    second_tier_accounts: int = Field(ge=0)
    # share of accounts on the upgraded platform (projects and promotions, read by the custom report)
    upgraded_share: float = Field(default=0.0, ge=0.0, le=1.0)


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
        "default_grant": round(grant, 2),
        "common_grant": 0.0,
        "search_grant": 0.0,
        "union_grant": 0.0,
        "compensation_grant": 0.0,
        "compensation_valid_grant": 0.0,
        "return_goods_abs": round(returned, 2),
        "valid_return_goods_abs": round(returned, 2),
        "return_goods_cost": 0.0,
        "return_goods_grant": 0.0,
        "return_goods_valid_grant": 0.0,
        # strings in the official model, even the balance
        "wallet_id": str(1_000_000_000 + (h >> 16) % 9_000_000_000),
        "wallet_name": f"{name or info.name}钱包",
        "wallet_total_balance_valid": f"{round(cash - frozen + grant + returned, 2):.2f}",
    }


def _funds(world: World, media: str, account_id: int, day: date) -> list[dict]:
    return [fund(world, account_id, day)]  # one object, not a list: one record


def sign(token: str | None, params: dict[str, Any]) -> tuple[dict[str, str], dict[str, str]]:
    """A client's request: the token in the `Access-Token` header, structured values JSON-encoded."""
    headers = {} if token is None else {"Access-Token": token}
    return {k: query_value(v) for k, v in params.items()}, headers


# -- the jrtt API and declaration ---------------------------------------------------------------------

REPORT_LEVELS = ("advertiser", "campaign", "ad")
HANDLERS: dict[str, Callable[[Call], Any]] = {
    "agent/advertiser/select": agent_advertiser_select,
    "agent/child_agent/select": child_agent_select,
    "advertiser/info": advertiser_info,
    "advertiser/fund/get": advertiser_fund_get,
    "account/fund/get": account_fund_get,
    "report/agent/get_v2": report_agent_get_v2,
    **{f"report/{level}/get": _report(level) for level in REPORT_LEVELS},
    "report/custom/get": report_custom_get,
    "report/integrated/get": report_integrated_get,
    "oauth2/refresh_token": refresh_token,
}


def _legacy_records(world: World, media: str, account_id: int, day: date, time_line: str) -> int:
    """A v2 campaign or ad report's atoms of an account (all of them, deleted entities too: the
    platform asks with `*_STATUS_ALL`); none of an upgraded account."""
    return 0 if upgraded(world, account_id) else atom_records(world, media, account_id, day, time_line)


def _upgraded_records(world: World, media: str, account_id: int, day: date, time_line: str) -> int:
    """The custom report's atoms of an account: none of a legacy account."""
    return atom_records(world, media, account_id, day, time_line) if upgraded(world, account_id) else 0


RECORDS: dict[str, Records] = {
    "advertiser/fund/get": fund_records,
    "account/fund/get": fund_records,
    "report/advertiser/get": atom_records,
    "report/campaign/get": _legacy_records,
    "report/ad/get": _legacy_records,
    "report/custom/get": _upgraded_records,
    "report/integrated/get": atom_records,
}
API = JrttApi(
    {
        c.path: Endpoint(
            c, HANDLERS[c.name], authenticated=c.name != "oauth2/refresh_token", records=RECORDS.get(c.name)
        )
        for c in endpoint_contracts()
    }
)
CONTRACT = ApiContract(
    media=NAME,
    sources=SOURCES,
    versions=VERSION_ROWS,
    conventions=CONVENTIONS,
    auth=(),
    endpoints=tuple(e.contract for e in API.endpoints.values()),
    codes=CODES,
    quota=QUOTA,
)

MEDIA = MediaSpec(
    name=NAME,
    platform_id=3,
    api=API,
    contract=CONTRACT,
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
        # one record per account: v3.0's batched balances (the seed's advertiser_fund_get_v2 held the
        # per-account v2 object; its records differ in type and unit, so they are a table of their own)
        Table(dataset="account_fund_get_v3", rows=Rows.PER_ACCOUNT, endpoint="account/fund/get"),
        *(
            Table(dataset=f"report_{level}_v2", rows=Rows.PER_ACCOUNT, endpoint=f"report/{level}/get")
            for level in REPORT_LEVELS
        ),
        # upgraded accounts' projects and promotions (report/custom/get, v3.0): a row per account
        *(
            Table(dataset=f"report_{level}_v3", rows=Rows.PER_ACCOUNT, endpoint="report/custom/get")
            for level in ("project", "promotion")
        ),
    ),
    sign=sign,
    versions=(V2,),
)
