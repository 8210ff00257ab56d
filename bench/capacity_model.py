"""The capacity model's inputs: what one tenant's day asks of each media endpoint, read from what ships.

Nothing here is typed in by hand. A tenant's partition is one step per media (assets/media_step.py);
inside it every asset is a part that starts when the parts it reads are done, and makes its calls
(`StepPlan`): an account list pages its listing endpoint per agent by the endpoint's declared page
size (and fetches details in batches of `details_batch`), an account dataset makes one call per
account and time line. The declarations are the media registry's (`MediaDefinition`), applied to
a tenant's world (the simulator's, `ark_sim.world.World`: the `seed` profile has the seed's real
sizes, ~33k accounts). Quotas come from the simulator's config (`sim.toml` as shipped, or a
bench's), the engine's share of a quota from the fetch benchmark (bench/results/fetch.json), CPU
per account from the partition benchmark (bench/results/partition.json), rows per table from
`ark-sim truth`. `bench/capacity_sim.py` plays a day of such steps through the run queue, the
pools and the Celery worker processes.
"""

from __future__ import annotations

import json
import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from ark_assets.core.tables import table_name
from ark_assets.media.api import ApiSpec, Paging
from ark_assets.media.declare import MediaDefinition
from ark_assets.media.registry import all_media
from ark_assets.resources.media_api import media_api_resource_from_env
from ark_sim.config import SimConfig
from ark_sim.truth import truth
from ark_sim.world import World
from bench.limits import rate_and_capacity

RESULTS = Path(__file__).resolve().parent / "results"
# The fetch benchmark's scenario measuring each media convention's share of a quota ceiling (wx
# speaks gdt's API conventions and quota headers, so it shares gdt's figure); a media without one
# gets the lowest share measured.
EFFICIENCY_SCENARIO = {"gdt": "seed-gdt-funds", "jrtt": "jrtt-funds", "wx": "seed-gdt-funds"}
Endpoint = tuple[str, str]  # (media, endpoint name): one quota of one app


@dataclass(frozen=True)
class PartPlan:
    """One asset of a step: the parts of the step it waits for, then its calls, one endpoint after
    the other (a listing, then its details)."""

    name: str
    upstream: tuple[str, ...]
    calls: tuple[tuple[str, int], ...] = ()


@dataclass(frozen=True)
class StepPlan:
    """One media's step of one tenant's partition."""

    media: str
    parts: tuple[PartPlan, ...]

    def calls(self) -> dict[str, int]:
        """Calls per endpoint of the whole step."""
        total: dict[str, int] = defaultdict(int)
        for part in self.parts:
            for endpoint, n in part.calls:
                total[endpoint] += n
        return dict(total)


def pages(api: ApiSpec, endpoint: str, records: int) -> int:
    """Calls to list `records` records from `endpoint`: one per page of its declared size."""
    declared = api.endpoint(endpoint)
    if declared.paging is Paging.NONE or not declared.page_size:
        return 1
    return max(1, math.ceil(records / declared.page_size))


def max_records_per_account(config: SimConfig, *, hourly: bool) -> int:
    """The most report records one account can have in the world (its ads, times the hours they run)."""
    entities = config.sizes.entities
    ads = entities.campaigns[1] * entities.adgroups[1] * entities.ads[1]
    return ads * (entities.active_hours if hourly else 1)


@dataclass(frozen=True)
class TaskTiming:
    """How an agency's async report tasks take their time: one per `cooldown_s`, each ready
    `ready_s` after it is made (the media's pending and processing), polled every `poll_s`; made
    ahead of the step by the `async_tasks_ahead` sensor ticking every `ahead_tick_s` (0: by the step)."""

    cooldown_s: float
    ready_s: float
    poll_s: float
    ahead_tick_s: float = 0.0

    def chain_s(self, tasks: int) -> float:
        """From an agency's first task to its last file: the cooldowns between, then the last's wait
        (made ahead: each task half a tick after its cooldown, on average; the step asks at once)."""
        if self.ahead_tick_s:
            return max(0, tasks - 1) * (self.cooldown_s + self.ahead_tick_s / 2) + self.ready_s
        return max(0, tasks - 1) * self.cooldown_s + self._asked()[1]

    def polls(self, tasks: int) -> int:
        """An agency's task listings: each task asked `poll_s` after it is made, then twice as late
        each time until it is ready (one listing covers every task pending at once); made ahead:
        the step's one listing of them all."""
        return 1 if self.ahead_tick_s else tasks * self._asked()[0]

    def _asked(self) -> tuple[int, float]:
        """How often a task is asked about, and when it is first seen ready (fetch/tasks.py)."""
        asks, delay, waited = 1, self.poll_s, self.poll_s
        while waited < self.ready_s:
            delay = min(2 * delay, 60.0)
            waited += delay
            asks += 1
        return asks, waited


WAIT = "wait"  # a part's phase spent waiting (async tasks), not calling: it takes no quota
WAIT_UNTIL = "wait until"  # waiting until that second of the day (tasks made ahead since the launch)


@dataclass(frozen=True)
class Tenant:
    """What one tenant's day holds for the model: its world, day and the knobs of the paths."""

    world: World
    config: SimConfig
    name: str
    day: date
    timing: TaskTiming
    warm: bool = True  # the report families' memory knows every account (a steady day)


def media_step(media: MediaDefinition, tenant: Tenant) -> StepPlan:
    """One media's step for one tenant, in the API version a deployment speaks by default: its
    listings, then each dataset's calls on the path it takes (`_dataset_calls`)."""
    api, declared, world = media.api, media.assets_for(None), tenant.world
    parts = [PartPlan(a.name, ()) for a in declared.agent_lists]  # eton rows and Redis: no API
    for listing in declared.account_lists:
        listed = details = 0
        for agent in world.agents(media.name, tenant.name, tier=listing.tier):
            found = len(world.accounts(media.name, tenant.name, tier=listing.tier, agent_id=agent.agent_id))
            listed += pages(api, listing.endpoint, found)
            details += math.ceil(found / listing.details_batch) if listing.details_endpoint else 0
        calls = [(api.endpoint(listing.endpoint).name, listed)]
        if listing.details_endpoint:
            calls.append((api.endpoint(listing.details_endpoint).name, details))
        parts.append(PartPlan(listing.name, (listing.agents,), tuple(calls)))
    bulk = [d for d in declared.datasets if api.endpoint(d.endpoint).bulk is not None]
    tasks_per_agency = sum(max(1, len(d.time_lines)) for d in bulk)
    for dataset in declared.datasets:
        calls = _dataset_calls(media, tenant, dataset, tasks_per_agency)
        parts.append(PartPlan(dataset.name, dataset.upstream, calls))
    return StepPlan(media.name, tuple(parts))


def _dataset_calls(
    media: MediaDefinition, tenant: Tenant, dataset: Any, tasks_per_agency: int
) -> tuple[tuple[str, int], ...]:
    """One dataset's calls: a batch per `batch` ids of an agent; an async task per agency (and the
    wait for the agency's files); else one call per account it asks, for every time line."""
    api = media.api
    accounts = _accounts(media, tenant, dataset.upstream)
    spec = api.endpoint(dataset.endpoint)
    if dataset.batch:
        by_agent: dict[str, int] = defaultdict(int)
        for agent in accounts.values():
            by_agent[agent] += 1
        return ((spec.name, sum(math.ceil(n / dataset.batch) for n in by_agent.values())),)
    lines = max(1, len(dataset.time_lines))
    if spec.bulk is not None:
        agencies = len(set(accounts.values()))
        signal = media.assets.activity is not None and media.assets.activity.dataset == dataset.name
        polls = agencies * tenant.timing.polls(tasks_per_agency) if signal else 0
        wait = round(tenant.timing.chain_s(tasks_per_agency))
        return (
            (WAIT_UNTIL if tenant.timing.ahead_tick_s else WAIT, wait),
            (spec.bulk.add, agencies * lines),
            (spec.bulk.get, polls),
            (spec.bulk.files, agencies * lines),
        )
    asked = _asked(media, tenant, dataset, accounts)
    per_source = pages(
        api, dataset.endpoint, max_records_per_account(tenant.config, hourly=bool(dataset.time_lines))
    )
    calls = [(spec.name, len(asked) * lines * per_source)]
    signal = media.assets.activity
    if dataset.activity and signal is not None and signal.endpoint and _first_reader(media, dataset):
        calls.insert(0, (api.endpoint(signal.endpoint).name, _signal_pages(media, tenant)))
    return tuple(calls)


def _accounts(media: MediaDefinition, tenant: Tenant, upstream: tuple[str, ...]) -> dict[str, str]:
    tiers = {listing.name: listing.tier for listing in media.assets.account_lists}
    found: dict[str, str] = {}
    for name in upstream:
        for account, agent in tenant.world.accounts(media.name, tenant.name, tier=tiers[name]):
            found[str(account)] = str(agent)
    return found


def _asked(media: MediaDefinition, tenant: Tenant, dataset: Any, accounts: dict[str, str]) -> list[str]:
    """The accounts a per-account dataset asks: the active ones for an activity-filtered one, and of
    a report family's levels those whose family it is (a cold day: the first top asks them all)."""
    world, day = tenant.world, tenant.day
    asked = list(accounts)
    if dataset.activity:
        asked = [a for a in asked if world.spends(media.name, int(a), day)]
    families = media.assets.families
    if families is None:
        return asked
    parent = dataset.detail_of or dataset.name
    if parent not in families.tops:
        return asked
    has = lambda top, a: _records(media, tenant, top, a) > 0  # noqa: E731
    if parent == dataset.name and not tenant.warm and parent == families.tops[0]:
        return asked
    if parent == dataset.name and not tenant.warm:  # a later top asks what the first did not cover
        return [a for a in asked if not has(families.tops[0], a)]
    return [a for a in asked if has(parent, a)]


def _records(media: MediaDefinition, tenant: Tenant, dataset_name: str, account: str) -> int:
    from ark_sim.media import lookup

    dataset = next(d for d in media.assets.datasets if d.name == dataset_name)
    endpoint = media.api.endpoint(dataset.endpoint).name
    return lookup(media.name).records(endpoint)(
        tenant.world, media.name, int(account), tenant.day, "REQUEST_TIME"
    )


def _first_reader(media: MediaDefinition, dataset: Any) -> bool:
    """The activity signal's calls are counted on the first dataset that reads it."""
    return next(d for d in media.assets.datasets if d.activity).name == dataset.name


def _signal_pages(media: MediaDefinition, tenant: Tenant) -> int:
    """The agent report's pages for the agents whose accounts no account list reads it for."""
    signal = media.assets.activity
    reused = {listing.name for listing in media.assets.account_lists if listing.endpoint == signal.endpoint}
    calls = 0
    for listing in media.assets.account_lists:
        if listing.name in reused:
            continue
        for agent in tenant.world.agents(media.name, tenant.name, tier=listing.tier):
            found = len(
                tenant.world.accounts(media.name, tenant.name, tier=listing.tier, agent_id=agent.agent_id)
            )
            calls += pages(media.api, signal.endpoint, found)
    return calls


def tenant_steps(tenant: Tenant) -> list[StepPlan]:
    """Every media's step of one tenant's partition (registry order)."""
    return [media_step(media, tenant) for media in all_media()]


def endpoint_calls(steps: Iterable[StepPlan]) -> dict[Endpoint, int]:
    """Calls per (media, endpoint) of some steps (waits are no calls)."""
    total: dict[Endpoint, int] = defaultdict(int)
    for step in steps:
        for endpoint, n in step.calls().items():
            if endpoint not in (WAIT, WAIT_UNTIL) and n:
                total[(step.media, endpoint)] += n
    return dict(total)


def quota_rate(config: SimConfig, media: str, endpoint: str) -> tuple[float, int]:
    """(calls per second, calls per day) one app may make to `endpoint` under `config`'s quotas."""
    rate, _ = rate_and_capacity(config, media, endpoint)
    return rate, config.quota_limits(media, endpoint).per_day


def efficiency(results: Path = RESULTS) -> dict[str, float]:
    """The engine's calls/s as a share of the quota ceiling, per media (the fetch benchmark)."""
    share = {
        r["scenario"]: r["sources"] / r["seconds"] / r["quota_ceiling_per_s"]
        for r in json.loads((results / "fetch.json").read_text())
        if r["client"] == "ark"
    }
    floor = min(share.values())
    return {m.name: min(1.0, share.get(EFFICIENCY_SCENARIO.get(m.name, ""), floor)) for m in all_media()}


def throttle_share(results: Path = RESULTS) -> dict[str, float]:
    """Throttle answers per call at the quota (the fetch benchmark): they are logged and retried."""
    runs = json.loads((results / "fetch.json").read_text())
    share = {r["scenario"]: r["throttled"] / r["sources"] for r in runs if r["client"] == "ark"}
    floor = max(share.values())
    return {m.name: share.get(EFFICIENCY_SCENARIO.get(m.name, ""), floor) for m in all_media()}


def rates(config: SimConfig, endpoints: Iterable[Endpoint], eff: dict[str, float]) -> dict[Endpoint, float]:
    """The calls/s the engine reaches at each (media, endpoint): the quota times the engine's share."""
    return {(m, e): quota_rate(config, m, e)[0] * eff[m] for m, e in endpoints}


def cpu_ms_per_account(results: Path = RESULTS) -> float:
    return float(json.loads((results / "partition.json").read_text())["cpu_ms_per_account"])


def endpoint_table(
    steps: list[StepPlan], tenants: int, config: SimConfig, eff: dict[str, float]
) -> list[dict[str, Any]]:
    """Per (media app, endpoint): calls per tenant and per day, the quota, the quota-bound hours."""
    rows = []
    for (media, endpoint), per_tenant in sorted(endpoint_calls(steps).items()):
        rate, per_day = quota_rate(config, media, endpoint)
        day_calls = per_tenant * tenants
        rows.append(
            {
                "media": media,
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


def logs(steps: list[StepPlan], tenants: int, per_partition: dict[str, float]) -> dict:
    """Kafka events and MySQL log rows per day.

    Per partition (measured): run-log rows and START/END/ERROR events. Per call (declared): the
    request and response logs keep every throttle and a `log_sample_rate` share of the successes;
    one THROTTLE event per 100 throttle answers (ark_assets/assets/recording.py).
    """
    sample = media_api_resource_from_env().log_sample_rate
    share = throttle_share()
    calls: dict[str, int] = defaultdict(int)
    for (media, _), n in endpoint_calls(steps).items():
        calls[media] += n * tenants
    throttles = sum(n * share[m] for m, n in calls.items())
    logged = sum(n * sample for n in calls.values()) + throttles
    return {
        "log_sample_rate": sample,
        "calls_per_day": sum(calls.values()),
        "throttles_per_day": round(throttles),
        "kafka_events_per_day": round(tenants * per_partition["kafka_events"] + throttles / 100),
        "mysql_run_log_rows_per_day": round(tenants * per_partition["run_log_rows"]),
        "mysql_request_log_rows_per_day": round(logged),
        "mysql_response_log_rows_per_day": round(logged),
    }


def cpu(accounts: int, steps: int, tenants: int, cpu_step_s: float, wall_s: float) -> dict:
    """CPU seconds per day: fetch and write per account (partition bench) plus a cost per step
    (start-up, events, checks: measured on the topology), and the cores that keeps busy."""
    per_account = cpu_ms_per_account() / 1000
    total = tenants * (accounts * per_account + steps * cpu_step_s)
    return {
        "accounts_per_tenant": accounts,
        "cpu_ms_per_account": round(per_account * 1000, 3),
        "cpu_s_per_step": round(cpu_step_s, 3),
        "cpu_s_per_day": round(total),
        "cores_busy_over_the_day": round(total / wall_s, 2) if wall_s else None,
    }


def all_tables() -> list[str]:
    """Every table the platform writes (for per-table bytes)."""
    return [
        table_name(m.name, part.dataset)
        for m in all_media()
        for part in (*m.assets.agent_lists, *m.assets.account_lists, *m.assets.datasets)
    ]
