"""Async report tasks made ahead of the steps that read them.

An agency allows one task per cooldown (Tencent: five minutes), and a step asks six reports of
each agency: made by the step itself, they would hold its process and its pool slot 25 minutes.
So while a run waits in the queue (or for its step's slot) its agencies' tasks are made from
outside any step -- one per agency as soon as the cooldown allows, each noted in the day's
`TaskBook` (`fetch/tasks.py`) -- and the step, when it comes, takes the ones still alive and makes
only the rest. `make_ahead` is one such pass (the `async_tasks_ahead` sensor runs it every tick
for the partitions of the runs in progress or queued); an agency a step has taken over gets
nothing more.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from datetime import date

from ark_assets.assets.bulk import agency_tasks, bulk_plans, by_agency, task_requests
from ark_assets.assets.fetching import FetchRun, FetchSession
from ark_assets.clients.redis_sets import RedisSets
from ark_assets.fetch.report import LogObserver
from ark_assets.fetch.summary import FetchSummary
from ark_assets.media.declare import MediaDefinition
from ark_assets.resources.media_api import MediaApiResource

logger = logging.getLogger(__name__)

Wanted = tuple[MediaDefinition, str, date]  # (media, tenant, day) whose reports a run will fetch


def make_ahead(wanted: Iterable[Wanted], api: MediaApiResource, redis: RedisSets) -> int:
    """One pass: for every (media, tenant, day), each agency's next task if its cooldown allows
    (agencies in parallel); how many tasks were made."""
    jobs = [w for w in wanted if bulk_plans(w[0], api, w[2])]
    if not jobs:
        return 0
    with FetchSession() as session:
        made = session.run(_all(session, jobs, api, redis))
    return sum(made)


async def _all(
    session: FetchSession, jobs: list[Wanted], api: MediaApiResource, redis: RedisSets
) -> list[int]:
    return await asyncio.gather(
        *(_one(session, media, tenant, day, api, redis) for media, tenant, day in jobs)
    )


async def _one(
    session: FetchSession,
    media: MediaDefinition,
    tenant: str,
    day: date,
    api: MediaApiResource,
    redis: RedisSets,
) -> int:
    """One (media, tenant, day): its agencies' next tasks; a failure is logged, never raised."""
    try:
        run = FetchRun(
            media=media, tenant=tenant, api=api, redis=redis, observer=LogObserver(), session=session
        )
        engine = await run.engine()
        tasks = agency_tasks(media, api, run, engine, tenant, day)
        plans = bulk_plans(media, api, day)
        spec, prefix = api.api_spec(media), f"ark-ahead-{day:%Y%m%d}"
        agencies = by_agency(redis, media, tenant, day, plans)
        made = await asyncio.gather(
            *(
                tasks(agency, mine[0].bulk).ahead(task_requests(spec, mine, prefix), FetchSummary())
                for agency, mine in agencies.items()
            )
        )
        return sum(1 for key in made if key is not None)
    except Exception:  # one tenant's trouble (a token, the media) leaves the others be
        logger.exception("tasks ahead of %s %s %s failed", media.name, tenant, day)
        return 0
