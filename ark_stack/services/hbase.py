"""HBase standalone (master, region server and ZooKeeper in one JVM) with its Thrift servers.

Three JVMs from the jars in the cache, all on loopback:
- `hbase-master`: local mode, ZooKeeper on 2181, master 16000, region server 16020;
- `hbase-thrift`: the Thrift1 server happybase speaks, on 9090;
- `hbase-thrift2`: the Thrift2 server on 9091, used only for DDL that Thrift1 cannot express
  (creating a table pre-split at `1|` … `9|`, as the seed's tables are).
"""

from __future__ import annotations

import time
from pathlib import Path

import happybase

from ark_assets.clients.hbase_admin import HBaseAdminClient
from ark_stack.jvm import java17, render_template, resolve_jars
from ark_stack.paths import StackPaths
from ark_stack.process import ManagedProcess, port_open
from ark_stack.service import LOOPBACK, Service, StackError

HBASE_VERSION = "2.6.1-hadoop3"
# hbase-thrift and hbase-compression-aircompressor exist on Maven Central only as the plain build.
HBASE_PLAIN_VERSION = "2.6.1"
THRIFT_PORT = 9090
THRIFT2_PORT = 9091
ZOOKEEPER_PORT = 2181
_READY_LINE = "Master has completed initialization"
_FATAL_LINES = (
    "Master exiting",
    "HMaster Aborted",
    "Address already in use",
    "UnknownHostException",
    "Failed construction of Master",
)
_START_TIMEOUT_S = 240
_PROBE_TABLE = "ark_stack_probe"
# Logging bindings that clash with log4j2 (Hadoop drags in reload4j).
_DUPLICATE_BINDINGS = ("slf4j-reload4j", "reload4j", "slf4j-log4j12", "logback-classic")


THRIFT1_MAIN = "org.apache.hadoop.hbase.thrift.ThriftServer"
THRIFT2_MAIN = "org.apache.hadoop.hbase.thrift2.ThriftServer"


def jvm_common(conf: Path, lib: Path) -> list[str]:
    """JVM options every HBase process of the stack starts with (JDK 17 flags, classpath)."""
    return [f"@{conf / 'jdk17.args'}", "-Djava.net.preferIPv4Stack=true", "-cp", f"{conf}:{lib}/*"]


def thrift_argv(
    java: str, conf: Path, lib: Path, port: int, *, main: str = THRIFT1_MAIN, address: str = LOOPBACK
) -> list[str]:
    """The command line of one Thrift server JVM on `address`:`port` against the stack's HBase.

    The stack starts its two with it; the fault tests start a private Thrift1 server on a free
    port with it, to kill and restart without touching the shared one.
    """
    return [
        java,
        "-Xms64m",
        "-Xmx384m",
        "-XX:+UseG1GC",
        *jvm_common(conf, lib),
        main,
        "-threadpool",
        "-p",
        str(port),
        "-b",
        address,
        "start",
    ]


def hbase_lib(paths: StackPaths) -> Path:
    """Where the resolved HBase jars are (after `make stack`)."""
    return paths.cache / f"hbase-{HBASE_VERSION}" / "lib"


class HBaseService(Service):
    name = "hbase"
    port = THRIFT_PORT
    master_heap = "2g"  # the multi-host topology's second HBase runs with less (ark_stack/prod_hosts.py)

    @property
    def endpoint(self) -> str:
        return f"{self.address}:{THRIFT_PORT} (thrift), :{THRIFT2_PORT} (thrift2), zk :{ZOOKEEPER_PORT}"

    def processes(self) -> list[ManagedProcess]:
        return [self.managed("hbase-master"), self.managed("hbase-thrift"), self.managed("hbase-thrift2")]

    @property
    def _home(self):
        return self.paths.cache / f"hbase-{HBASE_VERSION}"

    def prepare(self) -> None:
        self._java = java17()
        pom = render_template(
            "hbase-pom.xml", hbase_version=HBASE_VERSION, hbase_plain_version=HBASE_PLAIN_VERSION
        )
        self._lib = resolve_jars("HBase", pom, self._home, self.reporter, drop=_DUPLICATE_BINDINGS)
        conf = self.paths.conf("hbase")
        conf.mkdir(parents=True, exist_ok=True)
        data = self.paths.data("hbase")
        data.mkdir(parents=True, exist_ok=True)
        (conf / "hbase-site.xml").write_text(
            render_template(
                "hbase-site.xml", data_dir=data, zookeeper_port=ZOOKEEPER_PORT, address=self.address
            )
        )
        (conf / "log4j2.properties").write_text(render_template("hbase-log4j2.properties"))
        (conf / "jdk17.args").write_text(render_template("jdk17.args"))

    def start(self) -> None:
        for port in (THRIFT_PORT, THRIFT2_PORT, ZOOKEEPER_PORT, 16000, 16020):
            self.ensure_port_free_or_ours(port)
        conf = self.paths.conf("hbase")
        common = jvm_common(conf, self._lib)
        master, thrift, thrift2 = self.processes()
        self._master_log_offset = master.log_offset()
        # Heaps sized for a 2-core, 24 GiB machine running everything else beside it.
        master.start(
            [
                self._java,
                "-Dproc_master",
                "-Xms256m",
                f"-Xmx{self.master_heap}",
                "-XX:+UseG1GC",
                "-XX:OnOutOfMemoryError=kill -9 %p",
                *common,
                "org.apache.hadoop.hbase.master.HMaster",
                "start",
            ]
        )
        for proc, main, port in ((thrift, THRIFT1_MAIN, THRIFT_PORT), (thrift2, THRIFT2_MAIN, THRIFT2_PORT)):
            proc.start(thrift_argv(self._java, conf, self._lib, port, main=main, address=self.address))

    def wait_ready(self) -> None:
        master = self.processes()[0]
        deadline = time.monotonic() + _START_TIMEOUT_S
        with self.reporter.waiting("Starting HBase master (creates meta on the first run)") as update:
            while True:
                log = master.log_since(self._master_log_offset)
                fatal = next((line for line in _FATAL_LINES if line in log), None)
                if fatal or master.process() is None:
                    raise StackError(
                        f"HBase master failed to start ({fatal or 'process exited'}); see {master.log_file}"
                    )
                thrift_up = all(port_open(p, self.address) for p in (THRIFT_PORT, THRIFT2_PORT))
                if _READY_LINE in log and thrift_up:
                    break
                if time.monotonic() > deadline:
                    raise StackError(f"HBase was not ready after {_START_TIMEOUT_S} s; see {master.log_file}")
                update("master initialized" if _READY_LINE in log else "waiting for the master")
                time.sleep(1)
            update("probing through Thrift")
            self._probe_with_retries(deadline)

    def _probe_with_retries(self, deadline: float) -> None:
        # The first region assignments can lag the master's ready line by a few seconds.
        while True:
            try:
                self.probe()
                return
            except Exception as exc:
                if time.monotonic() > deadline:
                    raise StackError(f"HBase Thrift probe kept failing: {exc}") from exc
                time.sleep(2)

    def probe(self) -> str:
        """Create a SNAPPY table, put, get and drop it through happybase; check Thrift2 answers."""
        name = _PROBE_TABLE
        conn = happybase.Connection(self.address, THRIFT_PORT, timeout=30_000)
        try:
            if name.encode() in conn.tables():  # left over from an interrupted probe
                conn.delete_table(name, disable=True)
            conn.create_table(name, {"info": {"compression": "SNAPPY"}})
            try:
                table = conn.table(name)
                table.put(b"0|probe", {b"info:data": b"ok"})
                if table.row(b"0|probe") != {b"info:data": b"ok"}:
                    raise StackError("probe row did not read back")
            finally:
                conn.delete_table(name, disable=True)
        finally:
            conn.close()
        with HBaseAdminClient(self.address, THRIFT2_PORT, timeout_ms=30_000) as admin:
            admin.table_exists(name)
        return "create/put/get/drop ok (SNAPPY), thrift2 ok"
