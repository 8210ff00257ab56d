"""The code location loads: what `dagster dev -w workspace.yaml` and the UI depend on."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from ark_assets.definitions import defs

ROOT = Path(__file__).resolve().parents[1]


def test_definitions_validate_through_the_workspace() -> None:
    dagster = Path(sys.executable).with_name("dagster")
    result = subprocess.run(
        [str(dagster), "definitions", "validate", "-w", "workspace.yaml"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Validation successful" in result.stdout + result.stderr


def test_every_backing_service_has_a_resource() -> None:
    assert set(defs.resources) >= {"redis", "hbase", "mysql", "kafka_log", "sentry"}
