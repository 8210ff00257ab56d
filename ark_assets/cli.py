"""`ark-assets`: what an operator runs beside the Dagster UI (deploy steps, on-call actions).

- `ark-assets db upgrade` / `db current`: the `nyfz` log schema (alembic), once per deploy;
- `ark-assets check-partition KEY`: why a (date, tenant) key is or is not a partition;
- `ark-assets rerun-failed KEY`: what failed in a partition, re-fetched in one action;
- `ark-assets backfill JOB --from D --to D`: a range as one Dagster backfill, leaving out (and
  naming) the partitions the media no longer serve.

Configuration is the platform's: `ARK_MYSQL_*` (and `DAGSTER_HOME` for the instance).
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys

import click

from ark_assets.clients.errors import MySQLAccessDenied, ServiceUnavailable
from ark_assets.clients.log_schema import head
from ark_assets.partitions import check_partition_key
from ark_assets.resources.mysql import mysql_resource_from_env


@click.group()
def main() -> None:
    """Operate Ark Assets: the log schema, partition keys, re-running what failed."""
    logging.basicConfig(
        stream=sys.stderr, level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s"
    )


@main.group()
def db() -> None:
    """The `nyfz` run, request and response log schema (ARK_MYSQL_*, ARK_MYSQL_LOG_DB)."""


def _mysql():
    return mysql_resource_from_env().process_config_and_initialize()


@db.command()
def upgrade() -> None:
    """Migrate the log database to the newest revision (creating it when missing); idempotent."""
    mysql = _mysql()
    try:
        revision = mysql.migrate()
    except (ServiceUnavailable, MySQLAccessDenied) as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(
        f"{mysql.log_database} at {mysql.host}:{mysql.port}: schema at revision {revision} (newest {head()})"
    )


@db.command()
def current() -> None:
    """Print the log database's revision; exit 1 when it is not the newest."""
    mysql = _mysql()
    try:
        revision = mysql.schema_revision()
    except (ServiceUnavailable, MySQLAccessDenied) as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"{mysql.log_database}: {revision or 'not migrated'} (newest {head()})")
    sys.exit(0 if revision == head() else 1)


@main.command("check-partition")
@click.argument("key")
def check_partition(key: str) -> None:
    """Say whether KEY ('YYYY-MM-DD|TENANT') is a partition the platform can materialize, and why not."""
    tenants = _known_tenants()
    try:
        day, tenant = check_partition_key(key, tenants=tenants)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"{key}: the {day} partition of tenant {tenant}")


@main.command("rerun-failed")
@click.argument("key")
@click.option("--dry-run", is_flag=True, help="Only say what failed; run nothing.")
def rerun_failed_command(key: str, dry_run: bool) -> None:
    """Re-fetch exactly the accounts that failed in the latest materializations of partition KEY
    ('YYYY-MM-DD|TENANT'): the rerun_failed job, run here on the assets that have failures and
    recorded on the instance (DAGSTER_HOME) like a run from the UI. Exit 1 if something still fails."""
    if not os.environ.get("DAGSTER_HOME"):
        raise click.ClickException("DAGSTER_HOME is not set: it must point at the instance the runs are on")
    from dagster import DagsterInstance

    from ark_assets.automation.rerun import partition_failures, rerun_failed
    from ark_assets.media.registry import all_media
    from ark_assets.partitions import tenant_partitions

    with DagsterInstance.get() as instance:
        tenants = instance.get_dynamic_partitions(tenant_partitions.name)
        try:
            check_partition_key(key, tenants=tenants)
        except ValueError as exc:
            raise click.ClickException(str(exc)) from None
        failures = partition_failures(instance, all_media(), key)
        if not failures:
            click.echo(f"{key}: nothing failed in the latest materializations; nothing to re-run")
            return
        for found in failures.values():
            for one in found:
                click.echo(one.describe())
        if dry_run:
            return
        from ark_assets.definitions import defs

        result = rerun_failed(defs.resolve_job_def("rerun_failed"), instance, key, failures)
        left = partition_failures(instance, all_media(), key)
    still = sum(f.failed for found in left.values() for f in found)
    click.echo(
        f"run {result.run_id}: {'succeeded' if result.success else 'FAILED'}; "
        + (
            f"{still} sources still failing (run it again once the cause is fixed)"
            if still
            else "every source ok now"
        )
    )
    sys.exit(0 if result.success and not still else 1)


@main.command("backfill")
@click.argument("job")
@click.option("--from", "first", required=True, type=click.DateTime(["%Y-%m-%d"]), help="First day.")
@click.option("--to", "last", required=True, type=click.DateTime(["%Y-%m-%d"]), help="Last day.")
@click.option("--tenant", "tenants", multiple=True, help="A tenant (repeat it); default: every tenant.")
@click.option(
    "--workspace", default="workspace.yaml", show_default=True, help="The code location's workspace."
)
@click.option("--dry-run", is_flag=True, help="Only say what would be launched and skipped.")
def backfill_command(job: str, first, last, tenants: tuple[str, ...], workspace: str, dry_run: bool) -> None:
    """Backfill JOB over the days --from..--to as one Dagster backfill (the daemon runs it), leaving
    out the partitions a selected asset's media no longer serve (each named with the reason)."""
    from ark_assets.automation.backfill import days_between, plan_backfill
    from ark_assets.core.days import today
    from ark_assets.definitions import defs

    try:
        days = days_between(first.date(), last.date())
        job_def = defs.resolve_job_def(job)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    chosen = list(tenants) or _known_tenants() or []
    if not chosen:
        raise click.ClickException(
            "no tenants: give --tenant, or set DAGSTER_HOME to an instance that has them"
        )
    plan = plan_backfill(job_def, days, chosen, today())
    for line in plan.lines(job):
        click.echo(line)
    if not plan.launch:
        click.echo("nothing to launch")
        return
    click.echo(
        f"{'would launch' if dry_run else 'launching'} {len(plan.launch)} partitions: {','.join(plan.launch)}"
    )
    if dry_run:
        return
    command = [sys.executable, "-m", "dagster", "job", "backfill", "-w", workspace, "-j", job, "--noprompt"]
    done = subprocess.run([*command, "--partitions", ",".join(plan.launch)], check=False)  # noqa: S603
    sys.exit(done.returncode)


def _known_tenants() -> list[str] | None:
    """The instance's tenant partitions (DAGSTER_HOME), or None when there is no instance to ask."""
    if not os.environ.get("DAGSTER_HOME"):
        return None
    from dagster import DagsterInstance

    from ark_assets.partitions import tenant_partitions

    with DagsterInstance.get() as instance:
        return instance.get_dynamic_partitions(tenant_partitions.name)
