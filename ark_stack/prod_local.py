"""`ark-stack prod-local up|down` (`make prod-local`): Dagster's production topology on loopback.

From the shipped files only: `deploy/dagster.production.yaml` copied verbatim into a
`DAGSTER_HOME` of its own (Postgres storage, the queued run coordinator with the per-media
limits and pools, run monitoring), a `dagster-webserver`, a `dagster-daemon` and two Celery
workers (`dagster-celery worker start`) on a Redis db of their own, every process with
`ARK_EXECUTOR=celery` so each step of every run (one per media) is a Celery task one of the
workers executes, and with `ARK_ENV=production`: every address, user and app set explicitly, as
a real deployment must (`Topology.production_settings`). Before anything starts, the schemas a
deploy migrates once: Dagster's (`dagster instance migrate`) and the run log's (`ark-assets db
upgrade`). The media simulator
and the demo tenant come as in `make demo`.

`Topology` is also what the topology tests run (ark_assets_tests/test_production_topology.py),
on free ports with their own DAGSTER_HOME, Postgres database, broker db, simulator and `ARK_*`
names, so they run beside a live `make prod-local`. Processes are the stack's ManagedProcesses:
pid files with start times, so `down` stops exactly what `up` started and nothing else.
"""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, TypeVar

import redis
import requests
import yaml
from celery import Celery

from ark_assets.execution import BACKEND_VAR, BROKER_VAR, EXECUTOR_VAR, worker_config
from ark_assets.media.registry import all_media
from ark_assets.media.registry import names as media_names
from ark_assets.partitions import partition_key, tenant_partitions
from ark_sim.process import SimulatorProcess, SimulatorStartError
from ark_stack import task_speed
from ark_stack.paths import StackPaths
from ark_stack.process import Launcher, ManagedProcess, port_open, port_owner, wait_until
from ark_stack.progress import Reporter
from ark_stack.service import LOOPBACK, StackError
from ark_stack.services import kafka, mariadb, postgres

T = TypeVar("T")

ROOT = Path(__file__).resolve().parents[1]
PRODUCTION_YAML = ROOT / "deploy" / "dagster.production.yaml"
LOCATION = "ark_assets"
REPOSITORY = "__repository__"  # the repository name Dagster gives a `Definitions` object
UI_PORT = 3001
SIM_PORT = 8601  # not the demo's 8600: the two can run (and stop) independently
BROKER_DB = 5  # never the platform's db 2
WORKERS = ("w1", "w2")
WORKER_CONCURRENCY = 2  # step processes per worker (the machine's cores)
READY_TIMEOUT_S = 240


def _bin(name: str) -> str:
    return str(Path(sys.executable).with_name(name))


@dataclass(frozen=True)
class Topology:
    """One production topology on loopback: web server, daemon, Celery workers, simulator.

    Args:
        paths: where pid files and logs go (the stack's `.stack/`, or a test's own directory).
        home: the DAGSTER_HOME (dagster.yaml, the worker YAML, local artifacts).
        pg_database: the Postgres database holding this instance's runs, events and ticks.
        pg_port: the PostgreSQL server's port on loopback (the stack's, or a test's private one).
        broker_db: the Redis db of the Celery broker and result backend.
        workers: Celery worker names (`-n NAME@%h`).
        extra_env: more variables for every process (tests: their ARK_* names, apps, intervals).
        sim_config: a TOML of simulator knobs (tests: their own apps and quotas).
        prefix: the pid-file and log-file prefix of this topology's processes.
        inherit_ark_env: pass the caller's ARK_* variables on (prod-local: your settings apply;
            tests: False, they set every name themselves).
    """

    paths: StackPaths
    home: Path
    ui_port: int = UI_PORT
    sim_port: int = SIM_PORT
    broker_db: int = BROKER_DB
    pg_database: str = "dagster"
    pg_port: int = postgres.PORT
    workers: tuple[str, ...] = WORKERS
    extra_env: Mapping[str, str] = field(default_factory=dict)
    sim_config: Path | None = None
    profile: str = "small"
    prefix: str = "prod-local"
    inherit_ark_env: bool = True
    make: str = "prod-local"  # the make target that brings it up (and `-down` stops it)

    @classmethod
    def local(cls, paths: StackPaths) -> Topology:
        """What `make prod-local` runs: `.stack/prod_home`, the UI on 127.0.0.1:3001."""
        return cls(paths=paths, home=paths.root / "prod_home")

    # ----- where each role runs: every role on this machine's loopback, sharing one DAGSTER_HOME.
    # A role is "services" (Postgres, Redis, the simulator), "control" (web server, daemon) or a
    # worker's name; ark_stack.prod_hosts.HostsTopology puts each on a host of its own.

    def address(self, role: str) -> str:
        """The address `role`'s processes listen on and are reached at."""
        return LOOPBACK

    def host(self, role: str) -> Launcher | None:
        """The host `role`'s processes run in (None: here)."""
        return None

    def home_of(self, role: str) -> Path:
        """`role`'s DAGSTER_HOME (each host has its own copy of dagster.yaml)."""
        return self.home

    def workdir(self, role: str) -> Path:
        """`role`'s processes' working directory."""
        return ROOT

    def sim_config_on(self, role: str) -> Path | None:
        """Where `role`'s host reads the simulator's knobs (`sim_config`) from."""
        return self.sim_config

    def client(self, fn: Callable[..., T], *args: Any) -> T:
        """`fn(*args)` where a client reaches the topology (here: anywhere on this machine)."""
        return fn(*args)

    def node(self, worker: str) -> str:
        """A worker's Celery node name: dagster-celery names it NAME@<hostname>."""
        return f"{worker}@{socket.gethostname()}"

    # ----- what every process gets

    @property
    def url(self) -> str:
        return f"http://{self.address('control')}:{self.ui_port}"

    @property
    def broker_url(self) -> str:
        return f"redis://{self.address('services')}:6379/{self.broker_db}"

    def worker_yaml(self, worker: str) -> Path:
        return self.home_of(worker) / "celery-worker.yaml"

    def env(self, role: str = "control") -> dict[str, str]:
        """The environment of `role`'s processes: the web server, the daemon, the workers (and so of
        every run and step)."""
        user, password, _ = postgres.credentials()
        sim = self.address("services")
        media = {}
        for name in media_names():  # the simulator serves the report files itself
            url = f"http://{sim}:{self.sim_port}/{name}"
            media |= {f"ARK_{name.upper()}_BASE_URL": url, f"ARK_{name.upper()}_DOWNLOAD_URL": url}
        # the virtualenv's bin first: `dagster-celery worker start` runs `celery` from PATH
        path = f"{Path(sys.executable).parent}:{os.environ.get('PATH', '/usr/bin:/bin')}"
        return {
            **self.production_settings(),
            **_inherited(self.inherit_ark_env),
            "PATH": path,
            "DAGSTER_HOME": str(self.home_of(role)),
            "DAGSTER_PG_HOST": self.address("services"),
            "DAGSTER_PG_PORT": str(self.pg_port),
            "DAGSTER_PG_USERNAME": user,
            "DAGSTER_PG_PASSWORD": password,
            "DAGSTER_PG_DB": self.pg_database,
            EXECUTOR_VAR: "celery",
            BROKER_VAR: self.broker_url,
            BACKEND_VAR: self.broker_url,
            **media,
            **task_speed.TASK_ENV,  # the local simulator's async tasks (its SIM_TASKS), unless told
            **self.extra_env,
        }

    def production_settings(self) -> dict[str, str]:
        """`ARK_ENV=production` and everything it requires, set explicitly as a real deployment
        sets it (README "Production mode"): the services on this topology's services address, the
        stack's MySQL user, and each media's app (the simulator's, as its declaration names it);
        the caller's and the tests' variables override them."""
        services = self.address("services")
        mysql_user, mysql_password = mariadb.credentials()
        apps = {}
        for media in all_media():
            upper = media.name.upper()
            apps |= {f"ARK_{upper}_APP_ID": media.app.app_id, f"ARK_{upper}_APP_SECRET": media.app.secret}
        return {
            "ARK_ENV": "production",
            "ARK_REDIS_HOST": services,
            "ARK_MYSQL_HOST": services,
            "ARK_MYSQL_USER": mysql_user,
            "ARK_MYSQL_PASSWORD": mysql_password,
            "ARK_HBASE_HOST": services,
            "ARK_KAFKA_BOOTSTRAP": f"{services}:{kafka.PORT}",
            **apps,
        }

    def process(self, role: str) -> ManagedProcess:
        """`sim`, `webserver`, `daemon` or `worker-<name>`: its pid file and log."""
        name = f"{self.prefix}-{role}"
        return ManagedProcess(
            name,
            self.paths.pids / f"{name}.pid",
            self.paths.logs / f"{name}.log",
            stop_tree=True,
            launcher=self.host(_placed(role)),
        )

    def processes(self) -> dict[str, ManagedProcess]:
        roles = ["sim", "webserver", "daemon", *(f"worker-{w}" for w in self.workers)]
        return {role: self.process(role) for role in roles}

    # ----- up

    def prepare(self) -> None:
        """The Postgres database, DAGSTER_HOME with the shipped dagster.yaml, the worker YAML."""
        self.paths.make_dirs()
        self.client(
            lambda: postgres.ensure_database(self.pg_database, self.pg_port, host=self.address("services"))
        )
        for role in ("control", *self.workers):
            home = self.home_of(role)
            home.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(PRODUCTION_YAML, home / "dagster.yaml")  # verbatim: what production loads
        for worker in self.workers:
            config = worker_config(self.env(worker))
            self.worker_yaml(worker).write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
        # The schemas once, before any process starts, as a deploy migrates them: a web server and
        # a daemon creating the tables of a fresh database at the same moment race, and one of them
        # exits; the steps write run-log rows into a log schema they never create themselves.
        self._run([_bin("dagster"), "instance", "migrate"], f" on Postgres database {self.pg_database}")
        self._run([_bin("ark-assets"), "db", "upgrade"], " (the run log's MySQL schema)")

    def start_simulator(self) -> None:
        """The media simulator on 127.0.0.1:`sim_port`, detached as `make demo` starts it, and
        recorded in this topology's pid file (so `down` stops it)."""
        proc = self.process("sim")
        if proc.process() is not None:
            return
        self._port_free(self.sim_port, "the simulator")
        sim = SimulatorProcess(
            config_path=self.sim_config,
            overrides={"profile": self.profile, "media": task_speed.SIM_TASKS},
            port=self.sim_port,
            log_path=proc.log_file,
            env=self.env(),
            detached=True,
            start_timeout_s=60,
        )
        try:
            sim.start()
        except SimulatorStartError as exc:
            raise StackError(f"the simulator did not start: {exc}") from None
        proc.adopt(sim.pid, sim.argv)

    def start(self) -> None:
        """Spawn what is not running yet: web server, daemon, workers (readiness: `wait_ready`)."""
        env, workdir = self.env("control"), self.workdir("control")
        workspace = str(ROOT / "workspace.yaml")
        webserver = self.process("webserver")
        if webserver.process() is None:
            self._port_free(self.ui_port, "the web server")
            webserver.start(
                [
                    _bin("dagster-webserver"),
                    "-w",
                    workspace,
                    "-h",
                    self.address("control"),
                    "-p",
                    str(self.ui_port),
                ],
                cwd=workdir,
                env=env,
            )
        daemon = self.process("daemon")
        if daemon.process() is None:
            daemon.start([_bin("dagster-daemon"), "run", "-w", workspace], cwd=workdir, env=env)
        for name in self.workers:
            self.start_worker(name)

    def start_worker(self, name: str) -> None:
        """One Celery worker `NAME@<host>` listening on this topology's broker, with its own log."""
        proc = self.process(f"worker-{name}")
        if proc.process() is not None:
            return
        argv = [
            _bin("dagster-celery"),
            "worker",
            "start",
            "-A",
            "dagster_celery.app",
            "-y",
            str(self.worker_yaml(name)),
            "-n",
            name,  # dagster-celery appends "@%h": the node is NAME@<host>
            "--",
            f"--concurrency={WORKER_CONCURRENCY}",
        ]
        proc.start(argv, cwd=self.workdir(name), env=self.env(name))

    def wait_ready(self, timeout: float = READY_TIMEOUT_S) -> None:
        """Until the web server answers GraphQL with the code location loaded, the daemon's
        required daemons are healthy and every worker answers a ping through the broker."""
        checks = {
            "the web server's GraphQL with code location `ark_assets` loaded": self._location_loaded,
            "the daemon (its required daemons healthy)": self.daemon_healthy,
            **{f"Celery worker {w}": (lambda w=w: self.worker_ready(w)) for w in self.workers},
        }
        deadline = time.monotonic() + timeout
        for what, check in checks.items():
            remaining = max(1.0, deadline - time.monotonic())
            if not wait_until(lambda check=check: self.alive() and check(), timeout=remaining, interval=1.0):
                raise StackError(f"timed out after {timeout:.0f} s waiting for {what}; see {self.paths.logs}")

    def worker_ready(self, name: str) -> bool:
        """The worker answers a ping through the broker (a real round trip, not a log line)."""

        def ping() -> bool:
            app = Celery(broker=self.broker_url)
            try:
                node = self.node(name)
                return any(node in reply for reply in app.control.ping(destination=[node], timeout=1.0))
            finally:
                app.close()

        return self.client(ping)

    def seed(self, tenant: str, days: list[date]) -> None:
        """A tenant's data as `make demo` seeds it (`ark-sim seed`: eton rows, Redis tokens and
        account lists per day). Before the daemon starts, so its sensors find the eton tables."""
        for day in days:
            argv = [
                _bin("ark-sim"),
                "seed",
                "--tenant",
                tenant,
                "--date",
                day.isoformat(),
                "--profile",
                self.profile,
            ]
            if self.sim_config is not None:
                argv += ["--config", str(self.sim_config_on("control"))]
            self._run(argv, f" for {day}")

    def set_pool(self, pool: str, limit: int) -> None:
        """`dagster instance concurrency set POOL LIMIT` on this instance, as an operator narrows or
        widens a media's pool (the slots live in Postgres; the shipped default is in dagster.yaml)."""
        self._run([_bin("dagster"), "instance", "concurrency", "set", pool, str(limit)])

    def add_tenant(self, tenant: str) -> None:
        """The tenant as a `tenants` partition, added through the web server (as the UI adds one)."""
        data = self.graphql(
            """mutation($repo: RepositorySelector!, $name: String!, $key: String!) {
                 addDynamicPartition(repositorySelector: $repo, partitionsDefName: $name,
                                     partitionKey: $key) {
                   __typename ... on PythonError { message } ... on UnauthorizedError { message } } }""",
            {"repo": self.repository(), "name": tenant_partitions.name, "key": tenant},
        )["addDynamicPartition"]
        if data["__typename"] not in ("AddDynamicPartitionSuccess", "DuplicateDynamicPartitionError"):
            raise StackError(f"could not add tenant partition {tenant}: {data.get('message', data)}")

    def up(self, reporter: Reporter, *, tenant: str, days: list[date]) -> None:
        """prepare, simulator, processes, readiness, the seeded tenant; prints where things are."""
        self.prepare()
        reporter.step(
            f"media simulator on {self.address('services')}:{self.sim_port} (profile {self.profile})"
        )
        self.start_simulator()
        with reporter.waiting(f"seeding tenant {tenant} for {len(days)} days (eton rows, Redis keys)"):
            self.seed(tenant, days)
        reporter.step(
            f"starting dagster-webserver ({self.address('control')}:{self.ui_port}), dagster-daemon and "
            f"Celery workers "
            f"{', '.join(self.workers)} (broker {self.broker_url}, Postgres database {self.pg_database})"
        )
        self.start()
        with reporter.waiting("waiting for the web server, the daemon and the workers") as update:
            update("GraphQL, daemon heartbeats, worker pings")
            self.wait_ready()
        self.add_tenant(tenant)
        example = partition_key(days[0], tenant)
        reporter.step(f"web UI: {self.url}  (runs execute their steps in the Celery workers)")
        reporter.step(f"logs: {self.paths.logs}/{self.prefix}-*.log; DAGSTER_HOME: {self.home_of('control')}")
        reporter.step(f"materialize e.g. partition {example} from the UI; stop with `make {self.make}-down`")

    # ----- down

    def down(self) -> list[str]:
        """Stop what `up` started, by pid file: the daemon first (nothing new is launched), then
        the rest side by side."""
        procs = self.processes()
        daemon = procs.pop("daemon")
        stopped = [daemon.name] if daemon.stop(timeout=30) else []
        with ThreadPoolExecutor(max_workers=len(procs)) as pool:
            results = list(pool.map(lambda proc: proc.stop(timeout=30), procs.values()))
        return stopped + [proc.name for proc, done in zip(procs.values(), results, strict=True) if done]

    # ----- GraphQL

    def repository(self) -> dict[str, str]:
        return {"repositoryLocationName": LOCATION, "repositoryName": REPOSITORY}

    def graphql(self, query: str, variables: dict[str, Any] | None = None, *, timeout: float = 30) -> dict:
        """One GraphQL request to the web server (what the UI sends); raises on GraphQL errors."""
        response = self.client(
            lambda: requests.post(
                f"{self.url}/graphql", json={"query": query, "variables": variables or {}}, timeout=timeout
            )
        )
        if response.status_code != 200:
            raise StackError(
                f"GraphQL at {self.url} answered HTTP {response.status_code}: {response.text[:1500]}"
            )
        body = response.json()
        if body.get("errors"):
            raise StackError(f"GraphQL error from {self.url}: {body['errors']}")
        return body["data"]

    def _location_loaded(self) -> bool:
        try:
            data = self.graphql(
                """{ workspaceOrError { ... on Workspace { locationEntries {
                     name loadStatus locationOrLoadError { __typename } } } } }""",
                timeout=5,
            )
        except (requests.RequestException, StackError):
            return False
        return any(
            e["name"] == LOCATION
            and e["loadStatus"] == "LOADED"
            and e["locationOrLoadError"]["__typename"] == "RepositoryLocation"
            for e in data["workspaceOrError"]["locationEntries"]
        )

    def daemon_healthy(self, since: float | None = None) -> bool:
        """Every required daemon healthy, with heartbeats newer than `since` (default: this daemon
        process's start, since a daemon that just stopped leaves healthy-looking heartbeats)."""
        daemon = self.process("daemon").process()
        if daemon is None:
            return False
        try:
            data = self.graphql(
                """{ instance { daemonHealth { allDaemonStatuses {
                     daemonType healthy required lastHeartbeatTime } } } }""",
                timeout=5,
            )
        except (requests.RequestException, StackError):
            return False
        since = daemon.create_time() if since is None else since
        statuses = [s for s in data["instance"]["daemonHealth"]["allDaemonStatuses"] if s["required"]]
        return bool(statuses) and all(
            s["healthy"] and (s["lastHeartbeatTime"] or 0) >= since for s in statuses
        )

    def alive(self, *, but: tuple[str, ...] = ()) -> bool:
        """True, or a StackError naming every process (but the workers in `but`) that is not running."""
        roles = ["webserver", "daemon", *(f"worker-{w}" for w in self.workers if w not in but)]
        dead = [self.process(r) for r in roles if self.process(r).process() is None]
        if dead:
            raise StackError(
                "; ".join(f"{p.name} exited, the end of {p.log_file}:\n{_tail(p)}" for p in dead)
            )
        return True

    def _run(self, argv: list[str], what: str = "") -> None:
        """One command in this topology's environment; a StackError with its output's end if it fails
        (`what`, e.g. " for 2026-11-25", says what the command was for)."""
        host = self.host("control")  # an operator's command: where the web server and daemon run
        if host is not None:
            argv = host.wrap(argv, cwd=self.workdir("control"))
        result = subprocess.run(argv, env=self.env(), cwd=ROOT, capture_output=True, text=True)
        if result.returncode != 0:
            command = " ".join([Path(argv[0]).name, *argv[1:]])
            raise StackError(f"`{command}`{what} failed: {result.stderr.strip()[-1500:]}")

    def _port_free(self, port: int, what: str) -> None:
        address = self.address("control")
        if self.client(port_open, port, address):
            raise StackError(
                f"{address}:{port} (for {what}) is taken by {port_owner(port)}; stop it or free the port"
            )


def free_broker_db() -> int:
    """An empty Redis db for a private topology's broker: never the platform's db 2, never
    prod-local's db 5, so a test or a benchmark runs beside a live `make prod-local`."""
    free = [db for db in range(6, 16) if redis.Redis(db=db).dbsize() == 0]
    if not free:
        raise StackError("no empty Redis db among 6-15 for a Celery broker; flush a stale one")
    return secrets.choice(free)


def _placed(process_role: str) -> str:
    """The role whose host runs a process: `sim` on services, web server and daemon on control."""
    if process_role.startswith("worker-"):
        return process_role.removeprefix("worker-")
    return "services" if process_role.startswith("sim") else "control"


def _tail(proc: ManagedProcess, lines: int = 25) -> str:
    """The last lines of a process's log (why it exited), for the error message."""
    text = proc.log_since(max(0, proc.log_offset() - 20_000))
    return "\n".join(text.splitlines()[-lines:])


def _inherited(ark: bool) -> dict[str, str]:
    """The caller's environment without its DAGSTER_* settings (and ARK_* unless `ark`): this
    topology sets its own DAGSTER_HOME and Postgres database."""
    return {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("DAGSTER_") and (ark or not k.startswith("ARK_"))
    }
