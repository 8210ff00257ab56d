"""MySQL: the run, request and response logs (`nyfz`, ours) and the `eton` tenants and agents (read only).

Each call opens a short-lived connection and commits before closing it: calls are few and coarse
(one per run start/end, one per batch of log rows), and a pymysql connection must never be shared
between the fetch engine's threads. Values always travel as query parameters; the only text spliced
into SQL is the two database names, validated as identifiers and backquoted. Everything that could
hold a secret (job parameters, request parameters, messages, bodies) goes through `redact` first.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import date
from typing import Any, TypeVar

import pymysql
import sqlalchemy
from dagster import ConfigurableResource
from pydantic import Field, field_validator
from pymysql.constants import CLIENT
from pymysql.cursors import Cursor

from ark_assets.clients import log_schema
from ark_assets.clients.errors import MySQLAccessDenied, SchemaNotMigrated, ServiceUnavailable
from ark_assets.clients.mysql_sql import (
    ACTIVE_AGENTS,
    ACTIVE_TENANTS,
    ALERTED_ROWS,
    CLOSE_OPEN_RUNS,
    END_RUN,
    INSERT_REQUESTS,
    INSERT_RESPONSES,
    INSERT_RUN,
    MARK_ALERTED,
    Agent,
    RequestLog,
    ResponseLog,
    RunStatus,
)
from ark_assets.core.redact import redact, redact_text
from ark_assets.media.declare import MediaDefinition
from ark_assets.media.registry import media as media_named
from ark_assets.resources.env import configured
from ark_assets.settings import default_of, settings

__all__ = [
    "Agent",
    "MySQLAccessDenied",
    "MySQLResource",
    "RequestLog",
    "ResponseLog",
    "RunStatus",
    "SchemaNotMigrated",
]

_IDENTIFIER = re.compile(r"[A-Za-z0-9_]+")
_ENV_HINT = "ARK_MYSQL_HOST/ARK_MYSQL_PORT"
_ER_ACCESS_DENIED = 1045
_ER_NO_SUCH_TABLE = 1146
_T = TypeVar("_T")
# Client-side error codes (CR_*, 2000-2999): the connection itself failed, not the statement.
_CLIENT_ERRORS = range(2000, 3000)


class MySQLResource(ConfigurableResource):
    """The run/request/response logs and the `eton` tenant and agent tables."""

    host: str = Field(default=default_of("mysql_host"), description="MySQL host.")
    port: int = Field(default=default_of("mysql_port"), description="MySQL port.")
    user: str = Field(default=default_of("mysql_user"), description="MySQL user.")
    password: str = Field(default=default_of("mysql_password"), description="MySQL password.")
    log_database: str = Field(
        default=default_of("mysql_log_db"), description="Database of the run, request and response logs."
    )
    eton_database: str = Field(
        default=default_of("mysql_eton_db"), description="Database of the tenant and agents tables."
    )
    connect_timeout: int = Field(default=5, description="Seconds to wait for a connection.")

    @field_validator("log_database", "eton_database")
    @classmethod
    def _identifier(cls, name: str) -> str:
        """Database names are spliced into SQL, so only plain identifiers pass (also after EnvVar)."""
        if not _IDENTIFIER.fullmatch(name):
            raise ValueError(
                f"database name {name!r} (ARK_MYSQL_LOG_DB / ARK_MYSQL_ETON_DB) must be letters, digits "
                f"and underscores only: it is spliced into SQL as an identifier"
            )
        return name

    # -- the log schema (alembic; applied at deploy / stack start, never per step) ----------------

    def migrate(self) -> str:
        """Bring the log database to the newest schema revision, creating it when missing.

        Returns:
            the revision it is at afterwards.
        """
        return self._migrations(lambda: log_schema.upgrade(self._server_url(), self.log_database))

    def schema_revision(self) -> str | None:
        """The log database's schema revision, or None when it was never migrated."""
        return self._migrations(lambda: log_schema.current(self._server_url(), self.log_database))

    # -- run log ----------------------------------------------------------------------------------

    def record_run_start(
        self,
        *,
        run_id: str,
        tenant_alias: str,
        media_name: MediaDefinition | str,
        cur_job_name: str,
        agent_id: int | str | None,
        data_date: date,
        params: Mapping[str, Any],
    ) -> int:
        """Insert a STARTED row for a job run.

        Args:
            params: the job's parameters (the seed's dict); stored redacted, and its `batch_key`
                is copied to its own column for lookups.

        Returns:
            The row id to pass to `record_run_end`.
        """
        with self._cursor() as cur:
            cur.execute(
                self._sql(INSERT_RUN),
                (
                    run_id,
                    params.get("batch_key"),
                    tenant_alias,
                    media_named(media_name).name,
                    cur_job_name,
                    _text_or_none(agent_id),
                    data_date,
                    _json(params),
                ),
            )
            return cur.lastrowid

    def record_run_end(
        self,
        run_log_id: int,
        *,
        status: RunStatus | str,
        accounts_requested: int,
        accounts_succeeded: int,
        accounts_failed: int,
        records: int,
        message: str | None = None,
    ) -> None:
        """Close a run-log row with its outcome; `message` is redacted (errors may quote tokens)."""
        status = RunStatus(status)
        if status is RunStatus.STARTED:
            raise ValueError("a run ends as SUCCEEDED, FAILED or CANCELED, not STARTED")
        with self._cursor() as cur:
            updated = cur.execute(
                self._sql(END_RUN),
                (
                    status.value,
                    accounts_requested,
                    accounts_succeeded,
                    accounts_failed,
                    records,
                    None if message is None else redact_text(message),
                    run_log_id,
                ),
            )
            if updated != 1:
                raise LookupError(f"no run-log row {run_log_id} in {self.log_database}.api_result_log")

    def close_open_runs(self, run_id: str, *, status: RunStatus | str, reason: str) -> int:
        """End every row `run_id` left STARTED (the run was killed, cancelled or lost), with the reason.

        Returns:
            how many rows were closed (0 when the run's steps had ended all of them).
        """
        status = RunStatus(status)
        if status is RunStatus.STARTED or status is RunStatus.SUCCEEDED:
            raise ValueError("a run that never ended its rows closes them as FAILED or CANCELED")
        with self._cursor() as cur:
            return cur.execute(self._sql(CLOSE_OPEN_RUNS), (status.value, redact_text(reason)[:2000], run_id))

    def mark_alerted(self, run_log_id: int) -> None:
        """Note that an alert for this row went out (so the run's failure is not alerted twice)."""
        with self._cursor() as cur:
            cur.execute(self._sql(MARK_ALERTED), (run_log_id,))

    def was_alerted(self, run_id: str) -> bool:
        """Whether any row of `run_id` already sent its alert."""
        with self._cursor() as cur:
            cur.execute(self._sql(ALERTED_ROWS), (run_id,))
            (count,) = cur.fetchone()
            return count > 0

    # -- request and response logs ----------------------------------------------------------------

    def log_requests(self, rows: Sequence[RequestLog]) -> int:
        """Insert request-log rows in one batch; returns how many were written."""
        return self._insert_many(
            INSERT_REQUESTS,
            [
                (
                    r.run_id,
                    media_named(r.media_name).name,
                    r.endpoint,
                    r.tenant_alias,
                    _text_or_none(r.agent_id),
                    _text_or_none(r.account_id),
                    _json(r.params),
                    r.requested_at,
                )
                for r in rows
            ],
        )

    def log_responses(self, rows: Sequence[ResponseLog]) -> int:
        """Insert response-log rows in one batch; returns how many were written."""
        return self._insert_many(
            INSERT_RESPONSES,
            [
                (
                    r.request_log_id,
                    r.run_id,
                    media_named(r.media_name).name,
                    r.endpoint,
                    _text_or_none(r.account_id),
                    r.http_status,
                    r.code,
                    None if r.message is None else redact_text(r.message),
                    r.trace_id,
                    r.attempt,
                    r.latency_ms,
                    None if r.body is None else redact_text(r.body),
                    r.received_at,
                )
                for r in rows
            ],
        )

    # -- eton: tenants and agents -----------------------------------------------------------------

    def active_tenants(self) -> list[str]:
        """Aliases of the tenants whose status is 1 (active), sorted."""
        with self._cursor() as cur:
            cur.execute(self._sql(ACTIVE_TENANTS))
            return [alias for (alias,) in cur.fetchall()]

    def active_agents(self, tenant_alias: str, media: MediaDefinition | str) -> list[Agent]:
        """The tenant's agents at `media` with a usable authorisation (auth_status 1/2, auth_type 1)."""
        with self._cursor() as cur:
            cur.execute(self._sql(ACTIVE_AGENTS), (tenant_alias, media_named(media).platform_id))
            return [
                Agent(agent_id=agent_id, name=name, level=level, parent_agent_id=parent)
                for agent_id, name, level, parent in cur.fetchall()
            ]

    # -- plumbing ---------------------------------------------------------------------------------

    def _databases(self) -> tuple[str, str]:
        """The log and eton database names, backquoted (validated at construction)."""
        return f"`{self.log_database}`", f"`{self.eton_database}`"

    def _sql(self, template: str) -> str:
        log, eton = self._databases()
        return template.format(log=log, eton=eton)

    def _server_url(self) -> sqlalchemy.URL:
        """The server for alembic (the password travels inside the URL object, never as text)."""
        return sqlalchemy.URL.create(
            "mysql+pymysql",
            username=self.user,
            password=self.password,
            host=self.host,
            port=self.port,
            query={"charset": "utf8mb4", "connect_timeout": str(self.connect_timeout)},
        )

    def _migrations(self, call: Callable[[], _T]) -> _T:
        """`call()`, with a connection failure reported as the platform's errors say it."""
        try:
            return call()
        except sqlalchemy.exc.OperationalError as exc:
            cause = exc.orig if isinstance(exc.orig, pymysql.OperationalError) else None
            if cause is not None and _code(cause) == _ER_ACCESS_DENIED:
                raise MySQLAccessDenied(self.host, self.port, self.user, _reason(cause)) from None
            if cause is not None and _code(cause) in _CLIENT_ERRORS:
                raise self._unavailable(cause) from None
            raise

    def _insert_many(self, template: str, values: list[tuple[Any, ...]]) -> int:
        if not values:
            return 0
        with self._cursor() as cur:
            cur.executemany(self._sql(template), values)
        return len(values)

    @contextmanager
    def _cursor(self) -> Iterator[Cursor]:
        """A cursor on a fresh connection, committed on success and always closed."""
        conn = self._connect()
        try:
            with conn.cursor() as cur:
                yield cur
            conn.commit()
        except pymysql.OperationalError as exc:
            if _code(exc) in _CLIENT_ERRORS:
                raise self._unavailable(exc) from exc
            raise
        except pymysql.ProgrammingError as exc:
            if _code(exc) == _ER_NO_SUCH_TABLE and f"{self.log_database}." in _reason(exc):
                raise SchemaNotMigrated(self.log_database, self.host, self.port, _reason(exc)) from exc
            raise
        finally:
            conn.close()

    def _connect(self) -> pymysql.connections.Connection:
        try:
            return pymysql.connect(
                host=self.host,
                port=self.port,
                user=self.user,
                password=self.password,
                charset="utf8mb4",
                connect_timeout=self.connect_timeout,
                # rowcount = rows matched, not rows changed, so an UPDATE can tell "no such row"
                client_flag=CLIENT.FOUND_ROWS,
            )
        except pymysql.OperationalError as exc:
            # pymysql's texts name the user and host, never the password.
            if _code(exc) == _ER_ACCESS_DENIED:
                raise MySQLAccessDenied(self.host, self.port, self.user, _reason(exc)) from exc
            raise self._unavailable(exc) from exc

    def _unavailable(self, exc: pymysql.OperationalError) -> ServiceUnavailable:
        return ServiceUnavailable("MySQL", self.host, self.port, _reason(exc), _ENV_HINT)


def mysql_resource_from_env() -> MySQLResource:
    """The resource the settings configure (ARK_MYSQL_*).

    Set variables arrive as `EnvVar`s that Dagster resolves at run time; outside Dagster call
    `.process_config_and_initialize()` on the result first.
    """
    s = settings()
    return MySQLResource(
        host=configured(s, "mysql_host"),
        port=configured(s, "mysql_port"),
        user=configured(s, "mysql_user"),
        password=configured(s, "mysql_password"),
        log_database=configured(s, "mysql_log_db"),
        eton_database=configured(s, "mysql_eton_db"),
    )


def _json(params: Mapping[str, Any]) -> str:
    """Parameters as JSON with secrets removed; dates and other values become their text."""
    return json.dumps(redact(dict(params)), ensure_ascii=False, default=str)


def _text_or_none(value: int | str | None) -> str | None:
    return None if value is None else str(value)


def _code(exc: pymysql.OperationalError) -> int | None:
    return exc.args[0] if exc.args and isinstance(exc.args[0], int) else None


def _reason(exc: pymysql.OperationalError) -> str:
    return str(exc.args[1]) if len(exc.args) > 1 else str(exc)
