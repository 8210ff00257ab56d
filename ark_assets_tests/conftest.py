"""Shared test set-up: the real local stack must be up; a missing service fails, never skips."""

from __future__ import annotations

import socket
import uuid

import pytest

# The services every test module may use, with the port their clients connect to.
SERVICES = {
    "Redis": 6379,
    "MariaDB": 3306,
    "PostgreSQL": 5432,
    "HBase Thrift": 9090,
    "HBase Thrift2": 9091,
    "Kafka": 9092,
}


def _reachable(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


@pytest.fixture(scope="session")
def local_stack() -> dict[str, int]:
    """Fails (with how to fix it) when a service of the local stack is not listening."""
    down = [f"{name} (127.0.0.1:{port})" for name, port in SERVICES.items() if not _reachable(port)]
    if down:
        pytest.fail(
            f"the local stack is not running: {', '.join(down)} unreachable; start it with `make stack` "
            f"(or run the whole suite with `make test`, which starts it)",
            pytrace=False,
        )
    return SERVICES


@pytest.fixture(autouse=True)
def _require_stack(local_stack: dict[str, int]) -> None:
    """Every test runs against the real services."""


@pytest.fixture
def unique() -> str:
    """A short random id for names a test owns (tables, keys, topics, databases)."""
    return uuid.uuid4().hex[:10]
