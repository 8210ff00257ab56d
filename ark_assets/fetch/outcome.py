"""What the engine is asked to fetch (sources) and what it answers for each (outcomes)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Source:
    """One thing to fetch: an account (or an agent, or a batch of ids) reached with an agent's token.

    Args:
        agent_id: whose token authorises the call.
        target: the value of the endpoint's source parameter (account id, agent id, list of ids),
            or None for endpoints that take none (an agency's own advertiser list).
        params: the endpoint's other parameters (dates, level, fields...).
    """

    agent_id: str
    target: str | tuple[str, ...] | None
    params: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Failure:
    """Why a source ended without records; kept so no source is dropped silently."""

    media: str
    kind: str  # the error class: Throttled, TokenInvalid, DailyQuotaExhausted...
    code: int | str
    message: str
    attempts: int


@dataclass(frozen=True)
class Outcome:
    """Exactly one per source: its records, or its failure."""

    source: Source
    records: list[dict[str, Any]] | None
    failure: Failure | None
    attempts: int
    throttles: int
    pages: int

    @property
    def ok(self) -> bool:
        return self.failure is None
