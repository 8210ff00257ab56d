"""`eton` fixtures for tests: the upstream system's tenant and agents tables, as it owns them.

The platform only reads `eton` (`MySQLResource.active_tenants` / `active_agents`); tests that need
rows there create the tables with the simulator's copy of the upstream DDL (`ark_sim.eton`, what
`ark-sim seed` writes) and put rows in with plain SQL, as the upstream system would.
"""

from __future__ import annotations

import pymysql

from ark_assets.media.registry import media as media_named
from ark_sim import eton as upstream

_UPSERT_AGENT = """
INSERT INTO {eton}.`agents`
  (tenant_alias, platform_id, agent_id_from_platform, agent_name, agent_level, parent_agent_id,
   auth_status, auth_type)
VALUES (%s, %s, %s, %s, %s, %s, %s, %s)
ON DUPLICATE KEY UPDATE agent_name = VALUES(agent_name), agent_level = VALUES(agent_level),
  parent_agent_id = VALUES(parent_agent_id), auth_status = VALUES(auth_status),
  auth_type = VALUES(auth_type)
"""


def _run(database: str, statements: list[tuple[str, tuple]]) -> None:
    conn = pymysql.connect(host="127.0.0.1", user="ark", password="ark", autocommit=True, charset="utf8mb4")
    try:
        with conn.cursor() as cur:
            for statement, values in statements:
                cur.execute(statement.format(eton=upstream.database(database)), values)
    finally:
        conn.close()


def create_eton(database: str) -> None:
    """The eton database and its two tables, when missing."""
    _run(database, [(ddl, ()) for ddl in upstream.schema_statements("{eton}")])


def upsert_tenant(database: str, *, tenant_alias: str, name: str = "", status: int = 1) -> None:
    create_eton(database)
    _run(database, [(upstream.UPSERT_TENANT, (tenant_alias, name, status))])


def upsert_agent(
    database: str,
    *,
    tenant_alias: str,
    media: str,
    agent_id: int | str,
    name: str = "",
    level: int | None = None,
    parent_agent_id: int | str | None = None,
    auth_status: int = 1,
    auth_type: int = 1,
) -> None:
    create_eton(database)
    values = (
        tenant_alias,
        media_named(media).platform_id,
        str(agent_id),
        name,
        level,
        None if parent_agent_id is None else str(parent_agent_id),
        auth_status,
        auth_type,
    )
    _run(database, [(_UPSERT_AGENT, values)])
