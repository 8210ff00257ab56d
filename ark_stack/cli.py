"""`ark-stack`: the local stack's command line (what `make stack`, `stack-down`, `stack-status` run)."""

from __future__ import annotations

import sys

import click

from ark_stack.service import StackError
from ark_stack.stack import Stack, status_table


@click.group()
def main() -> None:
    """Run Redis, MariaDB, PostgreSQL, HBase (+ Thrift) and Kafka on loopback for Ark Assets."""


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
