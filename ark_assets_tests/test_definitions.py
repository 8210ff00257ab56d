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


def test_the_demos_selection_is_one_partitioned_run() -> None:
    """`make demo` materializes every daily asset in one `dagster asset materialize` for one
    partition key: Dagster refuses a selection whose assets do not share one partitions
    definition (the intraday twins have their own), so the demo's selection must."""
    from ark_stack.demo import _daily_keys

    graph = defs.resolve_asset_graph()
    keys = _daily_keys()
    assert {graph.get(k).partitions_def for k in keys} == {graph.get(keys[0]).partitions_def}
    assert not any(k.path[-1].startswith("intraday_") for k in keys)
    assert {k.path[0] for k in keys} == {"gdt", "jrtt", "wx"}
