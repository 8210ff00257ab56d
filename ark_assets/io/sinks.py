"""Where an asset's rows go: one protocol, one implementation per output mode.

The seed's `output` parameter names three destinations -- HBASE, FILE, NONE -- and everything
that touches stored rows goes through the `Sink` of the configured mode: the IO manager writes
a partition and reads it back for downstream assets, and the asset checks (`row_keys`,
`matches_comparison_table`) scan what the mode wrote, so a FILE deployment checks its files and
a NONE deployment is told there is nothing to check instead of being checked against HBase.

- `HBaseSink` (`hbase_sink.py`): the seed's salted row keys in `tenant_{media}_{dataset}`.
- `FileSink` (`file_sink.py`): the seed's JSON-lines files, on local disk or on HDFS.
- `NoSink` (here): rows are read, their keys checked and counted; nothing is kept.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import Protocol

from ark_assets.io.layout import RowEncoder, TableLayout
from ark_assets.io.rows import Row, RowSpool

OUTPUT_MODES = ("HBASE", "FILE", "NONE")


@dataclass
class Written:
    """What one write did, for the output metadata."""

    rows: int = 0
    rows_written: int = 0
    stale_rows_deleted: int = 0
    row_key_example: str | None = None
    foreign_keys: int = 0
    rows_kept: int = 0  # stored rows this write neither wrote again nor could delete (not covered)
    accounts: int = 0  # accounts with at least one row in the partition after the write
    files: int | None = None
    path: str | None = None

    @property
    def partition_rows(self) -> int:
        """Rows the partition holds after this write (what the catalog plots per partition)."""
        return self.rows_written + self.rows_kept


class Sink(Protocol):
    """A destination of rows: write a partition, read it back, scan its keys.

    `mode` is the seed's output mode the run log records; `stores` is False when nothing is kept
    (reads are refused and checks have nothing to check).
    """

    mode: str
    stores: bool

    def check_reachable(self) -> None:
        """One real call now, so a wrong address fails before any media quota is spent."""

    def reset(self) -> None:
        """Drop connections that died with the server (before a retry)."""

    def write(self, spool: RowSpool, encoder: RowEncoder) -> Written:
        """Write the spool's rows into its (table, date, tenant) partition; of the stored rows it
        does not write again, delete only those `spool.covered` covers (`coverage.py`)."""

    def read(self, layout: TableLayout, day: date, tenant: str) -> list[Row]:
        """The partition's stored rows."""

    def scan_keys(self, table: str, day: date, tenant: str) -> Iterator[str]:
        """The keys a reader of the partition finds: HBase's salted scans of the day (every
        tenant's keys, the caller keeps its own), a file partition's row keys."""

    def holds(self, table: str, day: date, tenant: str) -> bool:
        """Whether the partition was ever stored: HBase, its table exists (a day without rows is
        0 rows); files, the partition's directory exists (index 0 always does once written)."""

    def location(self, table: str) -> str:
        """Where `table` is, for people: the full HBase table name, or the files' root and table."""

    def with_prefix(self, prefix: str) -> Sink:
        """The same sink over the table set `{prefix}_{table}` (the seed's production vs test)."""


class NoSink:
    """Output mode NONE: a dry run. Every row is read and its key built (so bad rows still fail the
    asset) and counted; nothing is stored, nothing can be read back."""

    mode = "NONE"
    stores = False

    def check_reachable(self) -> None:
        return None

    def reset(self) -> None:
        return None

    def write(self, spool: RowSpool, encoder: RowEncoder) -> Written:
        written = Written()
        accounts: set[str] = set()
        for account_id, agent_id, kind, suffix, _ in spool.read_encoded():
            key = encoder.key(account_id, agent_id, kind, suffix)
            if written.row_key_example is None:
                written.row_key_example = key
            written.rows += 1
            accounts.add(account_id)
        written.accounts = len(accounts)
        return written

    def read(self, layout: TableLayout, day: date, tenant: str) -> list[Row]:
        raise LookupError(
            f"output mode NONE keeps no rows, so table {layout.table!r} cannot be read; "
            f"materialize it with output HBASE or FILE (ARK_OUTPUT)"
        )

    def scan_keys(self, table: str, day: date, tenant: str) -> Iterator[str]:
        return iter(())

    def holds(self, table: str, day: date, tenant: str) -> bool:
        return False

    def location(self, table: str) -> str:
        return table

    def with_prefix(self, prefix: str) -> NoSink:
        return self
