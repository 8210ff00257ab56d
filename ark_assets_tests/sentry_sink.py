"""A local stand-in for Sentry: an HTTP server on 127.0.0.1 that accepts envelopes and keeps them.

Point a `SentryResource` at `sink.dsn`, then assert on `sink.events` (parsed error/message events)
or on `sink.bodies` (every envelope's bytes after decompression -- what actually left the
process, for "this secret was never sent" checks).
"""

from __future__ import annotations

import gzip
import json
import re
import threading
import time
import zlib
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit

_ENVELOPE_PATH = re.compile(r"/api/(?P<project>\d+)/envelope/")


@dataclass(frozen=True)
class ReceivedEnvelope:
    """One envelope POST: its project, Content-Encoding, decompressed body and parsed parts."""

    project_id: int
    content_encoding: str
    body: bytes
    headers: dict[str, Any]
    items: list[tuple[dict[str, Any], bytes]]  # (item header, raw payload)


def parse_envelope(body: bytes) -> tuple[dict[str, Any], list[tuple[dict[str, Any], bytes]]]:
    """Split an envelope into its header and items (newline-delimited JSON headers, sized payloads)."""
    header_line, _, rest = body.partition(b"\n")
    items = []
    while rest.strip():
        item_line, _, rest = rest.partition(b"\n")
        item_header = json.loads(item_line)
        if "length" in item_header:  # a sized payload may itself contain newlines
            payload, rest = rest[: item_header["length"]], rest[item_header["length"] :]
            rest = rest.removeprefix(b"\n")
        else:
            payload, _, rest = rest.partition(b"\n")
        items.append((item_header, payload))
    return json.loads(header_line), items


def decompress(body: bytes, content_encoding: str) -> bytes:
    """The body as sent before compression. sentry-sdk 2.x uses brotli when the `brotli` package
    is installed and gzip -9 otherwise."""
    if content_encoding in ("", "identity"):
        return body
    if content_encoding == "gzip":
        return gzip.decompress(body)
    if content_encoding == "br":
        import brotli  # only installed, and only sent by the SDK, alongside the `brotli` package

        return brotli.decompress(body)
    raise ValueError(f"unsupported Content-Encoding {content_encoding!r}")


class SentrySink:
    """A threaded envelope receiver on a free loopback port; use as a context manager."""

    def __init__(self, *, public_key: str = "arkpublickey", project_id: int = 1, port: int = 0) -> None:
        self.public_key = public_key
        self.project_id = project_id
        self.port = port  # 0: a free one
        self._received: list[ReceivedEnvelope] = []
        self._changed = threading.Condition()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def dsn(self) -> str:
        if self._server is None:
            raise RuntimeError("the sink has no port until it is started")
        port = self._server.server_address[1]
        return f"http://{self.public_key}@127.0.0.1:{port}/{self.project_id}"

    @property
    def envelopes(self) -> list[ReceivedEnvelope]:
        with self._changed:
            return list(self._received)

    @property
    def bodies(self) -> list[bytes]:
        return [envelope.body for envelope in self.envelopes]

    @property
    def events(self) -> list[dict[str, Any]]:
        """Error and message events, in arrival order (sessions, client reports etc. left out)."""
        return [
            json.loads(payload)
            for envelope in self.envelopes
            for header, payload in envelope.items
            if header.get("type") == "event"
        ]

    def wait_for(self, count: int, timeout: float = 5.0) -> list[dict[str, Any]]:
        """The events once at least `count` have arrived; TimeoutError after `timeout` seconds."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while len(events := self.events) < count:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(f"the Sentry sink got {len(events)} of {count} events in {timeout} s")
                self._changed.wait(remaining)
            return events

    def start(self) -> SentrySink:
        handler = type("_BoundEnvelopeHandler", (_EnvelopeHandler,), {"sink": self})
        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), handler)
        self._thread = threading.Thread(target=self._server.serve_forever, name="sentry-sink", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None and self._thread is not None:
            self._server.shutdown()
            self._server.server_close()
            self._thread.join()

    def __enter__(self) -> SentrySink:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def _receive(self, envelope: ReceivedEnvelope) -> None:
        with self._changed:
            self._received.append(envelope)
            self._changed.notify_all()


class _EnvelopeHandler(BaseHTTPRequestHandler):
    sink: SentrySink  # bound per server by SentrySink.start

    def do_POST(self) -> None:
        match = _ENVELOPE_PATH.fullmatch(urlsplit(self.path).path)
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        if match is None:
            self._reply(404, {"detail": f"not an envelope endpoint: {self.path}"})
            return
        encoding = self.headers.get("Content-Encoding", "").strip().lower()
        try:
            body = decompress(body, encoding)
            headers, items = parse_envelope(body)
        except (ValueError, OSError, EOFError, zlib.error) as exc:  # bad JSON, gzip or sizes
            self._reply(400, {"detail": str(exc)})
            return
        self.sink._receive(ReceivedEnvelope(int(match["project"]), encoding, body, headers, items))
        self._reply(200, {"id": headers.get("event_id")})

    def _reply(self, status: int, payload: dict[str, Any]) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        """Keep the test output clean: the sink's records are its assertions."""
