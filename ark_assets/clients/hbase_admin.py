"""HBase table DDL over Thrift2: create a table pre-split at given keys, with compression.

happybase speaks Thrift1, whose `createTable` takes no split keys, yet the seed's tables are
pre-split at `1|` … `9|` so writes salted by the account id's last digit spread over ten
regions from the first write. HBase's Thrift2 server (`hbase thrift2`) accepts split keys, so
this small client loads the Thrift2 IDL subset we need with thriftpy2 (happybase's own Thrift
runtime) and is used only for DDL; all reads and writes stay on happybase.
"""

from __future__ import annotations

from pathlib import Path
from types import TracebackType

import thriftpy2
from thriftpy2.protocol import TBinaryProtocolFactory
from thriftpy2.rpc import make_client
from thriftpy2.transport import TBufferedTransportFactory

_IDL = thriftpy2.load(str(Path(__file__).with_name("hbase_admin.thrift")), module_name="hbase_admin_thrift")
COMPRESSIONS = frozenset(_IDL.TCompressionAlgorithm._NAMES_TO_VALUES)
HBaseAdminError = _IDL.TIOError


class HBaseAdminClient:
    """A short-lived Thrift2 connection for DDL; use it as a context manager."""

    def __init__(self, host: str, port: int, *, timeout_ms: int = 60_000) -> None:
        self._client = make_client(
            _IDL.THBaseService,
            host,
            port,
            proto_factory=TBinaryProtocolFactory(),
            trans_factory=TBufferedTransportFactory(),
            timeout=timeout_ms,
        )

    def __enter__(self) -> HBaseAdminClient:
        return self

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        self._client.close()

    def table_exists(self, name: str) -> bool:
        return self._client.tableExists(_table_name(name))

    def create_table(
        self, name: str, families: dict[str, int], *, compression: str, split_keys: list[bytes]
    ) -> None:
        """Create `name` with `families` ({family: max_versions}), compression and split keys."""
        if compression not in COMPRESSIONS:
            raise ValueError(
                f"unknown HBase compression {compression!r}: expected one of {sorted(COMPRESSIONS)}"
            )
        algorithm = _IDL.TCompressionAlgorithm._NAMES_TO_VALUES[compression]
        columns = [
            _IDL.TColumnFamilyDescriptor(
                name=family.encode(), compressionType=algorithm, maxVersions=versions
            )
            for family, versions in families.items()
        ]
        self._client.createTable(
            _IDL.TTableDescriptor(tableName=_table_name(name), columns=columns), split_keys
        )


def _table_name(name: str):
    return _IDL.TTableName(ns=b"default", qualifier=name.encode())
