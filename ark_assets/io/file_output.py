"""FILE output: the seed's JSON-lines files, one directory per (date, tenant, table).

Layout (the seed's `{dir}/{date}/{tenant}/{table}/{table}_{date}_{index}.json`):
`{file_dir}/{yyyymmdd}/{tenant}/{table}/{table}_{yyyymmdd}_{index}.json`, index 0, 1, … each
holding at most `rows_per_index` lines `{"row_key", "tenant_alias", "data", "timestamp"}`.
Index 0 always exists (possibly empty, as the seed touched it first), so a missing directory
means "never materialized". A materialization builds the new directory beside the old one and
swaps it in, so a failed run leaves the previous files whole.
"""

from __future__ import annotations

import json
import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from ark_assets.core.rowkey import yyyymmdd


def partition_dir(file_dir: str | Path, table: str, day, tenant: str) -> Path:
    return Path(file_dir) / yyyymmdd(day) / tenant / table


def read_lines(directory: Path) -> Iterator[str]:
    """Every line of a partition directory, file by file in index order."""
    for path in _index_files(directory):
        with path.open(encoding="utf-8") as lines:
            for line in lines:
                if line.strip():
                    yield line.rstrip("\n")


def line_key(line: str) -> str:
    return json.loads(line)["row_key"]


class IndexedWriter:
    """Writes lines into `{table}_{yyyymmdd}_{index}.json` files of a staging directory, then swaps it in.

    Use as a context manager: leaving the block normally replaces `target` with the staged
    files; an error deletes the staging directory and leaves `target` untouched.
    """

    def __init__(self, target: Path, table: str, day, rows_per_index: int) -> None:
        if rows_per_index < 1:
            raise ValueError(f"file_rows_per_index must be at least 1, got {rows_per_index}")
        self.target = target
        self.prefix = f"{table}_{yyyymmdd(day)}_"
        self.rows_per_index = rows_per_index
        self.staging = target.with_name(f".{target.name}.staging-{uuid.uuid4().hex[:8]}")
        self.lines = 0
        self.files = 0
        self._file: IO[str] | None = None
        self._in_file = 0

    def __enter__(self) -> IndexedWriter:
        self.staging.mkdir(parents=True)
        self._roll()  # index 0 exists even when there are no rows
        return self

    def write(self, line: str) -> None:
        if self._in_file >= self.rows_per_index:
            self._roll()
        self._file.write(line)
        self._file.write("\n")
        self._in_file += 1
        self.lines += 1

    def __exit__(self, exc_type, exc, tb) -> None:
        self._close()
        if exc_type is not None:
            shutil.rmtree(self.staging, ignore_errors=True)
            return
        old = None
        if self.target.exists():
            old = self.target.with_name(f".{self.target.name}.old-{uuid.uuid4().hex[:8]}")
            os.rename(self.target, old)
        os.rename(self.staging, self.target)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)

    def _roll(self) -> None:
        self._close()
        self._file = (self.staging / f"{self.prefix}{self.files}.json").open("w", encoding="utf-8")
        self.files += 1
        self._in_file = 0

    def _close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None


def _index_files(directory: Path) -> list[Path]:
    def index(path: Path) -> int:
        tail = path.stem.rsplit("_", 1)[-1]
        return int(tail) if tail.isdigit() else -1

    return sorted((p for p in directory.glob("*.json") if index(p) >= 0), key=index)
