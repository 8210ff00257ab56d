"""Which accounts had anything to report that day, from the media's cheapest account-level signal.

An account without impressions, clicks or cost at account level has no rows at any deeper level
or hour (every level groups the same data), so the parts below the account level ask the media
only about the other accounts (`activity_first`, on by default). The signal is declared per media
(`MediaAssets.activity`, `media/bulk.py`):

- an account-level report dataset (Tencent): its answers in this step, published by its part as
  it ends; with the bulk path on, an agency's report files in this step (an account with rows in
  any of them is active; the agency's other accounts are idle once one of its files was read);
- an agent-level report (Ocean Engine's agent report: one row per advertiser of an agent with the
  day's show, click and cost, spending or not): published by the account-list part that reads it
  for the second tier, asked by this book for the other agents.

The map says active (True) or idle (False); an account it does not hold is unknown, and is asked
like an active one, so a signal that failed costs calls, never rows. Idle is a positive answer:
the media said the account has nothing that day, and a re-run may delete what a run stored for it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ark_assets.assets.bulk import BulkBook
from ark_assets.assets.exchange import Exchange
from ark_assets.assets.fetching import FetchRun
from ark_assets.assets.sources import day_accounts
from ark_assets.fetch.outcome import Source
from ark_assets.fetch.summary import FetchSummary
from ark_assets.media.bulk import Activity, active
from ark_assets.media.declare import MediaDefinition

ACTIVITY = "activity"


def rows_name(dataset: str) -> str:
    """The exchange name under which a dataset's part publishes its answers (account -> had rows)."""
    return f"rows:{dataset}"


def agent_rows_name(listing: str) -> str:
    """The exchange name under which an account list that reads the agent report publishes it."""
    return f"activity:{listing}"


def bulk_activity(book: BulkBook, agency: str, accounts: Iterable[str]) -> dict[str, bool] | None:
    """An agency's accounts by its report files in this step: with rows in any of them (active),
    else idle; None when none of its files could be read (nothing is known)."""
    seen: set[str] = set()
    readable = False
    for key in book.keys_of(agency):
        grouped = book.grouped(key, agency)
        if grouped is not None:
            readable = True
            seen |= grouped.accounts
    if not readable:
        return None
    return {account: account in seen for account in accounts}


def activity_map(step: Any, run: FetchRun, summary: FetchSummary) -> dict[str, bool]:
    """The step's activity map (computed once, by the first part that asks; its calls counted on
    that part's `summary`)."""
    exchange: Exchange = step.exchange
    return exchange.once(ACTIVITY, lambda: _compute(step, run, summary))


def _compute(step: Any, run: FetchRun, summary: FetchSummary) -> dict[str, bool]:
    media: MediaDefinition = step.media
    signal: Activity | None = media.assets.activity
    if signal is None or not step.media_api.activity_first:
        return {}
    if signal.dataset:
        return _from_dataset(step, signal)
    return _from_agent_report(step, media, signal, run, summary)


def _from_dataset(step: Any, signal: Activity) -> dict[str, bool]:
    """The account-level dataset's answers in this step, or (not chosen) its agencies' files."""
    if signal.dataset in step.chosen:
        try:
            return dict(step.exchange.get(rows_name(signal.dataset)))
        except Exception:  # the account level failed: every account is unknown
            return {}
    book: BulkBook = step.bulk
    found: dict[str, bool] = {}
    dataset = next(d for d in step.media.assets.datasets if d.name == signal.dataset)
    listings = step.media.listings(dataset.upstream)
    accounts = day_accounts(step.redis.sets, step.media, step.tenant, step.day, listings)
    by_agency: dict[str, list[str]] = {}
    for account, agency in accounts.items():
        by_agency.setdefault(agency, []).append(account)
    for agency, members in by_agency.items():
        found |= bulk_activity(book, agency, members) or {}
    return found


def _from_agent_report(
    step: Any, media: MediaDefinition, signal: Activity, run: FetchRun, summary: FetchSummary
) -> dict[str, bool]:
    """Each agent's report: the ones an account list read in this step, the others asked now."""
    found: dict[str, bool] = {}
    covered: set[str] = set()
    for listing in media.assets.account_lists:
        if listing.endpoint == signal.endpoint and listing.name in step.chosen:
            try:
                agents, rows = step.exchange.get(agent_rows_name(listing.name))
            except Exception:  # that list failed: its agents are asked below
                continue
            found |= rows
            covered |= agents
    listings = media.listings(tuple(a.name for a in media.assets.account_lists))
    accounts = day_accounts(step.redis.sets, media, step.tenant, step.day, listings)
    agents = sorted(set(accounts.values()) - covered)
    params = dict(signal.params(step.day)) if signal.params else {}
    sources = [Source(agent, agent, params) for agent in agents]

    def rows(outcome: Any) -> list:
        for record in outcome.records or []:
            account = str(record.get(signal.id_field, ""))
            if account:
                found[account] = active(record, signal.fields)
        return []

    summary.calls_of(run.fetch(signal.endpoint, sources, to_rows=rows, spool=None, total=len(sources)))
    return found
