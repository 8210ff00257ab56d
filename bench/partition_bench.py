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
import urllib.request
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import click
import psutil

from bench.fetch_bench import Simulator, _cpu_model, _redis, _toml

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
RESULTS_MD = BENCH / "RESULTS.md"
RESULTS_JSON = BENCH / "results" / "partition.json"
# Our section of RESULTS.md lives between these markers; the rest of the file is not ours.
START_MARK = "<!-- partition-bench:start -->"
END_MARK = "<!-- partition-bench:end -->"

TENANT = "TBENCHP"
DAY = (
    "2024-06-11"  # inside the partitions (from 2024-01-01); the simulator's today is pinned to the day after
)
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
# Sources in flight per run. The shipped default is 200, but the engine's redis.asyncio client keeps
# redis-py's default pool of 100 connections and raises MaxConnectionsError (it does not wait) when
# more governor calls run at once, which fails every step with more than ~100 sources (measured
# 2026-11-27: 13 of 24 steps). 100 is the largest setting that runs; see the notes in RESULTS.md.
MAX_IN_FLIGHT = 100
# Share of successful responses written to the MySQL request/response logs. 0, not the shipped 0.01:
# a sampled jrtt `advertiser/info` call (a batch of up to 100 ids) is logged with the ids joined into
# `account_id VARCHAR(64)`, MariaDB refuses it (DataError 1406) and the whole step fails, and with the
# observer's fixed random stream (Random(7): draws 106, 130, ...) a seed-sized tenant always hits a
# details call, at 0.01 and at 0.001 alike (measured 2026-11-27 at 0.001: jrtt/advertisers_first_tier
# failed, its 4 downstream assets did not run). Errors and throttles are logged whatever the rate.
LOG_SAMPLE_RATE = 0.0
RUN_DEADLINE_S = 3600  # a run this long is stuck, not slow
ACCOUNT_LISTS = {  # the assets whose `accounts_listed` are a media's accounts
    "gdt": ("gdt/advertisers",),
    "jrtt": ("jrtt/advertisers_first_tier", "jrtt/advertisers_second_tier"),
    "wx": ("wx/advertisers",),
}
VERDICT = {True: "met", False: "MISSED", None: "NOT ASSESSABLE, the run failed"}
VERDICT_MD = {True: "met", False: "**missed**", None: "**not assessable: the run failed**"}
QUIET_WAIT_S = 1200
OTHER_BENCHES = ("bench.fetch_bench", "bench.io_bench", "bench.clients.")


# ----- set-up and clean-up


def sim_overrides(day: date) -> dict[str, Any]:
    """The simulator config: seed sizes, latency 0, no faults, no binding quota, bench apps."""
    media: dict[str, Any] = {}
    for name, (app_id, secret) in APPS.items():
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
        }
    return {"profile": "seed", "clock": {"today": (day + timedelta(days=1)).isoformat()}, "media": media}


def ark_sim_bin() -> str:
    found = shutil.which("ark-sim", path=str(Path(sys.executable).parent)) or shutil.which("ark-sim")
    if found is None:
        raise click.ClickException("ark-sim is not installed in this environment (pip install -e .)")
    return found


def sim_env() -> dict[str, str]:
    return {**os.environ, "ARK_MYSQL_LOG_DB": LOG_DB, "ARK_MYSQL_ETON_DB": ETON_DB}


def ark_sim(args: list[str], config: Path, tenant: str, day: date) -> dict:
    """`ark-sim seed|truth` for the tenant and date; its JSON answer (last stdout line)."""
    cmd = [ark_sim_bin(), *args, "--tenant", tenant, "--date", day.isoformat(), "--profile", "seed"]
    cmd += ["--config", str(config)]
    done = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, env=sim_env(), check=False)
    if done.returncode != 0:
        raise click.ClickException(f"`ark-sim {args[0]}` failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def sim_pid(port: int) -> psutil.Process:
    """The `ark-sim serve` child listening on `port` (for its CPU times)."""
    for child in psutil.Process().children():
        try:
            cmdline = child.cmdline()
        except psutil.Error:
            continue
        if "serve" in cmdline and str(port) in cmdline:
            return child
    raise click.ClickException(f"cannot find the ark-sim serve process of port {port}")


def cold_start() -> int:
    """Delete the bench apps' governor state and quota markers: no learnt rate carries over."""
    client, deleted = _redis(), 0
    for media, (app_id, _) in APPS.items():
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


def drop_databases() -> None:
    import pymysql

    conn = pymysql.connect(
        host=os.environ.get("ARK_MYSQL_HOST", "127.0.0.1"),
        port=int(os.environ.get("ARK_MYSQL_PORT", "3306")),
        user=os.environ.get("ARK_MYSQL_USER", "ark"),
        password=os.environ.get("ARK_MYSQL_PASSWORD", "ark"),
    )
    try:
        with conn.cursor() as cur:
            for db in (LOG_DB, ETON_DB):
                cur.execute(f"DROP DATABASE IF EXISTS `{db}`")
    finally:
        conn.close()


def remove_hbase_tables(prefix: str) -> list[str]:
    """Every HBase table of this run (named `{prefix}_...`)."""
    from ark_assets.resources.hbase import HBaseResource

    hbase = HBaseResource(table_prefix=prefix)
    try:
        with hbase.connection() as conn:
            ours = [t.decode() for t in conn.tables() if t.decode().startswith(f"{prefix}_")]
        for name in ours:
            hbase.delete_table(name[len(prefix) + 1 :])
        return ours
    finally:
        hbase.close()


def remove_kafka_topics(prefix: str) -> list[str]:
    """The run's `{prefix}{media}_api_log` topics (best effort: a leftover topic costs nothing)."""
    from kafka import KafkaAdminClient

    bootstrap = os.environ.get("ARK_KAFKA_BOOTSTRAP", "127.0.0.1:9092")
    admin = KafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=10_000)
    try:
        ours = [t for t in admin.list_topics() if t.startswith(prefix)]
        if ours:
            admin.delete_topics(ours, timeout_ms=10_000)
        return ours
    finally:
        admin.close()


def count_tables(prefix: str, tables: list[str], day: date) -> dict[str, int | None]:
    """Rows of `day` that HBase holds per table (None: the table does not exist)."""
    from ark_assets.resources.errors import TableNotFound
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


def post(url: str) -> None:
    request = urllib.request.Request(url, data=b"{}", method="POST")
    with urllib.request.urlopen(request, timeout=5) as response:
        response.read()


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


# ----- the numbers


def summarize(
    child: dict, measured: dict, expected: dict, stored: dict[str, int | None], prefix: str
) -> dict:
    assets = child.get("assets", {})
    md = {name: a.get("metadata", {}) for name, a in assets.items()}
    accounts = {
        media: sum(int(md.get(name, {}).get("accounts_listed") or 0) for name in names)
        for media, names in ACCOUNT_LISTS.items()
    }
    total_accounts = sum(accounts.values())
    written: dict[str, int] = {}
    for meta in md.values():
        table = str(meta.get("table", ""))
        if table.startswith(f"{prefix}_"):
            table = table[len(prefix) + 1 :]
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
    checks_failed = [n for n, a in assets.items() if "check" in a and not a["check"]["passed"]]
    missing = [n for n in child.get("assets_planned", []) if n not in assets]
    return {
        "accounts": accounts,
        "accounts_expected": expected["accounts"],
        "accounts_total": total_accounts,
        "sources": sources,
        "requests": requests,
        "rows": rows,
        "rows_stored": stored,
        "mismatches": mismatches,
        "throttles": sum(int(m.get("throttles") or 0) for m in fetches),
        "retries": sum(int(m.get("retries") or 0) for m in fetches),
        "token_refreshes": sum(int(m.get("token_refreshes") or 0) for m in fetches),
        "failures": {
            "accounts_failed": sum(int(m.get("accounts_failed") or 0) for m in fetches),
            "steps_failed": child.get("failures", []),
            "checks_failed": checks_failed,
            "assets_not_materialized": missing,
        },
        "cpu_ms_per_account": 1000 * cpu / total_accounts if total_accounts else None,
        "cpu_ms_per_source": 1000 * cpu / sources if sources else None,
        "cpu_ms_per_request": 1000 * cpu / requests if requests else None,
        "run_cpu_ms_per_account": 1000 * child["run_cpu_s"] / total_accounts if total_accounts else None,
    }


def per_asset(child: dict, expected: dict, stored: dict[str, int | None], prefix: str) -> list[dict]:
    out = []
    steps = child.get("steps", {})
    started = {
        name: steps.get(name.replace("/", "__"), {}).get("started", float("inf"))
        for name in child.get("assets_planned", [])
    }
    for name in sorted(child.get("assets_planned", []), key=lambda n: (started[n], n)):
        entry = child.get("assets", {}).get(name, {})
        meta = entry.get("metadata", {})
        step = child.get("steps", {}).get(entry.get("step") or name.replace("/", "__"), {})
        table = str(meta.get("table", ""))
        short = table[len(prefix) + 1 :] if table.startswith(f"{prefix}_") else table
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


def render(result: dict) -> str:
    s, m, child = result["summary"], result["measured"], result["child"]
    planned = child.get("assets_planned", [])
    goal_met = result["goal_met"]
    verdict = VERDICT_MD[goal_met]
    ok = goal_met is not None
    lines = [
        START_MARK,
        "# Partition benchmark: one seed-sized partition, every media, in one process",
        "",
        "Generated by `bench/partition_bench.py` (this section only; the other sections are the fetch",
        "and IO benchmarks'). Reproduce with:",
        "",
        "```bash",
        result["command"],
        "```",
        "",
        f"Run {result['when']} on {result['cpus']} CPU ({result['cpu']}), Python {result['python']}, "
        f"Dagster {result['dagster']}, against the local stack (Redis, MariaDB, HBase, Kafka on loopback) "
        f"and `ark-sim serve --profile seed` in a process of its own: latency 0, no faults, quotas far "
        f"above the run's needs ({QUOTA_PER_MINUTE:,}/min gdt and wx, {QUOTA_PER_SECOND:,}/s jrtt), "
        f"bench-only apps with a cold rate governor (starts at 100 calls/s per endpoint and climbs). "
        f"Partition `{result['partition_key']}`: `dagster.materialize` of all {len(planned)} "
        f"assets (in-process executor, ephemeral instance), `max_in_flight` {result['max_in_flight']}, "
        f"`log_sample_rate` {result['log_sample_rate']}; HBase tables and Kafka topics under a prefix of "
        "this run, dropped afterwards.",
        "",
        "| measure | value |",
        "|---|---:|",
        f"| wall time of the run process (start-up to exit) | {m['wall_s']:.1f} s |",
        f"| of which start-up (imports, definitions, instance) | {child.get('startup_wall_s', 0):.1f} s |",
        f"| of which `materialize` | {child.get('run_wall_s', 0):.1f} s |",
        f"| client CPU, user + sys (wait4) | {m['cpu_s']:.1f} s ({m['user_s']:.1f} + {m['sys_s']:.1f}) |",
        f"| of which start-up / `materialize` | {child.get('startup_cpu_s', 0):.1f} s / "
        f"{child.get('run_cpu_s', 0):.1f} s |",
        f"| accounts (all media) | {s['accounts_total']:,} |",
        f"| **CPU per account** | **{_n(s['cpu_ms_per_account'], '.2f')} ms** (goal <= "
        f"{GOAL_CPU_MS_PER_ACCOUNT:g} ms: {verdict}) |",
        f"| CPU per account, `materialize` only | {_n(s['run_cpu_ms_per_account'], '.2f')} ms |",
        f"| sources (fetch units: agents, id batches, accounts x levels / time lines) | {s['sources']:,} |",
        f"| CPU per source | {_n(s['cpu_ms_per_source'], '.3f')} ms |",
        f"| HTTP requests (pages included) | {s['requests']:,} |",
        f"| CPU per request | {_n(s['cpu_ms_per_request'], '.3f')} ms |",
        f"| peak RSS of the run process (ru_maxrss) | {m['peak_rss_mb']:.0f} MB |",
        f"| throttles / retries / token refreshes | {s['throttles']:,} / {s['retries']:,} / "
        f"{s['token_refreshes']:,} |",
        f"| failed accounts / failed steps / failed checks | {s['failures']['accounts_failed']:,} / "
        f"{len(s['failures']['steps_failed'])} / {len(s['failures']['checks_failed'])} |",
        f"| rows written (all tables) | {sum(v[0] or 0 for v in s['rows'].values()):,} |",
        f"| tables matching `ark-sim truth` (written = stored = expected) | "
        f"{len(s['rows']) - len(s['mismatches'])} of {len(s['rows'])} |",
        "",
        "Not counted in the client's CPU, for scale: the simulator used "
        f"{m['sim_cpu_s']:.1f} s of CPU over the run ({m['sim_rss_mb']:.0f} MB RSS at the end); the whole "
        f"machine was busy for {m['machine_busy_cpu_s']:.1f} CPU-seconds of the {m['wall_s']:.0f} s x "
        f"{result['cpus']} available (client + simulator + Redis, MariaDB, HBase, Kafka).",
        "",
        "Accounts per media (the advertiser assets' `accounts_listed` against `ark-sim truth`):",
        "",
        "| media | accounts | truth |",
        "|---|---:|---:|",
    ]
    for media in ACCOUNT_LISTS:
        lines.append(f"| {media} | {s['accounts'][media]:,} | {s['accounts_expected'].get(media, 0):,} |")
    lines += [
        "",
        "Per asset, in run order (steps that did not run last; accounts: agents for agent lists, "
        "accounts listed for advertiser lists, accounts fetched otherwise; fetch s = the engine's "
        "`seconds`, write s = the IO manager's; "
        "step s = the step's wall time from its events; step CPU s = process CPU over the step, from a "
        "0.2 s sampler):",
        "",
        "| asset | accounts | sources | requests | rows written | stored | truth | throttles | failed "
        "| fetch s | write s | step s | step CPU s |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for a in result["assets"]:
        mark = "" if a["written"] == a["stored"] == a["expected"] else " **≠**"
        lines.append(
            f"| {a['asset']}{'' if a['status'] == 'success' else ' (' + a['status'] + ')'} "
            f"| {_n(a['accounts'])} | {_n(a['sources'])} | {_n(a['requests'])} | {_n(a['written'])}{mark} "
            f"| {_n(a['stored'])} | {_n(a['expected'])} | {_n(a['throttles'])} | {_n(a['failed'])} "
            f"| {_n(a['fetch_s'], '.1f')} | {_n(a['write_s'], '.1f')} | {_n(a['step_s'], '.1f')} "
            f"| {_n(a['step_cpu_s'], '.1f')} |"
        )
    lines.append("")
    if ok:
        lines.append("Every table holds exactly the rows `ark-sim truth` expects; no step or check failed.")
    else:
        lines.append("**The run is not clean:**")
        lines.append("")
        if result["status"] != 0 or not child.get("success"):
            lines.append(f"- the run process exited {result['status']}, run success {child.get('success')}")
        for f in s["failures"]["steps_failed"]:
            lines.append(f"- step `{f['step']}` failed: {f['message'][:300]}")
        for name in s["failures"]["checks_failed"]:
            lines.append(f"- completeness check of `{name}` failed")
        for name in s["failures"]["assets_not_materialized"]:
            lines.append(f"- `{name}` was not materialized")
        for x in s["mismatches"]:
            lines.append(
                f"- `{x['table']}`: written {_n(x['written'])}, stored {_n(x['stored'])}, "
                f"truth {_n(x['expected'])}"
            )
    notes = result.get("notes") or []
    if notes:
        lines += ["", *notes]
    lines.append(END_MARK)
    return "\n".join(lines) + "\n"


def write_section(section: str) -> None:
    """Replace our section of RESULTS.md (or append it), leaving everything else as it is."""
    text = RESULTS_MD.read_text(encoding="utf-8") if RESULTS_MD.exists() else ""
    pattern = re.compile(re.escape(START_MARK) + r".*?" + re.escape(END_MARK) + r"\n?", re.S)
    if pattern.search(text):
        text = pattern.sub(lambda _: section, text, count=1)
    else:
        text = (text.rstrip("\n") + "\n\n" if text.strip() else "") + section
    RESULTS_MD.write_text(text, encoding="utf-8")


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
    found = []
    for proc in psutil.process_iter(["pid", "cmdline"]):
        cmdline = " ".join(proc.info.get("cmdline") or [])
        if proc.pid != os.getpid() and any(b in cmdline for b in OTHER_BENCHES):
            found.append(f"{proc.pid}: {cmdline[:100]}")
    return found


@click.command()
@click.option("--tenant", default=TENANT, show_default=True, help="The bench tenant (its keys are removed).")
@click.option("--date", "day", default=DAY, show_default=True, help="The partition's day (GMT+8).")
@click.option(
    "--max-in-flight", default=MAX_IN_FLIGHT, show_default=True, help="MediaApiResource.max_in_flight."
)
@click.option(
    "--log-sample-rate", default=LOG_SAMPLE_RATE, show_default=True, help="MediaApiResource.log_sample_rate."
)
@click.option("--cprofile", is_flag=True, help="Profile the run (cProfile; slower) and print where CPU goes; "
              "implies --no-write.")  # fmt: skip
@click.option("--keep", is_flag=True, help="Keep the work directory (configs, logs, the run's JSON).")
@click.option(
    "--no-write", is_flag=True, help="Print the numbers only; leave RESULTS.md and partition.json alone."
)
def main(
    tenant: str,
    day: str,
    max_in_flight: int,
    log_sample_rate: float,
    cprofile: bool,
    keep: bool,
    no_write: bool,
) -> None:
    """Materialize a seed-sized partition of every media; write bench/results/partition.json, RESULTS.md."""
    the_day = date.fromisoformat(day)
    args = [a for a in sys.argv[1:] if a != "--keep"]
    command = shlex.join([".venv/bin/python", "-m", "bench.partition_bench", *args])
    if not args:
        command = f"make bench-partition   # runs: {command} (after `make stack`)"
    busy = wait_for_quiet()

    workdir = Path(tempfile.mkdtemp(prefix="ark-bench-partition-"))
    unique = uuid.uuid4().hex[:8]
    prefix, topic_prefix = f"benchp{unique}", f"benchp{unique}_"
    config = workdir / "sim.toml"
    config.write_text(_toml(sim_overrides(the_day)), encoding="utf-8")
    when = datetime.now(UTC)
    cleanup: list[str] = []
    try:
        with Simulator(ark_sim_bin(), config, workdir / "sim.log") as sim:
            t0 = time.monotonic()
            seeded = ark_sim(["seed"], config, tenant, the_day)
            expected = ark_sim(["truth"], config, tenant, the_day)
            click.echo(
                f"seeded {tenant} for {day} in {time.monotonic() - t0:.0f} s: agents {seeded['agents']}, "
                f"accounts {expected['accounts']}"
            )
            cold_start()
            post(f"{sim.base}/admin/reset")
            out = workdir / "run.json"
            cmd = [sys.executable, "-m", "bench.partition_run", "--tenant", tenant, "--date", day]
            cmd += ["--sim-url", sim.base, "--table-prefix", prefix, "--topic-prefix", topic_prefix]
            cmd += ["--spool-dir", str(workdir / "kafka-spool"), "--log-db", LOG_DB, "--eton-db", ETON_DB]
            cmd += [a for m, (i, s) in APPS.items() for a in ("--app", f"{m}:{i}:{s}")]
            cmd += ["--max-in-flight", str(max_in_flight), "--log-sample-rate", str(log_sample_rate)]
            cmd += ["--out", str(out)]
            if cprofile:
                cmd += ["--cprofile", str(workdir / "run.prof")]
            busy = busy or wait_for_quiet()  # seeding took a while: look again just before measuring
            click.echo(f"materializing {day}|{tenant}, all media, in one process ...")
            measured = measure_run(cmd, workdir, sim_pid(sim.port))
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
            ("HBase tables", lambda: remove_hbase_tables(prefix)),
            ("Kafka topics", lambda: remove_kafka_topics(topic_prefix)),
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

    summary = summarize(child, measured, expected, stored, prefix)
    served = sum(sum(v.values()) for v in counters.get("requests", {}).values())
    sim_throttles = sum(counters.get("throttles", {}).values())
    import dagster

    clean = measured["status"] == 0 and child.get("success") and not summary["mismatches"]
    # A run that failed did less work per account: its CPU per account says nothing about the goal.
    per_account = summary["cpu_ms_per_account"]
    goal_met = None if not clean or per_account is None else per_account <= GOAL_CPU_MS_PER_ACCOUNT
    result = {
        "command": command,
        "when": f"{when:%Y-%m-%d %H:%M} UTC",
        "date": day,
        "tenant": tenant,
        "partition_key": child.get("partition_key"),
        "machine": f"{os.cpu_count()} CPU ({_cpu_model()}), {psutil.virtual_memory().total / 2**30:.1f} GiB, "
        f"{platform.system()} {platform.release()}",
        "cpus": os.cpu_count(),
        "cpu": _cpu_model(),
        "python": platform.python_version(),
        "dagster": dagster.__version__,
        "max_in_flight": max_in_flight,
        "log_sample_rate": log_sample_rate,
        "status": measured["status"],
        "measured": measured,
        "child": child,
        "summary": summary,
        "assets": per_asset(child, expected, stored, prefix),
        "goal_met": goal_met,
        "simulator": {"served": served, "throttles": sim_throttles},
    }
    notes = []
    if busy:
        notes.append(
            f"Another benchmark was running during this run ({len(busy)} process(es)): numbers disturbed."
        )
    if served != summary["requests"]:
        notes.append(
            f"The simulator served {served:,} requests, the assets' metadata counts {summary['requests']:,} "
            "(token refreshes and advertiser-list calls may be counted on one side only)."
        )
    if cleanup:
        notes.append("Problems after the run (counting, clean-up): " + "; ".join(cleanup))
    result["notes"] = notes
    s = summary
    click.echo(
        f"accounts {s['accounts']} (truth {s['accounts_expected']}), sources {s['sources']:,}, "
        f"requests {s['requests']:,} (simulator served {served:,}, throttled {sim_throttles:,})"
    )
    click.echo(
        f"CPU per account {_n(s['cpu_ms_per_account'], '.2f')} ms (goal <= {GOAL_CPU_MS_PER_ACCOUNT:g} ms: "
        f"{VERDICT[goal_met]}), per source {_n(s['cpu_ms_per_source'], '.3f')} ms; simulator "
        f"CPU {measured['sim_cpu_s']:.1f} s"
    )
    for x in s["mismatches"]:
        click.echo(
            f"MISMATCH {x['table']}: written {x['written']}, stored {x['stored']}, truth {x['expected']}"
        )
    for f in s["failures"]["steps_failed"]:
        click.echo(f"FAILED step {f['step']}: {f['message'][:300]}")
    if cprofile:
        click.echo(profile_text)
        click.echo("(--cprofile: numbers inflated by the profiler; nothing written)")
        return
    if not no_write:
        public = {
            "command": command,
            "date": day,
            "tenant": tenant,
            "machine": result["machine"],
            "wall_s": round(measured["wall_s"], 2),
            "cpu_s": round(measured["cpu_s"], 2),
            "cpu_ms_per_account": _round(s["cpu_ms_per_account"], 3),
            "cpu_ms_per_source": _round(s["cpu_ms_per_source"], 4),
            "goal_cpu_ms_per_account": GOAL_CPU_MS_PER_ACCOUNT,
            "goal_met": goal_met,
            "peak_rss_mb": round(measured["peak_rss_mb"], 1),
            "accounts": s["accounts"],
            "sources": s["sources"],
            "requests": s["requests"],
            "rows": s["rows"],
            "rows_stored": s["rows_stored"],
            "throttles": s["throttles"],
            "failures": s["failures"],
            "run_success": child.get("success"),
            "startup": {"wall_s": child.get("startup_wall_s"), "cpu_s": child.get("startup_cpu_s")},
            "materialize": {"wall_s": child.get("run_wall_s"), "cpu_s": child.get("run_cpu_s")},
            "simulator": {"cpu_s": round(measured["sim_cpu_s"], 2), **result["simulator"]},
            "machine_busy_cpu_s": round(measured["machine_busy_cpu_s"], 1),
            "assets": result["assets"],
        }
        RESULTS_JSON.parent.mkdir(exist_ok=True)
        RESULTS_JSON.write_text(json.dumps(public, indent=2) + "\n", encoding="utf-8")
        write_section(render(result))
        click.echo(f"wrote {RESULTS_JSON} and the partition section of {RESULTS_MD}")


def _round(value: float | None, digits: int) -> float | None:
    return None if value is None else round(value, digits)


if __name__ == "__main__":
    main()
