"""`ark-demo`: the main job on the local stack, end to end, the way a data engineer would run it.

`up` starts the media simulator, seeds a demo tenant for the last few days (eton rows and the
seed's Redis keys), materializes yesterday's partition of every media *through Dagster* (its
CLI, into the persistent instance the UI reads) with live progress, prints what landed where
(per media and asset: accounts, rows per HBase table against `ark-sim truth`, throttles,
failures, seconds), switches the schedules on, and leaves the web UI and daemon running.
`down` stops what `up` started. Both are idempotent: a second `up` reuses the running
simulator and UI and an already materialized partition (`ARK_DEMO_REFRESH=1` re-runs it).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from datetime import date, datetime, timedelta
from pathlib import Path

import click
from rich.table import Table

from ark_assets.core.days import GMT8
from ark_assets.partitions import partition_key
from ark_sim.process import SimulatorProcess, SimulatorStartError
from ark_stack import task_speed
from ark_stack.paths import StackPaths
from ark_stack.process import ManagedProcess, port_open, wait_until
from ark_stack.progress import Reporter

TENANT = os.environ.get("ARK_DEMO_TENANT", "T100117")
PROFILE = os.environ.get("ARK_DEMO_PROFILE", "small")
SIM_PORT = 8600
UI_PORT = int(os.environ.get("ARK_DEMO_UI_PORT", "3000"))
SEED_DAYS = 3
REFRESH = os.environ.get("ARK_DEMO_REFRESH", "") not in ("", "0")

# One line of `dagster asset materialize` output per event: "... - <run id> - <pid> - <step> - <EVENT> - ...";
# a step is a media (one step per media), a materialization names its asset: "Materialized value gdt/funds."
_EVENT = re.compile(
    r" - ([0-9a-f-]{36}) - \d+ - (\S+) - (ASSET_MATERIALIZATION|STEP_FAILURE) - "
    r"(?:Materialized value (\S+?)\.)?"
)
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
    # the demo's async report tasks at a local machine's speed (the vendor's 5 minutes per agency
    # would make the demo's partition take half an hour): ark_stack/task_speed.py
    env = {**task_speed.TASK_ENV, **os.environ, "DAGSTER_HOME": str(_dagster_home(paths))}
    yesterday = datetime.now(GMT8).date() - timedelta(days=1)

    if not port_open(SIM_PORT):
        reporter.step(f"starting the media simulator (profile {PROFILE}) on 127.0.0.1:{SIM_PORT}")
        # detached: it outlives `ark-demo up`; `ark-demo down` stops it by its pid file
        sim = SimulatorProcess(
            overrides={"profile": PROFILE, "media": task_speed.SIM_TASKS},
            port=SIM_PORT,
            log_path=procs["ark-sim"].log_file,
            detached=True,
            start_timeout_s=60,
        )
        try:
            sim.start()
        except SimulatorStartError as exc:
            raise click.ClickException(f"the simulator did not start: {exc}") from exc
        procs["ark-sim"].adopt(sim.pid, sim.argv)
    else:
        reporter.step(f"reusing the media simulator on 127.0.0.1:{SIM_PORT}")
    with reporter.waiting(f"seeding tenant {TENANT} (eton rows, Redis tokens and account lists)") as update:
        for back in range(SEED_DAYS):
            day = yesterday - timedelta(days=back)
            update(f"{day} ({back + 1}/{SEED_DAYS})")
            _run(
                [
                    _bin("ark-sim"),
                    "seed",
                    "--tenant",
                    TENANT,
                    "--date",
                    day.isoformat(),
                    "--profile",
                    PROFILE,
                ],
                env,
            )

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
    os.environ["DAGSTER_HOME"] = env["DAGSTER_HOME"]
    if not REFRESH and _materialized(key):
        reporter.step(
            f"partition {key} is already materialized in the instance: reusing it "
            "(ARK_DEMO_REFRESH=1 re-runs it)"
        )
    else:
        _materialize(key, env, paths, reporter)
    reporter.console.print(_summary(yesterday, key))

    # Schedules are off until someone switches them on; the demo's daemon should run them.
    _run([_bin("dagster"), "schedule", "start", "--start-all", "-w", "workspace.yaml"], env)
    reporter.step(
        "schedules on: daily_yesterday (08:00 GMT+8), reports_lookback (12:00 GMT+8), "
        "<media>_intraday (today so far, every incr_min minutes)"
    )

    if port_open(UI_PORT):
        if procs["dagster-dev"].process() is None:
            raise click.ClickException(
                f"127.0.0.1:{UI_PORT} is taken by another program: stop it, or pick another port "
                f"with ARK_DEMO_UI_PORT"
            )
        reporter.step("reusing the running web UI and daemon")
    else:
        reporter.step(f"starting the web UI and daemon (`dagster dev`) on 127.0.0.1:{UI_PORT}")
        procs["dagster-dev"].start(
            _default_sigint(
                [_bin("dagster"), "dev", "-w", "workspace.yaml", "-h", "127.0.0.1", "-p", str(UI_PORT)]
            ),
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


def _materialized(key: str) -> bool:
    """True when every daily asset has a materialization of partition `key` in the instance."""
    from dagster import DagsterInstance

    instance = DagsterInstance.get()
    return all(key in instance.get_materialized_partitions(asset) for asset in _daily_keys())


def _daily_keys() -> list:
    """Every daily asset (the intraday twins refresh only today, on their schedules)."""
    from ark_assets.assets.specs import INTRADAY_GROUP
    from ark_assets.definitions import defs

    graph = defs.resolve_asset_graph()
    return sorted(k for k in graph.get_all_asset_keys() if graph.get(k).group_name != INTRADAY_GROUP)


def _materialize(key: str, env: dict[str, str], paths: StackPaths, reporter: Reporter) -> None:
    """`dagster asset materialize` of every daily asset for `key`, with the assets done so far as progress."""
    keys = _daily_keys()
    total = len(keys)
    log_path = paths.logs / "demo-materialize.log"
    select = ",".join(k.to_user_string() for k in keys)
    argv = [_bin("dagster"), "asset", "materialize", "-m", "ark_assets.definitions", "--select", select]
    done: list[str] = []
    failed: list[str] = []
    with (
        reporter.waiting(f"materializing partition {key} of every media through Dagster") as update,
        open(log_path, "w") as log,
    ):
        update(f"starting Dagster; {total} assets: agents -> advertisers -> funds / reports")
        proc = subprocess.Popen(
            [*argv, "--partition", key],
            env=env,
            cwd=_ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        assert proc.stdout is not None
        for line in proc.stdout:
            log.write(line)
            match = _EVENT.search(line)
            if match is None:
                continue
            step, event, asset = match.group(2), match.group(3), match.group(4)
            if event == "ASSET_MATERIALIZATION":
                done.append(asset or step)
            else:
                failed.append(step)
            update(
                f"{len(done)}/{total} assets materialized, latest {done[-1] if done else '-'}"
                + (f", failed: {', '.join(failed)}" if failed else "")
            )
        returncode = proc.wait()
    if returncode != 0:
        raise click.ClickException(
            f"the run failed ({', '.join(failed) or 'see the log'}); see {log_path}, or the run in "
            f"the web UI (`make dev`)"
        )


def _default_sigint(argv: list[str]) -> list[str]:
    """`argv` exec'd with SIGINT back to its default.

    A shell starts background jobs with SIGINT ignored and children inherit that. `dagster dev`
    stops its web server, daemon and code server with SIGINT when it gets SIGTERM (`make
    demo-down`), so with SIGINT ignored they would outlive it. The exec keeps the pid.
    """
    code = (
        "import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_DFL); "
        "os.execv(sys.argv[1], sys.argv[1:])"
    )
    return [sys.executable, "-c", code, *argv]


def _run(argv: list[str], env: dict[str, str]) -> None:
    result = subprocess.run(argv, env=env, cwd=_ROOT, capture_output=True, text=True)
    if result.returncode != 0:
        raise click.ClickException(f"`{' '.join(argv[:3])}` failed: {result.stderr.strip()[-1500:]}")


def _summary(day: date, key: str) -> Table:
    """Per media and asset: accounts, rows per HBase table against the simulator's truth,
    throttles, failures and the asset's seconds (fetch + write); a total line per media with its
    step's wall time (a media's assets run in one step, side by side)."""
    from dagster import AssetRecordsFilter, DagsterInstance

    from ark_assets.media.registry import all_media
    from ark_assets.resources.media_api import configured_version
    from ark_sim.config import SimConfig
    from ark_sim.truth import truth
    from ark_sim.world import World

    versions = {m.name: configured_version(m) for m in all_media()}  # the versions this demo speaks
    world = World(SimConfig.load(overrides={"profile": PROFILE}))
    expected = truth(world, TENANT, day, versions)["tables"]
    instance = DagsterInstance.get()
    spoken = ", ".join(f"{name} {version}" for name, version in sorted(versions.items()))
    table = Table(title=f"Partition {key} (profile {PROFILE}; API {spoken}): what each asset stored")
    for column in ("media", "asset", "HBase table", "accounts", "rows (expected)", "throttles", "failed"):
        table.add_column(column)
    table.add_column("seconds", justify="right")
    keys = _daily_keys()
    for media in sorted({k.path[0] for k in keys}):
        totals = {"accounts": 0, "rows": 0, "expected": 0, "throttles": 0, "failed": 0}
        spans: list[tuple[float, float]] = []
        for asset in (k for k in keys if k.path[0] == media):
            records = instance.fetch_materializations(
                AssetRecordsFilter(asset_key=asset, asset_partitions=[key]), limit=1
            ).records
            entry = records[0].event_log_entry if records else None
            materialization = entry.asset_materialization if entry else None
            md = {
                k: getattr(v, "value", v)
                for k, v in (materialization.metadata if materialization else {}).items()
            }
            step = _step_span(instance, entry.run_id, media) if entry else None  # the media's step
            if step:
                spans.append(step)
            seconds = float(md.get("seconds", 0) or 0) + float(md.get("write_seconds", 0) or 0)
            accounts = md.get("accounts_listed", md.get("accounts", ""))
            if "accounts_listed" in md:
                totals["accounts"] += int(accounts)
            totals["rows"] += int(md.get("rows_written", 0) or 0)
            totals["throttles"] += int(md.get("throttles", 0) or 0)
            totals["failed"] += int(md.get("accounts_failed", 0) or 0)
            name = str(md.get("table", ""))
            totals["expected"] += int(expected.get(name, 0))
            table.add_row(
                media,
                asset.path[-1],
                name,
                str(accounts),
                f"{md.get('rows_written', '?')} ({expected.get(name, '?')})",
                str(md.get("throttles", "")),
                str(md.get("accounts_failed", "")),
                f"{seconds:.1f}" if md else "?",
            )
        wall = max(e for _, e in spans) - min(s for s, _ in spans) if spans else 0.0
        table.add_row(
            f"[bold]{media}[/]",
            "[bold]total[/]",
            "",
            f"[bold]{totals['accounts']}[/]",
            f"[bold]{totals['rows']} ({totals['expected']})[/]",
            f"[bold]{totals['throttles']}[/]",
            f"[bold]{totals['failed']}[/]",
            f"[bold]{wall:.1f}[/]",
            end_section=True,
        )
    table.caption = (
        "accounts: listed by the advertiser assets (total) or fetched; seconds: the asset's fetch and "
        "write (total: the wall time of the media's step, whose assets run side by side)"
    )
    return table


def _step_span(instance, run_id: str, step_key: str) -> tuple[float, float] | None:
    for stats in instance.get_run_step_stats(run_id, step_keys=[step_key]):
        if stats.start_time and stats.end_time:
            return stats.start_time, stats.end_time
    return None
