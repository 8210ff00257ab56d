"""An asset's table layout (its definition metadata) and the seed's stored shapes of a row.

Every asset that persists rows declares, as definition metadata, the HBase table it writes and
which optional row-key parts its rows carry (see `layout_metadata`). The IO manager needs that
to split stored keys (a sixth key part is a kind or a suffix, and only the table knows which),
and a downstream asset's input finds its upstream table there.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from ark_assets.core.rowkey import DayKeys, RowKey, parse
from ark_assets.io.rows import Row

META_TABLE = "hbase_table"
META_KIND = "row_kind"
META_SUFFIX = "row_suffix"


def layout_metadata(table: str, *, kind: bool = False, suffix: bool = False) -> dict[str, Any]:
    """The definition metadata an asset puts on itself, e.g. `@asset(metadata=layout_metadata(...))`."""
    return {META_TABLE: table, META_KIND: kind, META_SUFFIX: suffix}


@dataclass(frozen=True)
class TableLayout:
    """Where an asset's rows are stored and which optional key parts they have.

    Args:
        table: the bare table name (None when the asset did not declare one).
        kind: every key has a `kind` part (fund type, report level …).
        suffix: every key ends with a `suffix` part (the report time line).
    """

    table: str | None
    kind: bool = False
    suffix: bool = False

    @classmethod
    def from_metadata(cls, metadata: Mapping[str, Any], asset: str) -> TableLayout:
        """Read the layout from an asset's definition metadata; missing flags mean False."""
        table = _raw(metadata.get(META_TABLE))
        if table is not None and (not isinstance(table, str) or not table):
            raise ValueError(f"asset {asset}: metadata {META_TABLE!r} must be a table name, got {table!r}")
        flags = {}
        for name in (META_KIND, META_SUFFIX):
            value = _raw(metadata.get(name, False))
            if not isinstance(value, bool):
                raise ValueError(f"asset {asset}: metadata {name!r} must be True or False, got {value!r}")
            flags[name] = value
        return cls(table, flags[META_KIND], flags[META_SUFFIX])

    def check(self, account_id: str, kind: str | None, suffix: str | None, asset: str) -> None:
        """Refuse a row whose optional parts disagree with the layout (its key could not be split back)."""
        if (kind is not None) != self.kind or (suffix is not None) != self.suffix:
            raise ValueError(
                f"asset {asset}: row of account {account_id} has kind={kind!r}, "
                f"suffix={suffix!r} but the asset declares {META_KIND}={self.kind}, "
                f"{META_SUFFIX}={self.suffix} (every row of a table must have the same key parts)"
            )

    def parse(self, key: bytes | str) -> RowKey:
        return parse(key, kind=self.kind, suffix=self.suffix)


class RowEncoder:
    """Turns spooled rows into the seed's key and stored JSON for one (date, tenant).

    The value is the seed's `json.dumps({"tenant_alias", "data", "timestamp"}, ensure_ascii=False)`;
    it is assembled around the row's already encoded data (`RowSpool.read_encoded`), which gives
    the same bytes without decoding and re-encoding every record. `timestamp` is the unix second
    the materialization stored its rows.
    """

    def __init__(self, layout: TableLayout, data_date: date, tenant: str, timestamp: int, asset: str) -> None:
        self.layout = layout
        self.asset = asset
        self._keys = DayKeys(data_date, tenant)
        tenant_json = json.dumps(tenant, ensure_ascii=False)
        self._head = f'{{"tenant_alias": {tenant_json}, "data": '
        self._tail = f', "timestamp": {int(timestamp)}}}'
        self._file_tenant = f', "tenant_alias": {tenant_json}, "data": '

    def key(self, account_id: str, agent_id: str, kind: str | None, suffix: str | None) -> str:
        if (kind is not None) != self.layout.kind or (suffix is not None) != self.layout.suffix:
            self.layout.check(account_id, kind, suffix, self.asset)
        return self._keys(account_id, agent_id, kind, suffix)

    def value(self, data_json: str) -> str:
        """The `info:data` cell, from the row's data as `json.dumps(data, ensure_ascii=False)` wrote it."""
        return self._head + data_json + self._tail

    def file_line(self, key: str, data_json: str) -> str:
        """A FILE-mode line: `{"row_key", "tenant_alias", "data", "timestamp"}`."""
        return '{"row_key": ' + json.dumps(key) + self._file_tenant + data_json + self._tail


def stored_row(layout: TableLayout, key: bytes | str, data: Any) -> tuple[RowKey, Row]:
    """The RowKey of a stored key and the Row it held (its parts plus the stored `data`)."""
    parsed = layout.parse(key)
    return parsed, Row(parsed.account_id, parsed.agent_id, data, parsed.kind, parsed.suffix)


def _raw(value: Any) -> Any:
    """A definition-metadata value as plain Python (Dagster may hand over a MetadataValue)."""
    return getattr(value, "value", value)
