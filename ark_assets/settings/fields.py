"""How one environment variable is declared: its default, type, description and the facts the
loader and the README table need (what a good value looks like, whether production must set it,
whether it is a secret whose value is never shown)."""

from __future__ import annotations

from typing import Any

from pydantic import Field
from pydantic.fields import FieldInfo


def var(
    default: Any,
    description: str,
    *,
    expected: str | None = None,
    production: bool = False,
    production_when: str | None = None,
    secret: bool = False,
    shown: str | None = None,
    **constraints: Any,
) -> Any:
    """A settings field: `expected` says what a good value looks like (the error's wording),
    `production` that ARK_ENV=production needs it set explicitly (`production_when`: only then, as
    `load.py` decides), `secret` that its value is never
    echoed, `shown` the default as the README table states it (when the value alone would mislead)."""
    extra = {
        "expected": expected,
        "production": production,
        "production_when": production_when,
        "secret": secret,
        "shown": shown,
    }
    return Field(
        default,
        description=description,
        json_schema_extra={key: value for key, value in extra.items() if value},
        **constraints,
    )


def fact(field: FieldInfo, name: str) -> Any:
    """One of `var`'s facts of a declared field (None when not given)."""
    extra = field.json_schema_extra
    return extra.get(name) if isinstance(extra, dict) else None
