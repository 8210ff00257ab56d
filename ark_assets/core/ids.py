"""Tenant aliases and media ids: what each may look like, checked in one place.

Ids travel as decimal text everywhere (Redis members, row keys, log rows): the media's ids are
int64, and some (~1.7e18) are beyond what a float, a JSON reader or a Redis score holds exactly.
"""

from __future__ import annotations

import re

INT64_MAX = 2**63 - 1
TENANT = re.compile(r"[A-Za-z0-9]+")
DIGITS = re.compile(r"[0-9]+")
# An agent id is also a sorted-set score, so it has exactly one spelling: no leading zeros.
_AGENT_ID = re.compile(r"0|[1-9][0-9]*")


def tenant_alias(tenant: object) -> str:
    """`tenant` when it is letters and digits only (e.g. T100117), else a ValueError naming it."""
    if not isinstance(tenant, str) or not TENANT.fullmatch(tenant):
        raise ValueError(f"tenant alias {tenant!r} must be ASCII letters and digits only, like 'T100117'")
    return tenant


def agent_id_text(agent_id: object) -> str:
    """The agent id as decimal digits without leading zeros, else a ValueError naming it."""
    text = id_text(agent_id)
    if text is None or not _AGENT_ID.fullmatch(text):
        raise ValueError(f"agent id {agent_id!r} must be digits without a leading zero, like 1050262")
    return text


def account_id_text(account_id: object) -> str:
    """The account id as digits, verbatim (they are opaque ids), else a ValueError naming it."""
    text = id_text(account_id)
    if text is None or not DIGITS.fullmatch(text):
        raise ValueError(f"account id {account_id!r} must be digits, like '1664757665615880'")
    return text


def positive_int64_text(value: object) -> str | None:
    """`value` as id text when it is a positive int64 (a JSON integer or a digit string), else None."""
    text = id_text(value)
    if text is None or not DIGITS.fullmatch(text) or not 0 < int(text) <= INT64_MAX:
        return None
    return text


def id_text(value: object) -> str | None:
    """An id's text: ints are rendered, strings kept, anything else (bool included) is None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return str(value)
    return value if isinstance(value, str) else None
