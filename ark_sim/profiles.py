"""Who exists in a tenant's world: agents and their accounts, a pure function of (profile, seed, tenant).

Everything here derives from `stable_hash` (blake2b), never Python's `hash()`, whose value changes
with PYTHONHASHSEED: `ark-sim seed` in one process and `ark-sim serve` in another must agree.
Each media builds its own roster (`WorldSpec.roster`, in its module) from the pieces here.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from ark_sim.catalog import registry
from ark_sim.config import ProfileConfig
from ark_sim.tiers import Tier

# (auth_status, auth_type) of agents the platform must ignore: active means status 1/2 and type 1.
INACTIVE_STATES = ((0, 1), (1, 2), (3, 1))
_TENANT = re.compile(r"[A-Za-z0-9]+")

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


def tenant_alias(tenant: str) -> str:
    """`tenant` when it is letters and digits only (e.g. T100117), else a ValueError naming it.

    The seed's key formats splice the alias in verbatim; tokens carry it hex-encoded.
    """
    if not isinstance(tenant, str) or not _TENANT.fullmatch(tenant):
        raise ValueError(f"tenant alias {tenant!r} must be ASCII letters and digits only, like 'T100117'")
    return tenant


@dataclass(frozen=True, slots=True)
class Agent:
    """An agent (agency) of a tenant at one media, with its `eton` authorisation state."""

    media: str
    agent_id: int
    name: str
    tier: Tier | None  # media with tiers only
    parent_id: int | None  # second tier only: its first-tier agent
    auth_status: int
    auth_type: int

    @property
    def active(self) -> bool:
        """The seed's filter: auth_status in (1, 2) and auth_type = 1."""
        return self.auth_status in (1, 2) and self.auth_type == 1

    @property
    def level(self) -> int | None:
        """`eton.agents.agent_level`: 1 (first tier) or 2 (second tier); None without tiers."""
        if self.tier is None:
            return None
        return 1 if self.tier == Tier.FIRST else 2


@dataclass(frozen=True, slots=True)
class Account:
    media: str
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
    children: dict[int, list[Agent]] = field(default_factory=dict)  # first tier -> its second tier

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
    media: dict[str, MediaRoster]


def build_roster(profile: ProfileConfig, seed: int, tenant: str) -> Roster:
    """The tenant's agents and accounts: deterministic in (profile, seed, tenant)."""
    tenant = tenant_alias(tenant)
    return Roster(
        tenant=tenant, media={spec.name: spec.world.roster(profile, seed, tenant) for spec in registry()}
    )


class Ids:
    """Draws distinct ids in a range from the hash of (namespace, index)."""

    def __init__(self, *namespace: object) -> None:
        self.namespace = namespace
        self._used: set[int] = set()

    def draw(self, bounds: tuple[int, int], *parts: object) -> int:
        low, high = bounds
        salt = 0
        while True:
            value = low + stable_hash(*self.namespace, *parts, salt) % (high - low + 1)
            if value not in self._used:
                self._used.add(value)
                return value
            salt += 1


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


def active_states(seed: int, tenant: str, media: str, count: int, *key: object) -> list[tuple[int, int]]:
    """Active agents are mostly auth_status 1, some 2 (both usable), always auth_type 1."""
    return [(2 if unit(seed, tenant, media, "auth", *key, i) < 0.2 else 1, 1) for i in range(count)]


def inactive_states(count: int) -> list[tuple[int, int]]:
    return [INACTIVE_STATES[k % len(INACTIVE_STATES)] for k in range(count)]
