"""Output mode FILE: the seed's JSON-lines files, on local disk or on HDFS.

Layout (the seed's `{dir}/{date}/{tenant}/{table}/{table}_{date}_{index}.json`):
`{root}/{yyyymmdd}/{tenant}/{table}/{table}_{yyyymmdd}_{index}.json`, index 0, 1, … each
holding at most `rows_per_index` lines `{"row_key", "tenant_alias", "data", "timestamp"}`.
Index 0 always exists (possibly empty, as the seed touched it first), so a missing directory
means "never materialized".

Replacing a partition. A write builds the new directory beside the old one
(`.{table}.staging-…`), then swaps it in with two renames (old → `.{table}.old-…`, staging →
the partition), so a reader sees the old files or the new ones, never a half-written day (between
the two renames, and after a swap that crashed there, readers read the swapped-out files), and a
failed write (an error, an unreachable HDFS) leaves the old files whole. As in HBase, a stored row
the write does not have is dropped only when the spool's coverage covers it (`coverage.py`): the
others are copied into the new files.
"""

from __future__ import annotations

import json
import posixpath
import re
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import date
from typing import IO

from ark_assets.core.rowkey import yyyymmdd
from ark_assets.io.coverage import Coverage
from ark_assets.io.files import Files
from ark_assets.io.layout import RowEncoder, TableLayout, stored_row
from ark_assets.io.rows import Row, RowSpool
from ark_assets.io.sinks import Written


@dataclass(frozen=True)
class FileSink:
    """Rows as the seed's files under `root` of `files` (local disk or HDFS)."""

    files: Files
    root: str
    rows_per_index: int = 10_000
    table_prefix: str = ""

    mode = "FILE"
    stores = True

    def check_reachable(self) -> None:
        self.files.check_reachable()

    def reset(self) -> None:
        return None

    def partition_dir(self, table: str, day: date, tenant: str) -> str:
        return posixpath.join(self.root, yyyymmdd(day), tenant, self.location(table))

    def write(self, spool: RowSpool, encoder: RowEncoder) -> Written:
        target = self.partition_dir(spool.table, spool.data_date, spool.tenant)
        stale, kept = self._old_keys(target, encoder.layout, spool.covered)
        written = Written(path=self.files.describe(target))
        staging = _beside(target, "staging")
        self.files.makedirs(staging)
        accounts: set[str] = set()
        try:
            with _IndexedFiles(self.files, staging, spool, self.rows_per_index) as out:
                for account_id, agent_id, kind, suffix, data in spool.read_encoded():
                    key = encoder.key(account_id, agent_id, kind, suffix)
                    out.write(encoder.file_line(key, data))
                    stale.discard(key)
                    kept.pop(key, None)
                    accounts.add(account_id)
                    if written.row_key_example is None:
                        written.row_key_example = key
                written.rows = written.rows_written = out.lines
                for line in self._lines(target) if kept else ():
                    key = _key(line)
                    if key in kept:
                        out.write(line)
                        if account := kept.pop(key):
                            accounts.add(account)
                        written.rows_kept += 1
            self._swap(staging, target)
        except BaseException:
            self.files.remove_tree(staging)
            raise
        written.files = out.files
        written.stale_rows_deleted = len(stale)
        written.accounts = len(accounts)
        return written

    def _old_keys(self, target: str, layout: TableLayout, covered: Coverage) -> tuple[set, dict]:
        """(keys this write drops unless it writes them again, keys it must keep -> their account,
        "" for a key of another layout, which is never ours to drop)."""
        stale: set[str] = set()
        kept: dict[str, str] = {}
        for line in self._lines(target):
            key = _key(line)
            try:
                parsed = layout.parse(key)
            except ValueError:
                kept[key] = ""
                continue
            if covered.covers(parsed.account_id, parsed.agent_id):
                stale.add(key)
            else:
                kept[key] = parsed.account_id
        return stale, kept

    def _swap(self, staging: str, target: str) -> None:
        """Put `staging` where `target` is; the old directory is deleted only once the new one is in."""
        old = None
        if self.files.exists(target):
            old = _beside(target, "old")
            self.files.rename(target, old)
        try:
            self.files.rename(staging, target)
        except BaseException:
            if old is not None and not self.files.exists(target):
                self.files.rename(old, target)  # the previous files, back in place
            raise
        for leftover in self._swapped_out(target):  # ours, and any a crashed swap left behind
            self.files.remove_tree(leftover)

    def _swapped_out(self, target: str) -> list[str]:
        """`.{table}.old-…` directories beside `target`: a partition's previous files mid-swap."""
        head, name = posixpath.split(target)
        if not self.files.exists(head):
            return []
        return sorted(
            posixpath.join(head, n) for n in self.files.listdir(head) if n.startswith(f".{name}.old-")
        )

    def _current(self, directory: str) -> str | None:
        """Where a partition's files are: its directory, or, between a swap's two renames (or after
        a swap that crashed between them), the previous files swapped out beside it."""
        if self.files.exists(directory):
            return directory
        return next(iter(self._swapped_out(directory)), None)

    def read(self, layout: TableLayout, day: date, tenant: str) -> list[Row]:
        directory = self.partition_dir(layout.table, day, tenant)
        if self._current(directory) is None:
            raise FileNotFoundError(
                f"no files for table {layout.table!r}, {day}, tenant {tenant} at "
                f"{self.files.describe(directory)} (the partition was never materialized with output FILE)"
            )
        rows = []
        for line in self._whole(directory):
            record = json.loads(line)
            parsed, row = stored_row(layout, record["row_key"], record["data"])
            if parsed.tenant == tenant:
                rows.append(row)
        return rows

    def scan_keys(self, table: str, day: date, tenant: str) -> Iterator[str]:
        return iter([_key(line) for line in self._whole(self.partition_dir(table, day, tenant))])

    def _whole(self, directory: str, within_s: float = 30.0) -> list[str]:
        """Every line of one version of the partition.

        A swap can replace the partition while we read it (and delete the files we were reading).
        Its directory never changes once swapped in, so a read is of one version when the
        directory we read is still the same one (same inode / HDFS file id) after the read;
        otherwise (or when a file vanished or came back garbled under us) it is read again, for
        at most `within_s` seconds of writes that keep replacing it."""
        deadline = time.monotonic() + within_s
        while True:
            current = self._current(directory)
            if current is None:
                return []
            try:
                before = self.files.identity(current)
                lines = list(self._lines_of(current))
                if self.files.identity(current) == before:
                    return lines
            except FileNotFoundError:
                pass
            except ValueError:  # undecodable: a file replaced mid-read, or truly corrupt
                if self._unchanged(current, before):
                    raise
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"{self.files.describe(directory)} kept being replaced while it was being read "
                    f"for {within_s:.0f} s; read it again when its writes have ended"
                )

    def _unchanged(self, current: str, before: int) -> bool:
        try:
            return self.files.identity(current) == before
        except FileNotFoundError:
            return False

    def holds(self, table: str, day: date, tenant: str) -> bool:
        return self._current(self.partition_dir(table, day, tenant)) is not None

    def location(self, table: str) -> str:
        return f"{self.table_prefix}_{table}" if self.table_prefix else table

    def with_prefix(self, prefix: str) -> FileSink:
        joined = "_".join(p for p in (prefix, self.table_prefix) if p)
        return FileSink(self.files, self.root, self.rows_per_index, joined)

    def _lines(self, directory: str) -> Iterator[str]:
        """Every line of a partition (none when it was never written), file by file in index order."""
        current = self._current(directory)
        if current is not None:
            yield from self._lines_of(current)

    def _lines_of(self, current: str) -> Iterator[str]:
        for name in _index_files(self.files.listdir(current)):
            with self.files.open_read(posixpath.join(current, name)) as lines:
                for line in lines:
                    if line.strip():
                        yield line.rstrip("\n")


class _IndexedFiles:
    """Writes lines into `{table}_{yyyymmdd}_{index}.json` files of `directory`, `per_file` lines each."""

    def __init__(self, fs: Files, directory: str, spool: RowSpool, per_file: int) -> None:
        self._fs, self._directory, self._per_file = fs, directory, per_file
        self._prefix = f"{spool.table}_{yyyymmdd(spool.data_date)}_"
        self.lines = 0
        self.files = 0
        self._stack = ExitStack()
        self._file: IO[str] | None = None
        self._in_file = 0

    def __enter__(self) -> _IndexedFiles:
        self._roll()  # index 0 exists even when there are no rows
        return self

    def write(self, line: str) -> None:
        if self._in_file >= self._per_file:
            self._roll()
        self._file.write(line + "\n")
        self._in_file += 1
        self.lines += 1

    def __exit__(self, *exc: object) -> None:
        self._stack.close()

    def _roll(self) -> None:
        self._stack.close()
        path = posixpath.join(self._directory, f"{self._prefix}{self.files}.json")
        self._file = self._stack.enter_context(self._fs.open_write(path))
        self.files += 1
        self._in_file = 0


def _beside(target: str, what: str) -> str:
    head, name = posixpath.split(target)
    return posixpath.join(head, f".{name}.{what}-{uuid.uuid4().hex[:8]}")


def _key(line: str) -> str:
    return json.loads(line)["row_key"]


_INDEX = re.compile(r"_(\d+)\.json$")


def _index_files(names: list[str]) -> list[str]:
    numbered = [(int(m.group(1)), name) for name in names if (m := _INDEX.search(name))]
    return [name for _, name in sorted(numbered)]
