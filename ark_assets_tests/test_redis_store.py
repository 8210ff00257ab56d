"""Contract: the Redis keys and sorted sets are byte-for-byte the seed's, on a real Redis (db 2).

- every key format renders exactly the seed's example key, and bad inputs are refused by name;
- tokens, agents and accounts round-trip, and the stored sets have the seed's shape
  (member = token / agent / account, score = agent id) when read with plain redis-py;
- readers refuse garbage members and scores with `CorruptRedisKey`, writers refuse agent ids a
  double cannot hold, and an unreachable Redis raises `ServiceUnavailable` naming host:port.

Each test uses its own random tenant alias and deletes its keys, so tests run in any order.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Iterator
from datetime import date, datetime

import pytest
import redis
from dagster import build_resources

from ark_assets.clients import redis_keys
from ark_assets.clients.errors import ServiceUnavailable
from ark_assets.clients.redis_keys import accounts_key, agents_key, token_key
from ark_assets.core.redact import REDACTED, redact_text
from ark_assets.core.tiers import AgentTier
from ark_assets.media.registry import names as media_names
from ark_assets.resources.redis_store import CorruptRedisKey, RedisResource, redis_resource_from_env

T = "T100117"
MAY_20 = date(2020, 5, 20)


@pytest.fixture
def raw() -> Iterator[redis.Redis]:
    client = redis.Redis(host="127.0.0.1", port=6379, db=2)
    yield client
    client.close()


@pytest.fixture
def tenant(raw: redis.Redis) -> Iterator[str]:
    """A tenant alias no other test uses; its keys are deleted afterwards."""
    alias = f"T9{secrets.randbelow(10**12):012d}"
    yield alias
    for pattern in (f"*_{alias}", f"*_{alias}_*"):
        for key in raw.scan_iter(match=pattern):
            raw.delete(key)


@pytest.fixture
def store() -> RedisResource:
    return RedisResource()


# -- key formats ------------------------------------------------------------------------------------

KEY_CASES = [
    # the token sets, one per media
    (token_key("gdt", T), "gdt_new_access_token_T100117"),
    (token_key("wx", T), "wx_new_access_token_T100117"),
    (token_key("jrtt", T), "jrtt_new_access_token_T100117"),
    # account keys: gdt per tenant and day; wx also per agent; jrtt per tier
    (accounts_key("gdt", T, MAY_20), "gdt_advertiser_v1.1_T100117_20200520"),
    (accounts_key("wx", T, MAY_20, agent_id=9096610), "wx_advertiser_T100117_9096610_20200520"),
    (accounts_key("wx", T, MAY_20, agent_id="9096610"), "wx_advertiser_T100117_9096610_20200520"),
    (
        accounts_key("jrtt", T, date(2020, 5, 26), tier=AgentTier.FIRST),
        "jrtt_accounts_v2_T100117_20200526",
    ),
    (
        accounts_key("jrtt", T, date(2020, 5, 19), tier=AgentTier.SECOND),
        "jrtt_child_advertiser_v2_T100117_20200519",
    ),
    # agent keys: wx's is spelled "weixin"; jrtt has all / first tier / second tier
    (agents_key("gdt", T), "gdt_agents_v2_T100117"),
    (agents_key("wx", T), "weixin_agents_T100117"),
    (agents_key("jrtt", T), "jrtt_agents_v2_T100117"),
    (agents_key("jrtt", T, AgentTier.FIRST), "jrtt_one_agents_v2_T100117"),
    (agents_key("jrtt", T, AgentTier.SECOND), "jrtt_child_agents_v2_T100117"),
]


@pytest.mark.parametrize(("built", "seed"), KEY_CASES, ids=[seed for _, seed in KEY_CASES])
def test_keys_match_the_seed_byte_for_byte(built: str, seed: str) -> None:
    assert built.encode() == seed.encode()


BAD_KEY_INPUTS = [
    # tenant aliases are letters and digits only
    (lambda: token_key("gdt", "T1001 17"), "'T1001 17'"),
    (lambda: token_key("gdt", "T100117_x"), "'T100117_x'"),
    (lambda: agents_key("gdt", ""), "''"),
    (lambda: agents_key("gdt", "Té"), "'Té'"),
    # unknown media
    (lambda: token_key("baidu", T), "'baidu'"),
    # dates are datetime.date, not strings or datetimes
    (lambda: accounts_key("gdt", T, "2020-05-20"), "'2020-05-20'"),  # type: ignore[arg-type]
    (lambda: accounts_key("gdt", T, datetime(2020, 5, 20, 23)), "datetime.datetime(2020, 5, 20, 23, 0)"),
    # agent ids are digits
    (lambda: accounts_key("wx", T, MAY_20, agent_id="96x"), "'96x'"),
    (lambda: accounts_key("wx", T, MAY_20, agent_id=-7), "-7"),
    (lambda: accounts_key("wx", T, MAY_20, agent_id="007"), "'007'"),
    # wrong combinations of media, tier and agent
    (lambda: accounts_key("wx", T, MAY_20), "pass agent_id"),
    (lambda: accounts_key("gdt", T, MAY_20, agent_id=1), "do not pass agent_id"),
    (lambda: accounts_key("jrtt", T, MAY_20), "got None"),
    (lambda: accounts_key("jrtt", T, MAY_20, tier=AgentTier.FIRST, agent_id=1), "do not pass agent_id"),
    (lambda: accounts_key("gdt", T, MAY_20, tier=AgentTier.FIRST), "has no agent tiers"),
    (lambda: agents_key("wx", T, AgentTier.SECOND), "has no agent tiers"),
    (lambda: agents_key("jrtt", T, "third"), "'third'"),  # type: ignore[arg-type]
]


@pytest.mark.parametrize(("build", "named"), BAD_KEY_INPUTS, ids=[n for _, n in BAD_KEY_INPUTS])
def test_bad_key_inputs_are_refused_by_name(build, named: str) -> None:
    with pytest.raises(ValueError) as excinfo:
        build()
    assert named in str(excinfo.value)


# -- round trips ------------------------------------------------------------------------------------


@pytest.mark.stack
@pytest.mark.parametrize("media", list(media_names()))
def test_tokens_round_trip_in_the_seed_shape(
    store: RedisResource, raw: redis.Redis, tenant: str, media
) -> None:
    tokens = {1050262: "46f45241ab103e9a769e24366b870e19", "3367268016": "9b7e0d9cbd9f7b8de39299632c2f96"}
    store.sets.write_tokens(media, tenant, tokens)

    assert store.sets.tokens(media, tenant) == {
        "1050262": tokens[1050262],
        "3367268016": tokens["3367268016"],
    }
    assert raw.zrange(token_key(media, tenant), 0, -1, withscores=True) == [
        (b"46f45241ab103e9a769e24366b870e19", 1050262.0),
        (b"9b7e0d9cbd9f7b8de39299632c2f96", 3367268016.0),
    ]
    # a token once read is scrubbed from any text that leaves the process
    assert redact_text("sent 9b7e0d9cbd9f7b8de39299632c2f96") == f"sent {REDACTED}"


@pytest.mark.stack
def test_write_replaces_the_whole_set(store: RedisResource, raw: redis.Redis, tenant: str) -> None:
    store.sets.write_tokens("gdt", tenant, {1: "token-one-aaaa", 2: "token-two-bbbb"})
    store.sets.write_tokens("gdt", tenant, {3: "token-three-cc"})
    assert store.sets.tokens("gdt", tenant) == {"3": "token-three-cc"}

    store.sets.write_tokens("gdt", tenant, {})
    assert not raw.exists(token_key("gdt", tenant))
    assert store.sets.tokens("gdt", tenant) == {}


@pytest.mark.stack
def test_two_agents_sharing_a_token_are_refused(store: RedisResource, tenant: str) -> None:
    with pytest.raises(ValueError, match="agents 11 and 12 share one access token"):
        store.sets.write_tokens("gdt", tenant, {11: "same-token-xyz", 12: "same-token-xyz"})


AGENT_KEY_CASES = [
    ("gdt", None),
    ("wx", None),
    ("jrtt", None),
    ("jrtt", AgentTier.FIRST),
    ("jrtt", AgentTier.SECOND),
]


@pytest.mark.stack
@pytest.mark.parametrize(("media", "tier"), AGENT_KEY_CASES)
def test_agents_round_trip_in_the_seed_shape(
    store: RedisResource, raw: redis.Redis, tenant: str, media: str, tier: AgentTier | None
) -> None:
    store.sets.write_agents(media, tenant, [3367268016, "1050262"], tier=tier)

    assert store.sets.agents(media, tenant, tier=tier) == ["1050262", "3367268016"]
    assert raw.zrange(agents_key(media, tenant, tier), 0, -1, withscores=True) == [
        (b"1050262", 1050262.0),
        (b"3367268016", 3367268016.0),
    ]


@pytest.mark.stack
def test_the_tiers_of_jrtt_are_separate_keys(store: RedisResource, tenant: str) -> None:
    store.sets.write_agents("jrtt", tenant, [1], tier=AgentTier.FIRST)
    store.sets.write_agents("jrtt", tenant, [2], tier=AgentTier.SECOND)
    assert store.sets.agents("jrtt", tenant, tier=AgentTier.FIRST) == ["1"]
    assert store.sets.agents("jrtt", tenant, tier=AgentTier.SECOND) == ["2"]
    assert store.sets.agents("jrtt", tenant) == []


ACCOUNT_KEY_CASES = [
    # (media, key arguments, agents in the list)
    ("gdt", {}, (1050262, 84421955984)),
    ("jrtt", {"tier": AgentTier.FIRST}, (3367268016, 3367268017)),
    ("jrtt", {"tier": AgentTier.SECOND}, (3367268016, 3367268017)),
]


@pytest.mark.stack
@pytest.mark.parametrize(("media", "kwargs", "agents"), ACCOUNT_KEY_CASES)
def test_accounts_round_trip_in_the_seed_shape(
    store: RedisResource, raw: redis.Redis, tenant: str, media: str, kwargs: dict, agents: tuple[int, int]
) -> None:
    first, second = agents
    accounts = {"1664757665615880": first, "99872976879": second, 10707125: str(first)}
    store.sets.write_accounts(media, tenant, MAY_20, accounts, **kwargs)

    assert store.sets.accounts(media, tenant, MAY_20, **kwargs) == {
        "10707125": str(first),
        "1664757665615880": str(first),
        "99872976879": str(second),
    }
    assert store.sets.accounts_of_agent(media, tenant, MAY_20, first, **kwargs) == [
        "10707125",
        "1664757665615880",
    ]
    assert store.sets.accounts_of_agent(media, tenant, MAY_20, str(second), **kwargs) == ["99872976879"]
    assert store.sets.accounts_of_agent(media, tenant, MAY_20, 5, **kwargs) == []
    # the seed's §5.1 lookup, in plain redis-py, finds the same accounts
    key = accounts_key(media, tenant, MAY_20, **kwargs)
    assert raw.zrangebyscore(key, first, first) == [b"10707125", b"1664757665615880"]
    assert raw.zrange(key, 0, -1, withscores=True) == [
        (b"10707125", float(first)),
        (b"1664757665615880", float(first)),
        (b"99872976879", float(second)),
    ]


@pytest.mark.stack
def test_wx_accounts_live_in_one_key_per_agent(store: RedisResource, raw: redis.Redis, tenant: str) -> None:
    store.sets.write_accounts("wx", tenant, MAY_20, {"9998960": 4011704}, agent_id=4011704)
    store.sets.write_accounts("wx", tenant, MAY_20, {"9998961": 9096610}, agent_id=9096610)

    assert store.sets.accounts("wx", tenant, MAY_20, agent_id=4011704) == {"9998960": "4011704"}
    assert store.sets.accounts_of_agent("wx", tenant, MAY_20, 9096610) == ["9998961"]
    key = accounts_key("wx", tenant, MAY_20, agent_id=9096610)
    assert raw.zrange(key, 0, -1, withscores=True) == [(b"9998961", 9096610.0)]


@pytest.mark.stack
def test_accounts_of_another_day_are_another_key(store: RedisResource, tenant: str) -> None:
    store.sets.write_accounts("gdt", tenant, MAY_20, {"10707125": 1050262})
    assert store.sets.accounts("gdt", tenant, date(2020, 5, 21)) == {}


# -- refusals ----------------------------------------------------------------------------------------


@pytest.mark.stack
@pytest.mark.parametrize("agent_id", [2**53, 2**53 + 1, "98765432109876543"])
def test_agent_ids_a_double_cannot_hold_are_refused(store: RedisResource, tenant: str, agent_id) -> None:
    with pytest.raises(ValueError, match=f"agent id {agent_id!r} is not below 2\\*\\*53"):
        store.sets.write_accounts("gdt", tenant, MAY_20, {"10707125": agent_id})
    with pytest.raises(ValueError, match=f"agent id {agent_id!r}"):
        store.sets.write_agents("gdt", tenant, [agent_id])


@pytest.mark.stack
def test_the_largest_exact_agent_id_round_trips(store: RedisResource, tenant: str) -> None:
    store.sets.write_agents("gdt", tenant, [2**53 - 1])
    assert store.sets.agents("gdt", tenant) == [str(2**53 - 1)]


BAD_WRITES = [
    # (what is written, the input the message names)
    (lambda s, t: s.sets.write_accounts("gdt", t, MAY_20, {"12a": 1}), "'12a'"),
    (lambda s, t: s.sets.write_accounts("gdt", t, MAY_20, {"12": "x1"}), "'x1'"),
    (lambda s, t: s.sets.write_tokens("gdt", t, {"1.5": "token-aaaaaa"}), "'1.5'"),
    (lambda s, t: s.sets.write_tokens("gdt", t, {7: ""}), "agent 7"),
    (lambda s, t: s.sets.write_agents("jrtt", t, [True]), "True"),
]


@pytest.mark.stack
@pytest.mark.parametrize(("write", "named"), BAD_WRITES, ids=[n for _, n in BAD_WRITES])
def test_bad_members_are_refused_before_anything_is_written(
    store: RedisResource, raw: redis.Redis, tenant: str, write, named: str
) -> None:
    with pytest.raises(ValueError) as excinfo:
        write(store, tenant)
    assert named in str(excinfo.value)
    assert list(raw.scan_iter(match=f"*_{tenant}*")) == []


GARBAGE = [
    # (key kind, member, score, what the message says)
    ("accounts", b"12a45", 1050262, "'12a45' is not an account id"),
    ("accounts", b"", 1050262, "'' is not an account id"),
    ("accounts", b"\xff\xfe", 1050262, "b'\\xff\\xfe' is not UTF-8"),
    ("accounts", b"10707125", 1050262.5, "'10707125' has score 1050262.5"),
    ("accounts", b"10707125", -3, "'10707125' has score -3.0"),
    ("accounts", b"10707125", float(2**60), "'10707125' has score 1.15"),
    ("agents", b"abc", 7, "'abc' differs from its score 7"),
    ("agents", b"8", 7, "'8' differs from its score 7"),
    ("agents", b"7", 7.25, "'7' has score 7.25"),
    ("tokens", b"some-token-value", 0.5, "(an access token, not shown) has score 0.5"),
]


@pytest.mark.stack
@pytest.mark.parametrize(("kind", "member", "score", "message"), GARBAGE, ids=[g[3] for g in GARBAGE])
def test_garbage_in_a_key_is_refused_naming_key_and_member(
    store: RedisResource, raw: redis.Redis, tenant: str, kind: str, member: bytes, score: float, message: str
) -> None:
    key, read = {
        "accounts": (
            accounts_key("gdt", tenant, MAY_20),
            lambda: store.sets.accounts("gdt", tenant, MAY_20),
        ),
        "agents": (agents_key("gdt", tenant), lambda: store.sets.agents("gdt", tenant)),
        "tokens": (token_key("gdt", tenant), lambda: store.sets.tokens("gdt", tenant)),
    }[kind]
    raw.zadd(key, {member: score})

    with pytest.raises(CorruptRedisKey) as excinfo:
        read()
    assert excinfo.value.key == key
    assert f"Redis key {key!r} is corrupt" in str(excinfo.value)
    assert message in str(excinfo.value)
    assert "some-token-value" not in str(excinfo.value)


@pytest.mark.stack
def test_accounts_of_agent_checks_members_too(store: RedisResource, raw: redis.Redis, tenant: str) -> None:
    raw.zadd(accounts_key("gdt", tenant, MAY_20), {b"not-an-account": 1050262})
    with pytest.raises(CorruptRedisKey, match="'not-an-account' is not an account id"):
        store.sets.accounts_of_agent("gdt", tenant, MAY_20, 1050262)


@pytest.mark.stack
def test_two_tokens_for_one_agent_are_refused_without_showing_them(
    store: RedisResource, raw: redis.Redis, tenant: str
) -> None:
    raw.zadd(token_key("jrtt", tenant), {b"first-token-aaaa": 42, b"second-token-bb": 42})
    with pytest.raises(CorruptRedisKey, match="of agent 42 is a second access token") as excinfo:
        store.sets.tokens("jrtt", tenant)
    assert "token-" not in str(excinfo.value)


# -- connection failures and configuration -----------------------------------------------------------


def test_unreachable_redis_names_host_port_and_the_fix() -> None:
    store = RedisResource(port=1, password="never-shown-pw", socket_timeout=1)
    with pytest.raises(ServiceUnavailable) as excinfo:
        store.sets.agents("gdt", T)
    message = str(excinfo.value)
    assert "Redis at 127.0.0.1:1 is unreachable" in message
    assert "make stack" in message
    assert "ARK_REDIS_HOST/ARK_REDIS_PORT" in message
    assert "never-shown-pw" not in message


def test_from_env_defaults_to_the_local_stack(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("ARK_REDIS_HOST", "ARK_REDIS_PORT", "ARK_REDIS_DB", "ARK_REDIS_PASSWORD"):
        monkeypatch.delenv(name, raising=False)
    store = redis_resource_from_env()
    assert (store.host, store.port, store.db, store.password) == ("127.0.0.1", 6379, 2, "")


@pytest.mark.stack
def test_from_env_reads_the_variables_at_run_time(monkeypatch: pytest.MonkeyPatch, tenant: str) -> None:
    monkeypatch.setenv("ARK_REDIS_HOST", "127.0.0.1")
    monkeypatch.setenv("ARK_REDIS_PORT", "6379")
    monkeypatch.setenv("ARK_REDIS_DB", "2")
    monkeypatch.setenv("ARK_REDIS_PASSWORD", "")
    with build_resources({"redis": redis_resource_from_env()}) as resources:
        resources.redis.sets.write_agents("gdt", tenant, [5])
        assert resources.redis.sets.agents("gdt", tenant) == ["5"]

    monkeypatch.setenv("ARK_REDIS_PORT", "1")
    with build_resources({"redis": redis_resource_from_env()}) as resources:
        with pytest.raises(ServiceUnavailable, match="127.0.0.1:1"):
            resources.redis.sets.agents("gdt", tenant)


@pytest.mark.stack
def test_a_reader_never_sees_half_a_replaced_list(store: RedisResource, tenant: str) -> None:
    lists = [{str(10**15 + i): 1 for i in range(300)}, {str(10**16 + i): 2 for i in range(500)}]
    store.sets.write_accounts("gdt", tenant, MAY_20, lists[0])
    expected = [{a: str(agent) for a, agent in accounts.items()} for accounts in lists]

    def writer() -> None:
        for round_ in range(150):
            store.sets.write_accounts("gdt", tenant, MAY_20, lists[round_ % 2])

    thread = threading.Thread(target=writer)
    thread.start()
    seen = [store.sets.accounts("gdt", tenant, MAY_20)]
    while thread.is_alive():
        seen.append(store.sets.accounts("gdt", tenant, MAY_20))
    thread.join()
    assert all(accounts in expected for accounts in seen)
    assert store.sets.accounts("gdt", tenant, MAY_20) == expected[1]  # the writer finished its rounds


@pytest.mark.stack
def test_rotating_an_agents_token_pair_replaces_only_that_agent(tenant: str, store: RedisResource) -> None:
    store.sets.write_tokens("jrtt", tenant, {3367268016: "old-access-1", 1111: "access-2"})
    store.sets.write_refresh_tokens("jrtt", tenant, {3367268016: "old-refresh-1", 1111: "refresh-2"})
    store.sets.rotate_tokens(
        "jrtt", tenant, 3367268016, access_token="new-access-1", refresh_token="new-refresh-1"
    )
    assert store.sets.tokens("jrtt", tenant) == {"3367268016": "new-access-1", "1111": "access-2"}
    assert store.sets.refresh_token("jrtt", tenant, 3367268016) == "new-refresh-1"
    assert store.sets.refresh_token("jrtt", tenant, 1111) == "refresh-2"
    assert store.sets.refresh_token("jrtt", tenant, 999) is None
    assert redis_keys.refresh_token_key("jrtt", tenant) == f"jrtt_refresh_token_{tenant}"
