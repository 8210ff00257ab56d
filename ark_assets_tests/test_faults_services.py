"""Fault matrix, backing services: HBase, Kafka, MySQL, Redis and Sentry failing around a run.

The contract (docs/RELIABILITY.md): a service that blips mid-run is ridden out (HBase writes and
the MySQL run log retry until it is back); one that is down from the start fails the run at once
with its host:port and the fix, before any media quota is spent; Kafka and Sentry never cost the
run anything (events wait in the spool and are delivered later); bad Redis keys stop the run with
the key named and nothing stored touched. Afterwards the invariants of `fault_matrix.py` hold,
after at most one re-run.

The shared services are never stopped: a test kills a Thrift server JVM of its own, or takes
down a loopback proxy (`tcp_proxy.py`) in front of the shared MySQL, or points a resource at a
closed loopback port.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pymysql
import pytest
import redis
from dagster import AssetKey, DagsterInstance

from ark_assets.clients.errors import TableNotFound
from ark_assets.clients.kafka_spool import EventSpool
from ark_assets.io.hbase_io_manager import HBaseIOManager
from ark_assets.media.registry import names as media_names
from ark_assets.partitions import partition_key
from ark_assets.resources.kafka_log import KafkaLogResource
from ark_assets.resources.sentry import SentryResource
from ark_assets_tests.fault_matrix import (
    PrivateThrift,
    assert_nothing_lost,
    assert_one_outcome_each,
    assert_rows_equal_truth,
    changed,
    closed_port,
    fault_platform,
    rerun_completes,
    snapshot,
    step_errors,
    table_of,
    when,
)
from ark_assets_tests.kafka_reader import consume_events
from ark_assets_tests.platform import HOURLY_REPORT, TASK_KNOBS, Platform
from ark_assets_tests.tcp_proxy import TcpProxy

pytestmark = pytest.mark.stack  # every test here runs against the real services

BASELINE = ["gdt/funds", "gdt/daily_report_advertiser", "jrtt/funds", "wx/funds"]
ROOT = Path(__file__).resolve().parents[1]

# ##### FIXTURES


@pytest.fixture(scope="module")
def platform() -> Iterator[Platform]:
    with fault_platform(baseline=BASELINE) as platform:
        yield platform


@pytest.fixture(autouse=True)
def _fresh_simulator(platform: Platform) -> Iterator[None]:
    platform.sim.reset()
    yield
    for media in media_names():
        platform.sim.set_faults(media, median_ms=0)


def _calls(platform: Platform, media: str, endpoint: str) -> int:
    return sum(platform.sim.counters()["requests"].get(f"{media} {endpoint}", {}).values())


def _logged(platform: Platform, run_id: str, text: str) -> bool:
    return any(text in (r.user_message or "") for r in platform.instance.all_logs(run_id))


# ##### HBase


def test_hbase_thrift_killed_mid_run_and_restarted_is_ridden_out(platform: Platform) -> None:
    assets = ["gdt/funds", "gdt/daily_report_advertiser"]
    before = snapshot(platform, assets)
    platform.sim.set_faults("gdt", median_ms=40)
    with PrivateThrift() as thrift:
        thrift.start()
        hbase = changed(platform.hbase, port=thrift.port)
        resources = {"hbase": hbase, "io_manager": HBaseIOManager(hbase=hbase)}
        restarts: list[float] = []

        def kill_and_restart() -> None:
            thrift.kill()  # SIGKILL while the run fetches; its next write finds no server
            restarts.append(thrift.start())

        def calls() -> int:
            return _calls(platform, "gdt", "daily_reports/get") + _calls(platform, "gdt", "funds/get")

        watcher = when(lambda: calls() >= 20, kill_and_restart)
        result = platform.run(assets, resources=resources)
        watcher.join(timeout=120)
    assert restarts, "the Thrift server was never killed"
    assert result.success, step_errors(result)
    assert _logged(platform, result.run_id, "writing the partition again")  # it did hit the dead server
    found = assert_one_outcome_each(result, assets)
    assert all(o.complete for o in found.values()), found
    assert_nothing_lost(platform, before)
    assert_rows_equal_truth(platform, assets)


def test_hbase_unreachable_at_start_fails_before_any_call(platform: Platform) -> None:
    port = closed_port()
    hbase = changed(platform.hbase, port=port)
    before = snapshot(platform, ["gdt/funds"])
    io_manager = HBaseIOManager(hbase=hbase, start_retry_s=2.0)  # (10 s by default: rides out a restart)
    result = platform.run(["gdt/funds"], resources={"hbase": hbase, "io_manager": io_manager})
    assert not result.success
    errors = " ".join(step_errors(result))
    assert f"HBase Thrift at 127.0.0.1:{port} is unreachable" in errors and "make stack" in errors, errors
    assert _calls(platform, "gdt", "funds/get") == 0  # no quota spent on rows it could not keep
    assert_nothing_lost(platform, before)
    rerun_completes(platform, ["gdt/funds"])


# ##### Kafka, Sentry


def test_kafka_down_for_the_whole_run_costs_nothing_and_events_arrive_later(platform: Platform) -> None:
    spool_dir = tempfile.mkdtemp(prefix="ark-kafka-fault-")
    down = KafkaLogResource(
        bootstrap_servers=f"127.0.0.1:{closed_port()}",
        topic_prefix=platform.topic_prefix,
        spool_dir=spool_dir,
    )
    started = time.monotonic()
    result = platform.run(["wx/funds"], resources={"kafka_log": down})
    seconds = time.monotonic() - started
    assert result.success, step_errors(result)
    [outcome] = assert_one_outcome_each(result, ["wx/funds"]).values()
    assert outcome.complete
    assert seconds < 20, seconds  # one connect timeout per half minute, not per event
    spooled = len(EventSpool(Path(spool_dir), 1000))
    assert spooled >= 2  # START and END at least, counted in the spool
    # the broker is back: the next process with that spool delivers them, oldest first
    up = KafkaLogResource(topic_prefix=platform.topic_prefix, spool_dir=spool_dir)
    stats = up.flush()
    assert stats.redelivered == spooled and len(EventSpool(Path(spool_dir), 1000)) == 0
    events = consume_events(
        "127.0.0.1:9092", f"{platform.topic_prefix}wx_api_log", timeout_s=15, min_events=spooled + 2
    )
    mine = [e for e in events if e["argv"].get("batch_key") == result.run_id]
    assert {"API_JOB_START", "API_JOB_END"} <= {e["log_type"] for e in mine}
    assert_rows_equal_truth(platform, ["wx/funds"])


def test_sentry_unreachable_leaves_the_run_unaffected(platform: Platform) -> None:
    """An alert (a spent daily quota) goes to a DSN nobody answers: the run goes on regardless."""
    sentry = SentryResource(dsn=f"http://public@127.0.0.1:{closed_port()}/1", flush_timeout_s=1.0)
    platform.sim.set_quotas("wx", "funds/get", per_day=5)
    try:
        started = time.monotonic()
        result = platform.run(["wx/funds"], resources={"sentry": sentry})
        seconds = time.monotonic() - started
    finally:
        platform.sim.set_quotas("wx", "funds/get", per_day=5_000_000)
        app = platform.resources["media_api"].app("wx").app_id
        raw = redis.Redis(db=2)
        for key in raw.scan_iter(match=f"ark:quota_exhausted:wx:{app}:*"):
            raw.delete(key)
    assert result.success, step_errors(result)
    [outcome] = assert_one_outcome_each(result, ["wx/funds"]).values()
    assert (outcome.succeeded, outcome.failed) == (5, 15)  # the alert was raised, and sent nowhere
    assert seconds < 20, seconds
    rerun_completes(platform, ["wx/funds"])


# ##### MySQL


def test_mysql_restarted_mid_run_is_ridden_out(platform: Platform) -> None:
    platform.sim.set_faults("jrtt", median_ms=300)  # each batch of balances answers in ~0.3 s
    with TcpProxy(3306) as proxy:
        mysql = changed(platform.mysql, port=proxy.port)
        # the outage starts once the fetch is under way (its first batch of 50 ids answered) and
        # outlasts it: the run-log end row and the request logs are written while "MySQL" is down
        outage = when(lambda: _calls(platform, "jrtt", "account/fund/get") >= 1, lambda: proxy.outage(4.0))
        started = time.monotonic()
        result = platform.run(["jrtt/funds"], resources={"mysql": mysql})
        seconds = time.monotonic() - started
        outage.join(timeout=30)
        assert proxy.connections >= 2
    assert result.success, step_errors(result)
    assert seconds > 3.0  # it did wait for "MySQL" to come back (the fetch itself takes ~1 s)
    [outcome] = assert_one_outcome_each(result, ["jrtt/funds"]).values()
    assert outcome.complete
    conn = pymysql.connect(host="127.0.0.1", user="ark", password="ark", database=platform.mysql.log_database)
    with conn.cursor() as cur:
        cur.execute(
            "SELECT status, accounts_requested FROM api_result_log WHERE run_id = %s", (result.run_id,)
        )
        rows = cur.fetchall()
    conn.close()
    assert rows == ((("SUCCEEDED", 56),)), rows  # the end of the run reached the run log after all
    assert_rows_equal_truth(platform, ["jrtt/funds"])


# ##### Redis


def _accounts_key(platform: Platform) -> str:
    return f"gdt_advertiser_v1.1_{platform.tenant}_{platform.day:%Y%m%d}"


def _token_key(platform: Platform) -> str:
    return f"gdt_new_access_token_{platform.tenant}"


REDIS_CASES = [
    # the day's account list never arrived
    pytest.param(lambda r, k, t: r.delete(k), "accounts", "empty source list", id="accounts-key-missing"),
    # an empty value where a sorted set belongs (an upstream job wrote the wrong type)
    pytest.param(
        lambda r, k, t: r.set(k, ""), "accounts", "is a string, not a sorted set", id="accounts-key-empty"
    ),
    # a member that is no account id
    pytest.param(
        lambda r, k, t: r.zadd(k, {"garbage": 1}), "accounts", "is not an account id", id="garbage-member"
    ),
    # a score that is no agent id
    pytest.param(
        lambda r, k, t: r.zadd(k, {"12345678": 1.5}),
        "accounts",
        "which is not an agent id",
        id="garbage-score",
    ),
    # a token whose score is no agent id
    pytest.param(
        lambda r, k, t: r.zadd(t, {"not-a-real-token": -3}),
        "tokens",
        "which is not an agent id",
        id="garbage-token-score",
    ),
]


@pytest.mark.parametrize(("corrupt", "which", "message"), REDIS_CASES)
def test_bad_redis_keys_stop_the_run_naming_the_key(
    platform: Platform, corrupt, which: str, message: str
) -> None:
    raw = redis.Redis(db=2)
    key = _accounts_key(platform) if which == "accounts" else _token_key(platform)
    before = snapshot(platform, ["gdt/funds"])
    corrupt(raw, _accounts_key(platform), _token_key(platform))
    try:
        result = platform.run(["gdt/funds"])
    finally:
        platform.reseed()  # the upstream job writes the key again
    assert not result.success
    errors = " ".join(step_errors(result))
    assert message in errors and key in errors, errors
    assert "not-a-real-token" not in errors  # a token is never shown, even a garbage one
    assert _calls(platform, "gdt", "funds/get") == 0
    assert_nothing_lost(platform, before)
    rerun_completes(platform, ["gdt/funds"])


# ##### the Dagster run process killed


def test_a_run_process_killed_mid_partition_is_completed_by_a_rerun(platform: Platform) -> None:
    assets = [
        "gdt/funds",
        *(f"gdt/daily_report_{level}" for level in ("advertiser", "adgroup")),
        f"gdt/{HOURLY_REPORT}",  # the levels every API version has, and its hourly report
    ]
    # slow enough that the kill lands between the first and the last asset
    platform.sim.set_faults("gdt", median_ms=60)
    home = Path(tempfile.mkdtemp(prefix="ark-dagster-home-"))
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    instance = DagsterInstance.from_config(str(home))
    instance.add_dynamic_partitions("tenants", [platform.tenant])
    api = platform.resources["media_api"]
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("ARK_")},  # unset = Sentry off
        "DAGSTER_HOME": str(home),
        "ARK_HBASE_TABLE_PREFIX": platform.hbase.table_prefix,
        "ARK_MYSQL_LOG_DB": platform.mysql.log_database,
        "ARK_MYSQL_ETON_DB": platform.mysql.eton_database,
        "ARK_KAFKA_TOPIC_PREFIX": platform.topic_prefix,
        "ARK_KAFKA_SPOOL_DIR": str(home / "spool"),
        "ARK_FETCH_MAX_IN_FLIGHT": "4",
        # Tencent's async tasks paced as the platform's simulator allows them (not the vendor's 5 min)
        "ARK_ASYNC_TASK_COOLDOWN_S": str(TASK_KNOBS["task_cooldown_s"]),
        "ARK_ASYNC_TASK_POLL_S": str(TASK_KNOBS["task_poll_s"]),
        **{f"ARK_{m.upper()}_BASE_URL": platform.sim.url(m) for m in media_names()},
        **{f"ARK_{m.upper()}_APP_ID": api.app(m).app_id for m in media_names()},
        **{f"ARK_{m.upper()}_APP_SECRET": api.app(m).secret for m in media_names()},
    }
    argv = [
        str(Path(sys.executable).parent / "dagster"),
        "asset",
        "materialize",
        "-m",
        "ark_assets.definitions",
        "--select",
        ",".join(assets),
        "--partition",
        str(partition_key(platform.day, platform.tenant)),
        "--config-json",
        json.dumps({"execution": {"config": {"in_process": {}}}}),
    ]
    before = snapshot(platform, assets)
    stamps = {a: _newest_stamp(platform, a) for a in assets}
    proc = subprocess.Popen(
        argv, env=env, cwd=ROOT, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    try:
        # "rows start arriving": the first asset of the run has written its partition
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and proc.poll() is None:
            if any(_newest_stamp(platform, a) > stamps[a] for a in assets):
                break
            time.sleep(0.1)
        assert proc.poll() is None, f"the run ended before it could be killed: {proc.stderr.read()[-2000:]}"
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    done = [a for a in assets if _newest_stamp(platform, a) > stamps[a]]
    assert 1 <= len(done) < len(assets), done  # killed mid-partition
    assert_nothing_lost(platform, before)
    rerun = subprocess.run(argv, env=env, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    key = str(partition_key(platform.day, platform.tenant))
    for asset in assets:
        event = instance.get_latest_materialization_event(AssetKey(asset.split("/")))
        assert event is not None and event.asset_materialization.partition == key
        meta = {k: v.value for k, v in event.asset_materialization.metadata.items()}
        # every account once (the hourly report once per time line)
        expected = 30 * (3 if "hourly" in asset else 1)
        assert (
            meta["accounts_requested"] == meta["accounts_succeeded"] == expected
            and meta["accounts_failed"] == 0
        )
    assert_rows_equal_truth(platform, assets)


def _newest_stamp(platform: Platform, asset: str) -> int:
    """The newest stored value's timestamp of the day (0 when the table does not exist yet)."""
    table, _, _ = table_of(asset)
    newest = 0
    try:
        for _, value in platform.hbase.scan_date(table, platform.day):
            newest = max(newest, json.loads(value[b"info:data"])["timestamp"])
    except TableNotFound:
        pass
    return newest
