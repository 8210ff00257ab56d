"""What the parts of one media step hand each other while they run: named values, each set once.

A part that others read (the accounts a report level had rows for, the activity signal, an
agency's report files) publishes under a name; a part that reads it waits for it in its own thread.
`once` computes a value in the first thread that asks and makes the others wait for it. A value
whose producer failed raises in every reader, which then falls back to asking the media itself,
so a failure never loses rows and never blocks the step.
"""

from __future__ import annotations

import concurrent.futures
import threading
from collections.abc import Callable
from typing import Any, TypeVar

_T = TypeVar("_T")


class Exchange:
    """Named values of one step (thread-safe)."""

    def __init__(self) -> None:
        self._values: dict[str, concurrent.futures.Future[Any]] = {}
        self._abandoned: dict[str, BaseException] = {}  # producer -> why its values will not come
        self._lock = threading.Lock()

    def _future(self, name: str) -> tuple[concurrent.futures.Future[Any], bool]:
        """The future of `name`, and whether this call made it (its maker computes it)."""
        with self._lock:
            if name in self._values:
                return self._values[name], False
            future: concurrent.futures.Future[Any] = concurrent.futures.Future()
            self._values[name] = future
            producer = name.partition(":")[2]
            if producer in self._abandoned:  # asked after its producer stopped: it never comes
                future.set_exception(self._abandoned[producer])
                return future, False
            return future, True

    def publish(self, name: str, value: Any) -> None:
        future, _ = self._future(name)
        if not future.done():
            future.set_result(value)

    def fail(self, name: str, error: BaseException) -> None:
        """`name` will not come: its readers get `error`."""
        future, _ = self._future(name)
        if not future.done():
            future.set_exception(error)

    def get(self, name: str) -> Any:
        """The value of `name`, waiting for it (its producer's error when it failed)."""
        future, _ = self._future(name)
        return future.result()

    def once(self, name: str, compute: Callable[[], _T]) -> _T:
        """`name`'s value, computed by the first thread that asks (the others wait for it)."""
        future, mine = self._future(name)
        if mine:
            try:
                future.set_result(compute())
            except BaseException as error:
                future.set_exception(error)
        return future.result()

    def abandon(self, producer: str, reason: str) -> None:
        """Every value a part publishes under its name (`<what>:<part>`) will not come: its readers,
        now and later, get the reason (values it already published stay)."""
        error = RuntimeError(f"{producer} did not finish: {reason}")
        with self._lock:
            self._abandoned[producer] = error
            names = [n for n in self._values if n.partition(":")[2] == producer]
        for name in names:
            self.fail(name, error)
