"""Several hosts on one machine: Linux network, mount and UTS namespaces joined by a bridge.

A `Network` is what `make prod-hosts` and the multi-host tests stand on. Each `Host` is
- a network namespace (`ip netns`, `{prefix}-{name}`) whose only link, `eth0`, is one end of a
  veth pair; the other end sits on a bridge in a namespace of its own (`{prefix}-lan`), so the
  hosts reach each other at their addresses on a private /24 and nothing else: no route leaves
  the subnet, and the root namespace's network is never touched (every link is created inside
  the namespaces, `ip -n`);
- a mount and UTS namespace, held open by a small holder process, in which the whole filesystem
  is read-only except a private tmpfs on /tmp and /dev/shm and the host's own directory; the
  other hosts' directories are hidden (a tmpfs over their parent). The code and the virtualenv
  are readable, as an installed package is, but nothing can be written where another host could
  read it: a product file one process writes and another host's process reads fails loudly here.
  Its hostname is its name, so Celery nodes are `NAME@host`.

Processes start inside a host through `nsenter` (`Host.wrap`, a `process.Launcher`); clients of
the orchestrator (readiness checks, GraphQL, SQL) run in a thread that joined the host's network
namespace (`Host.call`), since the root namespace has no route to the hosts. Everything is
recorded in `{root}/network.json`, so `Network.load(root).down()` removes it after a crash too:
every process in the namespaces, the holders, the namespaces and, with them, every link.
"""

from __future__ import annotations

import ctypes
import json
import os
import pwd
import shutil
import signal
import subprocess
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import psutil

from ark_stack.process import ManagedProcess, wait_until
from ark_stack.service import StackError

T = TypeVar("T")
SUBNET = "10.213.0"  # the hosts' /24: private, and inside namespaces this code creates only
FIRST_ADDRESS = 10
NETNS_DIR = Path("/run/netns")
_CLONE_NEWNET = 0x40000000
_LIBC = ctypes.CDLL(None, use_errno=True)
_HOLDER_READY = "ark-host-ready"
# The holder: private /tmp and /dev/shm, only this host's directory visible among the hosts',
# an /etc/hosts naming every host, everything else read-only; then it sleeps, keeping the
# namespaces for the host's processes.
_HOLDER_SCRIPT = f"""set -e
hostname "$ARK_HOSTNAME"
mount --make-rprivate /
mount --bind "$ARK_HOST_DIR" /mnt
mount -t tmpfs -o mode=1777,size=2g ark-tmp /tmp
mount -t tmpfs -o mode=1777,size=512m ark-shm /dev/shm
mkdir -p "$ARK_HOSTS_DIR"
mount -t tmpfs -o mode=755,size=1m ark-hosts "$ARK_HOSTS_DIR"
mkdir -p "$ARK_HOST_DIR"
mount --move /mnt "$ARK_HOST_DIR"
printf '%s\n' "$ARK_ETC_HOSTS" > "$ARK_HOSTS_DIR/.etc-hosts"
mount --bind "$ARK_HOSTS_DIR/.etc-hosts" /etc/hosts
mount -o remount,ro "$ARK_HOSTS_DIR"
mount -o remount,bind,ro /
echo {_HOLDER_READY}
exec sleep infinity
"""


def require_tools() -> None:
    """`ip`, `nsenter`, `unshare` (iproute2, util-linux) and root: what several hosts need."""
    if os.geteuid() != 0:
        raise StackError("several hosts need root (network and mount namespaces); run as root")
    missing = [tool for tool in ("ip", "nsenter", "unshare", "socat") if shutil.which(tool) is None]
    if missing:
        raise StackError(
            f"{', '.join(missing)} not found; install Debian's iproute2, util-linux and socat "
            f"(`make prod-hosts` installs them)"
        )


def _ip(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(["ip", *args], capture_output=True, text=True)
    if check and result.returncode != 0:
        raise StackError(f"`ip {' '.join(args)}` failed: {result.stderr.strip()}")
    return result


def _enter_netns(path: str) -> None:
    """Move the calling thread into the network namespace at `path` (sockets it opens live there)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        if _LIBC.setns(fd, _CLONE_NEWNET) != 0:
            errno = ctypes.get_errno()
            raise OSError(errno, f"setns({path}): {os.strerror(errno)}")
    finally:
        os.close(fd)


@dataclass
class Host:
    """One host: its namespaces, address, private directory, and how to run things in it."""

    name: str
    netns: str
    address: str
    root: Path  # its private directory: the same path inside the host and outside
    holder: ManagedProcess
    peer: str  # its veth's end on the bridge (`ip -n {lan} link set {peer} down` cuts it off)
    lan: str
    _pool: ThreadPoolExecutor | None = field(default=None, repr=False, compare=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    @property
    def subnet(self) -> str:
        return f"{SUBNET}.0/24"

    def holder_pid(self) -> int:
        proc = self.holder.process()
        if proc is None:
            raise StackError(f"host {self.name} is not up (its namespace holder is gone)")
        return proc.pid

    def wrap(self, argv: list[str], *, cwd: Path | None = None, user: str | None = None) -> list[str]:
        """`argv` run inside this host (`nsenter` into its network, mount and UTS namespaces)."""
        wrapped = ["nsenter", f"--target={self.holder_pid()}", "--net", "--mount", "--uts"]
        wrapped.append(f"--wd={cwd or self.root}")
        if user is not None:
            record = pwd.getpwnam(user)
            wrapped += [f"--setuid={record.pw_uid}", f"--setgid={record.pw_gid}"]
        return [*wrapped, "--", *argv]

    def run(
        self, argv: list[str], *, env: dict[str, str] | None = None, timeout: float | None = None
    ) -> subprocess.CompletedProcess[str]:
        """A command inside this host, to its end (output captured)."""
        return subprocess.run(
            self.wrap(argv),
            env={**os.environ, **(env or {})},
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    def call(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """`fn(*args, **kwargs)` in a thread inside this host's network namespace (a client there)."""
        with self._lock:
            if self._pool is None:
                path = str(NETNS_DIR / self.netns)
                self._pool = ThreadPoolExecutor(8, f"net-{self.name}", _enter_netns, (path,))
        return self._pool.submit(fn, *args, **kwargs).result()

    def close(self) -> None:
        """End the client threads (they hold the network namespace open)."""
        with self._lock:
            if self._pool is not None:
                self._pool.shutdown(wait=True)
                self._pool = None

    def reach(self, address: str, port: int, *, cut: bool) -> None:
        """Cut this host off from one service (`address`:`port`), or undo it: a routing rule makes
        that destination unreachable from here (connections fail, established ones stall)."""
        rule = ["to", address, "ipproto", "tcp", "dport", str(port), "unreachable"]
        _ip("-n", self.netns, "rule", "add" if cut else "del", *rule)

    def link(self, *, up: bool) -> None:
        """Connect this host to the bridge, or cut it off (its link taken down, as a pulled cable)."""
        _ip("-n", self.lan, "link", "set", self.peer, "up" if up else "down")


class Network:
    """Hosts on one bridge, created and removed as a whole; recorded in `{root}/network.json`.

    Args:
        root: where the hosts' directories (`{root}/hosts/{name}`), the holders' pid files and
            logs, and the record go.
        prefix: the namespaces' prefix (unique per network, at most 8 characters).
        names: the hosts, in address order (the first is .10, the next .11, ...).
    """

    def __init__(self, root: Path, prefix: str, names: list[str]) -> None:
        if len(prefix) > 8 or not prefix.replace("-", "").isalnum():
            raise StackError(f"network prefix {prefix!r}: at most 8 letters, digits or '-'")
        self.root = root
        self.prefix = prefix
        self.lan = f"{prefix}-lan"
        self.hosts: dict[str, Host] = {}
        for index, name in enumerate(names):
            holder = ManagedProcess(
                f"host-{name}", root / "run" / f"host-{name}.pid", root / "log" / f"host-{name}.log"
            )
            self.hosts[name] = Host(
                name=name,
                netns=f"{prefix}-{name}",
                address=f"{SUBNET}.{FIRST_ADDRESS + index}",
                root=root / "hosts" / name,
                holder=holder,
                peer=f"{prefix[:6]}v{index}",
                lan=self.lan,
            )

    @property
    def record(self) -> Path:
        return self.root / "network.json"

    @classmethod
    def load(cls, root: Path) -> Network | None:
        """The network recorded under `root`, or None when there is none."""
        try:
            data = json.loads((root / "network.json").read_text())
        except FileNotFoundError:
            return None
        return cls(root, data["prefix"], data["hosts"])

    def namespaces(self) -> list[str]:
        return [self.lan, *(h.netns for h in self.hosts.values())]

    # ----- up

    def up(self) -> None:
        """Namespaces, bridge, links, addresses, then a holder per host; waits until each is set up."""
        require_tools()
        self.root.mkdir(parents=True, exist_ok=True)
        self.record.write_text(json.dumps({"prefix": self.prefix, "hosts": list(self.hosts)}))
        (self.root / "hosts").mkdir(exist_ok=True)
        # PostgreSQL and MariaDB run as their own OS users inside a host's directory
        for path in (self.root, self.root / "hosts"):
            path.chmod(0o755)
        _ip("netns", "add", self.lan)
        _ip("-n", self.lan, "link", "add", "br0", "type", "bridge")
        _ip("-n", self.lan, "link", "set", "br0", "up")
        for host in self.hosts.values():
            host.root.mkdir(parents=True, exist_ok=True)
            host.root.chmod(0o755)
            _ip("netns", "add", host.netns)
            _ip("-n", self.lan, "link", "add", host.peer, "type", "veth",
                "peer", "name", "eth0", "netns", host.netns)  # fmt: skip
            _ip("-n", self.lan, "link", "set", host.peer, "master", "br0", "up")
            _ip("-n", host.netns, "addr", "add", f"{host.address}/24", "dev", "eth0")
            _ip("-n", host.netns, "link", "set", "eth0", "up")
            _ip("-n", host.netns, "link", "set", "lo", "up")  # a host's own loopback (its code servers)
        for host in self.hosts.values():
            self._start_holder(host)
        for host in self.hosts.values():
            ready = wait_until(
                lambda h=host: _HOLDER_READY in h.holder.log_since(0) or h.holder.process() is None,
                timeout=30,
            )
            if not ready or host.holder.process() is None:
                raise StackError(
                    f"host {host.name}'s namespaces were not set up; see {host.holder.log_file}:\n"
                    f"{host.holder.log_since(0)[-1500:]}"
                )

    def _start_holder(self, host: Host) -> None:
        host.holder.log_file.unlink(missing_ok=True)
        argv = [
            "ip", "netns", "exec", host.netns,
            "unshare", "--mount", "--uts", "--propagation", "private",
            "sh", "-c", _HOLDER_SCRIPT,
        ]  # fmt: skip
        env = {
            "ARK_HOSTNAME": host.name,
            "ARK_HOST_DIR": str(host.root),
            "ARK_HOSTS_DIR": str(self.root / "hosts"),
            # the hosts know each other by name, as on a LAN with DNS (Hadoop resolves its own name)
            "ARK_ETC_HOSTS": "\n".join(
                ["127.0.0.1 localhost", *(f"{h.address} {h.name}" for h in self.hosts.values())]
            ),
        }
        host.holder.start(argv, env=env)

    # ----- down

    def down(self, timeout: float = 30.0) -> list[str]:
        """Every process in the namespaces (TERM, then KILL), the namespaces and their links; the
        hosts' directories stay (their logs). Returns what was removed."""
        for host in self.hosts.values():
            host.close()
        removed = []
        members = [p for ns in self.namespaces() for p in _pids_in(ns)]
        for proc in members:
            _signal(proc, signal.SIGTERM)
        _, alive = psutil.wait_procs(members, timeout=timeout)
        for proc in alive:
            _signal(proc, signal.SIGKILL)
        psutil.wait_procs(alive, timeout=10)
        if members:
            removed.append(f"{len(members)} processes")
        for host in self.hosts.values():
            host.holder.stop(timeout=5)
        for ns in self.namespaces():
            if (NETNS_DIR / ns).exists():
                _ip("netns", "del", ns, check=False)
                removed.append(f"netns {ns}")
        self.record.unlink(missing_ok=True)
        return removed

    def leftovers(self) -> list[str]:
        """What of this network still exists: namespaces and processes in them (empty after `down`)."""
        left = [f"netns {ns}" for ns in self.namespaces() if (NETNS_DIR / ns).exists()]
        left += [f"pid {p.pid} in {ns}" for ns in self.namespaces() for p in _pids_in(ns)]
        left += [f"holder of {h.name}" for h in self.hosts.values() if h.holder.process() is not None]
        return left


def _pids_in(netns: str) -> list[psutil.Process]:
    """The processes in a named network namespace (`ip netns pids`), none if it does not exist."""
    if not (NETNS_DIR / netns).exists():
        return []
    result = _ip("netns", "pids", netns, check=False)
    procs = []
    for pid in result.stdout.split():
        try:
            procs.append(psutil.Process(int(pid)))
        except psutil.Error:
            continue
    return procs


def _signal(proc: psutil.Process, sig: signal.Signals) -> None:
    try:
        proc.send_signal(sig)
    except psutil.Error:
        pass
