"""Contract: the `async_tasks_ahead` sensor makes tasks ahead for exactly the partitions whose
bulk-path reports a waiting run will fetch (no service needed).

- a run of every media (untagged, no selection) or of a Tencent media wants that media's tasks
  for its partition, once however many runs ask;
- a run of jrtt only, of other assets only, a slice re-run (accounts, agents, per-asset slices),
  `failed_only` or `rerun_failed`, a run of no partition, and a deployment without bulk paths
  want none.
"""

from __future__ import annotations

from datetime import date
from types import SimpleNamespace

import pytest
from dagster import AssetKey

from ark_assets.automation.tasks_ahead import wanted_by
from ark_assets.media.registry import all_media
from ark_assets.resources.media_api import media_api_resource_from_env

PARTITION = "2026-11-25|T100117"
VERSIONS = {"gdt": "v3.0", "wx": "v3.0"}  # the versions with async report tasks (the default)


def _run(tags: dict | None = None, job: str = "all_media_daily", config: dict | None = None, selection=None):
    tags = {"dagster/partition": PARTITION, **(tags or {})}
    return SimpleNamespace(tags=tags, job_name=job, run_config=config or {}, asset_selection=selection)


def _wanted(*runs: SimpleNamespace, bulk: bool = True) -> list[tuple[str, str, date]]:
    api = media_api_resource_from_env(base_urls={}, api_versions=VERSIONS, bulk_reports=bulk)
    return sorted((m.name, tenant, day) for m, tenant, day in wanted_by(runs, all_media(), api))


def test_a_run_of_every_media_wants_the_tencent_tasks_once() -> None:
    expected = [(m, "T100117", date(2026, 11, 25)) for m in ("gdt", "wx")]
    assert _wanted(_run(), _run(job="reports_lookback"), _run({"media": "gdt"})) == expected


@pytest.mark.parametrize(
    "run",
    [
        _run({"media": "jrtt"}, job="jrtt_daily"),
        _run(selection=[AssetKey(["gdt", "funds"]), AssetKey(["gdt", "advertisers"])]),
        _run(config={"ops": {"gdt": {"config": {"account_list": ["1"]}}}}),
        _run(
            config={
                "ops": {"gdt": {"config": {"assets": {"daily_report_advertiser": {"agents_list": ["7"]}}}}}
            }
        ),
        _run(config={"ops": {"gdt": {"config": {"failed_only": True}}}}),
        _run(job="rerun_failed"),
        SimpleNamespace(tags={}, job_name="all_media_daily", run_config={}, asset_selection=None),
    ],
    ids=[
        "jrtt-only",
        "no-report",
        "accounts",
        "per-asset-agents",
        "failed-only",
        "rerun-failed",
        "no-partition",
    ],
)
def test_runs_that_ask_per_account_or_no_tencent_report_want_none(run: SimpleNamespace) -> None:
    assert _wanted(run) == []


def test_a_deployment_without_bulk_paths_wants_none() -> None:
    assert _wanted(_run(), bulk=False) == []
