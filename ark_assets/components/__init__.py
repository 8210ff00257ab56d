"""Dagster components of the platform (`defs/<media>/defs.yaml` instantiates `MediaAssets`)."""

from ark_assets.components.media import MediaAssets

__all__ = ["MediaAssets"]
