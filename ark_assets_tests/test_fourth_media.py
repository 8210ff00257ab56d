"""Contract: a media declared in one module is a whole media of the platform, nothing else edited.

`toy_media.py` declares "toy" the way `ark_assets/media/<media>.py` declare theirs. Registered
(as a module of `ark_assets/media/` or an `ark_assets.media` entry point would be), it gets:
- its assets, lineage, checks and daily job from the `MediaAssets` component and the factories;
- its resources: an API connection from `ARK_TOY_*`, Redis keys in its own formats, its eton
  platform id;
- the engine's behaviour, against a small server of this test speaking toy's API (no simulator
  knows toy): paging, a throttle retried, an expired token refreshed once and rotated in Redis;
- and, end to end on the real stack, its agents, accounts and balances in HBase and Redis.
"""

from __future__ import annotations

import asyncio
import secrets
import socket
import threading
from collections.abc import Iterator
from datetime import date

import pymysql
import pytest
import redis
from aiohttp import web
from dagster import AssetKey, DagsterInstance, Definitions, materialize

from ark_assets.assets.build import media_assets
from ark_assets.clients.redis_keys import accounts_key, agents_key, token_key
from ark_assets.clients.redis_sets import RedisSets
from ark_assets.components.media import MediaAssets
from ark_assets.core.tables import table_name
from ark_assets.defs.resources import platform_resources
from ark_assets.io.hbase_io_manager import HBaseIOManager
from ark_assets.media.registry import all_media, register, unregister
from ark_assets.partitions import partition_key
from ark_assets.resources.hbase import HBaseResource
from ark_assets.resources.kafka_log import KafkaLogResource
from ark_assets.resources.media_api import media_api_resource_from_env
from ark_assets.resources.mysql import MySQLResource
from ark_assets.resources.redis_store import RedisResource
from ark_assets.resources.sentry import SentryResource
from ark_assets_tests import toy_media
from ark_assets_tests.eton import upsert_agent

DAY = date(2026, 11, 25)
AGENTS = {"101": ["5550001", "5550002", "5550003"], "102": ["5550014"]}  # 101's list takes 2 pages

# ##### FIXTURES


@pytest.fixture(autouse=True)
def toy() -> Iterator[None]:
    register(toy_media.MEDIA)
    yield
    unregister("toy")


class ToyServer:
    """toy's API on a loopback port: tokens per agent, one throttle and one expiry to ride out."""

    def __init__(self) -> None:
        self.tokens = {"101": "toy-token-a-101", "102": "toy-token-expired-102"}
        self.refresh_tokens = {"102": "toy-refresh-102"}
        self.calls: dict[str, int] = {}
        self.refresh_bodies: list[dict] = []
        self._throttled: set[str] = set()
        self.port = _free_port()

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/toy/accounts/list", self.accounts)
        app.router.add_get("/toy/balance/get", self.balance)
        app.router.add_post("/toy/oauth/refresh", self.refresh)
        return app

    def _agent(self, request: web.Request) -> str | None:
        token = request.headers.get("Access-Token")
        return next((agent for agent, t in self.tokens.items() if t == token), None)

    def _count(self, name: str) -> None:
        self.calls[name] = self.calls.get(name, 0) + 1

    async def accounts(self, request: web.Request) -> web.Response:
        self._count("accounts/list")
        agent = self._agent(request)
        if agent is None or "expired" in self.tokens[agent]:
            return web.json_response({"status": 401, "reason": "token expired"})
        page, size = int(request.query["page"]), int(request.query["page_size"])
        ids = AGENTS[request.query["agent"]]
        chunk = ids[(page - 1) * size : page * size]
        total = -(-len(ids) // size)
        data = {
            "accounts": [{"account_id": int(a)} for a in chunk],
            "page_info": {"page": page, "total_page": total},
        }
        return web.json_response({"status": 0, "reason": "ok", "data": data})

    async def balance(self, request: web.Request) -> web.Response:
        self._count("balance/get")
        account = request.query["account"]
        if self._agent(request) is None:
            return web.json_response({"status": 401, "reason": "token expired"})
        if account not in self._throttled:  # every account is throttled once, then answered
            self._throttled.add(account)
            return web.json_response({"status": 429, "reason": "too many requests", "trace": "t-1"})
        return web.json_response({"status": 0, "data": {"account_id": int(account), "balance": -1.5}})

    async def refresh(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.refresh_bodies.append(body)
        agent = next(a for a, t in self.refresh_tokens.items() if t == body.get("refresh"))
        self.tokens[agent] = f"toy-token-fresh-{agent}"
        self.refresh_tokens[agent] = f"toy-refresh-fresh-{agent}"
        data = {"access_token": self.tokens[agent], "refresh_token": self.refresh_tokens[agent]}
        return web.json_response({"status": 0, "data": data})


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def server() -> Iterator[ToyServer]:
    toy = ToyServer()
    loop = asyncio.new_event_loop()
    runner = web.AppRunner(toy.app(), access_log=None)
    loop.run_until_complete(runner.setup())
    loop.run_until_complete(web.TCPSite(runner, "127.0.0.1", toy.port).start())
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    yield toy
    asyncio.run_coroutine_threadsafe(runner.cleanup(), loop).result(timeout=10)
    loop.call_soon_threadsafe(loop.stop)
    thread.join(timeout=10)


# ##### TESTS: no service needed


def test_its_assets_lineage_checks_and_job_come_from_the_declaration() -> None:
    assets = media_assets(toy_media.MEDIA)
    defs = Definitions(assets=assets, resources=platform_resources())
    graph = defs.resolve_asset_graph()
    keys = {k.to_user_string() for k in graph.get_all_asset_keys()}
    assert keys == {"toy/agents", "toy/advertisers", "toy/funds"}
    assert graph.get(AssetKey(["toy", "funds"])).parent_keys == {AssetKey(["toy", "advertisers"])}
    assert graph.get(AssetKey(["toy", "funds"])).metadata["hbase_table"] == "tenant_toy_balance_v1"
    assert {c.name for c in graph.asset_check_keys} == {"completeness", "row_keys", "volume"}
    component = MediaAssets(media="toy").build_defs(context=None)  # what defs/toy/defs.yaml would give
    assert [j.name for j in component.jobs] == ["toy_daily"]
    assert "toy" in [m.name for m in all_media()]


def test_its_resources_come_from_its_declaration_and_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ARK_TOY_BASE_URL", "http://127.0.0.1:1/toy")
    api = media_api_resource_from_env().process_config_and_initialize()
    assert api.base_url("toy") == "http://127.0.0.1:1/toy"
    assert (api.app("toy").app_id, api.app("toy").secret) == ("77", "toy-secret")  # its declared default
    assert token_key("toy", "T1") == "toy_tokens_T1"
    assert agents_key("toy", "T1") == "toy_agents_T1"
    assert accounts_key("toy", "T1", DAY) == "toy_accounts_T1_20261125"
    assert KafkaLogResource().topic_for("toy") == "toy_api_log"


# ##### TESTS: on the real stack


@pytest.mark.stack
def test_the_whole_media_is_fetched_and_stored_end_to_end(server: ToyServer) -> None:
    tenant, unique = f"T7{secrets.randbelow(10**9):09d}", secrets.token_hex(4)
    mysql = MySQLResource(log_database=f"ark_t_{unique}_nyfz", eton_database=f"ark_t_{unique}_eton")
    hbase = HBaseResource(table_prefix=f"t{unique}")
    store = RedisSets()
    try:
        mysql.migrate()
        for agent in AGENTS:  # the upstream eton rows of toy's agents, as a test fixture
            upsert_agent(
                mysql.eton_database, tenant_alias=tenant, media="toy", agent_id=agent, name=f"agent {agent}"
            )
        store.write_tokens("toy", tenant, server.tokens)
        store.write_refresh_tokens("toy", tenant, server.refresh_tokens)
        assets = media_assets(toy_media.MEDIA)
        resources = platform_resources(
            io_manager=HBaseIOManager(hbase=hbase),
            redis=RedisResource(),
            mysql=mysql,
            hbase=hbase,
            kafka_log=KafkaLogResource(topic_prefix=f"t{unique}_", spool_dir=f"/tmp/ark-test-spool-{unique}"),
            sentry=SentryResource(),
            media_api=media_api_resource_from_env(
                media=[toy_media.MEDIA], base_urls={"toy": f"http://127.0.0.1:{server.port}/toy"}
            ),
        )
        instance = DagsterInstance.ephemeral()
        instance.add_dynamic_partitions("tenants", [tenant])
        result = materialize(
            assets,
            partition_key=str(partition_key(DAY, tenant)),
            resources=resources,
            instance=instance,
        )
        assert result.success
        accounts = {a: g for g, ids in AGENTS.items() for a in ids}
        assert store.accounts("toy", tenant, DAY) == accounts  # the day's list, in toy's key format
        assert hbase.count_date(table_name("toy", "agent_list"), DAY) == 2
        assert hbase.count_date(table_name("toy", "accounts_v1"), DAY) == 4
        assert hbase.count_date(table_name("toy", "balance_v1"), DAY) == 4
        assert all(e.passed for e in result.get_asset_check_evaluations())
        # the engine's behaviour, from toy's declaration alone
        assert server.calls["accounts/list"] == 2 + 1 + 1  # 101: two pages; 102: expired, then one page
        assert server.refresh_bodies == [{"app": 77, "secret": "toy-secret", "refresh": "toy-refresh-102"}]
        assert store.tokens("toy", tenant)["102"] == "toy-token-fresh-102"  # the rotated pair is kept
        [funds] = [
            m.metadata
            for m in result.asset_materializations_for_node("toy")  # the media's one step
            if m.asset_key == AssetKey(["toy", "funds"])
        ]
        assert funds["throttles"].value == 4 and funds["accounts_failed"].value == 0
        assert server.calls["balance/get"] == 8  # each account: one throttle answer, then its balance
    finally:
        for table in ("agent_list", "accounts_v1", "balance_v1"):
            hbase.delete_table(table_name("toy", table))
        conn = pymysql.connect(host="127.0.0.1", user="ark", password="ark")
        with conn.cursor() as cur:
            for db in (mysql.log_database, mysql.eton_database):
                cur.execute(f"DROP DATABASE IF EXISTS `{db}`")
        conn.close()
        raw = redis.Redis(db=2)
        for key in raw.scan_iter(match=f"toy_*{tenant}*"):
            raw.delete(key)
