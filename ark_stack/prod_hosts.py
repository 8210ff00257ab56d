"""`ark-stack prod-hosts up|down` (`make prod-hosts`): the production topology on several hosts.

The topology of `make prod-local`, with nothing shared but the network: four hosts
(`ark_stack.hosts`: network, mount and UTS namespaces on a bridge of their own, 10.213.0.0/24)
- `services` (.10): PostgreSQL, Redis, MariaDB, HBase with its Thrift servers, Kafka, each a
  separate instance from the loopback stack's (data under this topology's directory), listening
  on the host's address only, and the media simulator (it serves loopback only, by design: a
  socat relay on the host's address stands in for the media gateway production calls);
- `control` (.11): dagster-webserver and dagster-daemon (and so the run processes);
- `worker1`, `worker2` (.12, .13): one Celery worker each.
Each host has its own DAGSTER_HOME (its own copy of the shipped dagster.yaml), working directory
and /tmp; every client reaches a service by the services host's address, from the shipped
configuration (`deploy/dagster.production.yaml`, `DAGSTER_PG_*`, `ARK_*`) and nothing else.

`HostsTopology` is also what the multi-host tests (ark_assets_tests/test_production_hosts.py)
and `make bench-capacity` run.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, TypeVar

import requests

from ark_stack import task_speed
from ark_stack.hosts import Host, Network
from ark_stack.paths import StackPaths
from ark_stack.process import ManagedProcess, wait_until
from ark_stack.prod_local import Topology
from ark_stack.progress import Reporter
from ark_stack.service import Service, StackError
from ark_stack.services.hbase import HBaseService
from ark_stack.services.kafka import KafkaService
from ark_stack.services.mariadb import MariaDBService
from ark_stack.services.postgres import PostgresService
from ark_stack.services.redis import RedisService

T = TypeVar("T")
HOSTS = ("services", "control", "worker1", "worker2")
WORKERS = ("w1", "w2")  # on worker1, worker2
UI_PORT = 3000
SIM_PORT = 8600
BROKER_DB = 5
HBASE_HEAP = "1g"  # beside the loopback stack's HBase on 2 cores and 24 GiB
DIRECTORY = "prod-hosts"  # under the stack directory
# The namespaces of `make prod-hosts` are `ph<hash of its directory>-<host>`, so two work trees'
# topologies never collide; the tests and the bench use prefixes of their own.
PREFIX = "ph"
_TOOLS = ("iproute2", "util-linux", "socat")


class ServicesHost:
    """The services of the platform on the services host: the stack's own service code, bound to
    the host's address, with data, configuration and logs in the host's directory."""

    def __init__(self, host: Host, reporter: Reporter) -> None:
        self.host = host
        self.paths = StackPaths(root=host.root / "stack", cache=StackPaths.from_env().cache)
        self.reporter = reporter
        hbase = HBaseService(self.paths, reporter, host=host)
        hbase.master_heap = HBASE_HEAP
        self.services: list[Service] = [
            RedisService(self.paths, reporter, host=host),
            MariaDBService(self.paths, reporter, host=host),
            PostgresService(self.paths, reporter, host=host),
            hbase,
            KafkaService(self.paths, reporter, host=host),
        ]

    def up(self) -> None:
        """Install what is missing, prepare (jars, configs, data directories), start, wait ready."""
        from ark_stack.stack import install_packages

        self.paths.make_dirs()
        install_packages(self.services, self.reporter)
        for svc in self.services:
            svc.prepare()
        for svc in self.services:
            self.reporter.step(f"{svc.name}: starting on {self.host.name} ({svc.endpoint})")
            self.host.call(svc.start)  # its port checks are clients on the host
        for svc in self.services:  # JVM start-ups overlap; each check is a client on the host
            self.host.call(svc.wait_ready)

    def status(self) -> list[Any]:
        return [self.host.call(svc.status) for svc in self.services]

    def down(self) -> list[str]:
        stopped = []
        for svc in reversed(self.services):
            stopped += svc.stop()
        return stopped


@dataclass(frozen=True)
class HostsTopology(Topology):
    """The production topology with each role on a host of its own (see the module docstring)."""

    network: Network | None = None
    worker_hosts: tuple[str, ...] = ("worker1", "worker2")

    @classmethod
    def build(
        cls, root: Path, namespaces: str, *, extra_env: dict[str, str] | None = None, **kwargs: Any
    ) -> HostsTopology:
        """A topology whose network (namespaces `{namespaces}-*`), hosts and logs live under `root`."""
        network = Network(root, namespaces, list(HOSTS))
        # the services' addresses come with production mode's settings (Topology.production_settings)
        env = dict(extra_env or {})
        defaults: dict[str, Any] = {
            "ui_port": UI_PORT,
            "sim_port": SIM_PORT,
            "broker_db": BROKER_DB,
            "workers": WORKERS,
            "prefix": DIRECTORY,
            "make": "prod-hosts",
        }
        return cls(
            paths=StackPaths(root=root, cache=StackPaths.from_env().cache),
            home=root / "unused",  # each host has its own DAGSTER_HOME (home_of)
            network=network,
            extra_env=env,
            **(defaults | kwargs),
        )

    # ----- placement

    def on(self, role: str) -> Host:
        assert self.network is not None
        if role in self.workers:
            return self.network.hosts[self.worker_hosts[self.workers.index(role)]]
        return self.network.hosts[role]

    def address(self, role: str) -> str:
        return self.on(role).address

    def host(self, role: str) -> Host:
        return self.on(role)

    def home_of(self, role: str) -> Path:
        return self.on(role).root / "dagster_home"

    def workdir(self, role: str) -> Path:
        return self.on(role).root

    def sim_config_on(self, role: str) -> Path | None:
        return None if self.sim_config is None else self.on(role).root / "sim.toml"

    def prepare(self) -> None:
        """Topology.prepare, and the simulator's knobs deployed to the hosts that read them."""
        if self.sim_config is not None:
            for role in ("services", "control"):
                shutil.copyfile(self.sim_config, self.sim_config_on(role))
        super().prepare()

    def client(self, fn: Callable[..., T], *args: Any) -> T:
        """A client on the control host (where an operator's browser or script talks from)."""
        return self.on("control").call(fn, *args)

    def node(self, worker: str) -> str:
        return f"{worker}@{self.on(worker).name}"  # each host's hostname is its name

    # ----- the simulator behind a relay on the services host's address

    def processes(self) -> dict[str, ManagedProcess]:
        return {**super().processes(), "sim-gateway": self.process("sim-gateway")}

    def start_simulator(self) -> None:
        """`ark-sim serve` on the services host's loopback (the simulator binds nothing else, by
        design) and socat relaying the host's address to it, as a media gateway would."""
        host = self.on("services")
        sim = self.process("sim")
        if sim.process() is None:
            argv = [_venv_bin("ark-sim"), "serve", "--port", str(self.sim_port)]
            # Tencent's async tasks at loopback speed, as the platform paces them (task_speed.py)
            overrides = {"profile": self.profile, "media": task_speed.SIM_TASKS}
            argv += ["--overrides", json.dumps(overrides)]
            if self.sim_config is not None:
                argv += ["--config", str(self.sim_config_on("services"))]
            sim.start(argv, cwd=host.root, env=self.env("services"))
        relay = self.process("sim-gateway")
        if relay.process() is None:
            listen = f"TCP-LISTEN:{self.sim_port},bind={host.address},fork,reuseaddr"
            relay.start(["socat", listen, f"TCP:127.0.0.1:{self.sim_port}"], cwd=host.root)

        def answers() -> bool:
            try:
                url = f"http://{host.address}:{self.sim_port}/admin/counters"
                return requests.get(url, timeout=3).status_code == 200
            except requests.RequestException:
                return False

        if not wait_until(lambda: sim.process() is not None and self.client(answers), timeout=60):
            raise StackError(
                f"the simulator did not answer on {host.address}:{self.sim_port}; see {sim.log_file}"
            )

    @property
    def sim_url(self) -> str:
        return f"http://{self.address('services')}:{self.sim_port}"


def _venv_bin(name: str) -> str:
    return str(Path(sys.executable).with_name(name))


class ProdHosts:
    """What `make prod-hosts` runs: the network, the services host, the topology, the demo tenant."""

    def __init__(self, paths: StackPaths, reporter: Reporter | None = None) -> None:
        self.root = paths.root / DIRECTORY
        self.reporter = reporter or Reporter()
        unique = hashlib.sha1(str(self.root.resolve()).encode()).hexdigest()[:5]
        self.topology = HostsTopology.build(self.root, f"{PREFIX}{unique}")
        assert self.topology.network is not None
        self.network = self.topology.network
        self.services = ServicesHost(self.network.hosts["services"], self.reporter)

    def up(self, *, tenant: str, days: list[date]) -> None:
        if self.network.record.exists():
            raise StackError(
                f"a multi-host topology is already recorded in {self.root}; `make prod-hosts-down` first"
            )
        install_tools(self.reporter)
        try:
            with self.reporter.waiting("network namespaces, bridge and hosts") as update:
                update(", ".join(f"{h.name} {h.address}" for h in self.network.hosts.values()))
                self.network.up()
            self.services.up()
            self.topology.up(self.reporter, tenant=tenant, days=days)
        except BaseException:
            self.reporter.warn("bringing the hosts up failed; removing what was started")
            self.down()
            raise
        self.reporter.step(
            "hosts: "
            + ", ".join(f"{h.name} {h.address}" for h in self.network.hosts.values())
            + "; the UI is reached from the hosts' network, e.g. `ip netns exec "
            + f"{self.network.hosts['control'].netns} curl {self.topology.url}/server_info`"
        )

    def down(self) -> list[str]:
        """Stop every process, remove the namespaces (and so every link); the logs stay."""
        recorded = Network.load(self.root)
        stopped = self.topology.down() + self.services.down()
        if recorded is not None:
            stopped += recorded.down()
        return stopped


def install_tools(reporter: Reporter) -> None:
    """iproute2 (`ip netns`), util-linux (`nsenter`, `unshare`) and socat from Debian when missing."""
    from ark_stack.stack import apt_install

    if any(shutil.which(tool) is None for tool in ("ip", "nsenter", "unshare", "socat")):
        apt_install(list(_TOOLS), reporter)
