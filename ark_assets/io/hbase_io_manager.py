"""The HBase IO manager: persists an asset's `RowSpool` under the seed's row-key design.

Assets spool their rows to a local JSON-lines file and return `Output(RowSpool)`; this IO
manager streams that file out in one of the seed's three output modes (`ARK_OUTPUT`):

- HBASE: each row is put at `RowKey(account, date, agent, tenant, kind, suffix)` with the seed's
  value `{"tenant_alias", "data", "timestamp"}` in `info:data`, in batches of `batch_size`, into
  a table created on first use as the seed's are (families info/col, SNAPPY, pre-split 1| … 9|).
- FILE: the seed's files, `{file_dir}/{yyyymmdd}/{tenant}/{table}/{table}_{yyyymmdd}_{index}.json`
  (see `file_output`).
- NONE: the rows are read (and their keys checked) and counted; nothing is kept.

Idempotency. A materialization *replaces* its partition (date × tenant) of the table: keys it
writes again are overwritten in place, and keys of that date and tenant that it did not write
are deleted (reported as `stale_rows_deleted`). We chose deletion because the spool is the
partition's complete answer: an account that disappeared upstream (closed, moved to another
agent, no spend any more) must not keep yesterday's answer alive in a re-run, and a re-run must
leave the table exactly as a first run would. The existing keys are read *before* writing
(ten salted key scans of that date, keeping only keys whose tenant part is this partition's
tenant), so a first materialization costs ten empty scans, and deletes are sent only after
every put went out. Rows of other tenants on the same date, and keys that do not split under
the table's layout (written by something else), are never touched.

Slice re-runs. When `RowSpool.scope_accounts` is set, only keys of those accounts are candidates
for deletion; the rest of the partition is left as it is. An asset whose fetch failed for some
accounts can use the same mechanism (scope = the accounts it did fetch) so that a partial
re-run never deletes good rows it could not refresh.

Layout. The row key cannot be split without knowing whether the table's keys carry a kind and a
suffix, so every persisting asset declares `layout_metadata(table, kind=…, suffix=…)` as its
definition metadata; `handle_output` checks every row against it and `load_input` reads the
upstream's table and layout from it.

Memory. Values are streamed both ways; only keys are held (the partition's existing keys, at
most its row count: ~25k short byte strings for a seed-sized tenant).
"""

from __future__ import annotations

import gc
import json
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
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
from pydantic import field_validator

from ark_assets.clients.outages import ride_out
from ark_assets.io.file_output import IndexedWriter, line_key, partition_dir, read_lines
from ark_assets.io.layout import META_TABLE, RowEncoder, TableLayout, layout_metadata, stored_row
from ark_assets.io.rows import Row, RowSpool
from ark_assets.partitions import split_key
from ark_assets.resources.env import env_str
from ark_assets.resources.hbase import DATA_COLUMN, HBaseResource, hbase_resource_from_env

OUTPUT_MODES = ("HBASE", "FILE", "NONE")
DEFAULT_FILE_DIR = ".stack/output"

__all__ = ["OUTPUT_MODES", "HBaseIOManager", "hbase_io_manager_from_env", "layout_metadata"]


@dataclass
class _Written:
    """What one handle_output did, for the output metadata."""

    rows: int = 0
    rows_written: int = 0
    stale_rows_deleted: int = 0
    row_key_example: str | None = None
    foreign_keys: int = 0
    kept_outside_scope: int = 0  # the partition's rows a slice run left as they were
    files: int | None = None
    path: str | None = None

    @property
    def partition_rows(self) -> int:
        """Rows the partition holds after this write (what the catalog plots per partition)."""
        return self.rows_written + self.kept_outside_scope


class HBaseIOManager(ConfigurableIOManager):
    """Stores `RowSpool` outputs in HBase (or the seed's files, or nowhere) and loads them back as rows.

    Args:
        hbase: the HBase the rows go to (and come back from).
        output: HBASE, FILE or NONE (the seed's `output` parameter; case does not matter).
        file_dir: FILE mode's root directory.
        file_rows_per_index: FILE mode's lines per `…_{index}.json` file.
        batch_size: puts (and deletes) sent per HBase batch.
        write_retry_s: how long a write keeps retrying while the HBase Thrift server is
            unreachable (killed and restarted mid-run, see docs/RELIABILITY.md); each retry
            rewrites the partition from the spool, which is idempotent (same keys).
        start_retry_s: how long the check at start waits for an unreachable server (a restart
            takes seconds) before the run fails, before any media call.
    """

    hbase: HBaseResource
    output: str = "HBASE"
    file_dir: str = DEFAULT_FILE_DIR
    file_rows_per_index: int = 10_000
    batch_size: int = 1000
    write_retry_s: float = 120.0
    start_retry_s: float = 10.0

    def setup_for_execution(self, context: InitResourceContext) -> None:
        # Connect once at start (happybase's habit): an HBase that is down fails the run (or the
        # step) now, with its host:port and the fix, before any media quota is spent on rows it
        # could not keep. Dagster sets resources up before a step's compute runs.
        if self.output == "HBASE":
            self._retrying(context.log, self.hbase.check_reachable, self.start_retry_s, "connecting")

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
            if self.output == "HBASE":
                written = self._retrying(
                    context.log,
                    lambda: self._write_hbase(obj, encoder),
                    self.write_retry_s,
                    "writing the partition",
                )
            elif self.output == "FILE":
                written = self._write_files(obj, encoder)
            else:
                written = self._consume(obj, encoder)
            seconds = time.monotonic() - started
            if written.foreign_keys:
                context.log.warning(
                    f"{written.foreign_keys} keys of {obj.data_date} in {obj.table} do not split as "
                    f"{layout}; they were left alone"
                )
            metadata: dict[str, Any] = {
                "table": self.hbase.full_name(obj.table) if self.output == "HBASE" else obj.table,
                "output": self.output,
                "rows_spooled": written.rows,
                "rows_written": written.rows_written,
                "stale_rows_deleted": written.stale_rows_deleted,
                "row_key_example": written.row_key_example,
                "write_seconds": round(seconds, 3),
            }
            if self.output != "NONE":
                # the keys the catalog knows: the table beside the asset, a row count plotted per partition
                metadata["dagster/table_name"] = metadata["table"]
                metadata["dagster/partition_row_count"] = written.partition_rows
            if obj.scope_accounts is not None:
                metadata["scope_accounts"] = len(obj.scope_accounts)
            if written.path is not None:
                metadata |= {"path": written.path, "files": written.files}
            context.add_output_metadata(metadata)
        finally:
            obj.discard()

    def _retrying(self, log: Any, call: Any, window_s: float, what: str) -> Any:
        """`call()`, retried (1 s doubling to 8 s) while HBase is unreachable, for `window_s`."""

        def before_retry(exc: BaseException, wait_s: float) -> None:
            if log is not None:
                log.warning(f"{exc}; {what} again in {wait_s:.0f} s")
            self.hbase.close()  # the pooled connections died with the server

        return ride_out(call, window_s=window_s, first_wait_s=1.0, max_wait_s=8.0, before_retry=before_retry)

    def _write_hbase(self, spool: RowSpool, encoder: RowEncoder) -> _Written:
        self.hbase.ensure_table(spool.table)
        stale, written = self._existing_keys(spool, encoder.layout)
        with self.hbase.writer(spool.table, batch_size=self.batch_size) as writer, _gc_paused():
            for account_id, agent_id, kind, suffix, data in spool.read_encoded():
                key = encoder.key(account_id, agent_id, kind, suffix).encode()
                writer.put(key, {DATA_COLUMN: encoder.value(data).encode()})
                stale.discard(key)
                if written.row_key_example is None:
                    written.row_key_example = key.decode()
            # Only after every put went out (a failed write leaves the old rows in place).
            for key in sorted(stale):
                writer.delete(key)
        written.rows = written.rows_written = writer.puts
        written.stale_rows_deleted = writer.deletes
        return written

    def _existing_keys(self, spool: RowSpool, layout: TableLayout) -> tuple[set[bytes], _Written]:
        """This partition's keys already in the table (those of `scope_accounts` only, when set)."""
        written = _Written()
        keys: set[bytes] = set()
        tenant, scope = spool.tenant, spool.scope_accounts
        # Values come along (happybase has no keys-only scan); each is dropped at once.
        for key, _ in self.hbase.scan_date(spool.table, spool.data_date, columns=[DATA_COLUMN]):
            try:
                parsed = layout.parse(key)
            except ValueError:
                written.foreign_keys += 1
                continue
            if parsed.tenant != tenant:
                continue
            if scope is None or parsed.account_id in scope:
                keys.add(key)
            else:
                written.kept_outside_scope += 1
        return keys, written

    def _write_files(self, spool: RowSpool, encoder: RowEncoder) -> _Written:
        layout, scope = encoder.layout, spool.scope_accounts
        target = partition_dir(self.file_dir, spool.table, spool.data_date, spool.tenant)
        written = _Written(path=str(target))
        stale: set[str] = set()  # old keys this run replaces unless it writes them again
        kept: set[str] = set()  # old keys outside a slice run's scope: copied into the new files
        if target.exists():
            for line in read_lines(target):
                key = line_key(line)
                if scope is None:
                    stale.add(key)
                    continue
                try:
                    account = layout.parse(key).account_id
                except ValueError:
                    account = None
                (stale if account in scope else kept).add(key)
        written.kept_outside_scope = len(kept)
        with IndexedWriter(target, spool.table, spool.data_date, self.file_rows_per_index) as out:
            for account_id, agent_id, kind, suffix, data in spool.read_encoded():
                key = encoder.key(account_id, agent_id, kind, suffix)
                out.write(encoder.file_line(key, data))
                stale.discard(key)
                kept.discard(key)
                if written.row_key_example is None:
                    written.row_key_example = key
            written.rows = written.rows_written = out.lines
            if kept:
                for line in read_lines(target):  # the old directory is swapped out only on exit
                    key = line_key(line)
                    if key in kept:
                        out.write(line)
                        kept.discard(key)
        written.files = out.files
        written.stale_rows_deleted = len(stale)
        return written

    def _consume(self, spool: RowSpool, encoder: RowEncoder) -> _Written:
        written = _Written()
        for account_id, agent_id, kind, suffix, _ in spool.read_encoded():
            key = encoder.key(account_id, agent_id, kind, suffix)  # a dry run still catches bad rows
            if written.row_key_example is None:
                written.row_key_example = key
            written.rows += 1
        return written

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
        loaded = {str(key): self._load(layout, *split_key(key)) for key in keys}
        return loaded[str(keys[0])] if len(keys) == 1 else loaded

    def load_partition(self, metadata: Mapping[str, Any], asset: str, day: date, tenant: str) -> list[Row]:
        """The stored rows of one (day, tenant) partition of an asset declaring `metadata` (its
        `layout_metadata`): what `load_input` gives a downstream asset, for code that runs in the
        asset's own step (a media's account lists reading its agent lists)."""
        return self._load(self._readable(metadata, asset), day, tenant)

    def _readable(self, metadata: Mapping[str, Any], asset: str) -> TableLayout:
        layout = TableLayout.from_metadata(metadata, asset)
        if layout.table is None:
            raise ValueError(
                f"asset {asset} declares no {META_TABLE!r} definition metadata, so its rows cannot be found; "
                f"add @asset(metadata=layout_metadata(table, kind=..., suffix=...))"
            )
        if self.output == "NONE":
            raise LookupError(
                f"output mode NONE keeps no rows, so asset {asset}'s rows cannot be loaded; "
                f"materialize it with output HBASE or FILE (ARK_OUTPUT)"
            )
        return layout

    def _load(self, layout: TableLayout, day: date, tenant: str) -> list[Row]:
        rows: list[Row] = []
        if self.output == "FILE":
            directory = partition_dir(self.file_dir, layout.table, day, tenant)
            if not directory.is_dir():
                raise FileNotFoundError(
                    f"no files for table {layout.table!r}, {day}, tenant {tenant} at {directory} "
                    f"(the partition was never materialized with output FILE)"
                )
            for line in read_lines(directory):
                record = json.loads(line)
                parsed, row = stored_row(layout, record["row_key"], record["data"])
                if parsed.tenant == tenant:
                    rows.append(row)
            return rows
        # A missing table raises the resource's TableNotFound from the first scan.
        for key, value in self.hbase.scan_date(layout.table, day, columns=[DATA_COLUMN]):
            try:
                parsed = layout.parse(key)
            except ValueError:
                continue  # not this table's layout: not an asset's row
            if parsed.tenant == tenant and parsed.data_date == day:
                rows.append(stored_row(layout, key, json.loads(value[DATA_COLUMN])["data"])[1])
        return rows


def hbase_io_manager_from_env(*, hbase: HBaseResource | None = None) -> HBaseIOManager:
    """ARK_OUTPUT (HBASE / FILE / NONE), ARK_OUTPUT_DIR (FILE mode), and the ARK_HBASE_* of the HBase
    (or `hbase`)."""
    return HBaseIOManager(
        hbase=hbase or hbase_resource_from_env(),
        output=env_str("ARK_OUTPUT", "HBASE"),
        file_dir=env_str("ARK_OUTPUT_DIR", DEFAULT_FILE_DIR),
    )


def _asset_name(context: OutputContext | InputContext) -> str:
    try:
        if context.has_asset_key:
            return context.asset_key.to_user_string()
    except Exception:  # a bare context built outside a run
        pass
    return str(getattr(context, "name", None) or "<unknown>")


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while rows stream out.

    The write loop makes ~10 short-lived objects per row and no reference cycles (refcounting
    frees them all), but its allocations trigger collections, and in a process holding Dagster's
    hundreds of thousands of objects a full one costs ~0.1 s: in 8 + 8 warm 25k-row writes, 3
    without the pause took 0.25 s of CPU instead of 0.15 s (bench/io_bench.py's data). The
    previous state is restored on exit, also on error.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


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
