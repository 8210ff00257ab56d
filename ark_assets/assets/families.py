"""Report families an account has rows in one of: asked first where it reported last time, the
other only when the first one's rows fall short of the account's totals (`media/bulk.py
ReportFamilies`: Ocean Engine's legacy campaign -> ad and upgraded project -> promotion).

Each family's top level is a part of the step; the two run side by side in two phases:

1. each asks its own accounts: the active accounts whose memory (a Redis set per top: the accounts
   whose last answer there had rows) names it, and the unknown ones for the first top;
2. each publishes what phase 1 found (per account: the rows' show, click and cost, and how many
   rows), waits for the other top's phase 1 and for the account level's totals, and asks the
   accounts the other top asked first whose rows there do not add up to the account's totals.

An account whose first family covers its totals is answered for the other family without a call:
its rows there are none. Without the other top or the account level in the step (or when one of
them failed), nothing can be checked and the other top's accounts are asked too, so nothing is lost.
"""

from __future__ import annotations

from typing import Any

from ark_assets.media.bulk import ReportFamilies, covers


def phase_name(top: str) -> str:
    return f"phase:{top}"


def totals_name(dataset: str) -> str:
    return f"totals:{dataset}"


def memory_key(families: ReportFamilies, top: str, tenant: str) -> str:
    return families.memory.format(family=top, tenant=tenant)


def first_tops(step: Any, families: ReportFamilies, accounts: dict[str, str]) -> dict[str, str]:
    """account -> the top it is asked first: the one its memory names alone, else the first top."""
    memory = {top: step.redis.sets.members(memory_key(families, top, step.tenant)) for top in families.tops}
    first: dict[str, str] = {}
    for account in accounts:
        named = [top for top in families.tops if account in memory[top]]
        first[account] = named[0] if len(named) == 1 else families.tops[0]
    return first


def uncovered(
    step: Any, families: ReportFamilies, top: str, others: dict[str, str]
) -> tuple[dict[str, str], set[str]]:
    """Of the accounts another top asked first: those this top must ask (their rows there fall short
    of the account's totals, or nothing can be checked), and those it need not (covered there)."""
    siblings = [t for t in families.tops if t != top]
    needed = [families.account_level, *siblings]
    if not others or any(name not in step.chosen for name in needed):
        return others, set()
    try:
        account_totals = step.exchange.get(totals_name(families.account_level))
        found: dict[str, tuple[tuple[float, ...], int]] = {}
        for sibling in siblings:
            found |= step.exchange.get(phase_name(sibling))
    except Exception:  # the account level or the other top failed: ask them all
        return others, set()
    covered = {
        account
        for account in others
        if account in account_totals
        and account in found
        and covers(account_totals[account][0], found[account][0], found[account][1])
    }
    return {a: g for a, g in others.items() if a not in covered}, covered


def remember(step: Any, families: ReportFamilies, top: str, answered: dict[str, bool]) -> None:
    """This top's memory: the accounts whose answer had rows in, those without out."""
    step.redis.sets.update_members(
        memory_key(families, top, step.tenant),
        add={a for a, rows in answered.items() if rows},
        remove={a for a, rows in answered.items() if not rows},
    )
