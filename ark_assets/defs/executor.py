"""The executor of every job (the UI's asset job too), chosen by `ARK_EXECUTOR` (`execution.py`)."""

import dagster as dg

from ark_assets.execution import executor_from_env


@dg.definitions
def defs() -> dg.Definitions:
    return dg.Definitions(executor=executor_from_env())
