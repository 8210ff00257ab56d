"""Output mode HBASE: the seed's salted row keys, value `info:data`, one table per dataset.

Each row is put at `RowKey(account, date, agent, tenant, kind, suffix)` with the seed's value
`{"tenant_alias", "data", "timestamp"}` in `info:data`, in batches of `batch_size`, into a
table created on first use as the seed's are (families info/col, SNAPPY, pre-split 1| … 9|).

Replacing a partition. Keys the write puts again are overwritten in place; keys of that date
and tenant it did not write are deleted (`stale_rows_deleted`) when the spool's coverage covers
their account or agent (the media answered for it without them: `coverage.py`), and kept
otherwise (`rows_kept`); deletes go out only after every put, so a failed write leaves the old
rows in place. The existing keys are read first (ten salted key scans of the date, keeping only
this tenant's keys); rows of other tenants, and keys that do not split under the table's layout
(written by something else), are never touched.
"""

from __future__ import annotations

import gc
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date

from ark_assets.io.layout import RowEncoder, TableLayout, stored_row
from ark_assets.io.rows import Row, RowSpool
from ark_assets.io.sinks import Written
from ark_assets.resources.hbase import API_COLUMN, DATA_COLUMN, KEYS_ONLY, HBaseResource


@dataclass(frozen=True)
class HBaseSink:
    """Rows in HBase through `hbase` (its Thrift servers), `batch_size` puts per batch."""

    hbase: HBaseResource
    batch_size: int = 1000

    mode = "HBASE"
    stores = True

    def check_reachable(self) -> None:
        self.hbase.check_reachable()

    def reset(self) -> None:
        self.hbase.close()  # the pooled connections died with the server

    def write(self, spool: RowSpool, encoder: RowEncoder) -> Written:
        self.hbase.ensure_table(spool.table)
        stale, kept, written = self._existing_keys(spool, encoder.layout)
        contract = {API_COLUMN: spool.source.encode()} if spool.source else {}
        accounts: set[str] = set()
        with self.hbase.writer(spool.table, batch_size=self.batch_size) as writer, _gc_paused():
            for account_id, agent_id, kind, suffix, data in spool.read_encoded():
                key = encoder.key(account_id, agent_id, kind, suffix).encode()
                writer.put(key, {DATA_COLUMN: encoder.value(data).encode(), **contract})
                stale.discard(key)
                kept.pop(key, None)
                accounts.add(account_id)
                if written.row_key_example is None:
                    written.row_key_example = key.decode()
            # Only after every put went out (a failed write leaves the old rows in place).
            for key in sorted(stale):
                writer.delete(key)
        written.rows = written.rows_written = writer.puts
        written.stale_rows_deleted = writer.deletes
        written.rows_kept = len(kept)
        written.accounts = len(accounts | set(kept.values()))
        return written

    def _existing_keys(
        self, spool: RowSpool, layout: TableLayout
    ) -> tuple[set[bytes], dict[bytes, str], Written]:
        """This partition's keys already in the table: (those the spool's coverage lets go unless
        written again, those it must keep -> their account), and a `Written` counting the foreign keys."""
        written = Written()
        stale: set[bytes] = set()
        kept: dict[bytes, str] = {}
        tenant, covered = spool.tenant, spool.covered
        for key, _ in self.hbase.scan_date(spool.table, spool.data_date, scan_filter=KEYS_ONLY):
            try:
                parsed = layout.parse(key)
            except ValueError:
                written.foreign_keys += 1
                continue
            if parsed.tenant != tenant:
                continue
            if covered.covers(parsed.account_id, parsed.agent_id):
                stale.add(key)
            else:
                kept[key] = parsed.account_id
        return stale, kept, written

    def read(self, layout: TableLayout, day: date, tenant: str) -> list[Row]:
        # A missing table raises the resource's TableNotFound from the first scan.
        rows: list[Row] = []
        for key, value in self.hbase.scan_date(layout.table, day, columns=[DATA_COLUMN]):
            try:
                parsed = layout.parse(key)
            except ValueError:
                continue  # not this table's layout: not an asset's row
            if parsed.tenant == tenant and parsed.data_date == day:
                rows.append(stored_row(layout, key, json.loads(value[DATA_COLUMN])["data"])[1])
        return rows

    def scan_keys(self, table: str, day: date, tenant: str) -> Iterator[str]:
        for key, _ in self.hbase.scan_date(table, day, scan_filter=KEYS_ONLY):
            yield key.decode(errors="replace")

    def holds(self, table: str, day: date, tenant: str) -> bool:
        return self.hbase.table_exists(table)

    def location(self, table: str) -> str:
        return self.hbase.full_name(table)

    def with_prefix(self, prefix: str) -> HBaseSink:
        joined = "_".join(p for p in (prefix, self.hbase.table_prefix) if p)
        return HBaseSink(self.hbase.model_copy(update={"table_prefix": joined}), self.batch_size)


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while rows stream out.

    The write loop makes ~10 short-lived objects per row and no reference cycles (refcounting
    frees them all), but its allocations trigger collections, and in a process holding Dagster's
    hundreds of thousands of objects a full one costs ~0.1 s: in 8 + 8 warm 25k-row writes, 3
    without the pause took 0.25 s of CPU instead of 0.15 s (bench/io_bench.py's data). The
    previous state is restored on exit, also on error.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
