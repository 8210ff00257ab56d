"""What Dagster shows of a media beyond its assets: its definitions as a whole (`media.py`) and
the catalog's owners and code references (`catalog.py`)."""

from ark_assets.components.media import media_definitions

__all__ = ["media_definitions"]
