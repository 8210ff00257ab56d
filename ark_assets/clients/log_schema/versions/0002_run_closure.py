"""Runs that never reached their own end: the run log can say why, and whether someone was told.

A run killed, cancelled or lost by Dagster's run monitor never writes its run-log rows' end, so
a run-status sensor closes them: status CANCELED (or FAILED), `closed_by` = who closed the row
('run' when the step itself ended it, 'sensor' otherwise) and `message` = the reason. `alerted_at`
records that an alert already went out for the row, so a failure is alerted once.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01
"""

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        "ALTER TABLE `api_result_log` "
        "MODIFY `status` ENUM('STARTED', 'SUCCEEDED', 'FAILED', 'CANCELED') NOT NULL, "
        "ADD COLUMN `closed_by` ENUM('run', 'sensor') NULL AFTER `message`, "
        "ADD COLUMN `alerted_at` DATETIME(3) NULL COMMENT 'when an alert for this row went out' "
        "AFTER `closed_by`"
    )


def downgrade() -> None:
    op.execute("UPDATE `api_result_log` SET `status` = 'FAILED' WHERE `status` = 'CANCELED'")
    op.execute(
        "ALTER TABLE `api_result_log` DROP COLUMN `alerted_at`, DROP COLUMN `closed_by`, "
        "MODIFY `status` ENUM('STARTED', 'SUCCEEDED', 'FAILED') NOT NULL"
    )
