"""Contract: a record field that appears in the media's answers is seen, once, and the policy is applied.

Against the simulator (a tamper rule adds a field to wx `funds/get` records) and the real stack:
- every materialization records its record fields (`record_fields`); a field new since the
  tenant's previous partition is in the metadata (`fields_appeared`, `fields_since`) and alerts
  once (Sentry), not again on a re-run; `store_all` (default) stores it;
- `ARK_WX_DRIFT_POLICY=declared_only` stores only the fields the call names (the new one listed in
  `record_fields_dropped`); `fail` fails the asset and writes nothing.
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Iterator
from datetime import timedelta

import pytest
from dagster import AssetKey

from ark_assets.core.tables import table_name
from ark_assets.resources.hbase import DATA_COLUMN
from ark_assets_tests.fault_matrix import step_errors
from ark_assets_tests.platform import DAY, Platform, running_platform
from ark_sim.tamper import TamperRule

pytestmark = pytest.mark.stack

FUNDS = "wx/funds"
TABLE = table_name("wx", "funds_get_v2")
NEW = f"tax_rebate_{secrets.token_hex(3)}"  # a change no earlier run alerted (alerts are once per change)


@pytest.fixture(scope="module")
def platform() -> Iterator[Platform]:
    with running_platform(first_run=False) as platform:
        yield platform


def _meta(result) -> dict:
    [event] = [
        e for e in result.get_asset_materialization_events() if e.asset_key == AssetKey(["wx", "funds"])
    ]
    return {k: v.value for k, v in event.event_specific_data.materialization.metadata.items()}


def _drift_alerts(platform: Platform) -> list[dict]:
    time.sleep(0.5)  # the SDK sends from its own thread
    return [e for e in platform.sink.events if "fields_appeared" in (e.get("extra") or {})]


def _stored_with_new_field(platform: Platform) -> int:
    rows = platform.hbase.scan_date(TABLE, DAY, columns=[DATA_COLUMN])
    return sum(
        NEW in json.loads(value[DATA_COLUMN])["data"]
        for key, value in rows
        if key.endswith(platform.tenant.encode())
    )


def test_a_new_field_is_reported_alerted_once_and_handled_by_the_policy(
    platform: Platform, monkeypatch: pytest.MonkeyPatch
) -> None:
    earlier = DAY - timedelta(days=1)
    platform.reseed(earlier)
    first = platform.run([FUNDS], day=earlier)
    assert first.success, step_errors(first)
    assert {"fund_type", "balance"} <= set(_meta(first)["record_fields"])
    platform.reseed(DAY)
    platform.sim.tamper("wx", TamperRule("funds/get", set_fields={NEW: 0}))
    try:
        drifted = platform.run([FUNDS])
        assert drifted.success, step_errors(drifted)
        meta = _meta(drifted)
        assert (meta["fields_appeared"], meta["fields_vanished"], meta["fields_since"]) == (
            NEW,
            "",
            str(earlier),
        )
        assert NEW in meta["record_fields"] and meta["drift_policy"] == "store_all"
        assert _stored_with_new_field(platform) > 0
        [alert] = _drift_alerts(platform)
        assert (
            alert["message"] == f"wx/funds: record fields changed since {earlier}: appeared {NEW}; vanished -"
        )

        again = platform.run([FUNDS])  # the same change: reported again, alerted no more
        assert _meta(again)["fields_appeared"] == NEW and len(_drift_alerts(platform)) == 1

        monkeypatch.setenv("ARK_WX_DRIFT_POLICY", "declared_only")
        declared = platform.run([FUNDS])
        assert declared.success, step_errors(declared)
        assert _meta(declared)["record_fields_dropped"] == [NEW]
        assert _stored_with_new_field(platform) == 0  # only what the call names by `fields` is stored

        monkeypatch.setenv("ARK_WX_DRIFT_POLICY", "fail")
        before = platform.rows("wx", "funds_get_v2")
        failed = platform.run([FUNDS])
        assert not failed.success
        assert any("ARK_WX_DRIFT_POLICY=fail: nothing written" in e for e in step_errors(failed))
        assert not failed.get_asset_materialization_events() and platform.rows("wx", "funds_get_v2") == before
    finally:
        platform.sim.clear_tampering()
