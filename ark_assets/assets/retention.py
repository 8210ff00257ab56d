"""Dates a media no longer serves: refused before any call, and what is stored is left alone.

Each dated endpoint declares how far back the media serve it (`media/retention.py`, with its
source). A media's step checks its selected assets against the partition's day before anything
runs: an asset whose endpoint no longer serves the day fails at once with the reason (the
others run), and when every selected asset is refused the step fails before any call. Nothing
refused is fetched or written, so the rows an earlier run stored for that day stay as they are.
A backfill is planned the same way (`ark-assets backfill`: the partitions it skips, and why).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace
from datetime import date

from dagster import Failure

from ark_assets.assets.parts import Part, PartResult, StepContext
from ark_assets.assets.specs import INTRADAY_PREFIX
from ark_assets.media.api import ApiSpec
from ark_assets.media.declare import MediaDefinition
from ark_assets.resources.media_api import deployed_assets


def endpoints_by_asset(media: MediaDefinition, api_version: str | None = None) -> dict[str, tuple[str, ...]]:
    """asset name -> the endpoints (names or roles) it calls, in the configured API version."""
    declared = deployed_assets(media, api_version)
    called: dict[str, tuple[str, ...]] = {}
    for listing in declared.account_lists:
        called[listing.name] = tuple(e for e in (listing.endpoint, listing.details_endpoint) if e)
    for dataset in declared.datasets:
        called[dataset.name] = called[f"{INTRADAY_PREFIX}{dataset.name}"] = (dataset.endpoint,)
    return called


def refusal(media: MediaDefinition, api: ApiSpec, endpoint: str, day: date, today: date) -> str | None:
    """Why `day` cannot be fetched from `endpoint` as of `today` (GMT+8), or None when it can."""
    spec = api.endpoint(endpoint)
    kept = spec.retention
    if kept is None or kept.serves(day, today):
        return None
    return (
        f"{day} is outside what {media.name} serves of {spec.name} ({kept.describe()} as of {today} "
        f"GMT+8: the oldest day is {kept.oldest(today)}; {kept.source}); refused before any call, and "
        f"the rows stored for {day} are kept as they are"
    )


def refusals(
    media: MediaDefinition, api: ApiSpec, names: Iterable[str], day: date, today: date
) -> dict[str, str]:
    """asset name -> why it cannot run for `day`, for the assets `names` that cannot."""
    called = endpoints_by_asset(media, api.version)
    refused: dict[str, str] = {}
    for name in names:
        reasons = [r for e in called.get(name, ()) if (r := refusal(media, api, e, day, today))]
        if reasons:
            refused[name] = reasons[0]
    return refused


def refuse_outside_retention(
    media: MediaDefinition, api: ApiSpec, chosen: list[Part], day: date, today: date
) -> list[Part]:
    """The chosen parts, those refused for `day` turned into parts that fail at once with the
    reason; a Failure before anything runs when every chosen part is refused."""
    refused = refusals(media, api, (p.name for p in chosen), day, today)
    if refused and len(refused) == len(chosen):
        raise Failure(
            description=f"{media.name}: every selected asset refused for {day}: "
            + "; ".join(f"{media.name}/{name}: {why}" for name, why in refused.items())
        )
    return [replace(p, work=_refused(refused[p.name])) if p.name in refused else p for p in chosen]


def _refused(reason: str):  # -> Work
    def work(step: StepContext, upstream: Mapping[str, PartResult]) -> PartResult:
        raise Failure(description=reason)

    return work
