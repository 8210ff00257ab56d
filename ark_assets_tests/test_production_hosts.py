"""The production topology on several hosts, with nothing shared but the network.

The module brings up what `make prod-hosts` runs (`ark_stack.prod_hosts`), on namespaces of its
own: four hosts (network, mount and UTS namespaces on a bridge in a namespace of their own),
- `services`: its own PostgreSQL, Redis, MariaDB, HBase with its Thrift servers and Kafka, each
  listening on the host's address only, and the simulator behind a relay on that address;
- `control`: dagster-webserver and dagster-daemon;
- `worker1`, `worker2`: one Celery worker each.
Each host sees only its own directory and /tmp; the code is read-only everywhere. Every process
gets the shipped `deploy/dagster.production.yaml` (a copy per host) and `ARK_*` / `DAGSTER_PG_*`
naming the services host's address; nothing names 127.0.0.1. The test talks as a user on the
control host (a thread in its network namespace: the root namespace has no route to the hosts).

The contract:
- each host has its own address, name and files; the services listen on their host's address;
- a backfill of three (date, tenant) partitions launched over GraphQL from the control host
  stores exactly `ark-sim truth`, and its steps ran on both worker hosts;
- what a user sees of a step that ran on a worker: its events and progress lines in the UI, the
  platform's own warnings (the shipped `python_logs`), and its raw stdout/stderr, which stay on the
  worker's disk (the web server shows none: docs/PRODUCTION.md says how production ships them);
- a worker host cut off the network mid-step: the other worker takes the step over, the run
  succeeds, and one re-run leaves exactly the truth;
- the control host cut off from PostgreSQL for a while: the daemon and the web server recover,
  the run ends (or fails saying why), a re-run completes;
- down leaves no namespace, link or process behind.
Every process's log of the last run is kept in `artifacts/prod-hosts/`.
"""

from __future__ import annotations

import re
import secrets
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psutil
import pytest
import requests
from celery import Celery
from dagster import DagsterEventType

from ark_assets.partitions import partition_key
from ark_assets.resources.hbase import HBaseResource
from ark_assets_tests.dagster_ui import ROOT, wait_for
from ark_assets_tests.platform import new_tenant
from ark_assets_tests.prod_topology import DAY, Prod
from ark_sim.config import SimConfig
from ark_sim.world import World
from ark_stack.hosts import Network
from ark_stack.paths import StackPaths
from ark_stack.process import port_open
from ark_stack.prod_hosts import HostsTopology, ServicesHost
from ark_stack.progress import Reporter
from ark_stack.service import StackError
from ark_stack.services.kafka import PORT as KAFKA_PORT
from ark_stack.services.postgres import PORT as PG_PORT

GDT = ["gdt/agents", "gdt/advertisers", "gdt/funds"]
WX = ["wx/agents", "wx/advertisers", "wx/funds"]
STEPS = {"gdt", "wx"}
VISIBILITY_TIMEOUT_S = 30  # a lost worker's step is redelivered after this (shipped: 900 s)
CUT_S = 30  # how long the control host stays cut off from PostgreSQL
ARTIFACTS = ROOT / "artifacts" / "prod-hosts"
pytestmark = [pytest.mark.stack, pytest.mark.timeout(900)]


class Hosts(Prod):
    """`Prod` on hosts: the network, the services host, and a look at a host's own files."""

    network: Network
    services: ServicesHost

    def on(self, name: str):
        return self.network.hosts[name]

    def shell(self, host: str, script: str) -> str:
        """A shell script run inside `host` (its network, filesystem view and name); its output."""
        result = self.on(host).run(["sh", "-c", script], timeout=60)
        return result.stdout + result.stderr

    def logged_on(self, run_id: str, file_key: str) -> set[str]:
        """The hosts whose disk holds a step's compute log (its stderr file, under DAGSTER_HOME)."""
        found = set()
        for role, name in (("control", "control"), ("w1", "worker1"), ("w2", "worker2")):
            path = self.topology.home_of(role) / run_id / "compute_logs" / f"{file_key}.err"
            if self.shell(name, f"test -e {path} && echo yes").strip() == "yes":
                found.add(name)
        return found

    def idle(self, node: str) -> bool:
        """The Celery node answers through the broker and runs no task."""

        def inspect() -> bool:
            app = Celery(broker=self.topology.broker_url)
            try:
                active = app.control.inspect([node], timeout=2.0).active() or {}
                return node in active and not active[node]
            finally:
                app.close()

        return self.topology.client(inspect)

    def worker_host(self, worker_node: str) -> str:
        """The host of a Celery node `wN@host`."""
        return worker_node.split("@")[1]


def _sim_toml(path: Path) -> None:
    path.write_text('[clock]\ntoday = "2026-11-26"\n', encoding="utf-8")


def _links() -> list[str]:
    """The root namespace's link names (the hosts must never add one there)."""
    out = subprocess.run(["ip", "-o", "link"], capture_output=True, text=True, check=True).stdout
    return sorted(line.split(":")[1].strip() for line in out.splitlines())


@pytest.fixture(scope="module")
def hosts() -> Iterator[Hosts]:
    unique = secrets.token_hex(3)
    root = StackPaths.from_env().root / f"hosts-test-{unique}"  # not /tmp: each host has its own
    links_before = _links()
    sim_config = root / "sim.toml"
    root.mkdir(parents=True)
    _sim_toml(sim_config)
    topology = HostsTopology.build(
        root,
        f"akt{unique[:4]}",
        extra_env={
            "ARK_SENSOR_INTERVAL_S": "5",
            "ARK_CELERY_VISIBILITY_TIMEOUT_S": str(VISIBILITY_TIMEOUT_S),
        },
        sim_config=sim_config,
        prefix="h",
        inherit_ark_env=False,
    )
    assert topology.network is not None
    network = topology.network
    services = ServicesHost(network.hosts["services"], Reporter())
    tenants = [new_tenant("T8") for _ in range(5)]
    world = World(SimConfig.load(sim_config, {"profile": topology.profile}))
    try:
        network.up()
        services.up()
        topology.prepare()
        topology.start_simulator()
        for tenant in tenants:  # before the daemon: its sensors read the eton tables
            topology.seed(tenant, [DAY])
        topology.start()
        topology.wait_ready()
        for tenant in tenants:
            topology.add_tenant(tenant)
        prod = Hosts(
            topology, services.services[2], world, HBaseResource(host=topology.address("services")),
            topology.sim_url, tenants,
        )  # fmt: skip
        prod.network, prod.services = network, services
        prod.links_before = links_before
        yield prod
    finally:
        topology.down()
        services.down()
        network.down()
        shutil.rmtree(ARTIFACTS, ignore_errors=True)
        ARTIFACTS.mkdir(parents=True)
        shutil.copytree(root / "log", ARTIFACTS / "processes", dirs_exist_ok=True)
        shutil.copytree(services.paths.logs, ARTIFACTS / "services", dirs_exist_ok=True)
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="module")
def backfill(hosts: Hosts) -> dict[str, Any]:
    """Three (date, tenant) partitions of gdt's and wx's agents, advertisers and funds, launched
    from the control host as the UI launches a backfill."""
    keys = [str(partition_key(DAY, t)) for t in hosts.tenants[:3]]
    backfill_id = hosts.backfill(keys, GDT + WX)
    status = hosts.wait_backfill(backfill_id)
    runs = hosts.runs(backfill_id)
    return {"id": backfill_id, "status": status, "runs": runs, "run_ids": [r["run_id"] for r in runs]}


# ##### TESTS


def test_each_host_has_its_own_address_name_and_files(hosts: Hosts) -> None:
    everyone = hosts.network.root / "hosts"
    for name in hosts.network.hosts:
        seen = hosts.shell(
            name, f"hostname; ls {everyone}; echo {name} > /tmp/whose; touch {ROOT}/.ark-probe 2>&1; true"
        )
        hostname, visible, *rest = seen.splitlines()
        assert hostname == name, seen
        assert visible == name, seen  # the other hosts' directories are not there
        assert "Read-only file system" in " ".join(rest), seen  # nor can it write where others read
    # /tmp is each host's own
    assert hosts.shell("worker1", "cat /tmp/whose").strip() == "worker1"
    assert hosts.shell("worker2", "cat /tmp/whose").strip() == "worker2"
    # services listen on the services host's address: a worker reaches PostgreSQL there and finds
    # nothing on its own loopback; only HBase's internal ZooKeeper and the simulator (behind its
    # relay) listen on the services host's loopback
    worker = hosts.on("worker1")
    assert worker.call(port_open, PG_PORT, hosts.topology.address("services"))
    assert not worker.call(port_open, PG_PORT, "127.0.0.1")
    listening = hosts.shell("services", "ss -Hltn")
    addresses = {line.split()[3].rsplit(":", 1)[0] for line in listening.splitlines() if line.strip()}
    local = {line.split()[3] for line in listening.splitlines() if "127.0.0.1:" in line}
    assert addresses <= {hosts.topology.address("services"), "127.0.0.1"}, listening
    assert local == {"127.0.0.1:2181", f"127.0.0.1:{hosts.topology.sim_port}"}, listening


def test_a_backfill_from_the_control_host_stores_the_truth(hosts: Hosts, backfill: dict[str, Any]) -> None:
    assert backfill["status"] == "COMPLETED_SUCCESS", backfill
    assert [r["status"] for r in backfill["runs"]] == ["SUCCESS"] * 3, backfill["runs"]
    for tenant in hosts.tenants[:3]:
        hosts.assert_truth(tenant, GDT + WX)


def test_the_steps_ran_on_both_worker_hosts(hosts: Hosts, backfill: dict[str, Any]) -> None:
    taken = hosts.celery_hosts(backfill["run_ids"])
    media_steps = [(run, step, node) for run, step, node in taken if step in STEPS]
    assert {(run, step) for run, step, _ in media_steps} == {
        (run, step) for run in backfill["run_ids"] for step in STEPS
    }
    assert {node for _, _, node in taken} == {"w1@worker1", "w2@worker2"}, taken
    # each step's compute log was written where it ran, on that worker's own disk (the shipped
    # dagster.yaml resolves its directory on each host), and nowhere else
    file_keys = {
        (e.run_id, step): e.dagster_event.logs_captured_data.file_key
        for e in hosts.events(backfill["run_ids"], DagsterEventType.LOGS_CAPTURED)
        for step in e.dagster_event.logs_captured_data.step_keys or []
    }
    for run, step, node in media_steps:
        assert hosts.logged_on(run, file_keys[(run, step)]) == {hosts.worker_host(node)}, (run, step, node)


def _logs_for_run(hosts: Hosts, run_id: str) -> list[dict[str, Any]]:
    """The run's events as the UI's run page loads them (GraphQL `logsForRun`)."""
    data = hosts.topology.graphql(
        """query($id: ID!) { logsForRun(runId: $id, limit: 5000) { __typename
             ... on EventConnection { events { __typename
               ... on MessageEvent { message level stepKey }
               ... on LogsCapturedEvent { fileKey stepKeys } } } } }""",
        {"id": run_id},
    )["logsForRun"]
    assert data["__typename"] == "EventConnection", data
    return data["events"]


def test_what_a_user_sees_of_a_step_that_ran_on_a_worker(hosts: Hosts, backfill: dict[str, Any]) -> None:
    run_id = backfill["run_ids"][0]
    events = _logs_for_run(hosts, run_id)
    gdt = [e for e in events if e.get("stepKey") == "gdt"]
    kinds = {e["__typename"] for e in gdt}
    assert {"ExecutionStepStartEvent", "ExecutionStepSuccessEvent", "MaterializationEvent"} <= kinds, kinds
    # which worker host ran it, and its progress lines, as the run's log shows them
    assert any(re.search(r"Executing steps gdt in celery worker", e["message"]) for e in events), events
    progress = [e["message"] for e in gdt if " fetched (" in e["message"]]
    assert any(m.startswith("gdt/funds fetched (") for m in progress), progress
    # its raw stdout/stderr: the Celery worker takes a step's output into its own log, on its host
    # (Celery redirects the standard streams of its pool processes), so the compute log Dagster
    # opens for the step on that host stays empty, and the web server on the control host has no
    # stdout/stderr to show for it (docs/PRODUCTION.md: how production ships them)
    captured = [
        e for e in events if e["__typename"] == "LogsCapturedEvent" and "gdt" in (e["stepKeys"] or [])
    ]
    assert captured, events
    file_key = captured[0]["fileKey"]
    node = next(n for _, s, n in hosts.celery_hosts([run_id]) if s == "gdt")
    assert hosts.logged_on(run_id, file_key) == {hosts.worker_host(node)}
    worker_log = hosts.topology.process(f"worker-{node.split('@')[0]}").log_file.read_text(errors="replace")
    assert re.search(rf" - {run_id} - \d+ - gdt - STEP_START - ", worker_log)
    logs = hosts.topology.graphql(
        """query($key: [String!]!) { capturedLogs(logKey: $key) { stdout stderr } }""",
        {"key": [run_id, "compute_logs", file_key]},
    )["capturedLogs"]
    assert not (logs["stdout"] or logs["stderr"]), logs


def test_a_step_s_warnings_reach_the_ui_from_its_worker_host(hosts: Hosts) -> None:
    # Kafka unreachable from both workers: the steps spool their job log events on their own
    # host and warn; the shipped `python_logs` makes the warning an event of the run
    key = str(partition_key(DAY, tenant := hosts.tenants[3]))
    kafka = hosts.topology.address("services")
    for worker in ("worker1", "worker2"):
        hosts.on(worker).reach(kafka, KAFKA_PORT, cut=True)
    try:
        run_id = hosts.launch(key, WX)
        run = hosts.wait_run(run_id)
    finally:
        for worker in ("worker1", "worker2"):
            hosts.on(worker).reach(kafka, KAFKA_PORT, cut=False)
    assert run["status"] == "SUCCESS", run
    hosts.assert_truth(tenant, WX)
    warnings = [
        e
        for e in _logs_for_run(hosts, run_id)
        if e.get("stepKey") == "wx" and "spooling job log events" in (e.get("message") or "")
    ]
    assert warnings and warnings[0]["level"] == "WARNING", warnings
    # the spool is on the disk of the worker host that ran the step, and only there
    node = next(n for _, s, n in hosts.celery_hosts([run_id]) if s == "wx")
    for name in ("worker1", "worker2"):
        spool = hosts.shell(name, f"cat {hosts.on(name).root}/.stack/spool/kafka/*.jsonl 2>/dev/null | wc -l")
        assert (int(spool.strip()) > 0) == (name == hosts.worker_host(node)), (name, node, spool)


def test_a_worker_host_cut_off_mid_step_hands_the_step_over(hosts: Hosts) -> None:
    key = str(partition_key(DAY, tenant := hosts.tenants[4]))
    hosts.set_quota("gdt", "funds/get", per_minute=90, burst_seconds=1)  # gdt/funds takes ~20 s
    try:
        run_id = hosts.launch(key, GDT)

        def step_node() -> str | None:
            taken = [node for _, step, node in hosts.celery_hosts([run_id]) if step == "gdt"]
            return taken[0] if taken else None

        victim = wait_for("the gdt step to start on a worker host", step_node, timeout=180)
        wait_for("gdt/funds to start", lambda: hosts.materialized(run_id, "gdt/advertisers"), timeout=120)
        time.sleep(3)  # mid-step: some accounts' funds fetched, most not
        cut = hosts.on(hosts.worker_host(victim))
        cut.link(up=False)
    finally:
        hosts.set_quota("gdt", "funds/get", per_minute=20000, burst_seconds=10)
    try:
        # its task was never acknowledged: after the visibility timeout the other worker takes it
        run = hosts.wait_run(run_id, timeout=VISIBILITY_TIMEOUT_S + 300)
        assert run["status"] == "SUCCESS", run
        takers = [node for _, step, node in hosts.celery_hosts([run_id]) if step == "gdt"]
        survivor = next(n for n in ("w1@worker1", "w2@worker2") if n != victim)
        assert takers == [victim, survivor], takers
        before = hosts.assert_truth(tenant, GDT)
    finally:
        cut.link(up=True)
    # the host is back: its worker answers again once its own, orphaned copy of the step has ended
    # there (it may write a late failure into the run's log); the run stays a success, and one
    # re-run changes nothing
    wait_for(f"{victim} to be back and idle", lambda: hosts.idle(victim), timeout=300, every=5)
    assert hosts.run(run_id)["status"] == "SUCCESS"
    rerun = hosts.launch(key, GDT)
    assert hosts.wait_run(rerun)["status"] == "SUCCESS"
    assert hosts.assert_truth(tenant, GDT) == before
    # nothing duplicated: one success per step in each run
    for run in (run_id, rerun):
        successes = [e.step_key for e in hosts.events([run], DagsterEventType.STEP_SUCCESS)]
        assert sorted(successes).count("gdt") == 1, (run, successes)


def test_the_control_host_cut_off_from_postgres_recovers(hosts: Hosts) -> None:
    key = str(partition_key(DAY, tenant := hosts.tenants[0]))
    hosts.set_quota("wx", "funds/get", per_minute=120, burst_seconds=1)  # wx/funds takes ~10 s
    control, database = hosts.on("control"), hosts.topology.address("services")
    try:
        run_id = hosts.launch(key, WX)
        wait_for("wx/funds to start", lambda: hosts.materialized(run_id, "wx/advertisers"), timeout=180)
        cut_at = time.time()
        control.reach(database, PG_PORT, cut=True)
        try:
            time.sleep(CUT_S)  # the daemon, its run process and the web server lose PostgreSQL
        finally:
            control.reach(database, PG_PORT, cut=False)
    finally:
        hosts.set_quota("wx", "funds/get", per_minute=20000, burst_seconds=10)
    # it may fail, but must say why
    hosts.wait_run_ended_or_failed_saying(run_id, r"connect|server closed|No route|OperationalError")
    assert hosts.topology.process("daemon").process() is not None
    wait_for(
        "the daemon's heartbeats after the cut",
        lambda: hosts.topology.daemon_healthy(since=cut_at + CUT_S),
        timeout=180,
    )

    def launched() -> str | None:  # the web server's pooled connections may fail once each
        try:
            return hosts.launch(key, WX)
        except (StackError, requests.RequestException, AssertionError):
            return None

    rerun = wait_for("the web server to launch a run again", launched, timeout=60, every=2)
    assert hosts.wait_run(rerun)["status"] == "SUCCESS"
    hosts.assert_truth(tenant, WX)


def test_down_leaves_no_namespace_link_or_process(hosts: Hosts) -> None:
    procs = [p for proc in hosts.topology.processes().values() for p in proc.tree()]
    procs += [p for svc in hosts.services.services for proc in svc.processes() for p in proc.tree()]
    started = {(p.pid, p.create_time()) for p in procs}  # a pid alone may be reused meanwhile
    assert started
    hosts.topology.down()
    hosts.services.down()
    hosts.network.down()
    assert hosts.network.leftovers() == []
    assert [ns for ns in Path("/run/netns").glob(f"{hosts.network.prefix}-*")] == []
    assert _links() == hosts.links_before
    alive = [
        p
        for p in psutil.process_iter(["create_time", "cmdline"])
        if (p.pid, p.info["create_time"]) in started
    ]
    assert alive == [], [(p.pid, p.info["cmdline"]) for p in alive]
