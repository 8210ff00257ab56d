"""Helpers for the browser test: Debian's chromium, `dagster dev` on a free loopback port, GraphQL.

Playwright drives the system browser (`executable_path`): browser downloads (`playwright
install`) are impossible on our machines, and `make test` apt-installs `chromium` when missing.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import requests

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "artifacts" / "ui"
T = TypeVar("T")


def chromium_path() -> str | None:
    """Debian's chromium, if installed (`make test` installs it: the `browser` target)."""
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    return None


def chromium_args() -> list[str]:
    # Chromium's sandbox refuses to start as root (CI runs as root); elsewhere keep it on. A small
    # /dev/shm (containers) crashes tabs; /tmp is used instead.
    return ["--disable-dev-shm-usage", *(["--no-sandbox"] if os.geteuid() == 0 else [])]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(what: str, probe: Callable[[], T | None], *, timeout: float, every: float = 1.0) -> T:
    """Poll `probe` until it returns something truthy; fail naming `what` after `timeout` s."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(every)


class DagsterDev:
    """`dagster dev -w workspace.yaml` (web server, daemon, code server) on 127.0.0.1:`port`."""

    def __init__(self, home: Path, env: dict[str, str], port: int) -> None:
        self.home, self.env, self.port = home, env, port
        self.url = f"http://127.0.0.1:{port}"
        self.log = home / "dagster-dev.log"
        self._proc: subprocess.Popen | None = None

    def cli(self, *args: str) -> str:
        """A `dagster` CLI command against the same instance and workspace."""
        result = subprocess.run(
            [str(Path(sys.executable).with_name("dagster")), *args],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode == 0, f"dagster {' '.join(args)} failed: {result.stderr[-2000:]}"
        return result.stdout

    def start(self) -> None:
        with open(self.log, "w") as log:
            # Its own process group: teardown can reach the web server, daemon and code server
            # even if `dagster dev` itself dies first.
            self._proc = subprocess.Popen(
                [
                    str(Path(sys.executable).with_name("dagster")),
                    "dev",
                    "-w",
                    "workspace.yaml",
                    "-h",
                    "127.0.0.1",
                    "-p",
                    str(self.port),
                ],
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=_default_sigint,
            )
        wait_for("the code location `ark_assets` to load", self._location_loaded, timeout=180)
        wait_for("the sensor and run-queue daemons", self._daemons_healthy, timeout=120, every=2)

    def stop(self) -> None:
        """SIGINT (what `dagster dev` handles: it stops its children), then the group if needed."""
        proc = self._proc
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            pass
        try:
            os.killpg(proc.pid, signal.SIGKILL)  # the group we created; leftovers only
        except ProcessLookupError:
            pass
        proc.wait(timeout=10)

    def graphql(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        response = requests.post(
            f"{self.url}/graphql", json={"query": query, "variables": variables or {}}, timeout=30
        )
        response.raise_for_status()
        body = response.json()
        assert "errors" not in body, body["errors"]
        return body["data"]

    def runs(self, tags: dict[str, str] | None = None) -> list[dict[str, Any]]:
        """Runs, newest first, with status and tags (optionally only those with `tags`)."""
        data = self.graphql(
            """query($filter: RunsFilter) { runsOrError(filter: $filter, limit: 20) {
                 ... on Runs { results { runId status tags { key value } assetSelection { path } } } } }""",
            {"filter": {"tags": [{"key": k, "value": v} for k, v in (tags or {}).items()]}},
        )
        return data["runsOrError"]["results"]

    def _location_loaded(self) -> bool:
        if self._proc is not None and self._proc.poll() is not None:
            raise AssertionError(f"`dagster dev` exited with {self._proc.returncode}; see {self.log}")
        try:
            data = self.graphql(
                """{ workspaceOrError { ... on Workspace { locationEntries {
                     name loadStatus locationOrLoadError { __typename } } } } }"""
            )
        except requests.RequestException:
            return False
        entries = data["workspaceOrError"]["locationEntries"]
        return any(
            e["name"] == "ark_assets"
            and e["loadStatus"] == "LOADED"
            and e["locationOrLoadError"]["__typename"] == "RepositoryLocation"
            for e in entries
        )

    def _daemons_healthy(self) -> bool:
        data = self.graphql(
            "{ instance { daemonHealth { allDaemonStatuses { daemonType healthy required } } } }"
        )
        statuses = data["instance"]["daemonHealth"]["allDaemonStatuses"]
        healthy = {s["daemonType"] for s in statuses if s["healthy"]}
        return {"SENSOR", "QUEUED_RUN_COORDINATOR"} <= healthy


def _default_sigint() -> None:
    # A shell starts background jobs with SIGINT ignored, and children inherit that: then
    # `dagster dev` could not be stopped the way it expects (SIGINT stops its children cleanly).
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@contextmanager
def dagster_dev(home: Path, env: dict[str, str]) -> Iterator[DagsterDev]:
    dev = DagsterDev(home, env, free_port())
    try:
        dev.start()
        yield dev
    finally:
        dev.stop()
