"""How one per-account dataset asks the media: bulk answers first, per-account calls for the rest.

For each of its calls (per time line, if it has them) a dataset's accounts end in exactly one way:

- answered by a bulk answer: the agency's report file of an asynchronous task (`assets/bulk.py`),
  or a batch of ids in one call (`AccountDataset.batch`): the rows the per-account call would give;
- idle: the media's activity signal (`assets/activity.py`) or the level this one details
  (`detail_of`) answered that the account has nothing to report: no rows, no call;
- fetched per account: everything a bulk answer does not cover (a failed or expired task, a file
  that lacks an account some other answer shows active, a batch refused), and every account when
  there is no bulk path.

`answered` ends as account -> whether it had rows (accounts whose fetch failed are not in it): the
part publishes it for the levels that detail this one, and it is the spool's coverage
(`RowSpool.covered`, `io/coverage.py`): a stored row may go only where the media positively
answered, an idle account included (it has nothing that day), never where a fetch failed.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from ark_assets.assets.activity import activity_map, bulk_activity, rows_name
from ark_assets.assets.bulk import BulkBook, Planned, bulk_plans, request_key, variants
from ark_assets.assets.drift import by_policy
from ark_assets.assets.families import first_tops, phase_name, remember, uncovered
from ark_assets.assets.fetching import FetchRun
from ark_assets.assets.records import BadRecord, dataset_rows
from ark_assets.fetch.outcome import Failure, Outcome, Source
from ark_assets.fetch.summary import FetchSummary
from ark_assets.io.rows import Row, RowSpool
from ark_assets.media.bulk import ReportFamilies, totals
from ark_assets.media.declare import AccountDataset

# a refused batch is split and asked again, down to single ids; a refused token is not worth it
_UNSPLITTABLE = {"TokenInvalid", "TokenExpired", "RefreshFailed", "DailyQuotaExhausted"}


@dataclass(kw_only=True)
class DatasetFetch:
    """One dataset's fetch for one partition (see the module doc)."""

    step: Any  # the media step's StepContext
    declared: AccountDataset
    run: FetchRun
    spool: RowSpool
    accounts: dict[str, str]  # account -> agent
    # a slice re-run or an intraday refresh: no bulk answer, nothing skipped as idle (batches of
    # ids stay: they answer exactly the accounts asked)
    direct: bool
    summary: FetchSummary = field(default_factory=FetchSummary)
    answered: dict[str, bool] = field(default_factory=dict)
    # account -> its rows' (show, click, cost) sums and row count, for a dataset a family reads
    totals: dict[str, tuple[tuple[float, ...], int]] = field(default_factory=dict)
    _rows: Callable[[Outcome], Iterable[Row]] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        # an outcome's rows, for every path: complete hours only in an intraday refresh, record
        # fields under the media's drift policy (`drift.py`)
        rows = partial(dataset_rows, self.declared, before_hour=self.step.intraday_hour)
        self._rows = by_policy(rows, self.step, self.declared, self.spool.fields)

    def fetch(self) -> FetchSummary:
        if self.declared.batch:
            self._batches(dict(self.accounts))
            return self.summary
        book: BulkBook = self.step.bulk
        bulk = None if self.direct else book.bulk(self.declared)
        if bulk is not None:
            book.start(self.run, self._planned(book), self.step.redis.sets)
        families = self.step.media.assets.families
        top = families is not None and self.declared.name in families.tops and not self.direct
        for params in variants(self.declared, self.step.day):
            todo = self._from_bulk(book, params) if bulk is not None else dict(self.accounts)
            todo = self._narrowed(todo)
            if top:
                self._family_top(families, todo, params)
            else:
                self._per_account(todo, params)
        return self.summary

    def _family_top(self, families: ReportFamilies, todo: dict[str, str], params: dict[str, Any]) -> None:
        """A family's top level in two phases (`assets/families.py`)."""
        name = self.declared.name
        first = first_tops(self.step, families, todo)
        mine = {a: g for a, g in todo.items() if first[a] == name}
        self._per_account(mine, params)
        found = {a: self.totals.get(a, ((0.0, 0.0, 0.0), 0)) for a in mine if a in self.answered}
        self.step.exchange.publish(phase_name(name), found)
        others, covered = uncovered(
            self.step, families, name, {a: g for a, g in todo.items() if a not in mine}
        )
        for account in covered:
            self._idle(account)
        self._per_account(others, params)
        remember(self.step, families, name, self.answered)

    # -- bulk answers -------------------------------------------------------------------------------

    def _planned(self, book: BulkBook) -> list[Planned]:
        """Every chosen dataset's calls that have a bulk path, the account level's first."""
        config = self.step.config
        return [
            plan
            for plan in bulk_plans(self.step.media, self.step.media_api, self.step.day, self.step.chosen)
            if not config.for_asset(plan.dataset.name).account_list
            and not config.for_asset(plan.dataset.name).agents_list
        ]

    def _version(self) -> str:
        return self.step.media_api.api_spec(self.step.media).version

    def _from_bulk(self, book: BulkBook, params: dict[str, Any]) -> dict[str, str]:
        """Rows of every agency's file for this call; the accounts still to ask one by one. The
        part's seconds include the wait for the files (what its step spends on it)."""
        started = time.monotonic()
        try:
            return self._read_bulk(book, params)
        finally:
            self.summary.seconds += time.monotonic() - started

    def _read_bulk(self, book: BulkBook, params: dict[str, Any]) -> dict[str, str]:
        key = request_key(self.declared, params)
        by_agency: dict[str, list[str]] = {}
        for account, agency in self.accounts.items():
            by_agency.setdefault(agency, []).append(account)
        ends = book.ends(key)
        todo = {a: g for a, g in self.accounts.items() if g not in ends}  # agencies no task covered
        for agency, end in ends.items():
            self.summary.calls_of(end.summary, seconds=False)  # its calls; its accounts are counted below
            members = by_agency.get(agency, [])
            grouped = book.grouped(key, agency)
            if grouped is None:  # no file (failed, expired, unreadable): every account one by one
                todo |= dict.fromkeys(members, agency)
                continue
            found = self._rows_of(grouped, set(members), agency, params)
            rest = [a for a in members if a not in found]
            if self._is_signal():  # the account level: the agency's other files say who is active
                known = bulk_activity(book, agency, rest) or {}
                for account in rest:
                    if known.get(account) is False:
                        self._idle(account)
                rest = [a for a in rest if known.get(a) is not False]
            todo |= dict.fromkeys(rest, agency)
        return todo

    def _rows_of(self, grouped: Any, members: set[str], agency: str, params: dict[str, Any]) -> set[str]:
        """Spool the rows of the file's accounts that are ours; the accounts it answered."""
        found: set[str] = set()
        for account, records in grouped.records():
            if account not in members:
                continue
            outcome = Outcome(
                Source(agency, account, params), records, None, attempts=0, throttles=0, pages=0
            )
            try:
                rows = list(self._rows(outcome))
            except BadRecord:
                continue  # asked again per account, where a bad record fails just that account
            for row in rows:
                self.spool.write(row)
            self.summary.rows += len(rows)
            self.summary.answered(len(records), bulk=True)
            self.answered[account] = self.answered.get(account, False) or bool(rows)
            found.add(account)
        return found

    def _is_signal(self) -> bool:
        signal = self.step.media.assets.activity
        return signal is not None and signal.dataset == self.declared.name

    # -- idle accounts ------------------------------------------------------------------------------

    def _narrowed(self, todo: dict[str, str]) -> dict[str, str]:
        """`todo` less what the activity signal (and the level this one details) say is idle."""
        if self.direct:
            return todo
        if self.declared.activity:
            known = activity_map(self.step, self.run, self.summary)
            for account in [a for a in todo if known.get(a) is False]:
                self._idle(account)
                del todo[account]
        parent = self.declared.detail_of
        if parent and parent in self.step.chosen:
            try:
                had_rows: dict[str, bool] = self.step.exchange.get(rows_name(parent))
            except Exception:  # the level above failed: ask every account
                had_rows = {}
            for account in [a for a in todo if had_rows.get(a) is False]:
                self._idle(account)
                del todo[account]
        return todo

    def _idle(self, account: str) -> None:
        self.summary.answered(0, bulk=False)
        self.answered.setdefault(account, False)

    # -- per-account calls ----------------------------------------------------------------------------

    def _per_account(self, todo: dict[str, str], params: dict[str, Any]) -> None:
        sources = (Source(agent, account, params) for account, agent in todo.items())
        fetched = self.run.fetch(
            self.declared.endpoint, sources, to_rows=self._noting, spool=self.spool, total=len(todo)
        )
        self.summary.add(fetched)

    def _noting(self, outcome: Outcome) -> list:
        rows = list(self._rows(outcome))
        account = str(outcome.source.target)
        self.answered[account] = self.answered.get(account, False) or bool(rows)
        families = self.step.media.assets.families
        paths = families.totals.get(self.declared.name) if families is not None else None
        if paths:
            records = outcome.records or []
            self.totals[account] = (totals(records, paths), len(records))
        return rows

    # -- batches of ids -------------------------------------------------------------------------------

    def _batches(self, todo: dict[str, str]) -> None:
        """Every account in batches of ≤ `batch` ids of one agent; a refused batch is split and asked
        again, down to single ids; an account a batch does not answer is asked alone once."""
        batches = _chunks(todo, self.declared.batch)
        alone: set[str] = set()
        while batches:
            batches = self._round(batches, alone)

    def _round(
        self, batches: list[tuple[str, tuple[str, ...]]], alone: set[str]
    ) -> list[tuple[str, tuple[str, ...]]]:
        answered: set[str] = set()
        refused: dict[tuple[str, ...], Failure] = {}

        def rows(outcome: Outcome) -> list:
            try:
                found = list(self._rows(outcome))
            except BadRecord as bad:  # the batch is refused: split, down to the account it names
                refused[outcome.source.target] = Failure(
                    media=self.step.media.name, kind="BadRecord", code=bad.field, message=str(bad), attempts=1
                )
                raise
            answered.update(row.account_id for row in found)
            return found

        def heard(outcome: Outcome) -> None:
            if outcome.failure is not None and isinstance(outcome.source.target, tuple):
                refused[outcome.source.target] = outcome.failure

        sources = [Source(agent, ids, {}) for agent, ids in batches]
        endpoint = self.declared.endpoint
        calls = self.run.fetch(endpoint, sources, to_rows=rows, spool=self.spool, on_outcome=heard)
        self.summary.calls_of(calls)
        self.summary.rows += calls.rows
        return self._after_batches(batches, answered, refused, alone)

    def _after_batches(
        self,
        batches: list[tuple[str, tuple[str, ...]]],
        answered: set[str],
        refused: dict[tuple[str, ...], Failure],
        alone: set[str],
    ) -> list[tuple[str, tuple[str, ...]]]:
        """Account for one round of batches; the batches to ask in the next round."""
        again: list[tuple[str, tuple[str, ...]]] = []
        for agent, ids in batches:
            failure = refused.get(ids)
            if failure is None:
                for account in ids:
                    if account in answered:
                        self.summary.answered(1, bulk=True)
                        self.answered[account] = True
                    elif account not in alone:
                        alone.add(account)
                        again.append((agent, (account,)))
                    else:
                        self._unanswered(agent, account)
            elif len(ids) > 1 and failure.kind not in _UNSPLITTABLE:
                half = len(ids) // 2
                again += [(agent, ids[:half]), (agent, ids[half:])]
            else:
                for account in ids:
                    self.summary.failed_source(agent, account, failure)
        return again

    def _unanswered(self, agent: str, account: str) -> None:
        failure = Failure(
            media=self.step.media.name,
            kind="NotAnswered",
            code="batch",
            message=f"{self.declared.endpoint} answered no record of account {account}, alone or in a batch",
            attempts=2,
        )
        self.summary.failed_source(agent, account, failure)


def _chunks(accounts: dict[str, str], size: int) -> list[tuple[str, tuple[str, ...]]]:
    by_agent: dict[str, list[str]] = {}
    for account, agent in accounts.items():
        by_agent.setdefault(agent, []).append(account)
    return [
        (agent, tuple(ids[i : i + size])) for agent, ids in by_agent.items() for i in range(0, len(ids), size)
    ]
