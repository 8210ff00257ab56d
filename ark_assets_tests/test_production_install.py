"""The production install holds together: a paired Dagster family, and a dagster.yaml that loads.

- the installed Dagster family is one release: dagster, dagster-webserver and dagster-dg-cli 1.13.N
  with the integrations dagster-postgres and dagster-celery 0.29.N (integrations are numbered 16
  minors below core), exactly as pyproject.toml pins them, and SQLAlchemy below 2.1 (2.1 makes
  psycopg 3 the PostgreSQL driver and dagster-postgres' event writes fail);
- `dagster_postgres` and `dagster_celery` import;
- `deploy/dagster.production.yaml`, copied verbatim, loads as a Postgres-backed instance (against
  the stack's PostgreSQL, in a database of its own) with the queued run coordinator, a run limit
  per media (run tag `media`) and the `media_*` pools, four each (sized by quota: README
  "Concurrency and quotas"), run monitoring and retries.
"""

from __future__ import annotations

import importlib
import os
import secrets
import shutil
import tomllib
from collections.abc import Iterator
from importlib.metadata import version
from pathlib import Path

import pytest
from dagster import DagsterInstance

from ark_assets_tests.dagster_ui import ROOT
from ark_stack.services.postgres import connect, drop_database, ensure_database

CORE = (
    "dagster",
    "dagster-webserver",
    "dagster-graphql",
    "dagster-pipes",
    "dagster-shared",
    "dagster-dg-cli",
)
INTEGRATIONS = ("dagster-postgres", "dagster-celery")
MEDIA_LIMIT = 4  # runs per `media` tag and steps per media pool at once


def _pins() -> dict[str, str]:
    """`name==version` pins of pyproject.toml (dependencies and every extra)."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    specs = [
        *project["dependencies"],
        *(d for extra in project["optional-dependencies"].values() for d in extra),
    ]
    return {name.split("[")[0]: pinned for name, _, pinned in (s.partition("==") for s in specs) if pinned}


def test_the_installed_dagster_family_is_one_paired_release() -> None:
    installed = {name: version(name) for name in (*CORE, *INTEGRATIONS)}
    core = {installed[name] for name in CORE}
    assert len(core) == 1, installed  # every core package at the same 1.13.N
    major, minor, patch = next(iter(core)).split(".")
    paired = f"0.{int(minor) + 16}.{patch}"  # dagster 1.13.27 <-> integrations 0.29.27
    assert major == "1" and {installed[name] for name in INTEGRATIONS} == {paired}, installed
    pins = _pins()
    assert {name: installed[name] for name in pins if name in installed} == {
        name: pins[name] for name in pins if name in installed
    }
    assert version("sqlalchemy").startswith("2.0."), version("sqlalchemy")


def test_the_production_integrations_import() -> None:
    for module, distribution in (
        ("dagster_postgres", "dagster-postgres"),
        ("dagster_celery", "dagster-celery"),
    ):
        assert importlib.import_module(module).__version__ == version(distribution)


@pytest.fixture
def production_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """DAGSTER_HOME with the shipped dagster.yaml, DAGSTER_PG_* naming a fresh database (yielded)."""
    database = f"dagster_i_{secrets.token_hex(4)}"
    ensure_database(database)
    shutil.copyfile(ROOT / "deploy" / "dagster.production.yaml", tmp_path / "dagster.yaml")
    for name, value in {
        "DAGSTER_HOME": str(tmp_path),
        "DAGSTER_PG_HOST": "127.0.0.1",
        "DAGSTER_PG_PORT": "5432",
        "DAGSTER_PG_USERNAME": os.environ.get("DAGSTER_PG_USERNAME", "dagster"),
        "DAGSTER_PG_PASSWORD": os.environ.get("DAGSTER_PG_PASSWORD", "dagster"),
        "DAGSTER_PG_DB": database,
    }.items():
        monkeypatch.setenv(name, value)
    try:
        yield database
    finally:
        drop_database(database)


@pytest.mark.stack
def test_the_shipped_production_yaml_loads_as_a_postgres_instance(production_home: str) -> None:
    from dagster._core.scheduler.instigation import InstigatorType, TickStatus

    instance = DagsterInstance.get()
    try:
        storages = {type(s).__name__ for s in (instance.run_storage, instance.event_log_storage)}
        assert storages | {type(instance.schedule_storage).__name__} == {
            "PostgresRunStorage",
            "PostgresEventLogStorage",
            "PostgresScheduleStorage",
        }
        assert type(instance.run_coordinator).__name__ == "QueuedRunCoordinator"
        concurrency = instance.get_concurrency_config()
        assert concurrency.run_queue_config.tag_concurrency_limits == [
            {"key": "media", "value": {"applyLimitPerUniqueValue": True}, "limit": MEDIA_LIMIT}
        ]  # each media's runs apart, a new media's too
        pools = concurrency.pool_config
        assert (pools.default_pool_limit, pools.pool_granularity.value, pools.op_granularity_run_buffer) == (
            MEDIA_LIMIT,
            "op",
            10,
        )
        assert instance.run_monitoring_enabled and instance.run_retries_max_retries == 1
        assert instance.get_tick_retention_settings(InstigatorType.SENSOR)[TickStatus.SKIPPED] == 7
        # the storage really is that Postgres database: what the instance writes is a row there
        instance.add_dynamic_partitions("tenants", ["T100117"])
        conn = connect(database=production_home)
        try:
            with conn.cursor() as cur:
                cur.execute("SELECT partitions_def_name, partition FROM dynamic_partitions")
                assert cur.fetchall() == [("tenants", "T100117")]
        finally:
            conn.close()
    finally:
        instance.dispose()
