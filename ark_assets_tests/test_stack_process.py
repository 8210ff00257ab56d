"""The stack only ever stops processes it started: pid files carry the start time as proof."""

from __future__ import annotations

import json
import os
import sys
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
