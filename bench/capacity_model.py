"""The capacity model: what one day of N tenants costs, read from the shipped declarations.

Nothing here is typed in by hand. Calls come from each media's declared assets and endpoints
(`ark_assets/media/*.py`: listing endpoints page by their declared page size per agent, account
datasets make one call per account and time line) applied to a tenant's world (the simulator's
`seed` profile: the seed's real sizes, ~33k accounts); quotas from the simulator's shipped
`sim.toml` (per media app and endpoint); the engine's share of a quota from the fetch benchmark
(bench/results/fetch.json); CPU per account from the partition benchmark
(bench/results/partition.json); rows per table from `ark-sim truth`.

How a day runs (deploy/dagster.production.yaml): every asset holds its media's pool, one step at a
time, so each media is a chain of steps, tenant after tenant, and the three media run side by
side. A step costs a fixed overhead (run and step start-up, writes, checks: measured on the
prod-local topology, `bench/capacity.py`) plus its calls at the rate its (app, endpoint) quota
allows. The day's wall time is the longest media chain.
"""

from __future__ import annotations

import json
import math
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from ark_assets.assets.catalog import MediaAssets
from ark_assets.definitions import DECLARATIONS
from ark_assets.io.tables import table_name
from ark_assets.media import Media, gdt, jrtt, wx
from ark_assets.media.spec import MediaSpec, Paging
from ark_assets.resources.media_api import MediaApiResource
from ark_assets.sim.config import SimConfig
from ark_assets.sim.truth import truth
from ark_assets.sim.truth_tables import register_platform_tables
from ark_assets.sim.world import World

RESULTS = Path(__file__).resolve().parent / "results"
SPECS: dict[Media, MediaSpec] = {Media.GDT: gdt.SPEC, Media.JRTT: jrtt.SPEC, Media.WX: wx.SPEC}
# the fetch benchmark's scenario measuring each media convention's share of a quota ceiling
# (wx speaks gdt's API conventions and quota headers, so it shares gdt's figure)
EFFICIENCY_SCENARIO = {Media.GDT: "seed-gdt-funds", Media.JRTT: "jrtt-funds", Media.WX: "seed-gdt-funds"}


@dataclass(frozen=True)
class Step:
    """One asset's step for one tenant: its media, and its calls per endpoint."""

    media: Media
    asset: str
    calls: dict[str, int] = field(default_factory=dict)


def pages(spec: MediaSpec, endpoint: str, records: int) -> int:
    """Calls to list `records` records from `endpoint`: one per page of its declared size."""
    declared = spec.endpoint(endpoint)
    if declared.paging is Paging.NONE or not declared.page_size:
        return 1
    return max(1, math.ceil(records / declared.page_size))


def max_records_per_account(config: SimConfig, *, hourly: bool) -> int:
    """The most report records one account can have in the world (its ads, times the hours they run)."""
    entities = config.sizes.entities
    ads = entities.campaigns[1] * entities.adgroups[1] * entities.ads[1]
    return ads * (entities.active_hours if hourly else 1)


def tenant_steps(world: World, config: SimConfig, tenant: str) -> list[Step]:
    """Every asset's step of one tenant's partition, with its calls per endpoint."""
    steps: list[Step] = []
    for media, declared in DECLARATIONS.items():
        spec = SPECS[media]
        steps += [Step(media, a.name) for a in declared.agent_lists]  # eton rows and Redis: no API
        for listing in declared.account_lists:
            calls: dict[str, int] = defaultdict(int)
            for agent in world.agents(media, tenant, tier=listing.tier):
                found = len(world.accounts(media, tenant, tier=listing.tier, agent_id=agent.agent_id))
                calls[listing.endpoint] += pages(spec, listing.endpoint, found)
                if listing.details_endpoint:
                    calls[listing.details_endpoint] += max(1, math.ceil(found / listing.details_batch))
            steps.append(Step(media, listing.name, dict(calls)))
        accounts = len(world.accounts(media, tenant))
        for dataset in declared.datasets:
            per_source = pages(
                spec, dataset.endpoint, max_records_per_account(config, hourly=bool(dataset.time_lines))
            )
            sources = accounts * max(1, len(dataset.time_lines))
            steps.append(Step(media, dataset.name, {dataset.endpoint: sources * per_source}))
    return steps


def quota_rate(config: SimConfig, media: Media, endpoint: str) -> tuple[float, int]:
    """(calls per second, calls per day) one app may make to `endpoint` under `config`'s quotas."""
    limits = config.quota_limits(media, endpoint)
    rates = [r for r in (float(limits.per_second), limits.per_minute / 60) if r > 0]
    return (min(rates) if rates else math.inf), limits.per_day


def efficiency() -> dict[Media, float]:
    """The engine's calls/s as a share of the quota ceiling, per media (the fetch benchmark)."""
    runs = json.loads((RESULTS / "fetch.json").read_text())
    share = {
        r["scenario"]: r["sources"] / r["seconds"] / r["quota_ceiling_per_s"]
        for r in runs
        if r["client"] == "ark"
    }
    return {media: min(1.0, share[scenario]) for media, scenario in EFFICIENCY_SCENARIO.items()}


def throttle_share() -> dict[Media, float]:
    """Throttle answers per call at the quota (the fetch benchmark): they are logged and retried."""
    runs = json.loads((RESULTS / "fetch.json").read_text())
    share = {r["scenario"]: r["throttled"] / r["sources"] for r in runs if r["client"] == "ark"}
    return {media: share[scenario] for media, scenario in EFFICIENCY_SCENARIO.items()}


def cpu_ms_per_account() -> float:
    return float(json.loads((RESULTS / "partition.json").read_text())["cpu_ms_per_account"])


def step_seconds(step: Step, config: SimConfig, eff: dict[Media, float]) -> float:
    """The quota-bound seconds of a step's calls (its endpoints one after the other)."""
    return sum(
        calls / (quota_rate(config, step.media, ep)[0] * eff[step.media]) for ep, calls in step.calls.items()
    )


@dataclass(frozen=True)
class Overheads:
    """What the topology adds per step and per day, measured by `bench/capacity.py` (calibration).

    Args:
        step_s: seconds per pooled step of each media's chain beyond its calls (start-up, the
            slot hand-over, writes, checks).
        start_s: from the runs' launch to the first step; end_s: from the last step to the last run's end.
        cpu_step_s: CPU seconds per step beyond the per-account CPU of the fetch and write.
    """

    step_s: dict[str, float]
    start_s: float
    end_s: float
    cpu_step_s: float


def day_plan(
    steps: list[Step], tenants: int, config: SimConfig, overheads: Overheads, eff: dict[Media, float]
) -> dict[str, Any]:
    """Per media chain: steps, quota-bound seconds, overhead seconds; the day's wall time."""
    chains = {}
    for media in Media:
        mine = [s for s in steps if s.media is media]
        quota_s = tenants * sum(step_seconds(s, config, eff) for s in mine)
        overhead_s = tenants * len(mine) * overheads.step_s[media.value]
        chains[media.value] = {
            "steps": tenants * len(mine),
            "quota_s": round(quota_s, 1),
            "overhead_s": round(overhead_s, 1),
            "chain_s": round(quota_s + overhead_s, 1),
        }
    longest = max(chains.values(), key=lambda c: c["chain_s"])["chain_s"]
    return {"chains": chains, "wall_s": round(overheads.start_s + longest + overheads.end_s, 1)}


def endpoint_table(steps: list[Step], tenants: int, config: SimConfig, eff: dict[Media, float]) -> list[dict]:
    """Per (media app, endpoint): calls per tenant and per day, the quota, the quota-bound hours."""
    calls: dict[tuple[Media, str], int] = defaultdict(int)
    for step in steps:
        for endpoint, n in step.calls.items():
            calls[(step.media, endpoint)] += n
    rows = []
    for (media, endpoint), per_tenant in sorted(calls.items()):
        rate, per_day = quota_rate(config, media, endpoint)
        day_calls = per_tenant * tenants
        rows.append(
            {
                "media": media.value,
                "app_id": config.media[media].app.app_id,
                "endpoint": endpoint,
                "calls_per_tenant": per_tenant,
                "calls_per_day": day_calls,
                "quota_per_s": round(rate, 2),
                "quota_per_day": per_day,
                "efficiency": round(eff[media], 3),
                "hours": round(day_calls / (rate * eff[media]) / 3600, 2),
                "within_daily_quota": not per_day or day_calls <= per_day,
            }
        )
    return rows


def storage(world: World, tenant: str, day: date, tenants: int, bytes_per_row: dict[str, float]) -> dict:
    """HBase rows and logical bytes (row key + `info:data`) per day, per table, from `ark-sim truth`."""
    register_platform_tables()
    rows = truth(world, tenant, day)["tables"]
    mean = sum(bytes_per_row.values()) / len(bytes_per_row) if bytes_per_row else 0.0
    tables = {
        name: {"rows_per_day": n * tenants, "bytes_per_row": round(bytes_per_row.get(name, mean), 1)}
        for name, n in sorted(rows.items())
    }
    return {
        "tables": tables,
        "rows_per_day": sum(t["rows_per_day"] for t in tables.values()),
        "bytes_per_day": round(sum(t["rows_per_day"] * t["bytes_per_row"] for t in tables.values())),
    }


def logs(steps: list[Step], tenants: int, per_partition: dict[str, float]) -> dict:
    """Kafka events and MySQL log rows per day.

    Per partition (measured): run-log rows and START/END/ERROR events. Per call (declared): the
    request and response logs keep every throttle and a `log_sample_rate` share of the successes;
    one THROTTLE event per 100 throttle answers (ark_assets/assets/recording.py).
    """
    sample = MediaApiResource().log_sample_rate
    share = throttle_share()
    calls = {m: tenants * sum(n for s in steps if s.media is m for n in s.calls.values()) for m in Media}
    throttles = sum(calls[m] * share[m] for m in Media)
    logged = sum(calls[m] * sample for m in Media) + throttles
    return {
        "log_sample_rate": sample,
        "calls_per_day": sum(calls.values()),
        "throttles_per_day": round(throttles),
        "kafka_events_per_day": round(tenants * per_partition["kafka_events"] + throttles / 100),
        "mysql_run_log_rows_per_day": round(tenants * per_partition["run_log_rows"]),
        "mysql_request_log_rows_per_day": round(logged),
        "mysql_response_log_rows_per_day": round(logged),
    }


def cpu(
    steps: list[Step], world: World, tenant: str, tenants: int, overheads: Overheads, window_s: float
) -> dict:
    """CPU seconds per day: fetch and write per account (partition bench) plus the per-step overhead."""
    accounts = sum(world.account_count(m, tenant) for m in Media)
    per_account = cpu_ms_per_account() / 1000
    total = tenants * (accounts * per_account + len(steps) * overheads.cpu_step_s)
    return {
        "accounts_per_tenant": accounts,
        "cpu_ms_per_account": round(per_account * 1000, 3),
        "cpu_s_per_step": round(overheads.cpu_step_s, 3),
        "cpu_s_per_day": round(total),
        "cores_busy_over_window": round(total / window_s, 2),
    }


def media_of(declared: MediaAssets) -> list[str]:
    """Table names a media's assets write (for per-table bytes)."""
    return [
        *(a.dataset for a in declared.agent_lists),
        *(a.dataset for a in declared.account_lists),
        *(d.dataset for d in declared.datasets),
    ]


def all_tables() -> list[str]:
    return [
        table_name(media, name) for media, declared in DECLARATIONS.items() for name in media_of(declared)
    ]
