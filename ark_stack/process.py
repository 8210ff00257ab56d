"""Processes the stack starts: spawned detached, remembered in pid files, stopped only by pid.

A pid file records the pid *and* the process start time, so a recycled pid that now belongs to
some other program is never mistaken for ours (and never signalled).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import psutil
from tenacity import Retrying, retry_if_result, stop_after_delay, wait_fixed


class Launcher(Protocol):
    """Where a process runs when it is not this machine's own namespaces (`ark_stack.hosts.Host`):
    a host with its own `address` on a private `subnet` (CIDR)."""

    address: str
    subnet: str

    def wrap(self, argv: list[str], *, cwd: Path | None = None, user: str | None = None) -> list[str]:
        """`argv` as a command that runs it there, in `cwd`, as OS user `user`."""
        ...


@dataclass(frozen=True)
class ManagedProcess:
    """One long-running process of the stack, known by name (e.g. `hbase-master`)."""

    name: str
    pid_file: Path
    log_file: Path
    # What `stop` sends first. PostgreSQL takes SIGTERM as "wait for every client to leave" and
    # SIGINT as the fast, clean shutdown, so it asks for SIGINT.
    stop_signal: signal.Signals = signal.SIGTERM
    # Signal the whole process tree, not just the process we spawned: `dagster-celery worker start`
    # runs `celery` as a child and does not forward signals; `dagster-webserver` and
    # `dagster-daemon` run code servers (and the daemon's runs) as children.
    stop_tree: bool = False
    # None: here; a Host: inside that host's namespaces (its network, filesystem view, hostname).
    launcher: Launcher | None = None

    def start(
        self,
        argv: list[str],
        *,
        cwd: Path | None = None,
        env: dict[str, str] | None = None,
        user: str | None = None,
    ) -> int:
        """Spawn `argv` in its own session (it outlives `ark-stack`), log to `log_file`, record the pid.

        `user` runs it as that OS user (root only): PostgreSQL refuses to run as root.
        """
        if self.launcher is not None:
            argv, cwd, user = self.launcher.wrap(argv, cwd=cwd, user=user), None, None
        self.log_file.parent.mkdir(parents=True, exist_ok=True)
        self.pid_file.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log_file, "ab") as log:
            proc = subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=cwd,
                env={**os.environ, **(env or {})},
                start_new_session=True,
                user=user,
            )
        self.adopt(proc.pid, argv)
        return proc.pid

    def adopt(self, pid: int, argv: list[str]) -> None:
        """Record a process someone else spawned (detached) as this one, so `stop` can end it."""
        self.pid_file.parent.mkdir(parents=True, exist_ok=True)
        record = {"pid": pid, "create_time": psutil.Process(pid).create_time(), "argv": argv[:3]}
        self.pid_file.write_text(json.dumps(record))

    def process(self) -> psutil.Process | None:
        """Our process if it is still alive, else None (a stale pid file is removed)."""
        try:
            record = json.loads(self.pid_file.read_text())
        except (FileNotFoundError, ValueError):
            return None
        try:
            proc = psutil.Process(record["pid"])
            if (
                abs(proc.create_time() - record["create_time"]) < 1.0
                and proc.status() != psutil.STATUS_ZOMBIE
            ):
                return proc
        except psutil.Error:
            pass
        self.pid_file.unlink(missing_ok=True)
        return None

    def rss_mb(self) -> float | None:
        proc = self.process()
        try:
            return proc.memory_info().rss / 2**20 if proc else None
        except psutil.Error:
            return None

    def stop(self, timeout: float = 60.0) -> bool:
        """`stop_signal` to our process (never anything else), SIGKILL after `timeout`; True if stopped."""
        return self.signal_all(self.stop_signal, timeout=timeout)

    def tree(self) -> list[psutil.Process]:
        """Our process and, with `stop_tree`, every descendant of it (empty when it is not running)."""
        proc = self.process()
        if proc is None:
            return []
        try:
            return [proc, *proc.children(recursive=True)] if self.stop_tree else [proc]
        except psutil.Error:
            return [proc]

    def signal_all(self, sig: signal.Signals, *, timeout: float = 60.0) -> bool:
        """Send `sig` to our process (its tree with `stop_tree`), wait, SIGKILL what is left after
        `timeout`; True if something was running."""
        members = self.tree()
        if not members:
            return False
        for member in members:
            try:
                member.send_signal(sig)
            except psutil.NoSuchProcess:
                pass
        _, alive = psutil.wait_procs(members, timeout=timeout)
        for member in alive:
            try:
                member.kill()
            except psutil.NoSuchProcess:
                pass
        psutil.wait_procs(alive, timeout=10)
        self.pid_file.unlink(missing_ok=True)
        return True

    def log_offset(self) -> int:
        return self.log_file.stat().st_size if self.log_file.exists() else 0

    def log_since(self, offset: int) -> str:
        """The log written after `offset` (so readiness checks only see this start's lines)."""
        if not self.log_file.exists():
            return ""
        with open(self.log_file, "rb") as log:
            log.seek(offset)
            return log.read().decode("utf-8", "replace")


def port_open(port: int, host: str = "127.0.0.1", timeout: float = 0.5) -> bool:
    """True when something accepts TCP connections on host:port."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def free_port() -> int:
    """A TCP port on loopback that nothing listens on right now (for a private service or topology)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def port_owner(port: int) -> str:
    """A short description of whoever listens on `port` (for 'port taken' messages)."""
    try:
        for conn in psutil.net_connections("tcp"):
            if conn.laddr and conn.laddr.port == port and conn.status == psutil.CONN_LISTEN and conn.pid:
                proc = psutil.Process(conn.pid)
                return f"pid {conn.pid} ({' '.join(proc.cmdline()[:2])})"
    except psutil.Error:
        pass
    return "an unknown process"


def wait_until(check, timeout: float, interval: float = 0.5) -> bool:
    """Poll `check()` until it returns True or `timeout` seconds pass; returns the last result."""
    retrying = Retrying(
        stop=stop_after_delay(timeout),
        wait=wait_fixed(interval),
        retry=retry_if_result(lambda ok: not ok),
        retry_error_callback=lambda state: False,
    )
    return retrying(check)
