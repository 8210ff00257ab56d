"""How far back a media serves an endpoint's data: declared per endpoint, with its source.

A date outside it is refused before any call (`assets/retention.py`): asking would at best waste
quota and at worst bring back an empty answer that replaces stored history with nothing, which is
how other connectors lost years of rows in a re-sync. Each media module declares the retention of
its dated endpoints (`EndpointSpec.retention`) from the vendor's documentation or SDK, or says the
value is our choice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta


@dataclass(frozen=True, kw_only=True)
class Retention:
    """The days an endpoint serves.

    Args:
        days: how many days before today (GMT+8) are still served, the last of them included
            (Tencent: "365天内(含365天)"); 0 = no rolling limit.
        earliest: the first day ever served (None = no such limit).
        source: where the limit is stated (a URL or an SDK repository path), or "our choice: …".
    """

    source: str
    days: int = 0
    earliest: date | None = None

    def __post_init__(self) -> None:
        if self.days < 0 or (self.days == 0 and self.earliest is None):
            raise ValueError(f"retention needs days > 0 or an earliest day, got days={self.days}")
        if not self.source.strip():
            raise ValueError("a retention names its source (a URL, an SDK path, or 'our choice: …')")

    def oldest(self, today: date) -> date:
        """The oldest day served as of `today`."""
        rolling = today - timedelta(days=self.days) if self.days else None
        return max(d for d in (self.earliest, rolling) if d is not None)

    def serves(self, day: date, today: date) -> bool:
        return day >= self.oldest(today)

    def describe(self) -> str:
        """For people: "365 days back" / "from 2016-10-26"."""
        parts = [f"{self.days} days back"] if self.days else []
        if self.earliest is not None:
            parts.append(f"from {self.earliest}")
        return ", ".join(parts)
