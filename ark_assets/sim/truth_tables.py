"""TEMPORARY (replaced by the independent ark_sim package's own truth): expected rows per table."""

from __future__ import annotations

from datetime import date

from ark_assets.core.tables import table_name
from ark_assets.media.declare import AccountDataset, RowShape
from ark_assets.media.registry import all_media
from ark_assets.sim._media import Media
from ark_assets.sim.truth import register_table
from ark_assets.sim.world import World


def _agents(media: Media, tier: object):
    return lambda world, tenant, day: len(world.agents(media, tenant, tier=tier))


def _accounts(media: Media, tier: object):
    return lambda world, tenant, day: len(world.accounts(media, tenant, tier=tier))


def _dataset(media: Media, dataset: AccountDataset):
    def rows(world: World, tenant: str, day: date) -> int:
        accounts = [account for account, _ in world.accounts(media, tenant)]
        if dataset.shape is RowShape.PER_RECORD_KIND:
            return sum(world.funds_records(media, account, day) for account in accounts)
        if dataset.shape is RowShape.ONE_PER_ACCOUNT:
            return len(accounts)
        time_lines = dataset.time_lines or ("REQUEST_TIME",)
        return sum(1 for line in time_lines for account in accounts if world.atoms(media, account, day, line))

    return rows


def register_platform_tables() -> None:
    """Register every platform table's truth (idempotent)."""
    from ark_assets.sim.truth import TABLE_TRUTHS

    for declared in all_media():
        media = Media(declared.name)
        found = declared.assets
        truths = {table_name(media, a.dataset): _agents(media, a.tier) for a in found.agent_lists}
        truths |= {table_name(media, a.dataset): _accounts(media, a.tier) for a in found.account_lists}
        truths |= {table_name(media, d.dataset): _dataset(media, d) for d in found.datasets}
        for name, fn in truths.items():
            if name not in TABLE_TRUTHS:
                register_table(name)(fn)


register_platform_tables()
