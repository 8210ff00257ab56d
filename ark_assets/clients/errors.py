"""Errors the resources raise when a backing service cannot be used.

A data engineer who sees one of these should learn, from the message alone, which service,
where it was expected, and how to fix it -- never a password or token.
"""

from __future__ import annotations

STACK_HINT = "start the local stack with `make stack`"


class ServiceUnavailable(ConnectionError):
    """A backing service (Redis, MySQL, HBase, Kafka) could not be reached at host:port."""

    def __init__(self, service: str, host: str, port: int, reason: str, env_vars: str) -> None:
        self.service = service
        self.host = host
        self.port = port
        self.reason = reason
        super().__init__(
            f"{service} at {host}:{port} is unreachable ({reason}); "
            f"{STACK_HINT}, or point {env_vars} at a running {service}"
        )


class TableNotFound(LookupError):
    """An HBase table that a read expected does not exist (the seed's Thrift `IOError`)."""

    def __init__(self, table: str) -> None:
        self.table = table
        super().__init__(
            f"HBase table {table!r} does not exist; create it with HBaseResource.ensure_table "
            f"(families info/col, SNAPPY, pre-split at 1|..9|) before reading it"
        )


class MySQLAccessDenied(PermissionError):
    """MySQL answered but refused the configured user (wrong user or password)."""

    def __init__(self, host: str, port: int, user: str, reason: str) -> None:
        self.host = host
        self.port = port
        self.user = user
        super().__init__(
            f"MySQL at {host}:{port} refused user {user!r} ({reason}); "
            f"check ARK_MYSQL_USER/ARK_MYSQL_PASSWORD"
        )


class SchemaNotMigrated(LookupError):
    """The log database lacks the platform's tables: its schema was never migrated (or is behind)."""

    def __init__(self, database: str, host: str, port: int, reason: str) -> None:
        self.database = database
        super().__init__(
            f"the log database {database!r} at {host}:{port} is not migrated ({reason}); run "
            f"`ark-assets db upgrade` (make stack does it for the local stack) before materializing"
        )
