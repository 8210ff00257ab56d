"""INCR, the seed's intraday refresh: today's funds and hourly reports so far, every `incr_min` minutes.

Which datasets: those a media declares `intraday=True` (today's balance and spend, hourly
reports; an hourly one names its `hour_field`). Each gets a twin asset `{media}/intraday_{name}`
in the `intraday` group, run by one step per media (`{media}_intraday`, `media_step(...,
intraday=True)`), partitioned by (day, tenant) like the daily assets but with today included.

Why a group of its own, not today's partition of the daily assets: the daily assets' partitions
mean finished days (their sensors, automation, freshness checks and backfills reason about the
latest partition being yesterday, and a today partition would show every asset as missing all
day); the intraday assets say what they are in the UI, their materializations of today's
partition are the refreshes (metadata: hours covered, rows), and they write the same tables
under today's date, so readers of a table see today's rows as they arrive.

The rules:
- only today's (GMT+8) partition is refreshed; any other day is refused before any call, so a
  finished day is never touched; the next morning's daily run (SAVE) stores the whole day and
  replaces what the refreshes stored (its partition replace drops rows it did not write again);
- the accounts are the previous day's Redis account lists (Redis holds finished days' lists);
  hourly records of the hour still running are left out (up to the last complete hour);
- a refresh yields to the daily work: while any other run of the media's assets is queued or in
  flight, the refresh stores nothing and says so (the next one comes `incr_min` minutes later),
  so it never competes with a daily run for the media's quota; its runs also carry a lower
  priority (`dagster/priority` -1), so the run queue and the media's pool (the same pool as the
  daily steps) serve the daily runs first.
"""

from __future__ import annotations

from datetime import date, datetime

from dagster import AssetExecutionContext, DagsterInstance, DagsterRun, DagsterRunStatus, Failure, RunsFilter

from ark_assets.assets.specs import INTRADAY_PREFIX
from ark_assets.core.days import GMT8
from ark_assets.media.declare import MediaDefinition
from ark_assets.resources.media_api import deployed_assets

IN_FLIGHT = [
    DagsterRunStatus.QUEUED,
    DagsterRunStatus.NOT_STARTED,
    DagsterRunStatus.STARTING,
    DagsterRunStatus.STARTED,
]
PRIORITY = "-1"  # the intraday runs' dagster/priority: below every daily run (0)
TAG = "ark/intraday"  # on every intraday run (its job and schedule set it): the media


def intraday_datasets(media: MediaDefinition, api_version: str | None = None) -> list:
    """The media's datasets declared `intraday`, of its configured API version (`deployed_assets`)."""
    return [d for d in deployed_assets(media, api_version).datasets if d.intraday]


def is_intraday(run: DagsterRun) -> bool:
    selection = run.asset_selection
    return (
        TAG in run.tags or bool(selection) and all(k.path[-1].startswith(INTRADAY_PREFIX) for k in selection)
    )


def daily_in_flight(instance: DagsterInstance, media: MediaDefinition, *, but: str = "") -> DagsterRun | None:
    """A run (not an intraday one, not `but`) that may fetch the media and is queued or running; a
    run whose assets are not known (a whole job, an in-process run) counts: refreshes yield to it."""
    for run in instance.get_runs(RunsFilter(statuses=IN_FLIGHT), limit=500):
        if run.run_id == but or is_intraday(run):
            continue
        selection = run.asset_selection
        if not selection or any(k.path[0] == media.name for k in selection):
            return run
    return None


def refresh_hour(context: AssetExecutionContext, media: MediaDefinition, day: date) -> int | None:
    """The GMT+8 hour this refresh runs in; None when it yields to a daily run (nothing to store).

    A day other than today is refused: a finished day is the daily assets' (SAVE)."""
    now = datetime.now(GMT8)
    if day != now.date():
        raise Failure(
            f"{media.name} intraday refreshes only today's partition ({now.date()} GMT+8), not {day}: "
            f"a finished day is stored by the daily assets ({media.name}_daily, the daily_yesterday "
            f"schedule), never by a refresh"
        )
    busy = daily_in_flight(context.instance, media, but=context.run.run_id)
    if busy is not None:
        context.log.info(
            f"{media.name} intraday refresh of {day} yields to run {busy.run_id} ({busy.job_name}, "
            f"{busy.status.value}): nothing fetched, nothing stored; the next refresh comes in "
            f"{media.incr_min} minutes"
        )
        return None
    return now.hour
