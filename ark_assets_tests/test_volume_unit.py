"""The volume rule and its configuration (no service needed).

- 0 rows is never green unless the trailing days had none either; with no earlier day it warns;
- with at least 3 trailing days, rows or active accounts under the ratio of their median warn;
- `ARK_VOLUME_*` are read with clear errors; blocking makes the check ERROR.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from dagster import AssetKey

from ark_assets.assets.volume import DayVolume, VolumeRule, volume
from ark_assets.io.sinks import Written

KEY = AssetKey(["wx", "funds"])
DAY = date(2026, 11, 25)
RULE = VolumeRule()


def _history(*rows: int, accounts: int | None = 40) -> list[DayVolume]:
    return [DayVolume(DAY - timedelta(days=n + 1), r, accounts) for n, r in enumerate(rows)]


@pytest.mark.parametrize(
    ("rows", "accounts", "history", "passed", "says"),
    [
        (0, 0, _history(1200, 1100, 1300), False, "0 rows where the last 3 days had 1200"),
        (0, 0, [], False, "0 rows, and no earlier day of this tenant"),
        (0, 0, _history(0, 0, 0), True, None),  # a table this tenant never fills
        (500, 30, _history(1200, 1100, 1300), False, "500 rows: below 50%"),
        (1150, 10, _history(1200, 1100, 1300), False, "10 active accounts: below 50%"),
        (1150, 38, _history(1200, 1100, 1300), True, None),
        (5, 1, _history(1200, 1100), True, None),  # two days are too few to judge a ratio
        (1150, 38, _history(1200, 1100, 1300, accounts=None), True, None),  # accounts not counted then
    ],
)
def test_a_collapse_warns_and_a_normal_day_passes(rows, accounts, history, passed, says) -> None:
    result = volume(KEY, Written(rows_written=rows, accounts=accounts), history, RULE)
    assert result.passed is passed
    assert (result.description or "").startswith(says) if says else result.description is None
    assert result.metadata["rows"].value == rows and result.metadata["trailing_days_found"].value == len(
        history
    )


def test_the_rule_is_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    assert VolumeRule.from_env() == VolumeRule(trailing_days=7, min_ratio=0.5, blocking=False)
    monkeypatch.setenv("ARK_VOLUME_TRAILING_DAYS", "14")
    monkeypatch.setenv("ARK_VOLUME_MIN_RATIO", "0.3")
    monkeypatch.setenv("ARK_VOLUME_BLOCKING", "yes")
    rule = VolumeRule.from_env()
    assert rule == VolumeRule(trailing_days=14, min_ratio=0.3, blocking=True)
    assert volume(KEY, Written(), [], rule).severity.value == "ERROR"
    monkeypatch.setenv("ARK_VOLUME_MIN_RATIO", "half")
    with pytest.raises(ValueError, match="ARK_VOLUME_MIN_RATIO='half': expected a fraction"):
        VolumeRule.from_env()
    monkeypatch.setenv("ARK_VOLUME_MIN_RATIO", "2")
    with pytest.raises(ValueError, match="0 <= ratio <= 1"):
        VolumeRule.from_env()
