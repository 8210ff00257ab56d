"""Contract: a run that never reaches its own end still closes its run-log rows, and alerts once.

A run's steps write their MySQL run-log rows' end themselves. A run killed with SIGKILL (or lost
by its host) cannot: Dagster's run monitor marks it failed, and the `run_failure_alert` sensor
closes every row the run left STARTED -- status FAILED, `closed_by` = 'sensor', the reason naming
the signal -- and sends exactly one Sentry event for it. A run whose step failed and alerted
itself is not alerted a second time. A cancelled run's rows are closed as CANCELED the same way.
Everything real: a `dagster-daemon` (run queue, run monitoring, sensors) on a temporary instance,
the simulator, the stack.

Nothing here waits on a clock for what a busy machine may delay: wx/funds cannot finish while a
test stops its run (its quota answers one call a minute, so the row stays STARTED until the run is
stopped), and a test waits for the sensor to have evaluated the run's end before reading the rows.
Only the daemon's apps are its own: the governor and daily-quota state in Redis is keyed by app,
and a demo left running (or any other run) on the simulator's default apps shares none of it.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pymysql
import pytest
import yaml
from dagster import DagsterEventType, DagsterInstance, DagsterRunStatus
from dagster._core.scheduler.instigation import InstigatorType, TickStatus

from ark_assets.media.registry import names as media_names
from ark_assets.resources.mysql import MySQLResource
from ark_assets.resources.sentry import close_sdk
from ark_assets_tests.dagster_ui import wait_for
from ark_assets_tests.platform import DAY, drop_owned, new_tenant, seed
from ark_assets_tests.sentry_sink import SentrySink
from ark_sim.server import running_simulator

# The waits below are on states, not clocks; this bounds them (a daemon's start on a loaded machine
# included), generously, so a busy machine is slow here, never red.
pytestmark = [pytest.mark.stack, pytest.mark.timeout(900)]

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def _instance_yaml(home: Path) -> None:
    """The local instance, with the run monitor polling every 2 s (production polls every 60 s)."""
    config = yaml.safe_load((ROOT / "deploy" / "dagster.local.yaml").read_text())
    config["run_monitoring"] = {
        "enabled": True,
        "poll_interval_seconds": 2,
        "start_timeout_seconds": 60,
        "free_slots_after_run_end_seconds": 2,  # the killed run's pool slot, for the next test
    }
    (home / "dagster.yaml").write_text(yaml.safe_dump(config))


@pytest.fixture(scope="module")
def daemon() -> Iterator[dict]:
    unique, tenant = secrets.token_hex(4), new_tenant("T5")
    mysql = MySQLResource(log_database=f"ark_k_{unique}_nyfz", eton_database=f"ark_k_{unique}_eton")
    home = Path(tempfile.mkdtemp(prefix="ark-killed-run-"))
    _instance_yaml(home)
    from ark_assets.resources.hbase import HBaseResource

    hbase = HBaseResource(table_prefix=f"k{unique}")
    # apps of its own (see the module doc), and slow answers, so a fetch step is still running when it stops
    apps = {"gdt": 1_900_000, "wx": 1_910_000, "jrtt": 1_790_000_000_000}
    media = {
        m: {
            "latency": {"median_ms": 400, "sigma": 0.1},
            "app": {"app_id": apps[m] + secrets.randbelow(99_999)},
        }
        for m in media_names()
    }
    with running_simulator(media=media, clock={"today": "2026-11-26"}) as sim, SentrySink() as sink:
        mysql.migrate()
        seed(sim.world, tenant, DAY, mysql)
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("ARK_")},
            "DAGSTER_HOME": str(home),
            "ARK_HBASE_TABLE_PREFIX": hbase.table_prefix,
            "ARK_KAFKA_TOPIC_PREFIX": f"k{unique}_",
            "ARK_KAFKA_SPOOL_DIR": str(home / "kafka-spool"),
            "ARK_MYSQL_LOG_DB": mysql.log_database,
            "ARK_MYSQL_ETON_DB": mysql.eton_database,
            "ARK_SENTRY_DSN": sink.dsn,
            "ARK_SENSOR_INTERVAL_S": "3",
            "ARK_FETCH_MAX_IN_FLIGHT": "2",
            **{f"ARK_{m.upper()}_BASE_URL": sim.url(m) for m in media_names()},
            **{f"ARK_{m.upper()}_APP_ID": str(sim.config.media[m].app.app_id) for m in media_names()},
            **{f"ARK_{m.upper()}_APP_SECRET": sim.config.media[m].app.secret for m in media_names()},
        }
        with DagsterInstance.from_config(str(home)) as instance:
            instance.add_dynamic_partitions("tenants", [tenant])
        log = (home / "daemon.log").open("wb")
        process = subprocess.Popen(
            [str(BIN / "dagster-daemon"), "run", "-w", "workspace.yaml"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            # A run-status sensor starts from the events at its first tick: wait for that tick, or a
            # run that ends before it (a slow daemon start on a busy machine) is never seen.
            wait_for("the run-status sensors' first ticks", lambda: _sensors_ticked(home), timeout=600)
            yield {"env": env, "home": home, "tenant": tenant, "mysql": mysql, "sink": sink, "sim": sim}
        finally:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=60)
            close_sdk(timeout_s=1)
            drop_owned(hbase, mysql, [tenant])
            shutil.rmtree(home, ignore_errors=True)


def _launch(daemon: dict, job: str) -> str:
    """Launch `job` for the tenant's partition as the UI would (queued; the daemon starts it)."""
    key = f"{DAY}|{daemon['tenant']}"
    tags = {
        "dagster/partition": key,
        "dagster/partition/date": str(DAY),
        "dagster/partition/tenant": daemon["tenant"],
    }
    done = subprocess.run(
        [
            str(BIN / "dagster"),
            "job",
            "launch",
            "-w",
            "workspace.yaml",
            "-j",
            job,
            "--tags",
            json.dumps(tags),
        ],  # noqa: E501
        cwd=ROOT,
        env=daemon["env"],
        capture_output=True,
        text=True,
        check=True,
    )
    with DagsterInstance.from_config(str(daemon["home"])) as instance:
        [run] = instance.get_runs(limit=1)
        assert run.job_name == job, done.stdout[-2000:]
        return run.run_id


RUN_STATUS_SENSORS = {"run_failure_alert", "run_canceled_closes_its_log"}


def _sensors_ticked(home: Path) -> bool:
    with DagsterInstance.from_config(str(home)) as instance:
        ticked = {
            state.instigator_name
            for state in instance.all_instigator_state(instigator_type=InstigatorType.SENSOR)
            if instance.get_ticks(state.instigator_origin_id, state.selector_id, limit=1)
        }
    return RUN_STATUS_SENSORS <= ticked


def _sensor_cursor(home: Path, sensor: str) -> tuple[int, list[str]]:
    """The event id `sensor`'s saved cursor has passed, and the errors of its latest failed ticks."""
    with DagsterInstance.from_config(str(home)) as instance:
        [state] = [
            s
            for s in instance.all_instigator_state(instigator_type=InstigatorType.SENSOR)
            if s.instigator_name == sensor
        ]
        ticks = instance.get_ticks(state.instigator_origin_id, state.selector_id, limit=20)
    cursor = state.instigator_data.cursor if state.instigator_data else None
    passed = json.loads(cursor).get("record_id", -1) if cursor else -1
    return passed, [t.error.to_string()[-2000:] for t in ticks if t.status == TickStatus.FAILURE and t.error]


def _wait_for_sensor(home: Path, sensor: str, run_id: str, ended: DagsterEventType) -> None:
    """Until `sensor` has evaluated the event that ended `run_id` (its saved cursor passed it): the
    state that matters, however long a busy machine takes to get there (pytest's timeout bounds it)."""
    with DagsterInstance.from_config(str(home)) as instance:  # the index the sensors read
        records = instance.fetch_run_status_changes(records_filter=ended, limit=1000).records
        [event] = [r for r in records if r.event_log_entry.run_id == run_id]
    while True:
        passed, errors = _sensor_cursor(home, sensor)
        if passed >= event.storage_id:
            return
        if errors and len(errors) == 20:  # every recent tick failed: say why instead of waiting on
            raise AssertionError(f"{sensor} keeps failing: {errors[0]}")
        time.sleep(1)


@contextmanager
def _funds_fetching(daemon: dict) -> Iterator[str]:
    """wx_daily launched while wx/funds answers one call a minute, so its fetch (and its run-log row,
    STARTED) lasts until the run is stopped; yields the run id once that row is there. The quota is
    restored on the way out, after the block has stopped the run."""
    daemon["sim"].set_quotas("wx", "funds/get", per_minute=1, burst_seconds=1.0)
    try:
        run_id = _launch(daemon, "wx_daily")
        wait_for("wx/funds' STARTED run-log row", lambda: _funds_started(daemon, run_id), timeout=600)
        yield run_id
    finally:
        daemon["sim"].set_quotas("wx", "funds/get", per_minute=20000, burst_seconds=10.0)  # as shipped


def _funds_started(daemon: dict, run_id: str) -> bool:
    rows = _rows(daemon["mysql"], run_id)
    return any(r["status"] == "STARTED" and r["cur_job_name"] == "wx/funds" for r in rows)


def _run_is(daemon: dict, run_id: str, status: DagsterRunStatus) -> bool:
    with DagsterInstance.from_config(str(daemon["home"])) as instance:
        return instance.get_run_by_id(run_id).status == status


def _rows(mysql: MySQLResource, run_id: str) -> list[dict]:
    conn = pymysql.connect(host="127.0.0.1", user="ark", password="ark", database=mysql.log_database)
    try:
        with conn.cursor(pymysql.cursors.DictCursor) as cur:
            cur.execute(
                "SELECT cur_job_name, status, closed_by, message, alerted_at FROM api_result_log "
                "WHERE run_id = %s",
                (run_id,),
            )
            return list(cur.fetchall())
    finally:
        conn.close()


def test_a_sigkilled_run_closes_its_rows_with_the_reason_and_alerts_once(daemon: dict) -> None:
    with _funds_fetching(daemon) as run_id:
        with DagsterInstance.from_config(str(daemon["home"])) as instance:
            pids = {
                e.dagster_event.pid
                for e in instance.all_logs(run_id)
                if e.dagster_event
                and e.dagster_event.pid
                and e.dagster_event.event_type in (DagsterEventType.RUN_START, DagsterEventType.STEP_START)
            }
        for pid in pids:  # the run worker and its step processes, as the OOM killer would
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass  # a step that had already ended
        failed = lambda: _run_is(daemon, run_id, DagsterRunStatus.FAILURE)  # noqa: E731
        wait_for("the run monitor to fail the run", failed, timeout=600)
    _wait_for_sensor(daemon["home"], "run_failure_alert", run_id, DagsterEventType.RUN_FAILURE)
    rows = _rows(daemon["mysql"], run_id)
    closed = [r for r in rows if r["closed_by"] == "sensor"]
    assert closed, rows  # wx/funds' row at least was left STARTED by the killed step
    assert not [r for r in rows if r["status"] == "STARTED"]  # nothing left open
    assert all(r["status"] == "FAILED" for r in closed)
    assert all("SIGKILL" in r["message"] or "signal 9" in r["message"] for r in closed), closed
    # the sensor captured its event before its tick ended (the resource flushes it at teardown)
    daemon["sink"].wait_for(1, timeout=60)
    mine = [e for e in daemon["sink"].events if run_id in json.dumps(e)]
    assert len(mine) == 1, mine
    assert mine[0]["tags"]["tenant"] == daemon["tenant"]


def test_a_cancelled_run_closes_its_rows_as_cancelled(daemon: dict) -> None:
    with _funds_fetching(daemon) as run_id:
        with DagsterInstance.from_config(str(daemon["home"])) as instance:
            assert instance.run_launcher.terminate(run_id)  # what the UI's Terminate does
        cancelled = lambda: _run_is(daemon, run_id, DagsterRunStatus.CANCELED)  # noqa: E731
        wait_for("the run to be cancelled", cancelled, timeout=600)
    _wait_for_sensor(daemon["home"], "run_canceled_closes_its_log", run_id, DagsterEventType.RUN_CANCELED)
    rows = _rows(daemon["mysql"], run_id)
    closed = [r for r in rows if r["closed_by"] == "sensor"]
    assert closed, rows  # wx/funds' row at least was left STARTED by the stopped step
    assert all(r["status"] == "CANCELED" and "cancelled" in r["message"] for r in closed)
    assert not [r for r in rows if r["status"] == "STARTED"]
