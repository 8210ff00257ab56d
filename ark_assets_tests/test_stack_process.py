"""The stack only ever stops processes it started: pid files carry the start time as proof."""

from __future__ import annotations

import json
import os
import signal
import sys
import time
from pathlib import Path

import psutil

from ark_stack.process import ManagedProcess, wait_until


def test_a_started_process_is_tracked_and_stopped(tmp_path: Path) -> None:
    proc = ManagedProcess("sleeper", tmp_path / "sleeper.pid", tmp_path / "sleeper.log")
    pid = proc.start([sys.executable, "-c", "import time; print('up', flush=True); time.sleep(120)"])
    assert proc.process() is not None and proc.process().pid == pid
    assert wait_until(lambda: "up" in proc.log_since(0), timeout=20)  # its output goes to its log
    assert proc.stop(timeout=10) is True
    assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    assert proc.process() is None and not proc.pid_file.exists()


def test_a_recycled_pid_is_never_signalled(tmp_path: Path) -> None:
    # A pid file left by an earlier run whose pid now belongs to another program (here: us).
    pid_file = tmp_path / "stale.pid"
    pid_file.write_text(json.dumps({"pid": os.getpid(), "create_time": 12345.0, "argv": ["java"]}))
    proc = ManagedProcess("stale", pid_file, tmp_path / "stale.log")
    assert proc.process() is None
    assert proc.stop() is False  # and we are still alive to assert it
    assert not pid_file.exists()


def test_a_process_is_stopped_with_its_own_signal(tmp_path: Path) -> None:
    # PostgreSQL's clean fast shutdown is SIGINT (SIGTERM waits for every client): a process that
    # ignores SIGTERM stops at once when its ManagedProcess asks with SIGINT.
    code = (
        "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
        "signal.signal(signal.SIGINT, signal.SIG_DFL); print('up', flush=True); time.sleep(120)"
    )
    proc = ManagedProcess("pg-like", tmp_path / "pg.pid", tmp_path / "pg.log", stop_signal=signal.SIGINT)
    pid = proc.start([sys.executable, "-c", code])
    assert wait_until(lambda: "up" in proc.log_since(0), timeout=20)
    started = time.monotonic()
    assert proc.stop(timeout=30) is True
    assert time.monotonic() - started < 10  # stopped by SIGINT, not by the SIGKILL after the timeout
    assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
