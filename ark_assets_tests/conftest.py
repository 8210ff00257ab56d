"""Shared test set-up: two tiers, and the stack tier fails loudly (never skips) without the stack.

- Tests marked `stack` run against the real local services (Redis, MariaDB, HBase with its
  Thrift servers, Kafka, HDFS): if one is not listening, each such test fails with the command that
  starts it.
- Every other test needs no service at all: `make test-unit` runs them (`pytest -m "not stack"`),
  without the stack, in well under a minute.
"""

from __future__ import annotations

import os
import socket
import uuid

import pytest

# The tests' days reach back to 2024 (fixed dates the simulator's world is pinned to); a deployment's
# first day is its own setting (README: Configuration). Set before any Ark module is imported.
os.environ.setdefault("ARK_PARTITIONS_START", "2024-01-01")

# The services every stack test may use, with the port their clients connect to.
SERVICES = {
    "Redis": 6379,
    "MariaDB": 3306,
    "PostgreSQL": 5432,
    "HBase Thrift": 9090,
    "HBase Thrift2": 9091,
    "Kafka": 9092,
    "HDFS (WebHDFS)": 9870,
}


def _reachable(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def pytest_report_header() -> str:
    """Which media API versions this run speaks (`ARK_<MEDIA>_API_VERSION`, `ARK_API_VERSIONS`)."""
    from ark_assets.resources.media_api import media_api_resource_from_env

    api = media_api_resource_from_env()
    return "media API versions: " + ", ".join(
        f"{name} {api.api_spec(name).version}" for name in sorted(api.media)
    )


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
def _require_stack(request: pytest.FixtureRequest) -> None:
    """A test marked `stack` runs against the real services, so they must be up."""
    if request.node.get_closest_marker("stack") is not None:
        request.getfixturevalue("local_stack")


@pytest.fixture
def unique() -> str:
    """A short random id for names a test owns (tables, keys, topics, databases)."""
    return uuid.uuid4().hex[:10]
