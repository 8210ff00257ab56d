"""Contract: the simulator's config and world (ark_sim/{config,profiles,world}.py).

- `SimConfig.load` deep-merges overrides onto the shipped sim.toml, refuses unknown knobs and any
  host that is not loopback;
- the world is a pure function of (profile, seed, tenant): equal across instances and processes
  (blake2b, never hash()), different across tenants;
- ids have the research's shapes (gdt/wx accounts 8-11 digits, agents 7 digits; jrtt agents 10
  digits below 2**53, jrtt advertisers 19 digits above 2**53) and are distinct;
- profile sizes: `small` as documented, `seed` with the seed's exact totals, overridable (7,481);
- about 25% of accounts have no spend on a day; funds exist for every account;
- late revisions: a recent date's metrics are below its final ones, with the same atoms (rows).
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from datetime import date, timedelta

import pytest

from ark_sim.config import SimConfig
from ark_sim.media import names as media_names
from ark_sim.profiles import split
from ark_sim.spec import Tier as AgentTier
from ark_sim.world import World

TENANT = "T100117"
DAY = date(2024, 5, 1)


def _world(**overrides) -> World:
    return World(SimConfig.load(overrides={"clock": {"today": "2024-05-20"}, **overrides}))


def _digest(world: World, tenant: str) -> str:
    """A fingerprint of everything a tenant's world holds (a few accounts deep)."""
    parts = []
    for media in media_names():
        agents = world.agents(media, tenant, active_only=False)
        parts.append([(a.agent_id, a.name, a.tier, a.parent_id, a.auth_status, a.auth_type) for a in agents])
        accounts = world.accounts(media, tenant, active_only=False)
        parts.append(accounts)
        parts.append(world.initial_tokens(media, tenant))
        for account_id, _ in accounts[:3]:
            parts.append(repr(world.entities(media, account_id)))
            parts.append(world.atoms(media, account_id, DAY))
            parts.append(world.funds(media, account_id))
    return hashlib.sha256(json.dumps(parts, default=str, ensure_ascii=False).encode()).hexdigest()


# -- config -----------------------------------------------------------------------------------------


def test_defaults_match_the_brief() -> None:
    config = SimConfig.load()
    assert (config.host, config.port, config.profile, config.revision_days) == ("127.0.0.1", 8600, "small", 3)
    apps = {m: (c.app.app_id, c.app.secret) for m, c in config.media.items()}
    assert apps == {
        "gdt": (1110001, "gdt-secret"),
        "jrtt": (1700000000001, "jrtt-secret"),
        "wx": (1110002, "wx-secret"),
    }
    assert {(c.tokens.access_ttl_s, c.tokens.refresh_ttl_s) for c in config.media.values()} == {
        (86400, 2592000)
    }
    assert config.quota_limits("gdt", "funds/get").per_minute == 20000
    assert config.quota_limits("jrtt", "advertiser/info").per_second == 500


def test_overrides_deep_merge() -> None:
    config = SimConfig.load(
        overrides={
            "profiles": {"seed": {"gdt": {"accounts": 7481}}},
            "media": {"gdt": {"quota": {"endpoints": {"funds/get": {"per_minute": 60}}}}},
        }
    )
    assert config.profiles["seed"].gdt.agents == 6  # untouched sibling knob survives
    assert config.profiles["seed"].gdt.accounts == 7481
    assert config.quota_limits("gdt", "funds/get").per_minute == 60
    assert config.quota_limits("gdt", "funds/get").per_day == 5_000_000  # inherited from default
    assert config.quota_limits("gdt", "advertiser/get").per_minute == 20000


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"host": "0.0.0.0"}, "loopback"),  # never listen beyond this machine  # noqa: S104
        ({"host": "10.0.0.39"}, "loopback"),  # the seed's executor address: refused, never contacted
        ({"prot": 1}, "prot"),  # a misspelt knob fails loudly
        ({"profile": "huge"}, "huge"),
        ({"media": {"gdt": {"quota": {"endpoints": {"fund/get": {"per_minute": 1}}}}}}, "fund/get"),
        ({"media": {"wx": {"faults": {"http_5xx": 1.5}}}}, "http_5xx"),
    ],
)
def test_bad_config_is_refused(overrides: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        SimConfig.load(overrides=overrides)


def test_config_file_merges(tmp_path) -> None:
    path = tmp_path / "sim.toml"
    path.write_text('profile = "seed"\n[clock]\ntoday = 2024-05-20\n')
    config = SimConfig.load(path)
    assert config.profile == "seed" and config.clock.today == date(2024, 5, 20)
    assert config.port == 8600


# -- determinism ------------------------------------------------------------------------------------


def test_same_profile_seed_and_tenant_give_the_same_world() -> None:
    assert _digest(_world(), TENANT) == _digest(_world(), TENANT)


def test_worlds_differ_by_tenant_and_seed() -> None:
    base = _digest(_world(), TENANT)
    assert _digest(_world(), "T100118") != base
    assert _digest(_world(seed=1), TENANT) != base


def test_world_is_the_same_in_another_process() -> None:
    """PYTHONHASHSEED changes hash(); the world must not change with it (seed and serve agree)."""
    code = (
        f"from ark_assets_tests.test_sim_world import _digest, _world; print(_digest(_world(), {TENANT!r}))"
    )
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == _digest(_world(), TENANT)


# -- ids and sizes ----------------------------------------------------------------------------------


def test_id_shapes() -> None:
    world = _world()
    for media in ("gdt", "wx"):
        agents = world.agents(media, TENANT, active_only=False)
        assert all(len(str(a.agent_id)) == 7 for a in agents)
        accounts = [a for a, _ in world.accounts(media, TENANT, active_only=False)]
        assert all(8 <= len(str(a)) <= 11 for a in accounts)
        assert {len(str(a)) for a in accounts} > {8}  # several lengths occur
        assert len(set(accounts)) == len(accounts)
    jrtt_agents = world.agents("jrtt", TENANT, active_only=False)
    assert all(len(str(a.agent_id)) == 10 and a.agent_id < 2**53 for a in jrtt_agents)
    jrtt_accounts = [a for a, _ in world.accounts("jrtt", TENANT, active_only=False)]
    assert all(len(str(a)) == 19 and a > 2**53 for a in jrtt_accounts)
    assert all(1.6e18 <= a <= 1.8e18 for a in jrtt_accounts)


def test_entity_ids_are_distinct_within_an_account() -> None:
    world = _world()
    for media in media_names():
        for account_id, _ in world.accounts(media, TENANT)[:10]:
            e = world.entities(media, account_id)
            ids = (
                [c.campaign_id for c in e.campaigns]
                + [g.adgroup_id for g in e.adgroups]
                + [a.ad_id for a in e.ads]
            )
            assert len(ids) == len(set(ids))
            assert 1 <= len(e.campaigns) <= 2 and 1 <= len(e.adgroups) <= 4 and 1 <= len(e.ads) <= 8


def test_small_profile_sizes() -> None:
    world = _world()
    gdt = world.agents("gdt", TENANT)
    assert len(gdt) == 2 and world.account_count("gdt", TENANT) == 30
    assert len(world.agents("wx", TENANT)) == 2 and world.account_count("wx", TENANT) == 20
    firsts = world.agents("jrtt", TENANT, tier=AgentTier.FIRST)
    seconds = world.agents("jrtt", TENANT, tier=AgentTier.SECOND)
    assert (len(firsts), len(seconds)) == (2, 3)
    assert {a.parent_id for a in seconds} <= {a.agent_id for a in firsts}
    assert len(world.accounts("jrtt", TENANT, tier=AgentTier.FIRST)) == 20
    assert len(world.accounts("jrtt", TENANT, tier=AgentTier.SECOND)) == 36


def test_seed_profile_sizes_and_the_benchmark_override() -> None:
    world = _world(profile="seed", profiles={"seed": {"gdt": {"accounts": 7481}}})
    assert len(world.agents("gdt", TENANT)) == 6
    assert world.account_count("gdt", TENANT) == 7481
    assert len(world.agents("wx", TENANT)) == 3 and world.account_count("wx", TENANT) == 438
    assert len(world.agents("jrtt", TENANT, tier=AgentTier.FIRST)) == 103
    assert len(world.agents("jrtt", TENANT, tier=AgentTier.SECOND)) == 40
    assert len(world.accounts("jrtt", TENANT, tier=AgentTier.SECOND)) == 24706
    assert len(world.accounts("jrtt", TENANT, tier=AgentTier.FIRST)) == 1030


@pytest.mark.parametrize(("total", "parts"), [(30, 2), (7481, 6), (24706, 40), (3, 5), (0, 2)])
def test_split_is_exact(total: int, parts: int) -> None:
    counts = split(total, parts, "k")
    assert sum(counts) == total and len(counts) == parts
    if total >= parts:
        assert min(counts) >= 1


def test_inactive_agents_exist_and_are_not_counted() -> None:
    world = _world()
    for media in media_names():
        everyone = world.agents(media, TENANT, active_only=False)
        inactive = [a for a in everyone if not a.active]
        assert len(inactive) >= 2
        assert {(a.auth_status, a.auth_type) for a in inactive} <= {(0, 1), (3, 1), (1, 2)}
        assert all(a.auth_status in (1, 2) and a.auth_type == 1 for a in world.agents(media, TENANT))
        assert len(world.accounts(media, TENANT, active_only=False)) > world.account_count(media, TENANT)
    # an active first-tier agent's tree never reaches an inactive agent's accounts
    inactive_ids = {a.agent_id for a in world.agents("jrtt", TENANT, active_only=False) if not a.active}
    for first in world.agents("jrtt", TENANT, tier=AgentTier.FIRST):
        assert not inactive_ids & world.token_scope("jrtt", TENANT, first.agent_id)


# -- metrics ----------------------------------------------------------------------------------------


def test_about_a_quarter_of_accounts_do_not_spend() -> None:
    world = _world(profile="seed")
    accounts = [a for a, _ in world.accounts("gdt", TENANT)[:2000]]
    idle = sum(not world.spends("gdt", a, DAY) for a in accounts)
    assert 0.2 < idle / len(accounts) < 0.3
    quiet = next(a for a in accounts if not world.spends("gdt", a, DAY))
    assert world.atoms("gdt", quiet, DAY) == []
    assert world.funds_records("gdt", quiet, DAY) >= 1  # funds exist for every account


def test_dormant_accounts_and_accounts_shown_at_no_cost() -> None:
    """`dormant_share` of accounts are never active; `shown_no_cost_share` of an active day's
    accounts have impressions and clicks but no cost; both default to nothing, so the shipped
    world (and its truth) is what it was."""
    knobs = {"dormant_share": 0.5, "shown_no_cost_share": 0.3}
    world = _world(profile="seed", profiles={"seed": knobs})
    accounts = [a for a, _ in world.accounts("gdt", TENANT)[:2000]]
    days = [DAY, DAY.replace(day=2)]
    never = [a for a in accounts if not any(world.spends("gdt", a, d) for d in days)]
    assert 0.48 < len(never) / len(accounts) < 0.58  # half dormant, a 16th of the rest idle on both days
    shown = [a for a in accounts if world.spends("gdt", a, DAY) and world.shown_no_cost("gdt", a, DAY)]
    assert shown
    totals = world.daily_totals("gdt", shown[0], DAY)
    assert totals["cost"] == 0 and totals["impression"] > 0 and totals["click"] > 0
    shipped = _world(profile="seed")
    assert [shipped.spends("gdt", a, DAY) for a in accounts[:300]] == [
        _world(profile="seed", profiles={"seed": {"dormant_share": 0.0}}).spends("gdt", a, DAY)
        for a in accounts[:300]
    ]
    assert not any(shipped.shown_no_cost("gdt", a, DAY) for a in accounts[:300])


def test_funds_records_count() -> None:
    world = _world()
    counts = {world.funds_records("gdt", a, DAY) for a, _ in world.accounts("gdt", TENANT)}
    assert counts == {1, 2, 3}
    assert world.funds_records("jrtt", world.accounts("jrtt", TENANT)[0][0], DAY) == 1


@pytest.mark.parametrize(
    ("age", "factor"),
    [(0, 0.7), (1, 0.8), (2, 0.9), (3, 1.0), (30, 1.0)],  # revision_days = 3: reaches 1.0 at 3 days old
)
def test_revision_factor(age: int, factor: float) -> None:
    world = _world()
    assert world.revision_factor(date(2024, 5, 20) - timedelta(days=age)) == pytest.approx(factor)


def test_late_revisions_change_values_not_rows() -> None:
    early = World(SimConfig.load(overrides={"clock": {"today": "2024-05-02"}}))
    final = World(SimConfig.load(overrides={"clock": {"today": "2024-05-10"}}))
    spending = [a for a, _ in early.accounts("gdt", TENANT) if early.spends("gdt", a, DAY)]
    for account_id in spending[:5]:
        before, after = early.atoms("gdt", account_id, DAY), final.atoms("gdt", account_id, DAY)
        assert len(before) == len(after) > 0
        assert [a[:8] for a in before] == [a[:8] for a in after]  # the same rows (dimensions)
        assert sum(a.cost for a in before) < sum(a.cost for a in after)
        assert sum(a.impression for a in before) < sum(a.impression for a in after)


def test_future_dates_have_no_data() -> None:
    world = _world()
    account_id = world.accounts("gdt", TENANT)[0][0]
    assert world.atoms("gdt", account_id, date(2024, 5, 21)) == []


def test_time_lines_differ_in_conversions_only() -> None:
    world = _world()
    account_id = next(a for a, _ in world.accounts("gdt", TENANT) if world.spends("gdt", a, DAY))
    request = world.atoms("gdt", account_id, DAY, "REQUEST_TIME")
    reporting = world.atoms("gdt", account_id, DAY, "REPORTING_TIME")
    assert [a.cost for a in request] == [a.cost for a in reporting]
    assert [a.conversion for a in request] != [a.conversion for a in reporting]
