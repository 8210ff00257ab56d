"""The media's days: GMT+8 calendar days, and how a day is spelled in keys.

Every media closes its day in China Standard Time, so "yesterday" is always yesterday in
GMT+8, whatever the machine's time zone (a UTC host at 01:00 is already at 09:00 in GMT+8).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

GMT8_NAME = "Asia/Shanghai"
GMT8 = ZoneInfo(GMT8_NAME)


def today(now: datetime | None = None) -> date:
    """The current GMT+8 day (or that of `now`, which must be time-zone aware)."""
    return (now or datetime.now(GMT8)).astimezone(GMT8).date()


def yesterday(now: datetime | None = None) -> date:
    """The last complete GMT+8 day: the day a daily run fetches."""
    return today(now) - timedelta(days=1)


def yyyymmdd(day: date) -> str:
    """`day` as yyyymmdd; a datetime is refused because its calendar day depends on a time zone."""
    if not isinstance(day, date) or isinstance(day, datetime):
        raise ValueError(f"date {day!r} must be a datetime.date, like date(2020, 5, 20)")
    return day.strftime("%Y%m%d")
