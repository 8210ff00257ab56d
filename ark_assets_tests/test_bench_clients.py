"""The fetch benchmark's clients still work: against a tiny, unthrottled simulator each one fetches
every funds record of every account the seed's Redis keys list.

Contract under test: `python -m bench.clients.<client> --media M --base-url URL --tenant T --date D
--out FILE` reads `{media}_new_access_token_{T}` and the day's account keys, calls the media's funds
endpoint once per account, and writes a result whose per-account records equal the simulator
world's (`World.funds_records`). The benchmark itself (`make bench-fetch`) measures speed; this
only guards that its clients keep running as the code around them changes.
"""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
import redis

from ark_assets.core.tiers import AgentTier
from ark_assets.media.registry import media as media_named
from ark_assets.resources.redis_store import RedisResource
from ark_sim import SimConfig, running_simulator

pytestmark = pytest.mark.stack  # every test here runs against the real services

ROOT = Path(__file__).resolve().parent.parent
DAY = date(2020, 6, 11)
# The engine's governor key names the app: a test-only app id keeps other runs' learnt rates out.
TEST_APP_PREFIX = "benchtest"

CASES = [
    # the notes' §5.1 thread pool: query-string auth (access_token/timestamp/nonce), quota header
    ("bench.clients.seed_threads", "gdt"),
    # the same pool on jrtt, called as the notes' §1.3.2 does (Access-Token header, JSON body)
    ("bench.clients.seed_threads", "jrtt"),
    # the notes' §5.2 asyncio + aiohttp with semaphore 100 and the low-quota sleep
    ("bench.clients.seed_async", "gdt"),
    ("bench.clients.seed_async", "jrtt"),
    # our engine, driven the way the benchmark drives it
    ("bench.clients.ark_engine", "gdt"),
    ("bench.clients.ark_engine", "jrtt"),
]


@pytest.fixture(scope="module")
def world_and_tenant():
    """A no-latency, no-fault simulator of the `small` profile and one seeded tenant's Redis keys."""
    config = SimConfig.load(overrides={"profile": "small", "clock": {"today": DAY.isoformat()}})
    tenant = "TBENCHTEST"
    store = RedisResource()
    with running_simulator(config) as sim:
        for media in ("gdt", "jrtt"):
            agents = sim.world.agents(media, tenant)
            tokens = sim.world.initial_tokens(media, tenant)
            store.sets.write_tokens(media, tenant, {a.agent_id: tokens[a.agent_id][0] for a in agents})
        store.sets.write_accounts("gdt", tenant, DAY, dict(sim.world.accounts("gdt", tenant)))
        for tier in (AgentTier.FIRST, AgentTier.SECOND):
            accounts = dict(sim.world.accounts("jrtt", tenant, tier=tier))
            store.sets.write_accounts("jrtt", tenant, DAY, accounts, tier=tier)
        try:
            yield sim, tenant
        finally:
            for media in ("gdt", "jrtt"):
                store.sets.write_tokens(media, tenant, {})  # an empty mapping leaves no key
            store.sets.write_accounts("gdt", tenant, DAY, {})
            for tier in (AgentTier.FIRST, AgentTier.SECOND):
                store.sets.write_accounts("jrtt", tenant, DAY, {}, tier=tier)
            client = redis.Redis(host=store.host, port=store.port, db=store.db)
            for key in client.scan_iter(match=f"ark:governor:*:{TEST_APP_PREFIX}*"):
                client.delete(key)


@pytest.mark.parametrize(("module", "media"), CASES)
def test_client_fetches_every_record(world_and_tenant, module: str, media: str, tmp_path: Path) -> None:
    sim, tenant = world_and_tenant
    app = sim.config.media[media_named(media).name].app
    out = tmp_path / "result.json"
    cmd = [
        sys.executable,
        "-m",
        module,
        "--media",
        media,
        "--base-url",
        sim.url(media),
        "--tenant",
        tenant,
        "--date",
        DAY.strftime("%Y%m%d"),
        "--out",
        str(out),
        "--app-id",
        f"{TEST_APP_PREFIX}{app.app_id}",
        "--secret",
        app.secret,
    ]
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(out.read_text(encoding="utf-8"))

    accounts = [str(a) for a, _ in sim.world.accounts(media, tenant)]
    expected = {a: sim.world.funds_records(media, int(a), DAY) for a in accounts}
    assert sorted(result["source_ids"]) == sorted(accounts)
    assert result["kinds"] == {"ok": len(accounts)}
    assert result["records_by_account"] == expected
    assert result["throttles_seen"] == 0
