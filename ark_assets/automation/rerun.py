"""Re-run what failed in a partition: find it, and run the `rerun_failed` job on exactly those assets.

The UI's way is the `rerun_failed` job's launchpad (every media step with `failed_only`); this is
the same job for a shell or a program (`ark-assets rerun-failed KEY`): it names what failed, runs
only the assets that have failures, and says whether they are complete now.
"""

from __future__ import annotations

from dagster import DagsterInstance, ExecuteInProcessResult, JobDefinition

from ark_assets.assets.failures import LastFailures, last_failures
from ark_assets.assets.media_step import media_parts
from ark_assets.media.declare import MediaDefinition


def partition_failures(
    instance: DagsterInstance, media: list[MediaDefinition], partition: str
) -> dict[str, list[LastFailures]]:
    """media name -> what failed in the latest materialization of each of its fetching assets."""
    found: dict[str, list[LastFailures]] = {}
    for one in media:
        failures = [last_failures(instance, p.key, partition) for p in media_parts(one) if p.fetches]
        if any(failures):
            found[one.name] = [f for f in failures if f is not None]
    return found


def rerun_failed(
    job: JobDefinition,
    instance: DagsterInstance,
    partition: str,
    failures: dict[str, list[LastFailures]],
) -> ExecuteInProcessResult:
    """Run `job` (`rerun_failed`) for `partition` on the assets in `failures`, in this process; the
    run is recorded on `instance` like any other (the UI shows it)."""
    return job.execute_in_process(
        instance=instance,
        partition_key=partition,
        asset_selection=[f.asset for found in failures.values() for f in found],
        run_config={"ops": {name: {"config": {"failed_only": True}} for name in failures}},
        raise_on_error=False,
    )
