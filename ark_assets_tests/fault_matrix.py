"""What every fault-matrix test checks afterwards, and the fixtures the fault tests share.

The invariants (issue 6, docs/RELIABILITY.md "Fault matrix"):
- every account has exactly one outcome: per fetch asset, accounts_requested = succeeded + failed,
  and the completeness check saw every expected source end in one outcome;
- nothing stored earlier is lost: every key stored before the fault run is still there;
- after at most one re-run (the fault cleared), HBase equals `ark-sim truth`: the row count per
  table is the truth's and every key parses under the table's row-key layout, for this tenant and
  day, naming an account the world has (so no key stands for a duplicate or a stray record).

Fault tests use a platform of their own (`fault_platform`): its simulator runs with app ids no
other test uses, so a spent daily quota or the rate governor's state (both kept in Redis per app)
never leaks into another test; those Redis keys are deleted afterwards.
"""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import happybase
import redis
from dagster import AssetKey

from ark_assets.clients.errors import TableNotFound
from ark_assets.core import rowkey
from ark_assets.media.registry import media as media_named
from ark_assets.media.registry import names as media_names
from ark_assets.resources.hbase import DATA_COLUMN, HBaseResource
from ark_assets.resources.media_api import MediaApiResource, MediaConnection
from ark_assets_tests.platform import ASSETS, TASK_KNOBS, Platform, api_versions, running_platform
from ark_sim.truth import truth
from ark_sim.world import World
from ark_stack.jvm import java17
from ark_stack.paths import StackPaths
from ark_stack.services.hbase import hbase_lib, thrift_argv

SECRETS = {"gdt": "gdt-secret", "jrtt": "jrtt-secret", "wx": "wx-secret"}


# ----- a platform of the fault tests' own


@contextmanager
def fault_platform(
    *, baseline: list[str] | None = None, max_in_flight: int = 16, **sim_overrides: Any
) -> Iterator[Platform]:
    """`running_platform()` whose simulator and resources use unique app ids; `baseline` (asset
    keys) is materialized once, fault-free, before the platform is handed over."""
    base = 1_900_000_000 + secrets.randbelow(10**8) * 10
    apps = {media: str(base + i) for i, media in enumerate(media_names())}
    media_overrides = {m: {"app": {"app_id": int(a), "secret": SECRETS[m]}} for m, a in apps.items()}
    with running_platform(
        first_run=False, max_in_flight=max_in_flight, media=media_overrides, **sim_overrides
    ) as p:
        p.resources["media_api"] = MediaApiResource(
            media={
                m: MediaConnection(base_url=p.sim.url(m), app_id=a, app_secret=SECRETS[m])
                for m, a in apps.items()
            },
            max_in_flight=max_in_flight,
            **TASK_KNOBS,
        )
        try:
            if baseline:
                first = p.run(baseline)
                assert first.success, step_errors(first)
            yield p
        finally:
            raw = redis.Redis(db=2)
            for app in apps.values():  # governor state, spent-quota markers of these apps
                for key in raw.scan_iter(match=f"ark:*:{app}:*"):
                    raw.delete(key)


def when(
    condition: Callable[[], bool], action: Callable[[], None], timeout_s: float = 60.0
) -> threading.Thread:
    """Run `action` (in a thread) as soon as `condition` holds: a fault that starts mid-run."""

    def watch() -> None:
        deadline = time.monotonic() + timeout_s
        while not condition() and time.monotonic() < deadline:
            time.sleep(0.005)
        action()

    thread = threading.Thread(target=watch, daemon=True)
    thread.start()
    return thread


def changed(resource: Any, **changes: Any) -> Any:
    """A copy of a Dagster resource with some fields changed.

    `model_copy(update=...)` is not enough: Dagster re-creates a resource from the configuration it
    was built with, so the change must go through the constructor.
    """
    fields = {name: getattr(resource, name) for name in type(resource).model_fields}
    return type(resource)(**(fields | changes))


# ----- invariants


@dataclass(frozen=True)
class AssetOutcome:
    """One fetch asset's accounting in a run (materialization metadata + completeness check)."""

    asset: str
    requested: int
    succeeded: int
    failed: int
    sources_expected: int
    sources_with_outcome: int
    complete: bool  # the completeness check passed (every source ok)
    failed_accounts: str


def table_of(asset: str) -> tuple[str, bool, bool]:
    """(bare HBase table, keys carry a kind, keys carry a suffix) of an asset."""
    key = AssetKey(asset.split("/"))
    definition = next(a for a in ASSETS if key in a.keys)
    metadata = definition.metadata_by_key[key]
    return metadata["hbase_table"], bool(metadata["row_kind"]), bool(metadata["row_suffix"])


def outcomes(result: Any) -> dict[str, AssetOutcome]:
    """Per fetch asset of the run: its accounting (assets without accounts are left out)."""
    checks = {
        e.asset_key.to_user_string(): e
        for e in result.get_asset_check_evaluations()
        if e.check_name == "completeness"
    }
    found: dict[str, AssetOutcome] = {}
    for event in result.get_asset_materialization_events():
        materialization = event.event_specific_data.materialization
        name = materialization.asset_key.to_user_string()
        meta = materialization.metadata
        if "accounts_requested" not in meta:
            continue
        check = checks[name]
        found[name] = AssetOutcome(
            name,
            meta["accounts_requested"].value,
            meta["accounts_succeeded"].value,
            meta["accounts_failed"].value,
            check.metadata["sources_expected"].value,
            check.metadata["sources_with_outcome"].value,
            check.passed,
            str(meta["failed_accounts"].value),
        )
    return found


def assert_one_outcome_each(result: Any, assets: list[str]) -> dict[str, AssetOutcome]:
    """Every selected fetch asset materialized, and each of its sources ended in exactly one outcome."""
    found = outcomes(result)
    assert set(found) == set(assets), (sorted(found), assets, step_errors(result))
    for o in found.values():
        assert o.requested == o.succeeded + o.failed == o.sources_expected == o.sources_with_outcome, o
    return found


def stored_keys(platform: Platform, asset: str) -> set[bytes]:
    """The keys of the platform's day in the asset's table (none when the table was never made)."""
    table, _, _ = table_of(asset)
    try:
        return {key for key, _ in platform.hbase.scan_date(table, platform.day, columns=[DATA_COLUMN])}
    except TableNotFound:
        return set()


def snapshot(platform: Platform, assets: list[str]) -> dict[str, set[bytes]]:
    return {asset: stored_keys(platform, asset) for asset in assets}


def assert_nothing_lost(platform: Platform, before: dict[str, set[bytes]]) -> None:
    for asset, keys in before.items():
        missing = keys - stored_keys(platform, asset)
        assert not missing, (
            f"{asset}: {len(missing)} rows stored earlier are gone, e.g. {sorted(missing)[:3]}"
        )


def assert_rows_equal_truth(platform: Platform, assets: list[str]) -> None:
    """Row count per table = the truth; every key parses, for this tenant, day and a real account."""
    assert_equals_truth(platform.sim.world, platform.hbase, platform.tenant, platform.day, assets)


def assert_equals_truth(
    world: World, hbase: HBaseResource, tenant: str, day: date, assets: list[str]
) -> dict[str, set[bytes]]:
    """Per asset: the tenant's rows of `day` are as many as `ark-sim truth` says, and every key parses
    under the table's layout, for this tenant and day, naming an account (in an agent list, an agent)
    the world has. Tables may hold other tenants' rows too. Returns the tenant's keys per asset."""
    expected = truth(world, tenant, day, api_versions())["tables"]
    found = {}
    for asset in assets:
        table, kind, suffix = table_of(asset)
        media_name, name = asset.split("/")
        media = media_named(media_name)
        if name in {a.name for a in media.assets.agent_lists}:
            known = {str(a.agent_id) for a in world.agents(media.name, tenant)}
        else:
            known = {str(a) for a, _ in world.accounts(media.name, tenant)}
        try:
            rows = hbase.scan_date(table, day, columns=[DATA_COLUMN])
            parsed = {key: rowkey.parse(key, kind=kind, suffix=suffix) for key, _ in rows}
        except TableNotFound:
            parsed = {}
        mine = {key: row for key, row in parsed.items() if row.tenant == tenant}
        assert len(mine) == expected[table], (asset, tenant, len(mine), expected[table])
        for key, row in mine.items():
            assert row.data_date == day and row.account_id in known, key
        found[asset] = set(mine)
    return found


def step_errors(result: Any) -> list[str]:
    """The text of every step and resource failure of a run (messages and error causes)."""
    texts = []
    for event in result.all_events:
        if event.event_type_value in ("STEP_FAILURE", "RUN_FAILURE", "RESOURCE_INIT_FAILURE"):
            error = getattr(event.event_specific_data, "error", None)
            texts.append(f"{event.message} {error.to_string() if error is not None else ''}")
    return texts


def rerun_completes(platform: Platform, assets: list[str], **run: Any) -> dict[str, AssetOutcome]:
    """The re-run the matrix allows: succeeds, every source ok, rows equal the truth."""
    again = platform.run(assets, **run)
    assert again.success, step_errors(again)
    found = assert_one_outcome_each(again, assets)
    assert all(o.complete and o.failed == 0 for o in found.values()), found
    assert_rows_equal_truth(platform, assets)
    return found


# ----- a private HBase Thrift1 server (the shared one must never be killed)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def closed_port() -> int:
    """A loopback port nothing listens on (connections are refused at once)."""
    return free_port()


class PrivateThrift:
    """A Thrift1 server JVM of the test's own, on a free loopback port, against the stack's HBase.

    Started exactly as the stack starts its own (`thrift_argv`), so it can be killed with
    SIGKILL and started again without disturbing anybody else's tests.
    """

    def __init__(self) -> None:
        self.port = free_port()
        self._paths = StackPaths.from_env()
        self._log = Path(tempfile.mkdtemp(prefix="ark-thrift-")) / "thrift.log"
        self._proc: subprocess.Popen | None = None

    def start(self, timeout_s: float = 90.0) -> float:
        """Start the JVM and wait until it answers a Thrift call; returns the seconds it took."""
        started = time.monotonic()
        argv = thrift_argv(java17(), self._paths.conf("hbase"), hbase_lib(self._paths), self.port)
        with open(self._log, "ab") as log:
            self._proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        while time.monotonic() - started < timeout_s:
            if self._proc.poll() is not None:
                raise RuntimeError(f"the private Thrift server exited; see {self._log}")
            try:
                conn = happybase.Connection("127.0.0.1", self.port, timeout=5000)
                try:
                    conn.tables()
                    return time.monotonic() - started
                finally:
                    conn.close()
            except Exception:
                time.sleep(0.3)
        raise RuntimeError(f"the private Thrift server did not answer within {timeout_s} s; see {self._log}")

    def kill(self) -> None:
        """SIGKILL, as an OOM killer or a crashed host would."""
        if self._proc is not None and self._proc.poll() is None:
            os.kill(self._proc.pid, signal.SIGKILL)
            self._proc.wait(timeout=30)

    def __enter__(self) -> PrivateThrift:
        return self

    def __exit__(self, *exc: object) -> None:
        self.kill()
