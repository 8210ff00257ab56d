"""A whole platform for end-to-end tests: simulator, a seeded tenant, resources on unique names.

Every end-to-end test module (the asset graph, the fault matrix, the secrets sweep) builds one
with `running_platform()`; it owns its HBase tables, MySQL databases, Kafka topics and Redis keys
and deletes them afterwards (the local HBase master runs out of heap when tables pile up).
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import pymysql
import redis
from dagster import AssetKey, DagsterInstance, materialize

from ark_assets.assets.build import media_assets
from ark_assets.core.tables import table_name
from ark_assets.defs.resources import platform_resources
from ark_assets.io.hbase_io_manager import HBaseIOManager
from ark_assets.media.registry import all_media, names
from ark_assets.media.registry import media as media_named
from ark_assets.partitions import partition_key
from ark_assets.resources.hbase import HBaseResource
from ark_assets.resources.kafka_log import KafkaLogResource
from ark_assets.resources.media_api import configured_version, deployed_assets, media_api_resource_from_env
from ark_assets.resources.mysql import MySQLResource
from ark_assets.resources.redis_store import RedisResource
from ark_assets.resources.run_log import RunLogResource
from ark_assets.resources.sentry import SentryResource, close_sdk
from ark_assets_tests.sentry_sink import SentrySink
from ark_sim.config import deep_merge
from ark_sim.seed import MySQLTarget, seed_tenant
from ark_sim.server import RunningSimulator, running_simulator
from ark_sim.world import World

DAY = date(2026, 11, 25)
# One multi-asset per media (its step), every check inline; no comparison table.
ASSETS = [a for media in all_media() for a in media_assets(media, compare_prefix="")]


# gdt's hourly report in the API version this run speaks (v3.0 has no AD level)
HOURLY_REPORT = next(
    d.name for d in deployed_assets(media_named("gdt")).datasets if d.endpoint == "hourly_reports/get"
)


# async report tasks at test speed: a task ready in half a second, one per agency a second (the
# vendor's cooldown is 5 minutes), and the platform pacing and polling to match
FAST_TASKS = {
    media: {"async_reports": {"pending_s": 0.2, "processing_s": 0.3, "cooldown_s": 1.0}}
    for media in ("gdt", "wx")
}
TASK_KNOBS = {"task_cooldown_s": 1.0, "task_poll_s": 0.2}


def all_tables() -> list[tuple[str, str]]:
    """Every (media, dataset) whose rows the platform stores in HBase, in the API versions this
    run speaks (`deployed_assets`)."""
    return [
        (media.name, part.dataset)
        for media in all_media()
        for assets in (deployed_assets(media),)
        for part in (*assets.agent_lists, *assets.account_lists, *assets.datasets)
    ]


def api_versions() -> dict[str, str]:
    """media -> the API version this run speaks (what `ark-sim truth --api-version` takes)."""
    return {media.name: configured_version(media) for media in all_media()}


def seed(world: World, tenant: str, day: date, mysql: MySQLResource) -> None:
    """`ark-sim seed` in-process: the tenant's Redis keys (db 2) and eton rows in `mysql`'s eton database."""
    seed_tenant(world, tenant, day, mysql=MySQLTarget(eton_database=mysql.eton_database))


def step_config(keys: list[AssetKey], config: dict) -> dict:
    """Run config giving `config` (a slice: agents_list, account_list, assets) to the steps of `keys`."""
    return {"ops": {media: {"config": config} for media in sorted({k.path[0] for k in keys})}}


def new_tenant(prefix: str = "T6") -> str:
    """A tenant alias no other test (or earlier run) uses."""
    return f"{prefix}{secrets.randbelow(10**9):09d}"


@dataclass
class Platform:
    sim: RunningSimulator
    tenant: str
    resources: dict[str, Any]
    instance: DagsterInstance
    hbase: HBaseResource
    mysql: MySQLResource
    topic_prefix: str
    sink: SentrySink
    day: date = DAY
    first: Any = None
    first_counters: dict = field(default_factory=dict)  # the simulator's counters after the first run
    tenants: list[str] = field(default_factory=list)

    def run(
        self,
        selection: list[str] | None = None,
        config: dict | None = None,
        tenant: str | None = None,
        resources: dict[str, Any] | None = None,
        day: date | None = None,
    ):
        """Materialize `selection` (all assets by default) for one (day, tenant) partition; `config`
        is the slice config of the selected media's steps."""
        keys = [AssetKey(s.split("/")) for s in selection] if selection else None
        run_config = step_config(keys, config) if config and keys else None
        return materialize(
            ASSETS,
            selection=keys,
            partition_key=str(partition_key(day or self.day, tenant or self.tenant)),
            resources=self.with_resources(resources),
            instance=self.instance,
            run_config=run_config,
            raise_on_error=False,
        )

    def with_resources(self, resources: dict[str, Any] | None) -> dict[str, Any]:
        """The platform's resources with some replaced; the run log always nests the MySQL, Kafka
        and Sentry resources in effect (tests replace those, in `resources` or on the platform)."""
        merged = {**self.resources, **(resources or {})}
        if "run_log" not in (resources or {}):
            merged["run_log"] = RunLogResource(
                mysql=merged["mysql"], kafka_log=merged["kafka_log"], sentry=merged["sentry"]
            )
        return merged

    def rows(self, media: str, dataset: str, day: date | None = None) -> int:
        return self.hbase.count_date(table_name(media, dataset), day or self.day)

    def tables(self, day: date | None = None) -> dict[str, int]:
        """Rows per HBase table for the day (the shape `ark-sim truth` reports)."""
        return {table_name(m, name): self.rows(m, name, day) for m, name in all_tables()}

    def add_tenant(self, tenant: str | None = None, *, seed: bool = True, day: date | None = None) -> str:
        """Another tenant of this platform (seeded from the simulator's world unless `seed=False`)."""
        tenant = tenant or new_tenant()
        self.tenants.append(tenant)
        self.instance.add_dynamic_partitions("tenants", [tenant])
        if seed:  # (the parameter hides the module's `seed`)
            seed_tenant(
                self.sim.world,
                tenant,
                day or self.day,
                mysql=MySQLTarget(eton_database=self.mysql.eton_database),
            )
        return tenant

    def reseed(self, day: date | None = None) -> None:
        """Put the tenant's eton rows and Redis keys back as the world has them."""
        seed(self.sim.world, self.tenant, day or self.day, self.mysql)


@contextmanager
def running_platform(
    *, first_run: bool = True, max_in_flight: int = 32, **sim_overrides: Any
) -> Iterator[Platform]:
    """A simulator, a seeded tenant and resources on unique names; cleaned up on exit.

    Args:
        first_run: materialize every asset of the partition before yielding (`platform.first`).
        sim_overrides: simulator config overrides (`running_simulator(**overrides)`).
    """
    unique = secrets.token_hex(4)
    tenant = new_tenant()
    mysql = MySQLResource(log_database=f"ark_t_{unique}_nyfz", eton_database=f"ark_t_{unique}_eton")
    hbase = HBaseResource(table_prefix=f"t{unique}")
    tenants = [tenant]  # every tenant the platform seeds; `add_tenant` appends
    overrides = deep_merge({"clock": {"today": "2026-11-26"}, "media": FAST_TASKS}, sim_overrides)
    try:
        mysql.migrate()  # as a deploy would: the log schema at its newest revision
        with running_simulator(**overrides) as sim, SentrySink() as sink:
            seed(sim.world, tenant, DAY, mysql)
            resources = platform_resources(
                io_manager=HBaseIOManager(hbase=hbase),
                redis=RedisResource(),
                mysql=mysql,
                hbase=hbase,
                kafka_log=KafkaLogResource(
                    topic_prefix=f"t{unique}_", spool_dir=f"/tmp/ark-test-spool-{unique}"
                ),
                sentry=SentryResource(dsn=sink.dsn),
                media_api=media_api_resource_from_env(
                    base_urls={m: sim.url(m) for m in names()}, max_in_flight=max_in_flight, **TASK_KNOBS
                ),
            )
            instance = DagsterInstance.ephemeral()
            instance.add_dynamic_partitions("tenants", [tenant])
            platform = Platform(
                sim, tenant, resources, instance, hbase, mysql, f"t{unique}_", sink, tenants=tenants
            )
            if first_run:
                first = platform.run()
                assert first.success, [
                    e.message for e in first.all_events if e.event_type_value == "STEP_FAILURE"
                ]
                platform.first = first
                platform.first_counters = sim.counters()
            try:
                yield platform
            finally:
                close_sdk(timeout_s=1)  # the SDK is process-global: leave it off for other tests
    finally:
        drop_owned(hbase, mysql, tenants)


def drop_owned(hbase: HBaseResource, mysql: MySQLResource, tenants: list[str]) -> None:
    """Drop what a test owns: the platform's HBase tables under `hbase`'s prefix (the master runs
    out of memory if they pile up), `mysql`'s two databases, and the tenants' Redis keys."""
    for media, name in all_tables():
        hbase.delete_table(table_name(media, name))
    conn = pymysql.connect(host="127.0.0.1", user="ark", password="ark")
    with conn.cursor() as cur:
        for db in (mysql.log_database, mysql.eton_database):
            cur.execute(f"DROP DATABASE IF EXISTS `{db}`")
    conn.close()
    raw = redis.Redis(db=2)
    for tenant in set(tenants):
        for key in raw.scan_iter(match=f"*_{tenant}*"):
            raw.delete(key)
