"""A loopback TCP proxy that can play a service restart: drop every connection, refuse, accept again.

The shared services must never be stopped (other engineers test against them), so a fault test
points a resource at this proxy instead and takes the *proxy* down: `outage(seconds)` resets
every open connection and closes the listening socket (new connections are refused, as by a
stopped server), then listens again on the same port.
"""

from __future__ import annotations

import selectors
import socket
import struct
import threading
import time
from types import TracebackType

_CHUNK = 65536


class TcpProxy:
    """Forwards 127.0.0.1:`port` (chosen free) to 127.0.0.1:`target_port`; use as a context manager."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self._listener = self._listen(0)
        self.port: int = self._listener.getsockname()[1]
        self._lock = threading.Lock()
        self._pairs: list[tuple[socket.socket, socket.socket]] = []
        self._accepting = True
        self._stopped = threading.Event()
        self.connections = 0  # accepted so far (a test can check traffic went through the proxy)
        self._thread = threading.Thread(target=self._accept_loop, name="tcp-proxy", daemon=True)

    def __enter__(self) -> TcpProxy:
        self._thread.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._stopped.set()
        self._close_listener()
        self.drop_all()
        self._thread.join(timeout=5)

    # ----- faults

    def outage(self, seconds: float) -> None:
        """Drop every connection and refuse new ones for `seconds` (blocks), then accept again."""
        with self._lock:
            self._accepting = False
        self._close_listener()
        self.drop_all()
        time.sleep(seconds)
        with self._lock:
            self._listener = self._listen(self.port)
            self._accepting = True

    def outage_in_background(self, after_s: float, seconds: float) -> threading.Thread:
        """`outage(seconds)` starting `after_s` from now, in a thread (join it afterwards)."""

        def run() -> None:
            time.sleep(after_s)
            self.outage(seconds)

        thread = threading.Thread(target=run, name="tcp-proxy-outage", daemon=True)
        thread.start()
        return thread

    def drop_all(self) -> None:
        """Reset every proxied connection (both sides see ECONNRESET / EOF)."""
        with self._lock:
            pairs, self._pairs = self._pairs, []
        for pair in pairs:
            for sock in pair:
                _cut(sock)  # the pump thread sees the error and closes both (no fd reuse races)

    # ----- plumbing

    @staticmethod
    def _listen(port: int) -> socket.socket:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", port))
        listener.listen(64)
        listener.settimeout(0.2)
        return listener

    def _close_listener(self) -> None:
        with self._lock:
            listener = self._listener
        try:
            listener.close()
        except OSError:
            pass

    def _accept_loop(self) -> None:
        while not self._stopped.is_set():
            with self._lock:
                listener, accepting = self._listener, self._accepting
            if not accepting:
                time.sleep(0.05)
                continue
            try:
                client, _ = listener.accept()
            except (TimeoutError, OSError):
                continue
            try:
                upstream = socket.create_connection(("127.0.0.1", self.target_port), timeout=5)
            except OSError:
                _cut(client)
                client.close()
                continue
            client.setblocking(True)
            upstream.settimeout(None)
            with self._lock:
                self._pairs.append((client, upstream))
                self.connections += 1
            threading.Thread(target=self._pump, args=(client, upstream), daemon=True).start()

    def _pump(self, client: socket.socket, upstream: socket.socket) -> None:
        with selectors.DefaultSelector() as selector:
            try:
                selector.register(client, selectors.EVENT_READ, upstream)
                selector.register(upstream, selectors.EVENT_READ, client)
            except (ValueError, OSError):
                return
            while not self._stopped.is_set():
                try:
                    events = selector.select(timeout=0.5)
                except (ValueError, OSError):
                    break
                done = False
                for key, _ in events:
                    source, target = key.fileobj, key.data
                    try:
                        data = source.recv(_CHUNK)  # type: ignore[union-attr]
                        if not data:
                            done = True
                            break
                        target.sendall(data)
                    except OSError:
                        done = True
                        break
                if done:
                    break
        with self._lock:
            if (client, upstream) in self._pairs:
                self._pairs.remove((client, upstream))
        for sock in (client, upstream):
            try:
                sock.close()
            except OSError:
                pass


def _cut(sock: socket.socket) -> None:
    """Shut the connection down; with SO_LINGER 0 its close then sends an RST, as a killed server's."""
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
