"""HBaseResource against the real HBase: the seed's table shape, batched writes, salted day scans.

The contract: `ensure_table` creates tables as the seed's shell command did (families info and
col, SNAPPY, pre-split at 1| … 9|) and is idempotent; writes stream in batches; a day is read
back with ten salted range scans and nothing from neighbouring days; a missing table and an
unreachable server are reported clearly.
"""

from __future__ import annotations

import json
from datetime import date

import pytest

from ark_assets.clients.errors import ServiceUnavailable, TableNotFound
from ark_assets.core.rowkey import RowKey
from ark_assets.resources.hbase import DATA_COLUMN, HBaseResource

DAY = date(2020, 5, 8)


# ##### FIXTURES


@pytest.fixture
def hbase(unique: str):
    resource = HBaseResource(table_prefix=f"t{unique}")
    yield resource
    for table in ("funds", "other"):
        resource.delete_table(table)
    resource.close()


def _value(account_id: str) -> dict[bytes, bytes]:
    record = {"tenant_alias": "T100117", "data": {"advertiser_id": int(account_id)}, "timestamp": 1588984341}
    return {DATA_COLUMN: json.dumps(record).encode()}


# ##### TESTS


@pytest.mark.stack
def test_ensure_table_creates_the_seeds_shape_once(hbase: HBaseResource) -> None:
    assert hbase.ensure_table("funds") is True
    assert hbase.ensure_table("funds") is False  # idempotent

    regions = hbase.regions("funds")
    assert [r["start_key"] for r in regions] == [b""] + [f"{i}|".encode() for i in range(1, 10)]
    with hbase.connection() as conn:
        families = conn.table(hbase.full_name("funds")).families()
    assert set(families) == {b"info", b"col"}
    assert {f["compression"] for f in families.values()} == {b"SNAPPY"}


@pytest.mark.stack
def test_ensure_table_refuses_an_existing_table_of_another_shape(hbase: HBaseResource) -> None:
    with hbase.connection() as conn:
        conn.create_table(hbase.full_name("other"), {"d": {}})
    with pytest.raises(
        ValueError, match=r"exists with families \['d'\], expected at least \['col', 'info'\]"
    ):
        hbase.ensure_table("other")


@pytest.mark.stack
def test_batched_writes_are_read_back_per_day_through_salted_scans(hbase: HBaseResource) -> None:
    hbase.ensure_table("funds")
    accounts = [str(10_000_000 + i) for i in range(2_345)]  # every salt, several batches
    with hbase.writer("funds", batch_size=1000) as writer:
        for account in accounts:
            writer.put(RowKey(account, DAY, "1050262", "T100117").encode(), _value(account))
        # neighbours that a day scan must not return
        writer.put(RowKey("77", date(2020, 5, 7), "1", "T100117").encode(), _value("77"))
        writer.put(RowKey("78", date(2020, 5, 9), "1", "T100117").encode(), _value("78"))
    assert writer.puts == len(accounts) + 2

    rows = dict(hbase.scan_date("funds", DAY))
    assert len(rows) == len(accounts) == hbase.count_date("funds", DAY)
    key = RowKey(accounts[7], DAY, "1050262", "T100117").encode()
    assert json.loads(rows[key][DATA_COLUMN])["data"]["advertiser_id"] == int(accounts[7])
    assert hbase.row("funds", key) == rows[key]
    assert hbase.count_date("funds", date(2020, 5, 9)) == 1


@pytest.mark.stack
def test_rewriting_the_same_keys_does_not_duplicate_rows(hbase: HBaseResource) -> None:
    hbase.ensure_table("funds")
    for _ in range(2):
        with hbase.writer("funds") as writer:
            for account in ("101", "202", "303"):
                writer.put(RowKey(account, DAY, "9", "T1").encode(), _value(account))
    assert hbase.count_date("funds", DAY) == 3


@pytest.mark.stack
def test_a_missing_table_is_a_clear_error(hbase: HBaseResource) -> None:
    with pytest.raises(TableNotFound, match=r"HBase table 't\w+_absent' does not exist"):
        list(hbase.scan_date("absent", DAY))
    with pytest.raises(TableNotFound):
        hbase.row("absent", b"1|x")


@pytest.mark.parametrize(
    ("field", "port"),
    # the Thrift2 case asks the (real) Thrift1 server first whether the table exists
    [("port", 1), pytest.param("admin_port", 2, marks=pytest.mark.stack)],
)
def test_an_unreachable_server_names_host_port_and_the_fix(field: str, port: int) -> None:
    resource = HBaseResource(**{field: port})
    with pytest.raises(ServiceUnavailable) as error:
        resource.ensure_table("anything") if field == "admin_port" else resource.table_exists("anything")
    assert f"127.0.0.1:{port}" in str(error.value)
    assert "make stack" in str(error.value)
