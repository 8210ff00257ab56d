"""`ark-stack`: the local stack's command line (what `make stack`, `stack-down`, `stack-status` run)."""

from __future__ import annotations

import sys

import click

from ark_stack.paths import StackPaths
from ark_stack.progress import Reporter
from ark_stack.service import StackError
from ark_stack.stack import Stack, status_table


@click.group()
def main() -> None:
    """Run Redis, MariaDB, PostgreSQL, HBase (+ Thrift), Kafka and HDFS on loopback for Ark Assets."""


@main.command()
def up() -> None:
    """Install what is missing, start what is down, wait until every service answers."""
    stack = Stack()
    try:
        statuses = stack.up()
    except StackError as exc:
        stack.reporter.console.print(status_table(stack.status()))
        raise click.ClickException(str(exc)) from exc
    stack.reporter.console.print(status_table(statuses))


@main.command()
def down() -> None:
    """Stop the processes `up` started (by pid file; services it reused are left alone)."""
    stack = Stack()
    stopped = stack.down()
    stack.reporter.step(f"stopped: {', '.join(stopped)}" if stopped else "nothing of ours was running")


@main.command()
def status() -> None:
    """Print the status table; exit 1 when a service is not healthy."""
    stack = Stack()
    statuses = stack.status()
    stack.reporter.console.print(status_table(statuses))
    sys.exit(0 if all(s.healthy for s in statuses) else 1)


@main.command()
@click.confirmation_option(prompt="Stop the stack and delete all its data (.stack/data)?")
def reset() -> None:
    """Stop the stack and delete its data; the next `up` starts from empty stores."""
    Stack().reset()


@main.group("prod-local")
def prod_local() -> None:
    """Dagster's production topology on loopback (make prod-local): Postgres storage, the run queue,
    a web server on 127.0.0.1:3001, a daemon and two Celery workers."""


@prod_local.command("up")
def prod_local_up() -> None:
    """Start the stack (PostgreSQL included) and the topology; seed the demo tenant; print the UI's URL."""
    from datetime import timedelta

    from ark_assets.core.days import yesterday
    from ark_stack.demo import SEED_DAYS, TENANT
    from ark_stack.prod_local import Topology

    stack = Stack()
    try:
        stack.up()
        days = [yesterday() - timedelta(days=back) for back in range(SEED_DAYS)]
        Topology.local(stack.paths).up(stack.reporter, tenant=TENANT, days=days)
    except StackError as exc:
        raise click.ClickException(str(exc)) from exc


@prod_local.command("down")
def prod_local_down() -> None:
    """Stop what `prod-local up` started (by pid file; the stack stays up: `make stack-down`)."""
    from ark_stack.prod_local import Topology

    paths = StackPaths.from_env()
    stopped = Topology.local(paths).down()
    Reporter().step(f"stopped: {', '.join(stopped)}" if stopped else "nothing of prod-local was running")


@main.group("prod-hosts")
def prod_hosts() -> None:
    """The production topology on several hosts (make prod-hosts): network namespaces on a bridge,
    a services host, a control host (web server, daemon) and two worker hosts."""


@prod_hosts.command("up")
def prod_hosts_up() -> None:
    """Create the hosts, start their services and processes, seed the demo tenant; print the hosts."""
    from datetime import timedelta

    from ark_assets.core.days import yesterday
    from ark_stack.demo import SEED_DAYS, TENANT
    from ark_stack.prod_hosts import ProdHosts

    days = [yesterday() - timedelta(days=back) for back in range(SEED_DAYS)]
    try:
        ProdHosts(StackPaths.from_env()).up(tenant=TENANT, days=days)
    except StackError as exc:
        raise click.ClickException(str(exc)) from exc


@prod_hosts.command("tools")
def prod_hosts_tools() -> None:
    """apt-install iproute2, util-linux and socat when `ip`, `nsenter`, `unshare` or `socat` is missing."""
    from ark_stack.prod_hosts import install_tools

    try:
        install_tools(Reporter())
    except StackError as exc:
        raise click.ClickException(str(exc)) from exc


@prod_hosts.command("down")
def prod_hosts_down() -> None:
    """Stop every process of `prod-hosts up` and remove its namespaces and links (the logs stay)."""
    from ark_stack.prod_hosts import ProdHosts

    stopped = ProdHosts(StackPaths.from_env()).down()
    Reporter().step(f"stopped: {', '.join(stopped)}" if stopped else "nothing of prod-hosts was running")
