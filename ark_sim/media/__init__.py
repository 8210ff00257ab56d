"""The simulated media, one module each: `gdt.py`, `jrtt.py`, `wx.py` (wx reuses gdt's Tencent code).

Each module exports one declaration, `MEDIA` (an `ark_sim.spec.MediaSpec`). The registry is
discovered, not listed (`ark_sim.catalog`, where the generic modules look media up without
importing this package): a new media is a new module here and nothing else. Modules whose name
starts with "_" are helpers.
"""

from __future__ import annotations

from ark_sim.catalog import lookup, names, registry

__all__ = ["lookup", "names", "registry"]
