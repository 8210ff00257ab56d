"""A simulated day on the production topology of `make prod-local`, measured from its own Postgres.

`SimulatedDay` builds the topology with the code `make prod-local` runs (`ark_stack.prod_local.
Topology`: the shipped dagster.yaml on Postgres, a daemon, two Celery workers) on free ports, with
a simulator, HBase prefix, Kafka topics, MySQL databases, Postgres database and broker db of its
own, seeds a few tenants, and runs phases: one `all_media_daily` run per tenant launched at once
over GraphQL (as the `daily_yesterday` schedule launches them) at given simulator quotas. A phase
is measured from the instance's own records: per run its launch, its steps' submission to Celery,
pick-up by a worker and end, each asset's fetch seconds, the run's end; and the CPU of the
topology's processes.
"""

from __future__ import annotations

import os
import re
import time
import uuid
from collections import defaultdict
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import click
import psutil
import redis
import requests
from dagster import DagsterEventType, EventLogEntry
from dagster._serdes import deserialize_value

from ark_assets.clients.errors import TableNotFound
from ark_assets.resources.hbase import DATA_COLUMN, HBaseResource
from ark_assets.resources.mysql import MySQLResource
from ark_sim.config import SimConfig
from ark_sim.seed import MySQLTarget, seed_tenant
from ark_sim.truth import truth
from ark_sim.world import World
from ark_stack import task_speed
from ark_stack.paths import StackPaths
from ark_stack.process import free_port
from ark_stack.prod_hosts import HostsTopology, ServicesHost
from ark_stack.prod_local import Topology, free_broker_db
from ark_stack.progress import Reporter
from ark_stack.services import postgres
from bench import capacity_model as model
from bench.fetch_bench import _toml
from bench.partition_bench import drop_databases, remove_hbase_tables, remove_kafka_topics

DAY = date(2026, 11, 13)  # inside the partitions (ARK_PARTITIONS_START, 2026-11-01)
JOB = "all_media_daily"
APPS = {"gdt": 1119401, "jrtt": 1709401, "wx": 1119402}
# A tenant of the simulated day: gdt/wx/jrtt in the seed's proportions, small enough for 2 cores.
PROFILE = {
    "no_spend_rate": 0.25,
    "inactive_agents": 1,
    "inactive_accounts": 2,
    "gdt": {"agents": 3, "accounts": 1000},
    "wx": {"agents": 2, "accounts": 600},
    "jrtt": {
        "first_tier_agents": 4,
        "direct_accounts": 200,
        "second_tier_agents": 4,
        "second_tier_accounts": 1800,
    },
}
# Tencent's async report tasks on the simulated day, as `make prod-local` runs them: one per agency
# a second, ready in 1.5 s (ark_stack/task_speed.py; the vendor's 5 minutes would make a three-tenant
# day half an hour of waiting)
TIMING = model.TaskTiming(
    task_speed.COOLDOWN_S, task_speed.PENDING_S + task_speed.PROCESSING_S, task_speed.POLL_S
)
PHASE_TIMEOUT_S = 2400
QUIET_WAIT_S = 300
_TERMINAL = ("SUCCESS", "FAILURE", "CANCELED")


def sim_config(path: Path, dormant: dict[str, float]) -> dict[str, Any]:
    """This bench's simulator: its own apps, the `capacity` profile (with `dormant`'s knobs),
    latency 0, no faults, async tasks as `make prod-local` runs them."""
    media: dict[str, Any] = {
        m: {"app": {"app_id": a, "secret": f"{m}-capacity-secret"}} for m, a in APPS.items()
    }
    for m, knobs in task_speed.SIM_TASKS.items():
        media[m] |= knobs
    config = {
        "profile": "capacity",
        "clock": {"today": (DAY + timedelta(days=1)).isoformat()},
        "profiles": {"capacity": PROFILE | dormant},
        "media": media,
    }
    path.write_text(_toml(config), encoding="utf-8")
    return config


class SimulatedDay:
    """One simulated day on a prod-local topology of its own: tenants, phases, measurements."""

    def __init__(
        self, tenants: int, workdir: Path, dormant: dict[str, float] | None = None, *, hosts: bool = False
    ) -> None:
        unique = uuid.uuid4().hex[:8]
        self.hosts = hosts
        self.prefix = f"cap{unique}"
        self.tenants = [f"TCAP{unique[:4].upper()}{n}" for n in range(tenants)]
        self.mysql = MySQLResource(
            log_database=f"ark_cap_{unique}_nyfz", eton_database=f"ark_cap_{unique}_eton"
        )
        self.broker_db = free_broker_db()
        self.config_path = workdir / "sim.toml"
        sim_config(self.config_path, dormant or {})
        self.config = SimConfig.load(self.config_path)
        self.world = World(self.config)
        self.sim_port = free_port()
        self.services: ServicesHost | None = None
        settings: dict[str, Any] = {
            "ui_port": free_port(),
            "sim_port": self.sim_port,
            "broker_db": self.broker_db,
            "pg_database": f"dagster_cap_{unique}",
            "workers": (f"w1c{unique}", f"w2c{unique}"),
            "extra_env": {
                "ARK_HBASE_TABLE_PREFIX": self.prefix,
                "ARK_KAFKA_TOPIC_PREFIX": f"{self.prefix}_",
                "ARK_KAFKA_SPOOL_DIR": str(workdir / "kafka-spool"),
                "ARK_MYSQL_LOG_DB": self.mysql.log_database,
                "ARK_MYSQL_ETON_DB": self.mysql.eton_database,
                **{f"ARK_{m.upper()}_APP_ID": str(a) for m, a in APPS.items()},
                **{f"ARK_{m.upper()}_APP_SECRET": f"{m}-capacity-secret" for m in APPS},
                **task_speed.TASK_ENV,
            },
            "sim_config": self.config_path,
            "profile": "capacity",
            "prefix": self.prefix,
            "inherit_ark_env": False,
        }
        if hosts:  # the multi-host topology of `make prod-hosts`, on namespaces of its own
            # each worker host spools undelivered Kafka events in its own working directory: a
            # directory of this bench's is read-only there, as another machine's disk would be absent
            del settings["extra_env"]["ARK_KAFKA_SPOOL_DIR"]
            self.topology: Topology = HostsTopology.build(workdir / "hosts", f"cap{unique[:4]}", **settings)
            self.services = ServicesHost(self.topology.host("services"), Reporter())
        else:
            self.topology = Topology(
                paths=StackPaths(root=workdir / "stack", cache=StackPaths.from_env().cache),
                home=workdir / "dagster_home",
                **settings,
            )
        self.services_address = self.topology.address("services")

    def steps(self, *, warm: bool = True) -> list[list[model.StepPlan]]:
        """Each tenant's run: its media steps, from the declarations (`warm`: the report families'
        memory knows every account, as after the first phase)."""
        return [
            model.tenant_steps(model.Tenant(self.world, self.config, t, DAY, TIMING, warm))
            for t in self.tenants
        ]

    # ----- up and down

    def up(self) -> None:
        if self.services is not None:
            assert isinstance(self.topology, HostsTopology) and self.topology.network is not None
            self.topology.network.up()
            self.services.up()
        self.topology.prepare()
        eton = MySQLTarget(eton_database=self.mysql.eton_database)
        for tenant in self.tenants:  # before the daemon: its sensors read the eton tables
            if self.services is None:
                seed_tenant(self.world, tenant, DAY, mysql=eton)
            else:  # `ark-sim seed` on the control host, to the services host's MySQL and Redis
                self.topology.seed(tenant, [DAY])
        self.topology.start_simulator()
        self.topology.start()
        self.topology.wait_ready()
        for tenant in self.tenants:
            self.topology.add_tenant(tenant)

    def down(self, notes: list[str]) -> None:
        """Stop the topology and remove everything it made; what fails is reported, not raised."""
        if self.services is not None:  # everything is the hosts': stop them, remove them
            assert isinstance(self.topology, HostsTopology) and self.topology.network is not None
            steps: tuple[Any, ...] = (self.topology.down, self.services.down, self.topology.network.down)
        else:
            steps = self._loopback_clean_up()
        for step in steps:
            try:
                step()
            except Exception as exc:  # clean-up is best effort; what failed is reported
                notes.append(f"clean-up step failed: {type(exc).__name__}: {exc}")

    def _loopback_clean_up(self) -> tuple[Any, ...]:
        return (
            self.topology.down,
            lambda: postgres.drop_database(self.topology.pg_database),
            lambda: remove_hbase_tables(re.compile(re.escape(f"{self.prefix}_"))),
            lambda: remove_kafka_topics(re.compile(re.escape(f"{self.prefix}_"))),
            lambda: drop_databases((self.mysql.log_database, self.mysql.eton_database)),
            lambda: redis.Redis(db=self.broker_db).flushdb(),
            self.forget,
        )

    def forget(self) -> None:
        """This bench's tenants' Redis keys and its apps' governor state."""
        raw = redis.Redis(db=2)
        patterns = [f"*{t}*" for t in self.tenants] + [f"ark:*:{a}:*" for a in APPS.values()]
        for pattern in patterns:
            for key in raw.scan_iter(match=pattern, count=1000):
                raw.delete(key)

    # ----- one phase: the daily schedule's launches, at given quotas

    def phase(self, name: str, quotas: dict[str, dict[str, float]], notes: list[str]) -> dict[str, Any]:
        """Launch one `all_media_daily` run per tenant at once (as `daily_yesterday` does), wait, measure."""
        wait_for_a_quiet_machine(name, notes)
        load_before = os.getloadavg()[0]
        self._reset_quotas(quotas)
        cpu_before = self._cpu()
        launched = {}
        for tenant in self.tenants:
            at = time.time()
            launched[self._launch(tenant)] = at
        click.echo(f"[{name}] launched {len(launched)} runs of {JOB} at quotas {quotas}")
        runs = self._wait(list(launched))
        cpu_s = self._cpu() - cpu_before
        failed = [r for r in runs.values() if r["status"] != "SUCCESS"]
        if failed:
            raise click.ClickException(
                f"[{name}] runs did not succeed: {failed}; logs in {self.topology.paths.logs}"
            )
        measured = measure(self._events(list(launched)), runs, launched, self.steps())
        counters = self.topology.client(self._counters)
        click.echo(f"[{name}] wall {measured['wall_s']} s, run start {measured['run_start_s']} s")
        return measured | {
            "phase": name,
            "quotas": quotas,
            "cpu_s": round(cpu_s, 1),
            "sim": counters,
            "load_1min": [round(load_before, 2), round(os.getloadavg()[0], 2)],
        }

    def _counters(self) -> dict[str, Any]:
        url = f"http://{self.services_address}:{self.sim_port}/admin/counters"
        return requests.get(url, timeout=10).json()

    def _reset_quotas(self, quotas: dict[str, dict[str, float]]) -> None:
        self.topology.client(self._reset_quotas_here, quotas)

    def _reset_quotas_here(self, quotas: dict[str, dict[str, float]]) -> None:
        base = f"http://{self.services_address}:{self.sim_port}/admin"
        for media, limits in quotas.items():
            body = {"media": media, "per_second": 0, "per_minute": 0, "burst_seconds": 10.0, **limits}
            requests.post(f"{base}/quotas", json=body, timeout=10).raise_for_status()
        requests.post(f"{base}/reset", json={}, timeout=10).raise_for_status()  # counters, buckets
        raw = redis.Redis(host=self.services_address, db=2)
        for app_id in APPS.values():  # every phase starts with cold rate governors
            for key in raw.scan_iter(match=f"ark:*:{app_id}:*", count=1000):
                raw.delete(key)

    def _launch(self, tenant: str) -> str:
        key = f"{DAY.isoformat()}|{tenant}"
        tags = {
            "dagster/partition": key,
            "dagster/partition/date": DAY.isoformat(),
            "dagster/partition/tenant": tenant,
        }
        data = self.topology.graphql(
            """mutation($p: ExecutionParams!) { launchPipelineExecution(executionParams: $p) {
                 __typename ... on LaunchRunSuccess { run { runId } } ... on PythonError { message } } }""",
            {
                "p": {
                    "selector": {**self.topology.repository(), "pipelineName": JOB},
                    "executionMetadata": {"tags": [{"key": k, "value": v} for k, v in tags.items()]},
                }
            },
        )["launchPipelineExecution"]
        if data["__typename"] != "LaunchRunSuccess":
            raise click.ClickException(f"launching {key} failed: {data}")
        return data["run"]["runId"]

    def _wait(self, run_ids: list[str]) -> dict[str, dict[str, Any]]:
        deadline = time.monotonic() + PHASE_TIMEOUT_S
        while time.monotonic() < deadline:
            self.topology.alive()
            runs = self._runs(run_ids)
            if all(r["status"] in _TERMINAL for r in runs.values()):
                return runs
            time.sleep(5)
        raise click.ClickException(f"the runs did not end within {PHASE_TIMEOUT_S} s: {self._runs(run_ids)}")

    def _sql(self, text: str, args: tuple = ()) -> list[tuple]:
        database, host = self.topology.pg_database, self.services_address
        return self.topology.client(lambda: postgres.query(text, args, database=database, host=host))

    def _runs(self, run_ids: list[str]) -> dict[str, dict[str, Any]]:
        rows = self._sql(
            "SELECT run_id, status, start_time, end_time FROM runs WHERE run_id = ANY(%s)", (run_ids,)
        )
        return {r: {"run_id": r, "status": s, "start": a, "end": b} for r, s, a, b in rows}

    def _events(self, run_ids: list[str]) -> list[EventLogEntry]:
        kinds = [
            DagsterEventType.ENGINE_EVENT,
            DagsterEventType.STEP_SUCCESS,
            DagsterEventType.ASSET_MATERIALIZATION,
        ]
        rows = self._sql(
            """SELECT event FROM event_logs WHERE run_id = ANY(%s) AND dagster_event_type = ANY(%s)
               ORDER BY id""",
            (run_ids, [k.value for k in kinds]),
        )
        return [deserialize_value(body, EventLogEntry) for (body,) in rows]

    def _cpu(self) -> float:
        """CPU seconds so far of the web server, the daemon (its code servers and ended runs included)
        and the workers (their step processes)."""
        total = 0.0
        for role in ["webserver", "daemon", *(f"worker-{w}" for w in self.topology.workers)]:
            for proc in self.topology.process(role).tree():
                try:
                    t = proc.cpu_times()
                    total += t.user + t.system + t.children_user + t.children_system
                except psutil.Error:
                    continue
        return total

    # ----- what the day stored and logged

    def stored(self) -> dict[str, dict[str, list[int]]]:
        """Per table and tenant: rows of the day and their logical bytes (row key + `info:data`)."""
        return self.topology.client(self._stored)

    def _stored(self) -> dict[str, dict[str, list[int]]]:
        hbase = HBaseResource(host=self.services_address, table_prefix=self.prefix)
        found: dict[str, dict[str, list[int]]] = defaultdict(lambda: defaultdict(list))
        try:
            for table in model.all_tables():
                try:
                    for key, value in hbase.scan_date(table, DAY, columns=[DATA_COLUMN]):
                        tenant = next((t for t in self.tenants if t in key.decode().split("|")), "?")
                        found[table][tenant].append(len(key) + len(value.get(DATA_COLUMN, b"")))
                except TableNotFound:
                    continue
        finally:
            hbase.close()
        return found

    def mismatches(self, stored: dict[str, dict[str, list[int]]]) -> dict[str, list[int]]:
        """`tenant:table` -> [stored, expected] wherever the rows differ from `ark-sim truth`."""
        wrong = {}
        for tenant in self.tenants:
            for table, expected in truth(self.world, tenant, DAY)["tables"].items():
                rows = len(stored.get(table, {}).get(tenant, []))
                if rows != expected:
                    wrong[f"{tenant}:{table}"] = [rows, expected]
        return wrong

    def per_partition_logs(self) -> dict[str, float]:
        """Kafka events and run-log rows per (date, tenant) partition so far (one phase's worth)."""
        return self.topology.client(self._per_partition_logs)

    def _per_partition_logs(self) -> dict[str, float]:
        import pymysql
        from kafka import KafkaConsumer, TopicPartition

        bootstrap = os.environ.get("ARK_KAFKA_BOOTSTRAP", "127.0.0.1:9092")
        if self.hosts:
            bootstrap = self.topology.env()["ARK_KAFKA_BOOTSTRAP"]
        consumer = KafkaConsumer(bootstrap_servers=bootstrap)
        try:
            events = 0
            for media in APPS:
                topic = f"{self.prefix}_{media}_api_log"
                parts = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or []]
                events += sum(consumer.end_offsets(parts).values()) if parts else 0
        finally:
            consumer.close()
        conn = pymysql.connect(host=self.services_address, user="ark", password="ark")
        try:
            with conn.cursor() as cur:
                cur.execute(f"SELECT COUNT(*) FROM `{self.mysql.log_database}`.`api_result_log`")  # noqa: S608
                run_log_rows = cur.fetchone()[0]
        finally:
            conn.close()
        return {"kafka_events": events / len(self.tenants), "run_log_rows": run_log_rows / len(self.tenants)}


def measure(
    events: list[EventLogEntry],
    runs: dict[str, dict[str, Any]],
    launched: dict[str, float],
    plans: list[list[model.StepPlan]],
) -> dict[str, Any]:
    """A phase from its events: the wall time, and what a run and a step cost beyond their calls.

    Per step: its overhead is its time in a worker (pick-up to STEP_SUCCESS) less the longest path of
    its assets' fetch seconds through the step's in-step dependencies. Per run: its start-up is the
    launch to its first step's submission to Celery; its end, its last step's end to the run's.
    """
    submitted: dict[str, float] = {}
    picked: dict[tuple[str, str], float] = {}
    ended: dict[tuple[str, str], float] = {}
    fetch_s: dict[tuple[str, str], dict[str, float]] = defaultdict(dict)
    extra: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))  # hedges, retries
    for entry in events:
        event, key = entry.dagster_event, (entry.run_id, entry.step_key)
        if event.event_type == DagsterEventType.ENGINE_EVENT:
            message = event.message or ""
            if message.startswith("Submitting celery task"):
                submitted.setdefault(entry.run_id, entry.timestamp)
            elif "Celery worker" in event.engine_event_data.metadata:
                picked[key] = entry.timestamp  # the last pick-up counts (a redelivered task)
        elif event.event_type == DagsterEventType.STEP_SUCCESS:
            ended[key] = entry.timestamp
        else:
            materialization = event.step_materialization_data.materialization
            metadata = materialization.metadata
            seconds = metadata.get("seconds")
            fetch_s[key][materialization.asset_key.path[-1]] = float(seconds.value) if seconds else 0.0
            for name in ("hedges", "retries"):
                extra[key[1]][name] += int(metadata[name].value) if name in metadata else 0
    parts = {step.media: step.parts for steps in plans for step in steps}
    overheads: dict[str, list[float]] = defaultdict(list)
    spans: dict[str, list[float]] = defaultdict(list)
    for key, end in ended.items():
        media = key[1]
        critical = critical_path(parts[media], fetch_s[key])
        overheads[media].append(end - picked[key] - critical)
        spans[media].append(critical)
    first = min(launched.values())
    last_step = {run: max(e for (r, _), e in ended.items() if r == run) for run in runs}
    return {
        "runs": len(runs),
        "wall_s": round(max(r["end"] for r in runs.values()) - first, 1),
        "run_start_s": round(_mean([submitted[r] - launched[r] for r in runs]), 2),
        "run_end_s": round(_mean([runs[r]["end"] - last_step[r] for r in runs]), 2),
        "step_s": {m: round(_mean(v), 2) for m, v in sorted(overheads.items())},
        "fetch_span_s": {m: round(_mean(v), 2) for m, v in sorted(spans.items())},
        "steps": sum(len(v) for v in overheads.values()),
        "chains": {m: _chain(m, picked, ended) for m in sorted(overheads)},
        "hedges_and_retries": {m: dict(v) for m, v in sorted(extra.items())},
        "step_times": [
            {
                "run": r,
                "media": m,
                "picked_s": round(picked[(r, m)] - first, 1),
                "ended_s": round(e - first, 1),
            }
            for (r, m), e in sorted(ended.items(), key=lambda kv: picked[kv[0]])
        ],
    }


def _chain(media: str, picked: dict[tuple[str, str], float], ended: dict[tuple[str, str], float]) -> dict:
    """A media's steps in the phase: how many, and first pick-up to last end."""
    mine = [(picked[key], end) for key, end in ended.items() if key[1] == media]
    return {"steps": len(mine), "chain_s": round(max(e for _, e in mine) - min(s for s, _ in mine), 1)}


def critical_path(parts: tuple[model.PartPlan, ...], seconds: dict[str, float]) -> float:
    """The longest chain of fetch seconds through a step's parts (each starts when its upstream ends)."""
    finish: dict[str, float] = {}
    for part in parts:  # declared upstream first
        start = max((finish[u] for u in part.upstream if u in finish), default=0.0)
        finish[part.name] = start + seconds.get(part.name, 0.0)
    return max(finish.values(), default=0.0)


def _mean(values: list[float]) -> float:
    return sum(values) / len(values) if values else 0.0


def wait_for_a_quiet_machine(phase: str, notes: list[str]) -> None:
    """Wait (up to QUIET_WAIT_S) until the 1-minute load is at most the CPU count: the overheads
    this bench calibrates move with whatever else the machine runs."""
    cpus = os.cpu_count() or 1
    deadline = time.monotonic() + QUIET_WAIT_S
    while os.getloadavg()[0] > cpus and time.monotonic() < deadline:
        click.echo(f"[{phase}] waiting for a quieter machine (load {os.getloadavg()[0]:.1f} on {cpus} CPUs)")
        time.sleep(20)
    if os.getloadavg()[0] > cpus:
        notes.append(
            f"{phase} started on a busy machine (1-minute load {os.getloadavg()[0]:.1f} on {cpus} CPUs)"
        )
