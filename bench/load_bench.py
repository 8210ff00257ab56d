"""The load benchmark (`make bench-load`): three seed-sized tenants materialized at once, as Dagster runs.

What happens when a morning's runs overlap: three `seed`-profile tenants (each gdt ~7k, jrtt
~26k, wx ~0.4k accounts) of one date, launched together as three `dagster asset materialize`
processes (the shipped executor: one step per media, forked from a preloaded forkserver) on one
Dagster instance whose `dagster.yaml` is the shipped `deploy/dagster.local.yaml` (pools
`media_gdt` / `media_jrtt` / `media_wx` sized by quota, see there). The three runs share each
media's app, hence its quotas, which the simulator enforces as shipped (gdt/wx 20,000 calls a
minute, jrtt 500 a second, per endpoint):

1. start `ark-sim serve` (profile `seed`, latency 0, shipped quotas, load-bench-only apps);
   `ark-sim seed` / `truth` the three tenants into this bench's own MySQL databases;
2. launch the three runs at once, each under `bench.spawn --tree` (the CPU of its whole process
   tree); sample the resident memory of every process of each run's tree every 0.5 s;
3. check afterwards: each run succeeded; every account of every tenant has exactly one outcome
   and none failed (materialization metadata and completeness checks); HBase holds per table
   exactly the rows `ark-sim truth` expects; the simulator's throttle answers were all retried
   (no source failed with a throttle, no daily quota spent); per pool, at most its limit of
   steps ran at a time (step start/end events of the three runs);
4. state the limits the wall time is measured against (`bench/limits.py`): the quota-bound limit
   from the simulator's quotas and the calls each (app, endpoint) actually served, and the
   CPU-bound estimate (CPU seconds of the runs, the simulator and the local services / cores);
   and the share of throttle answers among all calls;
5. write `bench/results/load.json` and our section of RESULTS.md; clean everything up.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import click
import psutil
import yaml

from ark_sim.config import SimConfig
from ark_sim.process import SimulatorProcess
from ark_stack import task_speed
from bench.dagster_env import platform_env as bench_env
from bench.fetch_bench import GOAL_QUOTA_PER_USEFUL_CALL, _redis, _toml
from bench.limits import cpu_bound, endpoint_limits, quota_bound
from bench.partition_bench import (
    ark_sim_bin,
    drop_databases,
    migrate_log_schema,
    remove_hbase_tables,
    remove_kafka_topics,
    wait_for_quiet,
)
from bench.results_md import RESULTS_MD, cpu_model, write_section

ROOT = Path(__file__).resolve().parent.parent
RESULTS_JSON = ROOT / "bench" / "results" / "load.json"
START_MARK, END_MARK = "<!-- load-bench:start -->", "<!-- load-bench:end -->"
DAY = "2026-11-12"  # inside the partitions (ARK_PARTITIONS_START, 2026-11-01)
TENANTS = ("TBENCHL1", "TBENCHL2", "TBENCHL3")
LOG_DB, ETON_DB = "ark_benchl_nyfz", "ark_benchl_eton"
APPS = {
    "gdt": (1119201, "gdt-load-secret"),
    "jrtt": (1709201, "jrtt-load-secret"),
    "wx": (1119202, "wx-load-secret"),
}
SAMPLE_S = 0.5
RUN_DEADLINE_S = 5400
LOCAL_YAML = ROOT / "deploy" / "dagster.local.yaml"
# Goals (issue 11): the wall time against the bound that applies, and the throttle share.
GOAL_VS_QUOTA = 1.5
GOAL_VS_CPU = 1.2
GOAL_THROTTLE_SHARE = 0.02
# The local services are shared with whoever else uses the stack: their CPU rate over this long
# before the launch is their baseline, taken off what they used during the run.
SERVICE_BASELINE_S = 20.0


def sim_config(day: date, profile: str) -> dict[str, Any]:
    """Seed sizes, latency 0, no faults, the shipped quotas (sim.toml), this bench's apps, Tencent's
    async tasks at loopback speed (ark_stack/task_speed.py)."""
    media = {
        name: {
            "app": {"app_id": app_id, "secret": secret},
            "latency": {"median_ms": 0},
            **task_speed.SIM_TASKS.get(name, {}),
        }
        for name, (app_id, secret) in APPS.items()
    }
    return {"profile": profile, "clock": {"today": (day + timedelta(days=1)).isoformat()}, "media": media}


def platform_env(sim: SimulatorProcess, prefix: str, dagster_home: Path, workdir: Path) -> dict[str, str]:
    """What the runs read: the simulator and this bench's apps, names of this bench only, the
    async tasks' pace to match the simulator's."""
    return {
        **task_speed.TASK_ENV,
        **bench_env(
            sim,
            apps=APPS,
            prefix=prefix,
            dagster_home=dagster_home,
            workdir=workdir,
            log_db=LOG_DB,
            eton_db=ETON_DB,
        ),
    }


def ark_sim(command: str, config: Path, tenant: str, day: date, env: dict[str, str], profile: str) -> dict:
    cmd = [ark_sim_bin(), command, "--tenant", tenant, "--date", day.isoformat(), "--profile", profile]
    done = subprocess.run(
        [*cmd, "--config", str(config)], capture_output=True, text=True, env=env, check=False
    )
    if done.returncode != 0:
        raise click.ClickException(f"`ark-sim {command}` failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


class TreeMemory:
    """Peak memory of each run's process tree (and of all of them together), sampled.

    A process's share of its memory (PSS: pages shared with other processes, such as the steps
    forked from one forkserver, count once in all, split between them), so the sums are real; a
    single process's peak is its resident size (RSS)."""

    def __init__(self, procs: dict[str, subprocess.Popen]) -> None:
        self.procs = procs
        self.peak = dict.fromkeys(procs, 0.0)
        self.peak_total = 0.0
        self.peak_process = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _tree_rss(self, pid: int) -> list[tuple[float, float]]:
        try:
            root = psutil.Process(pid)
            members = [root, *root.children(recursive=True)]
        except psutil.Error:
            return []
        sizes = []
        for proc in members:
            try:
                info = proc.memory_full_info()
            except psutil.Error:
                continue
            sizes.append((getattr(info, "pss", info.rss) / 2**20, info.rss / 2**20))
        return sizes

    def _run(self) -> None:
        while not self._stop.wait(SAMPLE_S):
            total = 0.0
            for name, proc in self.procs.items():
                sizes = self._tree_rss(proc.pid)
                shares = sum(pss for pss, _ in sizes)
                self.peak[name] = max(self.peak[name], shares)
                self.peak_process = max([self.peak_process, *(rss for _, rss in sizes)])
                total += shares
            self.peak_total = max(self.peak_total, total)

    def __enter__(self) -> TreeMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def launch(tenant: str, day: str, env: dict[str, str], log: Path, report: Path) -> subprocess.Popen:
    """One tenant's run of every asset, under `bench.spawn --tree` (its process tree's CPU in `report`)."""
    from ark_assets.partitions import partition_key

    dagster = str(Path(sys.executable).parent / "dagster")
    key = str(partition_key(date.fromisoformat(day), tenant))
    cmd = [
        sys.executable,
        "-m",
        "bench.spawn",
        "--tree",
        str(report),
        "--",
        dagster,
        "asset",
        "materialize",
        "-m",
        "ark_assets.definitions",
        "--select",
        "*",
        "--partition",
        key,
    ]
    return subprocess.Popen(cmd, stdout=log.open("wb"), stderr=subprocess.STDOUT, cwd=ROOT, env=env)


def run_report(dagster_home: Path, tenants: tuple[str, ...]) -> dict[str, Any]:
    """Per tenant: the run's status, summed fetch metadata, failed checks; per pool: peak steps at once."""
    os.environ["DAGSTER_HOME"] = str(dagster_home)
    from dagster import DagsterEventType, DagsterInstance

    from ark_assets.media.registry import names

    instance = DagsterInstance.get()
    pooled = set(names())  # one step per media, each in pool media_<media>
    per_tenant: dict[str, dict[str, Any]] = {}
    intervals: dict[str, list[tuple[float, float]]] = defaultdict(list)
    for run in instance.get_runs():
        tenant = next((t for t in tenants if t in (run.tags.get("dagster/partition") or "")), None)
        if tenant is None:
            continue
        sums: dict[str, int] = defaultdict(int)
        failed_checks: list[str] = []
        starts: dict[str, float] = {}
        for entry in instance.all_logs(run.run_id):
            event = entry.dagster_event
            if event is None:
                continue
            if event.event_type_value == DagsterEventType.ASSET_MATERIALIZATION.value:
                metadata = event.step_materialization_data.materialization.metadata
                for name in (
                    "accounts_requested",
                    "accounts_succeeded",
                    "accounts_failed",
                    "throttles",
                    "retries",
                    "hedges",
                ):
                    if name in metadata:
                        sums[name] += int(metadata[name].value)
            elif event.event_type_value == DagsterEventType.ASSET_CHECK_EVALUATION.value:
                evaluation = event.event_specific_data
                if not evaluation.passed:
                    failed_checks.append(f"{evaluation.asset_key.to_user_string()}:{evaluation.check_name}")
            elif event.event_type_value == DagsterEventType.STEP_START.value:
                starts[event.step_key] = entry.timestamp
            elif (
                event.event_type_value
                in (
                    DagsterEventType.STEP_SUCCESS.value,
                    DagsterEventType.STEP_FAILURE.value,
                )
                and event.step_key in pooled
            ):
                intervals[event.step_key].append(
                    (starts.get(event.step_key, entry.timestamp), entry.timestamp)
                )
        per_tenant[tenant] = {
            "run_id": run.run_id,
            "status": run.status.value,
            **dict(sums),
            "failed_checks": failed_checks,
        }
    return {"runs": per_tenant, "pool_peak": {m: _peak_overlap(v) for m, v in sorted(intervals.items())}}


def _peak_overlap(intervals: list[tuple[float, float]]) -> int:
    """Most intervals open at one instant."""
    edges = sorted(
        [(s, 1) for s, _ in intervals] + [(e, -1) for _, e in intervals], key=lambda x: (x[0], x[1])
    )
    peak = current = 0
    for _, step in edges:
        current += step
        peak = max(peak, current)
    return peak


def rows_per_tenant(prefix: str, tables: list[str], day: date) -> dict[str, dict[str, int | None]]:
    """Rows of `day` per table and tenant (the tenants share the tables; the tenant is a key part)."""
    from ark_assets.clients.errors import TableNotFound
    from ark_assets.resources.hbase import DATA_COLUMN, HBaseResource

    hbase = HBaseResource(table_prefix=prefix)
    counts: dict[str, dict[str, int | None]] = {t: {} for t in TENANTS}
    try:
        for table in tables:
            found = dict.fromkeys(TENANTS, 0)
            try:
                for key, _ in hbase.scan_date(table, day, columns=[DATA_COLUMN]):
                    parts = key.decode().split("|")
                    for tenant in TENANTS:
                        if tenant in parts:
                            found[tenant] += 1
            except TableNotFound:
                found = dict.fromkeys(TENANTS)
            for tenant in TENANTS:
                counts[tenant][table] = found[tenant]
    finally:
        hbase.close()
    return counts


def remove_governors() -> None:
    """This bench's apps' governor state and quota markers: no learnt rate carries over."""
    client = _redis()
    for media, (app_id, _) in APPS.items():
        keys = list(client.scan_iter(match=f"ark:*:{media}:{app_id}:*", count=1000))
        if keys:
            client.delete(*keys)


def remove_redis() -> None:
    client = _redis()
    for tenant in TENANTS:
        keys = list(client.scan_iter(match=f"*{tenant}*", count=1000))
        if keys:
            client.delete(*keys)
    remove_governors()


def pool_limit(path: Path = LOCAL_YAML) -> int:
    """The shipped pools' limit (`concurrency.pools.default_limit` of the local instance)."""
    return int(yaml.safe_load(path.read_text(encoding="utf-8"))["concurrency"]["pools"]["default_limit"])


def listing_chains() -> dict[str, list[tuple[str, ...]]]:
    """Per media, the endpoints of each account list, in the order one tenant's listing calls them."""
    from ark_assets.media.registry import all_media

    return {
        m.name: [tuple(e for e in (a.endpoint, a.details_endpoint) if e) for a in m.assets.account_lists]
        for m in all_media()
    }


def service_cpu_s() -> dict[str, float]:
    """CPU seconds so far of each local service process the stack started (its pid files)."""
    from ark_stack.paths import StackPaths

    found: dict[str, float] = {}
    for pid_file in sorted(StackPaths.from_env().pids.glob("*.pid")):
        try:
            process = psutil.Process(int(json.loads(pid_file.read_text())["pid"]))
            times = process.cpu_times()
        except (OSError, ValueError, KeyError, psutil.Error):
            continue
        found[pid_file.stem] = times.user + times.system
    return found


def _busy_cpu_s() -> float:
    times = psutil.cpu_times()
    return sum(getattr(times, f, 0.0) for f in ("user", "nice", "system", "irq", "softirq", "steal"))


def limits_report(
    counters: dict, config: SimConfig, cpu: dict[str, float], wall: float, cores: int
) -> dict[str, Any]:
    """The quota-bound limit, the CPU-bound estimate, which applies, and the goals against them."""
    endpoints = endpoint_limits(counters, config, listing_chains(), tenants=len(TENANTS))
    quota_s, slowest = quota_bound(endpoints)
    attributed = cpu["runs"] + cpu["simulator"] + cpu["services"]
    cpu_s = cpu_bound(attributed, cores)
    applies = "quota" if quota_s >= cpu_s else "cpu"
    bound, factor = (quota_s, GOAL_VS_QUOTA) if applies == "quota" else (cpu_s, GOAL_VS_CPU)
    total = int(counters.get("total", 0))
    throttles = sum(counters.get("throttles", {}).values())
    share = throttles / total if total else 0.0
    return {
        "quota_bound_s": round(quota_s, 1),
        "quota_bound_endpoint": f"{slowest.media} {slowest.endpoint}" if slowest else None,
        "cpu_bound_s": round(cpu_s, 1),
        # everything the machine did (other users included), for a shared machine
        "machine_bound_s": round(cpu_bound(cpu["machine"], cores), 1),
        "cpu_s": {k: round(v, 1) for k, v in cpu.items()} | {"attributed": round(attributed, 1)},
        "bound_applies": applies,
        "bound_s": round(bound, 1),
        "wall_vs_bound": round(wall / bound, 2) if bound else None,
        "goal_wall": f"<= {factor:g}x the "
        + ("quota-bound limit" if applies == "quota" else "CPU-bound estimate"),
        "goal_wall_met": bool(bound) and wall <= factor * bound,
        "throttle_share": round(share, 4),
        "goal_throttle_met": share <= GOAL_THROTTLE_SHARE,
        "endpoints": [
            {
                "media": e.media,
                "endpoint": e.endpoint,
                "phase": e.phase,
                "calls": e.calls,
                "throttles": e.throttles,
                "rate_per_s": round(e.rate, 1),
                "capacity": round(e.capacity),
                "quota_s": round(e.quota_s, 1),
                "lead_s": round(e.lead_s, 1),
            }
            for e in sorted(endpoints, key=lambda e: -e.bound_s)
        ],
    }


def quota_per_useful_call(counters: dict, tenants: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Quota spent per useful call: the calls that took quota (the simulator's answers less its
    throttle answers) over those less the hedged copies the runs sent (each counted as if it took
    quota: an upper bound)."""
    billed = int(counters.get("total", 0)) - sum(counters.get("throttles", {}).values())
    hedges = sum(int(t.get("hedges", 0)) for t in tenants.values())
    useful = billed - hedges
    return {
        "billed_calls": billed,
        "hedges": hedges,
        "quota_per_useful_call": round(billed / useful, 4) if useful > 0 else None,
    }


def _quota_line(r: dict[str, Any]) -> str:
    per_call = r.get("quota_per_useful_call")
    if per_call is None:
        return "- Quota spent per useful call: not recorded."
    met = "met" if per_call <= GOAL_QUOTA_PER_USEFUL_CALL else "**missed**"
    return (
        f"- Quota spent per useful call: **{per_call:.4f}** ({r['billed_calls']:,} calls took quota, "
        f"{r['hedges']:,} of them hedged copies at most; goal <= {GOAL_QUOTA_PER_USEFUL_CALL}: {met})."
    )


def render(r: dict[str, Any]) -> str:
    lim = r["limits"]
    cpu = lim["cpu_s"]
    lines = [
        START_MARK,
        "## Load: three seed-sized tenants at once (`make bench-load`)",
        "",
        f"Command: `{r['command']}` · {r['when']} · {r['machine']} · date {r['date']} · load average "
        f"before the run {r['load_average_before']:.2f} (1 min)",
        "",
        "Three `dagster asset materialize --select '*'` runs launched together on one instance with the "
        f"shipped executor ({r['executor']}) and pools (`media_<media>`, {r['pool_limit']} steps each "
        "across runs), sharing each media's app and quotas (simulator quotas as shipped: gdt/wx "
        "20,000 calls/min per endpoint with a 10 s bucket, jrtt 500 calls/s per endpoint; latency 0).",
        "",
        "| tenant | run | accounts (truth) | sources ok / failed | throttles | retries "
        "| tables matching truth | CPU of the run's processes | peak memory (PSS) of the run's processes |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for tenant, t in r["tenants"].items():
        lines.append(
            f"| {tenant} | {t['status']} | {t['accounts_truth']:,} | {t.get('accounts_succeeded', 0):,} / "
            f"{t.get('accounts_failed', 0):,} | {t.get('throttles', 0):,} | {t.get('retries', 0):,} | "
            f"{t['tables_matching']}/{t['tables']} | {t.get('cpu_s', 0):.0f} s | {t['peak_rss_mb']:.0f} MB |"
        )
    met = {True: "met", False: "**missed**"}
    lines += [
        "",
        f"- **Wall time for all three: {r['wall_s']:.0f} s.**",
        f"- **Quota-bound limit: {lim['quota_bound_s']:.0f} s** (set by `{lim['quota_bound_endpoint']}`: the "
        "calls it served that took quota, less its bucket, over its refill rate, after one tenant's "
        "listing chain; every endpoint below).",
        f"- **CPU-bound estimate: {lim['cpu_bound_s']:.0f} s** = {cpu['attributed']:.0f} CPU-seconds / "
        f"{r['cores']} cores (the runs' process trees {cpu['runs']:.0f} s, the simulator "
        f"{cpu['simulator']:.0f} s, the local services {cpu['services']:.0f} s beyond their rate in the "
        f"{SERVICE_BASELINE_S:.0f} s before the run (they are shared); the whole machine was "
        f"busy {cpu['machine']:.0f} CPU-seconds, other users included: {lim['machine_bound_s']:.0f} s of "
        f"{r['cores']} cores).",
        f"- The {'quota' if lim['bound_applies'] == 'quota' else 'CPU'} bound applies: wall time = "
        f"**{lim['wall_vs_bound']:.2f}x** it (goal {lim['goal_wall']}: {met[lim['goal_wall_met']]}).",
        f"- The simulator answered {r['sim_total']:,} calls, {r['sim_throttles']:,} of them throttle "
        f"answers: **{100 * lim['throttle_share']:.2f}%** (goal <= {100 * GOAL_THROTTLE_SHARE:g}%: "
        f"{met[lim['goal_throttle_met']]}); every one retried: "
        f"{'yes' if r['all_throttles_retried'] else '**no**'}.",
        _quota_line(r),
        f"- Peak memory (PSS): **{r['peak_total_mb']:.0f} MB** for all runs' processes together; the largest "
        f"single process {r['peak_process_mb']:.0f} MB.",
        f"- Steps at once per pool (limit {r['pool_limit']}): "
        f"{', '.join(f'{m} {n}' for m, n in r['pool_peak'].items())}.",
        "- Verdict: **"
        + ("every account accounted for, rows equal truth, no quota overrun" if r["ok"] else "FAILED")
        + "**.",
    ]
    lines += [f"- {n}" for n in r["notes"]]
    lines += [
        "",
        "Per endpoint (all three tenants; slowest first): calls that took quota, throttle answers, the "
        "quota's refill rate and bucket, the time the quota needs for those calls, and the listing "
        "chain a per-account endpoint waits for first:",
        "",
        "| endpoint | phase | calls | throttles | rate /s | bucket | quota s | + lead s |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for e in lim["endpoints"]:
        lines.append(
            f"| {e['media']} {e['endpoint']} | {e['phase']} | {e['calls']:,} | {e['throttles']:,} "
            f"| {e['rate_per_s']:g} | {e['capacity']:,} | {e['quota_s']:.1f} | {e['lead_s']:.1f} |"
        )
    notes = ROOT / "bench" / "load_notes.md"
    if notes.exists():
        lines += ["", notes.read_text(encoding="utf-8").rstrip()]
    lines.append(END_MARK)
    return "\n".join(lines) + "\n"


@click.command()
@click.option("--date", "day", default=DAY, show_default=True, help="The partition's day (GMT+8).")
@click.option(
    "--profile",
    type=click.Choice(["seed", "small"]),
    default="seed",
    show_default=True,
    help="World size; `small` checks the harness in a few minutes and writes nothing.",
)
@click.option("--keep", is_flag=True, help="Keep the work directory (Dagster home, logs).")
@click.option(
    "--no-write", is_flag=True, help="Print the numbers only; leave RESULTS.md and load.json alone."
)
def main(day: str, profile: str, keep: bool, no_write: bool) -> None:
    """Three seed-sized tenants of one date, materialized at once; writes bench/results/load.json."""
    from ark_assets.execution import multiprocess_config

    the_day = date.fromisoformat(day)
    command = "make bench-load   # runs: .venv/bin/python -m bench.load_bench (after `make stack`)"
    busy = wait_for_quiet()
    workdir = Path(tempfile.mkdtemp(prefix="ark-bench-load-"))
    prefix = f"benchl{uuid.uuid4().hex[:8]}"
    dagster_home = workdir / "dagster_home"
    dagster_home.mkdir()
    shutil.copy(LOCAL_YAML, dagster_home / "dagster.yaml")
    overrides = sim_config(the_day, profile)
    config = workdir / "sim.toml"
    config.write_text(_toml(overrides), encoding="utf-8")
    when = datetime.now(UTC)
    notes: list[str] = (
        [f"Another benchmark ran meanwhile ({busy[0]}): timings are disturbed."] if busy else []
    )
    reports = {t: workdir / f"run-{t}.rusage.json" for t in TENANTS}
    try:
        with SimulatorProcess(config_path=config, log_path=workdir / "sim.log") as sim:
            env = platform_env(sim, prefix, dagster_home, workdir)
            truths = {}
            migrate_log_schema(LOG_DB, ETON_DB)
            for tenant in TENANTS:
                ark_sim("seed", config, tenant, the_day, env, profile)
                truths[tenant] = ark_sim("truth", config, tenant, the_day, env, profile)
                click.echo(f"seeded {tenant}: accounts {truths[tenant]['accounts']}")
            os.environ["DAGSTER_HOME"] = str(dagster_home)
            from dagster import DagsterInstance

            DagsterInstance.get().add_dynamic_partitions("tenants", list(TENANTS))
            remove_governors()
            sim.reset()
            baseline_start = service_cpu_s()
            time.sleep(SERVICE_BASELINE_S)
            services_before = service_cpu_s()
            baseline_rate = {
                k: (services_before[k] - baseline_start.get(k, 0.0)) / SERVICE_BASELINE_S
                for k in services_before
            }
            load_before = os.getloadavg()[0]
            sim_process = psutil.Process(sim.pid)
            sim_before = sum(sim_process.cpu_times()[:2])
            machine_before = _busy_cpu_s()
            click.echo(
                f"launching {len(TENANTS)} runs of every asset for {day} at once "
                f"(load average {load_before:.2f}) ..."
            )
            started = time.monotonic()
            procs = {t: launch(t, day, env, workdir / f"run-{t}.log", reports[t]) for t in TENANTS}
            with TreeMemory(procs) as memory:
                deadline = started + RUN_DEADLINE_S
                while any(p.poll() is None for p in procs.values()) and time.monotonic() < deadline:
                    time.sleep(2)
                for proc in procs.values():
                    if proc.poll() is None:
                        proc.kill()
                        notes.append(f"a run passed the {RUN_DEADLINE_S} s deadline and was killed")
            wall = time.monotonic() - started
            counters = sim.counters()
            sim_cpu = sum(sim_process.cpu_times()[:2]) - sim_before
            services_after = service_cpu_s()
            machine_cpu = _busy_cpu_s() - machine_before
        per_service = {
            name: {
                "cpu_s": round(services_after[name] - services_before.get(name, 0.0), 1),
                "baseline_s": round(baseline_rate.get(name, 0.0) * wall, 1),
            }
            for name in sorted(services_after)
        }
        services_cpu = sum(max(0.0, v["cpu_s"] - v["baseline_s"]) for v in per_service.values())
        report = run_report(dagster_home, TENANTS)
        all_tables = sorted({t for truth in truths.values() for t in truth["tables"]})
        stored = rows_per_tenant(prefix, all_tables, the_day)
        tenants: dict[str, dict[str, Any]] = {}
        for tenant in TENANTS:
            expected = truths[tenant]["tables"]
            mismatches = {
                t: [n, stored[tenant].get(t)] for t, n in expected.items() if stored[tenant].get(t) != n
            }
            rusage = json.loads(reports[tenant].read_text()) if reports[tenant].exists() else {}
            tenants[tenant] = report["runs"].get(tenant, {"status": "NOT FOUND", "failed_checks": []}) | {
                "exit_code": rusage.get("status", procs[tenant].returncode),
                "cpu_s": round(rusage.get("tree_cpu_s", 0.0), 1),
                "accounts_truth": sum(truths[tenant]["accounts"].values()),
                "tables": len(expected),
                "tables_matching": len(expected) - len(mismatches),
                "mismatches": mismatches,
                "peak_rss_mb": round(memory.peak[tenant], 1),
            }
    finally:
        for step in (
            lambda: remove_hbase_tables(re.compile(re.escape(f"{prefix}_"))),
            lambda: remove_kafka_topics(re.compile(re.escape(f"{prefix}_"))),
            lambda: drop_databases((LOG_DB, ETON_DB)),
            remove_redis,
        ):
            try:
                step()
            except Exception as exc:
                notes.append(f"clean-up step failed: {type(exc).__name__}: {exc}")
        if keep:
            click.echo(f"work directory kept: {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)

    limit = pool_limit()
    cores = os.cpu_count() or 1
    cpu = {
        "runs": sum(t["cpu_s"] for t in tenants.values()),
        "simulator": sim_cpu,
        "services": services_cpu,
        "machine": machine_cpu,
    }
    limits = limits_report(counters, SimConfig.load(overrides=overrides), cpu, wall, cores)
    sim_throttles = sum(counters.get("throttles", {}).values())
    every_account_ok = all(
        t.get("accounts_failed", 0) == 0 and not t["failed_checks"] for t in tenants.values()
    )
    ok = all(
        t["status"] == "SUCCESS"
        and t.get("accounts_failed", 0) == 0
        and not t["failed_checks"]
        and t["tables_matching"] == t["tables"]
        for t in tenants.values()
    ) and all(n <= limit for n in report["pool_peak"].values())
    executor = multiprocess_config({})
    result = {
        "command": command,
        "when": f"{when:%Y-%m-%d %H:%M} UTC",
        "machine": f"{cores} CPU ({cpu_model()}), {psutil.virtual_memory().total / 2**30:.1f} GiB",
        "cores": cores,
        "date": day,
        "load_average_before": round(load_before, 2),
        "executor": f"multiprocess, {next(iter(executor['start_method']))}, "
        f"max_concurrent {executor['max_concurrent']}",
        "pool_limit": limit,
        "wall_s": round(wall, 1),
        "tenants": tenants,
        "pool_peak": report["pool_peak"],
        "sim_total": counters.get("total", 0),
        "sim_throttles": sim_throttles,
        **quota_per_useful_call(counters, tenants),
        "all_throttles_retried": every_account_ok,
        "limits": limits,
        "services": per_service,
        "peak_total_mb": round(memory.peak_total, 1),
        "peak_process_mb": round(memory.peak_process, 1),
        "ok": ok,
        "notes": notes,
    }
    click.echo(json.dumps({k: v for k, v in result.items() if k not in ("tenants", "limits")}, indent=1))
    click.echo(json.dumps({k: v for k, v in limits.items() if k != "endpoints"}, indent=1))
    for e in limits["endpoints"][:8]:
        click.echo(json.dumps(e))
    for tenant, t in tenants.items():
        click.echo(f"{tenant}: {json.dumps(t)[:600]}")
    if not no_write and profile == "seed":
        RESULTS_JSON.parent.mkdir(exist_ok=True)
        RESULTS_JSON.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
        write_section(START_MARK, END_MARK, render(result))
        click.echo(f"wrote {RESULTS_JSON} and the load section of {RESULTS_MD}")


if __name__ == "__main__":
    main()
