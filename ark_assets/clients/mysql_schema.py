"""DDL of the run/request/response logs (the seed's `nyfz`) and the `eton` tenant and agents tables.

Every statement is idempotent (IF NOT EXISTS), so `MySQLResource.ensure_schema` can run at every
start. Database names arrive already validated and backquoted.
"""

from __future__ import annotations

_TABLE_OPTIONS = "ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci"

# One row per job run: inserted at start (STARTED) and updated at its end (SUCCEEDED/FAILED).
_API_RESULT_LOG = """
CREATE TABLE IF NOT EXISTS {log}.`api_result_log` (
  `id` BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  `run_id` VARCHAR(64) NOT NULL,
  `batch_key` VARCHAR(64) NULL,
  `tenant_alias` VARCHAR(64) NOT NULL,
  `media_name` VARCHAR(16) NOT NULL,
  `cur_job_name` VARCHAR(128) NOT NULL,
  `agent_id` VARCHAR(32) NULL,
  `data_date` DATE NOT NULL,
  `params` JSON NOT NULL COMMENT 'the job parameters, secrets redacted',
  `status` ENUM('STARTED', 'SUCCEEDED', 'FAILED') NOT NULL,
  `started_at` DATETIME(3) NOT NULL,
  `ended_at` DATETIME(3) NULL,
  `accounts_requested` INT UNSIGNED NULL,
  `accounts_succeeded` INT UNSIGNED NULL,
  `accounts_failed` INT UNSIGNED NULL,
  `records` BIGINT UNSIGNED NULL,
  `message` TEXT NULL,
  KEY `idx_tenant_media_date` (`tenant_alias`, `media_name`, `data_date`),
  KEY `idx_run_id` (`run_id`)
) {options}
"""

_API_REQUEST_LOG = """
CREATE TABLE IF NOT EXISTS {log}.`api_request_log` (
  `id` BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  `run_id` VARCHAR(64) NOT NULL,
  `media_name` VARCHAR(16) NOT NULL,
  `endpoint` VARCHAR(255) NOT NULL,
  `tenant_alias` VARCHAR(64) NOT NULL,
  `agent_id` VARCHAR(32) NULL,
  `account_id` VARCHAR(64) NULL,
  `params` JSON NOT NULL COMMENT 'the request parameters, secrets redacted',
  `requested_at` DATETIME(3) NOT NULL,
  KEY `idx_run_id` (`run_id`)
) {options}
"""

_API_RESPONSE_LOG = """
CREATE TABLE IF NOT EXISTS {log}.`api_response_log` (
  `id` BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  `request_log_id` BIGINT UNSIGNED NULL,
  `run_id` VARCHAR(64) NOT NULL,
  `media_name` VARCHAR(16) NOT NULL,
  `endpoint` VARCHAR(255) NOT NULL,
  `account_id` VARCHAR(64) NULL,
  `http_status` SMALLINT UNSIGNED NULL COMMENT 'NULL when no HTTP response arrived',
  `code` BIGINT NULL COMMENT 'the media body code: 0 ok, 11017 throttled, ...',
  `message` TEXT NULL,
  `trace_id` VARCHAR(128) NULL,
  `attempt` SMALLINT UNSIGNED NOT NULL DEFAULT 1,
  `latency_ms` INT UNSIGNED NULL,
  `body` MEDIUMTEXT NULL COMMENT 'redacted; NULL when sampled out',
  `received_at` DATETIME(3) NOT NULL,
  KEY `idx_run_id` (`run_id`),
  KEY `idx_request_log_id` (`request_log_id`)
) {options}
"""

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
  `platform_id` TINYINT UNSIGNED NOT NULL COMMENT 'the media (its declared platform_id)',
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

_TABLES = (_API_RESULT_LOG, _API_REQUEST_LOG, _API_RESPONSE_LOG, _TENANT, _AGENTS)


def schema_statements(log_db: str, eton_db: str) -> list[str]:
    """CREATE statements for both databases and their five tables, given backquoted names."""
    return [
        f"CREATE DATABASE IF NOT EXISTS {log_db} CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci",
        f"CREATE DATABASE IF NOT EXISTS {eton_db} CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci",
        *(ddl.format(log=log_db, eton=eton_db, options=_TABLE_OPTIONS) for ddl in _TABLES),
    ]
