"""The partition benchmark (`make bench-partition`): one seed-sized (day, tenant) partition, all media.

What a production run costs us per account: a full `seed`-profile tenant (gdt ~7k, jrtt ~26k,
wx ~0.4k accounts) materialized for all 24 assets, against the simulator at latency 0, so the
number is the platform's own CPU rather than waiting on the media:

1. write a simulator config (profile `seed`, latency 0, no faults, quotas far above anything a
   run can ask for, bench-only apps so no other run's governor state is shared) and start
   `ark-sim serve` with it as its own process on a free loopback port;
2. `ark-sim seed` the bench tenant for the date into dedicated MySQL databases
   (ARK_MYSQL_LOG_DB / ARK_MYSQL_ETON_DB) and Redis db 2; `ark-sim truth` for what must land;
3. run `python -m bench.partition_run` (a `dagster.materialize` of every asset for the partition,
   ephemeral instance, HBase tables and Kafka topics under a prefix of this run only) as a child
   of `bench.spawn` (see there for why), and take from `wait4`: wall time, user + sys CPU, peak
   RSS. The simulator's CPU (psutil, before and after) and the machine's are noted beside it;
4. compare accounts per media and rows per table (the run's `rows_written` and a count of what
   HBase holds) with the truth, sum throttles and failures;
5. clean up: HBase tables, Kafka topics, MySQL databases, the tenant's and the bench apps' Redis
   keys, the simulator. Then write `bench/results/partition.json` and our section of RESULTS.md.

A benchmark, not a test: a missed goal or a mismatch is reported, never hidden, never an exit code
(a run that fails outright is still written up, with its failures).
"""

from __future__ import annotations

import fcntl
import json
import os
import platform
import pstats
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import click
import psutil

from ark_sim.process import SimulatorProcess
from ark_stack import task_speed
from bench.dormant import NO_SPEND_RATE, dormant_knobs
from bench.fetch_bench import _redis, _toml
from bench.results_md import RESULTS_MD, cpu_model, write_section

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
RESULTS_JSON = BENCH / "results" / "partition.json"
# Our section of RESULTS.md lives between these markers; the rest of the file is not ours.
START_MARK = "<!-- partition-bench:start -->"
END_MARK = "<!-- partition-bench:end -->"

TENANT = "TBENCHP"
# inside the partitions (from ARK_PARTITIONS_START, 2026-11-01 by default); the simulator's today is
# pinned to the day after
DAY = "2026-11-11"
LOG_DB, ETON_DB = "ark_bench_nyfz", "ark_bench_eton"
# Bench-only apps: the governor keys `ark:governor:{media}:{app}:*` are ours alone (the fetch bench
# uses 1119001 / 1709001, the demo and tests the simulator's defaults).
APPS = {
    "gdt": (1119101, "gdt-bench-secret"),
    "jrtt": (1709101, "jrtt-bench-secret"),
    "wx": (1119102, "wx-bench-secret"),
}
# Far above anything one partition asks for (~170k calls in a few minutes), so nothing throttles.
QUOTA_PER_MINUTE = 6_000_000
QUOTA_PER_SECOND = 100_000
QUOTA_PER_DAY = 50_000_000
GOAL_CPU_MS_PER_ACCOUNT = 2.0
# Sources in flight: by default the shipped MediaApiResource default (100 since beb52e7; before
# 7328bf7 the engine's Redis pool was redis-py's default of 100 connections and 200 in flight failed
# 13 of 24 steps with MaxConnectionsError). The value used is read back from the run.
# Share of successful responses written to the MySQL request/response logs: the shipped default
# (errors and throttles are logged whatever the rate). Before 41b7032 a sampled jrtt
# `advertiser/info` batch overflowed `account_id VARCHAR(64)` and failed the step, so the bench ran at 0.
LOG_SAMPLE_RATE = 0.01
RUN_DEADLINE_S = 3600  # a run this long is stuck, not slow
ACCOUNT_LISTS = {  # the assets whose `accounts_listed` are a media's accounts
    "gdt": ("gdt/advertisers",),
    "jrtt": ("jrtt/advertisers_first_tier", "jrtt/advertisers_second_tier"),
    "wx": ("wx/advertisers",),
}
VERDICT = {True: "met", False: "MISSED", None: "NOT ASSESSABLE, the run failed"}
VERDICT_MD = {True: "met", False: "**missed**", None: "**not assessable: the run failed**"}
QUIET_WAIT_S = 1200
LOCK_FILE = Path(tempfile.gettempdir()) / "ark-bench-partition.lock"
LEFTOVERS = re.compile(r"benchp[0-9a-f]{8}_")  # this bench's table and topic prefixes, and no one else's
OTHER_BENCHES = (
    "bench.fetch_bench",
    "bench.io_bench",
    "bench.clients.",
    "bench.load_bench",
    "bench.partition_run",
    "bench.orchestration_bench",
)


# ----- set-up and clean-up


def sim_overrides(
    day: date,
    *,
    profile: str = "seed",
    apps: dict[str, tuple[int, str]] = APPS,
    knobs: dict[str, float] | None = None,
) -> dict[str, Any]:
    """The simulator config: seed sizes, latency 0, no faults, no binding quota, bench apps, and
    Tencent's async tasks at loopback speed (ark_stack/task_speed.py: the vendor's one per agency
    per 5 minutes would make the partition half an hour of waiting)."""
    media: dict[str, Any] = {}
    for name, (app_id, secret) in apps.items():
        per_second = (
            QUOTA_PER_SECOND if name == "jrtt" else 0
        )  # as shipped: jrtt per second, the others per minute
        media[name] = {
            "app": {"app_id": app_id, "secret": secret},
            "latency": {"median_ms": 0, "sigma": 0.5},
            "faults": {"http_5xx": 0.0, "timeout": 0.0, "reset": 0.0, "malformed": 0.0, "busy": 0.0},
            "quota": {
                "default": {
                    "per_second": per_second,
                    "per_minute": 0 if per_second else QUOTA_PER_MINUTE,
                    "per_day": QUOTA_PER_DAY,
                    "burst_seconds": 10.0,
                    "block_seconds": 0.0,
                }
            },
            **task_speed.SIM_TASKS.get(name, {}),
        }
    clock = {"today": (day + timedelta(days=1)).isoformat()}
    return {"profile": profile, "clock": clock, "media": media, "profiles": {profile: knobs or {}}}


def ark_sim_bin() -> str:
    found = shutil.which("ark-sim", path=str(Path(sys.executable).parent)) or shutil.which("ark-sim")
    if found is None:
        raise click.ClickException("ark-sim is not installed in this environment (pip install -e .)")
    return found


def sim_env() -> dict[str, str]:
    return {**os.environ, "ARK_MYSQL_LOG_DB": LOG_DB, "ARK_MYSQL_ETON_DB": ETON_DB}


def ark_sim(args: list[str], config: Path, tenant: str, day: date, *, profile: str = "seed") -> dict:
    """`ark-sim seed|truth` for the tenant and date; its JSON answer (last stdout line)."""
    cmd = [ark_sim_bin(), *args, "--tenant", tenant, "--date", day.isoformat(), "--profile", profile]
    cmd += ["--config", str(config)]
    done = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, env=sim_env(), check=False)
    if done.returncode != 0:
        raise click.ClickException(f"`ark-sim {args[0]}` failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def cold_start(apps: dict[str, tuple[int, str]] = APPS) -> int:
    """Delete the bench apps' governor state and quota markers: no learnt rate carries over."""
    client, deleted = _redis(), 0
    for media, (app_id, _) in apps.items():
        for pattern in (f"ark:governor:{media}:{app_id}:*", f"ark:quota_exhausted:{media}:{app_id}:*"):
            keys = list(client.scan_iter(match=pattern, count=1000))
            if keys:
                deleted += client.delete(*keys)
    return deleted


def remove_redis(tenant: str) -> int:
    """The tenant's keys (tokens, agent and account keys, token locks) and the bench apps' governor keys."""
    client = _redis()
    keys = list(client.scan_iter(match=f"*{tenant}*", count=1000))
    deleted = client.delete(*keys) if keys else 0
    return deleted + cold_start()


def migrate_log_schema(log_db: str, eton_db: str) -> None:
    """The bench's own log database at the newest schema revision, as a deploy leaves it."""
    from ark_assets.resources.mysql import MySQLResource

    MySQLResource(log_database=log_db, eton_database=eton_db).migrate()


def drop_databases(databases: tuple[str, ...] = (LOG_DB, ETON_DB)) -> None:
    import pymysql

    conn = pymysql.connect(
        host=os.environ.get("ARK_MYSQL_HOST", "127.0.0.1"),
        port=int(os.environ.get("ARK_MYSQL_PORT", "3306")),
        user=os.environ.get("ARK_MYSQL_USER", "ark"),
        password=os.environ.get("ARK_MYSQL_PASSWORD", "ark"),
    )
    try:
        with conn.cursor() as cur:
            for db in databases:
                cur.execute(f"DROP DATABASE IF EXISTS `{db}`")
    finally:
        conn.close()


def remove_hbase_tables(names: re.Pattern[str]) -> list[str]:
    """Drop the HBase tables whose names start with `names` (this run's, or leftovers of earlier runs)."""
    from ark_assets.resources.hbase import HBaseResource

    hbase = HBaseResource()  # no prefix: the names are full names
    try:
        with hbase.connection() as conn:
            ours = [t.decode() for t in conn.tables() if names.match(t.decode())]
        for name in ours:
            hbase.delete_table(name)
        return ours
    finally:
        hbase.close()


def remove_kafka_topics(names: re.Pattern[str]) -> list[str]:
    """Delete the Kafka topics whose names start with `names` (best effort: a leftover costs little)."""
    from kafka import KafkaAdminClient

    bootstrap = os.environ.get("ARK_KAFKA_BOOTSTRAP", "127.0.0.1:9092")
    admin = KafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=10_000)
    try:
        ours = [t for t in admin.list_topics() if names.match(t)]
        if ours:
            admin.delete_topics(ours, timeout_ms=10_000)
        return ours
    finally:
        admin.close()


def sweep_leftovers() -> None:
    """Tables and topics an earlier run could not drop (the stack went away, the run was killed).

    Only `benchp{8 hex}_` names, which no one but this bench makes, and only under the lock, so no
    other partition bench is using them."""
    for what, sweep in (("HBase tables", remove_hbase_tables), ("Kafka topics", remove_kafka_topics)):
        try:
            gone = sweep(LEFTOVERS)
        except Exception as exc:  # the run itself will say what is unreachable
            click.echo(f"could not look for leftover {what}: {exc}", err=True)
            continue
        if gone:
            click.echo(f"dropped {len(gone)} leftover {what} of earlier runs: {', '.join(gone[:5])} ...")


def count_tables(prefix: str, tables: list[str], day: date) -> dict[str, int | None]:
    """Rows of `day` that HBase holds per table (None: the table does not exist)."""
    from ark_assets.clients.errors import TableNotFound
    from ark_assets.resources.hbase import HBaseResource

    hbase = HBaseResource(table_prefix=prefix)
    counts: dict[str, int | None] = {}
    try:
        for table in tables:
            try:
                counts[table] = hbase.count_date(table, day)
            except TableNotFound:
                counts[table] = None
    finally:
        hbase.close()
    return counts


# ----- the measured run


def _busy_cpu_s(times: Any) -> float:
    """CPU-seconds the machine spent busy (Linux: guest time is already inside user and nice)."""
    fields = ("user", "nice", "system", "irq", "softirq", "steal")
    return sum(getattr(times, f, 0.0) for f in fields)


def measure_run(cmd: list[str], workdir: Path, sim: psutil.Process) -> dict:
    """Run `cmd` under bench.spawn; wall, user + sys CPU (wait4) and peak RSS, plus the simulator's CPU."""
    report, log = workdir / "run.rusage.json", workdir / "run.log"
    spawn = [sys.executable, "-m", "bench.spawn", str(report), "--", *cmd]
    sim_before, machine_before = sim.cpu_times(), psutil.cpu_times()
    with log.open("wb") as out:
        started = time.perf_counter()
        proc = subprocess.Popen(spawn, stdout=out, stderr=subprocess.STDOUT, cwd=ROOT, start_new_session=True)
        killer = threading.Timer(RUN_DEADLINE_S, os.killpg, (proc.pid, signal.SIGKILL))
        killer.start()
        try:
            _, status, usage = os.wait4(proc.pid, 0)  # spawn, and through it the run (its waited child)
        finally:
            killer.cancel()
        wall = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    sim_after, machine_after = sim.cpu_times(), psutil.cpu_times()
    measured = json.loads(report.read_text(encoding="utf-8")) if report.exists() else {}
    return {
        "status": measured.get("status", proc.returncode),
        "wall_s": wall,
        "cpu_s": usage.ru_utime + usage.ru_stime,
        "user_s": usage.ru_utime,
        "sys_s": usage.ru_stime,
        "peak_rss_mb": measured.get("maxrss_kb", 0) / 1024,  # KiB on Linux
        "sim_cpu_s": (sim_after.user + sim_after.system) - (sim_before.user + sim_before.system),
        "sim_rss_mb": sim.memory_info().rss / 2**20,
        "machine_busy_cpu_s": _busy_cpu_s(machine_after) - _busy_cpu_s(machine_before),
        "log": str(log),
    }


@dataclass(frozen=True)
class Variant:
    """A run other than the record's: more accounts idle (`dormant`), or a day after another (`warm`)."""

    dormant: float | None = None
    warm: bool = False

    def knobs(self) -> dict[str, float]:
        return dormant_knobs(self.dormant) if self.dormant is not None else {}

    @property
    def file(self) -> Path | None:
        if self.dormant is None and not self.warm:
            return None
        idle = f"-dormant{round(100 * self.dormant)}" if self.dormant is not None else ""
        return RESULTS_JSON.with_name(f"partition{idle}{'-warm' if self.warm else ''}.json")

    def warm_up(self, cmd: list[str], workdir: Path, sim: SimulatorProcess) -> int | None:
        """With `warm`: the partition once, unmeasured; the requests the simulator served it."""
        if not self.warm:
            return None
        click.echo("warm-up: the partition once, unmeasured (the report families' memory) ...")
        out = cmd.index("--out") + 1
        first = [*cmd[:out], str(workdir / "warm-up.json"), *cmd[out + 1 :]]
        with (workdir / "warm-up.log").open("wb") as log:
            subprocess.run(
                first, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT, check=True, timeout=RUN_DEADLINE_S
            )
        served = sum(sum(c.values()) for c in sim.counters()["requests"].values())
        sim.reset()
        return served

    def describe(self, warm_up: int | None) -> dict[str, Any]:
        return {
            "accounts_idle_share": self.dormant if self.dormant is not None else NO_SPEND_RATE,
            "knobs": self.knobs(),
            "warm": self.warm,
            "warm_up_requests": warm_up,
        }


# ----- the numbers


def _per(cpu_s: float | None, n: int | None, digits: int) -> float | None:
    """Milliseconds of CPU per unit."""
    return round(1000 * cpu_s / n, digits) if cpu_s is not None and n else None


def build_result(
    *,
    child: dict,
    measured: dict,
    expected: dict,
    stored: dict[str, int | None],
    prefix: str,
    counters: dict,
) -> dict:
    """The numbers of one run, as bench/results/partition.json holds them (and RESULTS.md shows them)."""
    assets = child.get("assets", {})
    md = {name: a.get("metadata", {}) for name, a in assets.items()}
    accounts = {
        media: sum(int(md.get(name, {}).get("accounts_listed") or 0) for name in names)
        for media, names in ACCOUNT_LISTS.items()
    }
    total = sum(accounts.values())
    written: dict[str, int] = {}
    for meta in md.values():
        table = _short(str(meta.get("table", "")), prefix)
        if table:
            written[table] = written.get(table, 0) + int(meta.get("rows_written") or 0)
    tables = sorted(set(expected["tables"]) | set(written))
    rows = {t: [written.get(t), expected["tables"].get(t)] for t in tables}
    mismatches = [
        {"table": t, "written": rows[t][0], "stored": stored.get(t), "expected": rows[t][1]}
        for t in tables
        if not (rows[t][0] == rows[t][1] == stored.get(t))
    ]
    fetches = [m for m in md.values() if "accounts_requested" in m]
    sources = sum(int(m["accounts_requested"]) for m in fetches)
    requests = sum(int(m.get("requests") or 0) for m in fetches)
    cpu = measured["cpu_s"]
    failures = {
        "accounts_failed": sum(int(m.get("accounts_failed") or 0) for m in fetches),
        "steps_failed": child.get("failures", []),
        "checks_failed": [n for n, a in assets.items() if "check" in a and not a["check"]["passed"]],
        "assets_not_materialized": [n for n in child.get("assets_planned", []) if n not in assets],
    }
    clean = measured["status"] == 0 and bool(child.get("success")) and not mismatches
    per_account = _per(cpu, total, 3)
    # A run that failed did less work per account: its CPU per account says nothing about the goal.
    goal_met = None if not clean or per_account is None else per_account <= GOAL_CPU_MS_PER_ACCOUNT
    return {
        "wall_s": round(measured["wall_s"], 2),
        "cpu_s": round(cpu, 2),
        "user_s": round(measured["user_s"], 2),
        "sys_s": round(measured["sys_s"], 2),
        "cpu_ms_per_account": per_account,
        "cpu_ms_per_source": _per(cpu, sources, 4),
        "cpu_ms_per_request": _per(cpu, requests, 4),
        "goal_cpu_ms_per_account": GOAL_CPU_MS_PER_ACCOUNT,
        "goal_met": goal_met,
        "peak_rss_mb": round(measured["peak_rss_mb"], 1),
        "accounts": accounts,
        "accounts_expected": expected["accounts"],
        "sources": sources,
        "requests": requests,
        "rows": rows,
        "rows_stored": stored,
        "mismatches": mismatches,
        "throttles": sum(int(m.get("throttles") or 0) for m in fetches),
        "retries": sum(int(m.get("retries") or 0) for m in fetches),
        "token_refreshes": sum(int(m.get("token_refreshes") or 0) for m in fetches),
        "failures": failures,
        "exit_status": measured["status"],
        "run_success": bool(child.get("success")),
        "startup": {"wall_s": child.get("startup_wall_s"), "cpu_s": child.get("startup_cpu_s")},
        "materialize": {
            "wall_s": child.get("run_wall_s"),
            "cpu_s": child.get("run_cpu_s"),
            "cpu_ms_per_account": _per(child.get("run_cpu_s"), total, 3),
        },
        "simulator": {
            "cpu_s": round(measured["sim_cpu_s"], 2),
            "rss_mb": round(measured["sim_rss_mb"], 1),
            "served": sum(sum(v.values()) for v in counters.get("requests", {}).values()),
            "throttles": sum(counters.get("throttles", {}).values()),
        },
        "machine_busy_cpu_s": round(measured["machine_busy_cpu_s"], 1),
        "assets": per_asset(child, expected, stored, prefix),
    }


def _short(table: str, prefix: str) -> str:
    """A table's name without the run's prefix (as `ark-sim truth` names it)."""
    return table[len(prefix) + 1 :] if table.startswith(f"{prefix}_") else table


def per_asset(child: dict, expected: dict, stored: dict[str, int | None], prefix: str) -> list[dict]:
    """One row per planned asset, in the order the steps started (steps that did not run last)."""
    steps = child.get("steps", {})
    planned = child.get("assets_planned", [])
    # one step per media: an asset's step is its media's
    started = {n: steps.get(n.split("/")[0], {}).get("started", float("inf")) for n in planned}
    out = []
    for name in sorted(planned, key=lambda n: (started[n], n)):
        entry = child.get("assets", {}).get(name, {})
        meta = entry.get("metadata", {})
        step = steps.get(entry.get("step") or name.split("/")[0], {})
        short = _short(str(meta.get("table", "")), prefix)
        out.append(
            {
                "asset": name,
                "accounts": meta.get("accounts_listed", meta.get("accounts", meta.get("agents"))),
                "sources": meta.get("accounts_requested"),
                "requests": meta.get("requests"),
                "table": short,
                "written": meta.get("rows_written"),
                "stored": stored.get(short),
                "expected": expected["tables"].get(short),
                "throttles": meta.get("throttles"),
                "failed": meta.get("accounts_failed"),
                "fetch_s": meta.get("seconds"),
                "write_s": meta.get("write_seconds"),
                "step_s": step.get("wall_s"),
                "step_cpu_s": step.get("cpu_s"),
                "status": step.get("status", "not run"),
            }
        )
    return out


# ----- RESULTS.md


def _n(value: Any, fmt: str = ",") -> str:
    return "-" if value is None or value == "" else format(value, fmt)


def render(r: dict) -> str:
    """Our RESULTS.md section, from the numbers alone (bench/results/partition.json)."""
    verdict = VERDICT_MD[r["goal_met"]]
    total = sum(r["accounts"].values())
    start, run = r["startup"], r["materialize"]
    sim, f = r["simulator"], r["failures"]
    lines = [
        START_MARK,
        "# Partition benchmark: one seed-sized partition, every media, in one process",
        "",
        "Generated by `bench/partition_bench.py` (this section only; the other sections are the fetch",
        "and IO benchmarks'). Reproduce with:",
        "",
        "```bash",
        r["command"],
        "```",
        "",
        f"Run {r['when']} on {r['machine']}, Python {r['python']}, Dagster {r['dagster']}, against the "
        "local stack (Redis, MariaDB, HBase, Kafka on loopback) and `ark-sim serve --profile seed` in a "
        f"process of its own: latency 0, no faults, quotas far above the run's needs "
        f"({QUOTA_PER_MINUTE:,}/min gdt and wx, {QUOTA_PER_SECOND:,}/s jrtt), bench-only apps with a cold "
        "rate governor (it starts at 100 calls/s per endpoint and climbs). "
        f"Partition `{r['partition_key']}`: "
        f"one `dagster.materialize` of all {len(r['assets'])} assets (one step per media, the in-process "
        f"executor, an ephemeral instance) in one process, `max_in_flight` {r['max_in_flight']}, "
        f"`log_sample_rate` {r['log_sample_rate']} (shipped: 0.01); HBase tables and "
        "Kafka topics under a prefix of this run, dropped afterwards.",
        "",
        "| measure | value |",
        "|---|---:|",
        f"| wall time of the run process (start to exit) | {r['wall_s']:.1f} s |",
        "| of which start-up (imports, definitions, instance) / `materialize` | "
        f"{_n(start['wall_s'], '.1f')} s / {_n(run['wall_s'], '.1f')} s |",
        f"| client CPU, user + sys (wait4) | {r['cpu_s']:.1f} s ({r['user_s']:.1f} + {r['sys_s']:.1f}) |",
        f"| of which start-up / `materialize` | {_n(start['cpu_s'], '.1f')} s "
        f"/ {_n(run['cpu_s'], '.1f')} s |",
        f"| accounts (all media) | {total:,} |",
        f"| **CPU per account** | **{_n(r['cpu_ms_per_account'], '.2f')} ms** (goal <= "
        f"{r['goal_cpu_ms_per_account']:g} ms: {verdict}) |",
        f"| CPU per account, `materialize` only | {_n(run['cpu_ms_per_account'], '.2f')} ms |",
        f"| sources (agents, id batches, accounts x report levels / time lines) | {r['sources']:,} |",
        f"| CPU per source | {_n(r['cpu_ms_per_source'], '.3f')} ms |",
        f"| HTTP requests to the media (pages included) | {r['requests']:,} |",
        f"| CPU per request | {_n(r['cpu_ms_per_request'], '.3f')} ms |",
        f"| peak RSS of the run process (ru_maxrss) | {r['peak_rss_mb']:.0f} MB |",
        f"| throttles / retries / token refreshes | {r['throttles']:,} / {r['retries']:,} / "
        f"{r['token_refreshes']:,} |",
        f"| failed accounts / failed steps / failed checks | {f['accounts_failed']:,} / "
        f"{len(f['steps_failed'])} / {len(f['checks_failed'])} |",
        f"| rows written (all tables) | {sum(v[0] or 0 for v in r['rows'].values()):,} |",
        f"| tables matching `ark-sim truth` (written = stored = expected) | "
        f"{len(r['rows']) - len(r['mismatches'])} of {len(r['rows'])} |",
        "",
        f"Not in the client's CPU, for scale: the simulator served {sim['served']:,} requests "
        f"({sim['throttles']:,} throttled) with {sim['cpu_s']:.1f} s of CPU ({sim['rss_mb']:.0f} MB RSS at "
        f"the end); the machine was busy for {r['machine_busy_cpu_s']:.1f} CPU-seconds of the "
        f"{r['wall_s']:.0f} s x {r['cpus']} CPUs (client + simulator + Redis, MariaDB, HBase, Kafka).",
        "",
        "Accounts per media (the advertiser assets' `accounts_listed` against `ark-sim truth`):",
        "",
        "| media | accounts | truth |",
        "|---|---:|---:|",
    ]
    for media in ACCOUNT_LISTS:
        lines.append(f"| {media} | {r['accounts'][media]:,} | {r['accounts_expected'].get(media, 0):,} |")
    lines += [
        "",
        "Per asset, in run order (steps that did not run last). accounts: agents for agent lists, "
        "accounts listed for advertiser lists, accounts fetched otherwise; fetch s: the engine's "
        "`seconds`; write s: the IO manager's; step s / step CPU s: the wall time and process CPU (a "
        "0.2 s sampler) of the asset's step, which is its media's (a media's assets run in one step, "
        "side by side, so these repeat on every asset of the media):",
        "",
        "| asset | accounts | sources | requests | rows written | stored | truth | throttles | failed "
        "| fetch s | write s | step s | step CPU s |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for a in r["assets"]:
        mark = "" if a["written"] == a["stored"] == a["expected"] else " **≠**"
        status = "" if a["status"] == "success" else f" ({a['status']})"
        lines.append(
            f"| {a['asset']}{status} | {_n(a['accounts'])} | {_n(a['sources'])} | {_n(a['requests'])} "
            f"| {_n(a['written'])}{mark} | {_n(a['stored'])} | {_n(a['expected'])} | {_n(a['throttles'])} "
            f"| {_n(a['failed'])} | {_n(a['fetch_s'], '.1f')} | {_n(a['write_s'], '.1f')} "
            f"| {_n(a['step_s'], '.1f')} | {_n(a['step_cpu_s'], '.1f')} |"
        )
    lines.append("")
    if r["goal_met"] is not None:
        lines.append("Every table holds exactly the rows `ark-sim truth` expects; no step or check failed.")
    else:
        lines += ["**The run is not clean:**", ""]
        if r["exit_status"] != 0 or not r["run_success"]:
            lines.append(f"- the run process exited {r['exit_status']}, run success {r['run_success']}")
        lines += [f"- step `{x['step']}` failed: {x['message'][:300]}" for x in f["steps_failed"]]
        lines += [f"- completeness check of `{name}` failed" for name in f["checks_failed"]]
        lines += [f"- `{name}` was not materialized" for name in f["assets_not_materialized"]]
        lines += [
            f"- `{x['table']}`: written {_n(x['written'])}, stored {_n(x['stored'])}, "
            f"truth {_n(x['expected'])}"
            for x in r["mismatches"]
        ]
    if r.get("notes"):
        lines += ["", *r["notes"]]
    notes = BENCH / "partition_notes.md"
    if notes.exists():
        lines += ["", notes.read_text(encoding="utf-8").rstrip()]
    lines.append(END_MARK)
    return "\n".join(lines) + "\n"


def profile_top(path: Path, n: int = 30) -> str:
    """The cProfile stats of a --cprofile run: top functions by own time and by cumulative time."""
    import io

    out = io.StringIO()
    stats = pstats.Stats(str(path), stream=out)
    # Own time per package; a built-in's time (socket calls, json's C encoder, epoll) goes to the
    # package that called it, so `redis` includes the sends and receives of the governor's calls.
    by_package: dict[str, float] = {}
    for (filename, _, _), (_, _, tottime, _, callers) in stats.stats.items():  # type: ignore[attr-defined]
        package = _package(filename)
        if package != "<built-in>" or not callers:
            by_package[package] = by_package.get(package, 0.0) + tottime
            continue
        for (caller_file, _, _), caller_entry in callers.items():
            owner = _package(caller_file)
            by_package[owner] = by_package.get(owner, 0.0) + caller_entry[2]
    total = sum(by_package.values()) or 1.0
    out.write("CPU (own time, built-ins charged to their callers) by package:\n")
    for package, seconds in sorted(by_package.items(), key=lambda kv: -kv[1])[:20]:
        out.write(f"  {package:<40} {seconds:8.1f} s  {seconds / total:6.1%}\n")
    stats = stats.strip_dirs()
    stats.sort_stats("tottime").print_stats(n)
    stats.sort_stats("cumulative").print_stats(n)
    return out.getvalue()


@contextmanager
def exclusive() -> Iterator[None]:
    """One partition bench at a time on this machine: runs share the tenant, databases and apps."""
    with LOCK_FILE.open("w") as lock:
        deadline = time.monotonic() + QUIET_WAIT_S
        while True:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise click.ClickException(
                        f"another partition bench holds {LOCK_FILE}; try later"
                    ) from None
                click.echo("waiting for another partition bench to finish", err=True)
                time.sleep(30)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def wait_for_quiet() -> list[str]:
    """Wait (up to QUIET_WAIT_S) while another benchmark runs: on a small machine they disturb each other.

    Returns what was still running when the wait gave up (empty when the machine is quiet)."""
    deadline = time.monotonic() + QUIET_WAIT_S
    busy = other_benches()
    while busy and time.monotonic() < deadline:
        click.echo(f"waiting for another benchmark to finish: {busy[0]}", err=True)
        time.sleep(30)
        busy = other_benches()
    if busy:
        click.echo(f"warning: another benchmark is running, the numbers will be disturbed: {busy}", err=True)
    return busy


def _package(filename: str) -> str:
    """A profiled function's package: `redis`, `aiohttp`, `asyncio`, `ark_assets/fetch`, `<built-in>` ..."""
    if filename.startswith("~") or filename.startswith("<"):
        return "<built-in>"
    parts = Path(filename).parts
    for anchor in ("site-packages", "ark_assets", "bench"):
        if anchor in parts:
            i = parts.index(anchor)
            if anchor == "site-packages":
                return parts[i + 1] if len(parts) > i + 2 else Path(parts[i + 1]).stem
            return "/".join(parts[i : i + 2]) if len(parts) > i + 2 else anchor
    in_stdlib_package = len(parts) > 1 and not parts[-2].startswith("python3")
    return parts[-2] if in_stdlib_package else Path(filename).stem


def other_benches() -> list[str]:
    """Other benchmark processes running now (not this one, nor a wrapper such as `timeout` or make)."""
    found = []
    ours = {os.getpid(), *(p.pid for p in psutil.Process().parents())}
    for proc in psutil.process_iter(["pid", "cmdline"]):
        cmdline = " ".join(proc.info.get("cmdline") or [])
        if proc.pid not in ours and any(b in cmdline for b in OTHER_BENCHES):
            found.append(f"{proc.pid}: {cmdline[:100]}")
    return found


@click.command()
@click.option("--tenant", default=TENANT, show_default=True, help="The bench tenant (its keys are removed).")
@click.option("--date", "day", default=DAY, show_default=True, help="The partition's day (GMT+8).")
@click.option(
    "--max-in-flight", type=int, help="MediaApiResource.max_in_flight (default: the resource's own default)."
)
@click.option(
    "--log-sample-rate", default=LOG_SAMPLE_RATE, show_default=True, help="MediaApiResource.log_sample_rate."
)
@click.option("--cprofile", is_flag=True, help="Profile the run (cProfile; slower) and print where CPU goes; "
              "implies --no-write.")  # fmt: skip
@click.option(
    "--render-from",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Re-render our RESULTS.md section from a partition.json instead of running.",
)
@click.option("--keep", is_flag=True, help="Keep the work directory (configs, logs, the run's JSON).")
@click.option(
    "--select",
    multiple=True,
    help="Only these assets (e.g. jrtt/funds; repeatable), to profile one; implies --no-write.",
)
@click.option(
    "--dormant",
    type=float,
    help=f"Share of accounts idle on the day (shipped: {NO_SPEND_RATE:g}; more adds a tail idle every "
    "day); the result goes to partition-dormant<N>.json, not the record.",
)
@click.option(
    "--warm",
    is_flag=True,
    help="Measure a day after another: the partition runs once unmeasured first (the report families' "
    "memory set), then measured; the result goes to partition-...-warm.json, not the record.",
)
@click.option(
    "--no-write", is_flag=True, help="Print the numbers only; leave RESULTS.md and partition.json alone."
)
def main(
    tenant: str,
    day: str,
    max_in_flight: int | None,
    log_sample_rate: float,
    cprofile: bool,
    render_from: Path | None,
    keep: bool,
    select: tuple[str, ...],
    dormant: float | None,
    warm: bool,
    no_write: bool,
) -> None:
    """Materialize a seed-sized partition of every media; write bench/results/partition.json, RESULTS.md."""
    if render_from is not None:
        write_section(START_MARK, END_MARK, render(json.loads(render_from.read_text(encoding="utf-8"))))
        click.echo(f"re-rendered the partition section of {RESULTS_MD} from {render_from}")
        return
    with exclusive():
        bench(
            tenant,
            day,
            max_in_flight,
            log_sample_rate,
            cprofile=cprofile,
            keep=keep,
            select=select,
            no_write=no_write or bool(select),
            variant=Variant(dormant, warm),
        )


def bench(
    tenant: str,
    day: str,
    max_in_flight: int | None,
    log_sample_rate: float,
    *,
    cprofile: bool,
    keep: bool,
    select: tuple[str, ...],
    no_write: bool,
    variant: Variant,
) -> None:
    """The whole benchmark (under the lock): set up, measure, count, clean up, write."""
    the_day = date.fromisoformat(day)
    args = [a for a in sys.argv[1:] if a != "--keep"]
    command = shlex.join([".venv/bin/python", "-m", "bench.partition_bench", *args])
    if not args:
        command = f"make bench-partition   # runs: {command} (after `make stack`)"
    busy = wait_for_quiet()
    sweep_leftovers()

    workdir = Path(tempfile.mkdtemp(prefix="ark-bench-partition-"))
    unique = uuid.uuid4().hex[:8]
    prefix, topic_prefix = f"benchp{unique}", f"benchp{unique}_"
    config = workdir / "sim.toml"
    config.write_text(_toml(sim_overrides(the_day, knobs=variant.knobs())), encoding="utf-8")
    when = datetime.now(UTC)
    cleanup: list[str] = []
    try:
        with SimulatorProcess(config_path=config, log_path=workdir / "sim.log") as sim:
            t0 = time.monotonic()
            seeded = ark_sim(["seed"], config, tenant, the_day)
            expected = ark_sim(["truth"], config, tenant, the_day)
            migrate_log_schema(LOG_DB, ETON_DB)
            click.echo(
                f"seeded {tenant} for {day} in {time.monotonic() - t0:.0f} s: agents {seeded['agents']}, "
                f"accounts {expected['accounts']}"
            )
            cold_start()
            sim.reset()
            out = workdir / "run.json"
            cmd = [sys.executable, "-m", "bench.partition_run", "--tenant", tenant, "--date", day]
            cmd += ["--sim-url", sim.base_url, "--table-prefix", prefix, "--topic-prefix", topic_prefix]
            cmd += ["--spool-dir", str(workdir / "kafka-spool"), "--log-db", LOG_DB, "--eton-db", ETON_DB]
            cmd += [a for m, (i, s) in APPS.items() for a in ("--app", f"{m}:{i}:{s}")]
            cmd += ["--log-sample-rate", str(log_sample_rate)]
            cmd += ["--max-in-flight", str(max_in_flight)] if max_in_flight is not None else []
            cmd += ["--out", str(out)]
            if cprofile:
                cmd += ["--cprofile", str(workdir / "run.prof")]
            cmd += [a for s in select for a in ("--select", s)]
            warm_up = variant.warm_up(cmd, workdir, sim)
            busy = busy or wait_for_quiet()  # seeding took a while: look again just before measuring
            click.echo(f"materializing {day}|{tenant}, all media, in one process ...")
            measured = measure_run(cmd, workdir, psutil.Process(sim.pid))
            counters = sim.counters()
            during = other_benches()  # started while we measured: the numbers are disturbed too
            busy = busy or during
        if not out.exists():
            tail = Path(measured["log"]).read_text(encoding="utf-8", errors="replace")[-4000:]
            raise click.ClickException(
                f"the run process exited {measured['status']} without a result:\n{tail}"
            )
        child = json.loads(out.read_text(encoding="utf-8"))
        click.echo(
            f"run: exit {measured['status']}, success {child['success']}, {measured['wall_s']:.1f} s wall, "
            f"{measured['cpu_s']:.1f} s CPU, peak {measured['peak_rss_mb']:.0f} MB; counting HBase rows ..."
        )
        prof = workdir / "run.prof"
        profile_text = profile_top(prof) if cprofile and prof.exists() else ""
        try:
            stored = count_tables(prefix, sorted(expected["tables"]), the_day)
        except Exception as exc:  # e.g. the stack went away: report the run without the stored counts
            stored = dict.fromkeys(expected["tables"])
            cleanup.append(f"counting the stored rows failed: {type(exc).__name__}: {exc}")
            click.echo(f"counting the stored rows failed: {exc}", err=True)
    finally:
        for name, step in (
            ("HBase tables", lambda: remove_hbase_tables(re.compile(re.escape(f"{prefix}_")))),
            ("Kafka topics", lambda: remove_kafka_topics(re.compile(re.escape(topic_prefix)))),
            ("MySQL databases", drop_databases),
            ("Redis keys", lambda: remove_redis(tenant)),
        ):
            try:
                step()
            except Exception as exc:  # clean up the rest; say what is left behind
                cleanup.append(f"{name}: {type(exc).__name__}: {exc}")
                click.echo(f"clean-up of {name} failed: {exc}", err=True)
        if not keep:
            shutil.rmtree(workdir, ignore_errors=True)
        else:
            click.echo(f"work directory kept: {workdir}")

    import dagster

    numbers = build_result(
        child=child, measured=measured, expected=expected, stored=stored, prefix=prefix, counters=counters
    )
    notes = []
    if busy:
        notes.append(f"**Another benchmark ran during this run** ({busy[0]}): the numbers are disturbed.")
    if numbers["simulator"]["served"] != numbers["requests"]:
        notes.append(
            f"The simulator served {numbers['simulator']['served']:,} requests, the assets' metadata counts "
            f"{numbers['requests']:,}."
        )
    if cleanup:
        notes.append("Problems after the run (counting, clean-up): " + "; ".join(cleanup))
    result = {
        "command": command,
        "when": f"{when:%Y-%m-%d %H:%M} UTC",
        "date": day,
        "tenant": tenant,
        "partition_key": child.get("partition_key"),
        "machine": f"{os.cpu_count()} CPU ({cpu_model()}), {psutil.virtual_memory().total / 2**30:.1f} GiB",
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "dagster": dagster.__version__,
        "max_in_flight": child.get("max_in_flight"),
        "log_sample_rate": child.get("log_sample_rate"),
        **variant.describe(warm_up),
        **numbers,
        "notes": notes,
    }
    r = result
    click.echo(
        f"accounts {r['accounts']} (truth {r['accounts_expected']}), sources {r['sources']:,}, requests "
        f"{r['requests']:,} (simulator served {r['simulator']['served']:,}, "
        f"throttled {r['simulator']['throttles']:,})"
    )
    click.echo(
        f"CPU per account {_n(r['cpu_ms_per_account'], '.2f')} ms (goal <= {GOAL_CPU_MS_PER_ACCOUNT:g} ms: "
        f"{VERDICT[r['goal_met']]}), per source {_n(r['cpu_ms_per_source'], '.3f')} ms; simulator "
        f"CPU {r['simulator']['cpu_s']:.1f} s"
    )
    for x in r["mismatches"]:
        click.echo(
            f"MISMATCH {x['table']}: written {x['written']}, stored {x['stored']}, truth {x['expected']}"
        )
    for x in r["failures"]["steps_failed"]:
        click.echo(f"FAILED step {x['step']}: {x['message'][:300]}")
    if cprofile:
        click.echo(profile_text)
        click.echo("(--cprofile: numbers inflated by the profiler; nothing written)")
        return
    if not no_write and variant.file is not None:  # a variant is recorded beside the record
        variant.file.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        click.echo(f"wrote {variant.file}")
    elif not no_write:
        RESULTS_JSON.parent.mkdir(exist_ok=True)
        RESULTS_JSON.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        write_section(START_MARK, END_MARK, render(result))
        click.echo(f"wrote {RESULTS_JSON} and the partition section of {RESULTS_MD}")


if __name__ == "__main__":
    main()
