"""An agency's asynchronous report tasks: created one per cooldown, polled, their files downloaded.

A media with an asynchronous path (`media/bulk.py AsyncReport`) prepares a report of every
sub-customer of an agency as a file; it allows one new task per account id every `cooldown_s`.
`AgencyTasks.run` creates an agency's tasks in the order asked, each as soon as the agency's cooldown
(shared through Redis by every run using the app, `TaskSlots`) allows, polls them together (a task
first `poll_s` after it is made, then twice as late each time: few calls whether the media take
seconds or minutes), and downloads a finished task's files (checking each one's md5), handing each task's end
to `done` as it comes: its files, or why it has none. Nothing here is retried blindly: a task
that fails, expires, or is not done within `wait_s` ends without files, and the caller fetches its
accounts one by one instead.

An agency's tasks follow one another by the cooldown (six a day take 25 minutes at Tencent's five):
a step that made them itself would hold its process that long. `AgencyTasks.ahead` makes the next
one as soon as the cooldown allows, from outside any step (the `async_tasks_ahead` sensor), and
notes it in the `TaskBook`; a step takes a noted task that is still alive instead of making one.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import redis.asyncio as aioredis

from ark_assets.fetch.outcome import Source
from ark_assets.fetch.summary import FetchSummary
from ark_assets.media.bulk import DONE, FAILED, PENDING, AsyncReport

ADD_ATTEMPTS = 3  # an add refused (a cooldown another client took, a lost answer) is tried this often
POLL_MAX_S = 60.0  # a task is asked about `poll_s` after it is made, then twice as late each time, up to this
BOOK_TTL_S = 3 * 86400  # a day's noted tasks outlive the media's keeping of them
STEP = "(step)"  # the book's field naming the step that took an agency's tasks over


@dataclass(frozen=True)
class TaskRequest:
    """One report asked of an agency: `key` names it, `body` is the task's (less the agency's id
    and the task's name)."""

    key: str
    body: Mapping[str, Any]
    name: str  # the task's name (unique per run, so a lost answer's task can be found again)


@dataclass
class TaskEnd:
    """How one task ended: its downloaded files (`{path, md5, bytes}`), or `reason` it has none."""

    key: str
    agency: str
    files: list[dict[str, Any]] = field(default_factory=list)
    reason: str = ""
    summary: FetchSummary = field(default_factory=FetchSummary)

    @property
    def ok(self) -> bool:
        return not self.reason

    def discard(self) -> None:
        for file in self.files:
            try:
                os.unlink(file["path"])
            except FileNotFoundError:
                pass


@dataclass
class _Pending:
    """A task made and not ended: when it was made, and when it is next asked about."""

    request: TaskRequest
    end: TaskEnd
    created: float
    next_check: float
    delay: float


class TaskSlots:
    """One task per account id per cooldown, shared through Redis by every run using the app."""

    def __init__(self, client: aioredis.Redis, *, media: str, app_id: str) -> None:
        self._client = client
        self._prefix = f"ark:async_task:{media}:{app_id}:"

    async def take(self, account_id: str, cooldown_s: float) -> None:
        """Wait until the account id may create a task, and take the slot."""
        key, window = self._prefix + account_id, max(1, int(cooldown_s * 1000))
        while not await self._client.set(key, str(time.time()), nx=True, px=window):
            left = await self._client.pttl(key)
            await asyncio.sleep(max(left, 50) / 1000)

    async def try_take(self, account_id: str, cooldown_s: float) -> bool:
        """Take the slot if the account id may create a task now."""
        window = max(1, int(cooldown_s * 1000))
        return bool(await self._client.set(self._prefix + account_id, str(time.time()), nx=True, px=window))

    async def restart(self, account_id: str, cooldown_s: float) -> None:
        """The account id's cooldown starts again now (its task was just answered)."""
        await self._client.set(self._prefix + account_id, str(time.time()), px=max(1, int(cooldown_s * 1000)))

    async def release(self, account_id: str) -> None:
        """Give back a slot taken and not used (another made the task meanwhile)."""
        await self._client.delete(self._prefix + account_id)


class TaskBook:
    """The tasks made for one (media, app, tenant, day), by steps or ahead of them: request key ->
    task id per agency, in one Redis hash (fields `agency|key`)."""

    def __init__(self, client: aioredis.Redis, *, media: str, app_id: str, tenant: str, day: str) -> None:
        self._client = client
        self._key = f"ark:async_tasks:{media}:{app_id}:{tenant}:{day}"

    async def made(self, agency: str) -> dict[str, str]:
        """The agency's noted tasks: request key -> task id."""
        found = await self._client.hgetall(self._key)
        prefix = f"{agency}|"
        return {
            _text(k)[len(prefix) :]: _text(v)
            for k, v in found.items()
            if _text(k).startswith(prefix) and _text(k) != prefix + STEP
        }

    async def note(self, agency: str, key: str, task_id: str) -> None:
        await self._client.hset(self._key, f"{agency}|{key}", task_id)
        await self._client.expire(self._key, BOOK_TTL_S)

    async def forget(self, agency: str, key: str) -> None:
        await self._client.hdel(self._key, f"{agency}|{key}")

    async def take_over(self, agency: str, run_id: str) -> bool:
        """A step takes the agency's tasks over: True for the day's first (it uses what was made
        ahead), False for a later one (a re-run makes fresh tasks); nothing is made ahead after."""
        first = await self._client.hsetnx(self._key, f"{agency}|{STEP}", run_id)
        await self._client.expire(self._key, BOOK_TTL_S)
        return bool(first)

    async def taken(self, agency: str) -> bool:
        return bool(await self._client.hexists(self._key, f"{agency}|{STEP}"))


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


@dataclass(kw_only=True)
class AgencyTasks:
    """One agency's tasks on one engine (`call(endpoint, source, summary)` makes one call)."""

    bulk: AsyncReport
    agency: str
    call: Callable[[str, Source, FetchSummary], Any]  # async -> Outcome
    slots: TaskSlots
    cooldown_s: float
    poll_s: float
    wait_s: float
    book: TaskBook | None = None

    async def ahead(self, requests: list[TaskRequest], summary: FetchSummary) -> str | None:
        """Make the first of `requests` not noted yet if the agency's cooldown allows it now, once
        (a refusal waits for the next try); its key, or None (nothing made)."""
        if self.book is None or await self.book.taken(self.agency):
            return None
        made = await self.book.made(self.agency)
        request = next((r for r in requests if r.key not in made), None)
        if request is None or not await self.slots.try_take(self.agency, self.cooldown_s):
            return None
        task_id, _ = await self._make(request, summary)
        return None if task_id is None else request.key

    async def run(
        self, requests: list[TaskRequest], done: Callable[[TaskEnd], None], run_id: str = ""
    ) -> None:
        """Create the tasks in order (the day's first step takes those made ahead), poll them,
        download their files; `done` hears each end."""
        if self.book is not None and not await self.book.take_over(self.agency, run_id):
            self.book = None  # a re-run: fresh tasks, none of the earlier ones
        pending: dict[str, _Pending] = {}
        created = asyncio.Event()
        finished = False

        async def create() -> None:
            nonlocal finished
            ends = {r.key: TaskEnd(key=r.key, agency=self.agency) for r in requests}
            alive = await self._alive(ends)
            for request in requests:
                end = ends[request.key]
                task_id = alive.get(request.key) or await self._add(request, end)
                if task_id is None:
                    done(end)
                else:
                    now = time.monotonic()
                    first = now if request.key in alive else now + self.poll_s
                    pending[task_id] = _Pending(request, end, now, first, self.poll_s)
                created.set()
            finished = True
            created.set()

        async def poll() -> None:
            while not finished or pending:
                due = min((p.next_check for p in pending.values()), default=None)
                wait = None if due is None else due - time.monotonic()
                if wait is None or wait > 0:  # nothing due yet: sleep until then, or a new task
                    created.clear()
                    try:
                        await asyncio.wait_for(created.wait(), timeout=wait)
                    except TimeoutError:
                        pass
                    continue
                await self._poll(pending, done)

        await asyncio.gather(create(), poll())

    async def _alive(self, ends: dict[str, TaskEnd]) -> dict[str, str]:
        """The agency's tasks noted in the book (made ahead) that the media still list and have
        not failed: request key -> task id (one listing; a dead one is forgotten and made again)."""
        made = (
            {k: t for k, t in (await self.book.made(self.agency)).items() if k in ends} if self.book else {}
        )
        if not made:
            return {}
        source = Source(self.agency, self.agency, self.bulk.listing(list(made.values())))
        listed = await self.call(self.bulk.get, source, next(iter(ends.values())).summary)
        states = {str(r.get("task_id")): self.bulk.state(r) for r in listed.records or []}
        alive = {k: t for k, t in made.items() if states.get(t) in (PENDING, DONE)}
        for key in set(made) - set(alive):
            await self.book.forget(self.agency, key)
        return alive

    def _add_source(self, request: TaskRequest) -> Source:
        body = {**request.body, self.bulk.id_param: int(self.agency), self.bulk.name_param: request.name}
        return Source(self.agency, None, body)

    async def _add(self, request: TaskRequest, end: TaskEnd) -> str | None:
        """The new task's id (or one made ahead meanwhile), or None (its reason in `end`) after
        ADD_ATTEMPTS refusals."""
        for _ in range(ADD_ATTEMPTS):
            await self.slots.take(self.agency, self.cooldown_s)
            noted = (await self.book.made(self.agency)).get(request.key) if self.book else None
            if noted is not None:  # made ahead while this waited for the slot: use it, free the slot
                await self.slots.release(self.agency)
                return noted
            found, outcome = await self._make(request, end.summary)
            if found is not None:
                return found
            why = outcome.failure.message if outcome.failure else "no task id"
            end.reason = f"{self.bulk.add} failed: {why}"
        return None

    async def _make(self, request: TaskRequest, summary: FetchSummary) -> tuple[str | None, Any]:
        """Ask the media for the task (its cooldown slot taken): its id, found by its name when the
        answer is lost, noted in the book; and the add's outcome."""
        outcome = await self.call(self.bulk.add, self._add_source(request), summary)
        # the media's cooldown runs from when the task reached it: count ours from its answer
        await self.slots.restart(self.agency, self.cooldown_s)
        found = self.bulk.task_id(outcome.records[0]) if outcome.ok and outcome.records else None
        if found is None:  # the answer lost, the task made?
            found = await self._find(request.name, summary)
        if found is not None and self.book is not None:
            await self.book.note(self.agency, request.key, found)
        return found, outcome

    async def _find(self, name: str, summary: FetchSummary) -> str | None:
        params = {"filtering": [{"field": "task_name", "operator": "EQUALS", "values": [name]}]}
        outcome = await self.call(self.bulk.get, Source(self.agency, self.agency, params), summary)
        for record in outcome.records or []:
            if record.get("task_name") == name:
                return str(record.get("task_id"))
        return None

    async def _poll(self, pending: dict[str, _Pending], done: Callable[[TaskEnd], None]) -> None:
        """One listing of every pending task; a due one still pending is asked again twice as late
        (up to POLL_MAX_S), one past `wait_s` ends without a file."""
        ids = list(pending)
        source = Source(self.agency, self.agency, self.bulk.listing(ids))
        listed = await self.call(self.bulk.get, source, pending[ids[0]].end.summary)
        states = {str(r.get("task_id")): r for r in listed.records or []}
        now = time.monotonic()
        for task_id in ids:
            task = pending[task_id]
            record = states.get(task_id)
            state = self.bulk.state(record) if record is not None else PENDING
            if state == PENDING and now - task.created < self.wait_s:
                if task.next_check <= now:
                    task.delay = min(2 * task.delay, max(POLL_MAX_S, self.poll_s))
                    task.next_check = now + task.delay
                continue
            del pending[task_id]
            if state == DONE:
                await self._download(task_id, record, task.end)
            else:
                why = "not done in time" if state == PENDING else (record or {}).get("status", FAILED)
                task.end.reason = f"task {task_id} ({task.request.key}) ended without a file: {why}"
            done(task.end)

    async def _download(self, task_id: str, record: Mapping[str, Any], end: TaskEnd) -> None:
        for file_id, md5 in self.bulk.files_of(record):
            params = self.bulk.file_params(task_id, file_id)
            outcome = await self.call(self.bulk.files, Source(self.agency, self.agency, params), end.summary)
            got = (outcome.records or [{}])[0] if outcome.ok else {}
            if not got or got.get("md5") != md5:
                if got:
                    os.unlink(got["path"])
                end.discard()
                end.files = []
                why = outcome.failure.message if outcome.failure else f"md5 {got.get('md5')} is not {md5}"
                end.reason = f"task {task_id}'s file {file_id} could not be downloaded whole: {why}"
                return
            end.files.append(got)
