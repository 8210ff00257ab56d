"""Where the stack keeps its files: data and logs in the project, jars in a user cache."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class StackPaths:
    """`root` holds data, logs and pid files (git-ignored); `cache` holds downloaded jars."""

    root: Path
    cache: Path

    @classmethod
    def from_env(cls) -> StackPaths:
        """`ARK_STACK_DIR` (default `./.stack`) and `ARK_STACK_CACHE` (default `~/.cache/ark-assets`)."""
        root = Path(os.environ.get("ARK_STACK_DIR", ".stack")).resolve()
        cache = Path(os.environ.get("ARK_STACK_CACHE", Path.home() / ".cache" / "ark-assets")).resolve()
        return cls(root=root, cache=cache)

    @property
    def logs(self) -> Path:
        return self.root / "log"

    @property
    def pids(self) -> Path:
        return self.root / "run"

    def data(self, service: str) -> Path:
        return self.root / "data" / service

    def conf(self, service: str) -> Path:
        return self.root / "conf" / service

    def make_dirs(self) -> None:
        for path in (self.logs, self.pids, self.root / "data", self.root / "conf", self.cache):
            path.mkdir(parents=True, exist_ok=True)
