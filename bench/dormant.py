"""The share of accounts idle on a day, as the simulator's profile knobs make it (issue 19's 25% and
60% dormant): the shipped per-day share (`no_spend_rate`) plus a long tail idle every day
(`dormant_share`). Shared by the partition and capacity benchmarks."""

from __future__ import annotations

import click

NO_SPEND_RATE = 0.25  # the profiles' share of accounts without activity on a day (ark_sim/sim.toml)


def dormant_knobs(dormant: float) -> dict[str, float]:
    """Profile knobs for `dormant`, the share of accounts without activity on the day."""
    if not NO_SPEND_RATE <= dormant < 1:
        raise click.BadParameter(f"--dormant {dormant}: expected a share from {NO_SPEND_RATE} to below 1")
    return {"dormant_share": round(1 - (1 - dormant) / (1 - NO_SPEND_RATE), 4)}
