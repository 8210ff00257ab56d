"""The orchestration benchmark (`make bench-orchestration`): what a Dagster run costs beyond the work.

For the demo partition (`small` profile) and a seed-sized one (`seed`), the same (day, tenant)
partition of every asset is materialized twice against one simulator (latency 0, no faults, quotas
far above the run's needs, bench-only apps with a cold rate governor):

1. **in process**: `python -m bench.partition_run` (`dagster.materialize`, the in-process
   executor, an ephemeral instance): the work itself, plus one interpreter's imports;
2. **a Dagster run with the shipped executor**: `dagster asset materialize -m
   ark_assets.definitions --select '*' --partition KEY` on an instance made from
   `deploy/dagster.local.yaml`, with the executor `ark_assets/execution.py` gives every job
   (`ARK_EXECUTOR` unset: multiprocess, steps forked from a preloaded forkserver).

Each runs under `bench.spawn --tree`, the subreaper of its whole process tree, so its CPU is every
process it started (the run, the forkserver, each step). Fixed orchestration CPU = Dagster run CPU
- in-process CPU. Both runs write tables of their own (two prefixes) and are checked against `ark-sim
truth`. Then `bench/results/orchestration.json` and our section of RESULTS.md. A benchmark, not a
test: a missed goal is reported, never an exit code.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import click
import psutil

from ark_sim.process import SimulatorProcess
from bench.dagster_env import platform_env
from bench.fetch_bench import _toml
from bench.partition_bench import (
    ETON_DB,
    LOG_DB,
    ark_sim,
    cold_start,
    count_tables,
    drop_databases,
    exclusive,
    migrate_log_schema,
    remove_hbase_tables,
    remove_kafka_topics,
    sim_overrides,
    wait_for_quiet,
)
from bench.results_md import RESULTS_MD, cpu_model, write_section

ROOT = Path(__file__).resolve().parent.parent
RESULTS_JSON = ROOT / "bench" / "results" / "orchestration.json"
START_MARK, END_MARK = "<!-- orchestration-bench:start -->", "<!-- orchestration-bench:end -->"
DAY = "2026-11-13"  # inside the partitions (ARK_PARTITIONS_START, 2026-11-01)
TENANTS = {"small": "TBENCHOS", "seed": "TBENCHOL"}
APPS = {
    "gdt": (1119401, "gdt-orch-secret"),
    "jrtt": (1709401, "jrtt-orch-secret"),
    "wx": (1119402, "wx-orch-secret"),
}
LOG_SAMPLE_RATE = 0.01  # MediaApiResource's shipped default, which the Dagster run uses
RUN_DEADLINE_S = 3600
GOAL_FIXED_CPU_S = 15.0  # per demo partition (issue 11; ~97 s before one step per media)
GOAL_RATIO = 1.3  # a seed-sized partition's Dagster run CPU / in-process CPU


def _spawned(cmd: list[str], env: dict[str, str], workdir: Path, name: str) -> dict[str, Any]:
    """`cmd` under `bench.spawn --tree`: exit status, wall time, CPU of its whole process tree."""
    report, log = workdir / f"{name}.rusage.json", workdir / f"{name}.log"
    spawn = [sys.executable, "-m", "bench.spawn", "--tree", str(report), "--", *cmd]
    started = time.perf_counter()
    with log.open("wb") as out:
        proc = subprocess.Popen(spawn, stdout=out, stderr=subprocess.STDOUT, cwd=ROOT, env=env)
        try:
            proc.wait(timeout=RUN_DEADLINE_S)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    wall = time.perf_counter() - started
    measured = json.loads(report.read_text(encoding="utf-8")) if report.exists() else {}
    return {
        "status": measured.get("status", proc.returncode),
        "wall_s": round(wall, 2),
        "cpu_s": round(measured.get("tree_cpu_s", 0.0), 2),
        "user_s": round(measured.get("tree_user_s", 0.0), 2),
        "sys_s": round(measured.get("tree_sys_s", 0.0), 2),
        "peak_rss_mb": round(measured.get("maxrss_kb", 0) / 1024, 1),  # the largest single process
        "log": str(log),
    }


def _env(sim: SimulatorProcess, prefix: str, home: Path, workdir: Path) -> dict[str, str]:
    return platform_env(
        sim, apps=APPS, prefix=prefix, dagster_home=home, workdir=workdir, log_db=LOG_DB, eton_db=ETON_DB
    )


def _in_process(sim: SimulatorProcess, tenant: str, prefix: str, workdir: Path) -> dict[str, Any]:
    out = workdir / "in-process.json"
    cmd = [sys.executable, "-m", "bench.partition_run", "--tenant", tenant, "--date", DAY]
    cmd += ["--sim-url", sim.base_url, "--table-prefix", prefix, "--topic-prefix", f"{prefix}_"]
    cmd += ["--spool-dir", str(workdir / "kafka-spool"), "--log-db", LOG_DB, "--eton-db", ETON_DB]
    cmd += [a for m, (i, s) in APPS.items() for a in ("--app", f"{m}:{i}:{s}")]
    cmd += ["--log-sample-rate", str(LOG_SAMPLE_RATE), "--out", str(out)]
    measured = _spawned(cmd, dict(os.environ), workdir, "in-process")
    child = json.loads(out.read_text(encoding="utf-8")) if out.exists() else {}
    measured |= {
        "success": bool(child.get("success")),
        "steps": len(child.get("steps", {})),
        "failures": child.get("failures", []),
        "startup_cpu_s": child.get("startup_cpu_s"),
    }
    return measured


def _dagster_run(env: dict[str, str], tenant: str, workdir: Path) -> dict[str, Any]:
    dagster = str(Path(sys.executable).parent / "dagster")
    key = f"{DAY}|{tenant}"
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
    measured = _spawned(cmd, env, workdir, "dagster-run")
    measured |= _run_events(Path(env["DAGSTER_HOME"]), key)
    return measured


def _run_events(home: Path, key: str) -> dict[str, Any]:
    """The run's status, steps, step processes and executor, from its instance (another process)."""
    code = f"""
import json
from dagster import DagsterEventType, DagsterInstance
instance = DagsterInstance.get()
[run] = [r for r in instance.get_runs() if r.tags.get("dagster/partition") == {key!r}]
steps, pids, engine = set(), set(), []
for entry in instance.all_logs(run.run_id):
    event = entry.dagster_event
    if event is None:
        continue
    if event.event_type == DagsterEventType.STEP_START:
        steps.add(event.step_key)
        pids.add(event.pid)
    elif event.event_type == DagsterEventType.ENGINE_EVENT and "executor" in (entry.message or ""):
        engine.append(entry.message)
failures = [e.message for e in instance.all_logs(run.run_id, of_type=DagsterEventType.STEP_FAILURE)]
print(json.dumps({{"run_status": run.status.value, "steps": len(steps), "step_processes": len(pids),
                  "executor": engine[:1], "step_failures": failures}}))
"""
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env={**os.environ, "DAGSTER_HOME": str(home)},
        check=False,
    )
    if done.returncode != 0:
        return {"run_status": "UNKNOWN", "events_error": done.stderr[-1500:]}
    return json.loads(done.stdout.strip().splitlines()[-1])


def measure(profile: str, workdir: Path) -> dict[str, Any]:
    """Both runs of one partition of `profile`; what they cost and whether they stored the truth."""
    the_day = date.fromisoformat(DAY)
    tenant = TENANTS[profile]
    unique = uuid.uuid4().hex[:8]
    prefixes = {"in_process": f"bencho{unique}a", "dagster": f"bencho{unique}b"}
    config = workdir / f"sim-{profile}.toml"
    config.write_text(_toml(sim_overrides(the_day, profile=profile, apps=APPS)), encoding="utf-8")
    home = workdir / f"dagster_home_{profile}"
    home.mkdir()
    shutil.copy(ROOT / "deploy" / "dagster.local.yaml", home / "dagster.yaml")
    result: dict[str, Any] = {"profile": profile, "tenant": tenant, "partition": f"{DAY}|{tenant}"}
    try:
        with SimulatorProcess(config_path=config, log_path=workdir / f"sim-{profile}.log") as sim:
            seeded = ark_sim(["seed"], config, tenant, the_day, profile=profile)  # into LOG_DB / ETON_DB
            expected = ark_sim(["truth"], config, tenant, the_day, profile=profile)
            migrate_log_schema(LOG_DB, ETON_DB)  # as a deploy leaves the log database
            result["accounts"] = sum(expected["accounts"].values())
            click.echo(
                f"  {profile}: seeded {tenant}, accounts {expected['accounts']}, agents {seeded['agents']}"
            )
            subprocess.run(
                [
                    sys.executable,
                    "-c",
                    "from dagster import DagsterInstance; "
                    f"DagsterInstance.get().add_dynamic_partitions('tenants', [{tenant!r}])",
                ],
                env={**os.environ, "DAGSTER_HOME": str(home)},
                check=True,
                capture_output=True,
            )
            for name, run in (
                ("in_process", lambda: _in_process(sim, tenant, prefixes["in_process"], workdir)),
                (
                    "dagster",
                    lambda: _dagster_run(_env(sim, prefixes["dagster"], home, workdir), tenant, workdir),
                ),
            ):
                cold_start(APPS)
                sim.reset()
                busy = wait_for_quiet()
                load = os.getloadavg()[0]
                click.echo(f"  {profile}: {name} run (load average {load:.2f}) ...")
                measured = run()
                stored = count_tables(prefixes[name], sorted(expected["tables"]), the_day)
                mismatches = {
                    t: [stored.get(t), n] for t, n in expected["tables"].items() if stored.get(t) != n
                }
                result[name] = measured | {
                    "load_average_1m": round(load, 2),
                    "busy": busy,
                    "tables": len(expected["tables"]),
                    "tables_matching": len(expected["tables"]) - len(mismatches),
                    "mismatches": mismatches,
                }
                click.echo(
                    f"    exit {measured['status']}, {measured['wall_s']:.1f} s wall, "
                    f"{measured['cpu_s']:.1f} s CPU, "
                    f"tables {result[name]['tables_matching']}/{len(expected['tables'])}"
                )
    finally:
        for prefix in prefixes.values():
            for step in (
                lambda p=prefix: remove_hbase_tables(re.compile(re.escape(f"{p}_"))),
                lambda p=prefix: remove_kafka_topics(re.compile(re.escape(f"{p}_"))),
            ):
                try:
                    step()
                except Exception as exc:  # clean up the rest; the report says what is left
                    result.setdefault("cleanup", []).append(f"{type(exc).__name__}: {exc}")
        _remove_redis(tenant)
    inside, run = result.get("in_process", {}), result.get("dagster", {})
    if inside.get("cpu_s") and run.get("cpu_s"):
        result["fixed_cpu_s"] = round(run["cpu_s"] - inside["cpu_s"], 2)
        result["ratio"] = round(run["cpu_s"] / inside["cpu_s"], 3)
    return result


def _remove_redis(tenant: str) -> None:
    from bench.fetch_bench import _redis

    client = _redis()
    keys = list(client.scan_iter(match=f"*{tenant}*", count=1000))
    if keys:
        client.delete(*keys)
    cold_start(APPS)


def _clean(r: dict[str, Any]) -> bool:
    return (
        all(
            r.get(name, {}).get("status") == 0 and r[name].get("tables_matching") == r[name].get("tables")
            for name in ("in_process", "dagster")
        )
        and r.get("dagster", {}).get("run_status") == "SUCCESS"
    )


def goals(results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    by = {r["profile"]: r for r in results}
    out = []
    if "small" in by and "fixed_cpu_s" in by["small"]:
        value = by["small"]["fixed_cpu_s"]
        out.append({
            "goal": f"fixed orchestration CPU per demo partition <= {GOAL_FIXED_CPU_S:g} s",
            "value": f"{value:.1f} s",
            "met": _clean(by["small"]) and value <= GOAL_FIXED_CPU_S,
        })  # fmt: skip
    if "seed" in by and "ratio" in by["seed"]:
        value = by["seed"]["ratio"]
        out.append({
            "goal": f"a seed-sized partition's Dagster run <= {GOAL_RATIO:g}x its in-process CPU",
            "value": f"{value:.2f}x",
            "met": _clean(by["seed"]) and value <= GOAL_RATIO,
        })  # fmt: skip
    return out


def render(r: dict[str, Any]) -> str:
    lines = [
        START_MARK,
        "# Orchestration benchmark: a Dagster run next to the same partition in process",
        "",
        "Generated by `bench/orchestration_bench.py` (this section only). Reproduce with:",
        "",
        "```bash",
        r["command"],
        "```",
        "",
        f"Run {r['when']} on {r['machine']}, Python {r['python']}, Dagster {r['dagster']}; the simulator "  # noqa: S608
        "at latency 0 with quotas far above the runs' needs (as the partition bench), bench-only apps "
        "with a cold governor before each run. *in process*: `bench.partition_run` (`dagster.materialize`, "
        "in-process executor). *Dagster run*: `dagster asset materialize -m ark_assets.definitions "
        f"--select '*'` with the shipped executor ({r['executor']}) on an instance from "
        "`deploy/dagster.local.yaml`. CPU = user + sys of the whole process tree (`bench.spawn --tree`, "
        "a subreaper: the run, the forkserver, every step); the local services' CPU is not in it.",
        "",
        "| partition | accounts | run | wall s | CPU s (user + sys) | steps (processes) | tables = truth "
        "| load avg (1 min) |",
        "|---|---:|---|---:|---:|---|---|---:|",
    ]
    for p in r["profiles"]:
        for name, label in (("in_process", "in process"), ("dagster", "Dagster run")):
            m = p.get(name)
            if not m:
                continue
            steps = f"{m.get('steps', '-')}" + (f" ({m['step_processes']})" if "step_processes" in m else "")
            lines.append(
                f"| {p['profile']} `{p['partition']}` | {p.get('accounts', 0):,} | {label} "
                f"| {m['wall_s']:.1f} | {m['cpu_s']:.1f} ({m['user_s']:.1f} + {m['sys_s']:.1f}) | {steps} "
                f"| {m['tables_matching']}/{m['tables']} | {m['load_average_1m']:.2f} |"
            )
    lines += ["", "| goal | met | value |", "|---|---|---|"]
    for g in r["goals"]:
        lines.append(f"| {g['goal']} | {'yes' if g['met'] else '**no**'} | {g['value']} |")
    for p in r["profiles"]:
        if "fixed_cpu_s" in p:
            lines.append("")
            lines.append(
                f"- {p['profile']}: the Dagster run cost **{p['fixed_cpu_s']:.1f} s** of CPU beyond the same "
                f"partition in process ({p['ratio']:.2f}x)."
            )
    lines += [f"- {n}" for n in r["notes"]]
    notes = ROOT / "bench" / "orchestration_notes.md"
    if notes.exists():
        lines += ["", notes.read_text(encoding="utf-8").rstrip()]
    lines.append(END_MARK)
    return "\n".join(lines) + "\n"


@click.command()
@click.option(
    "--profile",
    "profiles",
    multiple=True,
    type=click.Choice(["small", "seed"]),
    help="Partition size(s) (default: both, small first).",
)
@click.option("--keep", is_flag=True, help="Keep the work directory (logs, the instances).")
@click.option("--no-write", is_flag=True, help="Print the numbers only; leave RESULTS.md alone.")
@click.option(
    "--render-from",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Re-render our RESULTS.md section from an orchestration.json instead of running.",
)
def main(profiles: tuple[str, ...], keep: bool, no_write: bool, render_from: Path | None) -> None:
    """Materialize a demo and a seed-sized partition in process and as a Dagster run; compare CPU."""
    if render_from is not None:
        write_section(START_MARK, END_MARK, render(json.loads(render_from.read_text(encoding="utf-8"))))
        click.echo(f"re-rendered the orchestration section of {RESULTS_MD}")
        return
    import dagster

    from ark_assets.execution import multiprocess_config

    chosen = list(profiles) or ["small", "seed"]
    args = [a for a in sys.argv[1:] if a != "--keep"]
    command = "make bench-orchestration   # runs: .venv/bin/python -m bench.orchestration_bench" + (
        f" {' '.join(args)}" if args else ""
    )
    when = datetime.now(UTC)
    workdir = Path(tempfile.mkdtemp(prefix="ark-bench-orch-"))
    results: list[dict[str, Any]] = []
    notes: list[str] = []
    try:
        with exclusive():  # the partition bench's lock: both use the stack the same way
            for profile in chosen:
                results.append(measure(profile, workdir))
    finally:
        try:
            drop_databases((LOG_DB, ETON_DB))
        except Exception as exc:
            notes.append(f"dropping the bench databases failed: {exc}")
        if keep:
            click.echo(f"work directory kept: {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    for p in results:
        for name in ("in_process", "dagster"):
            m = p.get(name, {})
            if m.get("busy"):
                notes.append(f"{p['profile']} {name}: another benchmark ran meanwhile ({m['busy'][0]})")
            if m.get("mismatches"):
                notes.append(f"{p['profile']} {name}: tables not equal to the truth: {m['mismatches']}")
            if m.get("step_failures"):
                notes.append(f"{p['profile']} {name}: step failures: {m['step_failures'][:3]}")
    config = multiprocess_config({})
    method = next(iter(config["start_method"]))
    result = {
        "command": command,
        "when": f"{when:%Y-%m-%d %H:%M} UTC",
        "machine": f"{os.cpu_count()} CPU ({cpu_model()}), {psutil.virtual_memory().total / 2**30:.1f} GiB",
        "python": sys.version.split()[0],
        "dagster": dagster.__version__,
        "executor": f"multiprocess, start method {method}, max_concurrent {config['max_concurrent']}",
        "profiles": results,
        "goals": goals(results),
        "notes": notes,
    }
    click.echo(json.dumps({k: v for k, v in result.items() if k != "profiles"}, indent=1))
    for p in results:
        click.echo(json.dumps({k: v for k, v in p.items() if k not in ("in_process", "dagster")}))
    if not no_write:
        RESULTS_JSON.parent.mkdir(exist_ok=True)
        RESULTS_JSON.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
        write_section(START_MARK, END_MARK, render(result))
        click.echo(f"wrote {RESULTS_JSON} and the orchestration section of {RESULTS_MD}")


if __name__ == "__main__":
    main()
