"""The file systems FILE output writes to: local disk, or HDFS (`clients/webhdfs.py`).

Both offer the same few operations with the same strictness, so `FileSink` is written once:
paths are `/`-joined strings, and `rename` fails when its target exists (it never replaces or
nests a directory silently), which is what makes swapping a partition's directory safe.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import IO, Protocol


class Files(Protocol):
    def describe(self, path: str) -> str:
        """The path as a person would look for it (`hdfs://host:port/...` or a local path)."""

    def check_reachable(self) -> None: ...

    def exists(self, path: str) -> bool: ...

    def identity(self, path: str) -> int:
        """What tells this directory from another one later renamed to the same path (inode, file id)."""

    def makedirs(self, path: str) -> None:
        """Create the directory and its parents; fine when it exists."""

    def listdir(self, path: str) -> list[str]:
        """The names in a directory."""

    def open_write(self, path: str) -> AbstractContextManager[IO[str]]: ...

    def open_read(self, path: str) -> AbstractContextManager[IO[str]]: ...

    def rename(self, source: str, target: str) -> None:
        """Rename; fails when `target` exists."""

    def remove_tree(self, path: str) -> None:
        """Delete a directory and everything in it; fine when it is missing."""


class LocalFiles:
    """Files on this machine's disk."""

    def describe(self, path: str) -> str:
        return str(Path(path).resolve())

    def check_reachable(self) -> None:
        return None

    def exists(self, path: str) -> bool:
        return os.path.exists(path)

    def identity(self, path: str) -> int:
        return os.stat(path).st_ino

    def makedirs(self, path: str) -> None:
        os.makedirs(path, exist_ok=True)

    def listdir(self, path: str) -> list[str]:
        return os.listdir(path)

    @contextmanager
    def open_write(self, path: str) -> Iterator[IO[str]]:
        with open(path, "w", encoding="utf-8") as file:
            yield file

    @contextmanager
    def open_read(self, path: str) -> Iterator[IO[str]]:
        with open(path, encoding="utf-8") as file:
            yield file

    def rename(self, source: str, target: str) -> None:
        if os.path.lexists(target):  # os.rename would replace an empty directory or a file
            raise FileExistsError(f"cannot rename {source} to {target}: it exists")
        os.rename(source, target)

    def remove_tree(self, path: str) -> None:
        shutil.rmtree(path, ignore_errors=True)
