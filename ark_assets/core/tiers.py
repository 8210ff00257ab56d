"""Agent tiers: a first-tier agent (一代) holds accounts and second-tier agents (二代) of its own.

A media declares whether its agents come in tiers; this is the vocabulary every layer shares
(Redis key formats per tier, `eton.agents.agent_level`, the asset per tier).
"""

from __future__ import annotations

from enum import StrEnum


class AgentTier(StrEnum):
    FIRST = "first"
    SECOND = "second"

    @property
    def eton_level(self) -> int:
        """`eton.agents.agent_level` of the tier's agents (1 first tier, 2 second tier)."""
        return 1 if self is AgentTier.FIRST else 2
