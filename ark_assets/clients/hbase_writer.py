"""Batched HBase writes over one happybase table: bounded by count and by bytes (no Dagster)."""

from __future__ import annotations

from types import TracebackType

import happybase

# A batch is also sent once its values reach this size: rows from huge pages (MiBs each) would
# otherwise make one Thrift message of up to batch_size × row size, past the server's 100 MiB
# message limit and through the Thrift server's small heap.
MAX_BATCH_BYTES = 8 * 2**20


class HBaseWriter:
    """Streams puts and deletes to one table in batches, counting what it sent."""

    def __init__(self, table: happybase.Table, batch_size: int, max_bytes: int = MAX_BATCH_BYTES) -> None:
        if batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, got {batch_size}")
        self._batch = table.batch(batch_size=batch_size)
        self._max_bytes = max_bytes
        self._bytes = 0
        self.puts = 0
        self.deletes = 0
        self.batches_sent_by_size = 0

    def put(self, key: bytes | str, data: dict[bytes, bytes]) -> None:
        key = as_bytes(key)
        self._batch.put(key, data)
        self.puts += 1
        self._bytes += len(key) + sum(len(c) + len(v) for c, v in data.items())
        if self._bytes >= self._max_bytes:
            self._batch.send()
            self._bytes = 0
            self.batches_sent_by_size += 1

    def delete(self, key: bytes | str) -> None:
        self._batch.delete(as_bytes(key))
        self.deletes += 1

    def __enter__(self) -> HBaseWriter:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        # Non-transactional, as the seed's batches: rows already buffered are sent even on error,
        # since each row is complete on its own and a re-run rewrites the same keys.
        self._batch.send()


def as_bytes(key: bytes | str) -> bytes:
    return key if isinstance(key, bytes) else key.encode()
