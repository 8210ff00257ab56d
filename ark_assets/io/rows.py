"""The rows an asset produces and the IO manager persists: one per account (and kind).

The seed stores one HBase row per account and "kind" (fund type, report time line …) whose
`info:data` holds what the media API returned for it. Assets stream those rows to a local
spool file while the fetch engine runs, so memory stays bounded however many accounts a
partition has; the IO manager then reads the spool in batches and writes it out under the
row-key design.

The spool has one line per `Row`: its key parts as a JSON array, a tab, then its `data` as
`json.dumps(data, ensure_ascii=False)` writes it. Encoding the data here, on the asset's side
while it waits on the network, and in the exact form the seed's stored value embeds, lets the
IO manager build each stored value by concatenation instead of decoding and re-encoding it
(`read_encoded`); JSON escapes a tab inside strings, so the first tab always ends the header.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from ark_assets.io.coverage import Coverage
from ark_assets.io.fields import FieldTally


@dataclass(frozen=True)
class Row:
    """One account's (or agent's) data for the partition's date and tenant.

    Args:
        account_id: the row's subject (an agent id for agent lists).
        agent_id: the agent whose token fetched it (the parent agent for agent lists).
        data: the API record(s) as returned, stored under `info:data` → `data`.
        kind: fund type, report level … when a table holds several rows per account.
        suffix: the time line for report rows fetched per time line.
    """

    account_id: str
    agent_id: str
    data: Any
    kind: str | None = None
    suffix: str | None = None


@dataclass
class RowSpool:
    """An asset's output: rows for one (table, date, tenant), spooled on local disk.

    Args:
        table: the HBase table (bare name; the naming rule lives in `tables.py`).
        data_date: the partition's GMT+8 day.
        tenant: the partition's tenant.
        covered: whose stored rows this spool replaces entirely (`coverage.py`): a stored row
            of the partition that the spool does not hold is deleted only when it is covered.
            Nothing is covered until the asset says what the media answered for (an account
            its activity signal proved idle counts: it has nothing that day).
    """

    table: str
    data_date: date
    tenant: str
    path: Path
    covered: Coverage = field(default_factory=Coverage)
    rows: int = 0
    source: str = ""  # the API contract the rows came from (HBASE stores it in `info:api`)
    fields: FieldTally = field(default_factory=FieldTally)  # the record fields the rows carry (fields.py)
    _file: Any = field(default=None, repr=False)

    @classmethod
    def create(
        cls,
        table: str,
        data_date: date,
        tenant: str,
        *,
        covered: Coverage | None = None,
        directory: Path | None = None,
    ) -> RowSpool:
        fd, name = tempfile.mkstemp(prefix=f"{table}_{tenant}_", suffix=".jsonl", dir=directory)
        os.close(fd)
        return cls(table, data_date, tenant, Path(name), covered or Coverage())

    def write(self, row: Row) -> None:
        if self._file is None:
            self._file = self.path.open("a", encoding="utf-8")
        header = json.dumps([row.account_id, row.agent_id, row.kind, row.suffix], ensure_ascii=False)
        self._file.write(f"{header}\t{json.dumps(row.data, ensure_ascii=False)}\n")
        self.fields.add(row.data)
        self.rows += 1

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None

    def read(self) -> Iterator[Row]:
        """The rows in write order (closes the spool for writing)."""
        for account_id, agent_id, kind, suffix, data in self.read_encoded():
            yield Row(account_id, agent_id, json.loads(data), kind, suffix)

    def read_encoded(self) -> Iterator[tuple[str, str, str | None, str | None, str]]:
        """`(account_id, agent_id, kind, suffix, data_json)` in write order, the data left encoded.

        `data_json` is exactly `json.dumps(row.data, ensure_ascii=False)`.
        """
        self.close()
        with self.path.open(encoding="utf-8") as spool:
            for number, line in enumerate(spool, 1):
                header, tab, data = line.rstrip("\n").partition("\t")
                if not tab:
                    if not line.strip():
                        continue
                    raise ValueError(f"spool {self.path} line {number} is not a spooled row: {line[:80]!r}")
                account_id, agent_id, kind, suffix = json.loads(header)
                yield account_id, agent_id, kind, suffix, data

    def discard(self) -> None:
        self.close()
        self.path.unlink(missing_ok=True)

    def __getstate__(self) -> dict[str, Any]:  # picklable for Dagster's output handling
        self.close()
        return {k: v for k, v in self.__dict__.items() if k != "_file"} | {"_file": None}
