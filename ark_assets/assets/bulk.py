"""The step's asynchronous report tasks: every chosen report that has an agency-level path, asked
once per agency, shared by the parts that read them.

The first report part of a media's step that can use the bulk path starts every agency's tasks at
once (`fetch/tasks.py`): per agency in the order the parts need them (the account level, which is
also the activity signal, first), one per the media's cooldown; agencies in parallel. Each part
then waits for its own report's files, reads them (`fetch/report_file.py`, parsed once however
many parts read them) and fetches per account only what the files do not cover. The calls a task
took are counted by the part that reads it.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from ark_assets.assets.fetching import FetchRun
from ark_assets.assets.sources import day_accounts
from ark_assets.fetch.report_file import BadFile, GroupedFile
from ark_assets.fetch.tasks import AgencyTasks, TaskBook, TaskEnd, TaskRequest, TaskSlots
from ark_assets.media.api import ApiSpec
from ark_assets.media.bulk import AsyncReport
from ark_assets.media.declare import AccountDataset, MediaDefinition
from ark_assets.resources.media_api import MediaApiResource

_UNREADABLE = "unreadable"


def variants(dataset: AccountDataset, day: date) -> list[dict[str, Any]]:
    """The calls a dataset makes per account: its day's parameters, once per time line."""
    params = dict(dataset.params(day))
    return [params | {"time_line": t} for t in dataset.time_lines] or [params]


def request_key(dataset: AccountDataset, params: Mapping[str, Any]) -> str:
    return f"{dataset.name}|{params.get('time_line', '')}"


@dataclass(frozen=True)
class Planned:
    """One report a step asks of every agency: its dataset, its parameters, and its path."""

    dataset: AccountDataset
    params: Mapping[str, Any]
    bulk: AsyncReport

    @property
    def key(self) -> str:
        return request_key(self.dataset, self.params)


def bulk_plans(
    media: MediaDefinition, api: MediaApiResource, day: date, names: Iterable[str] | None = None
) -> list[Planned]:
    """The reports of `media` (those `names`, else all) that have an agency-level path in the spoken
    version when the deployment uses bulk paths, once per time line; the activity signal's first."""
    if not api.bulk_reports:
        return []
    spec, signal = api.api_spec(media), media.assets.activity
    datasets = [d for d in media.assets_for(spec.version).datasets if names is None or d.name in names]
    datasets.sort(key=lambda d: signal is None or d.name != signal.dataset)
    return [
        Planned(dataset=d, params=params, bulk=bulk)
        for d in datasets
        if (bulk := spec.endpoint(d.endpoint).bulk) is not None
        for params in variants(d, day)
    ]


def task_requests(spec: ApiSpec, plans: list[Planned], prefix: str) -> list[TaskRequest]:
    """The tasks of `plans` an agency is asked for, named `prefix` and the report's key."""
    return [
        TaskRequest(
            key=plan.key,
            body=plan.bulk.task(_with_derived(spec.endpoint(plan.dataset.endpoint), plan.params)),
            name=f"{prefix}-{plan.key.replace('|', '-').strip('-')}"[:120],
        )
        for plan in plans
    ]


def by_agency(
    redis: Any, media: MediaDefinition, tenant: str, day: date, plans: list[Planned]
) -> dict[str, list[Planned]]:
    """Agency -> the plans of its accounts (the day's account lists each plan's dataset reads)."""
    found: dict[str, list[Planned]] = {}
    for plan in plans:
        accounts = day_accounts(redis, media, tenant, day, media.listings(plan.dataset.upstream))
        for agency in sorted(set(accounts.values())):
            found.setdefault(agency, []).append(plan)
    return found


def agency_tasks(
    media: MediaDefinition, api: MediaApiResource, run: FetchRun, engine: Any, tenant: str, day: date
) -> Callable[[str, AsyncReport], AgencyTasks]:
    """agency, its path -> its tasks on `engine` at the deployment's pace, noted in the day's book."""
    slots = TaskSlots(engine.client, media=media.name, app_id=engine.app.app_id)
    book = TaskBook(
        engine.client, media=media.name, app_id=engine.app.app_id, tenant=tenant, day=f"{day:%Y%m%d}"
    )

    def tasks(agency: str, bulk: AsyncReport) -> AgencyTasks:
        return AgencyTasks(
            bulk=bulk,
            agency=agency,
            call=run.call,
            slots=slots,
            cooldown_s=bulk.cooldown_s if api.task_cooldown_s is None else api.task_cooldown_s,
            poll_s=api.task_poll_s,
            wait_s=api.task_wait_s,
            book=book,
        )

    return tasks


class BulkBook:
    """The async tasks of one media step (thread-safe; the parts read it from their threads)."""

    def __init__(
        self, *, media: MediaDefinition, api: MediaApiResource, tenant: str, day: date, run_id: str
    ) -> None:
        self._media, self._api, self._tenant, self._day, self._run = media, api, tenant, day, run_id
        self._ends: dict[tuple[str, str], concurrent.futures.Future[TaskEnd]] = {}
        self._agencies: dict[str, set[str]] = {}  # request key -> its agencies
        self._planned: dict[str, Planned] = {}
        self._grouped: dict[tuple[str, str], GroupedFile | str] = {}
        self._started = False
        self._lock = threading.Lock()
        self._parse_locks: dict[tuple[str, str], threading.Lock] = {}

    def bulk(self, dataset: AccountDataset) -> AsyncReport | None:
        """The dataset's asynchronous path in the spoken version, when the deployment uses bulk paths."""
        if not self._api.bulk_reports:
            return None
        return self._api.api_spec(self._media).endpoint(dataset.endpoint).bulk

    def start(self, run: FetchRun, planned: list[Planned], redis: Any) -> None:
        """Start every agency's tasks of `planned` (once per step; later calls do nothing)."""
        with self._lock:
            if self._started:
                return
            self._started = True
            agencies = by_agency(redis, self._media, self._tenant, self._day, planned)
            for plan in planned:
                self._planned[plan.key] = plan
                self._agencies[plan.key] = set()
            for agency, plans in agencies.items():
                for plan in plans:
                    self._agencies[plan.key].add(agency)
                    self._ends[(plan.key, agency)] = concurrent.futures.Future()
        run.session.submit(self._run_all(run, agencies))

    async def _run_all(self, run: FetchRun, by_agency: dict[str, list[Planned]]) -> None:
        try:
            await self._run_agencies(run, by_agency)
        finally:  # whatever stopped it (a bug, a cancelled step): every reader falls back
            self._stopped(list(self._ends), "the agency's tasks stopped")

    async def _run_agencies(self, run: FetchRun, agencies: dict[str, list[Planned]]) -> None:
        engine = await run.engine()
        tasks = agency_tasks(self._media, self._api, run, engine, self._tenant, self._day)
        spec = self._api.api_spec(self._media)
        await asyncio.gather(
            *(
                self._agency(tasks(agency, plans[0].bulk), task_requests(spec, plans, f"ark-{self._run[:8]}"))
                for agency, plans in agencies.items()
            )
        )

    async def _agency(self, tasks: AgencyTasks, requests: list[TaskRequest]) -> None:
        def done(end: TaskEnd) -> None:
            self._ends[(end.key, end.agency)].set_result(end)

        try:
            await tasks.run(requests, done, run_id=self._run)
        except Exception as error:  # a bug in one agency's tasks: its readers fall back, the others go on
            self._stopped([(r.key, tasks.agency) for r in requests], f"the agency's tasks stopped: {error!r}")

    def _stopped(self, ends: list[tuple[str, str]], why: str) -> None:
        """The (request key, agency) ends not reached yet end without a file, for `why`."""
        for key, agency in ends:
            future = self._ends[(key, agency)]
            if not future.done():
                future.set_result(TaskEnd(key=key, agency=agency, reason=why))

    def ends(self, key: str) -> dict[str, TaskEnd]:
        """Every agency's end of the request `key` (waits for them)."""
        return {agency: self._ends[(key, agency)].result() for agency in sorted(self._agencies.get(key, ()))}

    def grouped(self, key: str, agency: str) -> GroupedFile | None:
        """The agency's file of request `key`, read once (None: no file, or an unreadable one)."""
        end = self._ends[(key, agency)].result()
        if not end.ok:
            return None
        with self._lock:
            lock = self._parse_locks.setdefault((key, agency), threading.Lock())
        with lock:
            if (key, agency) not in self._grouped:
                try:
                    bulk = self._planned[key].bulk
                    paths = [f["path"] for f in end.files]
                    self._grouped[(key, agency)] = GroupedFile(
                        paths, types=bulk.types, account_field=bulk.account_field
                    )
                except BadFile as error:
                    end.reason = f"its file is unreadable: {error}"
                    self._grouped[(key, agency)] = _UNREADABLE
                finally:
                    end.discard()
        found = self._grouped[(key, agency)]
        return None if isinstance(found, str) else found

    def keys_of(self, agency: str) -> list[str]:
        return [key for (key, a) in self._ends if a == agency]

    def __enter__(self) -> BulkBook:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Remove the step's downloaded and grouped files."""
        for found in self._grouped.values():
            if isinstance(found, GroupedFile):
                found.discard()
        for future in self._ends.values():
            if future.done():
                future.result().discard()


def _with_derived(spec: Any, params: Mapping[str, Any]) -> dict[str, Any]:
    """A call's parameters with those its endpoint derives (a level in the version's spelling, the
    level's fields and group_by): what the task asks of every sub-customer."""
    return {**params, **(spec.call_params(params) if spec.call_params else {})}
