"""Contract: the fetch engine speaks each media's API as its contract says, against the strict simulator.

Each case is a mismatch the research found between what Ark sent (or how it read answers) and the
official SDKs, and fails on the old behaviour:

- jrtt `advertiser/info` takes `advertiser_ids` as int64 JSON numbers (Ark sent strings: 40001);
- jrtt's refresh takes `app_id` as a JSON number and no `grant_type` (Ark sent a string: 40001);
- a cursor call answered in page mode (`page_info`, no cursor object) is walked on by page, not
  read as the last page (Ark stopped after the first page, ~100 accounts, with no error); a page
  listing capped below its own total fails the source naming what is missing;
- a Tencent refresh answer without a new `refresh_token` keeps the stored one (Ark failed the
  agent for the run);
- the codes Ark maps but the simulator never answered by itself each reach their class;
- the API version is configuration: both gdt/wx versions fetch the same records under the
  version's paths and field names.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest

from ark_assets.clients.redis_sets import RedisSets
from ark_assets.fetch.engine import EngineSettings, FetchEngine
from ark_assets.fetch.governor import GovernorSettings
from ark_assets.fetch.outcome import Outcome, Source
from ark_assets.media.declare import MediaApp
from ark_assets.media.registry import media as media_named
from ark_assets.resources.media_api import media_api_resource_from_env
from ark_assets.resources.redis_store import RedisResource
from ark_assets_tests.engine_support import clear_governors, own_tenant, seed_tokens
from ark_sim.server import RunningSimulator, running_simulator
from ark_sim.spec import Tier
from ark_sim.tamper import TamperRule

pytestmark = pytest.mark.stack  # every test here runs against the real services

FAST = EngineSettings(
    max_in_flight=16,
    timeout_s=2.0,
    max_attempts=3,
    max_throttled_attempts=3,
    backoff_s=0.01,
    backoff_max_s=0.02,
    governor=GovernorSettings(initial_rate=400.0, pause_s=0.05),
)


@pytest.fixture
def tenant() -> Iterator[str]:
    clear_governors()  # a quota another test spent today must not fail these
    with own_tenant("T7") as alias:
        yield alias


def _collect(
    sim: RunningSimulator, media: str, tenant: str, endpoint: str, sources: list[Source], version: str = ""
) -> tuple[list[Outcome], FetchEngine]:
    """Every outcome of `sources`, with the media's API in `version` (default: the configured one)."""
    api = media_api_resource_from_env(
        base_urls={media: sim.url(media)}, api_versions={media: version} if version else None
    )
    app = sim.config.media[media].app
    engine = FetchEngine(
        api.api_spec(media),
        base_url=sim.url(media),
        tenant=tenant,
        app=MediaApp(app_id=str(app.app_id), secret=app.secret),
        redis=RedisSets(),
        settings=FAST,
    )

    async def run() -> list[Outcome]:
        async with engine:
            return [outcome async for outcome in engine.stream(endpoint, sources)]

    return asyncio.run(run()), engine


def _failures(outcomes: list[Outcome]) -> list[Any]:
    return [o.failure for o in outcomes if not o.ok]


# ##### jrtt: types


def test_jrtt_advertiser_info_sends_int64_numbers(tenant: str) -> None:
    # The strict simulator refuses `["1790…", …]` (strings) with 40001 naming advertiser_ids.
    with running_simulator() as sim:
        seed_tokens(sim, "jrtt", tenant)
        agent = sim.world.agents("jrtt", tenant, tier=Tier.FIRST)[0].agent_id
        ids = tuple(str(a.account_id) for a in sim.world.agent_accounts("jrtt", tenant, agent))
        outcomes, _ = _collect(sim, "jrtt", tenant, "advertiser/info", [Source(str(agent), ids)])
    assert not _failures(outcomes), _failures(outcomes)
    assert [r["id"] for r in outcomes[0].records] == [int(i) for i in ids]


def test_jrtt_advertiser_info_refuses_an_id_that_is_no_int64_before_calling(tenant: str) -> None:
    with running_simulator() as sim:
        seed_tokens(sim, "jrtt", tenant)
        agent = str(sim.world.agents("jrtt", tenant, tier=Tier.FIRST)[0].agent_id)
        outcomes, engine = _collect(sim, "jrtt", tenant, "advertiser/info", [Source(agent, ("123", "12a"))])
    [failure] = _failures(outcomes)
    assert failure.kind == "BadRequest" and "'12a'" in failure.message and "advertiser_ids" in failure.message
    assert engine.summary.requests == 0


def test_jrtt_refresh_sends_the_official_body(tenant: str) -> None:
    # OE's request: {app_id: int64, secret, refresh_token}; a string app_id is 40001 (app_id).
    with running_simulator() as sim:
        seed_tokens(sim, "jrtt", tenant)
        agent = sim.world.agents("jrtt", tenant, tier=Tier.FIRST)[0].agent_id
        sim.expire_tokens("jrtt", tenant, agent)
        sources = [
            Source(str(agent), str(a.account_id)) for a in sim.world.agent_accounts("jrtt", tenant, agent)
        ]
        outcomes, engine = _collect(sim, "jrtt", tenant, "advertiser/fund/get", sources)
        refreshes = sim.counters()["requests"]["jrtt oauth2/refresh_token"]
    assert not _failures(outcomes), _failures(outcomes)
    assert refreshes == {"0": 1} and engine.tokens.refreshes == 1


# ##### paging: a cursor call answered in page mode


@pytest.mark.parametrize(
    ("endpoint", "sizes", "records", "pages"),
    [
        # one first-tier agent with 250 direct accounts, answered by pages of the default 100: the
        # old engine kept the first 100 and ended
        ("agent/advertiser/select", {"direct_accounts": 250, "second_tier_accounts": 3}, 250, 3),
        # a second-tier agent's 45 accounts in the agent report, pages of the default 20
        ("report/agent/get_v2", {"direct_accounts": 2, "second_tier_accounts": 45}, 45, 3),
    ],
)
def test_a_jrtt_cursor_call_answered_in_page_mode_is_walked_by_page(
    tenant: str, endpoint: str, sizes: dict, records: int, pages: int
) -> None:
    profile = {"first_tier_agents": 1, "second_tier_agents": 1, **sizes}
    with running_simulator(
        profiles={"small": {"jrtt": profile}}, media={"jrtt": {"faults": {"cursor_ignored": True}}}
    ) as sim:
        seed_tokens(sim, "jrtt", tenant)
        tier = Tier.FIRST if endpoint == "agent/advertiser/select" else Tier.SECOND
        agent = sim.world.agents("jrtt", tenant, tier=tier)[0].agent_id
        day = {"start_date": "2026-11-25", "end_date": "2026-11-25"} if tier is Tier.SECOND else {}
        outcomes, _ = _collect(sim, "jrtt", tenant, endpoint, [Source(str(agent), str(agent), day)])
        expected = [a.account_id for a in sim.world.agent_accounts("jrtt", tenant, agent)]
    [outcome] = outcomes
    assert outcome.ok, outcome.failure
    key = "id" if tier is Tier.FIRST else "advertiser_id"
    assert [r[key] for r in outcome.records] == expected and len(expected) == records
    assert outcome.pages == pages


@pytest.mark.parametrize(
    ("accounts", "ok"),
    [
        (450, True),  # under the 1000 rows normal mode serves: every account, by page
        (2100, False),  # above: normal mode stops at 1000, so the agent fails instead of ending short
    ],
)
def test_a_v11_advertiser_get_answered_in_page_mode(tenant: str, accounts: int, ok: bool) -> None:
    # v1.1's SDK has no pagination_mode: a server ignoring it answers `page_info`.
    with running_simulator(
        profiles={"small": {"gdt": {"agents": 1, "accounts": accounts}}},
        media={"gdt": {"faults": {"cursor_ignored": True}}},
    ) as sim:
        seed_tokens(sim, "gdt", tenant)
        agent = sim.world.agents("gdt", tenant)[0].agent_id
        outcomes, _ = _collect(
            sim, "gdt", tenant, "advertiser/get", [Source(str(agent), None)], version="v1.1"
        )
    [outcome] = outcomes
    if ok:
        assert outcome.ok, outcome.failure
        assert len({r["account_id"] for r in outcome.records}) == accounts
    else:
        assert outcome.failure.kind == "IncompletePages"
        assert "page 11 of 21 came back empty" in outcome.failure.message
        assert str(accounts) in outcome.failure.message  # page_info's total_number


# ##### Tencent refresh without a new refresh token


@pytest.mark.parametrize("media", ["gdt", "wx"])
def test_a_refresh_answer_without_a_refresh_token_keeps_the_stored_one(media: str, tenant: str) -> None:
    with running_simulator(media={media: {"tokens": {"refresh_answer_token": False}}}) as sim:
        seed_tokens(sim, media, tenant)
        agent = sim.world.agents(media, tenant)[0].agent_id
        stored = RedisResource().sets.refresh_token(media, tenant, str(agent))
        old_access = RedisResource().sets.tokens(media, tenant)[str(agent)]
        sim.expire_tokens(media, tenant, agent)
        sources = [Source(str(agent), str(a)) for a, _ in sim.world.accounts(media, tenant, agent_id=agent)]
        outcomes, engine = _collect(sim, media, tenant, "funds/get", sources)
    assert not _failures(outcomes), _failures(outcomes)
    assert engine.tokens.refreshes == 1
    assert RedisResource().sets.refresh_token(media, tenant, str(agent)) == stored  # kept, still valid
    assert RedisResource().sets.tokens(media, tenant)[str(agent)] != old_access  # the new access token


# ##### codes the platform maps, asked of the simulator


# (media, endpoint, code, the class the platform must read it as); the simulator answers each
# through a tamper rule on every matching call
_CODES = [
    ("gdt", "funds/get", 30104, "Throttled"),  # "request limit reached, retry after one minute" (I#27)
    ("gdt", "funds/get", 11019, "Throttled"),  # subject/developer frequency control (D-err3)
    ("gdt", "funds/get", 11008, "Throttled"),  # application request limit (D-err3)
    ("gdt", "funds/get", 51001, "TransientServerError"),  # reports backend busy (MA)
    ("gdt", "funds/get", 32211, "PermissionDenied"),  # advertiser inactive (MA)
    ("gdt", "funds/get", 11004, "TokenInvalid"),  # malformed token: one refresh, then the answer stands
    ("gdt", "funds/get", 11014, "PermissionDenied"),  # outside the authorised scope (D-err3)
    ("wx", "funds/get", 30104, "Throttled"),  # wx shares the Tencent table
    ("jrtt", "advertiser/fund/get", 40300, "PermissionDenied"),  # advertiser not enabled (DH)
    ("jrtt", "advertiser/fund/get", 40301, "PermissionDenied"),  # advertiser blacklisted (DH)
    ("jrtt", "advertiser/fund/get", 40106, "TokenInvalid"),  # account login anomaly (DH)
    ("jrtt", "advertiser/fund/get", 40003, "BadRequest"),  # bad filtering field (DH)
    ("jrtt", "advertiser/fund/get", 61003, "PermissionDenied"),  # same-subject restriction (MA)
    ("jrtt", "advertiser/fund/get", 51007, "TransientServerError"),  # material query error (MA)
]


@pytest.mark.parametrize(("media", "endpoint", "code", "kind"), _CODES)
def test_codes_the_platform_maps_reach_their_class(
    media: str, endpoint: str, code: int, kind: str, tenant: str
) -> None:
    with running_simulator() as sim:
        seed_tokens(sim, media, tenant)
        account, agent = sim.world.accounts(media, tenant)[0]
        sim.tamper(media, TamperRule(endpoint, code=code))
        outcomes, _ = _collect(sim, media, tenant, endpoint, [Source(str(agent), str(account))])
    [failure] = _failures(outcomes)
    assert (failure.kind, failure.code) == (kind, code)


@pytest.mark.parametrize(
    ("path_code", "kind"),
    [
        (40103, "RefreshFailed"),  # refresh token expired (DH): the agent needs a new authorisation
        (40107, "RefreshFailed"),  # refresh token wrong (DH)
    ],
)
def test_jrtt_refresh_codes_fail_the_agent(path_code: int, kind: str, tenant: str) -> None:
    with running_simulator() as sim:
        seed_tokens(sim, "jrtt", tenant)
        account, agent = sim.world.accounts("jrtt", tenant)[0]
        sim.expire_tokens("jrtt", tenant, agent)
        sim.tamper("jrtt", TamperRule("oauth2/refresh_token", code=path_code))
        outcomes, _ = _collect(sim, "jrtt", tenant, "advertiser/fund/get", [Source(str(agent), str(account))])
    [failure] = _failures(outcomes)
    assert (failure.kind, failure.code) == (kind, path_code)


# ##### versions


@pytest.mark.parametrize(
    ("version", "path", "fields"),
    [
        ("v1.1", "/v1.1/funds/get", {"fund_type", "balance", "fund_status", "today_cost"}),
        ("v1.3", "/v1.3/funds/get", {"fund_type", "balance", "fund_status", "realtime_cost"}),
        (
            "v3.0",
            "/v3.0/funds/get",
            {"fund_type", "balance", "bill_deposit_amount", "fund_status", "realtime_cost", "effect_funds"},
        ),
    ],
)
def test_each_version_fetches_under_its_paths_and_names(
    version: str, path: str, fields: set[str], tenant: str
) -> None:
    with running_simulator() as sim:
        seed_tokens(sim, "gdt", tenant)
        sources = [Source(str(agent), str(account)) for account, agent in sim.world.accounts("gdt", tenant)]
        outcomes, _ = _collect(sim, "gdt", tenant, "funds/get", sources, version=version)
    assert media_named("gdt").api_for(version).endpoint("funds/get").path == path
    assert not _failures(outcomes), _failures(outcomes)
    records = [r for o in outcomes for r in o.records]
    assert len(records) == sum(sim.world.funds_records("gdt", int(s.target)) for s in sources)
    assert all(set(r) == fields for r in records)


def test_wx_lists_its_accounts_in_each_version(tenant: str) -> None:
    with running_simulator() as sim:
        seed_tokens(sim, "wx", tenant)
        agents = sim.world.agents("wx", tenant)
        sources = [Source(str(a.agent_id), None) for a in agents]
        listed = {}
        for version in ("v1.1", "v1.3", "v3.0"):
            outcomes, _ = _collect(sim, "wx", tenant, "accounts", sources, version=version)
            assert not _failures(outcomes), _failures(outcomes)
            listed[version] = {o.source.agent_id: [r["account_id"] for r in o.records] for o in outcomes}
        counters = sim.counters()["requests"]
    expected = {
        str(a.agent_id): [x.account_id for x in sim.world.agent_accounts("wx", tenant, a.agent_id)]
        for a in agents
    }
    assert listed["v1.1"] == listed["v1.3"] == listed["v3.0"] == expected
    # advertiser/get played the role in every version: one quota and governor key, no retired endpoint
    assert {e for e in counters if e.startswith("wx ")} == {"wx advertiser/get"}
    assert set(counters["wx advertiser/get"]) == {"0"}


# ##### row quotas


def test_a_big_accounts_hourly_report_stays_under_the_row_quotas(tenant: str) -> None:
    """One account with 400 ads active every hour: 9,600 rows per time line (ten pages of 1000,
    the most page x page_size allows), 28,800 in three time lines, all of one account's level. The
    simulator holds Tencent's row quotas (12,000 rows/s, 40,000 per 10 s: news/info/20190415,
    20190527) and refuses rows over them with 11019; the engine's row budget keeps every call
    under them, so every page is answered and every row arrives."""
    from datetime import date

    big = {"campaigns": [5, 5], "adgroups": [10, 10], "ads": [8, 8], "active_hours": 24}
    profile = {"gdt": {"agents": 1, "accounts": 1}, "entities": big, "no_spend_rate": 0.0}
    with running_simulator(clock={"today": "2026-11-26"}, profiles={"small": profile}) as sim:
        seed_tokens(sim, "gdt", tenant)
        [(account, agent)] = sim.world.accounts("gdt", tenant)
        dataset = next(
            d for d in media_named("gdt").assets_for().datasets if d.endpoint == "hourly_reports/get"
        )
        day = date(2026, 11, 25)
        sources = [
            Source(str(agent), str(account), dict(dataset.params(day)) | {"time_line": line})
            for line in dataset.time_lines
        ]
        outcomes, _ = _collect(sim, "gdt", tenant, "hourly_reports/get", sources)
        answers = sim.counters()["requests"]["gdt hourly_reports/get"]
    assert not _failures(outcomes), _failures(outcomes)
    assert set(answers) == {"0"}, answers  # no 11019: no call went over a row quota
    rows = sum(len(o.records) for o in outcomes)
    assert rows == 3 * 400 * 24 and answers["0"] == 3 * 10
