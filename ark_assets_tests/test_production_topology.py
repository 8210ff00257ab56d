"""Dagster's production topology, for real: Postgres storage, the run queue, a daemon, Celery workers.

The module brings the topology up with the code `make prod-local` runs (`ark_stack.prod_local.
Topology`): `deploy/dagster.production.yaml` copied verbatim into a DAGSTER_HOME of its own, a
`dagster-webserver`, a `dagster-daemon` and two Celery workers (`dagster-celery worker start`)
with `ARK_EXECUTOR=celery`, on free ports, with its own Redis broker db, simulator (own media apps,
so its rate governors are its own), tenants and `ARK_*` names, so it runs beside a live `make
prod-local`. Its PostgreSQL is a private server started by the stack's own PostgresService code
on a free port (as the fault tests run a private Thrift server): the restart test restarts it,
and the shared one is never stopped. Nothing is mocked. Every process's log of the last run is
kept in `artifacts/prod-topology/`.

A partition runs as one step per media (`assets/media_step.py`: op `gdt`, `wx`, ...), each a
Celery task. The contract:
- a backfill of three (date, tenant) partitions launched through the web server's GraphQL
  `launchPartitionBackfill` (what the UI sends) completes, and HBase holds exactly what `ark-sim
  truth` expects for each partition;
- its runs, events and the sensors' ticks are rows in Postgres, and so is a schedule switched on
  from the UI; every step ran in a Celery worker (the workers' own logs name each step), and
  both workers ran steps;
- the pools hold across runs and workers: during the backfill the test narrows `media_gdt` and
  `media_wx` to one slot (`dagster instance concurrency set`, as an operator would; shipped: 4)
  and at most one step of each media runs at once; the `media` run-tag limit (4, from the shipped
  yaml) holds five tagged runs to four at once, the fifth queued until one ends;
- a worker SIGKILLed mid-step: its step is handed to the other worker and the run succeeds; a
  re-run then leaves exactly the truth (nothing lost, nothing duplicated, every key parses);
- PostgreSQL restarted mid-run: the daemon carries on and the run ends (succeeds, or fails with
  a message saying what happened); a re-run completes the partition;
- FILE output on the stack's HDFS (run config, as a launchpad sets it): both workers write one
  day's files side by side, and HDFS holds the same keys as HBase.
The single-partition runs are launched as the UI's "Materialize" launches them (GraphQL
`launchPipelineExecution`): a backfill would add the backfill daemon's 30 s cadence twice.
"""

from __future__ import annotations

import re
import secrets
import shutil
import signal
import tempfile
import time
from collections import defaultdict
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import redis
from dagster import DagsterEventType

from ark_assets.assets.media_step import pool_of
from ark_assets.automation.freshness import CHECK as FRESHNESS_CHECK
from ark_assets.automation.token_health import CHECK as TOKEN_HEALTH_CHECK
from ark_assets.clients.webhdfs import WebHdfsFiles
from ark_assets.io.file_sink import FileSink
from ark_assets.media.registry import media as media_named
from ark_assets.partitions import partition_key
from ark_assets.resources.hbase import HBaseResource
from ark_assets.resources.mysql import MySQLResource
from ark_assets_tests.dagster_ui import ROOT, wait_for
from ark_assets_tests.fault_matrix import table_of
from ark_assets_tests.platform import drop_owned, new_tenant, seed
from ark_assets_tests.prod_topology import DAY, Prod, peak_overlap
from ark_sim.config import SimConfig
from ark_sim.world import World
from ark_stack.paths import StackPaths
from ark_stack.process import free_port
from ark_stack.prod_local import Topology, free_broker_db
from ark_stack.progress import Reporter
from ark_stack.service import StackError
from ark_stack.services.hdfs import URL as HDFS_URL
from ark_stack.services.postgres import PostgresService

# gdt and wx, agents → advertisers → funds: two media, so two steps per partition (few, on purpose).
GDT = ["gdt/agents", "gdt/advertisers", "gdt/funds"]
WX = ["wx/agents", "wx/advertisers", "wx/funds"]
STEPS = {"gdt", "wx"}  # a media's step key is its name
# A run launched as the UI launches it also runs the checks of its assets that the jobs leave out:
# the freshness check and the agent lists' token health, each one step of its own (no pool).
CHECK_STEPS = {FRESHNESS_CHECK, TOKEN_HEALTH_CHECK}
NARROWED = {pool_of(media_named(m)): 1 for m in STEPS}  # the pools during the backfill
SHIPPED_POOL_LIMIT = 4  # deploy/dagster.production.yaml: concurrency.pools.default_limit
RUN_TAG_LIMIT = 4  # deploy/dagster.production.yaml: runs with tag media=<m>
# A taken step's task is redelivered this long after a worker vanished (the shipped default is
# 900 s); every step here is far shorter, so none is ever redelivered while it still runs.
VISIBILITY_TIMEOUT_S = 30
APPS = {"gdt": 1119301, "jrtt": 1709301, "wx": 1119302}
ARTIFACTS = ROOT / "artifacts" / "prod-topology"  # the processes' logs of the last run (git-ignored)
# The module's fixture brings up a whole topology and runs a backfill: more than setup.cfg's 300 s
# per test may be needed on a slow machine.
pytestmark = [pytest.mark.stack, pytest.mark.timeout(900)]


def _sim_toml(path: Path) -> None:
    """The simulator's knobs for this module: its own apps (so its rate governors are its own)."""
    lines = ["[clock]", 'today = "2026-11-26"']
    for media, app_id in APPS.items():
        lines += [f"[media.{media}.app]", f"app_id = {app_id}", f'secret = "{media}-prod-test-secret"']
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


# ##### FIXTURES


@pytest.fixture(scope="module")
def prod() -> Iterator[Prod]:
    unique = secrets.token_hex(4)
    root = Path(tempfile.mkdtemp(prefix="ark-prod-test-"))
    root.chmod(0o755)  # the private PostgreSQL runs as OS user postgres when we are root
    prefix = f"pt{unique}"
    mysql = MySQLResource(log_database=f"ark_pt_{unique}_nyfz", eton_database=f"ark_pt_{unique}_eton")
    hbase = HBaseResource(table_prefix=prefix)
    tenants = [new_tenant("T7") for _ in range(5)]
    broker_db = free_broker_db()
    paths = StackPaths(root=root / "stack", cache=StackPaths.from_env().cache)
    pg = PostgresService(paths, Reporter(), port=free_port())
    sim_config = root / "sim.toml"
    _sim_toml(sim_config)
    sim_port = free_port()
    env = {
        "ARK_HBASE_TABLE_PREFIX": prefix,
        "ARK_KAFKA_TOPIC_PREFIX": f"{prefix}_",
        "ARK_KAFKA_SPOOL_DIR": str(root / "kafka-spool"),
        "ARK_MYSQL_LOG_DB": mysql.log_database,
        "ARK_MYSQL_ETON_DB": mysql.eton_database,
        "ARK_SENSOR_INTERVAL_S": "5",  # sensor ticks within seconds
        "ARK_CELERY_VISIBILITY_TIMEOUT_S": str(VISIBILITY_TIMEOUT_S),
        **{f"ARK_{m.upper()}_APP_ID": str(a) for m, a in APPS.items()},
        **{f"ARK_{m.upper()}_APP_SECRET": f"{m}-prod-test-secret" for m in APPS},
    }
    topology = Topology(
        paths=paths,
        home=root / "dagster_home",
        ui_port=free_port(),
        sim_port=sim_port,
        broker_db=broker_db,
        pg_database=f"dagster_t_{unique}",
        pg_port=pg.port,
        workers=(f"w1t{unique}", f"w2t{unique}"),
        extra_env=env,
        sim_config=sim_config,
        prefix=f"t{unique}",
        inherit_ark_env=False,
    )
    world = World(SimConfig.load(sim_config, {"profile": topology.profile}))
    try:
        pg.prepare()
        pg.start()
        pg.wait_ready()
        for tenant in tenants:  # before the daemon: its sensors read the eton tables
            seed(world, tenant, DAY, mysql)
        topology.prepare()
        topology.start_simulator()
        topology.start()
        topology.wait_ready()
        for tenant in tenants:
            topology.add_tenant(tenant)
        yield Prod(topology, pg, world, hbase, f"http://127.0.0.1:{sim_port}", tenants)
    finally:
        topology.down()
        pg.stop()
        # every process's log (web server, daemon, workers, simulator, PostgreSQL) outlives the run
        shutil.rmtree(ARTIFACTS, ignore_errors=True)
        shutil.copytree(paths.logs, ARTIFACTS, dirs_exist_ok=True)
        drop_owned(hbase, mysql, tenants)
        redis.Redis(db=broker_db).flushdb()
        raw = redis.Redis(db=2)
        for app_id in APPS.values():  # governor state, spent-quota markers of these apps
            for key in raw.scan_iter(match=f"ark:*:{app_id}:*"):
                raw.delete(key)
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="module")
def backfill(prod: Prod) -> dict[str, Any]:
    """Three (date, tenant) partitions of gdt's and wx's agents, advertisers and funds, launched as
    the UI launches a backfill, with the two media's pools narrowed to one slot each (restored
    after); no `media` tag, so the three runs overlap and only the pools order their steps."""
    keys = [str(partition_key(DAY, t)) for t in prod.tenants[:3]]
    for pool, limit in NARROWED.items():
        prod.topology.set_pool(pool, limit)
    try:
        backfill_id = prod.backfill(keys, GDT + WX)
        status = prod.wait_backfill(backfill_id)
    finally:
        for pool in NARROWED:
            prod.topology.set_pool(pool, SHIPPED_POOL_LIMIT)
    runs = prod.runs(backfill_id)
    return {"id": backfill_id, "status": status, "runs": runs, "run_ids": [r["run_id"] for r in runs]}


# ##### TESTS


def test_a_backfill_launched_over_graphql_stores_the_truth_for_each_partition(
    prod: Prod, backfill: dict[str, Any]
) -> None:
    assert backfill["status"] == "COMPLETED_SUCCESS", backfill
    assert [r["status"] for r in backfill["runs"]] == ["SUCCESS"] * 3, backfill["runs"]
    for tenant in prod.tenants[:3]:
        prod.assert_truth(tenant, GDT + WX)


def test_runs_events_and_ticks_are_in_postgres_and_steps_ran_in_both_workers(
    prod: Prod, backfill: dict[str, Any]
) -> None:
    run_ids = backfill["run_ids"]
    assert len(run_ids) == 3
    # events: every run's steps (one per media) started and succeeded, as rows of event_logs
    starts = prod.events(run_ids, DagsterEventType.STEP_START)
    successes = prod.events(run_ids, DagsterEventType.STEP_SUCCESS)
    started = {(e.run_id, e.step_key) for e in starts}
    assert started == {(e.run_id, e.step_key) for e in successes}
    assert started == {(run, step) for run in run_ids for step in STEPS | CHECK_STEPS}
    materialized = prod.events(run_ids, DagsterEventType.ASSET_MATERIALIZATION)
    assert len(materialized) == 3 * len(GDT + WX)  # each asset still its own materialization
    # ticks: the polling sensor's evaluations are rows of job_ticks
    ticks = prod.sql(
        "SELECT count(*) FROM job_ticks WHERE type = 'SENSOR' AND tick_body LIKE %s",
        ('%"tenants_and_agents_sync"%',),
    )[0][0]
    assert ticks >= 1
    # a schedule switched on in the UI is a row of the schedule storage, and off again
    assert prod.schedule("daily_yesterday", on=True)["status"] == "RUNNING"
    try:
        states = prod.sql(
            "SELECT status FROM instigators WHERE instigator_type = 'SCHEDULE' AND instigator_body LIKE %s",
            ('%"daily_yesterday"%',),
        )
        assert states == [("RUNNING",)], states
    finally:
        assert prod.schedule("daily_yesterday", on=False)["status"] == "STOPPED"
    # the steps ran in the Celery workers: Dagster's engine events name the worker of each step ...
    hosts = prod.celery_hosts(run_ids)
    assert {(run, step) for run, step, _ in hosts} == started
    workers = {host.split("@")[0] for _, _, host in hosts}
    assert workers == set(prod.topology.workers), workers  # ... spread over both
    # ... and the workers' own logs name every step they executed
    logged: dict[str, set[tuple[str, str]]] = {}
    for name in prod.topology.workers:
        text = prod.topology.process(f"worker-{name}").log_file.read_text(errors="replace")
        logged[name] = set(re.findall(r" - ([0-9a-f-]{36}) - \d+ - (\S+) - STEP_START - ", text)) & started
    assert set().union(*logged.values()) == started
    assert all(logged.values()), {w: len(s) for w, s in logged.items()}


def test_the_pools_hold_across_runs_and_workers(prod: Prod, backfill: dict[str, Any]) -> None:
    run_ids, runs = backfill["run_ids"], backfill["runs"]
    # the three runs were in flight together, so their steps did compete for the pools
    assert peak_overlap([(r["start"], r["end"]) for r in runs]) >= 2, runs
    start_at: dict[tuple[str, str], float] = {}
    intervals: dict[str, list[tuple[float, float]]] = defaultdict(list)
    for entry in prod.events(
        run_ids, DagsterEventType.STEP_START, DagsterEventType.STEP_SUCCESS, DagsterEventType.STEP_FAILURE
    ):
        if entry.step_key not in STEPS:
            continue  # check steps hold no pool
        if entry.dagster_event.event_type == DagsterEventType.STEP_START:
            start_at[(entry.run_id, entry.step_key)] = entry.timestamp
        else:
            intervals[entry.step_key].append((start_at[(entry.run_id, entry.step_key)], entry.timestamp))
    assert {m: len(v) for m, v in intervals.items()} == dict.fromkeys(STEPS, 3)
    # one slot per narrowed pool: never two steps of one media at once, across runs and workers
    assert {m: peak_overlap(v) for m, v in intervals.items()} == dict.fromkeys(STEPS, 1)
    workers_of = defaultdict(set)
    for _, step, host in prod.celery_hosts(run_ids):
        if step in STEPS:
            workers_of[step].add(host)
    # both workers were taking the narrowed pools' steps while the pools held (which worker takes
    # which step is Celery's choice: a pool's three steps may all land on one of them)
    assert len(set().union(*workers_of.values())) == 2, workers_of
    # the narrowing was the operator's and is undone: the pools are back at the shipped limit
    for pool in NARROWED:
        limit = prod.sql('SELECT "limit" FROM concurrency_limits WHERE concurrency_key = %s', (pool,))
        assert limit == [(SHIPPED_POOL_LIMIT,)], (pool, limit)


def test_the_media_run_tag_limit_holds_runs_in_the_queue(prod: Prod) -> None:
    # five runs tagged media=wx launched together; wx funds slowed to five calls a second (shared
    # by every run: one app), so the runs admitted first are still in flight when the fifth waits
    prod.set_quota("wx", "funds/get", per_minute=300, burst_seconds=1)
    try:
        keys = [str(partition_key(DAY, t)) for t in prod.tenants]
        with ThreadPoolExecutor(max_workers=len(keys)) as pool:
            run_ids = list(pool.map(lambda k: prod.launch(k, WX, tags={"media": "wx"}), keys))
        runs = sorted((prod.wait_run(run_id) for run_id in run_ids), key=lambda r: r["start"])
    finally:
        prod.set_quota("wx", "funds/get", per_minute=20000, burst_seconds=10)
    assert [r["status"] for r in runs] == ["SUCCESS"] * 5, runs
    assert peak_overlap([(r["start"], r["end"]) for r in runs]) == RUN_TAG_LIMIT, runs
    *first, last = runs
    earliest_end = min(r["end"] for r in first)
    assert last["created"] < earliest_end, runs  # it was queued while four ran ...
    assert last["start"] >= earliest_end, runs  # ... and started only after one of them ended
    # (a pool would have let it start and wait inside: the run-tag limit held it in the queue)


def test_a_worker_killed_mid_step_hands_the_step_over_and_a_rerun_leaves_the_truth(prod: Prod) -> None:
    key = str(partition_key(DAY, tenant := prod.tenants[3]))
    prod.set_quota("gdt", "funds/get", per_minute=90, burst_seconds=1)  # gdt/funds takes ~20 s
    try:
        run_id = prod.launch(key, GDT)

        def step_worker() -> str | None:
            taken = [host for _, step, host in prod.celery_hosts([run_id]) if step == "gdt"]
            return taken[0].split("@")[0] if taken else None

        victim = wait_for("the gdt step to start in a worker", step_worker, timeout=180)
        wait_for("gdt/funds to start", lambda: prod.materialized(run_id, "gdt/advertisers"), timeout=120)
        time.sleep(3)  # mid-step: some accounts' funds fetched, most not
        assert prod.topology.process(f"worker-{victim}").signal_all(signal.SIGKILL, timeout=10)  # its tree
    finally:
        prod.set_quota("gdt", "funds/get", per_minute=20000, burst_seconds=10)
    # the task was never acknowledged: after the visibility timeout the other worker takes it
    run = prod.wait_run(run_id, timeout=VISIBILITY_TIMEOUT_S + 180, killed=(victim,))
    assert run["status"] == "SUCCESS", run
    takers = [host.split("@")[0] for _, step, host in prod.celery_hosts([run_id]) if step == "gdt"]
    survivor = next(w for w in prod.topology.workers if w != victim)
    assert takers == [victim, survivor], takers
    before = prod.assert_truth(tenant, GDT)
    # the killed worker comes back; one re-run changes nothing
    prod.topology.start_worker(victim)
    prod.topology.wait_ready()
    assert prod.wait_run(prod.launch(key, GDT))["status"] == "SUCCESS"
    assert prod.assert_truth(tenant, GDT) == before


def test_two_workers_write_one_day_to_hdfs(prod: Prod, backfill: dict[str, Any]) -> None:
    # FILE output on the stack's HDFS for three partitions' runs at once, switched on per run as a
    # launchpad would (run config): six media steps in flight, more than one worker holds (two step
    # processes each), so both write into the same day's directory side by side
    root = f"/ark-test/prod-{secrets.token_hex(4)}"
    file_output = {"output": "FILE", "hdfs_url": HDFS_URL, "file_dir": root}
    tenants = prod.tenants[:3]
    for media in STEPS:  # each step's funds take several seconds: the steps overlap
        prod.set_quota(media, "funds/get", per_minute=600, burst_seconds=1)
    try:
        with ThreadPoolExecutor(max_workers=len(tenants)) as pool:
            run_ids = list(
                pool.map(
                    lambda t: prod.launch(
                        str(partition_key(DAY, t)),
                        GDT + WX,
                        run_config={"resources": {"io_manager": {"config": file_output}}},
                    ),
                    tenants,
                )
            )
        runs = [prod.wait_run(run_id) for run_id in run_ids]
        assert [r["status"] for r in runs] == ["SUCCESS"] * 3, runs
        writers = {host.split("@")[0] for _, step, host in prod.celery_hosts(run_ids) if step in STEPS}
        assert writers == set(prod.topology.workers), writers
        # HDFS holds each partition's rows: the same keys the backfill stored in HBase (= the truth)
        sink = FileSink(WebHdfsFiles(HDFS_URL), root)
        for tenant in tenants:
            stored = prod.assert_truth(tenant, GDT + WX)
            for asset, keys in stored.items():
                table = table_of(asset)[0]
                assert set(sink.scan_keys(table, DAY, tenant)) == {k.decode() for k in keys}, asset
    finally:
        for media in STEPS:
            prod.set_quota(media, "funds/get", per_minute=20000, burst_seconds=10)
        WebHdfsFiles(HDFS_URL).remove_tree(root)


def test_postgres_restarted_mid_run_is_survived_and_a_rerun_completes(prod: Prod) -> None:
    key = str(partition_key(DAY, tenant := prod.tenants[4]))
    prod.set_quota("wx", "funds/get", per_minute=120, burst_seconds=1)  # wx/funds takes ~10 s
    try:
        run_id = prod.launch(key, WX)
        wait_for("wx/funds to start", lambda: prod.materialized(run_id, "wx/advertisers"), timeout=180)
        restarted_at = time.time()
        assert prod.pg.stop(), "the private PostgreSQL was not running"
        time.sleep(3)  # down for a few seconds: new connections are refused meanwhile
        prod.pg.start()
        prod.pg.wait_ready()
    finally:
        prod.set_quota("wx", "funds/get", per_minute=20000, burst_seconds=10)
    # it may fail, but must say why
    prod.wait_run_ended_or_failed_saying(
        run_id, r"connect|server closed|terminating connection|OperationalError"
    )
    # the daemon lived through it and heartbeats again (on the restarted server)
    assert prod.topology.process("daemon").process() is not None
    wait_for(
        "the daemon's heartbeats after the restart",
        lambda: prod.topology.daemon_healthy(since=restarted_at),
        timeout=120,
    )
    # The web server keeps a small pool of Postgres connections (dagster-webserver's own pool, no
    # pre-ping): the first request on each connection the restart closed fails once, saying so,
    # as a person clicking "Materialize" would see; the next one goes through.
    failures = []
    for _ in range(3):
        try:
            rerun = prod.launch(key, WX)
            break
        except StackError as exc:
            failures.append(str(exc))
    assert all("server closed the connection unexpectedly" in f for f in failures), failures
    assert prod.wait_run(rerun)["status"] == "SUCCESS"
    prod.assert_truth(tenant, WX)
