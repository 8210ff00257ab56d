"""An on-disk spool of Kafka events the broker could not take, shared safely between processes."""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

SPOOL_FILE = "events.jsonl"


class EventSpool:
    """Undelivered events, oldest first, as JSON lines `{id, topic, key, value}` in one file.

    Every file operation holds an exclusive `flock`, so the producer's I/O thread, the caller's
    thread and other processes (Dagster's multiprocess executor) can share one spool directory.
    Events are removed by id, so two processes draining at once deliver twice but never lose one.
    The size cap is checked against this process's count, so with several writers it is approximate.
    """

    def __init__(self, directory: Path, max_events: int) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.path = directory / SPOOL_FILE
        self._lock_path = directory / f"{SPOOL_FILE}.lock"
        self._max_events = max_events
        with self._locked():
            self._count = len(self._read())

    def __len__(self) -> int:
        return self._count

    def append(self, record: dict[str, Any]) -> bool:
        """Add `record` at the end; False (and nothing written) when the spool is full."""
        with self._locked():
            if self._count >= self._max_events:
                return False
            with self.path.open("a", encoding="utf-8") as spool:
                spool.write(json.dumps(record, ensure_ascii=False) + "\n")
            self._count += 1
            return True

    def read(self) -> list[dict[str, Any]]:
        """All spooled records, oldest first."""
        with self._locked():
            records = self._read()
            self._count = len(records)
            return records

    def remove(self, ids: set[str]) -> None:
        """Drop the records with these ids, keeping the others (and any appended since) in order."""
        with self._locked():
            kept = [record for record in self._read() if record["id"] not in ids]
            tmp = self.path.with_suffix(".tmp")
            tmp.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in kept), encoding="utf-8")
            os.replace(tmp, self.path)
            self._count = len(kept)

    def _read(self) -> list[dict[str, Any]]:
        if not self.path.exists():
            return []
        with self.path.open(encoding="utf-8") as spool:
            return [json.loads(line) for line in spool if line.strip()]

    @contextmanager
    def _locked(self) -> Iterator[None]:
        with self._lock_path.open("a") as lock_file:
            fcntl.flock(lock_file, fcntl.LOCK_EX)  # released when the file closes
            yield
