"""Asynchronous report tasks: waiting, running, done (or failed), expired; one per id per cooldown.

Tencent's asynchronous reports (v3.0 `async_reports/add` -> `async_reports/get` ->
`async_report_files/get`; developers.e.qq.com/docs/insights/ad_insights/async_reports) take a task
for an account id (an agency's id covers all its sub-customers), prepare its file while the client
polls, and allow one new task per account id every 5 minutes. The book here keeps the tasks of a
running simulator: a task's state is a function of its age (`[media.<m>.async_reports]`:
`pending_s`, then `processing_s`, then COMPLETED until `expire_s` later, when its file is gone), a
`fail_rate` share of tasks ends TASK_STATUS_FAIL (drawn per task id from `fault_seed`), and
`cooldown_s` spaces the tasks of one account id. The media module builds a completed task's
files (their rows, format and md5) once and keeps them here until the task expires.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ark_sim.config import AsyncReportLimits
from ark_sim.profiles import unit

PENDING, PROCESSING = "TASK_STATUS_PENDING", "TASK_STATUS_PROCESSING"
COMPLETED, FAILED, EXPIRED = "TASK_STATUS_COMPLETED", "TASK_STATUS_FAIL", "TASK_STATUS_EXPIRED"
FIRST_TASK_ID = 30_000_001  # task ids count up from here (the simulator's choice)


class Cooldown(Exception):
    """A task asked for an account id before its cooldown ended: `wait_s` until it does."""

    def __init__(self, message: str, wait_s: float) -> None:
        super().__init__(message)
        self.wait_s = wait_s


@dataclass(frozen=True)
class TaskFile:
    """One file of a completed task: its id, bytes and their md5 (hex)."""

    file_id: int
    body: bytes
    md5: str


@dataclass
class Task:
    """One task: whose token created it, for which account id, what it asked, and when."""

    task_id: int
    media: str
    tenant: str
    agent_id: int
    account_id: int
    name: str
    spec: Mapping[str, Any]
    created: float
    fails: bool
    files: list[TaskFile] | None = field(default=None, repr=False)


class TaskBook:
    """Every task of a running simulator (thread-safe: the server and tests share it)."""

    def __init__(
        self,
        limits: Callable[[str], AsyncReportLimits],
        fault_seed: int,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._configured = limits
        self._changes: dict[str, dict[str, Any]] = {}  # media -> knobs changed at run time
        self._seed = fault_seed
        self._clock = clock
        self._ids = itertools.count(FIRST_TASK_ID)
        self._tasks: dict[tuple[str, str, int], Task] = {}
        self._last: dict[tuple[str, str, int], float] = {}  # (media, tenant, account id) -> created
        self._lock = threading.RLock()  # keep_files builds under it, and the builder reads the limits

    def limits(self, media: str) -> AsyncReportLimits:
        """The media's task knobs: its `[media.<m>.async_reports]` with the run-time changes."""
        with self._lock:
            changes = dict(self._changes.get(media, {}))
        return self._configured(media).model_copy(update=changes)

    def set_limits(self, media: str, **changes: Any) -> AsyncReportLimits:
        """Change knobs at run time (a test's fault, a benchmark's delays); checked as the config is."""
        AsyncReportLimits.model_validate(self._configured(media).model_dump() | changes)
        with self._lock:
            self._changes.setdefault(media, {}).update(changes)
        return self.limits(media)

    def create(
        self, media: str, tenant: str, *, agent_id: int, account_id: int, name: str, spec: Mapping[str, Any]
    ) -> Task:
        """A new task, or Cooldown when `account_id` created one less than `cooldown_s` ago."""
        limits = self.limits(media)
        now = self._clock()
        with self._lock:
            last = self._last.get((media, tenant, account_id))
            if last is not None and now - last < limits.cooldown_s:
                wait = limits.cooldown_s - (now - last)
                raise Cooldown(
                    f"account_id {account_id} created a task {now - last:.0f} s ago: one task per "
                    f"account_id every {limits.cooldown_s:g} s (again in {wait:.0f} s)",
                    wait,
                )
            task_id = next(self._ids)
            fails = unit(self._seed, media, task_id, "task-fails") < limits.fail_rate
            task = Task(task_id, media, tenant, agent_id, account_id, name, dict(spec), now, fails)
            self._tasks[(media, tenant, task_id)] = task
            self._last[(media, tenant, account_id)] = now
        return task

    def status(self, task: Task) -> str:
        """The task's state now, from its age."""
        limits = self.limits(task.media)
        age = self._clock() - task.created
        if age < limits.pending_s:
            return PENDING
        if age < limits.pending_s + limits.processing_s:
            return PROCESSING
        if task.fails:
            return FAILED
        if age >= limits.pending_s + limits.processing_s + limits.expire_s:
            return EXPIRED
        return COMPLETED

    def task(self, media: str, tenant: str, task_id: int) -> Task | None:
        with self._lock:
            return self._tasks.get((media, tenant, task_id))

    def by_id(self, media: str, task_id: int) -> Task | None:
        """The task with this id, whichever tenant created it (a download address names no tenant)."""
        with self._lock:
            return next((t for t in self._tasks.values() if t.media == media and t.task_id == task_id), None)

    def of_account(self, media: str, tenant: str, account_id: int) -> list[Task]:
        """The tasks created for `account_id`, newest first."""
        with self._lock:
            found = [t for t in self._tasks.values() if t.media == media and t.tenant == tenant]
        return sorted((t for t in found if t.account_id == account_id), key=lambda t: -t.task_id)

    def keep_files(self, task: Task, build: Callable[[Task], list[TaskFile]]) -> list[TaskFile]:
        """The task's files, built on first use (`build`) and kept until the task expires."""
        with self._lock:
            if task.files is None:
                task.files = build(task)
            return task.files

    def clear(self) -> None:
        """Forget every task and cooldown (the run-time knob changes stay, as quota changes do)."""
        with self._lock:
            self._tasks.clear()
            self._last.clear()
