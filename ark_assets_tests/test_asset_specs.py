"""Contract: every asset's spec -- key, lineage, group, table, kinds, tags, pool, checks, and the
step (op) it runs in -- is exactly the reviewed snapshot, so a change to what the UI shows, or to
how a partition is executed, is visible in review.

Built from the definitions Dagster and `dg` load (`ark_assets.definitions.defs`), no service
needed. After an intended change: `ARK_UPDATE_SNAPSHOTS=1 pytest ark_assets_tests/test_asset_specs.py`
and review the diff of `snapshots/asset_specs.json`.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from ark_assets.definitions import defs

SNAPSHOT = Path(__file__).with_name("snapshots") / "asset_specs.json"


def _specs() -> dict:
    graph = defs.resolve_asset_graph()
    checks: dict[str, list[str]] = {}
    for check_key in graph.asset_check_keys:
        checks.setdefault(check_key.asset_key.to_user_string(), []).append(check_key.name)
    specs = {}
    for key in sorted(graph.get_all_asset_keys()):
        node = graph.get(key)
        specs[key.to_user_string()] = {
            "deps": sorted(k.to_user_string() for k in node.parent_keys),
            "group": node.group_name,
            "table": node.metadata.get("hbase_table"),
            "row_kind": node.metadata.get("row_kind"),
            "row_suffix": node.metadata.get("row_suffix"),
            "kinds": sorted(node.kinds),
            "tags": dict(sorted(node.tags.items())),
            "pools": sorted(node.pools),
            "step": node.assets_def.node_def.name,  # one step per media (assets/media_step.py)
            "partitions": [d.name for d in node.partitions_def.partitions_defs],
            "automation": node.automation_condition.get_label() if node.automation_condition else None,
            "checks": sorted(checks.get(key.to_user_string(), [])),
            "owners": sorted(node.owners),
            "code_references": [
                r.label or Path(r.file_path).name
                for r in node.metadata["dagster/code_references"].code_references
            ],
        }
    return specs


def test_every_asset_spec_matches_the_snapshot() -> None:
    current = _specs()
    if os.environ.get("ARK_UPDATE_SNAPSHOTS"):
        SNAPSHOT.parent.mkdir(exist_ok=True)
        SNAPSHOT.write_text(json.dumps(current, indent=2, ensure_ascii=False) + "\n")
    assert current == json.loads(SNAPSHOT.read_text()), (
        "asset specs changed: review, then ARK_UPDATE_SNAPSHOTS=1"
    )


def test_the_lineage_reads_agents_advertisers_then_funds_and_reports() -> None:
    current = _specs()
    assert current["gdt/advertisers"]["deps"] == ["gdt/agents"]
    assert current["jrtt/funds"]["deps"] == ["jrtt/advertisers_first_tier", "jrtt/advertisers_second_tier"]
    assert {v["group"] for v in current.values()} == {"gdt", "jrtt", "wx", "intraday"}
    assert all(v["checks"] for v in current.values())  # every asset is checked
    # the intraday twins (INCR) have no lineage edge: they read the previous day's Redis lists
    assert (
        current["gdt/intraday_funds"]["deps"] == [] and current["gdt/intraday_funds"]["group"] == "intraday"
    )


def test_a_partition_runs_in_one_step_per_media() -> None:
    steps = {name: spec["step"] for name, spec in _specs().items()}
    # one step per media for a day's partition; the intraday twins in one step of their own per media
    assert all(
        step == name.split("/")[0] + ("_intraday" if "/intraday_" in name else "")
        for name, step in steps.items()
    )
    assert {step for step in steps.values() if not step.endswith("_intraday")} == {"gdt", "jrtt", "wx"}
