"""The Dagster definitions of Ark Assets: what `dagster dev -w workspace.yaml` and `dg` load.

Built from the `defs/` folder (`load_from_defs_folder`): every media of the registry, whose assets
come from that media's declaration (`media/<media>.py`), plus automation and the resources.
"""

from __future__ import annotations

from pathlib import Path

import dagster as dg

from ark_assets.settings import load_settings

# Every setting first, all at once: one error naming each bad variable (and, with
# ARK_ENV=production, each one that must be set), before anything is built from them.
load_settings()
defs = dg.load_from_defs_folder(path_within_project=Path(__file__).parent)
