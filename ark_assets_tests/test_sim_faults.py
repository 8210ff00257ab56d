"""Contract: injected faults and latency (ark_sim/faults.py) as a client sees them.

- http_5xx: HTTP 502/503/504 with an HTML body and no quota headers;
- timeout: the request is held `timeout_hold_s`, then the connection is dropped without a response;
- reset: the connection is reset at once, without a response;
- malformed: HTTP 200 whose body is cut-off JSON;
- busy: HTTP 200 with the media's busy code (gdt/wx 10000, jrtt 50000);
- wrong_types: HTTP 200, code 0, one field mistyped (the code, `data`, the record list, paging);
- cursor_loop: cursor paging never ends (has_more stays true, the cursor never advances);
- huge_page_kb: successful answers' records padded to about that many KiB;
- the counters file each under its own outcome; rates and latency change at run time (also via
  POST /admin/faults); the same fault_seed replays the same faults after a reset.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import pytest
import requests

from ark_sim import SimConfig, running_simulator
from ark_sim.config import FaultConfig
from ark_sim.media import names as media_names
from ark_sim.server import RunningSimulator
from ark_sim.testing import SimClient

TENANT = "F1"
# every fault off: the simulator config's defaults (the hold time is set per fixture)
NO_FAULTS = FaultConfig().model_dump(exclude={"timeout_hold_s"})


@pytest.fixture(scope="module")
def sim() -> Iterator[RunningSimulator]:
    with running_simulator(SimConfig.load(overrides={"clock": {"today": "2024-05-20"}})) as running:
        yield running


@pytest.fixture
def client(sim: RunningSimulator) -> Iterator[SimClient]:
    for media in media_names():
        sim.set_faults(media, **NO_FAULTS, median_ms=0, timeout_hold_s=0.2)
    sim.reset()
    c = SimClient(sim.base_url, timeout=5)
    yield c
    c.close()
    for media in media_names():
        sim.set_faults(media, **NO_FAULTS, median_ms=0)


def _call(sim: RunningSimulator, client: SimClient, media: str) -> requests.Response:
    agent = sim.world.agents(media, TENANT)[0]
    token = sim.world.initial_tokens(media, TENANT)[agent.agent_id][0]
    if media == "jrtt":
        return client.jrtt("/open_api/2/agent/advertiser/select/", token, advertiser_id=agent.agent_id)
    path = "/v1.1/advertiser/get"
    return client.get(media, path, token)


_ENDPOINT = {
    "gdt": "advertiser/get",
    "wx": "advertiser/get",
    "jrtt": "agent/advertiser/select",
}


@pytest.mark.parametrize("media", list(media_names()))
def test_http_5xx(sim: RunningSimulator, client: SimClient, media: str) -> None:
    sim.set_faults(media, http_5xx=1.0)
    statuses = set()
    for _ in range(12):
        response = _call(sim, client, media)
        statuses.add(response.status_code)
        assert response.headers["Content-Type"].startswith("text/html") and b"<html>" in response.content
        assert "X-RateLimit-Remaining" not in response.headers
    assert statuses <= {502, 503, 504} and len(statuses) > 1
    counted = sim.counters()["requests"][f"{media} {_ENDPOINT[media]}"]
    assert sum(counted.values()) == 12 and set(counted) == {f"http_{s}" for s in statuses}


@pytest.mark.parametrize("media", ["gdt", "jrtt"])
def test_timeout_holds_then_drops(sim: RunningSimulator, client: SimClient, media: str) -> None:
    sim.set_faults(media, timeout=1.0, timeout_hold_s=0.3)
    started = time.monotonic()
    with pytest.raises(requests.ConnectionError):
        _call(sim, client, media)
    assert time.monotonic() - started >= 0.3
    sim.set_faults(media, timeout=1.0, timeout_hold_s=2.0)
    with pytest.raises(requests.ReadTimeout):
        client.timeout = 0.3  # a client with a shorter timeout gives up first
        _call(sim, client, media)
    assert sim.counters()["requests"][f"{media} {_ENDPOINT[media]}"] == {"timeout": 2}


@pytest.mark.parametrize("media", ["gdt", "jrtt"])
def test_reset(sim: RunningSimulator, client: SimClient, media: str) -> None:
    sim.set_faults(media, reset=1.0)
    with pytest.raises(requests.ConnectionError):
        _call(sim, client, media)
    assert sim.counters()["requests"][f"{media} {_ENDPOINT[media]}"] == {"reset": 1}


@pytest.mark.parametrize("media", list(media_names()))
def test_malformed(sim: RunningSimulator, client: SimClient, media: str) -> None:
    sim.set_faults(media, malformed=1.0)
    response = _call(sim, client, media)
    assert response.status_code == 200 and response.text.startswith('{"code":0')
    with pytest.raises(json.JSONDecodeError):
        json.loads(response.text)
    assert sim.counters()["requests"][f"{media} {_ENDPOINT[media]}"] == {"malformed": 1}


@pytest.mark.parametrize(("media", "code"), [("gdt", 10000), ("wx", 10000), ("jrtt", 50000)])
def test_busy(sim: RunningSimulator, client: SimClient, media: str, code: int) -> None:
    sim.set_faults(media, busy=1.0)
    response = _call(sim, client, media)
    assert response.status_code == 200 and response.json()["code"] == code
    assert sim.counters()["requests"][f"{media} {_ENDPOINT[media]}"] == {str(code): 1}


def test_latency(sim: RunningSimulator, client: SimClient) -> None:
    sim.set_faults("gdt", median_ms=150, sigma=0.0)
    started = time.monotonic()
    assert _call(sim, client, "gdt").json()["code"] == 0
    assert time.monotonic() - started >= 0.15
    started = time.monotonic()
    _call(sim, client, "jrtt")  # other media keep their own latency (none)
    assert time.monotonic() - started < 0.15


def test_admin_faults_and_replay(sim: RunningSimulator, client: SimClient) -> None:
    response = client.session.post(f"{sim.base_url}/admin/faults", json={"media": "gdt", "busy": 0.5})
    assert response.status_code == 200 and response.json()["faults"]["busy"] == 0.5

    def run() -> list[int]:
        return [_call(sim, client, "gdt").json()["code"] for _ in range(20)]

    first = run()
    assert set(first) == {0, 10000}
    client.session.post(f"{sim.base_url}/admin/reset")
    assert run() == first  # the same fault_seed replays the same faults
    bad = client.session.post(f"{sim.base_url}/admin/faults", json={"media": "gdt", "busy": 2})
    assert bad.status_code == 400
    assert client.session.post(f"{sim.base_url}/admin/faults", json={"media": "tv"}).status_code == 400


def _variant(body: dict) -> str:
    """Which field `wrong_types` mistyped in a gdt advertiser/get answer."""
    if isinstance(body["code"], str):
        return "code"
    if isinstance(body["data"], str):
        return "data"
    if isinstance(body["data"]["list"], dict):
        return "list"
    assert isinstance(body["data"]["page_info"]["total_page"], str)
    return "paging"


def test_wrong_types_mistype_one_field_of_a_successful_answer(
    sim: RunningSimulator, client: SimClient
) -> None:
    sim.set_faults("gdt", wrong_types=1.0)
    bodies = [_call(sim, client, "gdt").json() for _ in range(24)]
    assert {_variant(b) for b in bodies} == {"code", "data", "list", "paging"}
    assert all(str(b["code"]) == "0" for b in bodies)  # still "success" to a careless client
    assert sim.counters()["requests"]["gdt advertiser/get"] == {"wrong_types": 24}
    sim.set_faults("gdt", wrong_types=0.0)
    healthy = _call(sim, client, "gdt").json()
    assert healthy["code"] == 0 and isinstance(healthy["data"]["list"], list)


def test_cursor_loop_never_ends(sim: RunningSimulator, client: SimClient) -> None:
    sim.set_faults("gdt", cursor_loop=True)
    sim.set_faults("jrtt", cursor_loop=True)
    agent = sim.world.agents("gdt", TENANT)[0]
    token = sim.world.initial_tokens("gdt", TENANT)[agent.agent_id][0]
    cursors = []
    cursor = 0
    for _ in range(3):
        page = client.get(
            "gdt", "/v1.1/advertiser/get", token, pagination_mode="PAGINATION_MODE_CURSOR", cursor=cursor
        ).json()["data"]["cursor_page_info"]
        assert page["has_more"] is True
        cursors.append(cursor := page["cursor"])
    assert len(set(cursors)) == 1  # the same cursor, forever
    jrtt_agent = sim.world.agents("jrtt", TENANT)[0]
    jrtt_token = sim.world.initial_tokens("jrtt", TENANT)[jrtt_agent.agent_id][0]
    info = [
        client.jrtt(
            "/open_api/2/agent/advertiser/select/",
            jrtt_token,
            advertiser_id=jrtt_agent.agent_id,
            count=5,
            cursor=c,
        ).json()["data"]["cursor_page_info"]
        for c in (0, 5, 5)
    ]
    assert all(i["has_more"] for i in info) and {i["cursor"] for i in info} == {5}


def test_huge_page_pads_every_record(sim: RunningSimulator, client: SimClient) -> None:
    sim.set_faults("gdt", huge_page_kb=64)
    response = _call(sim, client, "gdt")
    records = response.json()["data"]["list"]
    assert records and all(len(r["remark"]) == 64 * 1024 // len(records) for r in records)
    assert len(response.content) > 64 * 1024
