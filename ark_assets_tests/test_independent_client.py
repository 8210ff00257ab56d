"""The stack serves any client on the default ports, not just Ark Assets' own resources."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.stack  # every test here runs against the real services

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "independent_client_check.py"


def test_plain_client_libraries_can_use_every_service() -> None:
    result = subprocess.run([sys.executable, str(SCRIPT)], capture_output=True, text=True, timeout=240)
    assert result.returncode == 0, result.stdout + result.stderr
    for line in (
        "hbase: pre-split SNAPPY table",
        "kafka: JSON event",
        "redis: account -> agent",
        "mysql: eton",
    ):
        assert line in result.stdout
