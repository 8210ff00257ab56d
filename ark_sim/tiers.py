"""Agent tiers, where a media has them (a leaf: the world, the rosters and the declarations use it)."""

from __future__ import annotations

from enum import StrEnum


class Tier(StrEnum):
    """An agent's tier, where a media has tiers: first (一代) or second (二代, under a first-tier
    agent). Media without tiers leave it None."""

    FIRST = "first"
    SECOND = "second"
