"""HBase over happybase: a connection pool, pre-split table creation, batched writes, salted scans.

Reads and writes go through happybase (Thrift1, port 9090). Creating a table pre-split at
`1|` … `9|` needs Thrift2 (port 9091), see `hbase_admin`. A table that does not exist is
reported as `TableNotFound` instead of the Thrift `IOError` the seed had to catch by hand.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import date

import happybase
from dagster import ConfigurableResource, InitResourceContext
from Hbase_thrift import IOError as HBaseIOError  # the module happybase loads its IDL as
from pydantic import PrivateAttr
from thriftpy2.transport import TTransportException

from ark_assets.clients.errors import ServiceUnavailable, TableNotFound
from ark_assets.clients.hbase_admin import HBaseAdminClient
from ark_assets.clients.hbase_writer import HBaseWriter, as_bytes
from ark_assets.core.rowkey import SPLIT_KEYS, salted_date_ranges
from ark_assets.resources.env import env_int, env_str

SEED_FAMILIES = ("info", "col")
DATA_COLUMN = b"info:data"
# beside info:data: which API contract a row came from (`v3.0 /v3.0/daily_reports/get`), so a
# reader tells a v3.0 row from a v1.x one without the row key or the value's fields changing
API_COLUMN = b"info:api"
# Keys only: the server drops every value (and every cell but the first) before sending.
KEYS_ONLY = b"FirstKeyOnlyFilter() AND KeyOnlyFilter()"
_ENV_HINT = "ARK_HBASE_HOST/ARK_HBASE_PORT"


class HBaseResource(ConfigurableResource):
    """The platform's HBase, through its Thrift servers.

    Args:
        host: Thrift server host.
        port: Thrift1 port (happybase; all reads and writes).
        admin_port: Thrift2 port (DDL only: pre-split table creation).
        pool_size: connections kept per process (one per concurrent writer thread).
        timeout_ms: socket timeout for every Thrift call.
        table_prefix: prepended as `{prefix}_{table}`; tests use it to isolate their tables.
        batch_size: puts per batch sent by `writer` (the seed sent 1000 at a time).
    """

    host: str = "127.0.0.1"
    port: int = 9090
    admin_port: int = 9091
    pool_size: int = 4
    timeout_ms: int = 60_000
    table_prefix: str = ""
    batch_size: int = 1000

    _pool: happybase.ConnectionPool | None = PrivateAttr(default=None)

    def teardown_after_execution(self, context: InitResourceContext) -> None:
        self.close()

    def close(self) -> None:
        """Close the pooled connections (the pool is rebuilt on next use)."""
        pool, self._pool = self._pool, None
        if pool is not None:
            for _ in range(self.pool_size):
                try:
                    with pool.connection(timeout=1) as conn:
                        conn.close()
                except (happybase.pool.NoConnectionsAvailable, TTransportException, OSError):
                    # the server is gone (the pool re-opens a connection it hands out): the dropped
                    # pool's sockets close with it
                    break

    # ----- connections

    @contextmanager
    def connection(self) -> Iterator[happybase.Connection]:
        """A pooled happybase connection; an unreachable server raises ServiceUnavailable."""
        if self._pool is None:
            try:
                # happybase connects one connection at construction, so a wrong host fails here.
                self._pool = happybase.ConnectionPool(
                    self.pool_size, host=self.host, port=self.port, timeout=self.timeout_ms
                )
            except (TTransportException, OSError) as exc:
                raise self._unavailable(self.port, exc) from exc
        try:
            with self._pool.connection() as conn:
                yield conn
        except (TTransportException, ConnectionError) as exc:
            raise self._unavailable(self.port, exc) from exc

    @contextmanager
    def admin(self) -> Iterator[HBaseAdminClient]:
        try:
            client = HBaseAdminClient(self.host, self.admin_port, timeout_ms=self.timeout_ms)
        except (TTransportException, OSError) as exc:
            raise self._unavailable(
                self.admin_port, exc, "Thrift2 ", "ARK_HBASE_HOST/ARK_HBASE_ADMIN_PORT"
            ) from exc
        with client:
            yield client

    def check_reachable(self) -> None:
        """One Thrift call now, so a wrong host or a down server fails before any work is done."""
        with self.connection() as conn:
            conn.tables()

    def full_name(self, table: str) -> str:
        return f"{self.table_prefix}_{table}" if self.table_prefix else table

    # ----- tables

    def table_exists(self, table: str) -> bool:
        with self.connection() as conn:
            return self.full_name(table).encode() in conn.tables()

    def ensure_table(
        self,
        table: str,
        *,
        families: Iterable[str] = SEED_FAMILIES,
        compression: str = "SNAPPY",
        split_keys: Iterable[bytes] = SPLIT_KEYS,
        max_versions: int = 3,
    ) -> bool:
        """Create `table` as the seed's tables are (families, compression, pre-splits) if missing.

        Returns True when it was created. An existing table must have the requested families;
        otherwise a ValueError says what differs (nothing is altered or dropped).
        """
        families = tuple(families)
        if not self.table_exists(table):
            with self.admin() as admin:
                try:
                    admin.create_table(
                        self.full_name(table),
                        {family: max_versions for family in families},
                        compression=compression,
                        split_keys=list(split_keys),
                    )
                    return True
                except Exception as exc:  # a concurrent run may have created it first
                    if not admin.table_exists(self.full_name(table)):
                        raise
                    if "TableExistsException" not in str(exc):
                        raise
        with self.connection() as conn:
            existing = {name.decode().rstrip(":") for name in conn.table(self.full_name(table)).families()}
        if not set(families) <= existing:
            raise ValueError(
                f"HBase table {self.full_name(table)!r} exists with families {sorted(existing)}, "
                f"expected at least {sorted(families)}"
            )
        return False

    def delete_table(self, table: str) -> None:
        """Disable and drop `table` (tests and tooling; never called by assets)."""
        with self.connection() as conn:
            if self.full_name(table).encode() in conn.tables():
                conn.delete_table(self.full_name(table), disable=True)

    def regions(self, table: str) -> list[dict]:
        with self._reading(table) as hbase_table:
            return hbase_table.regions()

    # ----- reads

    def row(self, table: str, key: bytes | str) -> dict[bytes, bytes]:
        with self._reading(table) as hbase_table:
            return hbase_table.row(as_bytes(key))

    def scan_date(
        self,
        table: str,
        day: date,
        *,
        columns: list[bytes] | None = None,
        batch_size: int = 1000,
        scan_filter: bytes | None = None,
    ) -> Iterator[tuple[bytes, dict[bytes, bytes]]]:
        """Every row of `day`, read with ten salted range scans (`{i}|{day}` … `{i}|{day + 1}`).

        `scan_filter` is an HBase filter string applied by the server (e.g. keys only)."""
        for row_start, row_stop in salted_date_ranges(day):
            with self._reading(table) as hbase_table:
                yield from hbase_table.scan(
                    row_start=row_start,
                    row_stop=row_stop,
                    columns=columns,
                    batch_size=batch_size,
                    filter=scan_filter,
                )

    def count_date(self, table: str, day: date) -> int:
        """Rows of `day` (the seed's production-vs-test comparison); keys only, no values."""
        return sum(1 for _ in self.scan_date(table, day, scan_filter=KEYS_ONLY))

    # ----- writes

    @contextmanager
    def writer(self, table: str, *, batch_size: int | None = None) -> Iterator[HBaseWriter]:
        """A batched writer; leaving the `with` block sends what is left (also on error)."""
        with self.connection() as conn:
            writer = HBaseWriter(conn.table(self.full_name(table)), batch_size or self.batch_size)
            with writer:
                yield writer

    # ----- helpers

    @contextmanager
    def _reading(self, table: str) -> Iterator[happybase.Table]:
        with self.connection() as conn:
            try:
                yield conn.table(self.full_name(table))
            except HBaseIOError as exc:
                if b"TableNotFoundException" in _message(exc):
                    raise TableNotFound(self.full_name(table)) from None
                raise

    def _unavailable(
        self, port: int, exc: BaseException, kind: str = "", env_hint: str = _ENV_HINT
    ) -> ServiceUnavailable:
        return ServiceUnavailable(
            f"HBase {kind}Thrift", self.host, port, str(exc) or type(exc).__name__, env_hint
        )


def hbase_resource_from_env() -> HBaseResource:
    """ARK_HBASE_HOST, ARK_HBASE_PORT (Thrift1), ARK_HBASE_ADMIN_PORT (Thrift2), ARK_HBASE_TABLE_PREFIX."""
    return HBaseResource(
        host=env_str("ARK_HBASE_HOST", "127.0.0.1"),
        port=env_int("ARK_HBASE_PORT", 9090),
        admin_port=env_int("ARK_HBASE_ADMIN_PORT", 9091),
        table_prefix=env_str("ARK_HBASE_TABLE_PREFIX", ""),
    )


def _message(exc: HBaseIOError) -> bytes:
    message = getattr(exc, "message", b"") or b""
    return message if isinstance(message, bytes) else str(message).encode()
