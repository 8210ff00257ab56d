"""The IO manager: persists an asset's `RowSpool` in the configured output mode, loads rows back.

Assets spool their rows to a local JSON-lines file and return `Output(RowSpool)`; this IO
manager streams that file out through the `Sink` of the seed's output mode (`ARK_OUTPUT`,
`sinks.py`): HBASE (`hbase_sink.py`, the default), FILE (`file_sink.py`: the seed's files in
`ARK_OUTPUT_DIR`, or on HDFS with `ARK_HDFS_URL`) or NONE (a dry run). Downstream assets get
the partition's rows back through the same sink, and the asset checks read it too.

Idempotency, and history kept. A materialization writes its partition (date × tenant) of the
table: rows it writes again are overwritten (same keys). A stored row of that date and tenant
that it did not write is deleted (`stale_rows_deleted`) only when the media answered, completely,
for that row's account (or listing agent) without it: the spool's `covered` (`coverage.py`),
which each asset fills from its fetch. Rows of accounts that failed, that left the day's lists,
or that a slice re-run did not select are kept (`rows_kept`): a re-run never deletes what it
could not refresh, and a date the media no longer serve is refused before any call
(`assets/retention.py`). Rows of other tenants on the same date, and keys that do not split
under the table's layout (written by something else), are never touched.

Layout. The row key cannot be split without knowing whether the table's keys carry a kind and a
suffix, so every persisting asset declares `layout_metadata(table, kind=…, suffix=…)` as its
definition metadata; `handle_output` checks every row against it and `load_input` reads the
upstream's table and layout from it.

Memory. Values are streamed both ways; only keys are held (the partition's existing keys, at
most its row count: ~25k short byte strings for a seed-sized tenant).
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from datetime import date
from typing import Any

from dagster import (
    ConfigurableIOManager,
    EnvVar,
    InitResourceContext,
    InputContext,
    MultiPartitionsDefinition,
    OutputContext,
)
from pydantic import PrivateAttr, field_validator

from ark_assets.clients.outages import ride_out
from ark_assets.clients.webhdfs import WebHdfsFiles
from ark_assets.io.file_sink import FileSink
from ark_assets.io.files import LocalFiles
from ark_assets.io.hbase_sink import HBaseSink
from ark_assets.io.layout import META_TABLE, RowEncoder, TableLayout, layout_metadata
from ark_assets.io.rows import Row, RowSpool
from ark_assets.io.sinks import OUTPUT_MODES, NoSink, Sink, Written
from ark_assets.partitions import split_key
from ark_assets.resources.env import env_str
from ark_assets.resources.hbase import HBaseResource, hbase_resource_from_env

DEFAULT_FILE_DIR = ".stack/output"
DEFAULT_HDFS_FILE_DIR = "/ark/output"

__all__ = ["OUTPUT_MODES", "HBaseIOManager", "hbase_io_manager_from_env", "layout_metadata"]


class HBaseIOManager(ConfigurableIOManager):
    """Stores `RowSpool` outputs through the output mode's sink (HBase by default) and loads them back.

    Args:
        hbase: the HBase the rows go to (and come back from) in mode HBASE.
        output: HBASE, FILE or NONE (the seed's `output` parameter; case does not matter).
        file_dir: FILE mode's root directory (on HDFS when `hdfs_url` is set).
        file_rows_per_index: FILE mode's lines per `…_{index}.json` file.
        hdfs_url: FILE mode on HDFS: the NameNode's WebHDFS address, `http://host:port`
            (empty: files on local disk).
        hdfs_user: the HDFS user files are written as (WebHDFS `user.name`; clusters without
            Kerberos).
        batch_size: puts (and deletes) sent per HBase batch.
        write_retry_s: how long a write keeps retrying while its service is unreachable (HBase's
            Thrift server or HDFS killed and restarted mid-run, see docs/RELIABILITY.md); each
            retry rewrites the partition from the spool, which is idempotent (same keys).
        start_retry_s: how long the check at start waits for an unreachable service (a restart
            takes seconds) before the run fails, before any media call.
    """

    hbase: HBaseResource
    output: str = "HBASE"
    file_dir: str = DEFAULT_FILE_DIR
    file_rows_per_index: int = 10_000
    hdfs_url: str = ""
    hdfs_user: str = "ark"
    batch_size: int = 1000
    write_retry_s: float = 120.0
    start_retry_s: float = 10.0

    _sink: Sink | None = PrivateAttr(default=None)
    _written: dict[str, Written] = PrivateAttr(default_factory=dict)

    def written(self, asset: str) -> Written | None:
        """What this IO manager's last write of `asset` (`media/name`) did, in this process: what
        the checks evaluated right after it read (the volume check's rows and accounts)."""
        return self._written.get(asset)

    @property
    def sink(self) -> Sink:
        """Where the output mode's rows are: what writes, loads and the asset checks go through."""
        if self._sink is None:
            self._sink = self._build_sink()
        return self._sink

    def _build_sink(self) -> Sink:
        if self.output == "HBASE":
            return HBaseSink(self.hbase, self.batch_size)
        if self.output == "NONE":
            return NoSink()
        if not self.hdfs_url:
            return FileSink(LocalFiles(), self.file_dir, self.file_rows_per_index)
        if not self.file_dir.startswith("/"):
            raise ValueError(
                f"ARK_OUTPUT_DIR={self.file_dir!r}: on HDFS (ARK_HDFS_URL) the output directory must be "
                f"an absolute path, e.g. {DEFAULT_HDFS_FILE_DIR}"
            )
        return FileSink(WebHdfsFiles(self.hdfs_url, self.hdfs_user), self.file_dir, self.file_rows_per_index)

    def setup_for_execution(self, context: InitResourceContext) -> None:
        # Connect once at start (happybase's habit): a store that is down fails the run (or the
        # step) now, with its host:port and the fix, before any media quota is spent on rows it
        # could not keep. Dagster sets resources up before a step's compute runs.
        self._retrying(context.log, self.sink.check_reachable, self.start_retry_s, "connecting")

    # Validated when built and again when Dagster resolves an EnvVar at run time.
    @field_validator("output", mode="before")
    @classmethod
    def _known_mode(cls, value: Any) -> Any:
        if isinstance(value, EnvVar) or not isinstance(value, str):
            return value
        mode = value.strip().upper()
        if mode not in OUTPUT_MODES:
            raise ValueError(f"output mode {value!r} is not one of {', '.join(OUTPUT_MODES)} (ARK_OUTPUT)")
        return mode

    @field_validator("file_rows_per_index", "batch_size", mode="before")
    @classmethod
    def _positive(cls, value: Any) -> Any:
        # exactly an int: EnvVar.int(...) is an int subclass that Dagster resolves later
        if type(value) is int and value < 1:
            raise ValueError(f"must be at least 1, got {value}")
        return value

    # ----- outputs

    def handle_output(self, context: OutputContext, obj: Any) -> None:
        asset = _asset_name(context)
        if not isinstance(obj, RowSpool):
            raise TypeError(
                f"asset {asset} returned {type(obj).__name__}, but the HBase IO manager stores only "
                f"RowSpool outputs (return Output(RowSpool); an asset that stores nothing returns "
                f"MaterializeResult)"
            )
        try:
            layout = TableLayout.from_metadata(context.definition_metadata or {}, asset)
            if layout.table is not None and layout.table != obj.table:
                raise ValueError(
                    f"asset {asset} declares {META_TABLE}={layout.table!r} but its RowSpool is for table "
                    f"{obj.table!r}"
                )
            _check_partition(context, obj, asset)
            encoder = RowEncoder(layout, obj.data_date, obj.tenant, int(time.time()), asset)
            started = time.monotonic()
            written = self._retrying(
                context.log,
                lambda: self.sink.write(obj, encoder),
                self.write_retry_s,
                "writing the partition",
            )
            if written.foreign_keys:
                context.log.warning(
                    f"{written.foreign_keys} keys of {obj.data_date} in {obj.table} do not split as "
                    f"{layout}; they were left alone"
                )
            context.add_output_metadata(self._metadata(obj, written, time.monotonic() - started))
            self._written[asset] = written
        finally:
            obj.discard()

    def _metadata(self, spool: RowSpool, written: Written, seconds: float) -> dict[str, Any]:
        sink = self.sink
        metadata: dict[str, Any] = {
            "table": sink.location(spool.table),
            "output": sink.mode,
            "rows_spooled": written.rows,
            "rows_written": written.rows_written,
            "stale_rows_deleted": written.stale_rows_deleted,
            "active_accounts": written.accounts,
            "row_key_example": written.row_key_example,
            "write_seconds": round(seconds, 3),
        }
        if sink.stores:
            # the keys the catalog knows: the table beside the asset, a row count plotted per partition
            metadata["dagster/table_name"] = metadata["table"]
            metadata["dagster/partition_row_count"] = written.partition_rows
        metadata["rows_kept"] = written.rows_kept
        metadata |= spool.covered.metadata()
        if written.path is not None:
            metadata |= {"path": written.path, "files": written.files}
        return metadata

    def _retrying(self, log: Any, call: Any, window_s: float, what: str) -> Any:
        """`call()`, retried (1 s doubling to 8 s) while the sink's service is unreachable, for `window_s`."""

        def before_retry(exc: BaseException, wait_s: float) -> None:
            if log is not None:
                log.warning(f"{exc}; {what} again in {wait_s:.0f} s")
            self.sink.reset()

        return ride_out(call, window_s=window_s, first_wait_s=1.0, max_wait_s=8.0, before_retry=before_retry)

    # ----- inputs

    def load_input(self, context: InputContext) -> list[Row] | dict[str, list[Row]]:
        """The upstream partition's rows; for several upstream partitions, a dict key → rows."""
        upstream = context.upstream_output
        asset = _asset_name(upstream) if upstream is not None else _asset_name(context)
        metadata = (upstream.definition_metadata if upstream is not None else None) or {}
        layout = self._readable(metadata, asset)
        if not context.has_asset_partitions:
            raise ValueError(
                f"asset {asset}'s rows are stored per (date, tenant) partition, "
                f"but this input has no partition"
            )
        keys = list(context.asset_partition_keys)
        loaded = {str(key): self.sink.read(layout, *split_key(key)) for key in keys}
        return loaded[str(keys[0])] if len(keys) == 1 else loaded

    def load_partition(self, metadata: Mapping[str, Any], asset: str, day: date, tenant: str) -> list[Row]:
        """The stored rows of one (day, tenant) partition of an asset declaring `metadata` (its
        `layout_metadata`): what `load_input` gives a downstream asset, for code that runs in the
        asset's own step (a media's account lists reading its agent lists)."""
        return self.sink.read(self._readable(metadata, asset), day, tenant)

    def _readable(self, metadata: Mapping[str, Any], asset: str) -> TableLayout:
        layout = TableLayout.from_metadata(metadata, asset)
        if layout.table is None:
            raise ValueError(
                f"asset {asset} declares no {META_TABLE!r} definition metadata, so its rows cannot be found; "
                f"add @asset(metadata=layout_metadata(table, kind=..., suffix=...))"
            )
        if not self.sink.stores:
            raise LookupError(
                f"output mode {self.sink.mode} keeps no rows, so asset {asset}'s rows cannot be loaded; "
                f"materialize it with output HBASE or FILE (ARK_OUTPUT)"
            )
        return layout


def hbase_io_manager_from_env(*, hbase: HBaseResource | None = None) -> HBaseIOManager:
    """ARK_OUTPUT (HBASE / FILE / NONE), ARK_OUTPUT_DIR (FILE mode), ARK_HDFS_URL and ARK_HDFS_USER
    (FILE mode on HDFS), and the ARK_HBASE_* of the HBase (or `hbase`)."""
    on_hdfs = bool(os.environ.get("ARK_HDFS_URL"))
    return HBaseIOManager(
        hbase=hbase or hbase_resource_from_env(),
        output=env_str("ARK_OUTPUT", "HBASE"),
        file_dir=env_str("ARK_OUTPUT_DIR", DEFAULT_HDFS_FILE_DIR if on_hdfs else DEFAULT_FILE_DIR),
        hdfs_url=env_str("ARK_HDFS_URL", ""),
        hdfs_user=env_str("ARK_HDFS_USER", "ark"),
    )


def _asset_name(context: OutputContext | InputContext) -> str:
    try:
        if context.has_asset_key:
            return context.asset_key.to_user_string()
    except Exception:  # a bare context built outside a run
        pass
    return str(getattr(context, "name", None) or "<unknown>")


def _check_partition(context: OutputContext, spool: RowSpool, asset: str) -> None:
    """A date × tenant partitioned asset must spool rows of its own partition."""
    if not context.has_asset_partitions:
        return
    pdef = context.asset_partitions_def
    if not isinstance(pdef, MultiPartitionsDefinition):
        return
    if {dim.name for dim in pdef.partitions_defs} != {"date", "tenant"}:
        return
    partitions = {split_key(key) for key in context.asset_partition_keys}
    if (spool.data_date, spool.tenant) not in partitions:
        raise ValueError(
            f"asset {asset} spooled rows for {spool.data_date} / {spool.tenant}, outside its run's "
            f"partition(s) {sorted(f'{d}|{t}' for d, t in partitions)}"
        )
