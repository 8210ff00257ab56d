"""Fields seen and the drift policy's pieces (no service needed).

- the spool tallies each record's keys and one level into nested objects, every layout once;
- `declared_fields` is what a call names (`fields`; a custom report's `dimensions`/`metrics`);
- `declared_only` keeps those and notes the rest; the policy is read per media with a clear error.
"""

from __future__ import annotations

from datetime import date

import pytest

from ark_assets.assets.drift import _keep, declared_fields, drift_policy
from ark_assets.io.fields import FieldTally
from ark_assets.media import gdt, jrtt
from ark_assets.media.registry import media as media_named

DAY = date(2026, 11, 25)


def test_the_tally_sees_top_level_and_nested_fields() -> None:
    tally = FieldTally()
    tally.add([{"date": "d", "cost": 1}, {"date": "d", "cost": 2}])
    tally.add({"dimensions": {"stat_time_day": "d"}, "metrics": {"stat_cost": 1.0}})
    tally.add({"dimensions": {"stat_time_day": "d", "cdp_project_id": 1}, "metrics": {"stat_cost": 1.0}})
    tally.add(["1001", None])  # bare ids carry no fields
    assert tally.fields == sorted(
        [
            "date",
            "cost",
            "dimensions",
            "metrics",
            "dimensions.stat_time_day",
            "dimensions.cdp_project_id",
            "metrics.stat_cost",
        ]
    )


def test_a_call_declares_the_fields_it_names() -> None:
    adgroup = next(d for d in gdt.MEDIA.assets.datasets if d.name == "daily_report_adgroup")
    named = declared_fields(gdt.API, adgroup, DAY)
    assert {"date", "account_id", "adgroup_id", "cost", "view_count"} <= named and "campaign_id" not in named
    project = next(d for d in jrtt.MEDIA.assets.datasets if d.name == "report_project")
    assert {"dimensions.cdp_project_id", "metrics.stat_cost"} <= declared_fields(jrtt.API, project, DAY)
    funds = next(d for d in jrtt.MEDIA.assets.datasets if d.name == "funds")
    assert declared_fields(jrtt.API, funds, DAY) is None  # account/fund/get names no fields


def test_declared_only_keeps_what_is_named_and_notes_the_rest() -> None:
    dropped: set[str] = set()
    declared = frozenset({"cost", "dimensions.stat_time_day"})
    record = {"cost": 1, "extra": 2, "dimensions": {"stat_time_day": "d", "new": 3}}
    assert _keep(record, declared, dropped) == {"cost": 1, "dimensions": {"stat_time_day": "d"}}
    assert dropped == {"extra", "dimensions.new"}


def test_the_policy_is_read_per_media(monkeypatch: pytest.MonkeyPatch) -> None:
    wx = media_named("wx")
    assert drift_policy(wx) == "store_all"
    monkeypatch.setenv("ARK_WX_DRIFT_POLICY", "FAIL")
    assert drift_policy(wx) == "fail" and drift_policy(media_named("gdt")) == "store_all"
    monkeypatch.setenv("ARK_WX_DRIFT_POLICY", "block")
    with pytest.raises(
        ValueError, match="ARK_WX_DRIFT_POLICY='block': expected one of store_all, declared_only, fail"
    ):
        drift_policy(wx)
