"""PostgreSQL from Debian's packages on 127.0.0.1:5432: the Dagster instance's storage in production.

`deploy/dagster.production.yaml` keeps runs, event logs, schedules and sensor ticks here, so the
web server, the daemon and every Celery worker see one instance. The cluster lives in
`.stack/data/postgres/pgdata` (initdb'd on first start), listens on loopback only and keeps its
Unix socket in that directory, where only the cluster's owner (and root) can reach it: local
socket connections are trusted, TCP connections need a password (SCRAM).

The platform's role and database (`DAGSTER_PG_USERNAME` / `DAGSTER_PG_PASSWORD` /
`DAGSTER_PG_DB`, default dagster/dagster/dagster) are created through that socket. The role may
create databases: the tests and `prod-local` keep their instances in databases of their own.

Postgres refuses to run as root: when the stack runs as root, initdb, the server and the role
the server run as Debian's `postgres` OS user, which owns the data directory. A PostgreSQL the
machine already runs on the port is reused: the role is created through its socket
(`/var/run/postgresql`) as that same OS user.
"""

from __future__ import annotations

import multiprocessing
import os
import pwd
import re
import signal
import subprocess
from collections.abc import Callable
from pathlib import Path

import psycopg2
from psycopg2 import sql

from ark_stack.paths import StackPaths
from ark_stack.process import Launcher, ManagedProcess, port_open, wait_until
from ark_stack.progress import Reporter
from ark_stack.service import LOOPBACK, Service, StackError

PORT = 5432
_BIN_GLOB = "/usr/lib/postgresql/*/bin"
_OS_USER = "postgres"  # Debian's package creates it
_SUPERUSER = "postgres"  # initdb's bootstrap role in our cluster (local socket, trust)
_SYSTEM_SOCKET_DIRS = (Path("/var/run/postgresql"), Path("/run/postgresql"), Path("/tmp"))
_IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
_START_TIMEOUT_S = 60


def credentials() -> tuple[str, str, str]:
    """(user, password, database) of the platform's role, from `DAGSTER_PG_*` (default dagster)."""
    user = os.environ.get("DAGSTER_PG_USERNAME", "dagster")
    database = os.environ.get("DAGSTER_PG_DB", "dagster")
    for variable, value in (("DAGSTER_PG_USERNAME", user), ("DAGSTER_PG_DB", database)):
        if not _IDENTIFIER.match(value):
            raise StackError(
                f"{variable}={value!r} is not a plain PostgreSQL name (lower-case letters, digits, "
                f"underscores; not starting with a digit); pick another"
            )
    return user, os.environ.get("DAGSTER_PG_PASSWORD", "dagster"), database


def binaries() -> Path | None:
    """The newest of Debian's PostgreSQL bin directories (`/usr/lib/postgresql/<major>/bin`)."""
    found = [Path(p) for p in Path("/").glob(_BIN_GLOB.lstrip("/")) if (Path(p) / "postgres").exists()]
    return max(found, key=lambda p: int(p.parent.name)) if found else None


def connect(port: int = PORT, database: str | None = None, *, timeout: int = 5, host: str = LOOPBACK):
    """A psycopg2 connection as the platform's role over TCP (to loopback unless `host` says)."""
    user, password, default_db = credentials()
    return psycopg2.connect(
        host=host,
        port=port,
        user=user,
        password=password,
        dbname=database or default_db,
        connect_timeout=timeout,
    )


def query(
    sql_text: str, args: tuple = (), *, port: int = PORT, database: str | None = None, host: str = LOOPBACK
) -> list[tuple]:
    """Rows of one query as the platform's role, on a connection of its own (so a restarted server
    is simply connected to again)."""
    conn = connect(port, database, host=host)
    try:
        with conn.cursor() as cur:
            cur.execute(sql_text, args)
            return cur.fetchall()
    finally:
        conn.close()


def ensure_database(name: str, port: int = PORT, *, host: str = LOOPBACK) -> None:
    """Create database `name` (owned by the platform's role) unless it exists: each Dagster
    instance (`make prod-local`, every topology test) keeps its storage in a database of its own."""
    _check_name("database", name)
    conn = connect(port, database="postgres", host=host)
    conn.autocommit = True  # CREATE DATABASE cannot run in a transaction
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
            if cur.fetchone() is None:
                cur.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    finally:
        conn.close()


def drop_database(name: str, port: int = PORT, *, host: str = LOOPBACK) -> None:
    """Drop database `name`, disconnecting whoever still uses it (the tests' clean-up)."""
    _check_name("database", name)
    conn = connect(port, database="postgres", host=host)
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
    finally:
        conn.close()


def _check_name(what: str, value: str) -> None:
    if not _IDENTIFIER.match(value):
        raise StackError(
            f"{what} name {value!r} is not a plain PostgreSQL name (lower-case letters, digits, "
            f"underscores; not starting with a digit)"
        )


class PostgresService(Service):
    """The stack's PostgreSQL (port 5432); a test may run a private one on another port and paths
    (as the fault tests run a private Thrift server) so that it can restart it."""

    name = "postgres"
    port = PORT

    def __init__(
        self, paths: StackPaths, reporter: Reporter, *, port: int = PORT, host: Launcher | None = None
    ) -> None:
        super().__init__(paths, reporter, host=host)
        self.port = port

    @property
    def pgdata(self) -> Path:
        return self.paths.data("postgres") / "pgdata"

    def processes(self) -> list[ManagedProcess]:
        return [
            ManagedProcess(
                "postgres",
                self.paths.pids / "postgres.pid",
                self.paths.logs / "postgres.log",
                stop_signal=signal.SIGINT,  # "fast" shutdown: clients are disconnected, data is flushed
                launcher=self.host,
            )
        ]

    def apt_packages(self) -> list[str]:
        return [] if binaries() else ["postgresql"]

    def prepare(self) -> None:
        credentials()  # a bad DAGSTER_PG_* name fails before anything starts
        if (self.pgdata / "PG_VERSION").exists():
            return
        bin_dir = self._bin_dir()
        self.pgdata.mkdir(parents=True, exist_ok=True)
        owner = _run_as()
        if owner:
            record = pwd.getpwnam(owner)
            for path in (self.paths.data("postgres"), self.pgdata):
                os.chown(path, record.pw_uid, record.pw_gid)
        self.pgdata.chmod(0o700)
        argv = [
            str(bin_dir / "initdb"),
            "-D",
            str(self.pgdata),
            "-U",
            _SUPERUSER,
            "--auth-local=trust",
            "--auth-host=scram-sha-256",
            "--encoding=UTF8",
            "--locale=C.UTF-8",
        ]
        result = subprocess.run(argv, capture_output=True, text=True, user=owner, cwd=self.pgdata)
        if result.returncode != 0:
            raise StackError(
                f"initdb of {self.pgdata} failed (as OS user {owner or _whoami()}): "
                f"{result.stderr.strip()[-600:]}; every directory above it must be searchable by that user"
            )
        if self.clients:  # initdb lets in loopback only: the platform's role from the hosts' subnet too
            with open(self.pgdata / "pg_hba.conf", "a", encoding="utf-8") as hba:
                hba.write(f"host all all {self.clients} scram-sha-256\n")

    def start(self) -> None:
        self.processes()[0].start(
            [
                str(self._bin_dir() / "postgres"),
                "-D",
                str(self.pgdata),
                "-p",
                str(self.port),
                "-c",
                f"listen_addresses={self.address}",
                "-c",
                f"unix_socket_directories={self.pgdata}",
                "-c",
                # the web server, the daemon, run processes, Celery workers and tests side by side
                "max_connections=300",
            ],
            cwd=self.pgdata,
            user=_run_as(),
        )

    def wait_ready(self) -> None:
        process = self.processes()[0]
        socket = self.pgdata / f".s.PGSQL.{self.port}"
        wait_until(
            lambda: process.process() is None or (socket.exists() and port_open(self.port, self.address)),
            _START_TIMEOUT_S,
        )
        if process.process() is None or not port_open(self.port, self.address):
            raise StackError(f"postgres did not open port {self.port}; see {process.log_file}")
        # After an unclean stop the server opens its port and then replays its WAL, refusing
        # connections ("the database system is starting up") until it is done: wait that out.
        wait_until(lambda: process.process() is None or self._accepts_connections(), _START_TIMEOUT_S)
        self._bootstrap(self.pgdata, None)

    def _accepts_connections(self) -> bool:
        try:
            psycopg2.connect(
                host=str(self.pgdata), port=self.port, user=_SUPERUSER, dbname="postgres", connect_timeout=2
            ).close()
        except psycopg2.OperationalError as exc:
            if "starting up" in str(exc) or "recovery" in str(exc):
                return False
            raise
        return True

    def adopt_external(self) -> None:
        """Reuse the machine's PostgreSQL: create the platform's role and database if they are missing."""
        try:
            self.probe()
            return
        except psycopg2.OperationalError:
            pass
        user, _, _ = credentials()
        if os.geteuid() == 0:
            for socket_dir in _SYSTEM_SOCKET_DIRS:
                if (socket_dir / f".s.PGSQL.{self.port}").exists():
                    self._bootstrap(socket_dir, _OS_USER)
                    return
        raise StackError(
            f"a PostgreSQL on port {self.port} refuses role {user!r} and its local socket cannot be "
            f"used here; create the role (LOGIN CREATEDB) and its database there, or set "
            f"DAGSTER_PG_USERNAME / DAGSTER_PG_PASSWORD / DAGSTER_PG_DB"
        )

    def probe(self) -> str:
        conn = connect(self.port, host=self.address)
        try:
            with conn.cursor() as cur:
                cur.execute("SELECT 1, current_setting('server_version')")
                one, version = cur.fetchone()
            if one != 1:
                raise StackError("SELECT 1 returned something else")
            return f"query ok, PostgreSQL {version.split()[0]}"
        finally:
            conn.close()

    def _bin_dir(self) -> Path:
        found = binaries()
        if found is None:
            raise StackError(
                f"PostgreSQL's programs are not under {_BIN_GLOB}; install Debian's postgresql package"
            )
        return found

    def _bootstrap(self, socket_dir: Path, os_user: str | None) -> None:
        """Create the platform's role and database through the cluster's socket.

        Our own cluster trusts its socket, which only its owner and root can reach: done here. A
        machine's cluster authenticates its socket by OS user (peer): done in a forked child that
        switched to `os_user`. Either way psycopg2 sends the password as a bound value, and it never
        appears in argv, a log or an error message.
        """
        user, password, database = credentials()
        args = (str(socket_dir), self.port, user, password, database)
        try:
            if os_user is None:
                ensure_role_and_database(*args)
            else:
                _in_child_as(os_user, ensure_role_and_database, *args)
        except (psycopg2.Error, OSError, StackError) as exc:
            detail = str(exc).replace(password, "***") if password else str(exc)
            raise StackError(
                f"could not create the PostgreSQL role {user!r} and database {database!r} through "
                f"{socket_dir}: {detail.strip()}"
            ) from None


def ensure_role_and_database(socket_dir: str, port: int, user: str, password: str, database: str) -> None:
    """As the cluster's superuser over its socket: the role (LOGIN CREATEDB, `password`) and its database."""
    conn = psycopg2.connect(host=socket_dir, port=port, user=_SUPERUSER, dbname="postgres")
    conn.autocommit = True  # CREATE DATABASE cannot run in a transaction
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (user,))
            verb = "ALTER" if cur.fetchone() else "CREATE"
            cur.execute(
                sql.SQL(verb + " ROLE {} LOGIN CREATEDB PASSWORD %s").format(sql.Identifier(user)),
                (password,),
            )
            cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", (database,))
            if cur.fetchone() is None:
                cur.execute(
                    sql.SQL("CREATE DATABASE {} OWNER {}").format(
                        sql.Identifier(database), sql.Identifier(user)
                    )
                )
    finally:
        conn.close()


def _run_as() -> str | None:
    """The OS user the server runs as: `postgres` when we are root (Postgres refuses root), else us."""
    if os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam(_OS_USER)
    except KeyError:
        raise StackError(
            f"running as root, PostgreSQL needs the {_OS_USER!r} OS user, which does not exist; install "
            f"Debian's postgresql package (it creates the user)"
        ) from None
    return _OS_USER


def _whoami() -> str:
    return pwd.getpwuid(os.geteuid()).pw_name


def _in_child_as(os_user: str, fn: Callable[..., None], *args: object) -> None:
    """Run `fn(*args)` in a forked child as `os_user` (we are root); raise its error here."""
    record = pwd.getpwnam(os_user)
    context = multiprocessing.get_context("fork")  # no exec: the interpreter may be unreadable to os_user
    reader, writer = context.Pipe(duplex=False)

    def child() -> None:
        try:
            os.setgid(record.pw_gid)
            os.setuid(record.pw_uid)
            fn(*args)
            writer.send(None)
        except Exception as exc:  # reported to the parent as text
            writer.send(f"{type(exc).__name__}: {exc}")

    process = context.Process(target=child, daemon=True)
    process.start()
    process.join(60)
    error = reader.recv() if reader.poll() else f"the child exited with {process.exitcode}"
    if error:
        raise StackError(f"as OS user {os_user}: {error}")
