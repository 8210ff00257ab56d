"""The simulated media, found at run time: every module of `ark_sim/media/` that declares `MEDIA`.

The generic modules (config, profiles, world, ...) know a media only through its declaration, and
they look declarations up here rather than importing the media package: a media module sits above
the machinery it uses (world, state, faults, ...), so the catalog finds the modules by package name
when first asked (pkgutil) and the simulator's modules import one way (setup.cfg,
`simulator-layers`). A new media is a new module there and nothing else; modules whose name starts
with "_" are helpers. Nothing may ask while the media modules are being imported.
"""

from __future__ import annotations

import importlib
import pkgutil
from functools import cache
from typing import Any

MEDIA_PACKAGE = "ark_sim.media"

# A declaration is an `ark_sim.spec.MediaSpec`; it is checked by what it holds, since this module
# sits below the declarations' own (which name the machinery's types).
_DECLARES = ("name", "api", "world", "tables")


@cache
def _discover() -> dict[str, Any]:
    package = importlib.import_module(MEDIA_PACKAGE)
    found: dict[str, Any] = {}
    for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda info: info.name):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{MEDIA_PACKAGE}.{info.name}")
        declared = getattr(module, "MEDIA", None)
        if declared is None or not all(hasattr(declared, field) for field in _DECLARES):
            raise TypeError(f"{module.__name__} declares no MEDIA = MediaSpec(...)")
        if declared.name in found:
            raise ValueError(f"two modules declare media {declared.name!r}")
        found[declared.name] = declared
    return found


def registry() -> tuple[Any, ...]:
    """Every media's `MediaSpec`, by name (gdt, jrtt, wx)."""
    return tuple(_discover().values())


def names() -> tuple[str, ...]:
    return tuple(_discover())


def lookup(media: str) -> Any:
    """The `MediaSpec` of the media named `media`, or a ValueError naming the accepted names."""
    try:
        return _discover()[media]
    except (KeyError, TypeError):
        raise ValueError(f"unknown media {media!r}: expected one of {', '.join(names())}") from None
