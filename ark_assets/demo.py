"""`ark-demo`: the main job on the local stack, end to end, the way a data engineer would run it.

`up` starts the media simulator, seeds a demo tenant for the last few days (eton rows and the
seed's Redis keys), materializes yesterday's partition of every media *through Dagster* (its
CLI, into the persistent instance the UI reads), prints what landed where, and leaves the web
UI and daemon running. `down` stops what `up` started. Both are idempotent.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import click
from rich.table import Table

from ark_assets.partitions import GMT8, partition_key
from ark_assets.stack.paths import StackPaths
from ark_assets.stack.process import ManagedProcess, port_open, wait_until
from ark_assets.stack.progress import Reporter

TENANT = os.environ.get("ARK_DEMO_TENANT", "T100117")
PROFILE = os.environ.get("ARK_DEMO_PROFILE", "small")
SIM_PORT = 8600
UI_PORT = int(os.environ.get("ARK_DEMO_UI_PORT", "3000"))
SEED_DAYS = 3
_ROOT = Path(__file__).resolve().parents[1]


def _bin(name: str) -> str:
    return str(Path(sys.executable).with_name(name))


def _processes(paths: StackPaths) -> dict[str, ManagedProcess]:
    return {
        name: ManagedProcess(name, paths.pids / f"{name}.pid", paths.logs / f"{name}.log")
        for name in ("ark-sim", "dagster-dev")
    }


def _dagster_home(paths: StackPaths) -> Path:
    home = paths.root / "dagster_home"
    home.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(_ROOT / "deploy" / "dagster.local.yaml", home / "dagster.yaml")
    return home


@click.group()
def main() -> None:
    """Run the demo: simulator, seeded tenant, yesterday's partition, web UI."""


@main.command()
def up() -> None:
    """Materialize yesterday for every media and leave the UI at http://127.0.0.1:3000."""
    reporter, paths = Reporter(), StackPaths.from_env()
    paths.make_dirs()
    procs = _processes(paths)
    env = {**os.environ, "DAGSTER_HOME": str(_dagster_home(paths))}
    yesterday = datetime.now(ZoneInfo(GMT8)).date() - timedelta(days=1)

    if not port_open(SIM_PORT):
        reporter.step(f"starting the media simulator (profile {PROFILE}) on 127.0.0.1:{SIM_PORT}")
        procs["ark-sim"].start(
            [_bin("ark-sim"), "serve", "--port", str(SIM_PORT), "--profile", PROFILE], env=env
        )
        if not wait_until(lambda: port_open(SIM_PORT), timeout=60):
            raise click.ClickException(f"the simulator did not start; see {procs['ark-sim'].log_file}")
    for back in range(SEED_DAYS):
        day = yesterday - timedelta(days=back)
        _run(
            [_bin("ark-sim"), "seed", "--tenant", TENANT, "--date", day.isoformat(), "--profile", PROFILE],
            env,
        )
    reporter.step(f"seeded tenant {TENANT} (eton rows, Redis tokens and account lists) for {SEED_DAYS} days")

    _run(
        [
            sys.executable,
            "-c",
            "from dagster import DagsterInstance; "
            f"DagsterInstance.get().add_dynamic_partitions('tenants', ['{TENANT}'])",
        ],
        env,
    )
    key = str(partition_key(yesterday, TENANT))
    started = time.monotonic()
    with reporter.waiting(f"materializing partition {key} of every media through Dagster") as update:
        update("24 assets: agents -> advertisers -> funds / reports")
        result = subprocess.run(
            [
                _bin("dagster"),
                "asset",
                "materialize",
                "-m",
                "ark_assets.definitions",
                "--select",
                "*",
                "--partition",
                key,
            ],
            env=env,
            cwd=_ROOT,
            capture_output=True,
            text=True,
        )
    (paths.logs / "demo-materialize.log").write_text(result.stdout + result.stderr)
    if result.returncode != 0:
        raise click.ClickException(f"the run failed; see {paths.logs / 'demo-materialize.log'}")
    os.environ["DAGSTER_HOME"] = env["DAGSTER_HOME"]
    reporter.console.print(_summary(yesterday, time.monotonic() - started))

    if not port_open(UI_PORT):
        procs["dagster-dev"].start(
            [_bin("dagster"), "dev", "-w", "workspace.yaml", "-h", "127.0.0.1", "-p", str(UI_PORT)],
            cwd=_ROOT,
            env=env,
        )
        if not wait_until(lambda: port_open(UI_PORT), timeout=90):
            raise click.ClickException(f"the web UI did not start; see {procs['dagster-dev'].log_file}")
    reporter.step(
        f"web UI and daemon (schedules, sensors): http://127.0.0.1:{UI_PORT}  — stop with `make demo-down`"
    )


@main.command()
def down() -> None:
    """Stop the web UI and the simulator that `up` started."""
    reporter = Reporter()
    stopped = [name for name, proc in _processes(StackPaths.from_env()).items() if proc.stop()]
    reporter.step(f"stopped: {', '.join(stopped)}" if stopped else "nothing of the demo was running")


def _run(argv: list[str], env: dict[str, str]) -> None:
    result = subprocess.run(argv, env=env, cwd=_ROOT, capture_output=True, text=True)
    if result.returncode != 0:
        raise click.ClickException(f"`{' '.join(argv[:3])}` failed: {result.stderr.strip()[-1500:]}")


def _summary(day: date, seconds: float) -> Table:
    """Per asset: accounts, rows per HBase table against the simulator's truth, throttles, failures."""
    from dagster import DagsterInstance

    import ark_assets.sim.truth_tables  # noqa: F401  (registers the platform's tables)
    from ark_assets.definitions import defs
    from ark_assets.sim.config import SimConfig
    from ark_assets.sim.truth import truth
    from ark_assets.sim.world import World

    expected = truth(World(SimConfig.load(overrides={"profile": PROFILE})), TENANT, day)["tables"]
    instance = DagsterInstance.get()
    table = Table(title=f"Partition {day}|{TENANT}: materialized in {seconds:.0f} s (incl. Dagster start-up)")
    for column in ("asset", "accounts", "HBase table", "rows (expected)", "throttles", "failed", "seconds"):
        table.add_column(column)
    for key in sorted(defs.resolve_asset_graph().get_all_asset_keys()):
        event = instance.get_latest_materialization_event(key)
        md = {
            k: getattr(v, "value", v)
            for k, v in (event.asset_materialization.metadata if event else {}).items()
        }
        name = md.get("table", "")
        table.add_row(
            key.to_user_string(),
            str(md.get("accounts_listed", md.get("accounts", ""))),
            name,
            f"{md.get('rows_written', '?')} ({expected.get(name, '?')})",
            str(md.get("throttles", "")),
            str(md.get("accounts_failed", "")),
            f"{md.get('seconds') or 0:.1f}",
        )
    return table
