"""The load benchmark (`make bench-load`): three seed-sized tenants materialized at once, as Dagster runs.

What happens when a morning's runs overlap: three `seed`-profile tenants (each gdt ~7k, jrtt
~26k, wx ~0.4k accounts) of one date, launched together as three `dagster asset materialize`
processes (the default multiprocess executor) on one Dagster instance whose `dagster.yaml` is the
shipped `deploy/dagster.local.yaml`: pools `media_gdt` / `media_jrtt` / `media_wx` hold one step
each across all runs. The three runs share each media's app, hence its quota, which the
simulator enforces as shipped (gdt/wx 20,000 calls a minute, jrtt 500 a second per endpoint):

1. start `ark-sim serve` (profile `seed`, latency 0, shipped quotas, load-bench-only apps);
   `ark-sim seed` / `truth` the three tenants into this bench's own MySQL databases;
2. launch the three runs at once; sample the resident memory of every process of each run's
   tree (the CLI process and its step processes) every 0.5 s;
3. check afterwards: each run succeeded; every account of every tenant has exactly one outcome
   and none failed (materialization metadata and completeness checks); HBase holds per table
   exactly the rows `ark-sim truth` expects; the simulator's throttle answers were all retried
   (no source failed with a throttle, no daily quota spent); per pool, at most one step ran at a
   time (step start/end events of the three runs);
4. write `bench/results/load.json` and our section of RESULTS.md; clean everything up.
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

from ark_sim.process import SimulatorProcess
from bench.fetch_bench import _redis, _toml
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
DAY = "2024-06-12"
TENANTS = ("TBENCHL1", "TBENCHL2", "TBENCHL3")
LOG_DB, ETON_DB = "ark_benchl_nyfz", "ark_benchl_eton"
APPS = {
    "gdt": (1119201, "gdt-load-secret"),
    "jrtt": (1709201, "jrtt-load-secret"),
    "wx": (1119202, "wx-load-secret"),
}
SAMPLE_S = 0.5

RUN_DEADLINE_S = 5400


def sim_config(day: date, profile: str) -> dict[str, Any]:
    """Seed sizes, latency 0, no faults, the shipped quotas (sim.toml), this bench's apps."""
    media = {
        name: {"app": {"app_id": app_id, "secret": secret}, "latency": {"median_ms": 0}}
        for name, (app_id, secret) in APPS.items()
    }
    return {"profile": profile, "clock": {"today": (day + timedelta(days=1)).isoformat()}, "media": media}


def platform_env(sim: SimulatorProcess, prefix: str, dagster_home: Path, workdir: Path) -> dict[str, str]:
    """What the runs read: the simulator and this bench's apps, names of this bench only."""
    env = {**os.environ, "DAGSTER_HOME": str(dagster_home)}
    for media, (app_id, secret) in APPS.items():
        upper = media.upper()
        env |= {
            f"ARK_{upper}_BASE_URL": sim.url(media),
            f"ARK_{upper}_APP_ID": str(app_id),
            f"ARK_{upper}_APP_SECRET": secret,
        }
    return env | {
        "ARK_HBASE_TABLE_PREFIX": prefix,
        "ARK_KAFKA_TOPIC_PREFIX": f"{prefix}_",
        "ARK_KAFKA_SPOOL_DIR": str(workdir / "kafka-spool"),
        "ARK_MYSQL_LOG_DB": LOG_DB,
        "ARK_MYSQL_ETON_DB": ETON_DB,
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
    """Peak resident memory of each run's process tree (and of all of them together), sampled."""

    def __init__(self, procs: dict[str, subprocess.Popen]) -> None:
        self.procs = procs
        self.peak = dict.fromkeys(procs, 0.0)
        self.peak_total = 0.0
        self.peak_process = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _tree_rss(self, pid: int) -> list[float]:
        try:
            root = psutil.Process(pid)
            members = [root, *root.children(recursive=True)]
        except psutil.Error:
            return []
        sizes = []
        for proc in members:
            try:
                sizes.append(proc.memory_info().rss / 2**20)
            except psutil.Error:
                continue
        return sizes

    def _run(self) -> None:
        while not self._stop.wait(SAMPLE_S):
            total = 0.0
            for name, proc in self.procs.items():
                sizes = self._tree_rss(proc.pid)
                self.peak[name] = max(self.peak[name], sum(sizes))
                self.peak_process = max([self.peak_process, *sizes])
                total += sum(sizes)
            self.peak_total = max(self.peak_total, total)

    def __enter__(self) -> TreeMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def launch(tenant: str, day: str, env: dict[str, str], log: Path) -> subprocess.Popen:
    from ark_assets.partitions import partition_key

    dagster = str(Path(sys.executable).parent / "dagster")
    key = str(partition_key(date.fromisoformat(day), tenant))
    cmd = [
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

    from ark_assets.definitions import ASSETS

    instance = DagsterInstance.get()
    pooled = {"__".join(a.key.path) for a in ASSETS}  # the steps that declare pool="media_<media>"
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
            ):  # asset steps; check steps hold no pool
                media = event.step_key.split("__", 1)[0]
                intervals[media].append((starts.get(event.step_key, entry.timestamp), entry.timestamp))
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


def render(r: dict[str, Any]) -> str:
    lines = [
        START_MARK,
        "## Load: three seed-sized tenants at once (`make bench-load`)",
        "",
        f"Command: `{r['command']}` · {r['when']} · {r['machine']} · date {r['date']}",
        "",
        "Three `dagster asset materialize --select '*'` runs launched together on one instance with the "
        "shipped pools (one step per media at a time across runs), sharing each media's app and quota "
        "(simulator quotas as shipped: gdt/wx 20,000 calls/min, jrtt 500 calls/s per endpoint; latency 0).",
        "",
        "| tenant | run | accounts (truth) | sources ok / failed | throttles | retries "
        "| tables matching truth | peak RSS of the run's processes |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for tenant, t in r["tenants"].items():
        lines.append(
            f"| {tenant} | {t['status']} | {t['accounts_truth']:,} | {t.get('accounts_succeeded', 0):,} / "
            f"{t.get('accounts_failed', 0):,} | {t.get('throttles', 0):,} | {t.get('retries', 0):,} | "
            f"{t['tables_matching']}/{t['tables']} | {t['peak_rss_mb']:.0f} MB |"
        )
    lines += [
        "",
        f"- Wall time for all three: **{r['wall_s']:.0f} s**; the simulator answered {r['sim_total']:,} "
        f"calls, {r['sim_throttles']:,} of them throttle answers (every one retried: "
        f"{'yes' if r['all_throttles_retried'] else '**no**'}).",
        f"- Peak memory: **{r['peak_total_mb']:.0f} MB** for all runs' processes together; the largest "
        f"single process {r['peak_process_mb']:.0f} MB.",
        f"- Steps at once per pool (limit 1): {', '.join(f'{m} {n}' for m, n in r['pool_peak'].items())}.",
        "- Verdict: **"
        + ("every account accounted for, rows equal truth, no quota overrun" if r["ok"] else "FAILED")
        + "**.",
    ]
    lines += [f"- {n}" for n in r["notes"]]
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
    the_day = date.fromisoformat(day)
    command = "make bench-load   # runs: .venv/bin/python -m bench.load_bench (after `make stack`)"
    busy = wait_for_quiet()
    workdir = Path(tempfile.mkdtemp(prefix="ark-bench-load-"))
    prefix = f"benchl{uuid.uuid4().hex[:8]}"
    dagster_home = workdir / "dagster_home"
    dagster_home.mkdir()
    shutil.copy(ROOT / "deploy" / "dagster.local.yaml", dagster_home / "dagster.yaml")
    config = workdir / "sim.toml"
    config.write_text(_toml(sim_config(the_day, profile)), encoding="utf-8")
    when = datetime.now(UTC)
    notes: list[str] = (
        [f"Another benchmark ran meanwhile ({busy[0]}): timings are disturbed."] if busy else []
    )
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
            click.echo(f"launching {len(TENANTS)} runs of every asset for {day} at once ...")
            started = time.monotonic()
            procs = {t: launch(t, day, env, workdir / f"run-{t}.log") for t in TENANTS}
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
        report = run_report(dagster_home, TENANTS)
        all_tables = sorted({t for truth in truths.values() for t in truth["tables"]})
        stored = rows_per_tenant(prefix, all_tables, the_day)
        tenants: dict[str, dict[str, Any]] = {}
        for tenant in TENANTS:
            expected = truths[tenant]["tables"]
            mismatches = {
                t: [n, stored[tenant].get(t)] for t, n in expected.items() if stored[tenant].get(t) != n
            }
            tenants[tenant] = report["runs"].get(tenant, {"status": "NOT FOUND", "failed_checks": []}) | {
                "exit_code": procs[tenant].returncode,
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
    ) and all(n <= 1 for n in report["pool_peak"].values())
    result = {
        "command": command,
        "when": f"{when:%Y-%m-%d %H:%M} UTC",
        "machine": f"{os.cpu_count()} CPU ({cpu_model()}), {psutil.virtual_memory().total / 2**30:.1f} GiB",
        "date": day,
        "wall_s": round(wall, 1),
        "tenants": tenants,
        "pool_peak": report["pool_peak"],
        "sim_total": counters.get("total", 0),
        "sim_throttles": sim_throttles,
        "all_throttles_retried": every_account_ok,
        "peak_total_mb": round(memory.peak_total, 1),
        "peak_process_mb": round(memory.peak_process, 1),
        "ok": ok,
        "notes": notes,
    }
    click.echo(json.dumps({k: v for k, v in result.items() if k != "tenants"}, indent=1))
    for tenant, t in tenants.items():
        click.echo(f"{tenant}: {json.dumps(t)[:600]}")
    if not no_write and profile == "seed":
        RESULTS_JSON.parent.mkdir(exist_ok=True)
        RESULTS_JSON.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
        write_section(START_MARK, END_MARK, render(result))
        click.echo(f"wrote {RESULTS_JSON} and the load section of {RESULTS_MD}")


if __name__ == "__main__":
    main()
