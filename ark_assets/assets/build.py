"""One media's declaration in, its Dagster assets out: one step per media (`media_step.py`)."""

from __future__ import annotations

from dagster import AssetsDefinition

from ark_assets.assets.intraday import intraday_datasets
from ark_assets.assets.media_step import media_step
from ark_assets.media.declare import MediaDefinition


def media_assets(
    media: MediaDefinition, compare_prefix: str | None = None, api_version: str | None = None
) -> list[AssetsDefinition]:
    """Every asset of one media, with its checks, as the one multi-asset its step runs.

    Args:
        compare_prefix: the table set `matches_comparison_table` compares with; None reads
            `ARK_COMPARE_TABLE_PREFIX`, "" turns the comparison off.
        api_version: the API version whose assets to build; None = the configured one
            (`ARK_<MEDIA>_API_VERSION`, `ARK_API_VERSIONS`).
    """
    return [media_step(media, compare_prefix, api_version)]


def intraday_assets(media: MediaDefinition, api_version: str | None = None) -> list[AssetsDefinition]:
    """The media's intraday twins (INCR, `intraday.py`) as one multi-asset; none when it declares
    no dataset `intraday` (in its configured API version)."""
    if not intraday_datasets(media, api_version):
        return []
    return [media_step(media, api_version=api_version, intraday=True)]
