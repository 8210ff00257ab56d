"""What a re-run may delete, and which days a media still serves (no service needed).

- `Coverage`: a stored row the write lacks may go only when its account (or its listing agent) was
  answered for; an excluded account never; nothing is covered unless said.
- `Retention`: the days an endpoint serves, from its source (Tencent daily reports 365 days back,
  the 365th included; hourly 90 in v1.x, 365 in v3.0; Ocean Engine reports from 2016-10-26).
- `refusals`: which assets of a media cannot run for a day, with the reason and the source.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from ark_assets.assets.retention import refusals
from ark_assets.io.coverage import Coverage
from ark_assets.media import gdt, jrtt
from ark_assets.media.registry import media as media_named
from ark_assets.media.retention import Retention

TODAY = date(2026, 12, 7)


def test_nothing_is_covered_unless_said() -> None:
    assert not Coverage().covers("1001", "9")
    assert Coverage.everything().covers("1001", "9")


def test_answered_accounts_are_covered_failed_ones_never() -> None:
    covered = Coverage.answered(["1", "2", "3"], failed=["3"])
    assert covered.covers("1", "9") and not covered.covers("3", "9") and not covered.covers("4", "9")
    by_agent = Coverage(agents=frozenset({"9"}), excluded=frozenset({"5"}))
    assert by_agent.covers("4", "9") and not by_agent.covers("5", "9") and not by_agent.covers("4", "8")
    both = covered | by_agent
    assert both.covers("1", "8") and both.covers("4", "9") and not both.covers("3", "9")
    assert covered.metadata() == {"covered_accounts": 2}


def test_a_retention_counts_back_from_today_and_names_its_source() -> None:
    daily = gdt.DAILY_RETENTION
    assert daily.oldest(TODAY) == TODAY - timedelta(days=365)
    assert daily.serves(TODAY - timedelta(days=365), TODAY) and not daily.serves(
        TODAY - timedelta(days=366), TODAY
    )
    assert "developers.e.qq.com/docs/insights/ad_insights/daily" in daily.source
    assert jrtt.REPORT_RETENTION.oldest(TODAY) == date(2016, 10, 26)
    assert jrtt.REPORT_RETENTION.describe() == "from 2016-10-26"
    with pytest.raises(ValueError, match="days > 0 or an earliest day"):
        Retention(source="our choice")
    with pytest.raises(ValueError, match="names its source"):
        Retention(days=3, source=" ")


@pytest.mark.parametrize(
    ("version", "days_back", "refused"),
    [
        (gdt.V30, 200, set()),  # v3.0 hourly: 365 days
        (gdt.V11, 200, {"hourly_report_ad"}),  # v1.x hourly: 90 days; daily: 365
        (gdt.V30, 400, {"daily_report_advertiser", "hourly_report_dynamic_creative"}),
    ],
)
def test_refusals_name_the_assets_whose_endpoint_no_longer_serves_the_day(
    version: str, days_back: int, refused: set[str]
) -> None:
    media = media_named("gdt")
    declared = media.assets_for(version)
    names = [
        "advertisers",
        "funds",
        "daily_report_advertiser",
        *(d.name for d in declared.datasets if "hourly" in d.name),
    ]
    found = refusals(media, media.api_for(version), names, TODAY - timedelta(days=days_back), TODAY)
    assert set(found) == refused  # listings and funds have no date to refuse
    for why in found.values():
        assert "refused before any call" in why and f"as of {TODAY} GMT+8" in why
