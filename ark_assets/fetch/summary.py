"""The one summary of a fetch: what its calls and its sources came to.

The engine fills it while a stream runs (calls, throttles, retries, timeouts, hedges, refreshes,
one count per outcome); whoever stores the records adds the rows. The run log, the asset's
metadata, its completeness check and the benchmarks all read this one record, by attribute.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any

from ark_assets.fetch.outcome import Failure, Outcome

MAX_FAILURES_KEPT = 200  # failures listed in full; all of them are counted


@dataclass(kw_only=True)
class FetchSummary:
    """One fetch (a stream of sources, or several streams of one asset folded with `add`)."""

    requested: int = 0  # sources that ended in an outcome
    succeeded: int = 0
    failed: int = 0
    records: int = 0
    rows: int = 0  # written by the caller (the engine never writes rows)
    requests: int = 0  # HTTP answers (a hedged copy that answered is one more)
    throttles: int = 0
    retries: int = 0
    timeouts: int = 0  # calls that got no answer within their (latency-aware) timeout
    hedges: int = 0  # stragglers sent a second time
    hedge_wins: int = 0  # ... whose second copy answered first
    refreshes: int = 0  # token refreshes while the fetch ran
    from_bulk: int = 0  # sources answered by a bulk answer (an agency's report file), no call of their own
    idle: int = 0  # sources the activity signal answered: nothing to report, no call of their own
    seconds: float = 0.0
    failures: list[dict[str, Any]] = field(default_factory=list)  # the first failures in full
    failed_targets: set[str] = field(default_factory=set)  # every failed account (not capped)
    failed_agents: set[str] = field(default_factory=set)  # agents with at least one failed source
    failed_by_kind: dict[str, int] = field(default_factory=dict)  # error class -> sources (not capped)

    def add(self, other: FetchSummary) -> FetchSummary:
        """Fold `other` (a second pass of the same asset, e.g. details after a listing) into this one."""
        for counter in fields(self):
            value = getattr(self, counter.name)
            if isinstance(value, int | float):
                setattr(self, counter.name, value + getattr(other, counter.name))
        self.failures = (self.failures + other.failures)[:MAX_FAILURES_KEPT]
        self.failed_targets |= other.failed_targets
        self.failed_agents |= other.failed_agents
        for kind, n in other.failed_by_kind.items():
            self.failed_by_kind[kind] = self.failed_by_kind.get(kind, 0) + n
        return self

    def count(self, outcome: Outcome) -> None:
        """Account for one source's outcome (the engine does, as the outcome is yielded)."""
        self.requested += 1
        self.retries += max(0, outcome.attempts - outcome.pages - (1 if outcome.failure else 0))
        if outcome.failure is None:
            self.succeeded += 1
            self.records += len(outcome.records or [])
        else:
            self._failed(outcome.source.agent_id, outcome.source.target, outcome.failure)

    def answered(self, records: int, *, bulk: bool) -> None:
        """A source answered without a call of its own: by a bulk answer, or idle per the activity
        signal (no records)."""
        self.requested += 1
        self.succeeded += 1
        self.records += records
        if bulk:
            self.from_bulk += 1
        else:
            self.idle += 1

    def spoiled(self, outcome: Outcome, failure: Failure) -> None:
        """A counted success whose records could not be stored (a bad record): now a failure."""
        self.succeeded -= 1
        self.records -= len(outcome.records or [])
        self._failed(outcome.source.agent_id, outcome.source.target, failure)

    def failed_source(self, agent_id: str, target: str, failure: Failure) -> None:
        """A source that ended failed without an outcome of its own (an account a batch did not answer)."""
        self.requested += 1
        self._failed(agent_id, target, failure)

    def calls_of(self, other: FetchSummary, *, seconds: bool = True) -> None:
        """Fold only `other`'s calls (its sources are accounted for elsewhere: per account of a batch),
        and its seconds unless the caller times the whole of it itself."""
        names = ("requests", "throttles", "retries", "timeouts", "hedges", "hedge_wins", "refreshes")
        for name in (*names, "seconds") if seconds else names:
            setattr(self, name, getattr(self, name) + getattr(other, name))

    def _failed(self, agent_id: str, target: str | tuple[str, ...] | None, failure: Failure) -> None:
        self.failed += 1
        self.failed_agents.add(agent_id)
        self.failed_by_kind[failure.kind] = self.failed_by_kind.get(failure.kind, 0) + 1
        if isinstance(target, tuple):  # a batch of ids (an account-details call)
            self.failed_targets.update(target)
        elif isinstance(target, str):
            self.failed_targets.add(target)
        if len(self.failures) < MAX_FAILURES_KEPT:
            shown = ",".join(target) if isinstance(target, tuple) else str(target or agent_id)
            self.failures.append(
                {
                    "source": shown,
                    "agent_id": agent_id,
                    "media": failure.media,
                    "kind": failure.kind,
                    "code": str(failure.code),
                    "message": failure.message,
                    "attempts": failure.attempts,
                }
            )

    @property
    def accounted(self) -> bool:
        """Every source that ended is either a success or a failure."""
        return self.requested == self.succeeded + self.failed
