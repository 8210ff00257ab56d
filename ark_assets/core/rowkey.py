"""The seed's HBase row-key design, built and parsed in exactly one place.

`{account_id[-1]}|{yyyymmdd}|{account_id}|{agent_id}|{kind}|{tenant}[|{suffix}]`

The first part, the account id's last digit, salts the key so a day's writes spread over the
ten regions of a table pre-split at `1|` … `9|`; the date comes second so one day is read back
with ten range scans (one per salt) instead of a full-table filter. `kind` (fund type, report
level …) is omitted where a table has one record per account (a balance answered as one object), and
report rows fetched per time line append it as `suffix` (`…|T100117|REQUEST_TIME`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

from ark_assets.core.days import yyyymmdd
from ark_assets.core.ids import DIGITS, TENANT

SEPARATOR = "|"
SALTS = tuple(str(digit) for digit in range(10))
# What every table is pre-split at, so each salt owns a region from the first write.
SPLIT_KEYS = tuple(f"{digit}{SEPARATOR}".encode() for digit in range(1, 10))

_DATE = re.compile(r"^[0-9]{8}$")
KIND = re.compile(r"^[A-Za-z0-9_.\-]+$")


@dataclass(frozen=True)
class RowKey:
    account_id: str
    data_date: date
    agent_id: str
    tenant: str
    kind: str | None = None
    suffix: str | None = None

    def __post_init__(self) -> None:
        _check(self.account_id, DIGITS, "account_id", "digits only")
        _check(self.agent_id, DIGITS, "agent_id", "digits only")
        _check(self.tenant, TENANT, "tenant", "letters and digits only, e.g. T100117")
        for name in ("kind", "suffix"):
            value = getattr(self, name)
            if value is not None:
                _check(value, KIND, name, "letters, digits, '_', '.' or '-' (no '|')")

    def __str__(self) -> str:
        parts = [self.account_id[-1], yyyymmdd(self.data_date), self.account_id, self.agent_id]
        parts += [self.kind] if self.kind else []
        parts += [self.tenant]
        parts += [self.suffix] if self.suffix else []
        return SEPARATOR.join(parts)

    def encode(self) -> bytes:
        return str(self).encode()


class DayKeys:
    """The keys of one (date, tenant), byte for byte as RowKey builds them, for bulk writes.

    The date and tenant are checked once; each call checks only the row's own parts, so a
    25k-row partition does not pay for a RowKey object per row.
    """

    def __init__(self, data_date: date, tenant: str) -> None:
        _check(tenant, TENANT, "tenant", "letters and digits only, e.g. T100117")
        self.data_date = data_date
        self.tenant = tenant
        self._day = yyyymmdd(data_date)

    def __call__(
        self, account_id: str, agent_id: str, kind: str | None = None, suffix: str | None = None
    ) -> str:
        _check(account_id, DIGITS, "account_id", "digits only")
        _check(agent_id, DIGITS, "agent_id", "digits only")
        parts = [account_id[-1], self._day, account_id, agent_id]
        if kind is not None:
            _check(kind, KIND, "kind", "letters, digits, '_', '.' or '-' (no '|')")
            parts.append(kind)
        parts.append(self.tenant)
        if suffix is not None:
            _check(suffix, KIND, "suffix", "letters, digits, '_', '.' or '-' (no '|')")
            parts.append(suffix)
        return SEPARATOR.join(parts)


def parse(key: bytes | str, *, kind: bool = False, suffix: bool = False) -> RowKey:
    """The RowKey that `key` encodes, in a table whose keys have (or lack) a kind and a suffix.

    Keys cannot be split without knowing the table's layout (a sixth part is a kind or a suffix),
    so the caller says which parts its table's keys have. The part count must match the layout,
    every part must be valid and the salt must be the account's last digit; otherwise a
    ValueError names the key (a row written under another layout is never misread).
    """
    text = key.decode() if isinstance(key, bytes) else key
    parts = text.split(SEPARATOR)
    expected = 5 + kind + suffix
    if len(parts) != expected:
        raise ValueError(
            f"row key {text!r} has {len(parts)} parts, expected {expected} "
            f"(salt|date|account|agent|{'kind|' if kind else ''}tenant{'|suffix' if suffix else ''})"
        )
    salt, day, account_id, agent_id = parts[:4]
    if not _DATE.fullmatch(day):
        raise ValueError(f"row key {text!r}: date part {day!r} is not yyyymmdd")
    try:
        data_date = date(int(day[:4]), int(day[4:6]), int(day[6:]))
    except ValueError:
        raise ValueError(f"row key {text!r}: date part {day!r} is not a calendar day") from None
    rest = parts[4:]
    parsed = RowKey(
        account_id,
        data_date,
        agent_id,
        rest[1] if kind else rest[0],
        kind=rest[0] if kind else None,
        suffix=rest[-1] if suffix else None,
    )
    if salt != account_id[-1]:
        raise ValueError(f"row key {text!r}: salt {salt!r} is not the account id's last digit")
    return parsed


def salted_date_ranges(day: date) -> list[tuple[bytes, bytes]]:
    """The ten `(row_start, row_stop)` ranges that together hold exactly one day's rows."""
    start, stop = yyyymmdd(day), yyyymmdd(day + timedelta(days=1))
    return [(f"{salt}{SEPARATOR}{start}".encode(), f"{salt}{SEPARATOR}{stop}".encode()) for salt in SALTS]


def _check(value: object, pattern: re.Pattern[str], name: str, expected: str) -> None:
    if not isinstance(value, str) or not pattern.fullmatch(value):
        raise ValueError(f"row key part {name}={value!r} is invalid: expected {expected}")
