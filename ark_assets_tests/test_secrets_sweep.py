"""Secrets never reach a sink, and SQL only ever carries values as parameters.

The contract (issue 6, "Secrets sweep"): after a full partition runs with known secrets -- the
simulator's access and refresh tokens (and the ones a refresh rotates in), the media apps'
secret, a MySQL password and a Sentry DSN key, all unique canaries -- and with error paths
taken (an account answering an unknown code, throttles, a token refresh, a dead refresh token, a
refused slice config, an empty source list), none of them occurs, raw or URL-encoded, in any
sink: MySQL tables, Kafka topics, Sentry envelopes, Dagster's event log and compute logs, HBase
values, the FILE output, the Kafka spool, Redis keys other than the token sets, and the stack's
logs. Hostile tenant and account strings are refused where validation exists and stored
verbatim where they reach SQL. Results: docs/RELIABILITY.md, "Secrets sweep".
"""

from __future__ import annotations

import ast
import json
import secrets
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path
from urllib.parse import quote, quote_plus

import pymysql
import pytest
import redis
from dagster import DagsterInstance
from kafka import KafkaConsumer, TopicPartition

from ark_assets.clients.redis_keys import refresh_token_key, token_key
from ark_assets.core.rowkey import RowKey
from ark_assets.core.tables import table_name
from ark_assets.core.tiers import AgentTier
from ark_assets.io.hbase_io_manager import HBaseIOManager
from ark_assets.media.registry import names as media_names
from ark_assets.partitions import check_partition_key
from ark_assets.resources.media_api import MediaConnection
from ark_assets.resources.mysql import MySQLResource, RequestLog
from ark_assets.resources.redis_store import RedisResource
from ark_assets.resources.sentry import SentryResource
from ark_assets_tests.eton import upsert_agent, upsert_tenant
from ark_assets_tests.platform import TASK_KNOBS, Platform, all_tables, running_platform
from ark_assets_tests.sentry_sink import SentrySink
from ark_sim.tamper import TamperRule

pytestmark = pytest.mark.api_paths  # `make test` runs this module in both API versions

ROOT = Path(__file__).resolve().parents[1]
STACK_LOGS = ROOT / ".stack" / "log"
MARIADB_SOCKETS = (ROOT / ".stack/data/mariadb/mysqld.sock", Path("/run/mysqld/mysqld.sock"))
UNIQUE = secrets.token_hex(6)
# Canaries: unique per session, with characters URL-encoding changes (so both spellings are searched).
APP_SECRET = f"appsecret+{UNIQUE}/x="
MYSQL_PASSWORD = f"pw@{UNIQUE}#Z"
DSN_KEY = f"dsnkey{UNIQUE}"
MYSQL_USER = f"ark_canary_{UNIQUE[:8]}"


# ##### FIXTURES


@contextmanager
def canary_mysql_user(databases: tuple[str, str]) -> Iterator[tuple[str, str]]:
    """A MariaDB user on loopback with the canary password and rights on the test's databases only.

    The platform's own user cannot grant, so the user is made through the local root socket
    (as `make stack` makes `ark`); the password travels as a parameter.
    """
    sock = next(s for s in MARIADB_SOCKETS if s.exists())
    root = pymysql.connect(unix_socket=str(sock), user="root", autocommit=True)
    try:
        with root.cursor() as cur:
            cur.execute(f"CREATE USER '{MYSQL_USER}'@'127.0.0.1' IDENTIFIED BY %s", (MYSQL_PASSWORD,))
            for db in databases:  # identifiers: validated by MySQLResource, backquoted
                cur.execute(f"GRANT ALL PRIVILEGES ON `{db}`.* TO '{MYSQL_USER}'@'127.0.0.1'")
        yield MYSQL_USER, MYSQL_PASSWORD
    finally:
        with root.cursor() as cur:
            cur.execute(f"DROP USER IF EXISTS '{MYSQL_USER}'@'127.0.0.1'")
        root.close()


@pytest.fixture(scope="module")
def swept() -> Iterator[dict]:
    """Run the partition (HBASE, then FILE) with canary secrets and error paths; collect every sink."""
    log_offsets = {p: p.stat().st_size for p in STACK_LOGS.glob("*.log")}
    apps = {"gdt": "1110001", "jrtt": "1700000000001", "wx": "1110002"}
    overrides = {"media": {m: {"app": {"app_id": app, "secret": APP_SECRET}} for m, app in apps.items()}}
    home = Path(tempfile.mkdtemp(prefix="ark-sweep-home-"))
    files = Path(tempfile.mkdtemp(prefix="ark-sweep-files-"))
    with (
        _removed_afterwards(home, files),
        running_platform(first_run=False, **overrides) as platform,
        SentrySink(public_key=DSN_KEY) as sink,
    ):
        databases = (platform.mysql.log_database, platform.mysql.eton_database)
        with (
            canary_mysql_user(databases) as (user, password),
            DagsterInstance.local_temp(str(home)) as instance,
        ):
            instance.add_dynamic_partitions("tenants", [platform.tenant])
            platform.instance = instance
            mysql = MySQLResource(
                user=user, password=password, log_database=databases[0], eton_database=databases[1]
            )
            mysql.migrate()  # with the canary password: the migration path is swept too
            api = platform.resources["media_api"]
            platform.resources |= {
                "mysql": mysql,
                "sentry": SentryResource(dsn=sink.dsn),
                "media_api": type(api)(
                    media={
                        m: MediaConnection(
                            base_url=platform.sim.url(m), app_id=api.app(m).app_id, app_secret=APP_SECRET
                        )
                        for m in media_names()
                    },
                    max_in_flight=32,
                    **TASK_KNOBS,  # Tencent's async tasks at the test simulator's pace
                ),
            }
            tokens = _initial_tokens(platform)
            _induce_errors(platform)
            results = [platform.run()]  # the full partition, HBASE output
            results.append(platform.run(["gdt/funds"], config={"account_list": ["1"]}))  # refused slice
            other = platform.add_tenant(seed=False)
            instance.add_dynamic_partitions("tenants", [other])
            results.append(platform.run(["wx/funds"], tenant=other))  # empty source list: an alert
            platform.sim.clear_tampering()
            file_io = HBaseIOManager(hbase=platform.hbase, output="FILE", file_dir=str(files))
            results.append(platform.run(resources={"io_manager": file_io}))  # the full partition, FILE output
            sink.wait_for(2, timeout=10)
            tokens |= _current_tokens(platform)  # the refresh rotated some in
            yield {
                "platform": platform,
                "results": results,
                "tokens": tokens,
                "sinks": {
                    "mysql": _mysql_text(databases),
                    "kafka": _kafka_text(platform.topic_prefix),
                    "sentry": b"\n".join(sink.bodies),
                    "dagster_home": _files_text(home),
                    "hbase": _hbase_text(platform),
                    "file_output": _files_text(files),
                    "kafka_spool": _files_text(Path(platform.resources["kafka_log"].spool_dir)),
                    "redis": _redis_text(platform),
                    "stack_logs": _stack_logs_since(log_offsets),
                },
                "home": home,
                "files": files,
            }


@contextmanager
def _removed_afterwards(*directories: Path) -> Iterator[None]:
    try:
        yield
    finally:
        for directory in directories:
            shutil.rmtree(directory, ignore_errors=True)


def _induce_errors(platform: Platform) -> None:
    """Error paths the sweep must cover: failures, throttles, refreshes (ok and dead), bad answers."""
    world, tenant, sim = platform.sim.world, platform.tenant, platform.sim
    account = str(world.accounts("gdt", tenant)[0][0])
    sim.tamper("gdt", TamperRule("funds/get", match={"account_id": account}, code=99999))
    sim.set_quotas("wx", "funds/get", per_minute=600, burst_seconds=1.0)  # throttles
    first_tier = world.agents("jrtt", tenant, tier=AgentTier.FIRST)
    sim.expire_tokens("jrtt", tenant, first_tier[0].agent_id)  # refreshed with the app secret
    gdt_agent = world.agents("gdt", tenant)[-1].agent_id
    sim.expire_tokens("gdt", tenant, gdt_agent, refresh=True)  # the refresh token is dead too


# ##### THE SWEEP


@pytest.mark.stack
def test_the_runs_took_the_paths_the_sweep_is_meant_to_cover(swept: dict) -> None:
    full, refused, empty, file_run = swept["results"]
    assert full.success and file_run.success and not refused.success and not empty.success
    metadata = {
        "/".join(e.asset_key.path): e.event_specific_data.materialization.metadata
        for e in full.get_asset_materialization_events()
    }
    assert metadata["gdt/funds"]["accounts_failed"].value > 0  # unknown code and the dead refresh token
    assert metadata["wx/funds"]["throttles"].value > 0
    assert (
        metadata["jrtt/funds"]["token_refreshes"].value
        + metadata["jrtt/advertisers_first_tier"]["token_refreshes"].value
        >= 1
    )
    sinks = swept["sinks"]
    assert b"API_JOB_ERROR" in sinks["kafka"] and b"api_result_log" not in sinks["kafka"]
    assert sinks["sentry"] and sinks["mysql"] and sinks["hbase"] and sinks["file_output"]
    # the search finds the canaries where they belong: tokens in Redis' token sets
    raw_tokens = redis.Redis(db=2).zrange(token_key("gdt", swept["platform"].tenant), 0, -1)
    assert raw_tokens and {t.decode() for t in raw_tokens} <= swept["tokens"]
    compute_logs = [p for p in swept["home"].rglob("compute_logs/*") if p.stat().st_size]
    assert compute_logs  # Dagster captured compute logs, so they were searched
    assert any(swept["files"].rglob("*.json"))


@pytest.mark.stack
@pytest.mark.parametrize(
    "sink",
    [
        "mysql",
        "kafka",
        "sentry",
        "dagster_home",
        "hbase",
        "file_output",
        "kafka_spool",
        "redis",
        "stack_logs",
    ],
)
def test_no_secret_reaches_the_sink(swept: dict, sink: str) -> None:
    canaries = {
        "app secret": [APP_SECRET],
        "mysql password": [MYSQL_PASSWORD],
        "token": sorted(swept["tokens"]),
        # the SDK addresses Sentry with the DSN key (envelope trace header): only its own sink may carry it
        "sentry dsn key": [] if sink == "sentry" else [DSN_KEY],
    }
    text = swept["sinks"][sink]
    found = [
        (kind, spelling[:12])
        for kind, values in canaries.items()
        for value in values
        for spelling in {value, quote(value, safe=""), quote_plus(value)}
        if spelling.encode() in text
    ]
    assert not found, f"{sink} holds secrets: {found}"


@pytest.mark.stack
def test_the_sentry_dsn_key_only_travels_as_sentrys_own_address(swept: dict) -> None:
    for envelope in swept["sinks"]["sentry"].split(b"\n"):
        if DSN_KEY.encode() in envelope:
            header = json.loads(envelope)
            assert header["trace"]["public_key"] == DSN_KEY  # the envelope header, not an event
            assert DSN_KEY not in json.dumps({k: v for k, v in header.items() if k != "trace"})


# ##### HOSTILE STRINGS AND SQL

HOSTILE = ["x'; DROP TABLE api_result_log; --", '"|\n', "T1' OR '1'='1", "账户`\\%_"]


@pytest.mark.parametrize(
    "value", HOSTILE, ids=["drop-table", "quote-pipe-newline", "or-true", "backquote-wildcards"]
)
def test_hostile_strings_are_refused_where_validation_exists(value: str) -> None:
    with pytest.raises(ValueError, match="expected 'YYYY-MM-DD|TENANT'"):
        check_partition_key(f"2026-11-25|{value}")
    with pytest.raises(ValueError, match="must be ASCII letters and digits"):
        token_key("gdt", value)
    with pytest.raises(ValueError, match="row key part"):
        RowKey(value, date(2026, 11, 25), "1", "T1")
    with pytest.raises(ValueError, match="must be ASCII letters and digits"):
        RedisResource().sets.tokens("gdt", value)


@pytest.mark.stack
def test_hostile_strings_reach_sql_only_as_parameters_and_are_stored_verbatim() -> None:
    unique = secrets.token_hex(4)
    mysql = MySQLResource(log_database=f"ark_t_{unique}_nyfz", eton_database=f"ark_t_{unique}_eton")
    try:
        mysql.migrate()
        ids = []
        for value in HOSTILE:
            ids.append(
                mysql.record_run_start(
                    run_id=value,
                    tenant_alias=value,
                    media_name="gdt",
                    cur_job_name=value,
                    agent_id=value[:32],  # the id columns are VARCHAR(32)
                    data_date=date(2026, 11, 25),
                    params={"account_list": [value], "agents_list": [value]},
                )
            )
            upsert_tenant(mysql.eton_database, tenant_alias=value, name=value)  # as upstream writes them
            upsert_agent(
                mysql.eton_database, tenant_alias=value, media="gdt", agent_id=value[:32], name=value
            )
            mysql.log_requests(
                [
                    RequestLog(
                        run_id=value,
                        media_name="gdt",
                        endpoint="funds/get",
                        tenant_alias=value,
                        agent_id=value[:32],
                        account_id=value,
                        params={"target": value},
                        requested_at=datetime.now(),
                    )
                ]
            )
        for run_log_id in ids:
            mysql.record_run_end(
                run_log_id,
                status="FAILED",
                accounts_requested=0,
                accounts_succeeded=0,
                accounts_failed=0,
                records=0,
                message=HOSTILE[0],
            )
        with pytest.raises(pymysql.err.DataError, match="Data too long for column 'agent_id_from_platform'"):
            upsert_agent(
                mysql.eton_database, tenant_alias="T1", media="gdt", agent_id=HOSTILE[0] * 2
            )  # refused whole
        assert mysql.active_agents("T1", "gdt") == []
        assert set(HOSTILE) <= set(mysql.active_tenants())  # every table still there, values verbatim
        for value in HOSTILE:
            [agent] = mysql.active_agents(value, "gdt")
            assert agent.agent_id == value[:32] and agent.name == value
        conn = pymysql.connect(host="127.0.0.1", user="ark", password="ark", database=mysql.log_database)
        with conn.cursor() as cur:
            cur.execute("SELECT tenant_alias, params, message FROM api_result_log ORDER BY id")
            rows = cur.fetchall()
            cur.execute("SELECT tenant_alias, account_id FROM api_request_log ORDER BY id")
            requests = cur.fetchall()
        conn.close()
        assert [r[0] for r in rows] == HOSTILE and all(r[2] == HOSTILE[0] for r in rows)
        assert [json.loads(r[1])["account_list"] for r in rows] == [[v] for v in HOSTILE]
        assert requests == tuple((v, v) for v in HOSTILE)
    finally:
        conn = pymysql.connect(host="127.0.0.1", user="ark", password="ark")
        with conn.cursor() as cur:
            for db in (mysql.log_database, mysql.eton_database):
                cur.execute(f"DROP DATABASE IF EXISTS `{db}`")
        conn.close()


# SQL built with f-strings, and why each one is safe. Anything else that splices into SQL fails.
# (SQL here is written in capitals, as every template in the code is; ruff's S608 covers the rest.)
SQL_FSTRING_ALLOWED = {
    # the log database's name (validated as an identifier by MySQLResource) in CREATE DATABASE
    "ark_assets/clients/log_schema/__init__.py",
    # migrations: constant table options and table names, no value from outside
    "ark_assets/clients/log_schema/versions/0001_logs.py",
    "ark_assets/clients/log_schema/versions/0002_run_closure.py",
    # CREATE USER through the root socket's CLI, where no parameters exist: values escaped
    "ark_stack/services/mariadb.py",
}
_SQL_VERBS = ("SELECT ", "INSERT ", "UPDATE ", "DELETE ", "DROP ", "CREATE ", "ALTER ", "GRANT ", " WHERE ")


def test_no_sql_is_built_by_interpolating_values() -> None:
    offenders = []
    for path in sorted(p for package in ("ark_assets", "ark_stack") for p in (ROOT / package).rglob("*.py")):
        relative = str(path.relative_to(ROOT))
        for node in ast.walk(ast.parse(path.read_text(), relative)):
            if isinstance(node, ast.JoinedStr) and any(
                isinstance(v, ast.FormattedValue) for v in node.values
            ):
                constant = "".join(v.value for v in node.values if isinstance(v, ast.Constant))
                if any(verb in constant for verb in _SQL_VERBS) and relative not in SQL_FSTRING_ALLOWED:
                    offenders.append(f"{relative}:{node.lineno}")
            # str.format on a SQL template may fill only the database names {log} / {eton}
            if isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "format":
                names = {k.arg for k in node.keywords}
                target = node.func.value
                text = (
                    target.value if isinstance(target, ast.Constant) and isinstance(target.value, str) else ""
                )
                if any(verb in text for verb in _SQL_VERBS) and not names <= {
                    "log",
                    "eton",
                    "options",
                }:
                    offenders.append(f"{relative}:{node.lineno}")
    assert not offenders, f"SQL built from interpolated values: {offenders}"


# ##### HELPERS


def _initial_tokens(platform: Platform) -> set[str]:
    return {
        token
        for media in media_names()
        for pair in platform.sim.world.initial_tokens(media, platform.tenant).values()
        for token in pair
    }


def _current_tokens(platform: Platform) -> set[str]:
    raw = redis.Redis(db=2)
    found = set()
    for media in media_names():
        for key in (token_key(media, platform.tenant), refresh_token_key(media, platform.tenant)):
            kind = raw.type(key)
            if kind == b"zset":
                found |= {m.decode() for m in raw.zrange(key, 0, -1)}
            elif kind == b"hash":
                found |= {v.decode() for v in raw.hgetall(key).values()}
    assert found
    return found


def _mysql_text(databases: tuple[str, ...]) -> bytes:
    conn = pymysql.connect(host="127.0.0.1", user="ark", password="ark", charset="utf8mb4")
    parts = []
    with conn.cursor() as cur:
        for db in databases:
            cur.execute("SELECT table_name FROM information_schema.tables WHERE table_schema = %s", (db,))
            for (table,) in cur.fetchall():
                cur.execute(f"SELECT * FROM `{db}`.`{table}`")  # noqa: S608 - names from information_schema
                parts.append(repr(cur.fetchall()))
    conn.close()
    return "\n".join(parts).encode()


def _kafka_text(prefix: str) -> bytes:
    """Every record of the test's topics, read from the beginning to the end offsets."""
    consumer = KafkaConsumer(bootstrap_servers="127.0.0.1:9092", group_id=None, enable_auto_commit=False)
    try:
        partitions = [
            TopicPartition(f"{prefix}{m}_api_log", p)
            for m in media_names()
            for p in sorted(consumer.partitions_for_topic(f"{prefix}{m}_api_log") or ())
        ]
        consumer.assign(partitions)
        consumer.seek_to_beginning(*partitions)
        ends = consumer.end_offsets(partitions)
        values = []
        while any(consumer.position(tp) < ends[tp] for tp in partitions):
            for batch in consumer.poll(timeout_ms=500).values():
                values.extend(r.value for r in batch)
    finally:
        consumer.close()
    assert values
    return b"\n".join(values)


def _hbase_text(platform: Platform) -> bytes:
    parts = []
    with platform.hbase.connection() as conn:
        for media, dataset in all_tables():
            name = platform.hbase.full_name(table_name(media, dataset))
            if name.encode() in conn.tables():
                parts.extend(k + b"\t" + b"".join(v.values()) for k, v in conn.table(name).scan())
    return b"\n".join(parts)


def _files_text(root: Path) -> bytes:
    return b"\n".join(p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file())


def _redis_text(platform: Platform) -> bytes:
    """Every Redis key of the tenant except the token sets (where tokens belong), and the quota keys."""
    raw = redis.Redis(db=2)
    token_sets = {
        f"{k(m, platform.tenant)}".encode() for m in media_names() for k in (token_key, refresh_token_key)
    }
    parts = []
    for key in [*raw.scan_iter(match=f"*{platform.tenant}*"), *raw.scan_iter(match="ark:*")]:
        if key in token_sets:
            continue
        parts.append(key + b"=" + repr(raw.dump(key)).encode())
    return b"\n".join(parts)


def _stack_logs_since(offsets: dict[Path, int]) -> bytes:
    """What each stack log gained while the sweep ran (the canaries are new, so that is enough)."""
    parts = []
    for path in sorted(STACK_LOGS.glob("*.log")):
        with path.open("rb") as log:
            log.seek(offsets.get(path, 0))
            parts.append(log.read())
    return b"\n".join(parts)
