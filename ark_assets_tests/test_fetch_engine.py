"""The fetch engine against the simulator and the real Redis.

The contract: every source ends in exactly one outcome (records or a recorded failure) and no
record is lost to throttles, 5xx, timeouts or malformed bodies; pages are walked to the end;
an expired token is refreshed once under a Redis lock (a lock held by another process is
waited for, not fought); a daily-quota code stops the endpoint for the day with one alert;
engines sharing an app share its quota.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import time
from collections.abc import Iterator
from typing import Any

import pytest
import redis

from ark_assets.clients.redis_sets import RedisSets
from ark_assets.fetch.engine import EngineSettings, FetchEngine
from ark_assets.fetch.governor import GovernorSettings
from ark_assets.fetch.outcome import Outcome, Source
from ark_assets.media.api import ApiSpec
from ark_assets.media.declare import MediaApp
from ark_assets.resources.media_api import media_api_resource_from_env
from ark_assets.resources.redis_store import RedisResource
from ark_assets_tests.engine_support import clear_governors, own_tenant, seed_tokens
from ark_sim.server import RunningSimulator, running_simulator

pytestmark = [pytest.mark.stack, pytest.mark.api_paths]  # the real services; run in both API versions

FAST = EngineSettings(
    max_in_flight=32,
    timeout_s=2.0,
    backoff_s=0.01,
    backoff_max_s=0.05,
    governor=GovernorSettings(initial_rate=400.0, pause_s=0.2),
)


# ##### FIXTURES


@pytest.fixture
def tenant() -> Iterator[str]:
    with own_tenant("T8") as alias:
        yield alias


@pytest.fixture(autouse=True)
def _fresh_governors() -> Iterator[None]:
    """Governor and quota state is shared through Redis by app: tests start from a clean slate."""
    clear_governors()
    yield


def _simulator(**overrides: Any) -> Any:
    return running_simulator(**overrides)


def _api(media: str) -> ApiSpec:
    """The media's API in the configured version (`ARK_<MEDIA>_API_VERSION`: `make test` runs this
    module a second time with the current versions)."""
    return media_api_resource_from_env().api_spec(media)


def _engine(
    sim: RunningSimulator, media: str, tenant: str, settings: EngineSettings = FAST, **kw: Any
) -> FetchEngine:
    app = sim.config.media[media].app
    return FetchEngine(
        _api(media),
        base_url=sim.url(media),
        tenant=tenant,
        app=MediaApp(app_id=str(app.app_id), secret=app.secret),
        redis=RedisSets(),
        settings=settings,
        **kw,
    )


def _fund_sources(sim: RunningSimulator, media: str, tenant: str) -> list[Source]:
    return [Source(str(agent), str(account)) for account, agent in sim.world.accounts(media, tenant)]


def _collect(engine: FetchEngine, endpoint: str, sources: list[Source]) -> list[Outcome]:
    async def run() -> list[Outcome]:
        async with engine:
            return [outcome async for outcome in engine.stream(endpoint, sources)]

    return asyncio.run(run())


def _expected_funds(sim: RunningSimulator, media: str, sources: list[Source]) -> int:
    return sum(sim.world.funds_records(media, int(s.target)) for s in sources)


# ##### TESTS


@pytest.mark.parametrize(
    ("media", "endpoint"),
    [("gdt", "funds/get"), ("wx", "funds/get"), ("jrtt", "advertiser/fund/get")],
)
def test_every_source_gets_exactly_one_outcome_with_all_records(
    media: str, endpoint: str, tenant: str
) -> None:
    with _simulator() as sim:
        seed_tokens(sim, media, tenant)
        sources = _fund_sources(sim, media, tenant)
        outcomes = _collect(_engine(sim, media, tenant), endpoint, sources)
    assert sorted(o.source.target for o in outcomes) == sorted(s.target for s in sources)
    assert all(o.ok for o in outcomes), [o.failure for o in outcomes if not o.ok]
    assert sum(len(o.records) for o in outcomes) == _expected_funds(sim, media, sources)


def test_jrtt_int64_ids_survive_exactly(tenant: str) -> None:
    with _simulator() as sim:
        seed_tokens(sim, "jrtt", tenant)
        sources = _fund_sources(sim, "jrtt", tenant)
        outcomes = _collect(_engine(sim, "jrtt", tenant), "advertiser/fund/get", sources)
    ids = {o.records[0]["advertiser_id"] for o in outcomes}
    assert ids == {int(s.target) for s in sources}
    assert all(isinstance(i, int) and i > 2**53 for i in ids)


def test_pages_are_walked_to_the_end_in_both_paging_styles(tenant: str) -> None:
    with _simulator() as sim:
        seed_tokens(sim, "gdt", tenant)
        seed_tokens(sim, "jrtt", tenant)
        gdt_agents = sim.world.agents("gdt", tenant)
        jrtt_agents = [
            a
            for a in sim.world.agents("jrtt", tenant)
            if sim.world.agent_accounts("jrtt", tenant, a.agent_id)
        ]
        # cursor paging with small pages: gdt advertiser/get (page size 100 would be one page here)
        small_pages = {"page_size": 3}
        gdt = _collect(
            _engine(sim, "gdt", tenant),
            "advertiser/get",
            [Source(str(a.agent_id), None, small_pages) for a in gdt_agents],
        )
        jrtt = _collect(
            _engine(sim, "jrtt", tenant),
            "agent/advertiser/select",
            [Source(str(a.agent_id), str(a.agent_id), {"count": 4}) for a in jrtt_agents],
        )
    for outcome in gdt:
        expected = {a for a, _ in sim.world.accounts("gdt", tenant, agent_id=int(outcome.source.agent_id))}
        assert {r["account_id"] for r in outcome.records} == expected
        assert outcome.pages >= len(expected) // 3
    for outcome in jrtt:
        expected = {
            a.account_id for a in sim.world.agent_accounts("jrtt", tenant, int(outcome.source.agent_id))
        }
        assert {r["id"] for r in outcome.records} == expected
        assert outcome.pages > 1


def test_throttles_are_waited_out_and_nothing_is_lost(tenant: str) -> None:
    # A minute bucket of ~2 calls and 6 calls/s refill: the engine must slow down, not drop.
    with _simulator() as sim:
        sim.set_quotas("gdt", "funds/get", per_minute=360, burst_seconds=0.4)
        seed_tokens(sim, "gdt", tenant)
        sources = _fund_sources(sim, "gdt", tenant)
        engine = _engine(sim, "gdt", tenant)
        outcomes = _collect(engine, "funds/get", sources)
        served = sim.counters()["throttles"].get("gdt funds/get", 0)
    assert all(o.ok for o in outcomes), [o.failure for o in outcomes if not o.ok]
    assert sum(len(o.records) for o in outcomes) == _expected_funds(sim, "gdt", sources)
    assert served > 0 and engine.summary.throttles == served == sum(o.throttles for o in outcomes)


@pytest.mark.parametrize("fault", ["http_5xx", "malformed", "reset", "busy", "timeout"])
def test_transient_faults_are_retried_until_every_record_arrives(fault: str, tenant: str) -> None:
    with _simulator() as sim:
        sim.set_faults("gdt", **{fault: 0.3, "timeout_hold_s": 3.0})
        seed_tokens(sim, "gdt", tenant)
        sources = _fund_sources(sim, "gdt", tenant)
        settings = EngineSettings(
            max_in_flight=32,
            timeout_s=0.5,
            max_attempts=12,
            backoff_s=0.01,
            backoff_max_s=0.05,
            governor=FAST.governor,
        )
        outcomes = _collect(_engine(sim, "gdt", tenant, settings), "funds/get", sources)
        answers = sim.counters()["requests"]["gdt funds/get"]
    assert all(o.ok for o in outcomes), [o.failure for o in outcomes if not o.ok]
    assert sum(len(o.records) for o in outcomes) == _expected_funds(sim, "gdt", sources)
    faulty = sum(n for answer, n in answers.items() if answer != "0")
    assert faulty > 0, f"the {fault} fault was never injected: {answers}"
    # each fault cost at most one retry (aiohttp itself re-sends once on a reset keep-alive connection)
    assert len(sources) + (fault != "reset") <= sum(o.attempts for o in outcomes) <= len(sources) + faulty


def test_expired_token_is_refreshed_once_and_rotated_in_redis(tenant: str) -> None:
    with _simulator() as sim:
        seed_tokens(sim, "jrtt", tenant)
        before = RedisResource().sets.tokens("jrtt", tenant)
        agent = str(sim.world.agents("jrtt", tenant)[0].agent_id)
        sim.expire_tokens("jrtt", tenant, int(agent))
        sources = [s for s in _fund_sources(sim, "jrtt", tenant) if s.agent_id == agent]
        engine = _engine(sim, "jrtt", tenant)
        outcomes = _collect(engine, "advertiser/fund/get", sources)
        refresh_calls = sum(sim.counters()["requests"].get("jrtt oauth2/refresh_token", {}).values())
    after = RedisResource().sets.tokens("jrtt", tenant)
    assert all(o.ok for o in outcomes), [o.failure for o in outcomes if not o.ok]
    assert refresh_calls == 1 and engine.summary.refreshes == 1
    assert after[agent] != before[agent]  # the rotated access token is stored for the next run
    assert {k: v for k, v in after.items() if k != agent} == {k: v for k, v in before.items() if k != agent}


def test_a_refused_refresh_fails_that_agents_sources_with_the_reason(tenant: str) -> None:
    with _simulator() as sim:
        seed_tokens(sim, "gdt", tenant)
        agent = str(sim.world.agents("gdt", tenant)[0].agent_id)
        sim.expire_tokens("gdt", tenant, int(agent), refresh=True)  # the refresh token dies too
        sources = _fund_sources(sim, "gdt", tenant)
        outcomes = _collect(_engine(sim, "gdt", tenant), "funds/get", sources)
        refresh_calls = sum(sim.counters()["requests"].get("gdt oauth/token", {}).values())
    failed = [o for o in outcomes if not o.ok]
    assert {o.source.agent_id for o in failed} == {agent}
    assert len(failed) == sum(1 for s in sources if s.agent_id == agent)
    assert {o.failure.kind for o in failed} == {"RefreshFailed"}
    assert all("refresh refused" in o.failure.message for o in failed)
    assert refresh_calls == 1  # one refresh for the agent, not one per source
    assert all(o.ok for o in outcomes if o.source.agent_id != agent)


def _hold_lock_then_refresh(
    tenant: str, agent: str, base_url: str, app_id: str, secret: str, go: Any
) -> None:
    """Another process: takes the agent's refresh lock, refreshes the pair itself, then releases."""

    async def run() -> None:
        engine = FetchEngine(
            _api("jrtt"),
            base_url=base_url,
            tenant=tenant,
            app=MediaApp(app_id=app_id, secret=secret),
            redis=RedisSets(),
            settings=FAST,
        )
        async with engine:
            lock = engine._client.lock(f"ark:lock:token:jrtt:{tenant}:{agent}", timeout=30)
            async with lock:
                go.set()
                await asyncio.sleep(1.5)
                await engine.tokens._rotate(agent)

    asyncio.run(run())


def test_a_refresh_lock_held_by_another_process_is_waited_for(tenant: str) -> None:
    with _simulator() as sim:
        seed_tokens(sim, "jrtt", tenant)
        agent = str(sim.world.agents("jrtt", tenant)[0].agent_id)
        sim.expire_tokens("jrtt", tenant, int(agent))
        app = sim.config.media["jrtt"].app
        go = multiprocessing.get_context("spawn").Event()
        other = multiprocessing.get_context("spawn").Process(
            target=_hold_lock_then_refresh,
            args=(tenant, agent, sim.url("jrtt"), str(app.app_id), app.secret, go),
        )
        other.start()
        assert go.wait(30), "the other process never took the lock"
        sources = [s for s in _fund_sources(sim, "jrtt", tenant) if s.agent_id == agent]
        engine = _engine(sim, "jrtt", tenant)
        outcomes = _collect(engine, "advertiser/fund/get", sources)
        other.join(30)
        refresh_calls = sum(sim.counters()["requests"].get("jrtt oauth2/refresh_token", {}).values())
    assert other.exitcode == 0
    assert all(o.ok for o in outcomes), [o.failure for o in outcomes if not o.ok]
    assert refresh_calls == 1 and engine.summary.refreshes == 0  # the other process's refresh was reused


class _Alerts:
    def __init__(self) -> None:
        self.alerts: list[str] = []

    def on_response(self, event: Any) -> None:
        pass

    def on_alert(self, media: str, message: str) -> None:
        self.alerts.append(message)


def test_daily_quota_stops_the_endpoint_for_the_day_with_one_alert(tenant: str) -> None:
    with _simulator() as sim:
        sim.set_quotas("gdt", "funds/get", per_day=10)
        seed_tokens(sim, "gdt", tenant)
        sources = _fund_sources(sim, "gdt", tenant)
        observer = _Alerts()
        outcomes = _collect(_engine(sim, "gdt", tenant, observer=observer), "funds/get", sources)
        codes = sim.counters()["requests"]["gdt funds/get"]
        # a second run the same day does not even try
        second = _collect(_engine(sim, "gdt", tenant), "funds/get", sources[:3])
        codes_after = sim.counters()["requests"]["gdt funds/get"]
    ok = [o for o in outcomes if o.ok]
    failed = [o for o in outcomes if not o.ok]
    assert len(ok) == 10 and len(failed) == len(sources) - 10
    assert {o.failure.kind for o in failed} == {"DailyQuotaExhausted"}
    assert len(observer.alerts) == 1 and "daily quota" in observer.alerts[0]
    assert codes.get("11018", 0) <= FAST.max_in_flight  # in-flight calls at most, no retries burnt
    assert all(not o.ok and o.failure.kind == "DailyQuotaExhausted" for o in second)
    assert codes_after == codes


def test_permission_errors_are_not_retried(tenant: str) -> None:
    with _simulator() as sim:
        seed_tokens(sim, "gdt", tenant)
        agents = [str(a.agent_id) for a in sim.world.agents("gdt", tenant)]
        foreign = [account for account, agent in sim.world.accounts("gdt", tenant) if str(agent) != agents[0]]
        outcomes = _collect(_engine(sim, "gdt", tenant), "funds/get", [Source(agents[0], str(foreign[0]))])
    [outcome] = outcomes
    assert outcome.failure is not None and outcome.failure.kind == "PermissionDenied"
    assert outcome.failure.code == 12203 and outcome.attempts == 1


def test_a_post_is_never_sent_twice(tenant: str) -> None:
    """A POST creates something (Tencent's async report task): a 5xx or a lost answer is not
    retried, nor hedged; the caller looks for what it may have made (`fetch/tasks.py`)."""
    from datetime import timedelta

    from ark_assets.assets.bulk import bulk_plans, task_requests
    from ark_assets.media.registry import media as media_named

    with _simulator() as sim:
        seed_tokens(sim, "gdt", tenant)
        agent = str(sim.world.agents("gdt", tenant)[0].agent_id)
        api = media_api_resource_from_env(base_urls={"gdt": sim.url("gdt")}, api_versions={"gdt": "v3.0"})
        day = sim.world.today() - timedelta(days=1)
        [request] = task_requests(api.api_spec("gdt"), bulk_plans(media_named("gdt"), api, day)[:1], "ark-t")
        body = {**request.body, "account_id": int(agent), "task_name": request.name}
        sim.set_faults("gdt", http_5xx=1.0)
        app = sim.config.media["gdt"].app
        engine = FetchEngine(
            api.api_spec("gdt"),
            base_url=sim.url("gdt"),
            tenant=tenant,
            app=MediaApp(app_id=str(app.app_id), secret=app.secret),
            redis=RedisSets(),
            settings=FAST,
        )
        [outcome] = _collect(engine, "async_reports/add", [Source(agent, None, body)])
        served = sum(sim.counters()["requests"].get("gdt async_reports/add", {}).values())
    assert outcome.failure is not None and outcome.attempts == 1
    assert served == 1


# Both rounds pace at a fixed 20 calls/s per governor against a quota of 25 calls/s whose bucket
# holds 2 s of calls (50): a process that stalls for a moment and then sends its late slots at once
# stays inside it; only a sustained rate above 25 calls/s is throttled.
_FIXED_RATE = GovernorSettings(initial_rate=20.0, min_rate=20.0, max_rate=20.0)


def _run_engine_process(
    tenant: str,
    base_url: str,
    app_id: str,
    secret: str,
    job: tuple[list[tuple[str, str]], bool],
    started: Any,
    out: Any,
) -> None:
    targets, shared = job
    if not shared:  # the control: a governor state of this process's own, as if it were not shared
        from ark_assets.fetch import governor

        plain_init = governor.RateGovernor.__init__

        def own_key(self: governor.RateGovernor, *args: Any, **kwargs: Any) -> None:
            plain_init(self, *args, **kwargs)
            self.key = f"{self.key}:{os.getpid()}"

        governor.RateGovernor.__init__ = own_key  # type: ignore[method-assign]

    async def run() -> None:
        engine = FetchEngine(
            _api("gdt"),
            base_url=base_url,
            tenant=tenant,
            app=MediaApp(app_id=app_id, secret=secret),
            redis=RedisSets(),
            settings=EngineSettings(max_in_flight=64, governor=_FIXED_RATE),
        )
        async with engine:
            started.wait(60)  # every process calls at the same time, however slowly each started
            n = 0
            async for outcome in engine.stream("funds/get", [Source(a, t) for a, t in targets]):
                n += len(outcome.records or [])
        out.put((n, engine.summary.throttles))

    asyncio.run(run())


def _run_processes(
    sim: RunningSimulator, tenant: str, parts: list[list[Source]], *, shared: bool
) -> tuple[int, int]:
    """Run one engine process per part at once; returns (records fetched, throttles served)."""
    for key in redis.Redis(db=2).scan_iter(match="ark:governor:*"):  # every round starts cold
        redis.Redis(db=2).delete(key)
    sim.reset()
    sim.set_quotas("gdt", "funds/get", per_minute=1500, burst_seconds=2.0)
    app = sim.config.media["gdt"].app
    ctx = multiprocessing.get_context("spawn")
    out, started = ctx.Queue(), ctx.Barrier(len(parts))
    procs = [
        ctx.Process(
            target=_run_engine_process,
            args=(
                tenant,
                sim.url("gdt"),
                str(app.app_id),
                app.secret,
                ([(s.agent_id, s.target) for s in part], shared),
                started,
                out,
            ),
        )
        for part in parts
    ]
    for proc in procs:
        proc.start()
    results = [out.get(timeout=180) for _ in procs]
    for proc in procs:
        proc.join(30)
    return sum(n for n, _ in results), sim.counters()["throttles"].get("gdt funds/get", 0)


def test_two_concurrent_engines_share_one_quota(tenant: str) -> None:
    # The governor lives in Redis per (media, app, endpoint), so two processes pace as one: at 20
    # calls/s between them they stay inside a 25 calls/s quota and are never throttled. The control
    # gives each process a state of its own: 40 calls/s between them, and the media throttles them.
    with _simulator() as sim:
        seed_tokens(sim, "gdt", tenant)
        sources = _fund_sources(sim, "gdt", tenant) * 10  # 15 s at 20 calls/s
        halves = [sources[0::2], sources[1::2]]
        shared_records, shared_throttles = _run_processes(sim, tenant, halves, shared=True)
        apart_records, apart_throttles = _run_processes(sim, tenant, halves, shared=False)
    assert shared_records == apart_records == _expected_funds(sim, "gdt", sources)
    assert shared_throttles == 0
    assert apart_throttles > 0


def test_hundreds_of_sources_in_flight_share_the_redis_pool(tenant: str) -> None:
    # 300 sources with 250 in flight: every worker calls the governor in Redis at once, more than
    # redis-py's default pool of 100 connections (which raises instead of waiting).
    with _simulator(media={"gdt": {"latency": {"median_ms": 100}}}) as sim:
        seed_tokens(sim, "gdt", tenant)
        sources = _fund_sources(sim, "gdt", tenant) * 10
        settings = EngineSettings(max_in_flight=250, governor=GovernorSettings(initial_rate=2000.0))
        outcomes = _collect(_engine(sim, "gdt", tenant, settings), "funds/get", sources)
    assert len(outcomes) == 300 and all(o.ok for o in outcomes)


def test_held_calls_are_hedged_or_time_out_early_and_nothing_is_lost(tenant: str) -> None:
    # 4% of calls are held for 20 s (a gateway that never answers them); the configured timeout is
    # 8 s. Once the endpoint has answered a few dozen times, a straggler is sent again after 2 x p95
    # (at least 0.25 s) and its copy answers; without hedging, it times out after the latency-aware
    # timeout (the 2 s floor here), not after 8 s, and is retried. Either way every record arrives.
    from dataclasses import replace

    from ark_assets.fetch.latency import LatencySettings

    faults = {"timeout": 0.04, "timeout_hold_s": 20.0, "median_ms": 20, "sigma": 0.2}
    with _simulator() as sim:
        sim.set_faults("gdt", **faults)
        seed_tokens(sim, "gdt", tenant)
        sources = _fund_sources(sim, "gdt", tenant) * 10
        base = replace(FAST, timeout_s=8.0, max_in_flight=16, governor=GovernorSettings(initial_rate=2000.0))
        results = {}
        for hedging in (True, False):
            sim.reset()
            # the mechanism at a share of copies that lets it show on 300 calls (shipped: 0.5%), and
            # without the loop-lag guard, which rightly holds copies back while this process's own
            # event loop runs late, as it may on a busy machine (its own test: test_latency.py)
            latency = LatencySettings(hedge=hedging, hedge_share=0.05, lag_check_s=1e6)
            settings = replace(base, latency=latency)
            engine = _engine(sim, "gdt", tenant, settings)
            started = time.monotonic()
            outcomes = _collect(engine, "funds/get", sources)
            seconds = time.monotonic() - started
            held = sum(n for o, n in sim.counters()["requests"]["gdt funds/get"].items() if o == "timeout")
            results[hedging] = (outcomes, engine.summary, held, seconds)
    for hedging, (outcomes, stats, held, seconds) in results.items():
        assert all(o.ok for o in outcomes), [o.failure for o in outcomes if not o.ok]
        assert sum(len(o.records) for o in outcomes) == _expected_funds(sim, "gdt", sources)
        assert held > 0, "no call was held"
        if hedging:
            assert stats.hedges > 0 and stats.hedge_wins > 0, stats
        else:
            assert stats.hedges == 0 and stats.timeouts > 0, stats
        # no source waited out a 20 s hold: at worst one 8 s timeout before the warm-up, then
        # retries held again time out after the latency-aware 2 s, 4 s, 8 s (a retry doubles it),
        # 22 s in all (the old bound, 16 s, failed once at 16.02 s on a busy machine; the
        # timeouts themselves are test_latency.py's)
        assert seconds < 24, (hedging, seconds, stats)
