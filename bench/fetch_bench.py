"""The fetch benchmark (`make bench-fetch`): the seed's two fetchers and our engine, one simulator.

For each scenario in `bench/scenarios/*.toml` (simulator overrides plus a `[bench]` table):

1. start `ark-sim serve` as its own process (`SimulatorProcess`) on a free loopback port with the
   scenario's config;
2. `ark-sim seed` the scenario's tenant (Redis db 2, eton rows);
3. for each client, in its own process: POST /admin/reset (counters, quota buckets, nonces and
   the fault stream start over), delete the engine's governor keys before the `ark` run (a cold
   start), run the client, then read its peak RSS (`wait4`'s ru_maxrss of that process), the
   throttles the simulator served it (/admin/counters) and the records it lost (the world's funds
   records for exactly its sources, account by account, minus what it got);
4. stop the simulator, delete the tenant's Redis keys and eton rows.

Then write `bench/results/fetch.json` and `bench/RESULTS.md`. Benchmarks, not tests: a missed
goal is reported, never an exit code.
"""

from __future__ import annotations

import json
import os
import platform
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import tomllib
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import click
import redis

from ark_assets.media.registry import media as media_named
from ark_assets.media.registry import names as media_names
from ark_sim.config import QuotaLimits, SimConfig
from ark_sim.process import SimulatorProcess
from ark_sim.world import World
from bench.results_md import cpu_model, write_section

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
CLIENTS = {
    "seed-threads": "bench.clients.seed_threads",
    "seed-async": "bench.clients.seed_async",
    "ark": "bench.clients.ark_engine",
}
ENDPOINTS = {"gdt": "funds/get", "jrtt": "advertiser/fund/get"}
# A client that takes this long is stuck, not slow (the slowest run takes ~2 minutes).
CLIENT_DEADLINE_S = 600
# After /admin/reset the buckets are full again (QuotaBook.reset drops every bucket; a new one
# starts full); the pause only lets the previous client's sockets close and the machine settle.
SETTLE_S = 2.0
# The fetch section of bench/RESULTS.md lives between these markers (bench/io_bench.py owns another).
START_MARK = "<!-- fetch-bench:start -->"
END_MARK = "<!-- fetch-bench:end -->"
# Goals for the engine (MISSION.md, notes §5, issue 11): vs the quota ceiling (a scenario may set its
# own share: `goal_ceiling` in its [bench] table; with faults, of the fault-adjusted ceiling), the
# thread pool and asyncio.
GOAL_CEILING = 0.90
GOAL_VS_THREADS = 1.5
GOAL_VS_ASYNC = 1.1
# Issue 19, "no quota spent twice": hedged copies may cost at most 0.5% more quota than the useful calls.
GOAL_QUOTA_PER_USEFUL_CALL = 1.005


@dataclass
class Scenario:
    """One scenario file: the simulator config it makes and what the bench does with it."""

    name: str
    path: Path
    media: str
    tenant: str
    day: date
    timeout_s: float
    about: str
    overrides: dict[str, Any]
    config: SimConfig
    ark_settings: dict[str, Any] = field(default_factory=dict)
    goal_ceiling: float = GOAL_CEILING

    @classmethod
    def load(cls, path: Path) -> Scenario:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        bench = data.pop("bench", None)
        if not isinstance(bench, dict):
            raise click.ClickException(f"{path}: no [bench] table (media, tenant, date, timeout_s)")
        try:
            config = SimConfig.load(overrides=data)
        except ValueError as exc:
            raise click.ClickException(f"{path}: invalid simulator overrides: {exc}") from exc
        media = media_named(bench["media"]).name
        if media not in ENDPOINTS:
            raise click.ClickException(f"{path}: the bench fetches gdt or jrtt funds, not {media}")
        return cls(
            name=path.stem,
            path=path,
            media=media,
            tenant=bench["tenant"],
            day=date.fromisoformat(bench["date"]),
            timeout_s=float(bench.get("timeout_s", 10.0)),
            about=bench.get("about", ""),
            overrides=data,
            config=config,
            ark_settings=dict(bench.get("ark_settings", {})),
            goal_ceiling=float(bench.get("goal_ceiling", GOAL_CEILING)),
        )

    @property
    def endpoint(self) -> str:
        return ENDPOINTS[self.media]

    @property
    def limits(self) -> QuotaLimits:
        return self.config.quota_limits(self.media, self.endpoint)

    @property
    def ceiling_per_s(self) -> float | None:
        """The sustained rate the quota allows: the tighter of per_second and per_minute / 60.

        The day quota is a count, not a rate; the bench checks it cannot bind (see `run`). A run
        may beat the ceiling by a little: each bucket starts full, so its capacity comes on top.
        """
        rates = [float(self.limits.per_second)] if self.limits.per_second else []
        if self.limits.per_minute:
            rates.append(self.limits.per_minute / 60)
        return min(rates) if rates else None

    @property
    def http_5xx(self) -> float:
        return float(self.config.media[media_named(self.media).name].faults.http_5xx)

    @property
    def fault_adjusted_ceiling_per_s(self) -> float | None:
        """The calls ok/s a perfect client reaches under the scenario's faults: it paces at the
        ceiling and cannot know which call the gateway will answer with a 5xx, so that share of
        its calls is spent on 5xx answers (and retried). Held calls (timeouts) cost it nothing:
        a perfect client abandons them at once. None without 5xx faults."""
        ceiling = self.ceiling_per_s
        return ceiling * (1 - self.http_5xx) if ceiling and self.http_5xx else None

    def write_sim_config(self, directory: Path) -> Path:
        """The overrides as a TOML file for `ark-sim --config` (the [bench] table removed)."""
        path = directory / f"{self.name}.sim.toml"
        path.write_text(_toml(self.overrides), encoding="utf-8")
        return path


@dataclass
class ClientRun:
    """What one client process produced: its own result file, plus what the harness measured."""

    result: dict[str, Any]
    peak_rss_mb: float
    served: dict[str, int]
    throttled: int


def run_client(name: str, scenario: Scenario, sim: SimulatorProcess, workdir: Path) -> ClientRun:
    out = workdir / f"{scenario.name}.{name}.json"
    log = workdir / f"{scenario.name}.{name}.log"
    app = scenario.config.media[media_named(scenario.media).name].app
    cmd = [
        sys.executable,
        "-m",
        CLIENTS[name],
        "--media",
        scenario.media,
        "--base-url",
        sim.url(scenario.media),
        "--tenant",
        scenario.tenant,
        "--date",
        scenario.day.strftime("%Y%m%d"),
        "--timeout",
        str(scenario.timeout_s),
        "--out",
        str(out),
    ]
    if name == "ark":
        settings = {"timeout_s": scenario.timeout_s, **scenario.ark_settings}
        cmd += ["--app-id", str(app.app_id), "--secret", app.secret, "--settings", json.dumps(settings)]
    sim.reset()
    if name == "ark":
        _cold_start(scenario.media, app.app_id)
    time.sleep(SETTLE_S)
    report = workdir / f"{scenario.name}.{name}.rusage.json"
    with log.open("wb") as err:
        # stdout is the seed scripts' per-call prints; the result comes back in `out`. The client
        # is started by bench.spawn, which reports its ru_maxrss (see there for why not from here).
        spawn = [sys.executable, "-m", "bench.spawn", str(report), "--", *cmd]
        proc = subprocess.Popen(
            spawn, stdout=subprocess.DEVNULL, stderr=err, cwd=ROOT, start_new_session=True
        )
        _wait(proc)
    measured = (
        json.loads(report.read_text(encoding="utf-8")) if report.exists() else {"status": proc.returncode}
    )
    status = measured["status"]
    if status != 0 or not out.exists():
        tail = log.read_text(encoding="utf-8", errors="replace")[-3000:]
        raise click.ClickException(f"client {name} failed in {scenario.name} (exit {status}):\n{tail}")
    if name == "ark":
        _cold_start(scenario.media, app.app_id)  # and leave no bench state behind
    counters = sim.counters()
    key = f"{scenario.media} {scenario.endpoint}"
    return ClientRun(
        result=json.loads(out.read_text(encoding="utf-8")),
        peak_rss_mb=measured["maxrss_kb"] / 1024,  # KiB on Linux
        served=counters["requests"].get(key, {}),
        throttled=counters["throttles"].get(key, 0),
    )


def _wait(proc: subprocess.Popen) -> None:
    """Wait for bench.spawn (and so the client); past the deadline kill its process group."""
    try:
        proc.wait(timeout=CLIENT_DEADLINE_S)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)  # the group bench.spawn leads: it and its client only
        proc.wait()
        raise click.ClickException(f"a client ran past {CLIENT_DEADLINE_S} s; killed it") from None


def _cold_start(media: str, app_id: int) -> None:
    """Delete the governor state of the bench app (`ark:governor:{media}:{app}:*`): no learnt rate
    carries over from an earlier run. Also its daily-exhaustion marker: the simulator's reset
    zeroed the day counter it stood for. Only the bench app's keys: other runs' apps are left alone.
    """
    client = _redis()
    for pattern in (f"ark:governor:{media}:{app_id}:*", f"ark:quota_exhausted:{media}:{app_id}:*"):
        keys = list(client.scan_iter(match=pattern, count=1000))
        if keys:
            client.delete(*keys)


def _redis() -> redis.Redis:
    return redis.Redis(
        host=os.environ.get("ARK_REDIS_HOST", "127.0.0.1"),
        port=int(os.environ.get("ARK_REDIS_PORT", "6379")),
        db=int(os.environ.get("ARK_REDIS_DB", "2")),
        password=os.environ.get("ARK_REDIS_PASSWORD") or None,
    )


def seed_tenant(ark_sim: str, scenario: Scenario, config_path: Path) -> dict:
    """`ark-sim seed` the scenario's tenant; returns its report (the Redis keys it wrote)."""
    cmd = [ark_sim, "seed", "--tenant", scenario.tenant, "--date", scenario.day.isoformat()]
    done = subprocess.run(
        [*cmd, "--config", str(config_path)], capture_output=True, text=True, cwd=ROOT, check=False
    )
    if done.returncode != 0:
        raise click.ClickException(f"ark-sim seed failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def remove_tenant(scenario: Scenario, seeded: dict) -> None:
    """Delete what `ark-sim seed` wrote for the bench tenant: its Redis keys and eton rows."""
    keys = set(seeded.get("redis_keys", {}))
    keys |= {f"{m}_refresh_token_{scenario.tenant}" for m in media_names()}
    client = _redis()
    keys |= {k.decode() for k in client.scan_iter(match=f"ark:lock:token:*:{scenario.tenant}:*")}
    client.delete(*keys)
    import pymysql  # only here: the clients never need it

    conn = pymysql.connect(
        host=os.environ.get("ARK_MYSQL_HOST", "127.0.0.1"),
        port=int(os.environ.get("ARK_MYSQL_PORT", "3306")),
        user=os.environ.get("ARK_MYSQL_USER", "ark"),
        password=os.environ.get("ARK_MYSQL_PASSWORD", "ark"),
        database=os.environ.get("ARK_MYSQL_ETON_DB", "eton"),
    )
    try:
        with conn.cursor() as cur:
            cur.execute("DELETE FROM `agents` WHERE tenant_alias = %s", (scenario.tenant,))
            cur.execute("DELETE FROM `tenant` WHERE tenant_alias = %s", (scenario.tenant,))
        conn.commit()
    finally:
        conn.close()


def expected_records(scenario: Scenario, world: World, source_ids: list[str]) -> dict[str, int]:
    """The records `funds/get` holds for each source, from the world the simulator serves."""
    return {a: world.funds_records(scenario.media, int(a), scenario.day) for a in source_ids}


def run_scenario(scenario: Scenario, clients: list[str], ark_sim: str, workdir: Path) -> list[dict]:
    config_path = scenario.write_sim_config(workdir)
    world = World(scenario.config)
    truth = sorted(str(a) for a, _ in _truth_accounts(world, scenario))
    if scenario.limits.per_day and scenario.limits.per_day < 2 * len(truth):
        raise click.ClickException(f"{scenario.name}: the day quota could bind; raise per_day")
    rows = []
    with SimulatorProcess(config_path=config_path, log_path=workdir / f"{scenario.name}.sim.log") as sim:
        seeded = seed_tenant(ark_sim, scenario, config_path)
        try:
            for name in clients:
                click.echo(f"  {name:<13}", nl=False)
                run = run_client(name, scenario, sim, workdir)
                row = summarize(scenario, world, truth, name, run)
                rows.append(row)
                click.echo(
                    f"{row['records_ok']:>6} records  lost {row['lost']:>5}  throttled {row['throttled']:>5}"
                    f"  {row['seconds']:6.1f} s  {row['ok_per_s']:6.1f}/s  {row['peak_rss_mb']:6.1f} MB"
                )
        finally:
            remove_tenant(scenario, seeded)
    return rows


def _billed(run: ClientRun) -> int:
    """Calls the quota gateway let through (and so counted against the quota): every answer with a
    body code except the throttle answers; 5xx pages and held or reset calls never reached it."""
    coded = sum(n for outcome, n in run.served.items() if outcome.lstrip("-").isdigit())
    return coded - run.throttled


def _truth_accounts(world: World, scenario: Scenario) -> list[tuple[int, int]]:
    return world.accounts(scenario.media, scenario.tenant)


def summarize(scenario: Scenario, world: World, truth: list[str], name: str, run: ClientRun) -> dict:
    result = run.result
    sources = sorted(result["source_ids"])
    if sources != truth:
        raise click.ClickException(
            f"{scenario.name}/{name}: the client's {len(sources)} sources are not the world's "
            f"{len(truth)} accounts; the bench would compare different work"
        )
    expected = expected_records(scenario, world, sources)
    got = result["records_by_account"]
    lost = sum(max(0, n - got.get(a, 0)) for a, n in expected.items())
    seconds = result["seconds"]
    ceiling = scenario.ceiling_per_s
    return {
        # the machine-readable row (bench/results/fetch.json)
        "scenario": scenario.name,
        "client": name,
        "sources": len(sources),
        "records_ok": result["records_ok"],
        "lost": lost,
        "throttled": run.throttled,
        "seconds": round(seconds, 2),
        "ok_per_s": round(result["records_ok"] / seconds, 1),
        "peak_rss_mb": round(run.peak_rss_mb, 1),
        "quota_ceiling_per_s": round(ceiling, 1) if ceiling else None,
        "fault_adjusted_ceiling_per_s": (
            round(scenario.fault_adjusted_ceiling_per_s, 1) if scenario.fault_adjusted_ceiling_per_s else None
        ),
        "calls_ok_per_s": round(result["sources_ok"] / seconds, 1),
        "quota_per_useful_call": (
            round(_billed(run) / result["sources_ok"], 4) if result["sources_ok"] else None
        ),
        # diagnostics, for RESULTS.md only
        "_expected": sum(expected.values()),
        "_sources_ok": result["sources_ok"],
        "_calls_ok_per_s": result["sources_ok"] / seconds,
        "_throttles_seen": result["throttles_seen"],
        "_served": run.served,
        "_kinds": result["kinds"],
        "_engine": result.get("engine_stats"),
    }


# ----- the report


def write_results(
    rows: list[dict],
    scenarios: list[Scenario],
    command: str,
    seconds: float,
    when: datetime,
    load: list[float] | None = None,
) -> None:
    public = [{k: v for k, v in row.items() if not k.startswith("_")} for row in rows]
    (BENCH / "results").mkdir(exist_ok=True)
    (BENCH / "results" / "fetch.json").write_text(json.dumps(public, indent=2) + "\n", encoding="utf-8")
    text = render(rows, scenarios, command, seconds, when, load)
    write_section(START_MARK, END_MARK, text, first=True)


def render(
    rows: list[dict],
    scenarios: list[Scenario],
    command: str,
    seconds: float,
    when: datetime,
    load: list[float] | None = None,
) -> str:
    """The section; `load`: the machine's 1-minute load average at the start and at the end."""
    cpu = cpu_model()
    busy = f", load average {load[0]:.1f} at the start and {load[1]:.1f} at the end" if load else ""
    lines = [
        START_MARK,
        "# Fetch benchmark: threads vs asyncio vs the Ark engine",
        "",
        "Generated by `bench/fetch_bench.py` (this section only; the analysis below the tables is",
        "`bench/fetch_notes.md`, included verbatim). Reproduce with:",
        "",
        "```bash",
        command,
        "```",
        "",
        f"Run {when:%Y-%m-%d %H:%M} UTC on {os.cpu_count()} CPU ({cpu}), "
        f"Python {platform.python_version()}, in {seconds / 60:.1f} min{busy}. One `ark-sim serve` "
        "process per scenario; each client in its own process, one after the other.",
        "",
        "Columns: **records ok** = funds records obtained; **lost** = the simulator world's records "
        "for exactly those sources minus what the client got (account by account); **throttled** = "
        "throttle answers the simulator served that client (/admin/counters, reset between clients), "
        "with what the client itself counted in brackets; **records/s** = records ok / seconds of "
        "fetching (the source list read excluded, as in the notes); **calls ok/s** = sources "
        "fetched / seconds, the number the quota ceiling limits (it can pass 100%: every quota "
        "bucket starts full); **% of ceiling** with faults: also of the fault-adjusted ceiling (the "
        "ceiling less the share of calls a perfect client, pacing at the ceiling, must still spend "
        "on 5xx answers); **peak RSS** = ru_maxrss of the client process.",
    ]
    for scenario in scenarios:
        mine = [r for r in rows if r["scenario"] == scenario.name]
        if not mine:
            continue
        lines += ["", f"## `{scenario.name}`", "", scenario.about, "", _config_line(scenario), ""]
        lines += [
            "| client | sources | records ok | lost | throttled (seen) | seconds | records/s "
            "| calls ok/s | % of ceiling | peak RSS MB |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        ]
        ceiling, adjusted = scenario.ceiling_per_s, scenario.fault_adjusted_ceiling_per_s
        for r in mine:
            share = f"{100 * r['_calls_ok_per_s'] / ceiling:.0f}%" if ceiling else "-"
            if adjusted:
                share += f" ({100 * r['_calls_ok_per_s'] / adjusted:.0f}% adj.)"
            lines.append(
                f"| {r['client']} | {r['sources']:,} | {r['records_ok']:,} | {r['lost']:,} "
                f"| {r['throttled']:,} ({r['_throttles_seen']:,}) | {r['seconds']:.1f} | {r['ok_per_s']:.1f} "
                f"| {r['_calls_ok_per_s']:.1f} | {share} | {r['peak_rss_mb']:.1f} |"
            )
        lines += ["", "What the simulator answered each client (outcome: count):", ""]
        for r in mine:
            served = ", ".join(f"{k}: {v:,}" for k, v in sorted(r["_served"].items()))
            lines.append(f"- {r['client']}: {served}")
        lines += ["", *_goal_lines(scenario, mine)]
    notes = BENCH / "fetch_notes.md"
    if notes.exists():
        lines += ["", notes.read_text(encoding="utf-8").rstrip()]
    lines += [END_MARK]
    return "\n".join(lines) + "\n"


def _config_line(scenario: Scenario) -> str:
    cfg = scenario.config.media[media_named(scenario.media).name]
    q = scenario.limits
    quota = []
    if q.per_second:
        quota.append(f"{q.per_second}/s")
    if q.per_minute:
        capacity = q.per_minute * q.burst_seconds / 60
        quota.append(f"{q.per_minute:,}/min (bucket {capacity:,.0f})")
    faults = {k: v for k, v in cfg.faults.model_dump().items() if k != "timeout_hold_s" and v}
    fault_text = ", ".join(f"{k} {v:.0%}" for k, v in faults.items()) or "none"
    if faults.get("timeout"):
        fault_text += f" (held {cfg.faults.timeout_hold_s:g} s)"
    ceiling = scenario.ceiling_per_s
    adjusted = scenario.fault_adjusted_ceiling_per_s
    adjusted_text = (
        f" (fault-adjusted: {ceiling:g} x (1 - {scenario.http_5xx:.0%} 5xx) = **{adjusted:g} calls ok/s**)"
        if adjusted
        else ""
    )
    return (
        f"Config (`bench/scenarios/{scenario.path.name}`): latency median {cfg.latency.median_ms:g} ms, "
        f"sigma {cfg.latency.sigma:g}; quota {' + '.join(quota)} -> **ceiling {ceiling:g} calls/s**"
        f"{adjusted_text}; faults {fault_text}; client timeout {scenario.timeout_s:g} s"
        + (f"; engine settings {scenario.ark_settings}" if scenario.ark_settings else "")
        + "."
    )


def _goal_lines(scenario: Scenario, rows: list[dict]) -> list[str]:
    by = {r["client"]: r for r in rows}
    ark = by.get("ark")
    if ark is None:
        return []
    checks = [("loses 0 records", ark["lost"] == 0, f"lost {ark['lost']:,}")]
    goal, adjusted = scenario.goal_ceiling, scenario.fault_adjusted_ceiling_per_s
    if adjusted:
        share = ark["_calls_ok_per_s"] / adjusted
        checks.append((f">= {goal:.0%} of the fault-adjusted ceiling", share >= goal, f"{share:.0%}"))
    elif scenario.ceiling_per_s:
        share = ark["_calls_ok_per_s"] / scenario.ceiling_per_s
        checks.append((f">= {goal:.0%} of the quota ceiling", share >= goal, f"{share:.0%}"))
    for other, factor in (("seed-threads", GOAL_VS_THREADS), ("seed-async", GOAL_VS_ASYNC)):
        if other in by and by[other]["ok_per_s"]:
            ratio = ark["ok_per_s"] / by[other]["ok_per_s"]
            checks.append((f">= {factor}x {other} records/s", ratio >= factor, f"{ratio:.2f}x"))
    per_call = ark.get("quota_per_useful_call")
    if per_call is not None:
        checks.append(
            (
                f"quota spent per useful call <= {GOAL_QUOTA_PER_USEFUL_CALL}",
                per_call <= GOAL_QUOTA_PER_USEFUL_CALL,
                f"{per_call:.4f}",
            )
        )
    if "seed-async" in by:
        rss = by["seed-async"]["peak_rss_mb"]
        checks.append(
            (
                "peak RSS <= seed-async's",
                ark["peak_rss_mb"] <= rss,
                f"{ark['peak_rss_mb']:.1f} vs {rss:.1f} MB",
            )
        )
    lines = ["Engine goals:", "", "| goal | met | value |", "|---|---|---|"]
    lines += [f"| {goal} | {'yes' if met else '**no**'} | {value} |" for goal, met, value in checks]
    if ark.get("_engine"):
        stats = ark["_engine"]
        hedges, answers = stats.get("hedges", 0), stats["requests"]
        share = f"{hedges / answers:.2%}" if answers else "-"
        lines += [
            "",
            f"Engine summary: {answers:,} HTTP answers, {stats['throttles']:,} throttles, "
            f"{stats['retries']:,} retries, {stats.get('timeouts', 0):,} timeouts, "
            f"{hedges:,} hedged copies ({share} of the answers; {stats.get('hedge_wins', 0):,} answered "
            f"first), {stats['failed']:,} sources failed.",
        ]
    return lines


def _toml(data: dict[str, Any], prefix: str = "") -> str:
    """A minimal TOML writer for the overrides (tables, strings, numbers, booleans, inline dicts)."""
    scalars = [f"{_key(k)} = {_value(v)}" for k, v in data.items() if not isinstance(v, dict) or _inline(v)]
    text = "\n".join(scalars) + ("\n" if scalars else "")
    for key, value in data.items():
        if isinstance(value, dict) and not _inline(value):
            name = f"{prefix}.{_key(key)}" if prefix else _key(key)
            text += f"\n[{name}]\n" + _toml(value, name)
    return text


def _inline(value: dict) -> bool:
    """Leaf tables (only scalars) are written inline: `gdt = { agents = 6, accounts = 7481 }`."""
    return bool(value) and not any(isinstance(v, dict) for v in value.values())


def _key(key: str) -> str:
    return key if key.replace("_", "").replace("-", "").isalnum() else json.dumps(key)


def _value(value: Any) -> str:
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{_key(k)} = {_value(v)}" for k, v in value.items()) + " }"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, list):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    if isinstance(value, date):
        return value.isoformat()
    return repr(value)


@click.command()
@click.option(
    "--scenario",
    "names",
    multiple=True,
    help="Scenario name(s) under bench/scenarios (default: all, in the order 1-2-3).",
)
@click.option(
    "--client",
    "clients",
    multiple=True,
    type=click.Choice(list(CLIENTS)),
    help="Client(s) to run (default: all three).",
)
@click.option(
    "--ark-settings",
    default="",
    help="EngineSettings overrides for the ark client as JSON, on top of the scenarios' own, e.g. "
    '\'{"governor": {"pause_s": 0.25}}\' (for trying knobs; use with --no-write).',
)
@click.option(
    "--render-from",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Re-render RESULTS.md and fetch.json from a kept run's rows.json instead of running.",
)
@click.option("--keep", is_flag=True, help="Keep the work directory (client results, logs).")
@click.option("--no-write", is_flag=True, help="Print the rows only; leave RESULTS.md and fetch.json alone.")
def main(
    names: tuple[str, ...],
    clients: tuple[str, ...],
    ark_settings: str,
    render_from: Path | None,
    keep: bool,
    no_write: bool,
) -> None:
    """Run the fetch benchmark and write bench/RESULTS.md and bench/results/fetch.json."""
    order = ["seed-gdt-funds", "jrtt-funds", "faulty-gdt-funds"]
    available = {p.stem: p for p in (BENCH / "scenarios").glob("*.toml")}
    chosen = list(names) or [n for n in order if n in available] + sorted(set(available) - set(order))
    unknown = [n for n in chosen if n not in available]
    if unknown:
        raise click.ClickException(f"unknown scenario(s) {unknown}; known: {sorted(available)}")
    scenarios = [Scenario.load(available[n]) for n in chosen]
    if ark_settings:
        extra = json.loads(ark_settings)
        for scenario in scenarios:
            governor = {**scenario.ark_settings.get("governor", {}), **extra.get("governor", {})}
            scenario.ark_settings = {**scenario.ark_settings, **extra} | (
                {"governor": governor} if governor else {}
            )
    ark_sim = shutil.which("ark-sim", path=str(Path(sys.executable).parent)) or shutil.which("ark-sim")
    if ark_sim is None:
        raise click.ClickException("ark-sim is not installed in this environment (pip install -e .)")
    args = [a for a in sys.argv[1:] if a != "--keep"]  # where the work files go changes no number
    command = shlex.join([".venv/bin/python", "-m", "bench.fetch_bench", *args])
    if not args:
        command = f"make bench-fetch   # runs: {command} (after `make stack`)"
    if render_from is not None:
        saved = json.loads(render_from.read_text(encoding="utf-8"))
        when = datetime.fromtimestamp(saved.get("started", render_from.stat().st_mtime), UTC)
        write_results(saved["rows"], scenarios, saved["command"], saved["seconds"], when, saved.get("load"))
        click.echo(f"re-rendered {BENCH / 'RESULTS.md'} and {BENCH / 'results' / 'fetch.json'}")
        return
    started, when, load = time.monotonic(), datetime.now(UTC), [os.getloadavg()[0]]
    workdir = Path(tempfile.mkdtemp(prefix="ark-bench-"))
    rows: list[dict] = []
    try:
        for scenario in scenarios:
            click.echo(f"{scenario.name}: {scenario.about}")
            rows += run_scenario(scenario, list(clients) or list(CLIENTS), ark_sim, workdir)
        seconds = time.monotonic() - started
        load.append(os.getloadavg()[0])
        saved = {
            "rows": rows,
            "command": command,
            "seconds": seconds,
            "started": when.timestamp(),
            "load": load,
        }
        (workdir / "rows.json").write_text(json.dumps(saved), encoding="utf-8")
    finally:
        if keep:
            click.echo(f"work directory kept: {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    if not no_write:
        write_results(rows, scenarios, command, seconds, when, load)
        click.echo(f"wrote {BENCH / 'RESULTS.md'} and {BENCH / 'results' / 'fetch.json'}")


if __name__ == "__main__":
    main()
