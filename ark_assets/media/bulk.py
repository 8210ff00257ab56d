"""The media's cheaper ways to ask for the same data, as declarations: asynchronous report tasks
at agency level, batches of account ids, and the activity signal that says which accounts have
anything to report.

Each media module declares what its API offers (`AsyncReport` on a report endpoint of the version
that has one, `AccountDataset.batch`, `Activity`); the asset layer (`assets/bulk.py`,
`assets/activity.py`) runs them, and falls back to per-account calls for whatever a bulk answer
does not cover, so nothing is lost.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

# what a listed task's state means to the runner
PENDING, DONE, FAILED = "pending", "done", "failed"


@dataclass(frozen=True, kw_only=True)
class AsyncReport:
    """A report endpoint's asynchronous path: one task per agency, whose file holds the rows every
    sub-customer's per-account call would answer (the same fields, the same order).

    Args:
        add / get / files: the endpoints that create a task, list tasks, and answer a task's file
            (declared in the same `ApiSpec`; `add` a POST, `files` a download).
        task: the per-account call's parameters (with its derived ones) -> the task's body, less
            the account id and the task name.
        task_id: `add`'s data -> the new task's id.
        listing: task ids -> `get`'s parameters listing just those tasks.
        state: a listed task -> PENDING, DONE or FAILED (expired, cancelled, ...: FAILED).
        files: a DONE task -> its files as (file id, md5 hex).
        file_params: (task id, file id) -> `files`' parameters.
        types: file column -> the type of its values (int, float, str); other columns stay text,
            an empty cell is a field the row does not have.
        account_field: the file column naming a row's account.
        id_param / name_param: `add`'s parameters naming the account id (an agency's) and the task.
        cooldown_s: the media allow one task per account id this often.
    """

    add: str
    get: str
    files: str
    task: Callable[[Mapping[str, Any]], dict[str, Any]]
    task_id: Callable[[Any], str]
    listing: Callable[[list[str]], dict[str, Any]]
    state: Callable[[Mapping[str, Any]], str]
    files_of: Callable[[Mapping[str, Any]], list[tuple[str, str]]]
    file_params: Callable[[str, str], dict[str, Any]]
    types: Mapping[str, type]
    account_field: str = "account_id"
    id_param: str = "account_id"
    name_param: str = "task_name"
    cooldown_s: float = 300.0


@dataclass(frozen=True, kw_only=True)
class Activity:
    """The media's cheapest account-level signal of which accounts had anything that day.

    An account is active when any of `fields` is above zero (impressions or clicks at no cost
    count); inactive when the signal lists it with none; unknown when the signal does not cover
    it (it is then fetched like an active one).

    Args:
        dataset: the account-level report dataset whose rows are the signal (Tencent: its file or
            its per-account answers), or "" when an agent-level report is.
        endpoint: the agent-level report (one call per agent lists every account with its totals).
        id_field: the agent report's field naming the account.
        params: the day -> the agent report's parameters.
        fields: the fields whose value above zero makes an account active.
    """

    fields: tuple[str, ...]
    dataset: str = ""
    endpoint: str = ""
    id_field: str = ""
    params: Callable[[Any], Mapping[str, Any]] | None = None

    def __post_init__(self) -> None:
        if bool(self.dataset) == bool(self.endpoint):
            raise ValueError("an activity signal is either a dataset's rows or an agent report's, not both")


def active(record: Mapping[str, Any], fields: tuple[str, ...]) -> bool:
    """Any of `fields` above zero in `record` (a missing or non-numeric value counts as zero)."""
    for name in fields:
        value = record.get(name)
        if isinstance(value, int | float) and not isinstance(value, bool) and value > 0:
            return True
    return False


@dataclass(frozen=True, kw_only=True)
class ReportFamilies:
    """Report levels in families an account reports in one of: Ocean Engine's legacy accounts
    (campaign -> ad, the v2 reports) and upgraded ones (project -> promotion, the custom report).

    Each active account is asked first the family it reported in last time (`memory`, one Redis set
    per family's top level: the accounts whose last answer there had rows); the other family only
    when the first one's rows do not add up to the account-level totals (show, click, cost), so a
    moved or mixed account still gets every row. An account no memory knows is asked in `tops`
    order.

    Args:
        account_level: the dataset whose rows hold each account's totals (every family's spend).
        tops: each family's top dataset (its deeper levels detail it: `AccountDataset.detail_of`).
        totals: dataset -> its records' fields (dotted paths) of show, click and cost, in that order.
        memory: the Redis set of a top's accounts, with `{tenant}` and `{family}` (the top's name).
    """

    account_level: str
    tops: tuple[str, ...]
    totals: Mapping[str, tuple[str, ...]]
    memory: str


def totals(records: list[Mapping[str, Any]], paths: tuple[str, ...]) -> tuple[float, ...]:
    """The sums of `paths` (dotted: `metrics.show_cnt`) over `records` (a missing value is 0)."""
    sums = [0.0] * len(paths)
    for record in records:
        for i, path in enumerate(paths):
            value: Any = record
            for part in path.split("."):
                value = value.get(part) if isinstance(value, Mapping) else None
            if isinstance(value, int | float) and not isinstance(value, bool):
                sums[i] += value
    return tuple(sums)


def covers(account: tuple[float, ...], family: tuple[float, ...], rows: int) -> bool:
    """A family's sums add up to the account's totals (money within a cent per row)."""
    slack = 0.01 * max(rows, 1) + 1e-6
    return all(abs(a - f) <= slack for a, f in zip(account, family, strict=True))
