"""HDFS over WebHDFS (fsspec's client): the few file operations FILE output needs, strictly.

Why WebHDFS through fsspec: WebHDFS is HDFS's own REST API, served by every NameNode (on by
default, `dfs.webhdfs.enabled`), so a worker needs no JVM, no Hadoop install and no native
library (a native client, pyarrow's libhdfs, needs both on every worker); fsspec is the
maintained, widely used filesystem library Dagster itself already depends on, so this adds no
package. What fsspec leaves loose is tightened here:

- `rename` never moves a directory *into* an existing one (HDFS's old rename does that, and
  answers `false` rather than failing when it cannot rename): it asks for the NameNode's
  `rename2` (`renameoptions=NONE`), which fails when the destination exists;
- `exists` only says False for a missing path (fsspec's says False for any error, an
  unreachable NameNode included);
- an unreachable NameNode or DataNode, or one that does not answer in time, raises
  `ServiceUnavailable` with its host:port and the fix, so the asset fails with a message a person
  can act on.
"""

from __future__ import annotations

import functools
import io
import posixpath
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO
from urllib.parse import urlparse

import requests
from fsspec.implementations.webhdfs import WebHDFS

from ark_assets.clients.errors import ServiceUnavailable

ENV_HINT = "ARK_HDFS_URL"


class WebHdfsFiles:
    """Files on the HDFS whose NameNode serves WebHDFS at `url` (`http://host:port`), as `user`;
    a NameNode or DataNode that does not answer within `timeout_s` counts as unreachable."""

    def __init__(self, url: str, user: str = "ark", timeout_s: float = 60.0) -> None:
        parsed = urlparse(url if "://" in url else f"http://{url}")
        if parsed.scheme not in ("http", "webhdfs") or not parsed.hostname or not parsed.port:
            raise ValueError(
                f"{ENV_HINT}={url!r}: expected the NameNode's WebHDFS address as http://host:port "
                f"(e.g. http://127.0.0.1:9870)"
            )
        self.host, self.port = parsed.hostname, parsed.port
        self.user = user
        self._fs = WebHDFS(self.host, self.port, user=user, skip_instance_cache=True)
        # fsspec sends every call (the DataNode's too) through this session, with no timeout: a
        # server that accepts and never answers would hang the step. Every call gets one.
        self._fs.session.request = functools.partial(self._fs.session.request, timeout=timeout_s)

    def describe(self, path: str) -> str:
        return f"hdfs://{self.host}:{self.port}{path}"

    def check_reachable(self) -> None:
        """A real round trip: the NameNode lists the root."""
        with self._calls():
            self._fs.ls("/", detail=False)

    def exists(self, path: str) -> bool:
        with self._calls():
            try:
                self._fs.info(path)
            except FileNotFoundError:
                return False
        return True

    def identity(self, path: str) -> int:
        """The NameNode's id of the file or directory (kept through renames, never reused)."""
        with self._calls():
            return self._fs.info(path)["fileId"]

    def makedirs(self, path: str) -> None:
        with self._calls():
            self._fs.mkdir(path)  # MKDIRS: parents too, fine when it exists

    def listdir(self, path: str) -> list[str]:
        with self._calls():
            return [posixpath.basename(p.rstrip("/")) for p in self._fs.ls(path, detail=False)]

    @contextmanager
    def open_write(self, path: str) -> Iterator[IO[str]]:
        with self._calls(), self._fs.open(path, "wb") as raw, io.TextIOWrapper(raw, encoding="utf-8") as text:
            yield text

    @contextmanager
    def open_read(self, path: str) -> Iterator[IO[str]]:
        with self._calls(), self._fs.open(path, "rb") as raw, io.TextIOWrapper(raw, encoding="utf-8") as text:
            yield text

    def rename(self, source: str, target: str) -> None:
        """Rename `source` to `target`; fails when `target` exists (never moves into it)."""
        with self._calls():
            # fsspec's `mv` sends HDFS's old RENAME and ignores its `false`; `rename2` raises.
            self._fs._call("RENAME", method="put", path=source, destination=target, renameoptions="NONE")

    def remove_tree(self, path: str) -> None:
        with self._calls():
            self._fs.rm(path, recursive=True)

    @contextmanager
    def _calls(self) -> Iterator[None]:
        try:
            yield
        except (requests.ConnectionError, requests.Timeout) as exc:
            reason = f"{type(exc).__name__}: {str(exc)[:300]}"
            raise ServiceUnavailable("HDFS (WebHDFS)", self.host, self.port, reason, ENV_HINT) from None
