"""The seed's HBase row-key design, built and parsed in exactly one place.

`{account_id[-1]}|{yyyymmdd}|{account_id}|{agent_id}|{kind}|{tenant}[|{suffix}]`

The first part, the account id's last digit, salts the key so a day's writes spread over the
ten regions of a table pre-split at `1|` … `9|`; the date comes second so one day is read back
with ten range scans (one per salt) instead of a full-table filter. `kind` (fund type, report
level …) is omitted where a table has one record per account (the seed's jrtt funds), and
report rows fetched per time line append it as `suffix` (`…|T100117|REQUEST_TIME`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

SEPARATOR = "|"
SALTS = tuple(str(digit) for digit in range(10))
# What every table is pre-split at, so each salt owns a region from the first write.
SPLIT_KEYS = tuple(f"{digit}{SEPARATOR}".encode() for digit in range(1, 10))

_DIGITS = re.compile(r"^[0-9]+$")
_TENANT = re.compile(r"^[A-Za-z0-9]+$")
_KIND = re.compile(r"^[A-Za-z0-9_.\-]+$")


@dataclass(frozen=True)
class RowKey:
    account_id: str
    data_date: date
    agent_id: str
    tenant: str
    kind: str | None = None
    suffix: str | None = None

    def __post_init__(self) -> None:
        _check(self.account_id, _DIGITS, "account_id", "digits only")
        _check(self.agent_id, _DIGITS, "agent_id", "digits only")
        _check(self.tenant, _TENANT, "tenant", "letters and digits only, e.g. T100117")
        for name in ("kind", "suffix"):
            value = getattr(self, name)
            if value is not None:
                _check(value, _KIND, name, "letters, digits, '_', '.' or '-' (no '|')")

    def __str__(self) -> str:
        parts = [self.account_id[-1], yyyymmdd(self.data_date), self.account_id, self.agent_id]
        parts += [self.kind] if self.kind else []
        parts += [self.tenant]
        parts += [self.suffix] if self.suffix else []
        return SEPARATOR.join(parts)

    def encode(self) -> bytes:
        return str(self).encode()


def yyyymmdd(day: date) -> str:
    if not isinstance(day, date):
        raise TypeError(f"expected a datetime.date, got {day!r}")
    return day.strftime("%Y%m%d")


def salted_date_ranges(day: date) -> list[tuple[bytes, bytes]]:
    """The ten `(row_start, row_stop)` ranges that together hold exactly one day's rows."""
    start, stop = yyyymmdd(day), yyyymmdd(day + timedelta(days=1))
    return [(f"{salt}{SEPARATOR}{start}".encode(), f"{salt}{SEPARATOR}{stop}".encode()) for salt in SALTS]


def _check(value: object, pattern: re.Pattern[str], name: str, expected: str) -> None:
    if not isinstance(value, str) or not pattern.match(value):
        raise ValueError(f"row key part {name}={value!r} is invalid: expected {expected}")
