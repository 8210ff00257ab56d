"""Bad input fails clearly and never corrupts or loses stored data.

The contract (issue 6, "Bad input"): a malformed, future or too-old partition key, bad slice
config, an unknown tenant or media, broken configuration (an unset or mistyped variable, a
closed port, a wrong password) and bad API answers (a field missing, a null id, an id beyond
int64, money that is not a number, an unknown code) each end in an error that names the input
and says what was expected; the HBase rows, Redis keys and MySQL rows stored before are still
there, byte for byte, afterwards. Negative money is not bad input: credit lines and refunds are
negative, so such a record is stored as the media sent it.

Checks that live in pure code (partition keys, run config, resource configuration) are tested
directly; behaviour that only exists end to end (what a run stores when an answer is bad) runs
through one module-scoped platform against the simulator, whose `tamper` rules make one
endpoint (or one account's call) answer badly. Results: docs/RELIABILITY.md, "Bad input".
"""

from __future__ import annotations

import json
import logging
import os
import socket
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pymysql
import pytest
import redis
from dagster import AssetKey, DagsterUnknownPartitionError, Failure, build_resources, materialize

from ark_assets.assets.run_config import FetchConfig
from ark_assets.assets.sources import narrow
from ark_assets.clients.errors import ServiceUnavailable
from ark_assets.clients.job_events import JobLogEvent, LogType
from ark_assets.core.days import yyyymmdd
from ark_assets.core.tables import table_name
from ark_assets.core.tiers import AgentTier
from ark_assets.io.hbase_io_manager import HBaseIOManager, hbase_io_manager_from_env
from ark_assets.media.registry import media as media_named
from ark_assets.media.registry import names as media_names
from ark_assets.partitions import check_partition_key, partition_key, start_date
from ark_assets.resources.hbase import HBaseResource
from ark_assets.resources.kafka_log import KafkaLogResource
from ark_assets.resources.media_api import media_api_resource_from_env
from ark_assets.resources.mysql import MySQLAccessDenied, MySQLResource, mysql_resource_from_env
from ark_assets.resources.redis_store import RedisResource, redis_resource_from_env
from ark_assets.resources.sentry import SentryResource
from ark_assets_tests.platform import ASSETS, Platform, running_platform
from ark_sim.tamper import TamperRule

pytestmark = pytest.mark.api_paths  # `make test` runs this module in both API versions

INT64_OVER = 2**63  # one past the largest int64
NOW = datetime(2026, 11, 26, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))  # the simulator's pinned today

# ##### FIXTURES


@pytest.fixture(scope="module")
def platform() -> Iterator[Platform]:
    with running_platform() as platform:
        yield platform


@pytest.fixture
def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# ##### PARTITION KEYS AND DATES (pure code: what a key typed into the UI or CLI must be)

PARTITION_CASES = [
    # not a (date, tenant) key at all
    pytest.param("20261125|T100117", "expected 'YYYY-MM-DD|TENANT'", id="key-date-without-dashes"),
    pytest.param(
        "2026-13-45|T100117", "expected 'YYYY-MM-DD|TENANT' with a calendar day", id="key-no-such-day"
    ),
    pytest.param("2026-11-25", "expected 'YYYY-MM-DD|TENANT'", id="key-without-tenant"),
    pytest.param("T100117|2026-11-25", "expected 'YYYY-MM-DD|TENANT'", id="key-parts-swapped"),
    pytest.param("2026-11-25|T1 00", "tenant alias of letters and digits", id="key-tenant-with-space"),
    # a well-formed key outside the partitions
    pytest.param("2026-11-26|T100117", "in the future or today (GMT+8)", id="date-today-not-final"),
    pytest.param("2031-01-01|T100117", "expected a day from 2024-01-01 to 2026-11-25", id="date-future"),
    pytest.param("2023-12-31|T100117", "before the first partition day 2024-01-01", id="date-before-start"),
    pytest.param("2026-11-25|T999", "tenant 'T999' is not a tenant partition", id="tenant-unknown"),
]


@pytest.mark.parametrize(("key", "expected"), PARTITION_CASES)
def test_bad_partition_keys_are_refused_with_the_reason(key: str, expected: str) -> None:
    with pytest.raises(ValueError) as raised:
        check_partition_key(key, tenants=["T100117"], now=NOW)
    assert f"partition key {key!r}" in str(raised.value)  # names the input
    assert expected in str(raised.value)  # and what was expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("", "2026-11-01"),  # unset: a recent default, so the UI does not show years of empty days
        ("2025-03-01", "2025-03-01"),
        ("2025-3-1", "expected YYYY-MM-DD"),
        ("2025-02-30", "expected YYYY-MM-DD"),
        ("yesterday", "expected YYYY-MM-DD"),
    ],
)
def test_the_first_partition_day_is_configured_or_a_clear_error(
    value: str, expected: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ARK_PARTITIONS_START", value)
    if expected.startswith("expected"):
        with pytest.raises(ValueError, match=rf"ARK_PARTITIONS_START={value!r}: {expected}"):
            start_date()
    else:
        assert start_date() == expected


def test_a_good_partition_key_passes() -> None:
    assert check_partition_key("2026-11-25|T100117", tenants=["T100117"], now=NOW) == (
        date(2026, 11, 25),
        "T100117",
    )


@pytest.mark.parametrize(
    ("day", "tenant"),
    [
        (date(2026, 11, 25), "T100117"),  # yesterday (GMT+8), the daily schedule's day
        (date.fromisoformat(start_date()), "T100117"),  # the first partition day
        (date(2026, 2, 28), "T9"),  # a short tenant alias
    ],
)
def test_the_keys_the_platform_builds_are_the_keys_it_accepts(day: date, tenant: str) -> None:
    # The schedules and sensors build keys with `partition_key`; a person's key is checked with
    # `check_partition_key`: what one makes, the other reads back as the same (day, tenant).
    key = partition_key(day, tenant)
    assert str(key) == f"{day.isoformat()}|{tenant}"
    assert check_partition_key(str(key), tenants=[tenant], now=NOW) == (day, tenant)
    assert check_partition_key(key, tenants=[tenant], now=NOW) == (day, tenant)


@pytest.mark.stack
@pytest.mark.parametrize(
    "key",
    ["2031-01-01|{tenant}", "2023-12-31|{tenant}", "2026-11-25|T999999"],
    ids=["future", "early", "tenant"],
)
def test_dagster_refuses_keys_outside_the_partitions_before_any_asset_runs(
    platform: Platform, key: str
) -> None:
    before = _stored(platform, "gdt")
    with pytest.raises(DagsterUnknownPartitionError, match="Could not find a partition with key"):
        materialize(
            ASSETS,
            selection=[AssetKey(["gdt", "funds"])],
            partition_key=key.format(tenant=platform.tenant),
            resources=platform.resources,
            instance=platform.instance,
        )
    assert _stored(platform, "gdt") == before


# ##### RUN CONFIG (pure code: FetchConfig, and `narrow` against the day's accounts)

CONFIG_CASES = [
    pytest.param(
        {"agents_list": ["1", "2"]},
        "agents_list holds 2 agents (1, 2): it must hold exactly one",
        id="two-agents",
    ),
    pytest.param(
        {"agents_list": ["agent7"]},
        "agents_list entry 'agent7' is not an id: expected digits",
        id="agent-not-digits",
    ),
    pytest.param(
        {"account_list": ["12|34"]},
        "account_list entry '12|34' is not an id: expected digits",
        id="account-with-pipe",
    ),
    pytest.param(
        {"account_list": ["1 2"]},
        "account_list entry '1 2' is not an id: expected digits",
        id="account-with-space",
    ),
    pytest.param(
        {"account_list": ["123\n"]}, "account_list entry '123\\n' is not an id", id="account-trailing-newline"
    ),
    pytest.param({"account_list": [""]}, "account_list entry '' is not an id", id="account-empty"),
    pytest.param({"account_list": ["-5"]}, "account_list entry '-5' is not an id", id="account-negative"),
    pytest.param({"account_list": [str(INT64_OVER)]}, "expected a positive int64", id="account-over-int64"),
    pytest.param(
        {"account_list": ["0"]},
        "account_list entry '0' is not an id: expected a positive int64",
        id="account-zero",
    ),
]


@pytest.mark.parametrize(("config", "expected"), CONFIG_CASES)
def test_bad_slice_config_is_refused_naming_the_entry(config: dict, expected: str) -> None:
    with pytest.raises(ValueError) as raised:
        FetchConfig(**config)
    assert expected in str(raised.value)


NARROW_CASES = [
    pytest.param(
        {"account_list": ["300"]}, "not in the day's account lists: 300", id="account-not-in-day-lists"
    ),
    pytest.param(
        {"agents_list": ["9"]},
        "agents_list agent 9 has no accounts in the day's account lists",
        id="agent-without-accounts",
    ),
]


@pytest.mark.parametrize(("config", "expected"), NARROW_CASES)
def test_a_slice_outside_the_days_accounts_is_refused(config: dict, expected: str) -> None:
    with pytest.raises(Failure) as raised:
        narrow({"100": "1", "200": "2"}, FetchConfig(**config))
    assert expected in str(raised.value.description)


def test_an_unknown_media_is_refused_naming_the_accepted_ones() -> None:
    for call in (
        lambda: media_named("tiktok"),
        lambda: media_api_resource_from_env().app("tiktok"),
    ):
        with pytest.raises(ValueError, match=r"unknown media 'tiktok': expected one of gdt, jrtt, wx"):
            call()


# ##### RUN CONFIG AND TENANTS END TO END (the asset refuses; nothing stored changes)


@dataclass(frozen=True)
class RunCase:
    asset: str
    config: dict | None
    expected: str
    tenant: str = ""  # "" = the platform's tenant; "unseeded" = a new tenant with no eton rows, no Redis keys


RUN_CASES = [
    pytest.param(
        RunCase("gdt/funds", {"agents_list": ["1", "2"]}, "agents_list holds 2 agents"), id="two-agents-e2e"
    ),
    pytest.param(
        RunCase(
            "gdt/advertisers", {"account_list": ["1"]}, "account_list does not apply to advertiser lists"
        ),
        id="account-list-on-advertisers",
    ),
    pytest.param(
        RunCase("wx/funds", None, "empty source list", tenant="unseeded"), id="wx-funds-both-lists-empty"
    ),
    pytest.param(
        RunCase("jrtt/funds", None, "empty source list", tenant="unseeded"), id="jrtt-funds-both-lists-empty"
    ),
    pytest.param(
        RunCase("gdt/agents", None, "no active gdt agents", tenant="unseeded"),
        id="tenant-not-in-eton",
    ),
]


@pytest.mark.stack
@pytest.mark.parametrize("case", RUN_CASES)
def test_bad_run_input_fails_the_run_and_changes_nothing(platform: Platform, case: RunCase) -> None:
    tenant = platform.add_tenant(seed=False) if case.tenant == "unseeded" else platform.tenant
    media = media_named(case.asset.split("/")[0]).name
    before = _stored(platform, media)
    selection = [case.asset, f"{media}/advertisers"] if case.asset == "gdt/agents" else [case.asset]
    result = platform.run(selection, config=case.config, tenant=tenant)
    assert not result.success
    assert case.expected in _errors(result)
    assert _stored(platform, media) == before


# ##### CONFIGURATION (resources: unset or mistyped variables, closed ports, a wrong password)


def _redis_closed(port: int) -> Callable[[], Any]:
    return lambda: RedisResource(port=port).sets.tokens("gdt", "T100117")


CONFIG_SERVICE_CASES = [
    pytest.param(_redis_closed, "Redis", "ARK_REDIS_HOST/ARK_REDIS_PORT", id="redis-closed-port"),
    pytest.param(
        lambda port: MySQLResource(port=port).active_tenants(),
        "MySQL",
        "ARK_MYSQL_HOST/ARK_MYSQL_PORT",
        id="mysql-closed-port",
    ),
    pytest.param(
        lambda port: HBaseResource(port=port).table_exists("x"),
        "HBase Thrift",
        "ARK_HBASE_HOST/ARK_HBASE_PORT",
        id="hbase-thrift1-closed-port",
    ),
    pytest.param(
        lambda port: HBaseResource(admin_port=port).ensure_table("ark_bad_input_never_created"),
        "HBase Thrift2",
        "ARK_HBASE_HOST/ARK_HBASE_ADMIN_PORT",
        id="hbase-thrift2-closed-port",
        marks=pytest.mark.stack,  # the table check asks the (real) Thrift1 server first
    ),
]


@pytest.mark.parametrize(("call", "service", "variables"), CONFIG_SERVICE_CASES)
def test_a_closed_port_names_the_service_its_address_and_the_fix(
    closed_port: int, call: Callable[[int], Callable[[], Any]], service: str, variables: str
) -> None:
    with pytest.raises(ServiceUnavailable) as raised:
        call(closed_port)()
    message = str(raised.value)
    assert message.startswith(f"{service}") and f"127.0.0.1:{closed_port} is unreachable" in message
    assert "make stack" in message and variables in message


@pytest.mark.stack
def test_a_wrong_mysql_password_names_the_user_and_the_variables_not_the_password() -> None:
    with pytest.raises(MySQLAccessDenied) as raised:
        MySQLResource(password="wrong-pw-5f1e").active_tenants()
    message = str(raised.value)
    assert "MySQL at 127.0.0.1:3306 refused user 'ark'" in message
    assert "ARK_MYSQL_USER/ARK_MYSQL_PASSWORD" in message and "wrong-pw-5f1e" not in message


def test_a_closed_kafka_port_spools_events_and_says_where(
    closed_port: int, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    kafka = KafkaLogResource(
        bootstrap_servers=f"127.0.0.1:{closed_port}", spool_dir=str(tmp_path), timeout_ms=300
    )
    event = JobLogEvent(
        tenant="T100117",
        cur_job="gdt/funds",
        interface="funds/get",
        agent_id="1",
        data_date="2026-11-25",
        argv={},
        log_content="start",
        log_type=LogType.API_JOB_START,
    )
    with caplog.at_level(logging.WARNING, logger="ark_assets.resources.kafka_log"):
        kafka.emit("gdt", event)
    warning = " ".join(r.getMessage() for r in caplog.records)
    assert f"Kafka at 127.0.0.1:{closed_port} is unreachable" in warning
    assert "ARK_KAFKA_BOOTSTRAP" in warning and "make stack" in warning
    spooled = list(tmp_path.rglob("*"))
    assert any(p.is_file() and "start" in p.read_text() for p in spooled)  # kept for later, not lost


ENV_CASES = [
    # (variables set while the resource is built, variables removed before it runs, builder, expected)
    pytest.param(
        {"ARK_MYSQL_PASSWORD": "pw"},
        ["ARK_MYSQL_PASSWORD"],
        mysql_resource_from_env,
        'environment variable "ARK_MYSQL_PASSWORD" which is not set',
        id="env-unset-at-run-time",
    ),
    pytest.param(
        {"ARK_REDIS_PORT": "63 79"},
        [],
        redis_resource_from_env,
        "ARK_REDIS_PORT='63 79': expected a port number",
        id="env-port-not-a-number",
    ),
    pytest.param(
        {"ARK_OUTPUT": "HDFS"},
        [],
        hbase_io_manager_from_env,
        "ARK_OUTPUT='HDFS': expected HBASE, FILE or NONE",
        id="env-unknown-output-mode",
    ),
    pytest.param(
        {"ARK_MYSQL_LOG_DB": "nyfz`; DROP DATABASE eton; --"},
        [],
        mysql_resource_from_env,
        "(ARK_MYSQL_LOG_DB / ARK_MYSQL_ETON_DB) must be letters, digits and underscores only",
        id="env-hostile-database-name",
    ),
    pytest.param(
        {"ARK_SENTRY_DSN": "sentry-key-3c1d@127.0.0.1/1"},
        [],
        lambda: SentryResource(dsn=os.environ["ARK_SENTRY_DSN"]),
        "the Sentry DSN (ARK_SENTRY_DSN) is not a DSN",
        id="env-sentry-dsn-without-scheme",
    ),
]


@pytest.mark.parametrize(("env", "unset", "build", "expected"), ENV_CASES)
def test_bad_environment_fails_when_resources_start(
    monkeypatch: pytest.MonkeyPatch, env: dict, unset: list, build: Callable[[], Any], expected: str
) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(Exception) as raised:  # noqa: PT011 - Dagster's and pydantic's own types
        resource = build()
        for name in unset:
            monkeypatch.delenv(name)
        with build_resources({"resource": resource}):
            pass
    message = _chain(raised.value)  # Dagster wraps what a resource raised; the cause says why
    assert expected in message
    assert "sentry-key-3c1d" not in message  # a refused DSN is not repeated (it holds the key)


@pytest.mark.stack
def test_an_unreachable_media_api_fails_each_account_naming_its_address(
    platform: Platform, closed_port: int
) -> None:
    before = _stored(platform, "wx")
    urls = {m: platform.sim.url(m) for m in media_names()} | {"wx": f"http://127.0.0.1:{closed_port}/wx"}
    api = media_api_resource_from_env(base_urls=urls, max_in_flight=8)
    result = platform.run(["wx/funds"], resources={"media_api": api})
    assert result.success  # the run ends; every account is a recorded failure
    [check] = [e for e in result.get_asset_check_evaluations() if e.check_name == "completeness"]
    assert not check.passed
    assert f"Cannot connect to host 127.0.0.1:{closed_port}" in _failures(result)
    assert _stored(platform, "wx") == before  # failed accounts keep their rows


def test_an_invalid_output_mode_is_refused_when_built() -> None:
    with pytest.raises(
        ValueError, match=r"output mode 'hdfs' is not one of HBASE, FILE, NONE \(ARK_OUTPUT\)"
    ):
        HBaseIOManager(hbase=HBaseResource(), output="hdfs")


# ##### API RESPONSES (the simulator answers badly for one account, or one endpoint)


@dataclass(frozen=True)
class ApiCase:
    media: str
    asset: str
    endpoint: str
    rule: dict  # TamperRule fields besides endpoint/match
    expected: tuple[str, ...]  # in the failed account's reason
    dataset: str  # the HBase table whose rows must survive
    one_account: bool = True  # match the call of one account (else every call of the endpoint)
    stored: bool = False  # the answer is fine after all: the account succeeds, stored verbatim


API_CASES = [
    # gdt funds: the fund type is the row key's kind; money must be a number
    pytest.param(
        ApiCase(
            "gdt",
            "gdt/funds",
            "funds/get",
            {"drop_fields": ("fund_type",)},
            ("fund_type",),
            "funds_get_v2",
        ),
        id="gdt-funds-field-missing",
    ),
    pytest.param(
        ApiCase(
            "gdt",
            "gdt/funds",
            "funds/get",
            {"set_fields": {"fund_type": None}},
            ("fund_type",),
            "funds_get_v2",
        ),
        id="gdt-funds-kind-null",
    ),
    pytest.param(
        ApiCase(
            "gdt",
            "gdt/funds",
            "funds/get",
            {"set_fields": {"fund_type": "CASH|X"}},
            ("field 'fund_type' is 'CASH|X'", "expected a name of letters"),
            "funds_get_v2",
        ),
        id="gdt-funds-kind-with-pipe",
    ),
    pytest.param(
        ApiCase(
            "gdt",
            "gdt/funds",
            "funds/get",
            {"set_fields": {"balance": "12.5元"}},
            ("field 'balance' is '12.5元'", "expected a number"),
            "funds_get_v2",
        ),
        id="gdt-funds-money-not-a-number",
    ),
    pytest.param(
        ApiCase(
            "wx",
            "wx/funds",
            "funds/get",
            {"set_fields": {"balance": None}},
            ("field 'balance' is None", "expected a number"),
            "funds_get_v2",
        ),
        id="wx-funds-money-null",
    ),
    pytest.param(
        ApiCase(
            "gdt",
            "gdt/funds",
            "funds/get",
            {"set_fields": {"balance": -123456}},
            (),
            "funds_get_v2",
            stored=True,
        ),
        id="gdt-funds-negative-money-is-kept",
    ),
    # jrtt funds come in batches (every record names its account): every batch's first record is
    # tampered with, so every account of the day goes through a refused batch, split down to itself
    pytest.param(
        ApiCase(
            "jrtt",
            "jrtt/funds",
            "account/fund/get",
            {"set_fields": {"balance": -1250}},
            (),
            "account_fund_get_v3",
            one_account=False,
            stored=True,
        ),
        id="jrtt-funds-negative-money-is-kept",
    ),
    pytest.param(
        ApiCase(
            "jrtt",
            "jrtt/funds",
            "account/fund/get",
            {"set_fields": {"account_id": None}},
            ("field 'account_id' is None", "expected a positive int64 id"),
            "account_fund_get_v3",
            one_account=False,
        ),
        id="jrtt-funds-null-id",
    ),
    pytest.param(
        ApiCase(
            "jrtt",
            "jrtt/funds",
            "account/fund/get",
            {"set_fields": {"account_id": INT64_OVER}},
            (f"field 'account_id' is {INT64_OVER}", "expected a positive int64 id"),
            "account_fund_get_v3",
            one_account=False,
        ),
        id="jrtt-funds-id-over-int64",
    ),
    pytest.param(
        ApiCase(
            "jrtt",
            "jrtt/funds",
            "account/fund/get",
            {"set_fields": {"account_id": 1}},
            ("field 'account_id' is '1'", "expected an account the batch asked for"),
            "account_fund_get_v3",
            one_account=False,
        ),
        id="jrtt-funds-another-accounts-record",
    ),
    # account lists: ids become row keys and Redis members
    pytest.param(
        ApiCase(
            "gdt",
            "gdt/advertisers",
            "advertiser/get",
            {"set_fields": {"account_id": INT64_OVER}},
            (f"field 'account_id' is {INT64_OVER}", "expected a positive int64 id"),
            "advertiser_get_v1.1",
            one_account=False,
        ),
        id="gdt-advertisers-id-over-int64",
    ),
    pytest.param(
        ApiCase(
            "gdt",
            "gdt/advertisers",
            "advertiser/get",
            {"set_fields": {"account_id": None}},
            ("account_id",),
            "advertiser_get_v1.1",
            one_account=False,
        ),
        id="gdt-advertisers-null-id",
    ),
    pytest.param(
        ApiCase(
            "jrtt",
            "jrtt/advertisers_first_tier",
            "advertiser/info",
            {"set_fields": {"id": -5}},
            ("field 'id' is -5", "expected a positive int64 id"),
            "advertiser_info_v2",
            one_account=False,
        ),
        id="jrtt-account-details-negative-id",
    ),
    # codes no table knows
    pytest.param(
        ApiCase(
            "gdt",
            "gdt/funds",
            "funds/get",
            {"code": 99999},
            ("code 99999 is not in gdt's code table",),
            "funds_get_v2",
        ),
        id="gdt-unknown-code",
    ),
    pytest.param(
        ApiCase(
            "jrtt",
            "jrtt/funds",
            "account/fund/get",
            {"code": 47000},
            ("code 47000 is not in jrtt's code table",),
            "account_fund_get_v3",
            one_account=False,  # every batch refused, split down to each account, each refused
        ),
        id="jrtt-unknown-code",
    ),
]


@pytest.mark.stack
@pytest.mark.parametrize("case", API_CASES)
def test_a_bad_answer_fails_its_account_and_keeps_its_rows(platform: Platform, case: ApiCase) -> None:
    world, tenant = platform.sim.world, platform.tenant
    tier = {"tier": AgentTier.FIRST} if case.media == "jrtt" else {}
    account = str(world.accounts(case.media, tenant, **tier)[0][0])
    spec = media_named(case.media).api.endpoint(case.endpoint)
    match = {spec.source_param: account} if case.one_account else {}
    before = _stored(platform, case.media)
    rows_before = _account_rows(platform, case.media, case.dataset, account)
    platform.sim.tamper(case.media, TamperRule(case.endpoint, match=match, **case.rule))
    try:
        result = platform.run([case.asset])
    finally:
        platform.sim.clear_tampering()
    assert result.success, _errors(result)  # a bad answer fails its source, never the run
    [check] = [e for e in result.get_asset_check_evaluations() if e.check_name == "completeness"]
    after = _stored(platform, case.media)
    if case.stored:
        assert check.passed
        assert after["rows"] == before["rows"]
        rows = (
            _account_rows(platform, case.media, case.dataset, account)
            if case.one_account
            else _account_rows(platform, case.media, case.dataset, "")
        )
        assert any(
            case.rule["set_fields"]["balance"] == value["data"]["balance"] for value, _ in rows.values()
        )
        return
    assert not check.passed
    failures = _failures(result)
    assert all(text in failures for text in case.expected), failures
    if case.one_account:
        assert f"| {account} |" in failures
        assert _account_rows(platform, case.media, case.dataset, account) == rows_before  # byte for byte
        assert after["rows"] == before["rows"] and after["redis"] == before["redis"]
    else:
        assert after == before  # the listing failed: its table and the day's Redis keys are as they were


# ##### HELPERS


def _stored(platform: Platform, media: str) -> dict[str, Any]:
    """What the partition holds: row counts of every table, the media's Redis keys, its eton rows."""
    raw = redis.Redis(db=2)
    keys = sorted(k.decode() for k in raw.scan_iter(match=f"*_{platform.tenant}*"))
    conn = pymysql.connect(
        host="127.0.0.1", user="ark", password="ark", database=platform.mysql.eton_database
    )
    with conn.cursor() as cur:
        cur.execute("SELECT COUNT(*) FROM agents WHERE tenant_alias = %s", (platform.tenant,))
        [[agents]] = cur.fetchall()
    conn.close()
    return {
        "rows": platform.tables(),
        "redis": {k: _redis_value(raw, k) for k in keys if k.startswith(str(media))},
        "eton_agents": agents,
        "listing": _table_rows(platform, media),
    }


def _redis_value(raw: redis.Redis, key: str) -> Any:
    kind = raw.type(key)
    if kind == b"zset":
        return raw.zrange(key, 0, -1, withscores=True)
    if kind == b"hash":
        return raw.hgetall(key)
    return raw.dump(key)


def _table_rows(platform: Platform, media: str) -> dict[bytes, tuple[bytes, int]]:
    """Every stored row (value and cell timestamp) of the media's account-list tables."""
    listing = {"gdt": "advertiser_get_v1.1", "jrtt": "advertiser_info_v2", "wx": "wechat_advertiser_get_v1.1"}
    table = platform.hbase.full_name(table_name(media, listing[media]))
    with platform.hbase.connection() as conn:
        rows = conn.table(table).scan(row_start=b"0|", row_stop=b":", include_timestamp=True)
        return {key: value[b"info:data"] for key, value in rows}


def _account_rows(
    platform: Platform, media: str, dataset: str, account: str
) -> dict[bytes, tuple[dict, int]]:
    """The account's rows of the partition (every account's of the table when `account` is "")."""
    table = platform.hbase.full_name(table_name(media, dataset))
    prefix = f"{account[-1]}|{yyyymmdd(platform.day)}|{account}|".encode() if account else None
    with platform.hbase.connection() as conn:
        rows = conn.table(table).scan(row_prefix=prefix, include_timestamp=True)
        return {key: (json.loads(value[b"info:data"][0]), value[b"info:data"][1]) for key, value in rows}


def _chain(exc: BaseException | None) -> str:
    texts = []
    while exc is not None:
        texts.append(str(exc))
        exc = exc.__cause__ or exc.__context__
    return " <- ".join(texts)


def _errors(result: Any) -> str:
    return " ".join(
        str(e.message) + str(getattr(e.event_specific_data, "error", "")) for e in result.all_events
    )


def _failures(result: Any) -> str:
    [event] = result.get_asset_materialization_events()
    return event.event_specific_data.materialization.metadata["failed_accounts"].value
