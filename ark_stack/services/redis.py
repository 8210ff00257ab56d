"""Redis from Debian's package, on 127.0.0.1:6379 (tokens and account lists live in db 2), or a
host's address (`Service`)."""

from __future__ import annotations

import shutil

import redis

from ark_stack.process import ManagedProcess, port_open, wait_until
from ark_stack.service import Service, StackError, require_program

PORT = 6379


class RedisService(Service):
    name = "redis"
    port = PORT

    def processes(self) -> list[ManagedProcess]:
        return [self.managed("redis")]

    def apt_packages(self) -> list[str]:
        return [] if shutil.which("redis-server") else ["redis-server"]

    def start(self) -> None:
        server = require_program("redis-server", "install Debian's redis-server package")
        data = self.paths.data("redis")
        data.mkdir(parents=True, exist_ok=True)
        self.processes()[0].start(
            [
                server,
                "--port",
                str(self.port),
                "--bind",
                self.address,
                "--dir",
                str(data),
                "--daemonize",
                "no",
                # loopback only without a password; on a host, its private subnet is the firewall
                "--protected-mode",
                "no" if self.clients else "yes",
                "--logfile",
                "",
            ]
        )

    def wait_ready(self) -> None:
        if not wait_until(lambda: port_open(self.port, self.address), timeout=20):
            raise StackError(f"redis did not open port {self.port}; see {self.processes()[0].log_file}")

    def probe(self) -> str:
        client = redis.Redis(host=self.address, port=self.port, socket_timeout=3, socket_connect_timeout=3)
        try:
            if not client.ping():
                raise StackError("PING did not answer PONG")
            return f"PING ok, redis {client.info('server')['redis_version']}"
        finally:
            client.close()
