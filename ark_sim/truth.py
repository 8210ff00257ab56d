"""`ark-sim truth`: what the platform should end up with for a tenant and date, from the world alone.

`accounts` counts the accounts of ACTIVE agents per media (jrtt: first-tier agents' direct
accounts plus second-tier agents' accounts), i.e. what the platform's advertiser lists must hold.
`tables` holds the rows each HBase table of the seed's jobs should have, by the table rules each
media declares (`MediaSpec.tables`, see `spec.Rows`) and the records its endpoints answer: agent
lists one row per active agent, account lists one per account, funds one per fund record (gdt,
wx: the record's kind is in the row key) or per account (jrtt), reports one per account with
records that day (and per time line where a table has them). Nothing here reads the platform's
own declarations: a wrong row shape there makes its tables disagree with these counts.

A media whose API comes in versions fills different tables in each (v3.0 has no campaign level,
v1.x no dynamic creatives): `versions` names the version each media is fetched with; a media left
out is expected at the version it serves today.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from ark_sim.media import registry
from ark_sim.profiles import tenant_alias
from ark_sim.spec import MediaSpec, Rows, Table
from ark_sim.world import DEFAULT_TIME_LINE, World


def table_name(media: str, dataset: str) -> str:
    """The seed's HBase table name: `tenant_{media}_{dataset}`."""
    return f"tenant_{media}_{dataset}"


def truth(world: World, tenant: str, day: date, versions: Mapping[str, str] | None = None) -> dict:
    """`{"accounts": {media: n, ...}, "tables": {name: rows, ...}, "versions": {media: version}}`,
    tables sorted by name; `versions` (media -> API version) picks the tables each version fills."""
    tenant = tenant_alias(tenant)
    tables: dict[str, int] = {}
    wanted = dict(versions or {})
    unknown = sorted(set(wanted) - {spec.name for spec in registry()})
    if unknown:
        raise ValueError(f"versions name unknown media {unknown}")
    chosen = {spec.name: spec.version(wanted.get(spec.name)) for spec in registry()}
    for spec in registry():
        for table in spec.tables:
            if not table.filled_by(chosen[spec.name]):
                continue
            name = table_name(spec.name, table.dataset)
            if name in tables:
                raise ValueError(f"{spec.name} declares table {name!r} twice")
            tables[name] = table_rows(world, spec, table, tenant, day)
    return {
        "accounts": {spec.name: world.account_count(spec.name, tenant) for spec in registry()},
        "tables": dict(sorted(tables.items())),
        "versions": chosen,
    }


def table_rows(world: World, spec: MediaSpec, table: Table, tenant: str, day: date) -> int:
    """How many rows `table` holds for the tenant and day."""
    media = spec.name
    if table.rows is Rows.AGENTS:
        return len(world.agents(media, tenant, tier=table.tier))
    if table.rows is Rows.ACCOUNTS:
        return len(world.accounts(media, tenant, tier=table.tier))
    records = spec.records(table.endpoint)
    answers = [
        records(world, media, account, day, line)
        for line in table.time_lines or (DEFAULT_TIME_LINE,)
        for account, _ in world.accounts(media, tenant)
    ]
    if table.rows is Rows.PER_RECORD:
        return sum(answers)
    return sum(1 for count in answers if count)
