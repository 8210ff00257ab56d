"""What every stack service can do: install, start, wait, probe, report status, stop."""

from __future__ import annotations

import shutil
from abc import ABC, abstractmethod
from dataclasses import dataclass

from ark_stack.paths import StackPaths
from ark_stack.process import Launcher, ManagedProcess, port_open, port_owner
from ark_stack.progress import Reporter

LOOPBACK = "127.0.0.1"


class StackError(RuntimeError):
    """A stack service could not be installed, started or probed; the message says what to do."""


@dataclass(frozen=True)
class ServiceStatus:
    name: str
    endpoint: str
    healthy: bool
    owner: str  # "stack (pid …)", "external" or "-"
    memory_mb: float | None
    detail: str


class Service(ABC):
    """One service of the local stack, listening on `port` (its client-facing port).

    The local stack's services listen on loopback. Given a `host` (`ark_stack.hosts.Host`: the
    multi-host topology's services host), a service runs inside it, listens on its `address`
    only, and lets in clients of its `subnet`.
    """

    name: str
    port: int

    def __init__(self, paths: StackPaths, reporter: Reporter, *, host: Launcher | None = None) -> None:
        self.paths = paths
        self.reporter = reporter
        self.host = host
        self.address = host.address if host else LOOPBACK
        self.clients = host.subnet if host else None  # CIDR of the clients let in; None: loopback

    # ----- what each service defines

    @property
    def endpoint(self) -> str:
        """host:port (or several) a client connects to, for the status table."""
        return f"{self.address}:{self.port}"

    @abstractmethod
    def processes(self) -> list[ManagedProcess]:
        """The processes this service runs when the stack starts it."""

    def apt_packages(self) -> list[str]:
        """Debian packages to install when the service's programs are missing."""
        return []

    def prepare(self) -> None:
        """Fetch or generate what `start` needs (jars, config, data directories)."""
        self.paths.data(self.name).mkdir(parents=True, exist_ok=True)

    def adopt_external(self) -> None:  # noqa: B027  (most services need nothing)
        """Make a service the machine already runs on our port usable (e.g. create the platform's user)."""

    @abstractmethod
    def start(self) -> None:
        """Spawn the processes; returns without waiting for readiness."""

    @abstractmethod
    def wait_ready(self) -> None:
        """Block until the freshly started service is ready, or raise StackError."""

    @abstractmethod
    def probe(self) -> str:
        """A real round trip against the service; returns a short detail or raises."""

    # ----- shared behaviour

    def managed(self, name: str) -> ManagedProcess:
        return ManagedProcess(
            name, self.paths.pids / f"{name}.pid", self.paths.logs / f"{name}.log", launcher=self.host
        )

    def owned(self) -> list[ManagedProcess]:
        return [p for p in self.processes() if p.process() is not None]

    def running_externally(self) -> bool:
        """Something that is not ours already listens on the service's port."""
        if self.host is not None:
            return False  # a host's namespaces are new: only what this code starts runs there
        return not self.owned() and port_open(self.port, self.address)

    def status(self) -> ServiceStatus:
        owned = self.owned()
        if owned:
            pids = ",".join(str(p.process().pid) for p in owned if p.process())
            owner = f"stack (pid {pids})"
        elif port_open(self.port, self.address):
            owner = "external"
        else:
            return ServiceStatus(self.name, self.endpoint, False, "-", None, "not running")
        memory = sum(p.rss_mb() or 0.0 for p in owned) or None
        if owned and len(owned) < len(self.processes()):
            missing = ", ".join(p.name for p in self.processes() if p not in owned)
            return ServiceStatus(self.name, self.endpoint, False, owner, memory, f"{missing} not running")
        try:
            detail = self.probe()
        except Exception as exc:  # a probe failure of any kind means "unhealthy", shown to the user
            return ServiceStatus(self.name, self.endpoint, False, owner, memory, f"probe failed: {exc}")
        return ServiceStatus(self.name, self.endpoint, True, owner, memory, detail)

    def stop(self) -> list[str]:
        """Stop the processes we started (in reverse start order); returns their names."""
        return [p.name for p in reversed(self.processes()) if p.stop()]

    def ensure_port_free_or_ours(self, port: int) -> None:
        if not any(p.process() for p in self.processes()) and port_open(port, self.address):
            raise StackError(
                f"{self.name}: port {port} is already taken by {port_owner(port)}, which does not answer "
                f"as {self.name}; stop it or free the port, then run `make stack` again"
            )


def require_program(program: str, hint: str) -> str:
    """Absolute path of `program`, or a StackError saying how to get it."""
    path = shutil.which(program)
    if path is None:
        raise StackError(f"`{program}` not found on PATH; {hint}")
    return path
