"""The `MediaAssets` component: one media's assets, checks and daily job from its declaration.

`defs/<media>/defs.yaml` names the media (`attributes: {media: <name>}`); everything else comes
from that media's module through the registry, so a media folder holds no code.
"""

from __future__ import annotations

import dagster as dg

from ark_assets.assets.build import intraday_assets, media_assets
from ark_assets.automation.jobs import media_daily
from ark_assets.components.catalog import catalogued
from ark_assets.media.registry import media as media_named


class MediaAssets(dg.Component, dg.Model, dg.Resolvable):
    """Every asset of one media (agents → advertisers → funds and reports) with its checks, run as
    one step per partition (`assets/media_step.py`), its intraday twins (`assets/intraday.py`),
    and its `<media>_daily` job.

    Attributes:
        media: a media of the registry (`ark_assets.media.registry.names()`).
    """

    media: str

    def build_defs(self, context: dg.ComponentLoadContext) -> dg.Definitions:
        declared = media_named(self.media)
        assets = catalogued(declared, media_assets(declared) + intraday_assets(declared))
        return dg.Definitions(assets=assets, jobs=[media_daily(declared)])
