"""The statements and rows of the run, request and response logs (`nyfz`) and the `eton` tables.

Plain data (no Dagster, no connection): `MySQLResource` executes these. Values always travel as
query parameters; the only text spliced into a statement is the two database names, which the
resource validates as identifiers and backquotes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

# SQL templates: `{log}` and `{eton}` are the backquoted database names, `%s` the values.
INSERT_RUN = """
INSERT INTO {log}.`api_result_log`
  (run_id, batch_key, tenant_alias, media_name, cur_job_name, agent_id, data_date, params, status,
   started_at)
VALUES (%s, %s, %s, %s, %s, %s, %s, %s, 'STARTED', NOW(3))
"""
END_RUN = """
UPDATE {log}.`api_result_log`
SET status = %s, ended_at = NOW(3), accounts_requested = %s, accounts_succeeded = %s,
    accounts_failed = %s, records = %s, message = %s, closed_by = 'run'
WHERE id = %s
"""
# Rows a run left open (it was killed, cancelled or lost): closed with the reason, by the sensor.
CLOSE_OPEN_RUNS = """
UPDATE {log}.`api_result_log`
SET status = %s, ended_at = NOW(3), message = %s, closed_by = 'sensor'
WHERE run_id = %s AND status = 'STARTED'
"""
MARK_ALERTED = "UPDATE {log}.`api_result_log` SET alerted_at = NOW(3) WHERE id = %s"
ALERTED_ROWS = "SELECT COUNT(*) FROM {log}.`api_result_log` WHERE run_id = %s AND alerted_at IS NOT NULL"
INSERT_REQUESTS = """
INSERT INTO {log}.`api_request_log`
  (run_id, media_name, endpoint, tenant_alias, agent_id, account_id, params, requested_at)
VALUES (%s, %s, %s, %s, %s, %s, %s, %s)
"""
INSERT_RESPONSES = """
INSERT INTO {log}.`api_response_log`
  (request_log_id, run_id, media_name, endpoint, account_id, http_status, code, message, trace_id,
   attempt, latency_ms, body, received_at)
VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
"""
ACTIVE_TENANTS = "SELECT tenant_alias FROM {eton}.`tenant` WHERE status = 1 ORDER BY tenant_alias"
# The seed's filter for agents whose authorisation is usable.
ACTIVE_AGENTS = """
SELECT agent_id_from_platform, agent_name, agent_level, parent_agent_id
FROM {eton}.`agents`
WHERE tenant_alias = %s AND platform_id = %s AND auth_status IN (1, 2) AND auth_type = 1
ORDER BY id
"""


class RunStatus(StrEnum):
    """A run-log row's status: STARTED at insert; SUCCEEDED, FAILED or CANCELED at the end."""

    STARTED = "STARTED"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    CANCELED = "CANCELED"  # the run was cancelled (or killed) before its step ended the row


@dataclass(frozen=True, kw_only=True)
class Agent:
    """An active agent of a tenant at one media (`eton.agents`)."""

    agent_id: str
    name: str
    level: int | None  # a tiered media: 1 first tier, 2 second tier (AgentTier.eton_level); else None
    parent_agent_id: str | None


@dataclass(frozen=True, kw_only=True)
class RequestLog:
    """One API request, as sent (parameters are redacted when stored)."""

    run_id: str
    media_name: str
    endpoint: str
    tenant_alias: str
    agent_id: int | str | None
    account_id: int | str | None
    params: Mapping[str, Any]
    requested_at: datetime


@dataclass(frozen=True, kw_only=True)
class ResponseLog:
    """One API response or failed attempt; `body` None when sampled out (it is redacted otherwise)."""

    run_id: str
    media_name: str
    endpoint: str
    account_id: int | str | None
    http_status: int | None
    code: int | None
    message: str | None
    trace_id: str | None
    attempt: int
    latency_ms: int | None
    body: str | None
    received_at: datetime
    request_log_id: int | None = None
