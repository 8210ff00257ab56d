"""MariaDB from Debian's package, on 127.0.0.1:3306, with the platform's user created.

The user (`ARK_MYSQL_USER`/`ARK_MYSQL_PASSWORD`, default ark/ark) gets rights to create the
platform's databases (`nyfz` for logs, `eton` for tenants and agents) and the tests' own.
When a MariaDB the machine started already listens on 3306, it is reused: the user is created
through its local socket as root if it does not exist yet.
"""

from __future__ import annotations

import ipaddress
import os
import shutil
import subprocess
from pathlib import Path

import pymysql

from ark_stack.process import ManagedProcess, port_open, wait_until
from ark_stack.service import Service, StackError, require_program

PORT = 3306
# Sockets where a MariaDB started by the machine listens (Debian's default first).
_SYSTEM_SOCKETS = (
    Path("/run/mysqld/mysqld.sock"),
    Path("/var/run/mysqld/mysqld.sock"),
    Path("/tmp/mysql.sock"),
)


def _credentials() -> tuple[str, str]:
    return os.environ.get("ARK_MYSQL_USER", "ark"), os.environ.get("ARK_MYSQL_PASSWORD", "ark")


class MariaDBService(Service):
    name = "mariadb"
    port = PORT

    @property
    def socket(self) -> Path:
        return self.paths.data("mariadb") / "mysqld.sock"

    def processes(self) -> list[ManagedProcess]:
        return [self.managed("mariadb")]

    def apt_packages(self) -> list[str]:
        if shutil.which("mariadbd") and shutil.which("mariadb"):
            return []
        return ["mariadb-server", "mariadb-client"]

    def prepare(self) -> None:
        datadir = self.paths.data("mariadb") / "data"
        if (datadir / "mysql").is_dir():
            return
        datadir.mkdir(parents=True, exist_ok=True)
        install_db = require_program("mariadb-install-db", "install Debian's mariadb-server package")
        argv = [
            install_db,
            f"--datadir={datadir}",
            "--auth-root-authentication-method=socket",
            "--skip-test-db",
        ] + self._user_args()
        result = subprocess.run(argv, capture_output=True, text=True)
        if result.returncode != 0:
            raise StackError(f"mariadb-install-db failed: {result.stderr.strip()[-500:]}")

    def start(self) -> None:
        server = require_program("mariadbd", "install Debian's mariadb-server package")
        data = self.paths.data("mariadb")
        self.processes()[0].start(
            [
                server,
                "--no-defaults",
                f"--datadir={data / 'data'}",
                f"--socket={self.socket}",
                f"--pid-file={data / 'mysqld.pid'}",
                f"--port={self.port}",
                f"--bind-address={self.address}",
                "--skip-name-resolve",
                "--character-set-server=utf8mb4",
                "--collation-server=utf8mb4_unicode_ci",
                "--innodb-buffer-pool-size=128M",
                "--max-connections=300",
            ]
            + self._user_args()
        )

    def wait_ready(self) -> None:
        if not wait_until(lambda: self.socket.exists() and port_open(self.port, self.address), timeout=60):
            raise StackError(f"mariadb did not open port {self.port}; see {self.processes()[0].log_file}")
        self._ensure_user(self.socket)

    def adopt_external(self) -> None:
        """Make the machine's MariaDB usable: create the platform user if it is missing."""
        try:
            self.probe()
            return
        except pymysql.err.OperationalError:
            pass
        for sock in _SYSTEM_SOCKETS:
            if sock.exists():
                self._ensure_user(sock)
                return
        user, _ = _credentials()
        raise StackError(
            f"a MariaDB/MySQL on port {self.port} refuses user {user!r} and no local root socket was found; "
            f"create the user there or set ARK_MYSQL_USER/ARK_MYSQL_PASSWORD"
        )

    def probe(self) -> str:
        user, password = _credentials()
        conn = pymysql.connect(
            host=self.address, port=self.port, user=user, password=password, connect_timeout=5
        )
        try:
            with conn.cursor() as cur:
                cur.execute("SELECT 1, VERSION()")
                one, version = cur.fetchone()
            if one != 1:
                raise StackError("SELECT 1 returned something else")
            return f"SELECT 1 ok, {version}"
        finally:
            conn.close()

    def _ensure_user(self, sock: Path) -> None:
        user, password = _credentials()
        client = require_program("mariadb", "install Debian's mariadb-client package")
        # Values are sent as SQL string literals through the local root socket; quote them safely.
        quoted_user, quoted_password = (pymysql.converters.escape_string(v) for v in (user, password))
        statements = "".join(
            f"CREATE USER IF NOT EXISTS '{quoted_user}'@'{host}' IDENTIFIED BY '{quoted_password}';"
            f"ALTER USER '{quoted_user}'@'{host}' IDENTIFIED BY '{quoted_password}';"
            f"GRANT ALL PRIVILEGES ON *.* TO '{quoted_user}'@'{host}';"
            for host in self._client_hosts()
        )
        result = subprocess.run(
            [client, f"--socket={sock}", "-uroot", "--batch"],
            input=statements,
            capture_output=True,
            text=True,
        )
        if result.returncode != 0:
            raise StackError(
                f"could not create the MySQL user {user!r} via {sock}: {result.stderr.strip()[-300:]}"
            )

    def _client_hosts(self) -> list[str]:
        """Where the platform's user may log in from: loopback, and the hosts' subnet when bound to one."""
        hosts = ["127.0.0.1", "localhost"]
        if self.clients:
            network = ipaddress.ip_network(self.clients)
            hosts.append(f"{network.network_address}/{network.netmask}")
        return hosts

    @staticmethod
    def _user_args() -> list[str]:
        # mariadbd refuses to run as root unless told to; elsewhere it runs as the invoking user.
        return ["--user=root"] if os.geteuid() == 0 else []
