"""The `nyfz` run, request and response logs, under alembic: versioned, applied once, never per step.

`upgrade(...)` brings a log database to the newest revision (creating the database when it
is missing) and is what `ark-assets db upgrade` runs at deploy and `make stack` runs at stack
start; a fetch step only writes rows. The `eton` database belongs to an upstream system: nothing
here creates or alters it.

Revisions are plain SQL in `versions/` (MariaDB/MySQL), one file per change, each with an
upgrade and a downgrade; alembic keeps the applied one in `{log}.alembic_version`.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

HERE = Path(__file__).parent


def _config(engine: sqlalchemy.Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(HERE))
    config.attributes["connection_engine"] = engine
    return config


@contextmanager
def _engine(url: sqlalchemy.URL) -> Iterator[sqlalchemy.Engine]:
    engine = sqlalchemy.create_engine(url, poolclass=sqlalchemy.pool.NullPool)
    try:
        yield engine
    finally:
        engine.dispose()


def head() -> str:
    """The newest revision of the log schema."""
    return ScriptDirectory(str(HERE)).get_current_head()


def upgrade(url: sqlalchemy.URL, database: str) -> str:
    """Create `database` if missing and migrate it to the newest revision; returns that revision.

    Args:
        url: the server (user and password included, never logged), without a database.
        database: the log database, already validated as an identifier.
    """
    with _engine(url) as server, server.begin() as conn:
        conn.execute(
            sqlalchemy.text(
                f"CREATE DATABASE IF NOT EXISTS `{database}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
            )
        )
    with _engine(url.set(database=database)) as engine, _revisions_logged():
        command.upgrade(_config(engine), "head")
    return current(url, database) or ""


@contextmanager
def _revisions_logged() -> Iterator[None]:
    """alembic's INFO lines name each revision as it is applied: what an operator wants to see."""
    logger = logging.getLogger("alembic.runtime.migration")
    level = logger.level
    logger.setLevel(logging.INFO)
    try:
        yield
    finally:
        logger.setLevel(level)


def downgrade(url: sqlalchemy.URL, database: str, revision: str) -> None:
    """Migrate `database` back to `revision` (`base` removes every table of the log schema)."""
    with _engine(url.set(database=database)) as engine:
        command.downgrade(_config(engine), revision)


def current(url: sqlalchemy.URL, database: str) -> str | None:
    """The revision `database` is at, or None when it was never migrated (or does not exist)."""
    with _engine(url.set(database=database)) as engine:
        try:
            with engine.connect() as conn:
                return MigrationContext.configure(conn).get_current_revision()
        except sqlalchemy.exc.OperationalError:
            return None
