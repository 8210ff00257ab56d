"""One partition of every media, materialized in this process: the process `bench.partition_bench` measures.

    python -m bench.partition_run --tenant T --date YYYY-MM-DD --sim-url URL ... --out OUT.json

It does what a Dagster run of `all_media_daily` does for one (day, tenant) partition, in process:
`dagster.materialize(build_assets(), partition_key=..., resources=..., instance=ephemeral)` with
the tenant added as a dynamic partition, the resources pointing at the bench's simulator, its
own MySQL databases, an HBase table prefix and a Kafka topic prefix of this run only. Nothing
else runs here, so the process's CPU time and peak RSS are the platform's.

OUT.json: per asset its materialization metadata, completeness check, step wall and CPU seconds
(from a 0.2 s CPU sampler mapped onto the run's step start/end events), the run's failures, and
this process's CPU split (start-up and imports / the run itself).
"""

from __future__ import annotations

import json
import resource
import threading
import time

_T0_WALL, _T0_CPU = time.perf_counter(), time.process_time()

import click  # noqa: E402  (the clocks above start before any import)

SAMPLE_S = 0.2


class CpuSampler:
    """(wall clock, process CPU) every SAMPLE_S, to attribute CPU to the steps afterwards."""

    def __init__(self) -> None:
        self.samples: list[tuple[float, float]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        self.samples.append((time.time(), time.process_time()))
        while not self._stop.wait(SAMPLE_S):
            self.samples.append((time.time(), time.process_time()))

    def __enter__(self) -> CpuSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.samples.append((time.time(), time.process_time()))

    def cpu_at(self, when: float) -> float:
        """Process CPU seconds at wall time `when`, interpolated between samples."""
        samples = self.samples
        if when <= samples[0][0]:
            return samples[0][1]
        for (t0, c0), (t1, c1) in zip(samples, samples[1:], strict=False):
            if t0 <= when <= t1:
                return c0 + (c1 - c0) * ((when - t0) / (t1 - t0) if t1 > t0 else 0.0)
        return samples[-1][1]


def _plain(value: object) -> object:
    """A metadata value as JSON: its `.value` when it has one, else its text."""
    value = getattr(value, "value", value)
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)


def _root_cause(event: object) -> str:
    """The innermost error of a STEP_FAILURE event, as `Type: message` (Dagster wraps it twice)."""
    error = getattr(getattr(event, "step_failure_data", None), "error", None)
    while error is not None and error.cause is not None:
        error = error.cause
    if error is None:
        return (getattr(event, "message", "") or "")[:2000]
    return f"{error.cls_name}: {error.message.strip()}"[:2000]


def run(
    *,
    tenant: str,
    day: str,
    sim_url: str,
    table_prefix: str,
    topic_prefix: str,
    spool_dir: str,
    log_db: str,
    eton_db: str,
    apps: dict[str, tuple[str, str]],
    max_in_flight: int | None,
    log_sample_rate: float,
    select: tuple[str, ...] = (),
) -> dict:
    from dagster import AssetKey, DagsterEventType, DagsterInstance, materialize

    from ark_assets.assets.build import media_assets
    from ark_assets.defs.resources import platform_resources
    from ark_assets.io.hbase_io_manager import HBaseIOManager
    from ark_assets.media.registry import all_media
    from ark_assets.partitions import partition_key
    from ark_assets.resources.hbase import HBaseResource
    from ark_assets.resources.kafka_log import KafkaLogResource
    from ark_assets.resources.media_api import MediaApiResource, MediaConnection
    from ark_assets.resources.mysql import MySQLResource
    from ark_assets.resources.redis_store import RedisResource
    from ark_assets.resources.sentry import SentryResource
    from ark_stack import task_speed

    hbase = HBaseResource(table_prefix=table_prefix)
    connections = {
        media: MediaConnection(base_url=f"{sim_url}/{media}", app_id=app_id, app_secret=secret)
        for media, (app_id, secret) in apps.items()
    }
    resources = platform_resources(
        io_manager=HBaseIOManager(hbase=hbase),
        redis=RedisResource(),
        hbase=hbase,
        mysql=MySQLResource(log_database=log_db, eton_database=eton_db),
        kafka_log=KafkaLogResource(topic_prefix=topic_prefix, spool_dir=spool_dir),
        sentry=SentryResource(),  # no DSN: off
        media_api=MediaApiResource(
            media=connections,
            **({"max_in_flight": max_in_flight} if max_in_flight is not None else {}),
            log_sample_rate=log_sample_rate,
            # Tencent's async tasks at loopback speed, as the simulator is told (partition_bench)
            task_cooldown_s=task_speed.COOLDOWN_S,
            task_poll_s=task_speed.POLL_S,
        ),
    )
    assets = [a for media in all_media() for a in media_assets(media)]
    instance = DagsterInstance.ephemeral()
    instance.add_dynamic_partitions("tenants", [tenant])
    key = str(partition_key(day, tenant))
    ready_wall, ready_cpu = time.perf_counter(), time.process_time()

    with CpuSampler() as sampler:
        result = materialize(
            assets,
            selection=[AssetKey(s.split("/")) for s in select] or None,
            partition_key=key,
            resources=resources,
            instance=instance,
            raise_on_error=False,
        )
    run_wall, run_cpu = time.perf_counter() - ready_wall, time.process_time() - ready_cpu

    # Step wall and CPU seconds from the run's event log (STEP_START .. STEP_SUCCESS / FAILURE).
    starts: dict[str, float] = {}
    steps: dict[str, dict] = {}
    for entry in instance.all_logs(result.run_id):
        event = entry.dagster_event
        if event is None or not event.step_key:
            continue
        if event.event_type_value == DagsterEventType.STEP_START.value:
            starts[event.step_key] = entry.timestamp
        elif event.event_type_value in (
            DagsterEventType.STEP_SUCCESS.value,
            DagsterEventType.STEP_FAILURE.value,
        ):
            begun = starts.get(event.step_key, entry.timestamp)
            steps[event.step_key] = {
                "started": begun,
                "status": "success"
                if event.event_type_value == DagsterEventType.STEP_SUCCESS.value
                else "failure",
                "wall_s": round(entry.timestamp - begun, 3),
                "cpu_s": round(sampler.cpu_at(entry.timestamp) - sampler.cpu_at(begun), 3),
            }

    assets_out: dict[str, dict] = {}
    for event in result.get_asset_materialization_events():
        materialization = event.step_materialization_data.materialization
        name = materialization.asset_key.to_user_string()
        assets_out[name] = {
            "step": event.step_key,
            "metadata": {k: _plain(v) for k, v in materialization.metadata.items() if k != "failed_accounts"},
            "failed_accounts": _plain(materialization.metadata.get("failed_accounts")),
        }
    for evaluation in result.get_asset_check_evaluations():
        name = evaluation.asset_key.to_user_string()
        assets_out.setdefault(name, {})["check"] = {
            "name": evaluation.check_name,
            "passed": evaluation.passed,
            "metadata": {k: _plain(v) for k, v in evaluation.metadata.items()},
        }
    failures = [{"step": e.step_key, "message": _root_cause(e)} for e in result.get_step_failure_events()]
    planned = sorted(k.to_user_string() for a in assets for k in a.keys)
    media_api = resources["media_api"]
    return {
        "success": result.success,
        "max_in_flight": media_api.max_in_flight,
        "log_sample_rate": media_api.log_sample_rate,
        "run_id": result.run_id,
        "partition_key": key,
        "assets_planned": planned,
        "assets": assets_out,
        "steps": steps,
        "failures": failures,
        "startup_wall_s": round(ready_wall - _T0_WALL, 3),
        "startup_cpu_s": round(ready_cpu - _T0_CPU, 3),
        "run_wall_s": round(run_wall, 3),
        "run_cpu_s": round(run_cpu, 3),
    }


@click.command()
@click.option("--tenant", required=True)
@click.option("--date", "day", required=True, help="YYYY-MM-DD (GMT+8).")
@click.option("--sim-url", required=True, help="The simulator's root, e.g. http://127.0.0.1:41234.")
@click.option("--table-prefix", required=True, help="HBase table prefix of this run only.")
@click.option("--topic-prefix", required=True, help="Kafka topic prefix of this run only.")
@click.option("--spool-dir", required=True, help="Kafka event spool directory of this run only.")
@click.option("--log-db", required=True, help="MySQL database for the run/request/response logs.")
@click.option("--eton-db", required=True, help="MySQL database holding the seeded tenant and agents.")
@click.option("--app", "apps", multiple=True, required=True, help="MEDIA:APP_ID:SECRET, once per media.")
@click.option("--max-in-flight", type=int, help="Default: MediaApiResource's own.")
@click.option("--log-sample-rate", default=0.0, show_default=True)
@click.option(
    "--cprofile", type=click.Path(dir_okay=False), help="Also write cProfile stats of the run here."
)
@click.option(
    "--select", multiple=True, help="Only these assets (e.g. jrtt/funds; repeatable). Default: all."
)
@click.option("--out", required=True, type=click.Path(dir_okay=False), help="Where the result JSON goes.")
def main(
    tenant: str,
    day: str,
    sim_url: str,
    table_prefix: str,
    topic_prefix: str,
    spool_dir: str,
    log_db: str,
    eton_db: str,
    apps: tuple[str, ...],
    max_in_flight: int | None,
    log_sample_rate: float,
    cprofile: str | None,
    select: tuple[str, ...],
    out: str,
) -> None:
    """Materialize one (day, tenant) partition of all 24 assets and write what happened to OUT."""
    kwargs = {
        "tenant": tenant,
        "day": day,
        "sim_url": sim_url.rstrip("/"),
        "table_prefix": table_prefix,
        "topic_prefix": topic_prefix,
        "spool_dir": spool_dir,
        "log_db": log_db,
        "eton_db": eton_db,
        "apps": {m: (i, s) for m, i, s in (a.split(":", 2) for a in apps)},
        "max_in_flight": max_in_flight,
        "log_sample_rate": log_sample_rate,
        "select": select,
    }
    if cprofile:
        import cProfile

        profiler = cProfile.Profile(time.process_time)  # CPU time: waiting in epoll costs nothing
        outcome = profiler.runcall(run, **kwargs)
        profiler.dump_stats(cprofile)
    else:
        outcome = run(**kwargs)
    usage = resource.getrusage(resource.RUSAGE_SELF)
    outcome |= {
        "self_cpu_s": round(usage.ru_utime + usage.ru_stime, 3),
        "self_maxrss_mb": round(usage.ru_maxrss / 1024, 1),  # KiB on Linux
    }
    with open(out, "w", encoding="utf-8") as fh:
        json.dump(outcome, fh, indent=1)


if __name__ == "__main__":
    main()
