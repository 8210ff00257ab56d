"""Kafka 3.9 in KRaft mode (one node as broker and controller) on 127.0.0.1:9092."""

from __future__ import annotations

import json
import subprocess
import time
import uuid

from kafka import KafkaConsumer, KafkaProducer, TopicPartition

from ark_stack.jvm import java17, render_template, resolve_jars
from ark_stack.process import ManagedProcess, port_open
from ark_stack.service import Service, StackError

KAFKA_VERSION = "3.9.2"
PORT = 9092
CONTROLLER_PORT = 9093
# A fixed cluster id: the data directory is formatted once and reused across restarts.
_CLUSTER_ID = "ArkAssetsLocalStack0Aw"
_READY_LINE = "Kafka Server started"
_START_TIMEOUT_S = 120
_PROBE_TOPIC = "ark_stack_probe"


class KafkaService(Service):
    name = "kafka"
    port = PORT

    def processes(self) -> list[ManagedProcess]:
        return [self.managed("kafka")]

    @property
    def _home(self):
        return self.paths.cache / f"kafka-{KAFKA_VERSION}"

    def prepare(self) -> None:
        self._java = java17()
        self._lib = resolve_jars(
            "Kafka", render_template("kafka-pom.xml", kafka_version=KAFKA_VERSION), self._home, self.reporter
        )
        conf = self.paths.conf("kafka")
        conf.mkdir(parents=True, exist_ok=True)
        data = self.paths.data("kafka")
        data.mkdir(parents=True, exist_ok=True)
        (conf / "server.properties").write_text(
            render_template(
                "kafka-server.properties",
                port=PORT,
                controller_port=CONTROLLER_PORT,
                data_dir=data,
                address=self.address,
            )
        )
        (conf / "log4j.properties").write_text(render_template("kafka-log4j.properties"))
        if not (data / "meta.properties").exists():
            result = self._run_java(
                "kafka.tools.StorageTool",
                "format",
                "-t",
                _CLUSTER_ID,
                "-c",
                str(conf / "server.properties"),
                "--ignore-formatted",
            )
            if result.returncode != 0:
                raise StackError(f"formatting Kafka storage failed: {result.stdout[-800:]}")

    def _java_args(self) -> list[str]:
        conf = self.paths.conf("kafka")
        return [f"-Dlog4j.configuration=file:{conf / 'log4j.properties'}", "-cp", f"{self._lib}/*"]

    def _run_java(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([self._java, *self._java_args(), *args], capture_output=True, text=True)

    def start(self) -> None:
        for port in (PORT, CONTROLLER_PORT):
            self.ensure_port_free_or_ours(port)
        proc = self.processes()[0]
        self._log_offset = proc.log_offset()
        # GC flags are kafka-run-class.sh's defaults; 512 MB is plenty for a dev broker.
        proc.start(
            [
                self._java,
                "-Xms256m",
                "-Xmx512m",
                "-server",
                "-XX:+UseG1GC",
                "-XX:MaxGCPauseMillis=20",
                "-XX:InitiatingHeapOccupancyPercent=35",
                "-XX:+ExplicitGCInvokesConcurrent",
                "-Djava.awt.headless=true",
                "-Djava.net.preferIPv4Stack=true",
                *self._java_args(),
                "kafka.Kafka",
                str(self.paths.conf("kafka") / "server.properties"),
            ]
        )

    def wait_ready(self) -> None:
        proc = self.processes()[0]
        deadline = time.monotonic() + _START_TIMEOUT_S
        with self.reporter.waiting("Starting Kafka (KRaft)") as update:
            while not (_READY_LINE in proc.log_since(self._log_offset) and port_open(PORT, self.address)):
                if proc.process() is None:
                    raise StackError(f"Kafka exited while starting; see {proc.log_file}")
                if time.monotonic() > deadline:
                    raise StackError(f"Kafka was not ready after {_START_TIMEOUT_S} s; see {proc.log_file}")
                update("waiting for the broker")
                time.sleep(1)
            update("produce/consume round trip")
            self.probe()

    def probe(self) -> str:
        """Produce one JSON event to the probe topic and consume exactly that record back."""
        payload = {"probe": uuid.uuid4().hex}
        producer = KafkaProducer(
            bootstrap_servers=f"{self.address}:{PORT}",
            max_block_ms=20_000,
            request_timeout_ms=20_000,
            value_serializer=lambda v: json.dumps(v).encode(),
        )
        try:
            sent = producer.send(_PROBE_TOPIC, payload).get(timeout=30)
        finally:
            producer.close(timeout=5)
        consumer = KafkaConsumer(
            bootstrap_servers=f"{self.address}:{PORT}", consumer_timeout_ms=20_000, group_id=None
        )
        try:
            partition = TopicPartition(_PROBE_TOPIC, sent.partition)
            consumer.assign([partition])
            consumer.seek(partition, sent.offset)
            message = next(iter(consumer), None)
        finally:
            consumer.close()
        if message is None or json.loads(message.value) != payload:
            raise StackError("the probe event was produced but could not be consumed back")
        return "produce/consume round trip ok"
