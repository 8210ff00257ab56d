"""Contract: the simulator enforces its contract tables, answers what they declare, and the docs carry them.

- The contract drives the server: every path the simulator serves is one endpoint contract of its
  version, every row of every table names a source (or says it has none).
- For every endpoint of every media and version: dropping a required parameter, mistyping any
  parameter, or sending an undeclared one is refused with the media's code for it, naming the
  parameter (Tencent: in `errors[]`; Ocean Engine: in the message). The valid request beside each
  is answered with code 0.
- Every record of those answers holds only fields the contract declares, with their JSON types.
- `docs/media/<media>.md` holds exactly the tables `ark-sim contracts` renders from the contract.
- The platform's declarations fit the contract: every path it calls in every API version is
  served, every parameter it sends is declared, every body code it maps is in the code table.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from ark_assets.media.registry import all_media
from ark_assets.media.registry import media as product_media
from ark_sim import SimConfig, running_simulator
from ark_sim.contract import NO_SOURCE, EndpointContract, Param, Type, render
from ark_sim.media import jrtt as sim_jrtt
from ark_sim.media import lookup, registry
from ark_sim.media._tencent_v3 import RETIRED
from ark_sim.server import RunningSimulator
from ark_sim.spec import Tier
from ark_sim.testing import SimClient

ROOT = Path(__file__).resolve().parents[1]
DAY = "2024-05-10"
ONE_DAY = {"start_date": DAY, "end_date": DAY}


# async report tasks complete at once here, so a valid request for a task's file finds one
INSTANT_TASKS = {"async_reports": {"pending_s": 0, "processing_s": 0}}


@pytest.fixture(scope="module")
def sim() -> Iterator[RunningSimulator]:
    overrides = {"clock": {"today": "2024-05-20"}, "media": {"gdt": INSTANT_TASKS, "wx": INSTANT_TASKS}}
    with running_simulator(SimConfig.load(overrides=overrides)) as running:
        yield running


@pytest.fixture(scope="module")
def client(sim: RunningSimulator) -> Iterator[SimClient]:
    with SimClient(sim.base_url) as c:
        yield c


def _endpoints() -> list[tuple[str, EndpointContract]]:
    return [(spec.name, contract) for spec in registry() for contract in spec.contract.endpoints]


@contextmanager
def _served(sim: RunningSimulator, contract: EndpointContract) -> Iterator[None]:
    """A retired endpoint is served only up to its last day: the test's clock is put back there."""
    retired = RETIRED.get(contract.name)
    if retired is None:
        yield
        return
    before = sim.world.today()
    sim.set_today(retired[0])
    try:
        yield
    finally:
        sim.set_today(before)


def _id(case: tuple[str, EndpointContract]) -> str:
    media, contract = case
    return f"{media}{contract.path}"


# ##### the contract drives the server


@pytest.mark.parametrize("media", [spec.name for spec in registry()])
def test_every_served_path_is_one_contract(media: str) -> None:
    spec = lookup(media)
    assert set(spec.api.endpoints) == {c.path for c in spec.contract.endpoints}
    for path, endpoint in spec.api.endpoints.items():
        assert endpoint.contract.path == path and endpoint.name == endpoint.contract.name


def _params(params: tuple[Param, ...]) -> Iterator[Param]:
    for param in params:
        yield param
        yield from _params(param.members)


@pytest.mark.parametrize("media", [spec.name for spec in registry()])
def test_every_row_names_its_source(media: str) -> None:
    contract = lookup(media).contract
    for endpoint in contract.endpoints:
        assert endpoint.source, endpoint.path
        rows = [*_params(endpoint.params), *endpoint.rules, *endpoint.records]
        missing = [getattr(row, "name", getattr(row, "text", "")) for row in rows if not row.source]
        assert not missing, (endpoint.path, missing)
    assert all(c.source for c in contract.codes) and all(r.source for r in contract.quota)
    # the simulator's own choices are said as such
    assert any(NO_SOURCE in p.source for e in contract.endpoints for p in _params(e.params))


# ##### every endpoint refuses what its contract refuses


class World:
    """The ids, tokens and days a tenant's valid requests need, per media: a fresh tenant per test
    whose first agent has a spending account (and, at jrtt, a second-tier agent with accounts)."""

    def __init__(self, sim: RunningSimulator, media: str) -> None:
        self.media, world = media, sim.world
        day = world.today().replace(day=10)
        tier = {"tier": Tier.FIRST} if media == "jrtt" else {}
        for _ in range(50):  # worlds are random per tenant: draw one that has all of it
            self.tenant = f"C{secrets.token_hex(5)}"
            for agent in world.agents(media, self.tenant, **tier):
                accounts = [a.account_id for a in world.agent_accounts(media, self.tenant, agent.agent_id)]
                spending = [a for a in accounts if world.spends(media, a, day)]
                children = [
                    c.agent_id
                    for c in (
                        world.child_agents(media, self.tenant, agent.agent_id) if media == "jrtt" else []
                    )
                    if world.agent_accounts(media, self.tenant, c.agent_id)
                ]
                upgraded = [a for a in spending if media == "jrtt" and sim_jrtt.upgraded(world, a)]
                legacy = [a for a in spending if a not in upgraded]
                if spending and (children and upgraded and legacy or media != "jrtt"):
                    self.agent, self.account, self.spending = agent.agent_id, accounts[0], spending[0]
                    self.spending_legacy, self.spending_upgraded = legacy[:1] + [None], upgraded[:1] + [None]
                    self.spending_legacy, self.spending_upgraded = (
                        self.spending_legacy[0],
                        self.spending_upgraded[0],
                    )
                    self.child = children[0] if children else None
                    self.tokens = world.initial_tokens(media, self.tenant)[self.agent]
                    self.app = sim.config.media[media].app
                    self.levels = lookup(media).api.levels if media != "jrtt" else {}
                    self.sim = sim
                    return
        raise AssertionError(f"no {media} tenant with a spending account in 50 draws")


# endpoint name -> a valid request's parameters in the contract's version (the endpoint's required
# ones, and what its records need to exist: v1.x reports ask the new metric system, v3.0 name their
# fields and group_by)
def _report(w: World, c: EndpointContract) -> dict[str, Any]:
    level = next(iter(w.levels[c.version]))
    params = {"account_id": w.spending, "level": level, "date_range": ONE_DAY}
    if c.version == "v3.0":
        time_key = "date" if c.name.startswith("daily") else "hour"
        return params | {"group_by": [time_key], "fields": [time_key, "cost"]}
    return params | {"adq_accounts_upgrade_enabled": True}


ASYNC_TASK = {
    "level": "REPORT_LEVEL_ADVERTISER",
    "report_fields": ["date", "account_id", "cost"],
    "granularity": "DAILY",
    "date": DAY,
}


def _task(w: World) -> Any:
    """A task of the agency's, made in the simulator's book (the add endpoint's cooldown untouched)."""
    spec = {"filtering": None, "time_line": "REQUEST_TIME", "group_by": None} | ASYNC_TASK
    spec["date"] = date.fromisoformat(DAY)
    return w.sim.state.tasks.create(
        w.media, w.tenant, agent_id=w.agent, account_id=w.agent, name="contract", spec=spec
    )


def _task_file(w: World) -> dict[str, Any]:
    task = _task(w)
    return {"account_id": w.agent, "task_id": task.task_id, "file_id": task.task_id * 10 + 1}


VALID: dict[str, Callable[[World, EndpointContract], dict[str, Any]]] = {
    # the agency's own sub-customers (v3.0 requires fields, pagination_mode and page_size)
    "advertiser/get": lambda w, c: (
        {"fields": ["account_id"], "pagination_mode": "PAGINATION_MODE_CURSOR", "page_size": 10}
        if c.version == "v3.0"
        else {}
    ),
    "wechat_advertiser/get": lambda w, c: {},
    "funds/get": lambda w, c: {"account_id": w.account},
    "daily_reports/get": _report,
    "hourly_reports/get": _report,
    "oauth/token": lambda w, c: {
        "client_id": w.app.app_id,
        "client_secret": w.app.secret,
        "grant_type": "refresh_token",
        "refresh_token": w.tokens[1],
    },
    "agent/advertiser/select": lambda w, c: {"advertiser_id": w.agent},
    "agent/child_agent/select": lambda w, c: {"advertiser_id": w.agent},
    "advertiser/info": lambda w, c: {"advertiser_ids": [w.account]},
    "advertiser/fund/get": lambda w, c: {"advertiser_id": w.account},
    "account/fund/get": lambda w, c: {"account_ids": [w.account], "account_type": "AD"},
    "report/agent/get_v2": lambda w, c: {"agent_id": w.child, "start_date": DAY, "end_date": DAY},
    **{
        f"report/{level}/get": lambda w, c: {
            "advertiser_id": w.spending_legacy,
            "start_date": DAY,
            "end_date": DAY,
        }
        for level in ("advertiser", "integrated")
    },
    # deleted entities kept (an account whose only spend was on a deleted ad has rows then)
    "report/campaign/get": lambda w, c: {
        "advertiser_id": w.spending_legacy,
        "start_date": DAY,
        "end_date": DAY,
        "filtering": {"status": "CAMPAIGN_STATUS_ALL"},
    },
    "report/ad/get": lambda w, c: {
        "advertiser_id": w.spending_legacy,
        "start_date": DAY,
        "end_date": DAY,
        "filtering": {"status": "AD_STATUS_ALL"},
    },
    "report/custom/get": lambda w, c: {
        "advertiser_id": w.spending_upgraded,
        "dimensions": ["stat_time_day", "cdp_project_id"],
        "metrics": ["stat_cost"],
        "filters": [],
        "order_by": [],
        "start_time": DAY,
        "end_time": DAY,
    },
    "async_reports/add": lambda w, c: {"account_id": w.agent, "task_name": "contract"} | ASYNC_TASK,
    "async_reports/get": lambda w, c: _task(w) and {"account_id": w.agent},
    "async_report_files/get": lambda w, c: _task_file(w),
    "oauth2/refresh_token": lambda w, c: {
        "app_id": w.app.app_id,
        "secret": w.app.secret,
        "refresh_token": w.tokens[1],
    },
}
# a value of the wrong type for each wire type, as the query string (or a JSON body) carries it
WRONG = {
    Type.INT64: "12x",
    Type.INT32: "12x",
    Type.BOOL: "maybe",
    Type.DATE: "2024/05/10",
    Type.ENUM: "NOT_ONE_OF_THEM",
    Type.STRINGS: '"cost"',  # a JSON string, not an array
    Type.INT64S: '["1"]',  # text, not JSON numbers
    Type.OBJECT: "[1]",
    Type.OBJECTS: "{}",
}
# in a JSON body text is visible as such: a number where text belongs, text where a number does
WRONG_IN_BODY = {Type.INT64: "1", Type.STRING: 1, Type.ENUM: 1}


def _call(client: SimClient, w: World, contract: EndpointContract, params: dict[str, Any]) -> dict:
    if contract.body:
        token = w.tokens[0] if w.media != "jrtt" else None  # Tencent signs its POSTs in the query
        return client.post(w.media, contract.path + "/", params, token=token).json()
    token = None if contract.name == "oauth/token" else w.tokens[0]
    extra = {"omit": ("timestamp", "nonce")} if contract.name == "oauth/token" else {}
    answer = client.get(w.media, contract.path + ("/" if w.media == "jrtt" else ""), token, **params, **extra)
    if answer.headers.get("Content-Type", "").startswith("text/csv"):  # a task's file, after its redirect
        return {"code": 0, "data": answer.text}
    return answer.json()


def _names(body: dict, param: str) -> bool:
    """The error names `param`: Tencent in errors[] (COMMON_PARAM_EXCEPTION), others in the message."""
    if "errors" in body:
        return body["errors"][0]["common_param_exception_spec"]["error_fields"] == [param]
    return param in body["message"]


def _cases(contract: EndpointContract) -> Iterator[tuple[str, Param | None, Any, str]]:
    """(label, param, value to send, ParamCodes kind): a missing required parameter, a wrong
    type of every parameter, an undeclared one."""
    for param in contract.params:
        if param.required:
            yield f"{param.name} missing", param, None, "missing"
        wrong = (WRONG_IN_BODY if contract.body else WRONG).get(param.type)
        if wrong is not None:
            yield (
                f"{param.name} mistyped",
                param,
                wrong,
                "not_in_enum" if param.type is Type.ENUM and not contract.body else "wrong_type",
            )
    yield "undeclared parameter", None, "1", "unknown"


@pytest.mark.parametrize("case", _endpoints(), ids=_id)
def test_every_parameter_is_checked(
    sim: RunningSimulator, client: SimClient, case: tuple[str, EndpointContract]
) -> None:
    media, contract = case
    w = World(sim, media)
    valid = VALID[contract.name](w, contract)
    with _served(sim, contract):
        _each_parameter_is_checked(client, w, contract, valid, media)


def _each_parameter_is_checked(
    client: SimClient, w: World, contract: EndpointContract, valid: dict[str, Any], media: str
) -> None:
    codes = _param_codes(media)
    for label, param, value, kind in _cases(contract):
        params = dict(valid)
        name = param.name if param else "zz_not_a_parameter"
        if value is None:
            params.pop(name, None)
        else:
            params[name] = value
        body = _call(client, w, contract, params)
        expected = param.code(kind, codes) if param else codes.unknown
        assert body["code"] == expected, (contract.path, label, body)
        assert _names(body, name), (contract.path, label, body)
    assert _call(client, w, contract, valid)["code"] == 0  # and the valid request passes


def _param_codes(media: str) -> Any:
    from ark_sim.media import _ocean_contract, _tencent_contract

    return (_ocean_contract if media == "jrtt" else _tencent_contract).PARAM_CODES


@pytest.mark.parametrize(
    ("media", "path", "params", "code", "param"),
    [
        # jrtt advertiser_ids are []int64: JSON strings are refused (the official SDK sends numbers)
        ("jrtt", "/open_api/2/advertiser/info/", {"advertiser_ids": '["1", "2"]'}, 40001, "advertiser_ids"),
        # more than 100 ids
        (
            "jrtt",
            "/open_api/2/advertiser/info/",
            {"advertiser_ids": json.dumps(list(range(1, 102)))},
            40001,
            "advertiser_ids",
        ),
        # a member of a JSON object is checked too: date_range.start_date
        (
            "gdt",
            "/v1.3/daily_reports/get",
            {"date_range": {"start_date": "20240510", "end_date": DAY}},
            18002,
            "date_range.start_date",
        ),
        # an undeclared member of a closed object
        ("gdt", "/v1.3/daily_reports/get", {"date_range": {**ONE_DAY, "day": DAY}}, 18002, "date_range.day"),
        # v1.1 has no agency_id (a v1.3 parameter)
        ("gdt", "/v1.1/advertiser/get", {"agency_id": 1}, 18002, "agency_id"),
    ],
)
def test_typed_values_the_research_flagged(
    sim: RunningSimulator, client: SimClient, media: str, path: str, params: dict, code: int, param: str
) -> None:
    w = World(sim, media)
    contract = next(c for c in lookup(media).contract.endpoints if c.path == path.rstrip("/"))
    body = _call(client, w, contract, {**VALID[contract.name](w, contract), **params})
    assert body["code"] == code and _names(body, param), body


def test_a_jrtt_refresh_with_app_id_as_text_is_refused(sim: RunningSimulator, client: SimClient) -> None:
    w = World(sim, "jrtt")
    body = client.post(
        "jrtt",
        "/open_api/oauth2/refresh_token/",
        {**VALID["oauth2/refresh_token"](w, None), "app_id": str(w.app.app_id)},
    ).json()
    assert body["code"] == 40001 and "app_id" in body["message"], body


# ##### answers hold what the contract declares


_TYPES: dict[str, Callable[[Any], bool]] = {
    "int64": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "float64": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
    "string": lambda v: isinstance(v, str),
    "bool": lambda v: isinstance(v, bool),
    "object": lambda v: isinstance(v, dict),
    "[object]": lambda v: isinstance(v, list) and all(isinstance(i, dict) for i in v),
}


def _records(data: Any, records_at: str) -> list[Any]:
    where = records_at.split()[0].split(".")[1:]  # "data.list" -> ["list"]; "data (an array)" -> []
    for key in where:
        data = data[key]
    return data if isinstance(data, list) else [data]


@pytest.mark.parametrize("case", _endpoints(), ids=_id)
def test_answers_hold_only_declared_fields(
    sim: RunningSimulator, client: SimClient, case: tuple[str, EndpointContract]
) -> None:
    media, contract = case
    w = World(sim, media)
    with _served(sim, contract):
        body = _call(client, w, contract, VALID[contract.name](w, contract))
    assert body["code"] == 0, body
    if contract.records_at == "(the file)":  # a CSV file: its header is the task's report_fields
        assert body["data"].splitlines()[0].split(",") == ASYNC_TASK["report_fields"], body["data"][:200]
        return
    records = _records(body["data"], contract.records_at)
    assert records, f"{contract.path}: the valid request answered no record to check"
    declared = {f.name: f.type for f in contract.records}
    for record in records:
        if not isinstance(record, dict):  # a bare id list
            assert _TYPES[declared["(id)"]](record), (contract.path, record)
            continue
        assert set(record) <= set(declared), (contract.path, sorted(set(record) - set(declared)))
        wrong = {k: v for k, v in record.items() if not _TYPES[declared[k]](v)}
        assert not wrong, (contract.path, wrong)


# ##### the docs carry the tables


@pytest.mark.parametrize("media", [spec.name for spec in registry()])
def test_the_docs_hold_the_rendered_contract(media: str) -> None:
    page = (ROOT / "docs" / "media" / f"{media}.md").read_text("utf-8")
    assert render(lookup(media).contract) in page, (
        f"docs/media/{media}.md is not current: run `ark-sim contracts --write docs/media`"
    )


# ##### the platform's declarations fit the contract


def _product_versions() -> list[tuple[str, str]]:
    return [(m.name, version) for m in all_media() for version in m.versions]


def _calls(media: str, version: str) -> Iterator[tuple[Any, dict[str, Any]]]:
    """(endpoint, the parameters the platform sends but the source, paging and auth) of every call
    the platform makes in `version`: its listings, and each dataset's own parameters through its
    endpoint's derived ones."""
    declared = product_media(media)
    api, assets = declared.api_for(version), declared.assets_for(version)
    day = date(2024, 5, 10)
    for listing in assets.account_lists:
        for name in filter(None, (listing.endpoint, listing.details_endpoint)):
            spec = api.endpoint(name)
            yield spec, {**spec.fixed_params, **listing.params(day)}
    for dataset in assets.datasets:
        spec = api.endpoint(dataset.endpoint)
        params = dict(dataset.params(day))
        for time_line in dataset.time_lines or (None,):
            sent = params | ({"time_line": time_line} if time_line else {})
            yield spec, {**spec.fixed_params, **sent, **(spec.call_params(sent) if spec.call_params else {})}


@pytest.mark.parametrize(("media", "version"), _product_versions())
def test_every_call_the_platform_makes_is_served_and_declared(media: str, version: str) -> None:
    api = product_media(media).api_for(version)
    contracts = {c.path: c for c in lookup(media).contract.endpoints}
    calls = list(_calls(media, version))
    assert calls
    for spec, params in calls:
        contract = contracts.get(spec.path.rstrip("/"))
        assert contract is not None, f"{media} {version}: {spec.path} is not served"
        assert contract.name == spec.name and contract.method == "GET"
        sent = set(params)
        if spec.source_param:
            sent.add(spec.source_param)
        if spec.paging.value != "none":  # and a cursor call answered by page goes on by page
            sent |= {spec.page_size_param, "page", "page_size"} | (
                {"cursor"} if spec.paging.value == "cursor" else set()
            )
        declared = {p.name for p in contract.params}
        assert sent <= declared, (media, version, spec.path, sorted(sent - declared))
        required = {p.name for p in contract.params if p.required}
        assert required <= sent, (media, version, spec.path, sorted(required - sent))
        for name, value in params.items():  # every enum and listed value is one the contract has
            param = contract.param(name)
            if param.type is Type.ENUM:
                assert value in param.values, (media, version, spec.path, name, value)
            if param.type is Type.STRINGS and param.values:
                assert set(value) <= set(param.values), (
                    media,
                    version,
                    spec.path,
                    name,
                    set(value) - set(param.values),
                )
    refresh = contracts.get(api.refresh.path.rstrip("/"))
    assert refresh is not None and refresh.method == api.refresh.method
    body = api.refresh.build(product_media(media).app.app_id, "secret", "token")
    assert set(body) <= {p.name for p in refresh.params}


@pytest.mark.parametrize("media", [m.name for m in all_media()])
def test_every_code_the_platform_maps_is_in_the_code_table(media: str) -> None:
    mapped = set(product_media(media).api.translate_code.codes)
    tabled = {c.code for c in lookup(media).contract.codes}
    assert mapped <= tabled, sorted(mapped - tabled)
