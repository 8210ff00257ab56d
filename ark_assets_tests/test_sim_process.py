"""Contract: `ark_sim.process.SimulatorProcess`, the one way to run the simulator as its own process.

- it starts `ark-sim serve` on a free loopback port with the given overrides, returns once the
  admin endpoint answers, serves every media there, and stops the process on leaving the block;
- a bad knob fails in the caller, before any process starts;
- a process that cannot start fails with an error naming its log (and quoting its tail).
"""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
import requests

from ark_sim import SimulatorProcess, SimulatorStartError
from ark_sim.media import names


def test_starts_serves_every_media_and_stops(tmp_path: Path) -> None:
    log = tmp_path / "sim.log"
    with SimulatorProcess(overrides={"profile": "small", "revision_days": 0}, log_path=log) as sim:
        pid = sim.pid
        assert sim.counters()["total"] == 0
        config = requests.get(f"{sim.base_url}/admin/config", timeout=5).json()
        assert config["revision_days"] == 0  # the overrides reached the child
        for media in names():  # each media's prefix is routed (an unknown API, not a plain 404)
            assert requests.get(f"{sim.url(media)}/nothing", timeout=5).status_code == 200
        sim.reset()
    assert sim.pid is None
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", sim.port), timeout=1).close()
    assert pid is not None and log.exists()


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"host": "0.0.0.0"}, "loopback"),  # noqa: S104  (refused here, never listened on)
        ({"profile": "huge"}, "huge"),
    ],
)
def test_a_bad_knob_fails_before_any_process(overrides: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        SimulatorProcess(overrides=overrides)


def test_a_taken_port_fails_naming_the_log(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        log = tmp_path / "sim.log"
        with pytest.raises(SimulatorStartError, match=str(log)) as failure:
            SimulatorProcess(port=taken.getsockname()[1], log_path=log).start()
    assert "exited early" in str(failure.value)
