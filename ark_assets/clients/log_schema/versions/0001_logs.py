"""The seed's run log and the API request and response logs.

Revision ID: 0001
Revises:
Create Date: 2026-12-01
"""

from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

OPTIONS = "ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci"


def upgrade() -> None:
    # One row per job run: inserted at start (STARTED) and updated at its end (SUCCEEDED/FAILED).
    op.execute(f"""
CREATE TABLE IF NOT EXISTS `api_result_log` (
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
) {OPTIONS}""")
    op.execute(f"""
CREATE TABLE IF NOT EXISTS `api_request_log` (
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
) {OPTIONS}""")
    op.execute(f"""
CREATE TABLE IF NOT EXISTS `api_response_log` (
  `id` BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  `request_log_id` BIGINT UNSIGNED NULL,
  `run_id` VARCHAR(64) NOT NULL,
  `media_name` VARCHAR(16) NOT NULL,
  `endpoint` VARCHAR(255) NOT NULL,
  `account_id` VARCHAR(64) NULL,
  `http_status` SMALLINT UNSIGNED NULL COMMENT 'NULL when no HTTP response arrived',
  `code` BIGINT NULL COMMENT 'the media body code: 0 ok, a throttle code, ...',
  `message` TEXT NULL,
  `trace_id` VARCHAR(128) NULL,
  `attempt` SMALLINT UNSIGNED NOT NULL DEFAULT 1,
  `latency_ms` INT UNSIGNED NULL,
  `body` MEDIUMTEXT NULL COMMENT 'redacted; NULL when sampled out',
  `received_at` DATETIME(3) NOT NULL,
  KEY `idx_run_id` (`run_id`),
  KEY `idx_request_log_id` (`request_log_id`)
) {OPTIONS}""")


def downgrade() -> None:
    for table in ("api_response_log", "api_request_log", "api_result_log"):
        op.execute(f"DROP TABLE IF EXISTS `{table}`")
