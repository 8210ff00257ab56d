"""Expected HBase row counts per platform table, from the simulator's world alone.

Follows the platform's own declarations (`media/<media>.py: ASSETS`) and table-naming rule, so
`ark-sim truth` answers for exactly the tables the asset graph writes:
agent lists hold the active agents; account lists one row per account; funds one row per fund
record (gdt/wx, keyed by fund type) or per account (jrtt); reports one row per account that
spent that day (per time line for gdt's hourly ad report).
"""

from __future__ import annotations

from datetime import date

from ark_assets.assets.catalog import AccountDataset, RowShape
from ark_assets.io.tables import table_name
from ark_assets.media import Media, gdt, jrtt, wx
from ark_sim.truth import register_table
from ark_sim.world import World

DECLARATIONS = {Media.GDT: gdt.ASSETS, Media.JRTT: jrtt.ASSETS, Media.WX: wx.ASSETS}


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
    from ark_sim.truth import TABLE_TRUTHS

    for media, declared in DECLARATIONS.items():
        truths = {table_name(media, a.dataset): _agents(media, a.tier) for a in declared.agent_lists}
        truths |= {table_name(media, a.dataset): _accounts(media, a.tier) for a in declared.account_lists}
        truths |= {table_name(media, d.dataset): _dataset(media, d) for d in declared.datasets}
        for name, fn in truths.items():
            if name not in TABLE_TRUTHS:
                register_table(name)(fn)


register_platform_tables()
