"""Settings as resources receive them: a set variable as an `EnvVar`, an unset one as its default.

Every value comes from the settings object (`ark_assets/settings`), validated when the
definitions load. A variable that is set reaches Dagster as an `EnvVar`, resolved at run time, so
its value is never stored in run config or shown in the UI (this matters for passwords and DSNs);
an unset one is the default (the local stack's loopback, outside production only).
"""

from __future__ import annotations

from typing import Any

from dagster import EnvVar
from pydantic import SecretStr
from pydantic_settings import BaseSettings

from ark_assets.settings import env_name, is_set


def configured(source: BaseSettings, field: str) -> Any:
    """`EnvVar(...)` (`EnvVar.int` for an int) naming the field's variable when it is set, else its value."""
    value = getattr(source, field)
    if is_set(source, field):
        name = env_name(source, field)
        return EnvVar.int(name) if isinstance(value, int) else EnvVar(name)
    return value.get_secret_value() if isinstance(value, SecretStr) else value
