"""The simulated media, one module each: `gdt.py`, `jrtt.py`, `wx.py` (wx reuses gdt's Tencent code).

Each module exports one declaration, `MEDIA` (an `ark_sim.spec.MediaSpec`). The registry is
discovered, not listed: the first call imports every module of this package (pkgutil), so a new
media is a new module here and nothing else. Modules whose name starts with "_" are helpers.
Nothing may call the registry while these modules are being imported (it would import them).
"""

from __future__ import annotations

import importlib
import pkgutil
from functools import cache

from ark_sim.spec import MediaSpec


@cache
def _discover() -> dict[str, MediaSpec]:
    found: dict[str, MediaSpec] = {}
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda info: info.name):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        declared = getattr(module, "MEDIA", None)
        if not isinstance(declared, MediaSpec):
            raise TypeError(f"{module.__name__} declares no MEDIA = MediaSpec(...)")
        if declared.name in found:
            raise ValueError(f"two modules declare media {declared.name!r}")
        found[declared.name] = declared
    return found


def registry() -> tuple[MediaSpec, ...]:
    """Every media, by name (gdt, jrtt, wx)."""
    return tuple(_discover().values())


def names() -> tuple[str, ...]:
    return tuple(_discover())


def lookup(media: str) -> MediaSpec:
    """The media named `media`, or a ValueError naming the accepted names."""
    try:
        return _discover()[media]
    except (KeyError, TypeError):
        raise ValueError(f"unknown media {media!r}: expected one of {', '.join(names())}") from None
