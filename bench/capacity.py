"""The capacity plan (`make bench-capacity`): 100 tenants × ~30k accounts a day, modelled and checked.

1. The model (`bench/capacity_model.py`) reads the shipped declarations and quotas and says, for a
   day of 100 `seed`-sized tenants: calls per media endpoint per tenant, the quota-bound hours per
   (app, endpoint), each media's chain of pooled steps, CPU, HBase rows and bytes, Kafka events,
   MySQL log rows, and how many Celery workers finish the day by 08:00 GMT+8.
2. Its fixed costs are measured here, on the production topology of `make prod-local`
   (`ark_stack.prod_local.Topology`: the shipped dagster.yaml on Postgres, a daemon, two Celery
   workers) on free ports with names of its own: a few tenants of a mid-sized simulator profile,
   launched as the daily schedule launches them (one `all_media_daily` run per tenant), with
   the shipped quotas (calibration: what a pooled step costs beyond its calls).
3. The model is then checked: the same tenants again, with the simulator's quotas scaled down so
   that calls dominate, as in production. Predicted (model + calibration) against measured wall
   time must agree within ±20%.

Writes bench/results/capacity.json and the generated section of docs/CAPACITY.md.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
import time
import uuid
from collections import defaultdict
from dataclasses import asdict
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import click
import psutil
import redis
import requests
from dagster import DagsterEventType, EventLogEntry
from dagster._serdes import deserialize_value

from bench import capacity_model as model
from bench.fetch_bench import _toml
from bench.partition_bench import drop_databases, remove_hbase_tables, remove_kafka_topics, wait_for_quiet
from bench.results_md import cpu_model, write_section

ROOT = Path(__file__).resolve().parent.parent
RESULTS_JSON = ROOT / "bench" / "results" / "capacity.json"
CAPACITY_MD = ROOT / "docs" / "CAPACITY.md"
START_MARK, END_MARK = "<!-- capacity:start -->", "<!-- capacity:end -->"
COMMAND = "make bench-capacity   # runs: .venv/bin/python -m bench.capacity (after `make stack`)"
DAY = date(2024, 6, 13)
TENANTS_PER_DAY = 100
WINDOW = ("00:00", "08:00")  # GMT+8: the day closes at midnight and must be in by 08:00
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
APPS = {"gdt": 1119401, "jrtt": 1709401, "wx": 1119402}
# Calibration runs at the shipped quotas (read from sim.toml: `shipped_quotas`), the rates a
# production day runs at. Validation: quotas scaled down to 100 calls/s per endpoint (a fifth to a
# third of the shipped ones; still where the fetch benchmark measured the engine's share of a
# quota), with burst buckets as small relative to the rate as there; calls then dominate each
# media's chain, as in production.
SCALED = {
    "gdt": {"per_minute": 6000, "burst_seconds": 0.25},
    "wx": {"per_minute": 6000, "burst_seconds": 0.25},
    "jrtt": {"per_second": 100},
}
PHASE_TIMEOUT_S = 2400


def shipped_quotas() -> dict[str, dict[str, float]]:
    """Each media's default quota as sim.toml ships it."""
    from ark_assets.sim.config import SimConfig

    shipped = SimConfig.load()
    keys = ("per_second", "per_minute", "burst_seconds")
    return {m: {k: getattr(shipped.media[m].quota.default, k) for k in keys} for m in APPS}


def sim_config(path: Path) -> dict[str, Any]:
    """This bench's simulator: its own apps, the `capacity` profile, latency 0, no faults."""
    config = {
        "profile": "capacity",
        "clock": {"today": (DAY + timedelta(days=1)).isoformat()},
        "profiles": {"capacity": PROFILE},
        "media": {m: {"app": {"app_id": a, "secret": f"{m}-capacity-secret"}} for m, a in APPS.items()},
    }
    path.write_text(_toml(config), encoding="utf-8")
    return config


class Day:
    """One simulated day on a prod-local topology of its own: tenants, phases, measurements."""

    def __init__(self, tenants: int, workdir: Path) -> None:
        from ark_assets.resources.mysql import MySQLResource
        from ark_assets.sim.config import SimConfig
        from ark_assets.sim.world import World
        from ark_stack.paths import StackPaths
        from ark_stack.process import free_port
        from ark_stack.prod_local import Topology, free_broker_db
        from ark_stack.services import postgres

        unique = uuid.uuid4().hex[:8]
        self.workdir = workdir
        self.prefix = f"cap{unique}"
        self.tenants = [f"TCAP{unique[:4].upper()}{n}" for n in range(tenants)]
        self.mysql = MySQLResource(
            log_database=f"ark_cap_{unique}_nyfz", eton_database=f"ark_cap_{unique}_eton"
        )
        self.broker_db = free_broker_db()
        self.config_path = workdir / "sim.toml"
        sim_config(self.config_path)
        self.config = SimConfig.load(self.config_path)
        self.world = World(self.config)
        self.sim_port = free_port()
        self.topology = Topology(
            paths=StackPaths(root=workdir / "stack", cache=StackPaths.from_env().cache),
            home=workdir / "dagster_home",
            ui_port=free_port(),
            sim_port=self.sim_port,
            broker_db=self.broker_db,
            pg_database=f"dagster_cap_{unique}",
            workers=(f"w1c{unique}", f"w2c{unique}"),
            extra_env={
                "ARK_HBASE_TABLE_PREFIX": self.prefix,
                "ARK_KAFKA_TOPIC_PREFIX": f"{self.prefix}_",
                "ARK_KAFKA_SPOOL_DIR": str(workdir / "kafka-spool"),
                "ARK_MYSQL_LOG_DB": self.mysql.log_database,
                "ARK_MYSQL_ETON_DB": self.mysql.eton_database,
                **{f"ARK_{m.upper()}_APP_ID": str(a) for m, a in APPS.items()},
                **{f"ARK_{m.upper()}_APP_SECRET": f"{m}-capacity-secret" for m in APPS},
            },
            sim_config=self.config_path,
            profile="capacity",
            prefix=f"cap{unique}",
            inherit_ark_env=False,
        )
        self._postgres = postgres

    # ----- up and down

    def up(self) -> None:
        from ark_assets.resources.redis_store import RedisResource
        from ark_assets.sim.seed import seed_tenant

        for tenant in self.tenants:  # before the daemon: its sensors read the eton tables
            seed_tenant(self.world, tenant, DAY, redis=RedisResource(), mysql=self.mysql)
        self.topology.prepare()
        self.topology.start_simulator()
        self.topology.start()
        self.topology.wait_ready()
        for tenant in self.tenants:
            self.topology.add_tenant(tenant)

    def down(self, notes: list[str]) -> None:
        steps = (
            self.topology.down,
            lambda: self._postgres.drop_database(self.topology.pg_database),
            lambda: remove_hbase_tables(re.compile(re.escape(f"{self.prefix}_"))),
            lambda: remove_kafka_topics(re.compile(re.escape(f"{self.prefix}_"))),
            lambda: drop_databases((self.mysql.log_database, self.mysql.eton_database)),
            lambda: redis.Redis(db=self.broker_db).flushdb(),
            self.forget,
        )
        for step in steps:
            try:
                step()
            except Exception as exc:  # clean-up is best effort; what failed is reported
                notes.append(f"clean-up step failed: {type(exc).__name__}: {exc}")

    def forget(self) -> None:
        """This bench's tenants' Redis keys and its apps' governor state."""
        raw = redis.Redis(db=2)
        patterns = [f"*{t}*" for t in self.tenants] + [f"ark:*:{m}:{a}:*" for m, a in APPS.items()]
        for pattern in patterns:
            for key in raw.scan_iter(match=pattern, count=1000):
                raw.delete(key)

    # ----- one phase: the daily schedule's launches, at given quotas

    def phase(self, name: str, quotas: dict[str, dict[str, float]], notes: list[str]) -> dict[str, Any]:
        """Launch one `all_media_daily` run per tenant at once (as `daily_yesterday` does), wait, measure."""
        _wait_for_a_quiet_machine(name, notes)
        load_before = os.getloadavg()[0]
        self._reset_quotas(quotas)
        cpu_before = self._cpu()
        launched = time.time()
        run_ids = [self._launch(tenant) for tenant in self.tenants]
        click.echo(f"[{name}] launched {len(run_ids)} runs of all_media_daily at quotas {quotas}")
        runs = self._wait(run_ids)
        cpu_s = self._cpu() - cpu_before
        failed = [r for r in runs if r["status"] != "SUCCESS"]
        if failed:
            raise click.ClickException(
                f"[{name}] runs did not succeed: {failed}; logs in {self.topology.paths.logs}"
            )
        measured = self._measure(name, run_ids, runs, launched, cpu_s)
        return measured | {"load_1min": [round(load_before, 2), round(os.getloadavg()[0], 2)]}

    def _reset_quotas(self, quotas: dict[str, dict[str, float]]) -> None:
        base = f"http://127.0.0.1:{self.sim_port}/admin"
        for media, limits in quotas.items():
            body = {"media": media, "per_second": 0, "per_minute": 0, "burst_seconds": 10.0, **limits}
            requests.post(f"{base}/quotas", json=body, timeout=10).raise_for_status()
        requests.post(f"{base}/reset", json={}, timeout=10).raise_for_status()  # counters, buckets
        raw = redis.Redis(db=2)
        for media, app_id in APPS.items():  # every phase starts with cold rate governors
            for key in raw.scan_iter(match=f"ark:*:{media}:{app_id}:*", count=1000):
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
                    "selector": {**self.topology.repository(), "pipelineName": "all_media_daily"},
                    "executionMetadata": {"tags": [{"key": k, "value": v} for k, v in tags.items()]},
                }
            },
        )["launchPipelineExecution"]
        if data["__typename"] != "LaunchRunSuccess":
            raise click.ClickException(f"launching {key} failed: {data}")
        return data["run"]["runId"]

    def _wait(self, run_ids: list[str]) -> list[dict[str, Any]]:
        deadline = time.monotonic() + PHASE_TIMEOUT_S
        while time.monotonic() < deadline:
            self.topology.alive()
            runs = self._runs(run_ids)
            if all(r["status"] in ("SUCCESS", "FAILURE", "CANCELED") for r in runs):
                return runs
            time.sleep(5)
        raise click.ClickException(f"the runs did not end within {PHASE_TIMEOUT_S} s: {self._runs(run_ids)}")

    def _sql(self, text: str, args: tuple = ()) -> list[tuple]:
        return self._postgres.query(text, args, database=self.topology.pg_database)

    def _runs(self, run_ids: list[str]) -> list[dict[str, Any]]:
        rows = self._sql(
            "SELECT run_id, status, start_time, end_time FROM runs WHERE run_id = ANY(%s)", (run_ids,)
        )
        return [{"run_id": r, "status": s, "start": a, "end": b} for r, s, a, b in rows]

    def _events(self, run_ids: list[str], *types: DagsterEventType) -> list[EventLogEntry]:
        rows = self._sql(
            """SELECT event FROM event_logs WHERE run_id = ANY(%s) AND dagster_event_type = ANY(%s)
               ORDER BY id""",
            (run_ids, [t.value for t in types]),
        )
        return [deserialize_value(body, EventLogEntry) for (body,) in rows]

    def _measure(
        self, name: str, run_ids: list[str], runs: list[dict], launched: float, cpu_s: float
    ) -> dict[str, Any]:
        """Per media: the chain of pooled steps (first start to last end), its steps, their fetch seconds."""
        from ark_assets.definitions import ASSETS

        pooled = {"__".join(key.path) for a in ASSETS for key in a.keys}
        starts: dict[tuple[str, str], float] = {}
        spans: dict[str, list[tuple[float, float]]] = defaultdict(list)
        fetch_s: dict[str, float] = defaultdict(float)
        events = self._events(
            run_ids,
            DagsterEventType.STEP_START,
            DagsterEventType.STEP_SUCCESS,
            DagsterEventType.ASSET_MATERIALIZATION,
        )
        for entry in events:
            step, kind = entry.step_key, entry.dagster_event.event_type
            if step not in pooled:
                continue  # check steps hold no pool
            media = step.split("__")[0]
            if kind == DagsterEventType.STEP_START:
                starts[(entry.run_id, step)] = entry.timestamp
            elif kind == DagsterEventType.STEP_SUCCESS:
                spans[media].append((starts[(entry.run_id, step)], entry.timestamp))
            else:
                metadata = entry.dagster_event.step_materialization_data.materialization.metadata
                if "seconds" in metadata:
                    fetch_s[media] += float(metadata["seconds"].value)
        chains = {}
        for media, intervals in sorted(spans.items()):
            wall = max(e for _, e in intervals) - min(s for s, _ in intervals)
            chains[media] = {
                "steps": len(intervals),
                "chain_s": round(wall, 1),
                "fetch_s": round(fetch_s[media], 1),
                "overhead_per_step_s": round((wall - fetch_s[media]) / len(intervals), 2),
            }
        first_step = min(s for v in spans.values() for s, _ in v)
        last_step = max(e for v in spans.values() for _, e in v)
        ended = max(r["end"] for r in runs)
        result = {
            "phase": name,
            "runs": len(runs),
            "wall_s": round(ended - launched, 1),
            "start_s": round(first_step - launched, 1),
            "end_s": round(ended - last_step, 1),
            "chains": chains,
            "steps": sum(c["steps"] for c in chains.values()),
            "cpu_s": round(cpu_s, 1),
            "sim": requests.get(f"http://127.0.0.1:{self.sim_port}/admin/counters", timeout=10).json(),
        }
        click.echo(f"[{name}] wall {result['wall_s']} s; chains {json.dumps(chains)}")
        return result

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

    def measured_bytes_per_row(self) -> dict[str, float]:
        """Mean logical bytes (row key + `info:data`) per row of each table, for the bench's day."""
        from ark_assets.resources.errors import TableNotFound
        from ark_assets.resources.hbase import DATA_COLUMN, HBaseResource

        hbase = HBaseResource(table_prefix=self.prefix)
        found = {}
        try:
            for table in model.all_tables():
                sizes = []
                try:
                    sizes = [len(k) + len(v.get(DATA_COLUMN, b"")) for k, v in hbase.scan_date(table, DAY)]
                except TableNotFound:
                    pass
                if sizes:
                    found[table] = sum(sizes) / len(sizes)
        finally:
            hbase.close()
        return found

    def rows_match_truth(self) -> dict[str, list]:
        """Tables whose rows of a tenant differ from `ark-sim truth` (empty when all match)."""
        from ark_assets.resources.errors import TableNotFound
        from ark_assets.resources.hbase import DATA_COLUMN, HBaseResource
        from ark_assets.sim.truth import truth

        hbase = HBaseResource(table_prefix=self.prefix)
        wrong = {}
        try:
            for tenant in self.tenants:
                for table, expected in truth(self.world, tenant, DAY)["tables"].items():
                    try:
                        keys = [k for k, _ in hbase.scan_date(table, DAY, columns=[DATA_COLUMN])]
                    except TableNotFound:
                        keys = []
                    stored = sum(1 for k in keys if tenant in k.decode().split("|"))
                    if stored != expected:
                        wrong[f"{tenant}:{table}"] = [stored, expected]
        finally:
            hbase.close()
        return wrong

    def per_partition_logs(self) -> dict[str, float]:
        """Kafka events and run-log rows per (date, tenant) partition so far (one phase's worth)."""
        import pymysql
        from kafka import KafkaConsumer, TopicPartition

        consumer = KafkaConsumer(bootstrap_servers=os.environ.get("ARK_KAFKA_BOOTSTRAP", "127.0.0.1:9092"))
        try:
            events = 0
            for media in APPS:
                topic = f"{self.prefix}_{media}_api_log"
                parts = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or []]
                events += sum(consumer.end_offsets(parts).values()) if parts else 0
        finally:
            consumer.close()
        conn = pymysql.connect(host="127.0.0.1", user="ark", password="ark")
        try:
            with conn.cursor() as cur:
                cur.execute(f"SELECT COUNT(*) FROM `{self.mysql.log_database}`.`api_result_log`")  # noqa: S608
                run_log_rows = cur.fetchone()[0]
        finally:
            conn.close()
        return {"kafka_events": events / len(self.tenants), "run_log_rows": run_log_rows / len(self.tenants)}


QUIET_WAIT_S = 300


def _wait_for_a_quiet_machine(phase: str, notes: list[str]) -> None:
    """Wait (up to QUIET_WAIT_S) until the 1-minute load is at most the CPU count: the per-step
    overhead this bench calibrates moves with whatever else the machine runs."""
    cpus = os.cpu_count() or 1
    deadline = time.monotonic() + QUIET_WAIT_S
    while os.getloadavg()[0] > cpus and time.monotonic() < deadline:
        click.echo(f"[{phase}] waiting for a quieter machine (load {os.getloadavg()[0]:.1f} on {cpus} CPUs)")
        time.sleep(20)
    if os.getloadavg()[0] > cpus:
        notes.append(
            f"{phase} started on a busy machine (1-minute load {os.getloadavg()[0]:.1f} on {cpus} CPUs)"
        )


def merge_calibrations(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """The mean of the calibrations run before and after the validation (so a change in the
    machine's load during the bench cancels to first order)."""
    mean = lambda a, b: round((a + b) / 2, 2)  # noqa: E731
    chains = {
        m: {k: mean(chain[k], after["chains"][m][k]) for k in chain if k != "steps"}
        | {"steps": chain["steps"]}
        for m, chain in before["chains"].items()
    }
    merged = {k: mean(before[k], after[k]) for k in ("wall_s", "start_s", "end_s", "cpu_s")}
    return merged | {"steps": before["steps"], "chains": chains, "before": before, "after": after}


def _window_s() -> float:
    start, end = (datetime.strptime(t, "%H:%M") for t in WINDOW)
    return (end - start).total_seconds()


def predict(day: Day, overheads: model.Overheads, quotas: dict[str, dict[str, float]]) -> dict[str, Any]:
    """The model's wall time for the simulated day at `quotas`: its tenants' own calls."""
    from ark_assets.sim.config import SimConfig, deep_merge

    scaled = {
        "media": {
            m: {"quota": {"default": {"per_second": 0, "per_minute": 0, **q}}} for m, q in quotas.items()
        }
    }
    config = SimConfig.model_validate(deep_merge(day.config.model_dump(mode="json"), scaled))
    steps = [s for tenant in day.tenants for s in model.tenant_steps(day.world, config, tenant)]
    return model.day_plan(steps, 1, config, overheads, model.efficiency())


def production(
    overheads: model.Overheads, per_partition: dict[str, float], bytes_per_row: dict[str, float]
) -> dict:
    """The plan for 100 seed-sized tenants at the shipped quotas."""
    from ark_assets.sim.config import SimConfig
    from ark_assets.sim.world import World

    config = SimConfig.load(overrides={"profile": "seed"})
    world = World(config)
    tenant = "TCAPACITY"
    steps = model.tenant_steps(world, config, tenant)
    eff = model.efficiency()
    plan = model.day_plan(steps, TENANTS_PER_DAY, config, overheads, eff)
    endpoints = model.endpoint_table(steps, TENANTS_PER_DAY, config, eff)
    window = _window_s()
    return {
        "tenants": TENANTS_PER_DAY,
        "profile": "seed",
        "accounts_per_tenant": {m.value: world.account_count(m, tenant) for m in model.Media},
        "steps": [{"media": s.media.value, "asset": s.asset, "calls": s.calls} for s in steps],
        "endpoints": endpoints,
        "plan": plan,
        "window": {"start": WINDOW[0], "deadline": WINDOW[1], "seconds": window},
        "fits_window": plan["wall_s"] <= window,
        # what pools of one step per endpoint would leave: each media bound by its busiest endpoint
        "busiest_endpoint_hours": {
            m: max(e["hours"] for e in endpoints if e["media"] == m) for m in plan["chains"]
        },
        # one step process per media pool, plus one for the check steps (no pool)
        "worker_processes_needed": len(plan["chains"]) + 1,
        "cpu": model.cpu(steps, world, tenant, TENANTS_PER_DAY, overheads, window),
        "storage": model.storage(world, tenant, DAY, TENANTS_PER_DAY, bytes_per_row),
        "logs": model.logs(steps, TENANTS_PER_DAY, per_partition),
    }


def _h(seconds: float) -> str:
    return f"{seconds / 3600:.2f} h"


def _endpoint_rows(p: dict[str, Any]) -> list[str]:
    rows = [
        "| media (app) | endpoint | calls per tenant | calls per day | quota (calls/s) | daily quota "
        "| engine's share of the quota | quota-bound hours |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for e in p["endpoints"]:
        daily = f"{e['quota_per_day']:,}" + ("" if e["within_daily_quota"] else " **exceeded**")
        rows.append(
            f"| {e['media']} ({e['app_id']}) | `{e['endpoint']}` | {e['calls_per_tenant']:,} "
            f"| {e['calls_per_day']:,} | {e['quota_per_s']:g} | {daily} | {e['efficiency']:.0%} "
            f"| {e['hours']:.2f} |"
        )
    return rows


def _day_lines(p: dict[str, Any]) -> list[str]:
    lines = [
        "| media | pooled steps | quota-bound | overhead (steps × measured per-step cost) | chain |",
        "|---|---:|---:|---:|---:|",
    ]
    for m, c in p["plan"]["chains"].items():
        lines.append(
            f"| {m} | {c['steps']:,} | {_h(c['quota_s'])} | {_h(c['overhead_s'])} | **{_h(c['chain_s'])}** |"
        )
    verdict = "fits" if p["fits_window"] else "**does not fit**"
    busiest = ", ".join(f"{m} {h:.2f} h" for m, h in p["busiest_endpoint_hours"].items())
    cpu, store, logs = p["cpu"], p["storage"], p["logs"]
    accounts = sum(p["accounts_per_tenant"].values())
    lines += [
        "",
        f"- **Wall time of the day: {_h(p['plan']['wall_s'])}** (the longest chain plus the measured "
        f"launch and wind-down), which {verdict} the {p['window']['start']}–{p['window']['deadline']} "
        f"GMT+8 window ({_h(p['window']['seconds'])}).",
        f"- **Workers: {p['worker_processes_needed']} step processes**, i.e. the two workers of "
        "`make prod-local` (2 × `--concurrency=2`): one step per media pool at a time plus the check "
        "steps. More workers do not shorten the day; the quotas bound it. With a pool of one step per "
        f"endpoint (not shipped) each media would be bound by its busiest endpoint: {busiest}.",
        f"- **CPU:** {cpu['cpu_ms_per_account']} ms per account (partition benchmark) × {accounts:,} "
        f"accounts × {p['tenants']} tenants, plus {cpu['cpu_s_per_step']} s per step (measured here): "
        f"{cpu['cpu_s_per_day']:,} CPU-seconds a day, {cpu['cores_busy_over_window']} cores busy on "
        "average over the window.",
        f"- **HBase:** {store['rows_per_day']:,} rows and {store['bytes_per_day'] / 2**30:.2f} GiB of row "
        "keys + `info:data` a day (before SNAPPY, HBase's cell overhead and replication); per table below.",
        f"- **Kafka:** {logs['kafka_events_per_day']:,} events a day (START/END per fetch asset and "
        "partition, one THROTTLE per 100 throttles).",
        f"- **MySQL:** {logs['mysql_run_log_rows_per_day']:,} run-log rows, "
        f"{logs['mysql_request_log_rows_per_day']:,} request-log and as many response-log rows a day "
        f"(every throttle, {logs['log_sample_rate']:.0%} of the {logs['calls_per_day']:,} calls).",
        "",
        "| HBase table | rows per day | bytes per row (measured) |",
        "|---|---:|---:|",
    ]
    lines += [
        f"| `{name}` | {t['rows_per_day']:,} | {t['bytes_per_row']:.0f} |"
        for name, t in store["tables"].items()
    ]
    return lines


def _validation_lines(v: dict[str, Any]) -> list[str]:
    cal = v["calibration"]
    sizes = ", ".join(f"{m} {n:,}" for m, n in v["accounts_per_tenant"].items())
    lines = [
        f"{v['tenants']} tenants of the `capacity` profile ({sizes} accounts each), one `all_media_daily` "
        "run per tenant launched at once over GraphQL (as `daily_yesterday` launches them), on a "
        "topology of its own built by `ark_stack.prod_local.Topology` (the shipped dagster.yaml on "
        "Postgres, dagster-daemon, two Celery workers × 2 processes).",
        "",
        "| phase | quotas | measured wall | predicted wall | error |",
        "|---|---|---:|---:|---:|",
        f"| calibration, before and after (mean) | as shipped | {cal['before']['wall_s']:.0f} s, "
        f"{cal['after']['wall_s']:.0f} s | (measures the per-step cost) | |",
        f"| validation | {v['quotas_text']} | **{v['validation']['wall_s']:.0f} s** "
        f"| **{v['predicted']['wall_s']:.0f} s** | **{v['error']:+.1%}** |",
        "",
        "| media | steps | calibration (mean): chain, fetch, per-step cost | validation: measured chain "
        "| predicted chain |",
        "|---|---:|---|---:|---:|",
    ]
    for m, c in v["calibration"]["chains"].items():
        lines.append(
            f"| {m} | {c['steps']} | {c['chain_s']} s, {c['fetch_s']} s, {c['overhead_per_step_s']} s "
            f"| {v['validation']['chains'][m]['chain_s']} s | {v['predicted']['chains'][m]['chain_s']} s |"
        )
    matched = (
        "every table matched `ark-sim truth`"
        if not v["mismatches"]
        else "tables differed: " + json.dumps(v["mismatches"])
    )
    within = "within" if abs(v["error"]) <= 0.20 else "outside"
    loads = ", ".join(
        f"{name} {a:.1f} → {b:.1f}"
        for name, (a, b) in (
            ("calibration", cal["before"]["load_1min"]),
            ("validation", v["validation"]["load_1min"]),
            ("calibration again", cal["after"]["load_1min"]),
        )
    )
    lines += [
        "",
        f"- Verdict: **{within} ±20%**; every run succeeded and {matched}.",
        f"- The machine's 1-minute load at each phase's start and end (2 CPUs, shared): {loads}.",
    ]
    return lines


def render(r: dict[str, Any]) -> str:
    """The generated section of docs/CAPACITY.md."""
    p, check = r["production"], r["calls_vs_partition_bench"]
    sizes = ", ".join(f"{m} {n:,}" for m, n in p["accounts_per_tenant"].items())
    lines = [
        START_MARK,
        "## The numbers (generated by `make bench-capacity`)",
        "",
        f"Command: `{r['command']}` · {r['when']} · {r['machine']} · {r['minutes']:.0f} minutes.",
        "",
        f"### Calls per media endpoint: one `seed`-sized tenant ({sizes} accounts), "
        f"then {p['tenants']} tenants",
        "",
        *_endpoint_rows(p),
        "",
        f"The call model against the partition benchmark's measured requests of a seed tenant "
        f"(bench/results/partition.json): {check['model']:,} modelled, {check['measured']:,} measured "
        f"({check['difference']:+.1%}).",
        "",
        f"### The day: {p['tenants']} tenants, pools of one step per media (as shipped)",
        "",
        *_day_lines(p),
        "",
        "### The model against a simulated day on the prod-local topology",
        "",
        *_validation_lines(r["validation"]),
        *(f"- {n}" for n in r["notes"]),
        END_MARK,
    ]
    return "\n".join(lines) + "\n"


@click.command()
@click.option("--tenants", default=3, show_default=True, help="Tenants of the simulated day.")
@click.option("--keep", is_flag=True, help="Keep the work directory (logs, DAGSTER_HOME).")
@click.option(
    "--no-write", is_flag=True, help="Print the numbers only; leave capacity.json and CAPACITY.md alone."
)
@click.option(
    "--render-from",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Only rewrite docs/CAPACITY.md's generated section from a capacity.json (no run).",
)
def main(tenants: int, keep: bool, no_write: bool, render_from: Path | None) -> None:
    """Model a day of 100 tenants, calibrate it on the prod-local topology, check it on a simulated day."""
    if render_from is not None:
        write_section(START_MARK, END_MARK, render(json.loads(render_from.read_text())), path=CAPACITY_MD)
        click.echo(f"rewrote the generated section of {CAPACITY_MD} from {render_from}")
        return
    started = time.monotonic()
    busy = wait_for_quiet()
    notes: list[str] = (
        [f"Another benchmark ran meanwhile ({busy[0]}): timings are disturbed."] if busy else []
    )
    workdir = Path(tempfile.mkdtemp(prefix="ark-bench-capacity-"))
    when = datetime.now(UTC)
    day = Day(tenants, workdir)
    try:
        day.up()
        before = day.phase("calibration", shipped_quotas(), notes)
        per_partition = day.per_partition_logs()
        validation = day.phase("validation", SCALED, notes)
        after = day.phase("calibration again", shipped_quotas(), notes)
        calibration = merge_calibrations(before, after)
        mismatches = day.rows_match_truth()
        bytes_per_row = day.measured_bytes_per_row()
    finally:
        if keep:
            click.echo(f"work directory kept: {workdir} (processes stopped)")
        day.down(notes)
        if not keep:
            shutil.rmtree(workdir, ignore_errors=True)

    accounts = sum(day.world.account_count(m, t) for m in model.Media for t in day.tenants)
    steps = before["steps"]
    overheads = model.Overheads(
        step_s={m: c["overhead_per_step_s"] for m, c in calibration["chains"].items()},
        start_s=calibration["start_s"],
        end_s=calibration["end_s"],
        cpu_step_s=round(
            max(0.0, (calibration["cpu_s"] - accounts * model.cpu_ms_per_account() / 1000) / steps), 3
        ),
    )
    predicted = predict(day, overheads, SCALED)
    error = (predicted["wall_s"] - validation["wall_s"]) / validation["wall_s"]
    seed = production(overheads, per_partition, bytes_per_row)
    partition_bench = json.loads((model.RESULTS / "partition.json").read_text())
    modelled_calls = sum(n for s in seed["steps"] for n in s["calls"].values())
    result = {
        "command": COMMAND,
        "when": f"{when:%Y-%m-%d %H:%M} UTC",
        "machine": f"{os.cpu_count()} CPU ({cpu_model()}), {psutil.virtual_memory().total / 2**30:.1f} GiB",
        "minutes": round((time.monotonic() - started) / 60, 1),
        "overheads": asdict(overheads),
        "calls_vs_partition_bench": {
            "model": modelled_calls,
            "measured": partition_bench["requests"],
            "difference": (modelled_calls - partition_bench["requests"]) / partition_bench["requests"],
        },
        "production": seed,
        "validation": {
            "tenants": tenants,
            "accounts_per_tenant": {m: day.world.account_count(m, day.tenants[0]) for m in APPS},
            "quotas": SCALED,
            "quotas_text": ", ".join(
                f"{m} {q.get('per_second') or q.get('per_minute') / 60:g} calls/s" for m, q in SCALED.items()
            ),
            "calibration": calibration,
            "validation": validation,
            "predicted": predicted,
            "error": round(error, 4),
            "within_20_percent": abs(error) <= 0.20,
            "mismatches": mismatches,
            "per_partition": per_partition,
        },
        "notes": notes,
    }
    click.echo(json.dumps({k: result["validation"][k] for k in ("error", "within_20_percent")}))
    click.echo(f"predicted {predicted['wall_s']} s, measured {validation['wall_s']} s")
    click.echo(f"production day: {seed['plan']['wall_s']} s")
    if not no_write:
        RESULTS_JSON.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
        write_section(START_MARK, END_MARK, render(result), path=CAPACITY_MD)
        click.echo(f"wrote {RESULTS_JSON} and the generated section of {CAPACITY_MD}")


if __name__ == "__main__":
    main()
