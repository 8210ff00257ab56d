"""HDFS: one NameNode and one DataNode from Hadoop's Maven Central jars, on loopback.

Where FILE output goes when `ARK_HDFS_URL` is set (the seed's step 4, "upload files to HDFS").
Two JVMs from the jars in the cache:
- `hdfs-namenode`: RPC on 8020, WebHDFS (the REST API the platform writes through) on 9870;
- `hdfs-datanode`: data transfer 9866, HTTP 9864 (WebHDFS reads and writes are redirected
  there), IPC 9867; it registers as 127.0.0.1, so redirects never leave loopback.

The name and data directories live under the stack's data dir (`.stack/data/hdfs`); the
NameNode is formatted once, on the first start. Maven Central's hadoop-hdfs jar lacks the
`webapps/` resources of Hadoop's binary release (the NameNode's web pages): empty directories on
the classpath let the HTTP servers start, and WebHDFS, which is a servlet, not a page, works.
Ready means a real round trip: a file written through WebHDFS and read back.
"""

from __future__ import annotations

import subprocess
import time
import uuid

from ark_assets.clients.webhdfs import WebHdfsFiles
from ark_stack.jvm import java17, render_template, resolve_jars
from ark_stack.process import ManagedProcess, port_open
from ark_stack.service import Service, StackError

HADOOP_VERSION = "3.4.2"
RPC_PORT = 8020
HTTP_PORT = 9870  # WebHDFS: ARK_HDFS_URL=http://127.0.0.1:9870
DATANODE_PORT = 9866
DATANODE_HTTP_PORT = 9864
DATANODE_IPC_PORT = 9867
URL = f"http://127.0.0.1:{HTTP_PORT}"
_CLUSTER_ID = "ArkAssetsLocalHdfs"
_FATAL_LINES = ("Failed to start namenode", "Exception in secureMain", "Address already in use")
_START_TIMEOUT_S = 120
_WEBAPPS = ("hdfs", "datanode", "secondary", "static")
_NAMENODE = "org.apache.hadoop.hdfs.server.namenode.NameNode"
_DATANODE = "org.apache.hadoop.hdfs.server.datanode.DataNode"


class HdfsService(Service):
    name = "hdfs"
    port = HTTP_PORT

    @property
    def endpoint(self) -> str:
        return f"127.0.0.1:{HTTP_PORT} (webhdfs), :{RPC_PORT} (rpc), datanode :{DATANODE_HTTP_PORT}"

    def processes(self) -> list[ManagedProcess]:
        return [self.managed("hdfs-namenode"), self.managed("hdfs-datanode")]

    @property
    def _home(self):
        return self.paths.cache / f"hadoop-{HADOOP_VERSION}"

    def prepare(self) -> None:
        self._java = java17()
        pom = render_template("hdfs-pom.xml", hadoop_version=HADOOP_VERSION)
        self._lib = resolve_jars("Hadoop (HDFS)", pom, self._home, self.reporter)
        conf, data = self.paths.conf("hdfs"), self.paths.data("hdfs")
        for directory in (conf, data, *(conf / "webapps" / app for app in _WEBAPPS)):
            directory.mkdir(parents=True, exist_ok=True)
        ports = {
            "rpc_port": RPC_PORT,
            "http_port": HTTP_PORT,
            "datanode_port": DATANODE_PORT,
            "datanode_http_port": DATANODE_HTTP_PORT,
            "datanode_ipc_port": DATANODE_IPC_PORT,
        }
        (conf / "core-site.xml").write_text(render_template("hdfs-core-site.xml", data_dir=data, **ports))
        (conf / "hdfs-site.xml").write_text(render_template("hdfs-site.xml", data_dir=data, **ports))
        (conf / "log4j.properties").write_text(render_template("hdfs-log4j.properties"))
        (conf / "jdk17.args").write_text(render_template("jdk17.args"))
        if not (data / "name" / "current" / "VERSION").exists():
            self._format()

    def _format(self) -> None:
        """Format the NameNode's name directory (once: its data survives restarts)."""
        argv = [*self._jvm(128), _NAMENODE, "-format", "-nonInteractive", "-clusterid", _CLUSTER_ID]
        result = subprocess.run(argv, capture_output=True, text=True)
        if result.returncode != 0:
            raise StackError(f"formatting the HDFS NameNode failed: {(result.stdout + result.stderr)[-800:]}")

    def _jvm(self, heap_mb: int) -> list[str]:
        # Small heaps and the serial collector: one file system of a few thousand small files needs
        # little, and the machine (2 cores) runs HBase and Kafka beside it.
        conf = self.paths.conf("hdfs")
        return [
            self._java,
            f"@{conf / 'jdk17.args'}",
            f"-Xmx{heap_mb}m",
            "-XX:+UseSerialGC",
            "-Djava.net.preferIPv4Stack=true",
            "-cp",
            f"{conf}:{self._lib}/*",
        ]

    def start(self) -> None:
        for port in (RPC_PORT, HTTP_PORT, DATANODE_PORT, DATANODE_HTTP_PORT, DATANODE_IPC_PORT):
            self.ensure_port_free_or_ours(port)
        namenode, datanode = self.processes()
        self._offsets = [namenode.log_offset(), datanode.log_offset()]
        namenode.start([*self._jvm(256), _NAMENODE])
        datanode.start([*self._jvm(192), _DATANODE])

    def wait_ready(self) -> None:
        deadline = time.monotonic() + _START_TIMEOUT_S
        with self.reporter.waiting("Starting HDFS (NameNode, DataNode)") as update:
            while True:
                self._fail_if_dead()
                if port_open(HTTP_PORT) and port_open(DATANODE_HTTP_PORT):
                    try:
                        self.probe()
                        return
                    except Exception as exc:  # safe mode until the DataNode has reported
                        update(f"write/read through WebHDFS: {str(exc)[:80]}")
                else:
                    update("waiting for the NameNode and the DataNode")
                if time.monotonic() > deadline:
                    raise StackError(f"HDFS was not ready after {_START_TIMEOUT_S} s; see {self.paths.logs}")
                time.sleep(1)

    def _fail_if_dead(self) -> None:
        for proc, offset in zip(self.processes(), self._offsets, strict=True):
            log = proc.log_since(offset)
            fatal = next((line for line in _FATAL_LINES if line in log), None)
            if fatal or proc.process() is None:
                why = fatal or "process exited"
                raise StackError(f"{proc.name} failed to start ({why}); see {proc.log_file}")

    def probe(self) -> str:
        """Write a file through WebHDFS (the NameNode redirects to the DataNode), read it back, delete it."""
        files = WebHdfsFiles(URL, user="ark")
        path = f"/tmp/ark-stack-probe-{uuid.uuid4().hex[:8]}"
        payload = f"probe {uuid.uuid4().hex}"
        try:
            with files.open_write(path) as out:
                out.write(payload)
            with files.open_read(path) as back:
                if back.read() != payload:
                    raise StackError("the probe file was written but read back differently")
        finally:
            files.remove_tree(path)
        return "WebHDFS write/read ok"
