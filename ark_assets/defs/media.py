"""Every media of the registry: its assets, checks and daily job (`components/media.py`)."""

import dagster as dg

from ark_assets.components.media import media_definitions
from ark_assets.media.registry import all_media


@dg.definitions
def defs() -> dg.Definitions:
    return dg.Definitions.merge(*(media_definitions(media) for media in all_media()))
