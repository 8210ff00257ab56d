"""The upstream `eton` tenant and agents tables, as `ark-sim seed` writes them.

The simulator plays the upstream systems that own `eton`, so it owns the tables' DDL for its
seeding: the columns and keys are the ones the platform reads (its `resources/mysql_schema.py`
declares the same tables while it still creates them itself); every statement is idempotent.
`{eton}` is the backquoted database name, `%s` the values.
"""

from __future__ import annotations

import re

_IDENTIFIER = re.compile(r"[A-Za-z0-9_]+")
_TABLE_OPTIONS = "ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci"

_DATABASE = "CREATE DATABASE IF NOT EXISTS {eton} CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
_TENANT = """
CREATE TABLE IF NOT EXISTS {eton}.`tenant` (
  `id` INT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  `tenant_alias` VARCHAR(64) NOT NULL,
  `name` VARCHAR(255) NOT NULL DEFAULT '',
  `status` TINYINT NOT NULL DEFAULT 1 COMMENT '1 = active',
  `created_at` DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
  `updated_at` DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,
  UNIQUE KEY `uq_tenant_alias` (`tenant_alias`)
) {options}
"""
_AGENTS = """
CREATE TABLE IF NOT EXISTS {eton}.`agents` (
  `id` INT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  `tenant_alias` VARCHAR(64) NOT NULL,
  `platform_id` TINYINT UNSIGNED NOT NULL COMMENT 'the media (its platform id)',
  `agent_id_from_platform` VARCHAR(32) NOT NULL COMMENT 'the agent id at the media',
  `agent_name` VARCHAR(255) NOT NULL DEFAULT '',
  `agent_level` TINYINT NULL COMMENT 'a tiered media: 1 first tier, 2 second tier',
  `parent_agent_id` VARCHAR(32) NULL,
  `auth_status` TINYINT NOT NULL COMMENT 'active when 1 or 2',
  `auth_type` TINYINT NOT NULL COMMENT 'active when 1',
  `created_at` DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
  `updated_at` DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,
  UNIQUE KEY `uq_tenant_platform_agent` (`tenant_alias`, `platform_id`, `agent_id_from_platform`)
) {options}
"""

UPSERT_TENANT = """
INSERT INTO {eton}.`tenant` (tenant_alias, name, status) VALUES (%s, %s, %s)
ON DUPLICATE KEY UPDATE name = VALUES(name), status = VALUES(status)
"""
# `{platforms}`: one %s per platform id.
DELETE_AGENTS = "DELETE FROM {eton}.`agents` WHERE tenant_alias = %s AND platform_id IN ({platforms})"
INSERT_AGENT = """
INSERT INTO {eton}.`agents`
  (tenant_alias, platform_id, agent_id_from_platform, agent_name, agent_level, parent_agent_id,
   auth_status, auth_type)
VALUES (%s, %s, %s, %s, %s, %s, %s, %s)
"""


def database(name: str) -> str:
    """`name` backquoted for SQL, once it is a plain identifier (it is spliced into statements)."""
    if not isinstance(name, str) or not _IDENTIFIER.fullmatch(name):
        raise ValueError(
            f"eton database name {name!r} (ARK_MYSQL_ETON_DB) must be letters, digits and underscores only"
        )
    return f"`{name}`"


def schema_statements(eton: str) -> list[str]:
    """CREATE statements of the database and its two tables, given the backquoted name."""
    return [ddl.format(eton=eton, options=_TABLE_OPTIONS) for ddl in (_DATABASE, _TENANT, _AGENTS)]
