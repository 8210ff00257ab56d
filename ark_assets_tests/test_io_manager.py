"""HBaseIOManager against the real HBase, through real Dagster materializations.

The contract: an asset returns `Output(RowSpool)` and declares `layout_metadata(table, kind=…,
suffix=…)`; the IO manager stores each row at the seed's salted row key with the seed's value
JSON, and a downstream asset gets the partition's rows back (read with ten salted scans) exactly
as they were spooled. A materialization writes its (date, tenant) partition: rows it writes
again are overwritten, rows it no longer has are deleted only where the spool's coverage says
the media answered for them (`io/coverage.py`) and kept everywhere else, and other tenants'
rows on the same date are never touched. FILE mode writes the
seed's file layout (index files of bounded size) and replaces it the same way; NONE keeps
nothing. The spool file is always removed; misuse fails with messages naming what is wrong.
"""

from __future__ import annotations

import itertools
import json
import time
import uuid
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import pytest
from dagster import (
    DagsterInstance,
    MaterializeResult,
    Output,
    asset,
    materialize,
)
from pydantic import ValidationError

from ark_assets.clients.errors import TableNotFound
from ark_assets.core.rowkey import DayKeys, RowKey, parse
from ark_assets.io.coverage import Coverage
from ark_assets.io.hbase_io_manager import HBaseIOManager, hbase_io_manager_from_env
from ark_assets.io.layout import RowEncoder, TableLayout, layout_metadata
from ark_assets.io.rows import Row, RowSpool
from ark_assets.partitions import date_tenant_partitions, partition_key, split_key
from ark_assets.resources.hbase import DATA_COLUMN, HBaseResource

T1, T2 = "T100117", "T200002"
FUNDS = "io_test_funds"  # rows with a kind (the seed's fund types)
HOURLY = "io_test_hourly"  # rows with a suffix (the seed's report time lines)
BIG = "1699999999999999999"  # int64-sized ids must survive as strings
_DAYS = itertools.count()


# ##### ASSETS UNDER TEST


@dataclass
class Plan:
    """What the producers spool in the next materialization, and what the consumers loaded."""

    rows: list[Row] = field(default_factory=list)
    covered: Coverage = field(default_factory=Coverage.everything)
    table: str | None = None  # spool for another table than the asset declares
    day_shift: int = 0  # spool for another day than the run's partition
    spools: list[Path] = field(default_factory=list)
    loaded: list[list[Row]] = field(default_factory=list)


PLAN = Plan()


def _spool(table: str, partition: str) -> Output[RowSpool]:
    day, tenant = split_key(partition)
    day += timedelta(days=PLAN.day_shift)
    spool = RowSpool.create(PLAN.table or table, day, tenant, covered=PLAN.covered)
    for row in PLAN.rows:
        spool.write(row)
    PLAN.spools.append(spool.path)
    return Output(spool)


@asset(partitions_def=date_tenant_partitions, metadata=layout_metadata(FUNDS, kind=True))
def funds(context) -> Output[RowSpool]:
    return _spool(FUNDS, context.partition_key)


@asset(partitions_def=date_tenant_partitions, metadata=layout_metadata(HOURLY, suffix=True))
def hourly(context) -> Output[RowSpool]:
    return _spool(HOURLY, context.partition_key)


@asset(partitions_def=date_tenant_partitions)
def funds_report(funds: list[Row]) -> MaterializeResult:
    PLAN.loaded.append(funds)
    return MaterializeResult(metadata={"rows": len(funds)})


@asset(partitions_def=date_tenant_partitions)
def hourly_report(hourly: list[Row]) -> MaterializeResult:
    PLAN.loaded.append(hourly)
    return MaterializeResult(metadata={"rows": len(hourly)})


@asset(partitions_def=date_tenant_partitions, metadata=layout_metadata("io_test_wrong"))
def not_a_spool() -> dict:
    return {"rows": []}


ASSETS = [funds, hourly, funds_report, hourly_report, not_a_spool]


# ##### FIXTURES


@pytest.fixture(scope="module")
def hbase():
    resource = HBaseResource(table_prefix=f"io{uuid.uuid4().hex[:8]}")
    yield resource
    for table in (FUNDS, HOURLY, "io_test_wrong"):
        resource.delete_table(table)
    resource.close()


@pytest.fixture(scope="module")
def instance():
    with DagsterInstance.ephemeral() as instance:
        instance.add_dynamic_partitions("tenants", [T1, T2])
        yield instance


@pytest.fixture
def day() -> date:
    """A date of its own for each test, so tests sharing the module's tables never see each other's rows."""
    return date(2024, 1, 1) + timedelta(days=next(_DAYS))


@pytest.fixture(autouse=True)
def _fresh_plan():
    PLAN.__init__()
    yield


def _run(
    io_manager: HBaseIOManager,
    instance: DagsterInstance,
    day: date,
    rows: list[Row],
    *,
    tenant: str = T1,
    covered: Coverage | None = None,
    select=funds,
    raise_on_error: bool = True,
):
    """Materialize `select` for (day, tenant) spooling `rows`; `covered` defaults to the whole partition."""
    PLAN.rows, PLAN.covered = rows, covered if covered is not None else Coverage.everything()
    return materialize(
        ASSETS,
        selection=[select],
        partition_key=partition_key(day, tenant),
        resources={"io_manager": io_manager},
        instance=instance,
        raise_on_error=raise_on_error,
    )


def _load(io_manager, instance, day, *, tenant=T1, consumer=funds_report) -> list[Row]:
    _run(io_manager, instance, day, [], tenant=tenant, select=consumer)
    return PLAN.loaded[-1]


def _meta(result, node: str = "funds") -> dict:
    (materialization,) = result.asset_materializations_for_node(node)
    return {name: value.value for name, value in materialization.metadata.items()}


def _fund_rows(accounts, *, agent="1050262", balance=1.0) -> list[Row]:
    return [
        Row(
            account, agent, {"advertiser_id": int(account), "balance": balance, "name": "杭州时趣"}, kind=kind
        )
        for account in accounts
        for kind in ("FUND_TYPE_CASH", "FUND_TYPE_GIFT")
    ]


def _accounts(n: int, start: int = 10_000_000) -> list[str]:
    return [str(start + i) for i in range(n)]  # consecutive ids: every salt


def _cause(exc: BaseException) -> BaseException:
    while exc.__cause__ is not None:
        exc = exc.__cause__
    return exc


# ##### KEYS AND STORED SHAPES (no HBase needed)


@pytest.mark.parametrize(
    ("key", "layout", "expected"),
    [
        # the seed's funds key (no kind)
        (
            "9|20200508|99872976879|84421955984|T100117",
            {},
            RowKey("99872976879", date(2020, 5, 8), "84421955984", T1),
        ),
        # a kind before the tenant
        (
            "5|20200508|10707125|1050262|FUND_TYPE_CASH|T100117",
            {"kind": True},
            RowKey("10707125", date(2020, 5, 8), "1050262", T1, kind="FUND_TYPE_CASH"),
        ),
        # a report time line after the tenant
        (
            b"9|20200509|9871225279|8442129383|T100117|REQUEST_TIME",
            {"suffix": True},
            RowKey("9871225279", date(2020, 5, 9), "8442129383", T1, suffix="REQUEST_TIME"),
        ),
        # both
        (
            "9|20200509|9871225279|8442129383|K|T100117|S",
            {"kind": True, "suffix": True},
            RowKey("9871225279", date(2020, 5, 9), "8442129383", T1, kind="K", suffix="S"),
        ),
    ],
)
def test_keys_parse_back_under_their_tables_layout(key, layout, expected) -> None:
    assert parse(key, **layout) == expected
    assert str(parse(key, **layout)).encode() == (key if isinstance(key, bytes) else key.encode())


@pytest.mark.parametrize(
    ("key", "layout", "message"),
    [
        ("9|20200508|99872976879|84421955984|K|T100117", {}, "has 6 parts, expected 5"),  # another layout
        ("9|20200508|99872976879|84421955984|T100117", {"kind": True}, "has 5 parts, expected 6"),
        ("1|20200508|99872976879|84421955984|T100117", {}, "salt '1' is not the account id's last digit"),
        ("9|20201308|99872976879|84421955984|T100117", {}, "not a calendar day"),
        ("9|2020058|99872976879|84421955984|T100117", {}, "is not yyyymmdd"),
        ("9|20200508|99872976879|84421955984|T-1", {}, "tenant"),
    ],
)
def test_keys_that_do_not_fit_the_layout_are_refused(key, layout, message) -> None:
    with pytest.raises(ValueError, match=message):
        parse(key, **layout)


# ##### HBASE: ROUND TRIP AND STORED SHAPE


@pytest.mark.stack
@pytest.mark.parametrize(
    ("producer", "consumer", "table", "rows"),
    [
        # kinds: two fund types per account, one an int64-sized id
        (funds, funds_report, FUNDS, _fund_rows([*_accounts(23), BIG])),
        # suffixes: one row per report time line, an int64-sized agent id
        (
            hourly,
            hourly_report,
            HOURLY,
            [
                Row(account, BIG, {"hour": 3, "cost": 12.5}, suffix=line)
                for account in [*_accounts(11), BIG]
                for line in ("REQUEST_TIME", "REPORTING_TIME", "ACTIVE_TIME")
            ],
        ),
    ],
)
def test_round_trip_gives_the_consumer_exactly_the_spooled_rows(
    hbase, instance, day, producer, consumer, table, rows
) -> None:
    io_manager = HBaseIOManager(hbase=hbase)
    result = _run(io_manager, instance, day, rows, select=producer)

    loaded = _load(io_manager, instance, day, consumer=consumer)
    assert sorted(loaded, key=repr) == sorted(rows, key=repr)  # ids, kinds, suffixes and data
    assert BIG in {row.account_id for row in loaded}
    meta = _meta(result, producer.key.path[-1])
    assert (meta["rows_written"], meta["stale_rows_deleted"]) == (len(rows), 0)
    assert (meta["output"], meta["table"]) == ("HBASE", hbase.full_name(table))
    assert hbase.count_date(table, day) == len(rows)


@pytest.mark.stack
def test_stored_key_and_value_follow_the_seed(hbase, instance, day) -> None:
    row = Row(
        BIG, "84421955984", {"advertiser_id": int(BIG), "name": "杭州时趣", "balance": 0.0}, "FUND_TYPE_CASH"
    )
    before = int(time.time())
    result = _run(HBaseIOManager(hbase=hbase), instance, day, [row])

    key = f"9|{day:%Y%m%d}|{BIG}|84421955984|FUND_TYPE_CASH|{T1}"
    assert _meta(result)["row_key_example"] == key
    stored = hbase.row(FUNDS, key)[DATA_COLUMN]
    # json.dumps defaults (", " and ": "), non-ASCII kept: byte for byte the seed's shape
    assert stored.decode().startswith(
        f'{{"tenant_alias": "{T1}", "data": {{"advertiser_id": {BIG}, "name": "杭州时趣"'
    )
    value = json.loads(stored)
    assert list(value) == ["tenant_alias", "data", "timestamp"]
    assert value["data"] == row.data
    assert isinstance(value["timestamp"], int) and before <= value["timestamp"] <= time.time()
    assert stored == json.dumps(value, ensure_ascii=False).encode()  # exactly what the seed's json.dumps made


@pytest.mark.parametrize(
    "data",
    [
        {"advertiser_id": int(BIG), "name": "杭州时趣", "balance": 0.0, "grant": 1e-7},
        {"text": 'tab\there, newline\nthere, quote " and backslash \\ and \u2028', "nested": [{"a": None}]},
        [1, "two", 3.5, True, None],  # data need not be an object
        "a bare string",
        None,
    ],
)
def test_spooled_data_is_stored_as_json_dumps_would(tmp_path, day, data) -> None:
    spool = RowSpool.create(FUNDS, day, T1, directory=tmp_path)
    spool.write(Row(BIG, "1", data, kind="K"))
    (read,) = list(spool.read())
    assert read == Row(BIG, "1", data, kind="K")
    (encoded,) = list(spool.read_encoded())
    encoder = RowEncoder(TableLayout(FUNDS, kind=True), day, T1, 1588984341, "funds")
    key = encoder.key(*encoded[:4])
    assert key == str(RowKey(BIG, day, "1", T1, kind="K"))
    expected = {"tenant_alias": T1, "data": data, "timestamp": 1588984341}
    assert encoder.value(encoded[4]) == json.dumps(expected, ensure_ascii=False)
    assert encoder.file_line(key, encoded[4]) == json.dumps({"row_key": key} | expected, ensure_ascii=False)
    spool.discard()


@pytest.mark.parametrize(
    ("parts", "error"),
    [
        (("123", "9", None, None), None),
        (("123", "9", "FUND_TYPE_CASH", None), None),
        (("123", "9", None, "REQUEST_TIME"), None),
        (("123", "9", "K", "S"), None),
        (("12|3", "9", None, None), "account_id"),  # a '|' would shift every later part
        (("123", "", None, None), "agent_id"),
        (("123", "9", "A|B", None), "kind"),
        (("123", "9", None, "x y"), "suffix"),
        (("١٢٣", "9", None, None), "account_id"),  # non-ASCII digits are not digits here
    ],
)
def test_bulk_keys_are_rowkeys_byte_for_byte(day, parts, error) -> None:
    account, agent, kind, suffix = parts
    if error is None:
        assert DayKeys(day, T1)(*parts) == str(RowKey(account, day, agent, T1, kind=kind, suffix=suffix))
    else:
        with pytest.raises(ValueError, match=error):
            DayKeys(day, T1)(*parts)
        with pytest.raises(ValueError, match=error):
            RowKey(account, day, agent, T1, kind=kind, suffix=suffix)


# ##### HBASE: RE-MATERIALIZING REPLACES THE PARTITION


@pytest.mark.stack
def test_rematerializing_the_same_rows_keeps_the_row_count(hbase, instance, day) -> None:
    io_manager = HBaseIOManager(hbase=hbase)
    rows = _fund_rows(_accounts(40))
    _run(io_manager, instance, day, rows)
    second = _run(io_manager, instance, day, rows)

    assert hbase.count_date(FUNDS, day) == len(rows)
    assert _meta(second)["stale_rows_deleted"] == 0


@pytest.mark.stack
def test_rows_a_whole_partitions_answer_lacks_are_deleted(hbase, instance, day) -> None:
    io_manager = HBaseIOManager(hbase=hbase, batch_size=7)  # deletes span several batches
    _run(io_manager, instance, day, _fund_rows(_accounts(30)))
    second = _run(io_manager, instance, day, _fund_rows(_accounts(18)))

    assert _meta(second)["stale_rows_deleted"] == 2 * 12
    assert hbase.count_date(FUNDS, day) == 2 * 18
    assert {row.account_id for row in _load(io_manager, instance, day)} == set(_accounts(18))


@pytest.mark.stack
def test_a_slice_run_replaces_only_its_accounts(hbase, instance, day) -> None:
    io_manager = HBaseIOManager(hbase=hbase)
    everyone = _accounts(20)
    _run(io_manager, instance, day, _fund_rows(everyone, balance=1.0))
    # the slice: accounts 0-4; account 4 is gone upstream, 0-3 have new balances
    result = _run(
        io_manager,
        instance,
        day,
        _fund_rows(everyone[:4], balance=2.0),
        covered=Coverage.answered(everyone[:5]),
    )

    assert _meta(result)["stale_rows_deleted"] == 2
    balances = {row.account_id: row.data["balance"] for row in _load(io_manager, instance, day)}
    assert balances == {a: 2.0 for a in everyone[:4]} | {a: 1.0 for a in everyone[5:]}
    # the catalog's keys: the table, and the partition's rows after the slice (19 accounts x 2 funds)
    assert _meta(result)["dagster/table_name"] == hbase.full_name(FUNDS)
    assert _meta(result)["dagster/partition_row_count"] == len(_load(io_manager, instance, day)) == 38


@pytest.mark.stack
@pytest.mark.parametrize("output", ["HBASE", "FILE"])
def test_a_stored_row_goes_only_when_the_media_answered_for_its_account_without_it(
    hbase, instance, day, tmp_path, output
) -> None:
    io_manager = HBaseIOManager(hbase=hbase, output=output, file_dir=str(tmp_path))
    everyone = _accounts(12)
    _run(io_manager, instance, day, _fund_rows(everyone, balance=1.0))
    # the re-run: 0-5 answered with new balances, 6-8 failed, 9-10 left the day's lists (not
    # asked), 11 answered with no funds at all
    answered = Coverage.answered(everyone[:9] + everyone[11:], failed=everyone[6:9])
    rerun = _run(io_manager, instance, day, _fund_rows(everyone[:6], balance=2.0), covered=answered)

    meta = _meta(rerun)
    assert meta["stale_rows_deleted"] == 2  # account 11's two fund rows, and nothing else
    assert meta["rows_kept"] == 2 * 5  # 6-8 and 9-10, as an earlier run stored them
    assert meta["covered_accounts"] == 7
    balances = {(row.account_id, row.kind): row.data["balance"] for row in _load(io_manager, instance, day)}
    assert {account for account, _ in balances} == set(everyone[:11])
    assert {balances[(a, "FUND_TYPE_CASH")] for a in everyone[:6]} == {2.0}
    assert {balances[(a, "FUND_TYPE_CASH")] for a in everyone[6:11]} == {1.0}
    assert meta["dagster/partition_row_count"] == len(balances) == 2 * 11


@pytest.mark.stack
def test_a_run_that_answered_for_nobody_deletes_nothing(hbase, instance, day) -> None:
    io_manager = HBaseIOManager(hbase=hbase)
    _run(io_manager, instance, day, _fund_rows(_accounts(6)))
    empty = _run(io_manager, instance, day, [], covered=Coverage())

    assert (_meta(empty)["stale_rows_deleted"], _meta(empty)["rows_kept"]) == (0, 12)
    assert hbase.count_date(FUNDS, day) == 12


@pytest.mark.stack
def test_a_listing_agent_answers_for_its_accounts_a_failed_one_keeps_its_rows(hbase, instance, day) -> None:
    io_manager = HBaseIOManager(hbase=hbase)
    listed, other = _accounts(4), _accounts(3, start=20_000_000)
    rows = _fund_rows(listed, agent="1001") + _fund_rows(other, agent="2002")
    _run(io_manager, instance, day, rows)
    # agent 1001 answered without account 3 and account 2's details failed; agent 2002 failed
    covered = Coverage(
        accounts=frozenset(listed[:2]), agents=frozenset({"1001"}), excluded=frozenset(listed[2:3])
    )
    rerun = _run(io_manager, instance, day, _fund_rows(listed[:2], agent="1001"), covered=covered)

    assert _meta(rerun)["stale_rows_deleted"] == 2  # account 3, gone from agent 1001's listing
    kept = {row.account_id for row in _load(io_manager, instance, day)}
    assert kept == {*listed[:3], *other}


@pytest.mark.stack
def test_two_tenants_on_one_date_never_touch_each_other(hbase, instance, day) -> None:
    io_manager = HBaseIOManager(hbase=hbase)
    shared = _accounts(10)  # the same account ids under both tenants
    _run(io_manager, instance, day, _fund_rows(shared), tenant=T1)
    _run(io_manager, instance, day, _fund_rows(shared + _accounts(5, start=20_000_000)), tenant=T2)
    rerun = _run(io_manager, instance, day, _fund_rows(shared[:3]), tenant=T1)

    assert _meta(rerun)["stale_rows_deleted"] == 2 * 7
    assert len(_load(io_manager, instance, day, tenant=T1)) == 2 * 3
    assert len(_load(io_manager, instance, day, tenant=T2)) == 2 * 15
    assert hbase.count_date(FUNDS, day) == 2 * 3 + 2 * 15


@pytest.mark.stack
def test_keys_of_another_layout_are_left_alone(hbase, instance, day) -> None:
    io_manager = HBaseIOManager(hbase=hbase)
    _run(io_manager, instance, day, _fund_rows(_accounts(3)))
    foreign = RowKey("10000001", day, "1", T1).encode()  # no kind part: not this table's layout
    with hbase.writer(FUNDS) as writer:
        writer.put(foreign, {DATA_COLUMN: b"{}"})
    result = _run(io_manager, instance, day, _fund_rows(_accounts(2)))

    assert _meta(result)["stale_rows_deleted"] == 2
    assert hbase.row(FUNDS, foreign) == {DATA_COLUMN: b"{}"}


# ##### FILE AND NONE MODES


def _files(tmp_path: Path, day: date, tenant: str = T1) -> dict[str, list[dict]]:
    directory = tmp_path / f"{day:%Y%m%d}" / tenant / FUNDS
    return {
        path.name: [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
        for path in sorted(directory.iterdir())
    }


@pytest.mark.stack
def test_file_mode_writes_the_seeds_layout_in_index_files(hbase, instance, day, tmp_path) -> None:
    io_manager = HBaseIOManager(hbase=hbase, output="FILE", file_dir=str(tmp_path), file_rows_per_index=4)
    rows = _fund_rows(_accounts(5))  # 10 rows -> 4 + 4 + 2
    result = _run(io_manager, instance, day, rows)

    stem = f"{FUNDS}_{day:%Y%m%d}"
    files = _files(tmp_path, day)
    assert {name: len(lines) for name, lines in files.items()} == {
        f"{stem}_0.json": 4, f"{stem}_1.json": 4, f"{stem}_2.json": 2
    }  # fmt: skip
    first = files[f"{stem}_0.json"][0]
    assert list(first) == ["row_key", "tenant_alias", "data", "timestamp"]
    assert first["row_key"] == str(RowKey(rows[0].account_id, day, "1050262", T1, kind="FUND_TYPE_CASH"))
    assert first["tenant_alias"] == T1 and first["data"] == rows[0].data
    assert _meta(result)["files"] == 3 and _meta(result)["rows_written"] == 10
    assert not hbase.table_exists(FUNDS) or hbase.count_date(FUNDS, day) == 0  # nothing went to HBase
    assert sorted(_load(io_manager, instance, day), key=repr) == sorted(rows, key=repr)


@pytest.mark.stack
def test_file_mode_rerun_replaces_the_files_and_a_slice_keeps_other_accounts(
    hbase, instance, day, tmp_path
) -> None:
    io_manager = HBaseIOManager(hbase=hbase, output="FILE", file_dir=str(tmp_path), file_rows_per_index=4)
    everyone = _accounts(6)
    _run(io_manager, instance, day, _fund_rows(everyone, balance=1.0))  # 12 rows, 3 files
    fewer = _run(io_manager, instance, day, _fund_rows(everyone[:3], balance=1.0))  # 6 rows, 2 files

    assert _meta(fewer)["stale_rows_deleted"] == 6
    assert sorted(_files(tmp_path, day)) == [f"{FUNDS}_{day:%Y%m%d}_0.json", f"{FUNDS}_{day:%Y%m%d}_1.json"]

    # slice: accounts 0-1 in scope, account 1 gone; account 2 untouched
    sliced = _run(
        io_manager,
        instance,
        day,
        _fund_rows(everyone[:1], balance=2.0),
        covered=Coverage.answered(everyone[:2]),
    )
    assert _meta(sliced)["stale_rows_deleted"] == 2
    lines = [line for lines in _files(tmp_path, day).values() for line in lines]
    assert sorted((line["row_key"].split("|")[2], line["data"]["balance"]) for line in lines) == [
        (everyone[0], 2.0), (everyone[0], 2.0), (everyone[2], 1.0), (everyone[2], 1.0)
    ]  # fmt: skip
    assert not list(tmp_path.rglob(".*staging*")) and not list(tmp_path.rglob(".*old*"))


@pytest.mark.stack
def test_none_mode_writes_nothing_and_cannot_be_loaded(hbase, instance, day) -> None:
    io_manager = HBaseIOManager(hbase=hbase, output="NONE")
    result = _run(io_manager, instance, day, _fund_rows(_accounts(4)))

    meta = _meta(result)
    assert (meta["rows_spooled"], meta["rows_written"], meta["output"]) == (8, 0, "NONE")
    assert not hbase.table_exists(FUNDS) or hbase.count_date(FUNDS, day) == 0
    failed = _run(io_manager, instance, day, [], select=funds_report, raise_on_error=False)
    assert not failed.success
    with pytest.raises(Exception) as info:
        _run(io_manager, instance, day, [], select=funds_report)
    assert isinstance(_cause(info.value), LookupError)
    assert "output mode NONE keeps no rows" in str(_cause(info.value))


@pytest.mark.stack
def test_modes_come_from_the_environment(hbase, instance, day, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("ARK_OUTPUT", "file")  # the case does not matter
    monkeypatch.setenv("ARK_OUTPUT_DIR", str(tmp_path))
    monkeypatch.setenv("ARK_HBASE_TABLE_PREFIX", hbase.table_prefix)
    result = _run(hbase_io_manager_from_env(), instance, day, _fund_rows(_accounts(2)))

    assert _meta(result)["output"] == "FILE"
    assert sum(len(lines) for lines in _files(tmp_path, day).values()) == 4


# ##### MISUSE AND CLEAN-UP


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"output": "PARQUET"}, "output mode 'PARQUET' is not one of HBASE, FILE, NONE"),
        ({"batch_size": 0}, "must be at least 1, got 0"),
        ({"file_rows_per_index": -1}, "must be at least 1, got -1"),
    ],
)
def test_bad_settings_are_refused_when_built(kwargs, message) -> None:
    with pytest.raises(ValidationError, match=message):
        HBaseIOManager(hbase=HBaseResource(), **kwargs)


@pytest.mark.stack
def test_a_bad_mode_from_the_environment_fails_the_run(hbase, instance, day, monkeypatch) -> None:
    monkeypatch.setenv("ARK_OUTPUT", "HDFS")
    result = _run(hbase_io_manager_from_env(), instance, day, [], raise_on_error=False)
    assert not result.success
    (failure,) = [event for event in result.all_events if event.is_failure]
    assert "output mode 'HDFS' is not one of HBASE, FILE, NONE" in str(failure.event_specific_data.error)


@pytest.mark.stack
def test_an_output_that_is_not_a_row_spool_is_refused(hbase, instance, day) -> None:
    with pytest.raises(Exception) as info:
        _run(HBaseIOManager(hbase=hbase), instance, day, [], select=not_a_spool)
    cause = _cause(info.value)
    assert isinstance(cause, TypeError)
    assert "asset not_a_spool returned dict" in str(cause) and "RowSpool" in str(cause)


@pytest.mark.stack
def test_rows_against_the_declared_layout_fail_and_the_spool_is_still_removed(hbase, instance, day) -> None:
    rows = [Row("10000001", "1", {"x": 1})]  # no kind, but funds declares row_kind=True
    with pytest.raises(Exception) as info:
        _run(HBaseIOManager(hbase=hbase), instance, day, rows)
    assert "row_kind=True" in str(_cause(info.value))
    assert PLAN.spools and not any(path.exists() for path in PLAN.spools)


@pytest.mark.stack
@pytest.mark.parametrize(
    ("plan", "message"),
    [
        # the spool says another table than the asset's metadata: one of them is a bug
        ({"table": "io_test_other"}, "declares hbase_table='io_test_funds' but its RowSpool is for table"),
        # rows of another day would be stored where this partition's readers never look
        ({"day_shift": 1}, "outside its run's partition"),
    ],
)
def test_a_spool_that_does_not_match_its_asset_is_refused(hbase, instance, day, plan, message) -> None:
    PLAN.table, PLAN.day_shift = plan.get("table"), plan.get("day_shift", 0)
    with pytest.raises(Exception) as info:
        _run(HBaseIOManager(hbase=hbase), instance, day, _fund_rows(["7"]))
    assert isinstance(_cause(info.value), ValueError) and message in str(_cause(info.value))
    assert not any(path.exists() for path in PLAN.spools)


@pytest.mark.stack
@pytest.mark.parametrize("output", ["HBASE", "FILE", "NONE"])
def test_the_spool_file_is_removed_after_handle_output(hbase, instance, day, tmp_path, output) -> None:
    _run(HBaseIOManager(hbase=hbase, output=output, file_dir=str(tmp_path)), instance, day, _fund_rows(["7"]))
    assert len(PLAN.spools) == 1 and not PLAN.spools[0].exists()


@pytest.mark.stack
def test_loading_a_partition_never_written_to_files_names_the_directory(
    hbase, instance, day, tmp_path
) -> None:
    io_manager = HBaseIOManager(hbase=hbase, output="FILE", file_dir=str(tmp_path))
    with pytest.raises(Exception) as info:
        _load(io_manager, instance, day)
    cause = _cause(info.value)
    assert isinstance(cause, FileNotFoundError) and str(tmp_path / f"{day:%Y%m%d}" / T1 / FUNDS) in str(cause)


@pytest.mark.stack
def test_loading_from_a_missing_table_names_it(instance, day) -> None:
    missing = HBaseResource(table_prefix=f"io{uuid.uuid4().hex[:8]}")
    with pytest.raises(Exception) as info:
        _load(HBaseIOManager(hbase=missing), instance, day)
    cause = _cause(info.value)
    assert isinstance(cause, TableNotFound) and cause.table == missing.full_name(FUNDS)
    missing.close()
