"""Environment-variable configuration with loopback defaults, in one place.

Every resource is configured by `ARK_*` variables. When a variable is set we hand Dagster an
`EnvVar`, so the value is resolved at run time and never stored in run config or shown in the
UI (this matters for passwords and DSNs); when it is unset the loopback default of the local
stack applies, so a fresh clone works with no configuration at all.
"""

from __future__ import annotations

import os

from dagster import EnvVar


def env_str(name: str, default: str) -> str:
    """`EnvVar(name)` (a str Dagster resolves at run time) when the variable is set, else `default`."""
    return EnvVar(name) if name in os.environ else default


def env_int(name: str, default: int) -> int:
    """`EnvVar.int(name)` (an int Dagster resolves at run time) when the variable is set, else `default`."""
    return EnvVar.int(name) if name in os.environ else default
