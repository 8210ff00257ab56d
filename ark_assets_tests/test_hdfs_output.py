"""FILE output on the real HDFS of the local stack (NameNode + DataNode, WebHDFS on 127.0.0.1:9870).

The contract: with an HDFS URL, FILE output lands on HDFS under the seed's layout
`{dir}/{yyyymmdd}/{tenant}/{table}/{table}_{yyyymmdd}_{index}.json` (checked with plain WebHDFS
REST calls, not with our client); downstream reads and the `row_keys` check read it back from
there; a re-run replaces the partition's files, and a run that fails half way leaves the stored
files whole, with nothing of it visible; readers never see a half-written day, not even between
the swap's two renames or after a swap that died between them; an unreachable HDFS fails the
asset naming its host:port and the fix; a media step records output FILE in the run log.
"""

from __future__ import annotations

import json
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import date
from pathlib import PurePosixPath

import pytest
import requests
from dagster import DagsterInstance, Output, asset, build_output_context, materialize

from ark_assets.clients.errors import ServiceUnavailable
from ark_assets.clients.webhdfs import WebHdfsFiles
from ark_assets.io.coverage import Coverage
from ark_assets.io.hbase_io_manager import HBaseIOManager, hbase_io_manager_from_env
from ark_assets.io.layout import layout_metadata
from ark_assets.io.rows import Row, RowSpool
from ark_assets.partitions import date_tenant_partitions, partition_key
from ark_assets.resources.hbase import HBaseResource
from ark_assets_tests.platform import Platform, running_platform
from ark_stack.process import free_port
from ark_stack.services.hdfs import URL

pytestmark = pytest.mark.stack

TABLE = "hdfs_test_funds"
TENANT = "T100117"
DAY = date(2024, 3, 9)
META = layout_metadata(TABLE, kind=True)


@pytest.fixture(scope="module")
def root() -> Iterator[str]:
    """A directory of this module's own on the stack's HDFS, deleted afterwards."""
    path = f"/ark-test/{uuid.uuid4().hex[:10]}"
    yield path
    WebHdfsFiles(URL).remove_tree(path)


def _manager(root: str, **kwargs) -> HBaseIOManager:
    return HBaseIOManager(
        hbase=HBaseResource(), output="FILE", hdfs_url=URL, file_dir=root, file_rows_per_index=4, **kwargs
    )


def _rows(n: int, balance: float = 1.0) -> list[Row]:
    return [Row(str(10_000_000 + i), "1050262", {"balance": balance}, kind="CASH") for i in range(n)]


def _write(manager: HBaseIOManager, rows: list[Row], *, day: date = DAY) -> dict:
    """`handle_output` as a materialization calls it; returns the output metadata."""
    spool = RowSpool.create(TABLE, day, TENANT, covered=Coverage.everything())  # a whole answer
    for row in rows:
        spool.write(row)
    with DagsterInstance.ephemeral() as instance:
        context = build_output_context(asset_key="funds", definition_metadata=META, instance=instance)
        manager.handle_output(context, spool)
        return {k: getattr(v, "value", v) for k, v in context.get_logged_metadata().items()}


def _rest(path: str, op: str, **params) -> requests.Response:
    """A plain WebHDFS REST call (what any HDFS user would do), following the DataNode redirect."""
    response = requests.get(
        f"{URL}/webhdfs/v1{path}", params={"op": op, "user.name": "ark", **params}, timeout=30
    )
    response.raise_for_status()
    return response


def _listing(path: str) -> list[str]:
    return [s["pathSuffix"] for s in _rest(path, "LISTSTATUS").json()["FileStatuses"]["FileStatus"]]


def _day_files(root: str, day: date = DAY) -> dict[str, list[dict]]:
    directory = f"{root}/{day:%Y%m%d}/{TENANT}/{TABLE}"
    return {
        name: [json.loads(line) for line in _rest(f"{directory}/{name}", "OPEN").text.splitlines()]
        for name in sorted(_listing(directory))
    }


def test_file_output_lands_on_hdfs_in_the_seeds_layout_and_reads_back(root: str) -> None:
    manager = _manager(root)
    rows = _rows(5) + [Row("10000009", "1050262", {"name": "杭州时趣"}, kind="GIFT")]
    meta = _write(manager, rows)

    stem = f"{TABLE}_{DAY:%Y%m%d}"
    files = _day_files(root)
    assert {name: len(lines) for name, lines in files.items()} == {f"{stem}_0.json": 4, f"{stem}_1.json": 2}
    first = files[f"{stem}_0.json"][0]
    assert list(first) == ["row_key", "tenant_alias", "data", "timestamp"]
    assert first["row_key"] == f"0|{DAY:%Y%m%d}|10000000|1050262|CASH|{TENANT}"
    assert files[f"{stem}_1.json"][1]["data"] == {"name": "杭州时趣"}  # UTF-8 kept
    assert meta["output"] == "FILE" and meta["files"] == 2
    assert meta["path"] == f"hdfs://127.0.0.1:9870{root}/{DAY:%Y%m%d}/{TENANT}/{TABLE}"
    loaded = manager.load_partition(META, "funds", DAY, TENANT)
    assert sorted(loaded, key=repr) == sorted(rows, key=repr)


def test_a_rerun_replaces_the_day_and_a_failed_one_leaves_it_whole(root: str) -> None:
    manager, day = _manager(root), date(2024, 3, 10)
    _write(manager, _rows(10, balance=1.0), day=day)
    before = _day_files(root, day)

    bad = _rows(9, balance=2.0) + [Row("10000099", "1050262", {}, kind=None)]  # no kind: refused
    with pytest.raises(ValueError, match="row_kind=True"):
        _write(manager, bad, day=day)  # 9 lines went to the staging files first
    assert _day_files(root, day) == before  # the stored day, whole and unchanged
    assert _listing(f"{root}/{day:%Y%m%d}/{TENANT}") == [TABLE]  # no staging files left visible

    meta = _write(manager, _rows(3, balance=3.0), day=day)
    after = [line for lines in _day_files(root, day).values() for line in lines]
    assert sorted(line["data"]["balance"] for line in after) == [3.0] * 3
    assert meta["stale_rows_deleted"] == 7
    assert _listing(f"{root}/{day:%Y%m%d}/{TENANT}") == [TABLE]


def test_a_swap_that_died_between_its_renames_loses_nothing(root: str) -> None:
    manager, day = _manager(root), date(2024, 3, 11)
    _write(manager, _rows(6), day=day)
    partition = f"{root}/{day:%Y%m%d}/{TENANT}/{TABLE}"
    # a worker killed after moving the old files aside, before moving the new ones in
    WebHdfsFiles(URL).rename(partition, f"{partition.rsplit('/', 1)[0]}/.{TABLE}.old-deadbeef")

    assert len(manager.load_partition(META, "funds", day, TENANT)) == 6  # still readable
    meta = _write(manager, _rows(2), day=day)  # the next run replaces it and clears the leftover
    assert meta["stale_rows_deleted"] == 4
    assert _listing(f"{root}/{day:%Y%m%d}/{TENANT}") == [TABLE]


def test_readers_see_a_whole_day_while_it_is_rewritten(root: str) -> None:
    manager, day = _manager(root), date(2024, 3, 12)
    nine, four = _rows(9, balance=1.0), _rows(4, balance=2.0)  # different rows, different files

    def version(rows: list[Row]) -> frozenset:
        return frozenset((r.account_id, r.data["balance"]) for r in rows)

    _write(manager, nine, day=day)
    seen: list[frozenset] = []
    errors: list[BaseException] = []
    stop = threading.Event()

    def read() -> None:
        reader = _manager(root)  # a reader of its own (another process would have one)
        while not stop.is_set():
            try:
                seen.append(version(reader.load_partition(META, "funds", day, TENANT)))
            except Exception as exc:  # every failure is the test's finding
                errors.append(exc)
                return

    thread = threading.Thread(target=read)
    thread.start()
    try:
        for rows in [four, nine] * 3:
            _write(manager, rows, day=day)
    finally:
        stop.set()
        thread.join(timeout=60)
    assert not errors, errors
    # every read: one whole version, never a mix of two, never a partial one, never nothing
    assert seen and set(seen) <= {version(nine), version(four)}


@asset(partitions_def=date_tenant_partitions, metadata=META)
def funds(context) -> Output[RowSpool]:
    spool = RowSpool.create(TABLE, DAY, TENANT)
    spool.write(_rows(1)[0])
    return Output(spool)


def _materialize(manager: HBaseIOManager):
    with DagsterInstance.ephemeral() as instance:
        instance.add_dynamic_partitions("tenants", [TENANT])
        return materialize(
            [funds],
            partition_key=str(partition_key(DAY, TENANT)),
            resources={"io_manager": manager},
            instance=instance,
            raise_on_error=False,
        )


def test_an_unreachable_hdfs_fails_the_asset_with_its_address_and_the_fix() -> None:
    port = free_port()  # nothing listens there
    manager = HBaseIOManager(
        hbase=HBaseResource(),
        output="FILE",
        hdfs_url=f"http://127.0.0.1:{port}",
        file_dir="/ark-test/unreachable",
        start_retry_s=0,
    )
    result = _materialize(manager)
    assert not result.success
    errors = " ".join(
        str(e.event_specific_data.error) for e in result.all_events if e.is_failure and e.event_specific_data
    )
    assert f"HDFS (WebHDFS) at 127.0.0.1:{port} is unreachable" in errors
    assert "make stack" in errors and "ARK_HDFS_URL" in errors
    with pytest.raises(ServiceUnavailable, match=f"127.0.0.1:{port}"):  # and so does any later call
        manager.load_partition(META, "funds", DAY, TENANT)


def test_a_namenode_that_never_answers_is_unreachable_not_a_hung_step() -> None:
    with socket.socket() as silent:  # accepts connections (the kernel's backlog), never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        port = silent.getsockname()[1]
        started = time.monotonic()
        with pytest.raises(
            ServiceUnavailable, match=f"HDFS \\(WebHDFS\\) at 127.0.0.1:{port} is unreachable"
        ):
            WebHdfsFiles(f"http://127.0.0.1:{port}", timeout_s=1).check_reachable()
        assert time.monotonic() - started < 30


def test_the_environment_selects_hdfs_and_refuses_a_relative_directory(monkeypatch, root: str) -> None:
    monkeypatch.setenv("ARK_OUTPUT", "FILE")
    monkeypatch.setenv("ARK_HDFS_URL", URL)
    monkeypatch.delenv("ARK_OUTPUT_DIR", raising=False)
    assert hbase_io_manager_from_env().file_dir == "/ark/output"  # the default directory on HDFS
    monkeypatch.setenv("ARK_OUTPUT_DIR", f"{root}/from-env")
    assert _materialize(hbase_io_manager_from_env()).success
    assert _listing(f"{root}/from-env/{DAY:%Y%m%d}/{TENANT}") == [TABLE]

    monkeypatch.setenv("ARK_OUTPUT_DIR", "relative/dir")
    failed = _materialize(hbase_io_manager_from_env())
    assert not failed.success
    assert "must be an absolute path" in str(
        [e.event_specific_data.error for e in failed.all_events if e.is_failure and e.event_specific_data]
    )
    with pytest.raises(ValueError, match="expected the NameNode's WebHDFS address"):
        WebHdfsFiles("hdfs://127.0.0.1")


# ##### a media step writing to HDFS


@pytest.fixture(scope="module")
def platform() -> Iterator[Platform]:
    with running_platform(first_run=False) as platform:
        yield platform


def test_a_media_step_writes_its_day_to_hdfs_and_checks_it_there(platform: Platform, root: str) -> None:
    manager = HBaseIOManager(hbase=platform.hbase, output="FILE", hdfs_url=URL, file_dir=root)
    result = platform.run(["wx/agents", "wx/advertisers", "wx/funds"], resources={"io_manager": manager})
    assert result.success

    day_dir = PurePosixPath(root) / f"{platform.day:%Y%m%d}" / platform.tenant
    tables = _listing(str(day_dir))
    assert len(tables) == 3  # agents, advertisers, funds: one directory each
    checks = [e for e in result.get_asset_check_evaluations() if e.check_name == "row_keys"]
    assert len(checks) == 3 and all(e.passed for e in checks)
    for check in checks:
        table = check.metadata["table"].value
        lines = sum(
            len(_rest(f"{day_dir}/{table}/{n}", "OPEN").text.splitlines())
            for n in _listing(f"{day_dir}/{table}")
        )
        assert check.metadata["rows_checked"].value == lines > 0
        assert check.metadata["output"].value == "FILE"
