"""The generated section of docs/CAPACITY.md, from a capacity.json (`bench/capacity.py`)."""

from __future__ import annotations

import json
from typing import Any

from ark_assets.settings import default_of

START_MARK, END_MARK = "<!-- capacity:start -->", "<!-- capacity:end -->"
VISIBILITY_TIMEOUT_S = default_of("celery_visibility_timeout_s")  # ARK_CELERY_VISIBILITY_TIMEOUT_S


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


def _workers_rows(p: dict[str, Any]) -> list[str]:
    media = sorted(next(iter(p["by_workers"].values()))["chains"])
    rows = [
        "| workers (× 2 processes) | wall time of the day | "
        + " | ".join(f"{m}: chain, longest step" for m in media)
        + " | by 08:00 |",
        "|---:|---:|" + "---|" * len(media) + "---|",
    ]
    for workers, d in p["by_workers"].items():
        chains = " | ".join(
            f"{_h(d['chains'][m]['chain_s'])}, {d['chains'][m]['longest_step_s']:.0f} s" for m in media
        )
        fits = "yes" if d["fits_window"] else "**no**"
        rows.append(f"| {workers} ({d['processes']}) | **{_h(d['wall_s'])}** | {chains} | {fits} |")
    return rows


def _day_lines(p: dict[str, Any]) -> list[str]:
    fewest, floor_workers = p["fewest_workers_in_window"], p["workers_at_the_floor"]
    at_floor = p["by_workers"][str(floor_workers)]["wall_s"]
    cpu, store, logs = p["cpu"], p["storage"], p["logs"]
    accounts = sum(p["accounts_per_tenant"].values())
    longest = p["longest_step_s"]
    lines = [
        *_workers_rows(p),
        "",
        f"- **The floor: {_h(p['quota_bound_s'])}**, the busiest endpoint's calls of the day at its "
        f"quota (`{p['busiest_endpoint']}`); no number of workers goes below it.",
        f"- **Workers:** the day fits the 00:00–08:00 GMT+8 window from **{_workers(fewest)}** "
        f"(× `--concurrency=2`) on; **{_workers(floor_workers)}** reach the floor's neighbourhood "
        f"({_h(at_floor)}, {at_floor / p['quota_bound_s']:.2f}× it: the engine's share of a quota, "
        f"launch and wind-down), and more change nothing (pools of {p['shape']['pool_limit']} steps "
        f"per media, {p['shape']['max_runs']} runs at once).",
        f"- **The longest step** at {floor_workers} workers: {longest:.0f} s, against the shipped "
        f"`ARK_CELERY_VISIBILITY_TIMEOUT_S` of {VISIBILITY_TIMEOUT_S} s (it must be longer: "
        + ("it is" if longest < VISIBILITY_TIMEOUT_S else "**it is not: raise it**")
        + ").",
        f"- **CPU:** {cpu['cpu_ms_per_account']} ms per account (partition benchmark) × {accounts:,} "
        f"accounts × {p['tenants']} tenants, plus {cpu['cpu_s_per_step']} s per step (measured here: "
        "what the web server, daemon, run processes and workers spent beyond that, per step): "
        f"{cpu['cpu_s_per_day']:,} CPU-seconds a day, {cpu['cores_busy_over_the_day']} cores busy on "
        f"average over the day at {floor_workers} workers.",
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


def _workers(n: int | None) -> str:
    return "none of 1 to 8 workers" if n is None else f"{n} worker{'s' if n > 1 else ''}"


def _quotas_text(quotas: dict[str, dict[str, float]]) -> str:
    return ", ".join(
        f"{m} {q.get('per_second') or q.get('per_minute', 0) / 60:g} calls/s" for m, q in quotas.items()
    )


def _validation_lines(v: dict[str, Any]) -> list[str]:
    before, after, val, pred = (
        v["calibration"]["before"],
        v["calibration"]["after"],
        v["validation"],
        v["predicted"],
    )
    sizes = ", ".join(f"{m} {n:,}" for m, n in v["accounts_per_tenant"].items())
    o = v["overheads"]
    within = "within" if v["within_20_percent"] else "**outside**"
    lines = [
        f"{v['tenants']} tenants of the `capacity` profile ({sizes} accounts each), one `all_media_daily` "
        "run per tenant launched at once over GraphQL (as `daily_yesterday` launches them), on a "
        "topology of its own built by "
        + (
            "`ark_stack.prod_hosts.HostsTopology`, the multi-host topology of `make prod-hosts` (a services "
            "host with its own PostgreSQL, Redis, MariaDB, HBase, Kafka and simulator, a control host, two "
            "worker hosts; network namespaces on a bridge; "
            if v.get("topology") == "hosts"
            else "`ark_stack.prod_local.Topology` ("
        )
        + "the shipped dagster.yaml on Postgres, dagster-daemon, two Celery workers × 2 processes).",
        "",
        "| phase | quotas per endpoint | measured wall | predicted wall | error "
        "| the bound: busiest endpoint at its quota | measured / bound |",
        "|---|---|---:|---:|---:|---:|---:|",
        f"| calibration, before and after | {_quotas_text(v['calibration_quotas'])} "
        f"| {before['wall_s']:.0f} s, {after['wall_s']:.0f} s | (measures the costs below) | | | |",
        f"| **validation** | {_quotas_text(v['quotas'])} | **{val['wall_s']:.0f} s** "
        f"| **{pred['wall_s']:.0f} s** | **{v['error']:+.1%}** "
        f"| {pred['quota_bound_s']:.0f} s (`{pred['busiest_endpoint']}`) "
        f"| {v['wall_vs_quota_bound']:.2f} |",
        "",
        f"Calibrated (mean of the two calibrations): a run starts {o['run_start_s']:.1f} s after its launch "
        f"(queue, run process, first submission) and ends {o['run_end_s']:.1f} s after its last step; a "
        "step costs, beyond the longest path of its assets' fetches: "
        + ", ".join(f"{m} {s:.1f} s" for m, s in o["step_s"].items())
        + f"; CPU {v['cpu_step_s']} s per step beyond the per-account CPU.",
        "",
        "| media | steps | validation: measured chain (first pick-up to last end) | predicted chain |",
        "|---|---:|---:|---:|",
    ]
    for m, c in val["chains"].items():
        lines.append(f"| {m} | {c['steps']} | {c['chain_s']:.0f} s | {pred['chains'][m]['chain_s']:.0f} s |")
    differing = v["calls_modelled_vs_served"]
    extra = val.get("hedges_and_retries", {})
    calls = (
        "the calls the model declares per endpoint are exactly those the simulator served"
        if not differing
        else "the simulator served a little more than the declared calls (answers that took quota, "
        "declared vs served): "
        + ", ".join(f"{e} {a:,} vs {b:,}" for e, (a, b) in differing.items())
        + "; the steps reported "
        + ", ".join(
            f"{m} {x.get('hedges', 0):,} hedged copies and {x.get('retries', 0):,} retries"
            for m, x in extra.items()
        )
        + " in this phase. The model counts declared calls only; what the engine spends beyond them is "
        "in its measured share of a quota"
    )
    matched = (
        "every table equals `ark-sim truth`"
        if not v["mismatches"]
        else "tables differ: " + json.dumps(v["mismatches"])
    )
    loads = ", ".join(
        f"{name} {a:.1f} → {b:.1f}"
        for name, (a, b) in (
            ("calibration", before["load_1min"]),
            ("validation", val["load_1min"]),
            ("calibration again", after["load_1min"]),
        )
    )
    lines += [
        "",
        f"- Verdict: **{within} ±20%**; every run succeeded; {matched}; {calls}.",
        f"- The machine's 1-minute load at each phase's start and end (2 CPUs, shared): {loads}.",
    ]
    return lines


def _pct(n: int, of: int) -> str:
    return f"{n / of:.1%}"


def _bulk_lines(results: list[dict[str, Any]]) -> list[str]:
    """The bulk paths' figures at every dormant share recorded: calls per tenant against the day
    before them, the floor, the validation, rows lost, hedged copies."""
    rows = [
        "| accounts idle on the day | calls per seed tenant-day, steady (vs 168,571 before) "
        "| its first day (families unknown) | 100-tenant quota floor | validation: error, tables "
        "| hedged copies per call (validation) | command |",
        "|---:|---:|---:|---:|---|---:|---|",
    ]
    for r in sorted(results, key=lambda r: r.get("dormant", 0.25)):
        p, v = r["production"], r["validation"]
        calls = p["calls_per_tenant"]
        lost = (
            "0 rows lost (= truth)" if not v["mismatches"] else f"**differ**: {len(v['mismatches'])} tables"
        )
        rows.append(
            f"| {r.get('dormant', 0.25):.0%} "
            f"| **{calls['steady']:,}** ({_pct(calls['steady'], calls['baseline'])}) "
            f"| {calls['first_day']:,} ({_pct(calls['first_day'], calls['baseline'])}) "
            f"| **{_h(p['quota_bound_s'])}** (`{p['busiest_endpoint']}`) | {v['error']:+.1%}, {lost} "
            f"| {v.get('hedges_per_call', 0):.2%} | `{r['command'].split('#')[0].strip()}` |"
        )
    return rows


def _stopped_rows(p: dict[str, Any]) -> list[str]:
    """The day if the steps made their own tasks: each Tencent step holds its process and pool slot
    while its agencies' tasks wait out the cooldowns."""
    if not p.get("sensor_stopped"):
        return []
    rows = [
        "| workers (processes) | pool per media | wall time of the day | longest step | by 08:00 |",
        "|---|---:|---:|---:|---|",
    ]
    for d in p["sensor_stopped"]:
        longest = max(c["longest_step_s"] for c in d["chains"].values())
        fits = "yes" if d["fits_window"] else "**no**"
        rows.append(
            f"| {d['workers']} ({d['processes']}) | {d['pool_limit']} | **{_h(d['wall_s'])}** "
            f"| {longest:.0f} s | {fits} |"
        )
    return rows


def render(r: dict[str, Any], others: list[dict[str, Any]] | None = None) -> str:
    """The generated section of docs/CAPACITY.md (`others`: results at other dormant shares)."""
    p, check = r["production"], r["calls_vs_partition_bench"]
    timing = p.get("task_timing", {})
    sizes = ", ".join(f"{m} {n:,}" for m, n in p["accounts_per_tenant"].items())
    lines = [
        START_MARK,
        "## The numbers (generated by `make bench-capacity`)",
        "",
        f"Command: `{r['command']}` · {r['when']} · {r['machine']} · {r['minutes']:.0f} minutes.",
        "",
        "Read from the benchmarks of record: the engine's share of a quota "
        + ", ".join(f"{m} {e:.0%}" for m, e in r["inputs"]["engine_share_of_quota"].items())
        + f" (fetch benchmark); {r['inputs']['cpu_ms_per_account']} ms CPU per account (partition "
        f"benchmark of {r['inputs']['partition_bench_when']}).",
        "",
        "### The bulk paths: calls per tenant-day, the floor, rows lost",
        "",
        *_bulk_lines([r, *(others or [])]),
        "",
        "Steady: a day after another, when the report families' memory knows where each jrtt account "
        "reports (the first day asks every active account's legacy reports first). The async tasks at "
        f"the vendor's pace: one per agency every {timing.get('cooldown_s', 0):g} s, ready "
        f"{timing.get('ready_s', 0):g} s after it is made (the simulator's; Tencent states no figure), "
        f"made ahead by the `async_tasks_ahead` sensor (a tick every {timing.get('ahead_tick_s', 0):g} s) "
        "from the runs' launch, so a step finds its files made.",
        "",
        f"### Calls per media endpoint: one `seed`-sized tenant ({sizes} accounts), "
        f"then {p['tenants']} tenants (steady, {r.get('dormant', 0.25):.0%} of accounts idle)",
        "",
        *_endpoint_rows(p),
        "",
        f"The call model (a first day) against the partition benchmark's measured requests of a seed tenant "
        f"(bench/results/partition.json): {check['model']:,} modelled, {check['measured']:,} measured "
        f"({check['difference']:+.1%}).",
        "",
        f"### The day: {p['tenants']} tenants launched at once, as shipped (pools of "
        f"{p['shape']['pool_limit']}, {p['shape']['max_runs']} runs at once), by number of workers",
        "",
        *_day_lines(p),
        "",
        "Without the tasks made ahead (the `async_tasks_ahead` sensor stopped), each Tencent step "
        "would make its agencies' six tasks itself, one per cooldown, holding its process and pool "
        "slot for the 25 minutes, spending no quota; larger pools (and `max_concurrent_runs` to fill "
        "them) only help with as many processes:",
        "",
        *_stopped_rows(p),
        "",
        "### The model against a simulated day on the "
        + ("multi-host (prod-hosts)" if r["validation"].get("topology") == "hosts" else "prod-local")
        + " topology",
        "",
        *_validation_lines(r["validation"]),
        *(f"- {n}" for n in r["notes"]),
        END_MARK,
    ]
    return "\n".join(lines) + "\n"
