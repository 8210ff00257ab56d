"""Every media the platform knows: the modules of this package that export a `MEDIA` declaration.

That is the one way a media joins the platform. The definitions (`defs/media.py`: each media's
assets, checks and daily job), the settings (`ARK_<MEDIA>_*`), the sensors, schedules and jobs and
the docs all read this registry, so adding a media means adding one module (see
docs/ADDING_A_MEDIA.md). `register` exists for tests only: a media declared outside the package
(`ark_assets_tests/toy_media.py`) joins this process's registry for the test's duration.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from functools import cache
from pathlib import Path

from ark_assets.media.declare import MediaDefinition

_extra: dict[str, MediaDefinition] = {}
_sources: dict[str, Path] = {}  # media name -> the module that declares it (the catalog's code reference)


@cache
def _found() -> dict[str, MediaDefinition]:
    import ark_assets.media as package

    found: list[MediaDefinition] = []
    for module in pkgutil.iter_modules(package.__path__):
        loaded = importlib.import_module(f"{package.__name__}.{module.name}")
        declared = getattr(loaded, "MEDIA", None)
        if isinstance(declared, MediaDefinition):
            found.append(declared)
            _sources[declared.name] = Path(inspect.getfile(loaded))
    by_name: dict[str, MediaDefinition] = {}
    for declared in found:
        if declared.name in by_name and by_name[declared.name] is not declared:
            raise ValueError(f"two media declare the name {declared.name!r}")
        by_name[declared.name] = declared
    return by_name


def all_media() -> tuple[MediaDefinition, ...]:
    """Every known media, by name."""
    known = _found() | _extra
    return tuple(known[name] for name in sorted(known))


def names() -> tuple[str, ...]:
    return tuple(m.name for m in all_media())


def media(name: str | MediaDefinition) -> MediaDefinition:
    """The media called `name` (a declaration passes through), or a ValueError naming the known ones."""
    if isinstance(name, MediaDefinition):
        return name
    known = _found() | _extra
    try:
        return known[name]
    except (KeyError, TypeError):
        raise ValueError(f"unknown media {name!r}: expected one of {', '.join(sorted(known))}") from None


def register(definition: MediaDefinition, *, source: Path | None = None) -> None:
    """Make `definition` known to this process: tests only (a media the package does not declare).

    Args:
        source: the module that declares it (for the catalog's code references).
    """
    current = (_found() | _extra).get(definition.name)
    if current is not None and current is not definition:
        raise ValueError(f"a media named {definition.name!r} is already known")
    _extra[definition.name] = definition
    if source is not None:
        _sources[definition.name] = source


def source_of(name: str) -> Path | None:
    """The file of the module that declares media `name`, when known."""
    _found()
    return _sources.get(name)


def unregister(name: str) -> None:
    """Forget a media `register` added (the package's own media stay)."""
    _extra.pop(name, None)
