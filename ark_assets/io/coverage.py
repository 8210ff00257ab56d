"""Which stored rows a write may delete: those the media positively answered for without them.

A materialization overwrites the rows it writes again. A stored row of the partition that it does
not write again is deleted only when the media answered, completely, for that row's account (or
for the agent whose whole listing holds it) on that day, and the answer no longer has it: the
account was fetched and every page of its answer came back. Nothing else is ever deleted: not
the rows of an account that failed, of an account that is no longer in the day's lists (nobody
asked the media about it), of a date the media no longer serves (refused before any call:
`assets/retention.py`), nor of a run that fetched nothing. History is never lost to a re-run.

Who fills it: each asset's work, after its fetch (`assets/datasets.py`: the accounts its
`DatasetFetch` found answered, less any with a failed source; `assets/advertisers.py`: the agents
whose listing succeeded; the agent lists from `eton`, the source of record, cover the whole
partition). A dataset's answered accounts are one notion for both uses: the same set decides
which deeper levels are asked (`assets/dataset_fetch.py`) and which stored rows may go. An
account answers by a per-account call, by a bulk answer (an agency's async report file, a batch
of ids), or by proof it had nothing that day without a call of its own: the activity signal
showed it idle, the level it details had no rows for it, or its rows are all in the other report
family (`assets/families.py`). Its stored rows of that level may then be pruned although the
level was not asked about it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Coverage:
    """The accounts and agents whose stored rows of the partition this write replaces entirely.

    Args:
        accounts: accounts the media answered for, completely (or proved had nothing to answer).
        agents: agents whose complete listing was answered: a stored row under one of them that
            the listing no longer has may go (an account that left the agent).
        excluded: accounts never covered, whatever else says so (an account whose details batch
            failed, under an agent whose listing succeeded).
        whole: the source answered for the whole partition (the agent lists read from `eton`).
    """

    accounts: frozenset[str] = field(default_factory=frozenset)
    agents: frozenset[str] = field(default_factory=frozenset)
    excluded: frozenset[str] = field(default_factory=frozenset)
    whole: bool = False

    @classmethod
    def everything(cls) -> Coverage:
        return cls(whole=True)

    @classmethod
    def answered(cls, accounts: Iterable[str], failed: Iterable[str] = ()) -> Coverage:
        """The accounts fetched, less those with any failed source."""
        failed = frozenset(failed)
        return cls(accounts=frozenset(accounts) - failed, excluded=failed)

    def covers(self, account_id: str, agent_id: str) -> bool:
        """May a stored row of `account_id` under `agent_id` that this write lacks be deleted?"""
        if account_id in self.excluded:
            return False
        return self.whole or account_id in self.accounts or agent_id in self.agents

    def __or__(self, other: Coverage) -> Coverage:
        """Both coverages (e.g. the fetched accounts and those an activity signal proved idle)."""
        return Coverage(
            accounts=self.accounts | other.accounts,
            agents=self.agents | other.agents,
            excluded=self.excluded | other.excluded,
            whole=self.whole or other.whole,
        )

    def metadata(self) -> dict[str, object]:
        """What the materialization shows: how much of the partition the answers covered."""
        if self.whole:
            return {"covered": "the whole partition"}
        shown: dict[str, object] = {"covered_accounts": len(self.accounts)}
        if self.agents:
            shown["covered_agents"] = len(self.agents)
        return shown
