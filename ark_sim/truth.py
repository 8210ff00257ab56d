"""`ark-sim truth`: what the platform should end up with for a tenant and date, from the world alone.

`accounts` counts the accounts of ACTIVE agents per media (jrtt: first-tier agents' direct
accounts plus second-tier agents' accounts), i.e. what the platform's advertiser lists must hold.
`tables` is the extension point for the asset graph: register a function per HBase table that
returns how many rows the table should hold for the tenant and date.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from ark_assets.media import Media
from ark_sim.world import World

TableTruth = Callable[[World, str, date], int]
# table name -> expected row count for (world, tenant, day); filled in by the asset-graph work.
TABLE_TRUTHS: dict[str, TableTruth] = {}


def register_table(name: str) -> Callable[[TableTruth], TableTruth]:
    """Decorator: `@register_table("tenant_gdt_funds")` adds a table's expected row count."""

    def add(fn: TableTruth) -> TableTruth:
        if name in TABLE_TRUTHS:
            raise ValueError(f"table {name!r} already has a truth function")
        TABLE_TRUTHS[name] = fn
        return fn

    return add


def truth(world: World, tenant: str, day: date) -> dict:
    """`{"accounts": {"gdt": n, "jrtt": n, "wx": n}, "tables": {name: rows, ...}}`."""
    return {
        "accounts": {m.value: world.account_count(m, tenant) for m in (Media.GDT, Media.JRTT, Media.WX)},
        "tables": {name: fn(world, tenant, day) for name, fn in sorted(TABLE_TRUTHS.items())},
    }
