"""What the catalog shows of a media's assets beyond the asset itself: owners and code references.

Owners come from the media's declaration. Every asset points at the module that declares its
media (where its endpoint, table and row shape are), and at the factory that builds it; with
`ARK_CODE_GIT_URL` (and `ARK_CODE_GIT_BRANCH`, default `main`) set, those references link to the
files in git instead of local paths.
"""

from __future__ import annotations

import inspect
from pathlib import Path

from dagster import (
    AnchorBasedFilePathMapping,
    AssetsDefinition,
    AssetSpec,
    CodeReferencesMetadataValue,
    LocalFileCodeReference,
    link_code_references_to_git,
    map_asset_specs,
)

from ark_assets.assets import advertisers, agents, datasets
from ark_assets.media.declare import MediaDefinition
from ark_assets.media.registry import source_of
from ark_assets.settings import settings

REPO_ROOT = Path(__file__).resolve().parents[2]
_FACTORIES = {"agents": agents, "advertisers": advertisers, "datasets": datasets}


def _factory_of(spec: AssetSpec) -> str | None:
    layer = spec.tags.get("layer")
    module = _FACTORIES.get(
        "agents" if layer == "agents" else "advertisers" if layer == "advertisers" else "datasets"
    )
    return inspect.getfile(module) if module else None


def catalogued(media: MediaDefinition, assets: list[AssetsDefinition]) -> list[AssetsDefinition]:
    """`assets` with the media's owners and their code references (linked to git when configured)."""
    declaration = source_of(media.name)

    def enrich(spec: AssetSpec) -> AssetSpec:
        references = []
        if declaration is not None:
            references.append(
                LocalFileCodeReference(file_path=str(declaration), label=f"{media.name} declaration")
            )
        factory = _factory_of(spec)
        if factory is not None:
            references.append(LocalFileCodeReference(file_path=factory, label="asset factory"))
        metadata = dict(spec.metadata)
        if references:
            metadata["dagster/code_references"] = CodeReferencesMetadataValue(code_references=references)
        return spec.replace_attributes(owners=[*spec.owners, *media.owners], metadata=metadata)

    mapped = list(map_asset_specs(enrich, assets))
    s = settings()
    if not s.code_git_url:
        return mapped
    return list(
        link_code_references_to_git(
            mapped,
            git_url=s.code_git_url,
            git_branch=s.code_git_branch,
            file_path_mapping=AnchorBasedFilePathMapping(
                local_file_anchor=REPO_ROOT, file_anchor_path_in_repository=""
            ),
        )
    )
