"""A downloaded report file read as a stream: typed records, grouped by account, in bounded memory.

An agency's report file (CSV: a header row of the asked fields, one line per row; see
`media/bulk.py` and docs/media/gdt.md) holds every sub-customer's rows. Each row becomes the record
the per-account call would answer: the header's fields in their order, each value typed as the
media declares (an empty cell is a field the row does not have), so the stored rows are the same
whichever path fetched them. Rows are read line by line and spread over a few bucket files by
account, so memory holds one bucket's rows at a time, whatever the file's size and however its
rows are ordered; each account's records keep the file's order.
"""

from __future__ import annotations

import csv
import json
import os
import tempfile
import zlib
from collections.abc import Iterable, Iterator, Mapping
from contextlib import ExitStack
from pathlib import Path
from typing import Any

BUCKETS = 16


class BadFile(ValueError):
    """A file that is not the report asked for: its line and field are named."""


class GroupedFile:
    """A report file's records by account (`records()`), held in bucket files until `discard()`."""

    def __init__(
        self, paths: Iterable[str], *, types: Mapping[str, type], account_field: str, buckets: int = BUCKETS
    ) -> None:
        self.accounts: set[str] = set()
        self.rows = 0
        self._dir = Path(tempfile.mkdtemp(prefix="ark-report-"))
        self._buckets = [self._dir / f"{n}.jsonl" for n in range(buckets)]
        try:
            with ExitStack() as files:
                outs = [files.enter_context(path.open("w", encoding="utf-8")) for path in self._buckets]
                for path in paths:
                    self._read(Path(path), outs, types, account_field)
        except BaseException:
            self.discard()
            raise

    def _read(self, path: Path, outs: list[Any], types: Mapping[str, type], account_field: str) -> None:
        with path.open(encoding="utf-8", newline="") as handle:
            reader = csv.reader(handle)
            header = next(reader, None)
            if not header or account_field not in header:
                raise BadFile(f"{path.name}: the header {header!r} has no {account_field!r} column")
            for line, cells in enumerate(reader, 2):
                if len(cells) != len(header):
                    raise BadFile(f"{path.name} line {line}: {len(cells)} cells under {len(header)} columns")
                record = {
                    name: _typed(name, cell, types, path.name, line)
                    for name, cell in zip(header, cells, strict=True)
                    if cell
                }
                account = str(record.get(account_field, ""))
                if not account.isdigit():
                    raise BadFile(f"{path.name} line {line}: {account_field} is {account!r}, not an id")
                outs[zlib.crc32(account.encode()) % len(outs)].write(
                    f"{account}\t{json.dumps(record, ensure_ascii=False)}\n"
                )
                self.accounts.add(account)
                self.rows += 1

    def records(self) -> Iterator[tuple[str, list[dict[str, Any]]]]:
        """(account, its records in the file's order) for every account with rows."""
        for bucket in self._buckets:
            grouped: dict[str, list[dict[str, Any]]] = {}
            with bucket.open(encoding="utf-8") as handle:
                for line in handle:
                    account, _, record = line.rstrip("\n").partition("\t")
                    grouped.setdefault(account, []).append(json.loads(record))
            yield from grouped.items()

    def discard(self) -> None:
        for bucket in self._buckets:
            bucket.unlink(missing_ok=True)
        try:
            os.rmdir(self._dir)
        except OSError:
            pass


def _typed(name: str, cell: str, types: Mapping[str, type], file: str, line: int) -> Any:
    kind = types.get(name, str)
    try:
        return kind(cell)
    except ValueError:
        raise BadFile(f"{file} line {line}: field {name!r} is {cell[:40]!r}, not a {kind.__name__}") from None
