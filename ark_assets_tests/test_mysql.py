"""Contract: MySQLResource keeps the seed's run log and `eton` tables on a real MariaDB, safely.

- `migrate` brings the log database to the newest alembic revision, is idempotent, and creates
  nothing in `eton` (an upstream system's database; the fixtures create it as that system would);
- run, request and response logs round-trip, and no secret value is ever stored;
- `active_tenants` / `active_agents` apply the seed's filters (tenant status = 1;
  auth_status in (1, 2) and auth_type = 1, per platform);
- hostile strings are stored verbatim (every value is a query parameter) and database names
  that are not identifiers are refused;
- an unreachable server and a wrong password give clear errors that never show the password.

This module owns two databases (`ark_t_<random>_nyfz` / `_eton`), dropped when it ends; each test
uses its own tenant aliases, so tests do not depend on each other's rows.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from datetime import date, datetime

import pymysql
import pytest
from dagster import build_resources

from ark_assets.clients.errors import SchemaNotMigrated, ServiceUnavailable
from ark_assets.clients.log_schema import downgrade, head
from ark_assets.core.redact import REDACTED
from ark_assets.media.registry import media as media_named
from ark_assets.media.registry import names as media_names
from ark_assets.resources.mysql import (
    Agent,
    MySQLAccessDenied,
    MySQLResource,
    RequestLog,
    ResponseLog,
    RunStatus,
    mysql_resource_from_env,
)
from ark_assets_tests.eton import create_eton, upsert_agent, upsert_tenant

pytestmark = pytest.mark.stack  # every test here runs against the real services

PREFIX = f"ark_t_{secrets.token_hex(4)}"
LOG_DB, ETON_DB = f"{PREFIX}_nyfz", f"{PREFIX}_eton"
TOKEN = "9b7e0d9cbd9f7b8de39299632c2f962001e4421a"
DB_PASSWORD = "Hunter2-db-password"

# The seed's job parameters (MISSION.md "A job's parameters"), plus two secrets that must not land.
SEED_PARAMS = {
    "agent_id": 1050262,
    "tenant_alias": "T100117",
    "data_date": "2020-05-30",
    "media_name": "gdt",
    "cur_job_name": "HourlyReportAdvertiser11",
    "redis_accounts_key": "gdt_advertiser_v1.1_T100117_20200530",
    "redis_keys": [],
    "account_list": [],
    "agents_list": ["1050262"],
    "task_type_list": "SAVE",
    "redis_channel": "None",
    "incr_min": 60,
    "output": "HBASE",
    "minutely_control": 1000,
    "agent_level": "parent",
    "agent_total": 6,
    "batch_key": "57ed39cc25bd5f43fa106779e405a189",
    "data_type": "day",
}
SECRETS = {"access_token": TOKEN, "password": DB_PASSWORD}


def _raw_connection() -> pymysql.connections.Connection:
    return pymysql.connect(host="127.0.0.1", port=3306, user="ark", password="ark", autocommit=True)


@pytest.fixture(scope="module")
def mysql() -> Iterator[MySQLResource]:
    resource = MySQLResource(log_database=LOG_DB, eton_database=ETON_DB)
    resource.migrate()
    create_eton(ETON_DB)
    yield resource
    with _raw_connection() as conn, conn.cursor() as cur:
        cur.execute(f"DROP DATABASE IF EXISTS `{LOG_DB}`")
        cur.execute(f"DROP DATABASE IF EXISTS `{ETON_DB}`")


@pytest.fixture
def query() -> Iterator:
    """Run one statement with plain pymysql (`{log}` / `{eton}` name this module's databases)."""
    conn = _raw_connection()

    def run(sql: str, *args: object) -> list[dict]:
        with conn.cursor(pymysql.cursors.DictCursor) as cur:
            cur.execute(sql.format(log=f"`{LOG_DB}`", eton=f"`{ETON_DB}`"), args)
            return list(cur.fetchall())

    yield run
    conn.close()


def _tenant() -> str:
    return f"T8{secrets.randbelow(10**10):010d}"


# -- schema ------------------------------------------------------------------------------------------


def test_migrate_is_idempotent_and_creates_the_log_tables_only(query) -> None:
    fresh = MySQLResource(log_database=f"{LOG_DB}_fresh", eton_database=f"{ETON_DB}_fresh")
    try:
        assert fresh.schema_revision() is None  # never migrated: no database yet
        assert fresh.migrate() == head()
        assert fresh.migrate() == head() == fresh.schema_revision()  # a second run changes nothing
        tables = query(
            "SELECT table_schema, table_name, table_collation FROM information_schema.tables"
            " WHERE table_schema IN (%s, %s)",
            f"{LOG_DB}_fresh",
            f"{ETON_DB}_fresh",
        )
        assert {(t["table_schema"], t["table_name"]) for t in tables} == {
            (f"{LOG_DB}_fresh", "alembic_version"),
            (f"{LOG_DB}_fresh", "api_result_log"),
            (f"{LOG_DB}_fresh", "api_request_log"),
            (f"{LOG_DB}_fresh", "api_response_log"),
        }  # and nothing in eton
        assert {t["table_collation"] for t in tables if t["table_name"] != "alembic_version"} == {
            "utf8mb4_unicode_ci"
        }
    finally:
        query(f"DROP DATABASE IF EXISTS `{LOG_DB}_fresh`")


def test_a_step_against_an_unmigrated_log_database_names_the_fix() -> None:
    unmigrated = MySQLResource(log_database=f"{LOG_DB}_none", eton_database=ETON_DB)
    with _raw_connection() as conn, conn.cursor() as cur:
        cur.execute(f"CREATE DATABASE IF NOT EXISTS `{LOG_DB}_none`")
    try:
        with pytest.raises(SchemaNotMigrated, match=r"run `ark-assets db upgrade`"):
            unmigrated.record_run_start(
                run_id="r",
                tenant_alias="T1",
                media_name="gdt",
                cur_job_name="gdt/funds",
                agent_id=None,
                data_date=date(2026, 11, 25),
                params={},
            )
    finally:
        with _raw_connection() as conn, conn.cursor() as cur:
            cur.execute(f"DROP DATABASE IF EXISTS `{LOG_DB}_none`")


def test_the_schema_migrates_down_and_up_again(query) -> None:
    probe = MySQLResource(log_database=f"{LOG_DB}_down", eton_database=ETON_DB)
    try:
        probe.migrate()
        downgrade(probe._server_url(), probe.log_database, "0001")
        columns = {
            r["column_name"]
            for r in query(
                "SELECT column_name FROM information_schema.columns WHERE table_schema = %s"
                " AND table_name = 'api_result_log'",
                f"{LOG_DB}_down",
            )
        }
        assert "alerted_at" not in columns and probe.schema_revision() == "0001"
        assert probe.migrate() == head()
    finally:
        query(f"DROP DATABASE IF EXISTS `{LOG_DB}_down`")


def test_the_tables_have_the_lookup_and_unique_keys(mysql: MySQLResource, query) -> None:
    rows = query(
        "SELECT table_name, index_name, non_unique, GROUP_CONCAT(column_name ORDER BY seq_in_index) AS cols"
        " FROM information_schema.statistics WHERE table_schema IN (%s, %s) AND index_name <> 'PRIMARY'"
        " GROUP BY table_name, index_name, non_unique",
        LOG_DB,
        ETON_DB,
    )
    keys = {(r["table_name"], r["cols"], r["non_unique"]) for r in rows}
    assert ("api_result_log", "tenant_alias,media_name,data_date", 1) in keys
    assert ("api_result_log", "run_id", 1) in keys
    assert ("tenant", "tenant_alias", 0) in keys
    assert ("agents", "tenant_alias,platform_id,agent_id_from_platform", 0) in keys


# -- run log -----------------------------------------------------------------------------------------


def test_run_log_round_trip_stores_no_secret(mysql: MySQLResource, query) -> None:
    run_log_id = mysql.record_run_start(
        run_id="run-1",
        tenant_alias="T100117",
        media_name="gdt",
        cur_job_name="HourlyReportAdvertiser11",
        agent_id=1050262,
        data_date=date(2020, 5, 30),
        params={**SEED_PARAMS, **SECRETS},
    )
    (started,) = query("SELECT * FROM {log}.api_result_log WHERE id = %s", run_log_id)
    assert started["status"] == "STARTED"
    assert (started["run_id"], started["tenant_alias"], started["media_name"]) == ("run-1", "T100117", "gdt")
    assert (started["agent_id"], started["data_date"]) == ("1050262", date(2020, 5, 30))
    assert started["batch_key"] == SEED_PARAMS["batch_key"]
    assert started["started_at"] is not None and started["ended_at"] is None
    assert json.loads(started["params"]) == {**SEED_PARAMS, "access_token": REDACTED, "password": REDACTED}
    assert TOKEN not in started["params"] and DB_PASSWORD not in started["params"]

    mysql.record_run_end(
        run_log_id,
        status=RunStatus.FAILED,
        accounts_requested=6987,
        accounts_succeeded=6980,
        accounts_failed=7,
        records=6980,
        message=f"11000 token expired for url ...?access_token={TOKEN}&account_id=1",
    )
    (ended,) = query("SELECT * FROM {log}.api_result_log WHERE id = %s", run_log_id)
    assert ended["status"] == "FAILED"
    assert (ended["accounts_requested"], ended["accounts_succeeded"], ended["accounts_failed"]) == (
        6987,
        6980,
        7,
    )
    assert ended["records"] == 6980
    assert ended["ended_at"] >= ended["started_at"]
    assert ended["message"] == f"11000 token expired for url ...?access_token={REDACTED}&account_id=1"


def test_a_run_cannot_end_as_started_nor_end_a_missing_row(mysql: MySQLResource) -> None:
    counts = {"accounts_requested": 0, "accounts_succeeded": 0, "accounts_failed": 0, "records": 0}
    with pytest.raises(ValueError, match="not STARTED"):
        mysql.record_run_end(1, status="STARTED", **counts)
    with pytest.raises(LookupError, match="no run-log row 999999999"):
        mysql.record_run_end(999_999_999, status="SUCCEEDED", **counts)


# -- request and response logs -------------------------------------------------------------------------


def test_request_and_response_logs_round_trip_redacted(mysql: MySQLResource, query) -> None:
    at = datetime(2020, 5, 30, 9, 15, 7, 123000)
    written = mysql.log_requests(
        [
            RequestLog(
                run_id="run-rq",
                media_name="gdt",
                endpoint="funds/get",
                tenant_alias="T100117",
                agent_id=1050262,
                account_id="10707125",
                params={"account_id": 10707125, "access_token": TOKEN, "nonce": "abc"},
                requested_at=at,
            ),
            RequestLog(
                run_id="run-rq",
                media_name="jrtt",
                endpoint="advertiser/fund/get/",
                tenant_alias="T100117",
                agent_id=None,
                account_id=None,
                params={},
                requested_at=at,
            ),
        ]
    )
    assert written == 2
    requests = query("SELECT * FROM {log}.api_request_log WHERE run_id = 'run-rq' ORDER BY id")
    assert [(r["media_name"], r["endpoint"], r["agent_id"], r["account_id"]) for r in requests] == [
        ("gdt", "funds/get", "1050262", "10707125"),
        ("jrtt", "advertiser/fund/get/", None, None),
    ]
    assert json.loads(requests[0]["params"]) == {
        "account_id": 10707125,
        "access_token": REDACTED,
        "nonce": "abc",
    }
    assert requests[0]["requested_at"] == at  # DATETIME(3) keeps the milliseconds

    body = json.dumps({"code": 0, "data": {"balance": 0.0}, "echo": {"access_token": TOKEN}})
    base = {"run_id": "run-rq", "media_name": "gdt", "endpoint": "funds/get", "account_id": "10707125"}
    mysql.log_responses(
        [
            ResponseLog(
                **base,
                http_status=200,
                code=0,
                message="ok",
                trace_id="trace-1",
                attempt=1,
                latency_ms=87,
                body=body,
                received_at=at,
                request_log_id=requests[0]["id"],
            ),
            ResponseLog(
                **base,
                http_status=200,
                code=11017,
                message=f"frequency limit, access_token={TOKEN}",
                trace_id=None,
                attempt=2,
                latency_ms=None,
                body=None,
                received_at=at,
            ),
        ]
    )
    responses = query("SELECT * FROM {log}.api_response_log WHERE run_id = 'run-rq' ORDER BY id")
    assert [(r["code"], r["attempt"], r["request_log_id"], r["trace_id"]) for r in responses] == [
        (0, 1, requests[0]["id"], "trace-1"),
        (11017, 2, None, None),
    ]
    assert json.loads(responses[0]["body"]) == {
        "code": 0,
        "data": {"balance": 0.0},
        "echo": {"access_token": REDACTED},
    }
    assert responses[1]["body"] is None and responses[1]["latency_ms"] is None
    assert responses[1]["message"] == f"frequency limit, access_token={REDACTED}"
    assert all(TOKEN not in str(row) for row in requests + responses)


def test_an_empty_batch_writes_nothing(mysql: MySQLResource) -> None:
    assert mysql.log_requests([]) == 0
    assert mysql.log_responses([]) == 0


# -- eton: tenants and agents ------------------------------------------------------------------------


def test_active_tenants_are_those_with_status_1(mysql: MySQLResource) -> None:
    tenants = {_tenant(): status for status in (0, 1, 2, 1)}
    for alias, status in tenants.items():
        upsert_tenant(ETON_DB, tenant_alias=alias, name=f"tenant {alias}", status=status)

    mine = [alias for alias in mysql.active_tenants() if alias in tenants]
    assert mine == sorted(alias for alias, status in tenants.items() if status == 1)


def test_a_tenant_made_inactive_upstream_is_no_longer_active(mysql: MySQLResource, query) -> None:
    alias = _tenant()
    upsert_tenant(ETON_DB, tenant_alias=alias, name="old")
    upsert_tenant(ETON_DB, tenant_alias=alias, name="new", status=0)

    rows = query("SELECT name, status FROM {eton}.tenant WHERE tenant_alias = %s", alias)
    assert rows == [{"name": "new", "status": 0}]
    assert alias not in mysql.active_tenants()


# (auth_status, auth_type, active?) -- the seed: auth_status in (1, 2) and auth_type = 1
AUTH_CASES = [
    (0, 1, False),  # not authorised
    (1, 1, True),
    (2, 1, True),
    (3, 1, False),  # e.g. revoked
    (0, 2, False),
    (1, 2, False),  # authorised, but not the usable auth type
    (2, 2, False),
    (3, 2, False),
]


@pytest.mark.parametrize("media", list(media_names()))
def test_active_agents_apply_the_seed_filter_per_platform(mysql: MySQLResource, media: str) -> None:
    tenant, other_tenant = _tenant(), _tenant()
    expected = []
    for other in media_names():  # every platform gets the same rows; only `media`'s may come back
        for auth_status, auth_type, active in AUTH_CASES:
            agent_id = f"{media_named(other).platform_id}{auth_status}{auth_type}"
            upsert_agent(
                ETON_DB,
                tenant_alias=tenant,
                media=other,
                agent_id=agent_id,
                name=f"agent {agent_id}",
                auth_status=auth_status,
                auth_type=auth_type,
            )
            if active and other == media:
                expected.append(
                    Agent(agent_id=agent_id, name=f"agent {agent_id}", level=None, parent_agent_id=None)
                )
    upsert_agent(ETON_DB, tenant_alias=other_tenant, media=media, agent_id=1, auth_status=1, auth_type=1)

    assert mysql.active_agents(tenant, media) == expected
    assert mysql.active_agents(tenant, media_named(media)) == expected
    assert [a.agent_id for a in mysql.active_agents(other_tenant, media)] == ["1"]


def test_jrtt_tiers_and_upserts_come_back(mysql: MySQLResource, query) -> None:
    tenant = _tenant()
    upsert_agent(ETON_DB, tenant_alias=tenant, media="jrtt", agent_id=3367268016, name="one", level=1)
    upsert_agent(
        ETON_DB,
        tenant_alias=tenant,
        media="jrtt",
        agent_id="3367268017",
        name="child",
        level=2,
        parent_agent_id=3367268016,
    )
    assert mysql.active_agents(tenant, "jrtt") == [
        Agent(agent_id="3367268016", name="one", level=1, parent_agent_id=None),
        Agent(agent_id="3367268017", name="child", level=2, parent_agent_id="3367268016"),
    ]

    upsert_agent(ETON_DB, tenant_alias=tenant, media="jrtt", agent_id=3367268016, name="one", auth_status=0)
    assert [a.agent_id for a in mysql.active_agents(tenant, "jrtt")] == ["3367268017"]
    count = query("SELECT COUNT(*) AS n FROM {eton}.agents WHERE tenant_alias = %s", tenant)
    assert count == [{"n": 2}]


# -- injection ----------------------------------------------------------------------------------------

HOSTILE_TENANT = "T1'; DROP TABLE tenant; --"
HOSTILE_ACCOUNT = "12'\"34\\'); DROP TABLE api_request_log; --"


def test_hostile_strings_are_stored_verbatim_and_the_tables_survive(mysql: MySQLResource, query) -> None:
    upsert_tenant(ETON_DB, tenant_alias=HOSTILE_TENANT, name='O\'Brien "quoted" \\ name')
    upsert_agent(ETON_DB, tenant_alias=HOSTILE_TENANT, media="wx", agent_id=4011704, name="x'); --")
    mysql.record_run_start(
        run_id="run-hostile",
        tenant_alias=HOSTILE_TENANT,
        media_name="wx",
        cur_job_name="FundGet'; --",
        agent_id=4011704,
        data_date=date(2020, 5, 18),
        params={"account_list": [HOSTILE_ACCOUNT]},
    )
    at = datetime(2020, 5, 18, 8, 0)
    request = RequestLog(
        run_id="run-hostile",
        media_name="wx",
        endpoint="funds/get",
        tenant_alias=HOSTILE_TENANT,
        agent_id=1,
        account_id=HOSTILE_ACCOUNT,
        params={},
        requested_at=at,
    )
    mysql.log_requests([request])

    assert HOSTILE_TENANT in mysql.active_tenants()
    assert mysql.active_agents(HOSTILE_TENANT, "wx") == [
        Agent(agent_id="4011704", name="x'); --", level=None, parent_agent_id=None)
    ]
    (tenant_row,) = query("SELECT name FROM {eton}.tenant WHERE tenant_alias = %s", HOSTILE_TENANT)
    assert tenant_row["name"] == 'O\'Brien "quoted" \\ name'
    (run,) = query("SELECT * FROM {log}.api_result_log WHERE run_id = 'run-hostile'")
    assert (run["tenant_alias"], run["cur_job_name"]) == (HOSTILE_TENANT, "FundGet'; --")
    assert json.loads(run["params"]) == {"account_list": [HOSTILE_ACCOUNT]}
    (stored,) = query("SELECT * FROM {log}.api_request_log WHERE run_id = 'run-hostile'")
    assert (stored["tenant_alias"], stored["account_id"]) == (HOSTILE_TENANT, HOSTILE_ACCOUNT)
    tables = query(
        "SELECT COUNT(*) AS n FROM information_schema.tables WHERE table_schema IN (%s, %s)", LOG_DB, ETON_DB
    )
    assert tables == [{"n": 6}]  # the five tables and alembic_version


@pytest.mark.parametrize("setting", ["log_database", "eton_database"])
@pytest.mark.parametrize("name", ["nyfz`; DROP DATABASE mysql; --", "ny-fz", "", "nyfz.x"])
def test_database_names_must_be_identifiers(setting: str, name: str) -> None:
    with pytest.raises(ValueError, match="must be letters, digits and underscores only") as excinfo:
        MySQLResource(**{setting: name})
    assert repr(name) in str(excinfo.value)


# -- connection failures and configuration -------------------------------------------------------------


def test_unreachable_mysql_names_host_port_and_the_fix() -> None:
    with pytest.raises(ServiceUnavailable) as excinfo:
        MySQLResource(port=1, password=DB_PASSWORD, connect_timeout=2).active_tenants()
    message = str(excinfo.value)
    assert "MySQL at 127.0.0.1:1 is unreachable" in message
    assert "Connection refused" in message
    assert "make stack" in message and "ARK_MYSQL_HOST/ARK_MYSQL_PORT" in message
    assert DB_PASSWORD not in message


def test_a_wrong_password_is_a_clear_error_without_the_password() -> None:
    with pytest.raises(MySQLAccessDenied) as excinfo:
        MySQLResource(password=DB_PASSWORD, log_database=LOG_DB, eton_database=ETON_DB).active_tenants()
    message = str(excinfo.value)
    assert "MySQL at 127.0.0.1:3306 refused user 'ark'" in message
    assert "Access denied" in message and "ARK_MYSQL_USER/ARK_MYSQL_PASSWORD" in message
    assert DB_PASSWORD not in message
    assert DB_PASSWORD not in repr(excinfo.value.__cause__)


def test_from_env_defaults_to_the_local_stack(monkeypatch: pytest.MonkeyPatch) -> None:
    for suffix in ("HOST", "PORT", "USER", "PASSWORD", "LOG_DB", "ETON_DB"):
        monkeypatch.delenv(f"ARK_MYSQL_{suffix}", raising=False)
    resource = mysql_resource_from_env()
    assert (resource.host, resource.port, resource.user) == ("127.0.0.1", 3306, "ark")
    assert (resource.password, resource.log_database, resource.eton_database) == ("ark", "nyfz", "eton")


def test_from_env_reads_the_variables_at_run_time(
    mysql: MySQLResource, monkeypatch: pytest.MonkeyPatch
) -> None:
    alias = _tenant()
    upsert_tenant(ETON_DB, tenant_alias=alias)
    env = {"HOST": "127.0.0.1", "PORT": "3306", "USER": "ark", "PASSWORD": "ark"}
    for suffix, value in {**env, "LOG_DB": LOG_DB, "ETON_DB": ETON_DB}.items():
        monkeypatch.setenv(f"ARK_MYSQL_{suffix}", value)
    with build_resources({"mysql": mysql_resource_from_env()}) as resources:
        assert alias in resources.mysql.active_tenants()

    monkeypatch.setenv("ARK_MYSQL_PORT", "1")
    with build_resources({"mysql": mysql_resource_from_env()}) as resources:
        with pytest.raises(ServiceUnavailable, match="127.0.0.1:1"):
            resources.mysql.active_tenants()
