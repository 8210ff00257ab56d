"""The seed's row-key design: byte-exact keys, salting by the account's last digit, day ranges."""

from __future__ import annotations

from datetime import date

import pytest

from ark_assets.core.rowkey import SPLIT_KEYS, RowKey, salted_date_ranges

MAY_8 = date(2020, 5, 8)


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        # the seed's jrtt funds row (one record per account: no kind)
        (
            RowKey("99872976879", MAY_8, "84421955984", "T100117"),
            "9|20200508|99872976879|84421955984|T100117",
        ),
        # the seed's format string with a fund type
        (
            RowKey("10707125", MAY_8, "1050262", "T100117", kind="FUND_TYPE_CASH"),
            "5|20200508|10707125|1050262|FUND_TYPE_CASH|T100117",
        ),
        # the seed's hourly report rows, one per time line
        (
            RowKey("9871225279", date(2020, 5, 9), "8442129383", "T100117", suffix="REQUEST_TIME"),
            "9|20200509|9871225279|8442129383|T100117|REQUEST_TIME",
        ),
    ],
)
def test_keys_match_the_seed_byte_for_byte(key: RowKey, expected: str) -> None:
    assert key.encode() == expected.encode()


@pytest.mark.parametrize(
    ("kwargs", "names"),
    [
        ({"account_id": "12|34"}, "account_id"),  # a '|' would shift every later part
        ({"account_id": "abc"}, "account_id"),
        ({"agent_id": ""}, "agent_id"),
        ({"tenant": "T 1"}, "tenant"),
        ({"kind": "A|B"}, "kind"),
    ],
)
def test_bad_parts_are_refused_with_their_name(kwargs: dict, names: str) -> None:
    args = {"account_id": "123", "data_date": MAY_8, "agent_id": "9", "tenant": "T1"} | kwargs
    with pytest.raises(ValueError, match=names):
        RowKey(**args)


def test_ten_salted_ranges_cover_exactly_one_day() -> None:
    ranges = salted_date_ranges(MAY_8)
    assert ranges[0] == (b"0|20200508", b"0|20200509")
    assert ranges[9] == (b"9|20200508", b"9|20200509")
    inside = RowKey("99872976879", MAY_8, "1", "T1").encode()
    next_day = RowKey("99872976879", date(2020, 5, 9), "1", "T1").encode()
    assert any(start <= inside < stop for start, stop in ranges)
    assert not any(start <= next_day < stop for start, stop in ranges)


def test_split_keys_are_the_seeds() -> None:
    assert SPLIT_KEYS == tuple(f"{i}|".encode() for i in range(1, 10))
