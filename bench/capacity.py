"""The capacity plan (`make bench-capacity`): 100 tenants × ~30k accounts a day, modelled and checked.

The model (`capacity_model.py`: each tenant's steps and their calls, from the declarations;
`capacity_sim.py`: the day played through the run queue, the pools, the Celery worker processes
and the quotas) answers, for 100 `seed`-sized tenants at the shipped quotas: calls per media
endpoint per tenant, the quota-bound hours per (app, endpoint), the day's wall time for 1 to 8
workers, CPU, HBase rows and bytes, Kafka events, MySQL log rows, and how many workers finish the
day by 08:00 GMT+8.

It is checked on the production topology of `make prod-local` (`capacity_day.py`): a few tenants
of a mid-sized profile, one `all_media_daily` run each, launched at once:
1. calibration, at twice the validation's quotas: what a run and a step cost beyond their calls;
2. validation, with the simulator's quotas scaled down so calls dominate, as in production: the
   model's wall time (the declared calls at those quotas, the calibrated costs) against the
   measured one, within ±20%; and the bound the day chases (its busiest endpoint's calls at that
   endpoint's quota), with the measured wall time's ratio to it;
3. calibration again; the model takes the mean of the two calibrations.

Writes bench/results/capacity.json and the generated section of docs/CAPACITY.md.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click
import psutil
import yaml

from ark_sim.config import SimConfig, deep_merge
from ark_sim.world import World
from ark_stack.paths import StackPaths
from bench import capacity_model as model
from bench.capacity_day import APPS, DAY, SimulatedDay
from bench.capacity_report import END_MARK, START_MARK, render
from bench.capacity_sim import Overheads, Shape, quota_bound_s, simulate
from bench.dormant import NO_SPEND_RATE, dormant_knobs
from bench.limits import quota_calls
from bench.partition_bench import wait_for_quiet
from bench.results_md import cpu_model, write_section

ROOT = Path(__file__).resolve().parent.parent
RESULTS_JSON = ROOT / "bench" / "results" / "capacity.json"
CAPACITY_MD = ROOT / "docs" / "CAPACITY.md"
PRODUCTION_YAML = ROOT / "deploy" / "dagster.production.yaml"
COMMAND = "make bench-capacity   # runs: .venv/bin/python -m bench.capacity --hosts (after `make stack`)"
LOOPBACK_COMMAND = (
    ".venv/bin/python -m bench.capacity   # the loopback topology of prod-local (after `make stack`)"
)
TENANTS_PER_DAY = 100
WINDOW_S = 8 * 3600  # GMT+8: the day closes at midnight and must be in by 08:00
WORKER_COUNTS = range(1, 9)
# Validation: quotas scaled down to 100 calls/s per endpoint (a fifth to a third of the shipped
# ones; near the ceilings where the fetch benchmark measured the engine's share of a quota), with
# burst buckets as small relative to the rate as there; calls then dominate, as in production.
VALIDATION = {
    "gdt": {"per_minute": 6000, "burst_seconds": 0.25},
    "wx": {"per_minute": 6000, "burst_seconds": 0.25},
    "jrtt": {"per_second": 100},
}
# Calibration: twice those rates, so a step's costs beyond its calls are measured while its calls
# are still paced by quotas (not by the 2 cores, which would inflate every other cost).
CALIBRATION = {
    "gdt": {"per_minute": 12000, "burst_seconds": 0.25},
    "wx": {"per_minute": 12000, "burst_seconds": 0.25},
    "jrtt": {"per_second": 200},
}


BASELINE_CALLS = 168_571  # one seed-sized tenant-day before the bulk paths (this page, 2026-12-01)
# (workers, pool limit) of the day played without tasks made ahead: each Tencent step waits out
# its agencies' cooldowns holding a process and a pool slot
SENSOR_STOPPED_SHAPES = ((3, 4), (8, 4), (6, 16), (12, 16))


def shape(workers: int, pool_limit: int | None = None) -> Shape:
    """The shipped instance's limits (deploy/dagster.production.yaml) with `workers` Celery workers
    (and another pool limit per media, when given)."""
    from ark_stack.prod_local import WORKER_CONCURRENCY

    concurrency = yaml.safe_load(PRODUCTION_YAML.read_text(encoding="utf-8"))["concurrency"]
    return Shape(
        processes=workers * WORKER_CONCURRENCY,
        pool_limit=pool_limit or int(concurrency["pools"]["default_limit"]),
        max_runs=max(int(concurrency["runs"]["max_concurrent_runs"]), pool_limit or 0),
    )


def scaled(config: SimConfig, quotas: dict[str, dict[str, float]]) -> SimConfig:
    """`config` with every endpoint of each media at `quotas` (as the bench sets the simulator)."""
    default = {"per_second": 0, "per_minute": 0, "burst_seconds": 10.0}
    changes = {"media": {m: {"quota": {"default": default | q}} for m, q in quotas.items()}}
    data = config.model_dump(mode="json")
    for m in quotas:
        data["media"][m]["quota"]["endpoints"] = {}  # no endpoint keeps a quota of its own
    return SimConfig.model_validate(deep_merge(data, changes))


def merge_calibrations(before: dict[str, Any], after: dict[str, Any]) -> Overheads:
    """The mean of the calibrations run before and after the validation (so a change in the
    machine's load during the bench cancels to first order)."""
    mean = lambda a, b: round((a + b) / 2, 2)  # noqa: E731
    return Overheads(
        run_start_s=mean(before["run_start_s"], after["run_start_s"]),
        step_s={m: mean(s, after["step_s"][m]) for m, s in before["step_s"].items()},
        run_end_s=mean(before["run_end_s"], after["run_end_s"]),
    )


def cpu_step_s(day: SimulatedDay, phases: list[dict[str, Any]]) -> float:
    """CPU seconds per step beyond the per-account CPU of the fetch and write (partition bench)."""
    accounts = sum(day.world.account_count(m, t) for m in APPS for t in day.tenants)
    per_phase = [(p["cpu_s"] - accounts * model.cpu_ms_per_account() / 1000) / p["steps"] for p in phases]
    return round(max(0.0, sum(per_phase) / len(per_phase)), 3)


def predict(day: SimulatedDay, overheads: Overheads, quotas: dict[str, dict[str, float]]) -> dict[str, Any]:
    """The model's day for the simulated tenants at `quotas`, on the bench's two workers (a steady
    day: the calibration before it taught the report families' memory every account)."""
    config = scaled(day.config, quotas)
    runs = day.steps(warm=True)
    calls = model.endpoint_calls(s for steps in runs for s in steps)
    played = simulate(
        runs, model.rates(config, calls, model.efficiency()), shape(len(day.topology.workers)), overheads
    )
    floor_s, busiest = quota_bound_s(runs, {e: model.quota_rate(config, *e)[0] for e in calls})
    return {
        "wall_s": round(played.wall_s, 1),
        "chains": played.chains(),
        "quota_bound_s": round(floor_s, 1),
        "busiest_endpoint": " ".join(busiest),
        "calls": {" ".join(e): n for e, n in sorted(calls.items())},
    }


def served_calls(counters: dict[str, Any]) -> dict[str, int]:
    """Calls per `media endpoint` the simulator served that took quota (throttles excluded)."""
    throttled = counters.get("throttles", {})
    return {
        k: quota_calls(v, int(throttled.get(k, 0))) for k, v in sorted(counters.get("requests", {}).items())
    }


def seed_tenant(knobs: dict[str, float], *, warm: bool, ahead: bool = True) -> tuple[model.Tenant, World]:
    """One `seed`-sized tenant at the vendor's task pace (a task per agency per 5 minutes, the
    simulator's readiness, the platform's shipped poll), its tasks made ahead by the sensor (or,
    `ahead=False`, by its steps)."""
    from ark_assets.media.registry import media as media_named
    from ark_assets.settings import default_of

    config = SimConfig.load(overrides={"profile": "seed", "profiles": {"seed": knobs}})
    world = World(config)
    tasks = config.media["gdt"].async_reports
    cooldown = media_named("gdt").api.endpoint("daily_reports/get").bulk.cooldown_s
    timing = model.TaskTiming(
        cooldown,
        tasks.pending_s + tasks.processing_s,
        default_of("async_task_poll_s"),  # the platform's shipped poll and sensor tick
        ahead_tick_s=default_of("tasks_ahead_interval_s") if ahead else 0.0,
    )
    return model.Tenant(world, config, "TCAPACITY", DAY, timing, warm), world


def production(
    overheads: Overheads, cpu_step: float, per_partition: dict, bytes_per_row: dict, knobs: dict[str, float]
) -> dict:
    """The plan for 100 seed-sized tenants at the shipped quotas: 1 to 8 workers at the shipped
    pools; and the day if the steps made their own async tasks (the sensor stopped)."""
    tenant, world = seed_tenant(knobs, warm=True)
    config = tenant.config
    steps = model.tenant_steps(tenant)
    cold = model.endpoint_calls(model.tenant_steps(seed_tenant(knobs, warm=False)[0]))
    eff = model.efficiency()
    calls = model.endpoint_calls(steps)
    rates = model.rates(config, calls, eff)
    runs = [steps] * TENANTS_PER_DAY
    days = {w: simulate(runs, rates, shape(w), overheads) for w in WORKER_COUNTS}
    own = [model.tenant_steps(seed_tenant(knobs, warm=True, ahead=False)[0])] * TENANTS_PER_DAY
    stopped = {
        (w, limit): simulate(own, rates, shape(w, limit), overheads) for w, limit in SENSOR_STOPPED_SHAPES
    }
    best = min(d.wall_s for d in days.values())
    fitting = [w for w, d in days.items() if d.wall_s <= WINDOW_S]
    floor_s, busiest = quota_bound_s(runs, {e: model.quota_rate(config, *e)[0] for e in calls})
    accounts = sum(world.account_count(m, tenant.name) for m in APPS)
    chosen = min(w for w, d in days.items() if d.wall_s <= 1.02 * best)
    per_tenant = sum(calls.values())
    return {
        "tenants": TENANTS_PER_DAY,
        "profile": "seed",
        "knobs": knobs,
        "accounts_per_tenant": {m: world.account_count(m, tenant.name) for m in APPS},
        "calls_per_tenant": {
            "steady": per_tenant,
            "first_day": sum(cold.values()),
            "baseline": BASELINE_CALLS,
        },
        "task_timing": {
            "cooldown_s": tenant.timing.cooldown_s,
            "ready_s": tenant.timing.ready_s,
            "poll_s": tenant.timing.poll_s,
            "ahead_tick_s": tenant.timing.ahead_tick_s,
        },
        "steps": [{"media": s.media, "calls": s.calls()} for s in steps],
        "endpoints": model.endpoint_table(steps, TENANTS_PER_DAY, config, eff),
        "quota_bound_s": round(floor_s, 1),
        "busiest_endpoint": " ".join(busiest),
        "by_workers": {str(w): _day_row(d, shape(w)) for w, d in days.items()},
        "sensor_stopped": [
            {"workers": w, "pool_limit": limit, **_day_row(d, shape(w, limit))}
            for (w, limit), d in stopped.items()
        ],
        "shape": {"pool_limit": shape(1).pool_limit, "max_runs": shape(1).max_runs},
        "window_s": WINDOW_S,
        "fewest_workers_in_window": min(fitting) if fitting else None,
        "workers_at_the_floor": chosen,
        "longest_step_s": max(c["longest_step_s"] for c in days[chosen].chains().values()),
        "cpu": model.cpu(accounts, len(steps), TENANTS_PER_DAY, cpu_step, days[chosen].wall_s),
        "storage": model.storage(world, tenant.name, DAY, TENANTS_PER_DAY, bytes_per_row),
        "logs": model.logs(steps, TENANTS_PER_DAY, per_partition),
    }


def _day_row(day: Any, s: Shape) -> dict[str, Any]:
    return {
        "processes": s.processes,
        "wall_s": round(day.wall_s, 1),
        "chains": day.chains(),
        "fits_window": day.wall_s <= WINDOW_S,
    }


def _hedge_share(phase: dict[str, Any]) -> float:
    """Hedged copies per call that took quota in a phase (the quota-bound one: validation)."""
    hedges = sum(v.get("hedges", 0) for v in phase["hedges_and_retries"].values())
    calls = sum(served_calls(phase["sim"]).values())
    return round(hedges / calls, 5) if calls else 0.0


def inputs() -> dict[str, Any]:
    """What the model reads from the benchmarks of record (bench/results), as it read it."""
    partition = json.loads((model.RESULTS / "partition.json").read_text())
    return {
        "engine_share_of_quota": {m: round(e, 3) for m, e in model.efficiency().items()},
        "cpu_ms_per_account": model.cpu_ms_per_account(),
        "partition_bench_when": partition.get("when"),
    }


def _command(*, hosts: bool, dormant: float) -> str:
    """The command line that made a result (`make bench-capacity` is `--hosts` at the shipped share)."""
    if hosts and dormant == NO_SPEND_RATE:
        return COMMAND
    flags = (" --hosts" if hosts else "") + ("" if dormant == NO_SPEND_RATE else f" --dormant {dormant:g}")
    return f".venv/bin/python -m bench.capacity{flags}   # (after `make stack`)"


def run_day(
    tenants: int, keep: bool, notes: list[str], knobs: dict[str, float], *, hosts: bool = False
) -> dict[str, Any]:
    """Calibration, validation, calibration again on a topology of its own; what they measured."""
    # on hosts, not under /tmp: each host mounts a /tmp of its own over it
    parent = StackPaths.from_env().root if hosts else None
    workdir = Path(tempfile.mkdtemp(prefix="ark-bench-capacity-", dir=parent))
    workdir.chmod(0o755)  # PostgreSQL and MariaDB run as their own OS users below it
    day = SimulatedDay(tenants, workdir, knobs, hosts=hosts)
    try:
        day.up()
        before = day.phase("calibration", CALIBRATION, notes)
        per_partition = day.per_partition_logs()
        validation = day.phase("validation", VALIDATION, notes)
        after = day.phase("calibration again", CALIBRATION, notes)
        stored = day.stored()
    finally:
        if keep:
            click.echo(f"work directory kept: {workdir} (processes stopped)")
        day.down(notes)
        if not keep:
            shutil.rmtree(workdir, ignore_errors=True)
    overheads = merge_calibrations(before, after)
    predicted = predict(day, overheads, VALIDATION)
    error = (predicted["wall_s"] - validation["wall_s"]) / validation["wall_s"]
    served = served_calls(validation["sim"])
    return {
        "topology": "hosts" if hosts else "loopback",
        "tenants": tenants,
        "accounts_per_tenant": {m: day.world.account_count(m, day.tenants[0]) for m in APPS},
        "quotas": VALIDATION,
        "calibration_quotas": CALIBRATION,
        "calibration": {"before": before, "after": after},
        "overheads": {
            "run_start_s": overheads.run_start_s,
            "step_s": overheads.step_s,
            "run_end_s": overheads.run_end_s,
        },
        "cpu_step_s": cpu_step_s(day, [before, after]),
        "hedges_per_call": _hedge_share(validation),
        "validation": validation,
        "predicted": predicted,
        "error": round(error, 4),
        "within_20_percent": abs(error) <= 0.20,
        "wall_vs_quota_bound": round(validation["wall_s"] / predicted["quota_bound_s"], 2),
        "calls_modelled_vs_served": {
            k: [n, served.get(k, 0)] for k, n in predicted["calls"].items() if n != served.get(k, 0)
        },
        "mismatches": day.mismatches(stored),
        "per_partition": per_partition,
        "bytes_per_row": {
            table: round(sum(sizes) / len(sizes), 1)
            for table, by_tenant in stored.items()
            if (sizes := [n for values in by_tenant.values() for n in values])
        },
    }


@click.command()
@click.option("--tenants", default=3, show_default=True, help="Tenants of the simulated day.")
@click.option(
    "--dormant",
    default=NO_SPEND_RATE,
    show_default=True,
    help="Share of accounts without activity on the day (the simulator's no_spend_rate plus a dormant tail).",
)
@click.option("--keep", is_flag=True, help="Keep the work directory (logs, DAGSTER_HOME).")
@click.option(
    "--hosts",
    is_flag=True,
    help="Check the model on the multi-host topology of `make prod-hosts` (namespaces; root).",
)
@click.option(
    "--no-write", is_flag=True, help="Print the numbers only; leave capacity.json and CAPACITY.md alone."
)
@click.option(
    "--render-from",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Only rewrite docs/CAPACITY.md's generated section from a capacity.json (no run).",
)
def main(
    tenants: int, dormant: float, keep: bool, hosts: bool, no_write: bool, render_from: Path | None
) -> None:
    """Model a day of 100 tenants, calibrate it on the prod-local topology, check it on a simulated day."""
    if render_from is not None:
        write_section(
            START_MARK, END_MARK, render(*_recorded(json.loads(render_from.read_text()))), path=CAPACITY_MD
        )
        click.echo(f"rewrote the generated section of {CAPACITY_MD} from {render_from}")
        return
    started = time.monotonic()
    busy = wait_for_quiet()
    notes: list[str] = (
        [f"Another benchmark ran meanwhile ({busy[0]}): timings are disturbed."] if busy else []
    )
    when = datetime.now(UTC)
    knobs = dormant_knobs(dormant)
    validation = run_day(tenants, keep, notes, knobs, hosts=hosts)
    overheads = Overheads(**validation["overheads"])
    seed = production(
        overheads, validation["cpu_step_s"], validation["per_partition"], validation["bytes_per_row"], knobs
    )
    partition_bench = json.loads((model.RESULTS / "partition.json").read_text())
    modelled_calls = seed["calls_per_tenant"]["first_day"]  # the partition bench runs a first day
    result = {
        "command": _command(hosts=hosts, dormant=dormant),
        "dormant": dormant,
        "when": f"{when:%Y-%m-%d %H:%M} UTC",
        "machine": f"{os.cpu_count()} CPU ({cpu_model()}), {psutil.virtual_memory().total / 2**30:.1f} GiB",
        "minutes": round((time.monotonic() - started) / 60, 1),
        "inputs": inputs(),
        "calls_vs_partition_bench": {
            "model": modelled_calls,
            "measured": partition_bench["requests"],
            "difference": (modelled_calls - partition_bench["requests"]) / partition_bench["requests"],
        },
        "production": seed,
        "validation": validation,
        "notes": notes,
    }
    click.echo(json.dumps({k: validation[k] for k in ("error", "within_20_percent", "wall_vs_quota_bound")}))
    click.echo(
        f"predicted {validation['predicted']['wall_s']} s, measured {validation['validation']['wall_s']} s"
    )
    click.echo(f"production day: {json.dumps({w: d['wall_s'] for w, d in seed['by_workers'].items()})}")
    if not no_write:
        path = results_path(dormant)
        path.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
        write_section(START_MARK, END_MARK, render(*_recorded(None)), path=CAPACITY_MD)
        click.echo(f"wrote {path} and the generated section of {CAPACITY_MD}")


def results_path(dormant: float) -> Path:
    """capacity.json at the shipped share of idle accounts, capacity-dormant<NN>.json at others."""
    return (
        RESULTS_JSON
        if dormant == NO_SPEND_RATE
        else RESULTS_JSON.with_name(f"capacity-dormant{dormant * 100:.0f}.json")
    )


def _recorded(main: dict[str, Any] | None) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The result of record (capacity.json, or `main`) and those at other dormant shares."""
    main = main or json.loads(RESULTS_JSON.read_text())
    others = [json.loads(p.read_text()) for p in sorted(RESULTS_JSON.parent.glob("capacity-dormant*.json"))]
    return main, others


if __name__ == "__main__":
    main()
