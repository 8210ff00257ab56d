"""Progress output for slow steps: a live spinner on a terminal, periodic lines in CI logs."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.console import Console

_CI_LINE_EVERY_S = 10.0


class Reporter:
    """Prints what the stack is doing; `waiting` shows a long step's progress as it goes."""

    def __init__(self, console: Console | None = None) -> None:
        self.console = console or Console(highlight=False)
        if not self.console.is_terminal:  # CI logs: wide enough that the status table is not wrapped
            self.console.width = max(self.console.width, 160)

    def step(self, message: str) -> None:
        self.console.print(f"[bold cyan]•[/] {message}")

    def warn(self, message: str) -> None:
        self.console.print(f"[bold yellow]![/] {message}")

    @contextmanager
    def waiting(self, description: str) -> Iterator[Callable[[str], None]]:
        """Yields `update(detail)`; call it while polling. Prints the elapsed time at the end."""
        started = time.monotonic()
        if self.console.is_terminal:
            with self.console.status(description) as status:

                def update(detail: str) -> None:
                    status.update(f"{description} — {detail} ({time.monotonic() - started:.0f} s)")

                yield update
        else:
            self.console.print(f"[bold cyan]•[/] {description} …")
            last = [started]

            def update(detail: str) -> None:
                now = time.monotonic()
                if now - last[0] >= _CI_LINE_EVERY_S:
                    last[0] = now
                    self.console.print(f"    … {detail} ({now - started:.0f} s)")

            yield update
        self.console.print(f"[green]✓[/] {description} ({time.monotonic() - started:.1f} s)")
