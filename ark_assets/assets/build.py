"""One media's declaration in, its Dagster assets and checks out."""

from __future__ import annotations

from dagster import AssetChecksDefinition, AssetsDefinition

from ark_assets.assets.advertisers import advertisers_asset
from ark_assets.assets.agents import agents_asset
from ark_assets.assets.checks import build_checks
from ark_assets.assets.datasets import dataset_asset
from ark_assets.media.declare import MediaDefinition


def media_assets(media: MediaDefinition) -> list[AssetsDefinition]:
    """Every asset of one media: agent lists, account lists, then the per-account datasets."""
    declared = media.assets
    return [
        *(agents_asset(media, agents) for agents in declared.agent_lists),
        *(advertisers_asset(media, listing) for listing in declared.account_lists),
        *(dataset_asset(media, dataset) for dataset in declared.datasets),
    ]


def media_checks(
    assets: list[AssetsDefinition], compare_prefix: str | None = None
) -> list[AssetChecksDefinition]:
    """The HBase-reading checks of those assets (`row_keys`, and the comparison when configured)."""
    return build_checks(assets, compare_prefix)
