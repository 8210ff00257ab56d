"""Contract: `ark-sim seed` writes the seed's exact Redis keys and `eton` rows; `ark-sim truth` and
`ark-sim serve` (other processes) agree with what it wrote.

- Redis (db 2), active agents only: `{media}_new_access_token_{T}` (token -> agent id),
  `{media}_refresh_token_{T}`, `gdt_agents_v2_{T}`, `weixin_agents_{T}`, `jrtt_agents_v2_{T}` /
  `jrtt_one_agents_v2_{T}` / `jrtt_child_agents_v2_{T}` (agent -> agent id), and the day's
  `gdt_advertiser_v1.1_{T}_{yyyymmdd}`, `jrtt_accounts_v2_{T}_{d}` (first-tier direct accounts),
  `jrtt_child_advertiser_v2_{T}_{d}` (second-tier accounts), `wx_advertiser_{T}_{agent}_{d}`;
- eton: the tenant with status 1 and every agent, inactive ones included (platform 1/3/8, jrtt
  level 1/2 with parent ids), so that `MySQLResource.active_agents` yields exactly the active ones;
- a re-seed replaces the tenant's agents; `truth` counts match the account keys; a token read from
  Redis works against `ark-sim serve`.

The module uses a random tenant alias and its own MySQL databases; both are removed at the end.
"""

from __future__ import annotations

import json
import os
import secrets
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pymysql
import pytest
import redis
import requests

from ark_assets.resources.mysql import MySQLResource
from ark_sim import SimConfig, World
from ark_sim.media import lookup
from ark_sim.media import names as media_names
from ark_sim.spec import Tier as AgentTier
from ark_sim.testing import SimClient

pytestmark = pytest.mark.stack  # every test here runs against the real services

ARK_SIM = str(Path(sys.executable).parent / "ark-sim")
DAY = date(2024, 5, 19)
PREFIX = f"ark_t_{secrets.token_hex(4)}"
LOG_DB, ETON_DB = f"{PREFIX}_nyfz", f"{PREFIX}_eton"
TENANT = f"T8{secrets.randbelow(10**10):010d}"
ENV = {**os.environ, "ARK_MYSQL_LOG_DB": LOG_DB, "ARK_MYSQL_ETON_DB": ETON_DB}


def _run(*args: str) -> dict:
    out = subprocess.run([ARK_SIM, *args], env=ENV, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


@pytest.fixture(scope="module")
def raw() -> Iterator[redis.Redis]:
    client = redis.Redis(host="127.0.0.1", port=6379, db=2)
    yield client
    for pattern in (f"*_{TENANT}", f"*_{TENANT}_*"):
        for key in client.scan_iter(match=pattern):
            client.delete(key)
    client.close()
    with (
        pymysql.connect(host="127.0.0.1", user="ark", password="ark", autocommit=True) as conn,
        conn.cursor() as cur,
    ):
        cur.execute(f"DROP DATABASE IF EXISTS `{LOG_DB}`")
        cur.execute(f"DROP DATABASE IF EXISTS `{ETON_DB}`")


@pytest.fixture(scope="module")
def seeded(raw: redis.Redis) -> dict:
    return _run("seed", "--tenant", TENANT, "--date", DAY.isoformat())


@pytest.fixture(scope="module")
def world() -> World:
    return World(SimConfig.load())


def _zset(raw: redis.Redis, key: str) -> dict[str, float]:
    return {m.decode(): s for m, s in raw.zrange(key, 0, -1, withscores=True)}


def test_exactly_the_seeds_keys(raw: redis.Redis, seeded: dict, world: World) -> None:
    d, t = "20240519", TENANT
    wx_agents = [a.agent_id for a in world.agents("wx", t)]
    expected = {
        f"gdt_new_access_token_{t}",
        f"wx_new_access_token_{t}",
        f"jrtt_new_access_token_{t}",
        f"gdt_refresh_token_{t}",
        f"wx_refresh_token_{t}",
        f"jrtt_refresh_token_{t}",
        f"gdt_agents_v2_{t}",
        f"weixin_agents_{t}",
        f"jrtt_agents_v2_{t}",
        f"jrtt_one_agents_v2_{t}",
        f"jrtt_child_agents_v2_{t}",
        f"gdt_advertiser_v1.1_{t}_{d}",
        f"jrtt_accounts_v2_{t}_{d}",
        f"jrtt_child_advertiser_v2_{t}_{d}",
        *(f"wx_advertiser_{t}_{agent}_{d}" for agent in wx_agents),
    }
    found = {k.decode() for p in (f"*_{t}", f"*_{t}_*") for k in raw.scan_iter(match=p)}
    assert found == expected
    assert set(seeded["redis_keys"]) == expected - {f"{m}_refresh_token_{t}" for m in ("gdt", "wx", "jrtt")}


def test_token_and_agent_keys(raw: redis.Redis, seeded: dict, world: World) -> None:
    for media in media_names():
        active = world.agents(media, TENANT)
        tokens = world.initial_tokens(media, TENANT)
        assert _zset(raw, f"{media}_new_access_token_{TENANT}") == {
            tokens[a.agent_id][0]: a.agent_id for a in active
        }
        refresh = {k.decode(): v.decode() for k, v in raw.hgetall(f"{media}_refresh_token_{TENANT}").items()}
        assert refresh == {str(a.agent_id): tokens[a.agent_id][1] for a in active}
    for key, media, tier in [
        (f"gdt_agents_v2_{TENANT}", "gdt", None),
        (f"weixin_agents_{TENANT}", "wx", None),
        (f"jrtt_agents_v2_{TENANT}", "jrtt", None),
        (f"jrtt_one_agents_v2_{TENANT}", "jrtt", AgentTier.FIRST),
        (f"jrtt_child_agents_v2_{TENANT}", "jrtt", AgentTier.SECOND),
    ]:
        agents = world.agents(media, TENANT, tier=tier)
        assert _zset(raw, key) == {str(a.agent_id): a.agent_id for a in agents}, key


def test_account_keys(raw: redis.Redis, seeded: dict, world: World) -> None:
    d = "20240519"
    cases = [
        (f"gdt_advertiser_v1.1_{TENANT}_{d}", world.accounts("gdt", TENANT)),
        (f"jrtt_accounts_v2_{TENANT}_{d}", world.accounts("jrtt", TENANT, tier=AgentTier.FIRST)),
        (f"jrtt_child_advertiser_v2_{TENANT}_{d}", world.accounts("jrtt", TENANT, tier=AgentTier.SECOND)),
    ] + [
        (f"wx_advertiser_{TENANT}_{a.agent_id}_{d}", world.accounts("wx", TENANT, agent_id=a.agent_id))
        for a in world.agents("wx", TENANT)
    ]
    for key, accounts in cases:
        assert _zset(raw, key) == {str(account): agent for account, agent in accounts}, key
    jrtt = _zset(raw, f"jrtt_child_advertiser_v2_{TENANT}_{d}")
    assert all(len(member) == 19 for member in jrtt)  # int64 ids stored verbatim as text


def test_eton_rows(seeded: dict, world: World) -> None:
    with pymysql.connect(host="127.0.0.1", user="ark", password="ark", database=ETON_DB) as conn:
        with conn.cursor() as cur:
            cur.execute("SELECT status FROM tenant WHERE tenant_alias = %s", (TENANT,))
            assert cur.fetchall() == ((1,),)
            cur.execute(
                "SELECT platform_id, agent_id_from_platform, agent_level, parent_agent_id, auth_status,"
                " auth_type FROM agents WHERE tenant_alias = %s",
                (TENANT,),
            )
            rows = set(cur.fetchall())
    expected = {
        (
            lookup(m).platform_id,
            str(a.agent_id),
            a.level,
            None if a.parent_id is None else str(a.parent_id),
            a.auth_status,
            a.auth_type,
        )
        for m in media_names()
        for a in world.agents(m, TENANT, active_only=False)
    }
    assert rows == expected
    assert any(r[4] not in (1, 2) or r[5] != 1 for r in rows)  # inactive agents are there
    mysql = MySQLResource(log_database=LOG_DB, eton_database=ETON_DB)
    for media in media_names():
        active = {a.agent_id for a in mysql.active_agents(TENANT, media)}
        assert active == {str(a.agent_id) for a in world.agents(media, TENANT)}


def test_reseed_replaces_agents(seeded: dict) -> None:
    _run("seed", "--tenant", TENANT, "--date", DAY.isoformat(), "--profile", "seed")
    try:
        mysql = MySQLResource(log_database=LOG_DB, eton_database=ETON_DB)
        assert len(mysql.active_agents(TENANT, "jrtt")) == 143
        assert len(mysql.active_agents(TENANT, "gdt")) == 6
    finally:
        _run("seed", "--tenant", TENANT, "--date", DAY.isoformat())
    assert len(mysql.active_agents(TENANT, "gdt")) == 2


def test_truth_agrees_with_the_seeded_keys(raw: redis.Redis, seeded: dict) -> None:
    d = "20240519"
    truth = _run("truth", "--tenant", TENANT, "--date", DAY.isoformat())
    wx_keys = [k for k in raw.scan_iter(match=f"wx_advertiser_{TENANT}_*_{d}")]
    assert truth["accounts"] == {
        "gdt": raw.zcard(f"gdt_advertiser_v1.1_{TENANT}_{d}"),
        "jrtt": raw.zcard(f"jrtt_accounts_v2_{TENANT}_{d}")
        + raw.zcard(f"jrtt_child_advertiser_v2_{TENANT}_{d}"),
        "wx": sum(raw.zcard(k) for k in wx_keys),
    }
    assert truth["accounts"] == {"gdt": 30, "jrtt": 56, "wx": 20}
    # the platform's tables, named by its rule; e.g. one account-list row per gdt account
    assert truth["tables"]["tenant_gdt_advertiser_get_v1.1"] == 30
    assert truth["tables"]["tenant_jrtt_account_fund_get_v3"] == 56


def test_serve_accepts_the_seeded_tokens(raw: redis.Redis, seeded: dict) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(
        [ARK_SIM, "serve", "--port", str(port)],
        env=ENV,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert server.stdout.readline().strip() == f"gdt: http://127.0.0.1:{port}/gdt"
        client = SimClient(f"http://127.0.0.1:{port}")
        deadline = time.monotonic() + 20
        while True:
            try:
                client.session.get(f"{client.base_url}/admin/counters", timeout=1)
                break
            except requests.ConnectionError:
                assert time.monotonic() < deadline, "ark-sim serve did not start"
                time.sleep(0.1)
        (token, agent), *_ = raw.zrange(f"gdt_new_access_token_{TENANT}", 0, 0, withscores=True)
        body = client.gdt("/v1.1/advertiser/get", token.decode(), page_size=100).json()
        listed = {str(row["account_id"]) for row in body["data"]["list"]}
        accounts = raw.zrangebyscore(f"gdt_advertiser_v1.1_{TENANT}_20240519", agent, agent)
        assert listed == {a.decode() for a in accounts}
        (token, agent), *_ = raw.zrange(f"jrtt_new_access_token_{TENANT}", 0, 0, withscores=True)
        path = "/open_api/2/advertiser/fund/get/"
        assert client.jrtt(path, token.decode(), advertiser_id=int(agent)).json()["code"] == 0
        client.close()
    finally:
        server.terminate()
        server.wait(timeout=10)
