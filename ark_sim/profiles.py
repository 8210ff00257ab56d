"""Who exists in a tenant's world: agents and their accounts, a pure function of (profile, seed, tenant).

Everything here derives from `stable_hash` (blake2b), never Python's `hash()`, whose value changes
with PYTHONHASHSEED: `ark-sim seed` in one process and `ark-sim serve` in another must agree.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field

from ark_assets.media import Media
from ark_assets.resources.redis_keys import AgentTier, tenant_alias
from ark_sim.config import ProfileConfig

# Id ranges per media and kind (inclusive). jrtt agent ids are Redis scores, so they stay below
# 2**53; jrtt advertiser ids are real int64 values above 2**53 (a float64 JSON reader breaks them).
GDT_AGENT_IDS = (1_000_000, 9_999_999)
JRTT_AGENT_IDS = (1_000_000_000, 9_999_999_999)
JRTT_ACCOUNT_IDS = (1_600_000_000_000_000_000, 1_800_000_000_000_000_000)
# gdt/wx account ids have 8 to 11 digits; the digit count is drawn first so all lengths occur.
_TENCENT_ACCOUNT_DIGITS = (8, 8, 8, 9, 9, 10, 10, 10, 10, 11)

# (auth_status, auth_type) of agents the platform must ignore: active means status 1/2 and type 1.
INACTIVE_STATES = ((0, 1), (1, 2), (3, 1))

_CITIES = ("杭州", "上海", "北京", "深圳", "广州", "成都", "武汉", "南京", "苏州", "厦门", "西安", "重庆")
_WORDS = ("时趣", "星河", "云图", "蓝海", "启明", "万象", "极光", "青禾", "森屿", "知行", "远山", "微澜")
_TRADES = ("信息技术", "网络科技", "文化传媒", "电子商务", "广告", "教育科技", "游戏", "生物科技")


def stable_hash(*parts: object) -> int:
    """A 64-bit integer that depends only on `parts` (their text), in every process."""
    data = "\x1f".join(str(p) for p in parts).encode("utf-8")
    return int.from_bytes(hashlib.blake2b(data, digest_size=8).digest(), "big")


def unit(*parts: object) -> float:
    """A float in [0, 1) that depends only on `parts`."""
    return stable_hash(*parts) / 2**64


def pick(options: Sequence[object], *parts: object) -> object:
    return options[stable_hash(*parts) % len(options)]


def company_name(*parts: object) -> str:
    """A plausible Chinese company name (UTF-8 on the wire, like the real data)."""
    h = stable_hash("company", *parts)
    city = _CITIES[h % len(_CITIES)]
    word = _WORDS[(h >> 8) % len(_WORDS)]
    trade = _TRADES[(h >> 16) % len(_TRADES)]
    return f"{city}{word}{trade}有限公司"


@dataclass(frozen=True, slots=True)
class Agent:
    """An agent (agency) of a tenant at one media, with its `eton` authorisation state."""

    media: Media
    agent_id: int
    name: str
    tier: AgentTier | None  # jrtt only
    parent_id: int | None  # jrtt second tier only
    auth_status: int
    auth_type: int

    @property
    def active(self) -> bool:
        """The seed's filter: auth_status in (1, 2) and auth_type = 1."""
        return self.auth_status in (1, 2) and self.auth_type == 1

    @property
    def level(self) -> int | None:
        """`eton.agents.agent_level`: jrtt 1 (first tier) or 2 (second tier); None for gdt and wx."""
        if self.tier is None:
            return None
        return 1 if self.tier is AgentTier.FIRST else 2


@dataclass(frozen=True, slots=True)
class Account:
    media: Media
    account_id: int
    agent_id: int


@dataclass
class MediaRoster:
    """One media's agents and accounts for a tenant, with lookups."""

    agents: list[Agent] = field(default_factory=list)
    accounts: list[Account] = field(default_factory=list)
    agent_by_id: dict[int, Agent] = field(default_factory=dict)
    account_by_id: dict[int, Account] = field(default_factory=dict)
    accounts_by_agent: dict[int, list[Account]] = field(default_factory=dict)
    children: dict[int, list[Agent]] = field(default_factory=dict)  # jrtt: first tier -> second tier

    def add_agent(self, agent: Agent) -> None:
        self.agents.append(agent)
        self.agent_by_id[agent.agent_id] = agent
        self.accounts_by_agent[agent.agent_id] = []
        if agent.parent_id is not None:
            self.children.setdefault(agent.parent_id, []).append(agent)

    def add_account(self, account: Account) -> None:
        self.accounts.append(account)
        self.account_by_id[account.account_id] = account
        self.accounts_by_agent[account.agent_id].append(account)


@dataclass
class Roster:
    """A tenant's agents and accounts at every media."""

    tenant: str
    media: dict[Media, MediaRoster]


def build_roster(profile: ProfileConfig, seed: int, tenant: str) -> Roster:
    """The tenant's agents and accounts: deterministic in (profile, seed, tenant)."""
    tenant = tenant_alias(tenant)
    return Roster(
        tenant=tenant,
        media={
            Media.GDT: _tencent(Media.GDT, profile, seed, tenant),
            Media.WX: _tencent(Media.WX, profile, seed, tenant),
            Media.JRTT: _jrtt(profile, seed, tenant),
        },
    )


class _Ids:
    """Draws distinct ids in a range from the hash of (namespace, index)."""

    def __init__(self, *namespace: object) -> None:
        self._namespace = namespace
        self._used: set[int] = set()

    def draw(self, bounds: tuple[int, int], *parts: object) -> int:
        low, high = bounds
        salt = 0
        while True:
            value = low + stable_hash(*self._namespace, *parts, salt) % (high - low + 1)
            if value not in self._used:
                self._used.add(value)
                return value
            salt += 1

    def tencent_account(self, *parts: object) -> int:
        digits = _TENCENT_ACCOUNT_DIGITS[stable_hash(*self._namespace, "digits", *parts) % 10]
        return self.draw((10 ** (digits - 1), 10**digits - 1), *parts)


def split(total: int, parts: int, *key: object) -> list[int]:
    """`total` split into `parts` uneven (±30%) counts summing exactly to `total`, none empty if possible."""
    if parts <= 0:
        return []
    weights = [0.7 + 0.6 * unit(*key, "weight", i) for i in range(parts)]
    scale = total / sum(weights)
    raw = [w * scale for w in weights]
    counts = [int(r) for r in raw]
    by_fraction = sorted(range(parts), key=lambda i: (raw[i] - counts[i], -i), reverse=True)
    for i in by_fraction[: total - sum(counts)]:
        counts[i] += 1
    if total >= parts:
        for i in range(parts):
            while counts[i] == 0:
                donor = max(range(parts), key=lambda j: counts[j])
                counts[donor] -= 1
                counts[i] += 1
    return counts


def _tencent(media: Media, profile: ProfileConfig, seed: int, tenant: str) -> MediaRoster:
    sizes = profile.gdt if media is Media.GDT else profile.wx
    roster = MediaRoster()
    agent_ids = _Ids(seed, tenant, media, "agent")
    account_ids = _Ids(seed, tenant, media, "account")
    counts = split(sizes.accounts, sizes.agents, seed, tenant, media, "accounts")
    states = _active_states(seed, tenant, media, sizes.agents) + _inactive_states(profile.inactive_agents)
    counts += [profile.inactive_accounts] * profile.inactive_agents
    for i, ((status, auth_type), count) in enumerate(zip(states, counts, strict=True)):
        agent_id = agent_ids.draw(GDT_AGENT_IDS, i)
        name = company_name(seed, tenant, media, agent_id).replace("有限公司", "代理有限公司")
        roster.add_agent(Agent(media, agent_id, name, None, None, status, auth_type))
        for j in range(count):
            roster.add_account(Account(media, account_ids.tencent_account(i, j), agent_id))
    return roster


def _jrtt(profile: ProfileConfig, seed: int, tenant: str) -> MediaRoster:
    sizes = profile.jrtt
    media = Media.JRTT
    roster = MediaRoster()
    agent_ids = _Ids(seed, tenant, media, "agent")
    account_ids = _Ids(seed, tenant, media, "account")

    def agent(key: object, tier: AgentTier, parent: int | None, state: tuple[int, int]) -> Agent:
        agent_id = agent_ids.draw(JRTT_AGENT_IDS, key)
        suffix = "一级代理" if tier is AgentTier.FIRST else "二级代理"
        name = company_name(seed, tenant, media, agent_id).replace("有限公司", f"{suffix}有限公司")
        created = Agent(media, agent_id, name, tier, parent, *state)
        roster.add_agent(created)
        return created

    def accounts(owner: Agent, count: int, key: object) -> None:
        for j in range(count):
            account_id = account_ids.draw(JRTT_ACCOUNT_IDS, key, j)
            roster.add_account(Account(media, account_id, owner.agent_id))

    first_states = _active_states(seed, tenant, media, sizes.first_tier_agents)
    firsts = [agent(("first", i), AgentTier.FIRST, None, s) for i, s in enumerate(first_states)]
    second_states = _active_states(seed, tenant, media, sizes.second_tier_agents, "second")
    seconds = [
        agent(
            ("second", i),
            AgentTier.SECOND,
            firsts[stable_hash(seed, tenant, media, "parent", i) % len(firsts)].agent_id,
            s,
        )
        for i, s in enumerate(second_states)
    ]
    for i, (owner, count) in enumerate(
        zip(firsts, split(sizes.direct_accounts, len(firsts), seed, tenant, "direct"), strict=True)
    ):
        accounts(owner, count, ("first", i))
    for i, (owner, count) in enumerate(
        zip(seconds, split(sizes.second_tier_accounts, len(seconds), seed, tenant, "second"), strict=True)
    ):
        accounts(owner, count, ("second", i))
    # Inactive agents are first tier; the first one also has an inactive second-tier child, so no
    # active agent's tree ever reaches an account the platform must ignore.
    for k, state in enumerate(_inactive_states(profile.inactive_agents)):
        parent = agent(("inactive", k), AgentTier.FIRST, None, state)
        accounts(parent, profile.inactive_accounts, ("inactive", k))
        if k == 0:
            child = agent(("inactive-child", k), AgentTier.SECOND, parent.agent_id, (1, 2))
            accounts(child, profile.inactive_accounts, ("inactive-child", k))
    return roster


def _active_states(seed: int, tenant: str, media: Media, count: int, *key: object) -> list[tuple[int, int]]:
    """Active agents are mostly auth_status 1, some 2 (both usable), always auth_type 1."""
    return [(2 if unit(seed, tenant, media, "auth", *key, i) < 0.2 else 1, 1) for i in range(count)]


def _inactive_states(count: int) -> list[tuple[int, int]]:
    return [INACTIVE_STATES[k % len(INACTIVE_STATES)] for k in range(count)]
