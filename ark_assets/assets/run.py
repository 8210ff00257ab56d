"""One fetch asset's run: the seed's job parameters and the run's bookkeeping around its work."""

from __future__ import annotations

import concurrent.futures
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date

from ark_assets.assets.recording import RunRecorder
from ark_assets.assets.run_config import FetchConfig
from ark_assets.media.declare import MediaDefinition
from ark_assets.resources.run_log import RunLogResource


@contextmanager
def recorded_run(
    *,
    job: str,
    run_id: str,
    media: MediaDefinition,
    tenant: str,
    day: date,
    endpoint: str,
    config: FetchConfig,
    run_log: RunLogResource,
    output: str,
) -> Iterator[RunRecorder]:
    """The run's bookkeeping around the `with` block, with the seed's job parameters (tokens are
    never among them): started on entry; an exception escaping the block is recorded as the
    run's failure (run log, ERROR event, Sentry) and re-raised -- except the cancellation of a
    stopping step, which the run-status sensors account for.

    Args:
        job: the seed's `cur_job_name`, the asset key (`media/asset`).
        run_id: the Dagster run (the seed's `batch_key`).
        output: the output mode the rows are written in (HBASE / FILE / NONE), as the seed's
            `output` parameter recorded it.
    """
    agent_id = config.agents_list[0] if config.agents_list else 0
    params = {
        "agent_id": agent_id,
        "tenant_alias": tenant,
        "data_date": str(day),
        "media_name": media.name,
        "cur_job_name": job,
        "account_list": config.account_list,
        "agents_list": config.agents_list,
        "task_type_list": "SAVE",
        "output": output,
        "agent_level": "parent",
        "data_type": "day",
        "batch_key": run_id,
    }
    recorder = RunRecorder(
        media=media.name,
        tenant=tenant,
        day=day,
        job=job,
        interface=endpoint,
        run_id=run_id,
        params=params,
        log=run_log,
        agent_id=str(agent_id),
    ).start()
    try:
        yield recorder
    except concurrent.futures.CancelledError:
        # The step is stopping (its run was cancelled, or it is failing): not this asset's failure.
        # The row stays STARTED for the run-status sensors, which close it with the run's reason
        # (CANCELED or FAILED) and alert once per run, not once per asset.
        raise
    except Exception as exc:
        recorder.fail(exc)
        raise
