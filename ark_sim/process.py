"""`SimulatorProcess`: `ark-sim serve` as a process of its own, the one way to start one.

The demo and the benchmarks use it; tests that need the world and the live state in their own
process use `running_simulator` (server.py) instead.

    with SimulatorProcess(overrides={"profile": "seed"}, log_path=Path("sim.log")) as sim:
        sim.url(media)  # http://127.0.0.1:PORT/{media}
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ark_sim.config import SimConfig
from ark_sim.media import lookup

# How long `stop` waits after SIGINT (aiohttp's clean shutdown) before it kills.
STOP_TIMEOUT_S = 10.0
_POLL_S = 0.1
_LOG_TAIL_LINES = 20


class SimulatorStartError(RuntimeError):
    """The simulator process exited early or did not answer in time; the message names its log."""


class SimulatorProcess:
    """`python -m ark_sim serve` on 127.0.0.1 in a child process (a context manager).

    Args:
        config_path: a TOML file of knobs merged onto the shipped sim.toml.
        overrides: knobs merged on top of that (what `SimConfig.load` takes); both are validated
            here, so a bad knob fails in the caller, not in the child.
        port: the port; 0 picks a free loopback port.
        log_path: where the child's stdout and stderr go (appended); default a new temporary file.
        env: variables added to the child's environment.
        detached: the child gets a session of its own, so it outlives the caller (the demo
            starts it and leaves it running; `ark-demo down` stops it by pid).
        start_timeout_s: how long `start` waits for `/admin/counters` to answer.
    """

    def __init__(
        self,
        *,
        config_path: Path | str | None = None,
        overrides: Mapping[str, Any] | None = None,
        port: int = 0,
        log_path: Path | str | None = None,
        env: Mapping[str, str] | None = None,
        detached: bool = False,
        start_timeout_s: float = 30.0,
    ) -> None:
        self.config = SimConfig.load(config_path, dict(overrides) if overrides else None)
        self.port = port or _free_port(self.config.host)
        self.base_url = f"http://{self.config.host}:{self.port}"
        if log_path is None:
            handle, name = tempfile.mkstemp(prefix="ark-sim-", suffix=".log")
            os.close(handle)
            log_path = name
        self.log_path = Path(log_path)
        self.argv = [sys.executable, "-m", "ark_sim", "serve", "--port", str(self.port)]
        if config_path is not None:
            self.argv += ["--config", str(config_path)]
        if overrides:
            self.argv += ["--overrides", json.dumps(dict(overrides), default=str)]
        self._env = {**os.environ, **(env or {})}
        self._detached = detached
        self._start_timeout_s = start_timeout_s
        self._proc: subprocess.Popen | None = None

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    def url(self, media: str) -> str:
        """A media's base URL, http://127.0.0.1:PORT/{media}."""
        return f"{self.base_url}/{lookup(media).name}"

    def start(self) -> SimulatorProcess:
        """Spawn the server and wait until its admin endpoint answers."""
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "ab") as log:
            self._proc = subprocess.Popen(
                self.argv,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=self._env,
                start_new_session=self._detached,
            )
        deadline = time.monotonic() + self._start_timeout_s
        while True:
            if self._proc.poll() is not None:
                raise SimulatorStartError(self._failure(f"exited early (status {self._proc.returncode})"))
            try:
                self.counters()
                return self
            except OSError:
                if time.monotonic() >= deadline:
                    self.stop()
                    waited = f"did not answer /admin/counters within {self._start_timeout_s:g} s"
                    raise SimulatorStartError(self._failure(waited)) from None
                time.sleep(_POLL_S)

    def stop(self, timeout_s: float = STOP_TIMEOUT_S) -> None:
        """SIGINT (the server shuts down cleanly), SIGKILL after `timeout_s`; idempotent."""
        proc, self._proc = self._proc, None
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()

    def __enter__(self) -> SimulatorProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- admin ------------------------------------------------------------------------------------

    def counters(self) -> dict:
        """`GET /admin/counters`: requests per media endpoint and outcome, throttles, total."""
        with urllib.request.urlopen(f"{self.base_url}/admin/counters", timeout=5) as response:
            return json.load(response)

    def reset(self, *, tokens: bool = False) -> None:
        """`POST /admin/reset`: counters, quota buckets, nonces and fault streams start over."""
        body = json.dumps({"tokens": tokens}).encode()
        request = urllib.request.Request(f"{self.base_url}/admin/reset", data=body, method="POST")
        with urllib.request.urlopen(request, timeout=5) as response:
            if json.load(response).get("ok") is not True:
                raise RuntimeError(f"POST {self.base_url}/admin/reset did not answer ok")

    def _failure(self, what: str) -> str:
        try:
            lines = self.log_path.read_text(encoding="utf-8", errors="replace").splitlines()
        except OSError:
            lines = []
        tail = "".join(f"\n  {line}" for line in lines[-_LOG_TAIL_LINES:])
        return f"ark-sim serve on {self.base_url} {what}; see {self.log_path}{':' if tail else ''}{tail}"


def _free_port(host: str) -> int:
    """A port nothing listens on now (the child binds it a moment later)."""
    with socket.socket() as probe:
        probe.bind((host, 0))
        return probe.getsockname()[1]
