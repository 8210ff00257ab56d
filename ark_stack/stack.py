"""Bring the whole local stack up or down, idempotently, and report its status."""

from __future__ import annotations

import os
import shutil
import subprocess
import time

from rich.table import Table

from ark_stack.paths import StackPaths
from ark_stack.progress import Reporter
from ark_stack.service import Service, ServiceStatus, StackError
from ark_stack.services.hbase import HBaseService
from ark_stack.services.hdfs import HdfsService
from ark_stack.services.kafka import KafkaService
from ark_stack.services.mariadb import MariaDBService
from ark_stack.services.postgres import PostgresService
from ark_stack.services.redis import RedisService


class Stack:
    """The six services, started in order: Redis, MariaDB, PostgreSQL, then HBase, Kafka and HDFS
    side by side."""

    def __init__(self, paths: StackPaths | None = None, reporter: Reporter | None = None) -> None:
        self.paths = paths or StackPaths.from_env()
        self.reporter = reporter or Reporter()
        self.services: list[Service] = [
            cls(self.paths, self.reporter)
            for cls in (
                RedisService,
                MariaDBService,
                PostgresService,
                HBaseService,
                KafkaService,
                HdfsService,
            )
        ]

    def up(self) -> list[ServiceStatus]:
        """Install what is missing, start what is down, wait for readiness; return the final status."""
        started = time.monotonic()
        self.paths.make_dirs()
        statuses = self.status()
        if all(s.healthy for s in statuses):
            self.reporter.step("Everything is already up; nothing to do.")
            return statuses
        down = [svc for svc, st in zip(self.services, statuses, strict=True) if not st.healthy]
        install_packages(down, self.reporter)
        to_start: list[Service] = []
        for svc in down:
            if svc.running_externally():
                self.reporter.step(f"{svc.name}: reusing the one already listening on port {svc.port}")
                svc.adopt_external()
            else:
                to_start.append(svc)
        for svc in to_start:  # downloads and config first, so a failure here starts nothing
            svc.prepare()
        for svc in to_start:
            if svc.owned():  # a partial start (one process died): restart it cleanly
                self.reporter.warn(f"{svc.name}: restarting (not all of its processes were running)")
                svc.stop()
            self.reporter.step(f"{svc.name}: starting")
            svc.start()
        for svc in to_start:  # every process was spawned above, so the JVM start-ups overlap
            svc.wait_ready()
        statuses = self.status()
        unhealthy = [s for s in statuses if not s.healthy]
        if unhealthy:
            raise StackError("; ".join(f"{s.name}: {s.detail}" for s in unhealthy))
        self.reporter.step(f"Stack ready in {time.monotonic() - started:.1f} s")
        return statuses

    def down(self) -> list[str]:
        """Stop the processes the stack started (never anything else); returns their names."""
        stopped: list[str] = []
        for svc in reversed(self.services):
            stopped += svc.stop()
        return stopped

    def status(self) -> list[ServiceStatus]:
        return [svc.status() for svc in self.services]

    def reset(self) -> None:
        """Stop the stack and delete its data (jars in the cache are kept)."""
        self.down()
        shutil.rmtree(self.paths.root / "data", ignore_errors=True)


def install_packages(services: list[Service], reporter: Reporter) -> None:
    """apt-get install the Debian packages `services` need and lack."""
    packages = sorted({pkg for svc in services if not svc.running_externally() for pkg in svc.apt_packages()})
    apt_install(packages, reporter)


def apt_install(packages: list[str], reporter: Reporter) -> None:
    """apt-get update and install `packages` from Debian (sudo unless root); nothing if none."""
    if not packages:
        return
    prefix = [] if os.geteuid() == 0 else ["sudo"]
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    with reporter.waiting(f"Installing {', '.join(packages)} from Debian's packages") as update:
        for argv in (
            ["apt-get", "update", "-qq"],
            ["apt-get", "install", "-y", "-qq", "--no-install-recommends", *packages],
        ):
            update(" ".join(argv[:2]))
            result = subprocess.run(prefix + argv, env=env, capture_output=True, text=True)
            if result.returncode != 0:
                raise StackError(f"`{' '.join(argv)}` failed: {result.stderr.strip()[-800:]}")


def status_table(statuses: list[ServiceStatus]) -> Table:
    table = Table(title="Ark Assets local stack")
    for column in ("service", "endpoint", "state", "owner", "memory", "detail"):
        table.add_column(column)
    for s in statuses:
        state = (
            "[green]healthy[/]" if s.healthy else "[red]down[/]" if s.owner == "-" else "[red]unhealthy[/]"
        )
        memory = f"{s.memory_mb:.0f} MB" if s.memory_mb else "-"
        table.add_row(s.name, s.endpoint, state, s.owner, memory, s.detail)
    return table
