"""Contract: quotas and their headers (research §1.2, §1.5, §4.4; ark_sim/quota.py).

- gdt and wx send `X-RateLimit-Remaining: <day%>,<minute%>` and `X-TSA-Trace-Id` on every
  response (success, error, throttle); jrtt sends neither;
- the minute quota is a token bucket (capacity per_minute * burst_seconds / 60): empty -> 11017
  with minute 0%; the per-second bucket -> 11016; the daily counter -> 11018 with day 0%;
- jrtt: per-second exhaustion -> 40100 with the vendor's message, the daily cap -> 61002;
- throttled requests consume nothing; `block_seconds` keeps answering the throttle code;
- quotas are per endpoint; limits change at run time (Python API and POST /admin/quotas).
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator

import pytest

from ark_sim import SimConfig, running_simulator
from ark_sim.server import RunningSimulator
from ark_sim.testing import SimClient

TENANT = "Q1"
UNLIMITED = {"per_second": 0, "per_minute": 0, "per_day": 0, "burst_seconds": 10.0, "block_seconds": 0.0}


@pytest.fixture(scope="module")
def sim() -> Iterator[RunningSimulator]:
    with running_simulator(SimConfig.load(overrides={"clock": {"today": "2024-05-20"}})) as running:
        yield running


@pytest.fixture
def client(sim: RunningSimulator) -> Iterator[SimClient]:
    sim.reset()
    c = SimClient(sim.base_url)
    yield c
    c.close()


def _token(sim: RunningSimulator, media: str) -> tuple[int, str]:
    agent = sim.world.agents(media, TENANT)[0]
    return agent.agent_id, sim.world.initial_tokens(media, TENANT)[agent.agent_id][0]


def _funds(client: SimClient, sim: RunningSimulator, media: str = "gdt"):
    agent, token = _token(sim, media)
    account = sim.world.accounts(media, TENANT, agent_id=agent)[0][0]
    return client.get(media, "/v1.1/funds/get", token, account_id=account)


def _percent(response) -> tuple[int, int]:
    day, minute = re.fullmatch(r"(\d+)%,(\d+)%", response.headers["X-RateLimit-Remaining"]).groups()
    return int(day), int(minute)


@pytest.mark.parametrize("media", ["gdt", "wx"])
def test_headers_on_every_tencent_response(sim: RunningSimulator, client: SimClient, media: str) -> None:
    _, token = _token(sim, media)
    responses = [
        _funds(client, sim, media),  # success
        client.get(media, "/v1.1/funds/get", "bad-token", account_id=1),  # auth error
        client.get(media, "/v1.1/nothing/get", token),  # unknown API
        client.get(media, "/oauth/token", None, client_id=1),  # oauth error
    ]
    sim.set_quotas(media, "funds/get", **{**UNLIMITED, "per_minute": 6, "burst_seconds": 10})
    responses.append(_funds(client, sim, media))  # the bucket holds 1 token
    throttled = _funds(client, sim, media)
    assert throttled.json()["code"] == 11017
    responses.append(throttled)
    for response in responses:
        assert re.fullmatch(r"\d{1,3}%,\d{1,3}%", response.headers["X-RateLimit-Remaining"])
        assert re.fullmatch(r"[0-9a-f]{32}", response.headers["X-TSA-Trace-Id"])
        if response.json()["code"]:  # the trace id ends the message (there is no body trace_id)
            assert response.json()["message"].endswith(f"trace_id: {response.headers['X-TSA-Trace-Id']}")


def test_jrtt_sends_no_quota_headers(sim: RunningSimulator, client: SimClient) -> None:
    agent, token = _token(sim, "jrtt")
    for response in (
        client.jrtt("/open_api/2/agent/advertiser/select/", token, advertiser_id=agent),
        client.jrtt("/open_api/2/agent/advertiser/select/", "bad", advertiser_id=agent),
    ):
        assert "X-RateLimit-Remaining" not in response.headers and "X-TSA-Trace-Id" not in response.headers


def test_minute_bucket_throttles_with_11017(sim: RunningSimulator, client: SimClient) -> None:
    # capacity = 60 * 5 / 60 = 5 tokens, refilled at 1 per second
    sim.set_quotas("gdt", "funds/get", **{**UNLIMITED, "per_minute": 60, "burst_seconds": 5, "per_day": 100})
    seen = [_funds(client, sim) for _ in range(8)]
    codes = [r.json()["code"] for r in seen]
    assert codes == [0] * 5 + [11017] * 3
    assert [_percent(r)[1] for r in seen[:5]] == [80, 60, 40, 20, 0]
    assert all(_percent(r) == (95, 0) for r in seen[5:])  # throttled requests consume no day quota
    body = seen[-1].json()
    assert body["message"].startswith("Application has reached the request limit per minute. trace_id: ")
    assert "data" not in body
    # other endpoints keep their own quota
    assert client.gdt("/v1.1/advertiser/get", _token(sim, "gdt")[1]).json()["code"] == 0
    counters = sim.counters()
    assert counters["requests"]["gdt funds/get"] == {"0": 5, "11017": 3}
    assert counters["throttles"] == {"gdt funds/get": 3}
    time.sleep(1.05)  # one token back
    assert _funds(client, sim).json()["code"] == 0


def test_day_quota_throttles_with_11018(sim: RunningSimulator, client: SimClient) -> None:
    sim.set_quotas("wx", "funds/get", **{**UNLIMITED, "per_minute": 20000, "per_day": 4})
    seen = [_funds(client, sim, "wx") for _ in range(6)]
    assert [r.json()["code"] for r in seen] == [0, 0, 0, 0, 11018, 11018]
    assert [_percent(r)[0] for r in seen] == [75, 50, 25, 0, 0, 0]


def test_second_bucket_throttles_with_11016(sim: RunningSimulator, client: SimClient) -> None:
    sim.set_quotas("gdt", "funds/get", **{**UNLIMITED, "per_second": 2})
    assert [_funds(client, sim).json()["code"] for _ in range(3)] == [0, 0, 11016]


def test_block_seconds_keep_the_endpoint_blocked(sim: RunningSimulator, client: SimClient) -> None:
    # capacity 1 token refilled at 1/s, blocked 1.5 s after a throttle
    sim.set_quotas(
        "gdt", "funds/get", **{**UNLIMITED, "per_minute": 60, "burst_seconds": 1, "block_seconds": 1.5}
    )
    assert [_funds(client, sim).json()["code"] for _ in range(2)] == [0, 11017]
    time.sleep(1.1)  # the bucket has a token again, but the block holds
    assert _funds(client, sim).json()["code"] == 11017
    time.sleep(0.6)
    assert _funds(client, sim).json()["code"] == 0


def test_jrtt_throttles_with_40100_and_61002(sim: RunningSimulator, client: SimClient) -> None:
    agent, token = _token(sim, "jrtt")
    path = "/open_api/2/agent/advertiser/select/"
    sim.set_quotas("jrtt", "agent/advertiser/select", **{**UNLIMITED, "per_second": 2})
    bodies = [client.jrtt(path, token, advertiser_id=agent).json() for _ in range(3)]
    assert [b["code"] for b in bodies] == [0, 0, 40100]
    assert (
        bodies[-1]["message"] == "Too many requests. Please retry in some time." and bodies[-1]["data"] == {}
    )
    sim.set_quotas("jrtt", "advertiser/fund/get", **{**UNLIMITED, "per_second": 100, "per_day": 2})
    account = sim.world.accounts("jrtt", TENANT, agent_id=agent)[0][0]
    codes = [
        client.jrtt("/open_api/2/advertiser/fund/get/", token, advertiser_id=account).json()["code"]
        for _ in range(3)
    ]
    assert codes == [0, 0, 61002]


def test_admin_quotas_and_reset_over_http(sim: RunningSimulator, client: SimClient) -> None:
    admin = f"{sim.base_url}/admin"
    response = client.session.post(
        f"{admin}/quotas", json={"media": "gdt", "endpoint": "funds/get", **UNLIMITED, "per_day": 1}
    )
    assert response.status_code == 200 and response.json()["per_day"] == 1
    assert [_funds(client, sim).json()["code"] for _ in range(2)] == [0, 11018]
    assert client.session.post(f"{admin}/reset").json() == {"ok": True}
    assert _funds(client, sim).json()["code"] == 0  # the day counter starts again
    assert client.session.get(f"{admin}/counters").json()["total"] == 1
    bad = client.session.post(f"{admin}/quotas", json={"media": "gdt", "endpoint": "fund/get", "per_day": 1})
    assert bad.status_code == 400 and "fund/get" in bad.json()["error"]
    bad = client.session.post(f"{admin}/quotas", json={"media": "gdt", "per_hour": 1})
    assert bad.status_code == 400
    live = client.session.get(f"{admin}/config").json()["live"]["quotas"]["gdt"]["funds/get"]
    assert live["per_day"] == 1
