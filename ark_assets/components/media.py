"""One media's definitions from its declaration: its assets, checks and daily job.

`defs/media.py` builds them for every media of the registry (`ark_assets/media/registry.py`), so
a media is one module of `ark_assets/media/` and nothing else: no folder, file or list to edit.
"""

from __future__ import annotations

import dagster as dg

from ark_assets.assets.build import intraday_assets, media_assets
from ark_assets.automation.jobs import media_daily
from ark_assets.components.catalog import catalogued
from ark_assets.media.declare import MediaDefinition


def media_definitions(media: MediaDefinition) -> dg.Definitions:
    """Every asset of `media` (agents → advertisers → funds and reports) with its checks, run as one
    step per partition (`assets/media_step.py`), its intraday twins (`assets/intraday.py`), with its
    owners and code references (`catalog.py`), and its `<media>_daily` job."""
    assets = catalogued(media, media_assets(media) + intraday_assets(media))
    return dg.Definitions(assets=assets, jobs=[media_daily(media)])
