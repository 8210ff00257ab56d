"""The simulated media's data: entities, metrics and funds, pure functions of the config and ids.

Who exists (agents, accounts per tenant) comes from `profiles`. What an account holds depends only
on (seed, media, account id): campaigns -> adgroups -> ads, and hourly metric "atoms" per
(ad, date, hour, site set, time line). Every report at every level is a grouping of those atoms,
so levels, daily and hourly reports and an agent report always add up to the same totals.

Late revisions: a date younger than `revision_days` has its money and count metrics scaled down by
a factor that reaches 1.0 when the date is `revision_days` old, so fetching again later gives
different, final numbers; which rows exist never depends on the factor.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import NamedTuple
from zoneinfo import ZoneInfo

from ark_sim.catalog import lookup
from ark_sim.config import SimConfig
from ark_sim.profiles import (
    Account,
    Agent,
    Roster,
    build_roster,
    company_name,
    stable_hash,
    tenant_alias,
    unit,
)
from ark_sim.tiers import Tier
from ark_sim.tokens import mint_token

# Reports are asked "by request time" unless a media offers other time lines (hourly reports of some).
DEFAULT_TIME_LINE = "REQUEST_TIME"
# The scale of a date `age` days old is 1 - REVISION_DEPTH * (revision_days - age) / revision_days.
REVISION_DEPTH = 0.3

_INDUSTRIES = (
    ("教育", "在线教育"),
    ("游戏", "休闲游戏"),
    ("电商", "综合电商"),
    ("金融", "保险"),
    ("汽车", "汽车厂商"),
    ("旅游", "在线旅游"),
    ("医疗健康", "医疗器械"),
    ("本地生活", "餐饮"),
)


class Atom(NamedTuple):
    """The finest metric grain: one ad, one hour, one site set, one time line."""

    date: str
    hour: int
    campaign_id: int
    adgroup_id: int
    ad_id: int
    site_set: str
    promoted_object_type: str
    promoted_object_id: str
    impression: int
    click: int
    cost: int  # fen
    conversion: int
    download: int
    activation: int


METRICS = ("impression", "click", "cost", "conversion", "download", "activation")


@dataclass(frozen=True, slots=True)
class Campaign:
    campaign_id: int
    name: str
    deleted: bool = False  # deleted since; its past spend stays in the media's data


@dataclass(frozen=True, slots=True)
class Adgroup:
    adgroup_id: int
    campaign_id: int
    name: str
    site_sets: tuple[str, ...]
    promoted_object_type: str
    promoted_object_id: str
    deleted: bool = False


@dataclass(frozen=True, slots=True)
class Ad:
    ad_id: int
    adgroup_id: int
    campaign_id: int
    name: str
    deleted: bool = False


@dataclass(frozen=True)
class Entities:
    """An account's ad hierarchy (a media may call them otherwise: one media's "ads" are adgroups)."""

    campaigns: tuple[Campaign, ...]
    adgroups: tuple[Adgroup, ...]
    ads: tuple[Ad, ...]

    def names(self) -> dict[tuple[str, int], str]:
        """(kind, id) -> name, for rows that show entity names."""
        result = {("campaign_id", c.campaign_id): c.name for c in self.campaigns}
        result.update({("adgroup_id", g.adgroup_id): g.name for g in self.adgroups})
        result.update({("ad_id", a.ad_id): a.name for a in self.ads})
        return result

    def deleted(self) -> dict[str, frozenset[int]]:
        """kind (`campaign_id`, `adgroup_id`, `ad_id`) -> the ids of its deleted entities."""
        return {
            "campaign_id": frozenset(c.campaign_id for c in self.campaigns if c.deleted),
            "adgroup_id": frozenset(g.adgroup_id for g in self.adgroups if g.deleted),
            "ad_id": frozenset(a.ad_id for a in self.ads if a.deleted),
        }


@dataclass(frozen=True)
class AccountInfo:
    """An account's static attributes (the same in every report and listing)."""

    media: str
    account_id: int
    name: str  # the account's name: its company plus a short code
    company: str  # the company (its corporation name)
    system_status: str  # CUSTOMER_STATUS_* (Tencent's spelling)
    status: str  # STATUS_* (Ocean Engine's spelling)
    daily_budget: int  # fen, 0 = unlimited
    industry_id: int
    first_industry_name: str
    second_industry_name: str
    create_time: str
    email: str
    wechat_account_id: str


class World:
    """Every tenant's world under one config; tenants are built on first use and cached.

    Args:
        config: the simulator config (profile, seed, revision days, clock).
        today: the simulator's today; default the config's pinned date or the real date in its
            time zone. The server passes its mutable clock so `/admin/clock` can move it.
    """

    def __init__(self, config: SimConfig, today: Callable[[], date] | None = None) -> None:
        self.config = config
        self.seed = config.seed
        self.profile = config.sizes
        self._today = today or default_today(config)
        self._rosters: dict[str, Roster] = {}
        self._lock = threading.Lock()
        self._entities = lru_cache(maxsize=65536)(self._build_entities)
        self._atoms = lru_cache(maxsize=8192)(self._build_atoms)
        self._scopes: dict[tuple[str, str, int], frozenset[int]] = {}

    # -- time ---------------------------------------------------------------------------------------

    def today(self) -> date:
        return self._today()

    def revision_factor(self, day: date) -> float:
        """1.0 for final dates; below 1.0 for dates younger than `revision_days`."""
        days = self.config.revision_days
        age = (self.today() - day).days
        if days <= 0 or age >= days:
            return 1.0
        return 1.0 - REVISION_DEPTH * (days - max(age, 0)) / days

    # -- who exists ---------------------------------------------------------------------------------

    def roster(self, tenant: str) -> Roster:
        tenant = tenant_alias(tenant)
        with self._lock:
            roster = self._rosters.get(tenant)
            if roster is None:
                roster = self._rosters[tenant] = build_roster(self.profile, self.seed, tenant)
            return roster

    def loaded_tenants(self) -> list[str]:
        with self._lock:
            return sorted(self._rosters)

    def agents(
        self, media: str, tenant: str, *, active_only: bool = True, tier: Tier | None = None
    ) -> list[Agent]:
        """A tenant's agents at `media` (optionally one tier), active ones only by default."""
        roster = self.roster(tenant).media[lookup(media).name]
        return [
            a for a in roster.agents if (a.active or not active_only) and (tier is None or a.tier == tier)
        ]

    def accounts(
        self,
        media: str,
        tenant: str,
        *,
        active_only: bool = True,
        tier: Tier | None = None,
        agent_id: int | None = None,
    ) -> list[tuple[int, int]]:
        """(account_id, agent_id) of a tenant's accounts at `media`, agent by agent.

        Only active agents' accounts by default (what the platform must fetch); `tier` FIRST
        gives first-tier agents' direct accounts, SECOND the second-tier agents' accounts.
        """
        media = lookup(media).name
        roster = self.roster(tenant).media[media]
        result = []
        for agent in self.agents(media, tenant, active_only=active_only, tier=tier):
            if agent_id is None or agent.agent_id == agent_id:
                result.extend((a.account_id, a.agent_id) for a in roster.accounts_by_agent[agent.agent_id])
        return result

    def account_count(self, media: str, tenant: str) -> int:
        """How many accounts the platform should find for a tenant at `media` (active agents only)."""
        return len(self.accounts(media, tenant))

    def find_account(self, media: str, tenant: str, account_id: int) -> Account | None:
        return self.roster(tenant).media[media].account_by_id.get(account_id)

    def find_agent(self, media: str, tenant: str, agent_id: int) -> Agent | None:
        return self.roster(tenant).media[media].agent_by_id.get(agent_id)

    def agent_accounts(self, media: str, tenant: str, agent_id: int) -> list[Account]:
        """An agent's own accounts (a first-tier agent: its direct accounts only), sorted by id."""
        roster = self.roster(tenant).media[media]
        return sorted(roster.accounts_by_agent.get(agent_id, []), key=lambda a: a.account_id)

    def child_agents(self, media: str, tenant: str, agent_id: int) -> list[Agent]:
        """A first-tier agent's second-tier agents, sorted by id (none without tiers)."""
        children = self.roster(tenant).media[lookup(media).name].children.get(agent_id, [])
        return sorted(children, key=lambda a: a.agent_id)

    def token_scope(self, media: str, tenant: str, agent_id: int) -> frozenset[int]:
        """The ids an agent's token may touch: itself and its accounts; a first-tier agent's
        token also covers its second-tier agents and their accounts."""
        media = lookup(media).name
        key = (media, tenant, agent_id)
        with self._lock:
            cached = self._scopes.get(key)
        if cached is not None:
            return cached
        roster = self.roster(tenant).media[media]
        scope = {agent_id, *(a.account_id for a in roster.accounts_by_agent.get(agent_id, []))}
        for child in roster.children.get(agent_id, []):
            scope.add(child.agent_id)
            scope.update(a.account_id for a in roster.accounts_by_agent[child.agent_id])
        frozen = frozenset(scope)
        with self._lock:
            self._scopes[key] = frozen
        return frozen

    def initial_tokens(self, media: str, tenant: str) -> dict[int, tuple[str, str]]:
        """agent id -> (access token, refresh token) as issued at start, for every agent."""
        media = lookup(media).name
        tenant = tenant_alias(tenant)
        return {
            a.agent_id: (
                mint_token(self.seed, media, tenant, a.agent_id, "access", 0),
                mint_token(self.seed, media, tenant, a.agent_id, "refresh", 0),
            )
            for a in self.agents(media, tenant, active_only=False)
        }

    # -- what an account holds ----------------------------------------------------------------------

    def account_info(self, media: str, account_id: int) -> AccountInfo:
        media = lookup(media).name
        h = stable_hash(self.seed, media, account_id, "info")
        first, second = _INDUSTRIES[h % len(_INDUSTRIES)]
        roll = (h >> 8) % 100
        created = datetime(2016, 1, 1) + timedelta(seconds=(h >> 16) % (4 * 365 * 86400))
        company = company_name(self.seed, media, account_id)
        code = f"{'abcdefghkmnpqrstwxyz'[(h >> 24) % 20]}{'lmnrstxyz'[(h >> 28) % 9]}{(h >> 32) % 10}"
        return AccountInfo(
            media=media,
            account_id=account_id,
            name=company + code,
            company=company,
            system_status=(
                "CUSTOMER_STATUS_NORMAL"
                if roll < 92
                else ("CUSTOMER_STATUS_FROZEN", "CUSTOMER_STATUS_SUSPEND", "CUSTOMER_STATUS_PENDING")[
                    roll % 3
                ]
            ),
            status="STATUS_ENABLE" if roll < 94 else ("STATUS_DISABLE", "STATUS_PENDING_VERIFIED")[roll % 2],
            daily_budget=0 if roll % 4 == 0 else 50_000 * (1 + (h >> 40) % 200),
            industry_id=21474836000 + h % 1000,
            first_industry_name=first,
            second_industry_name=second,
            create_time=created.strftime("%Y-%m-%d %H:%M:%S"),
            email=f"{'abcdefghkmnpqrstwxyz'[h % 20]}******{(h >> 5) % 10}@{'qs1y'[(h >> 9) % 4]}*******.com",
            wechat_account_id=f"gh_{h & 0xFFFFFFFFFFFF:012x}",
        )

    def entities(self, media: str, account_id: int) -> Entities:
        return self._entities(lookup(media).name, account_id)

    def spends(self, media: str, account_id: int, day: date) -> bool:
        """Whether the account was active that day (impressions, clicks or cost): never a dormant
        account (`dormant_share` of them), else about 1 - no_spend_rate of the others."""
        name = lookup(media).name
        if unit(self.seed, name, account_id, "dormant") < self.profile.dormant_share:
            return False
        return unit(self.seed, name, account_id, day, "spend") >= self.profile.no_spend_rate

    def shown_no_cost(self, media: str, account_id: int, day: date) -> bool:
        """Whether an active account was shown and clicked at no cost that day (`shown_no_cost_share`)."""
        share = self.profile.shown_no_cost_share
        return share > 0 and unit(self.seed, lookup(media).name, account_id, day, "no-cost") < share

    def atoms(self, media: str, account_id: int, day: date, time_line: str = DEFAULT_TIME_LINE) -> list[Atom]:
        """The account's hourly metric atoms for a day (empty for no-spend days and future dates)."""
        if day > self.today():
            return []
        return self._atoms(lookup(media).name, account_id, day, time_line, self.revision_factor(day))

    def daily_totals(self, media: str, account_id: int, day: date) -> dict[str, int]:
        """The account's metric totals for a day (REQUEST_TIME), all zero on no-spend days."""
        totals = dict.fromkeys(METRICS, 0)
        for atom in self.atoms(media, account_id, day):
            for metric in METRICS:
                totals[metric] += getattr(atom, metric)
        return totals

    # -- funds --------------------------------------------------------------------------------------

    def funds(self, media: str, account_id: int, day: date | None = None) -> list[dict]:
        """The records the media's funds endpoint answers for an account (its `WorldSpec.funds`)."""
        spec = lookup(media)
        return spec.world.funds(self, spec.name, account_id, day or self.today())

    def funds_records(self, media: str, account_id: int, day: date | None = None) -> int:
        """How many records a funds call returns for the account."""
        return len(self.funds(media, account_id, day))

    # -- builders (cached) --------------------------------------------------------------------------

    def _build_entities(self, media: str, account_id: int) -> Entities:
        sizes = self.profile.entities
        facts = lookup(media).world
        used: set[int] = set()

        def draw(kind: str, *key: object) -> int:
            low, high = facts.entity_ids[kind]
            salt = 0
            while True:
                value = low + stable_hash(self.seed, media, account_id, kind, *key, salt) % (high - low + 1)
                if value not in used:
                    used.add(value)
                    return value
                salt += 1

        def count(bounds: tuple[int, int], *key: object) -> int:
            low, high = bounds
            return low + stable_hash(self.seed, media, account_id, "count", *key) % (high - low + 1)

        def deleted(entity_id: int) -> bool:
            return unit(self.seed, media, entity_id, "deleted") < sizes.deleted_share

        campaigns, adgroups, ads = [], [], []
        for c in range(count(sizes.campaigns, "campaigns")):
            campaign_id = draw("campaign", c)
            campaigns.append(
                Campaign(campaign_id, f"计划{c + 1}-{campaign_id % 10000:04d}", deleted(campaign_id))
            )
            for g in range(count(sizes.adgroups, "adgroups", c)):
                adgroup_id = draw("adgroup", c, g)
                site_pool = facts.site_sets
                start = stable_hash(self.seed, media, adgroup_id, "sites")
                n_sites = 1 + start % min(2, len(site_pool))
                site_sets = tuple(sorted(site_pool[(start + k) % len(site_pool)] for k in range(n_sites)))
                po_type = facts.promoted_object_types[start % len(facts.promoted_object_types)]
                adgroups.append(
                    Adgroup(
                        adgroup_id,
                        campaign_id,
                        f"广告组{c + 1}-{g + 1}",
                        site_sets,
                        po_type,
                        str(1_100_000_000 + (start >> 16) % 900_000_000),
                        deleted(adgroup_id),
                    )
                )
                for a in range(count(sizes.ads, "ads", c, g)):
                    ad_id = draw("ad", c, g, a)
                    ads.append(
                        Ad(ad_id, adgroup_id, campaign_id, f"广告{c + 1}-{g + 1}-{a + 1}", deleted(ad_id))
                    )
        return Entities(tuple(campaigns), tuple(adgroups), tuple(ads))

    def _build_atoms(
        self, media: str, account_id: int, day: date, time_line: str, factor: float
    ) -> list[Atom]:
        if not self.spends(media, account_id, day):
            return []
        entities = self.entities(media, account_id)
        free = self.shown_no_cost(media, account_id, day)
        groups = {g.adgroup_id: g for g in entities.adgroups}
        hours_per_ad = self.profile.entities.active_hours
        text_day = day.isoformat()
        atoms = []
        for ad in entities.ads:
            group = groups[ad.adgroup_id]
            hours = sorted(
                sorted(
                    range(24), key=lambda hour: stable_hash(self.seed, media, ad.ad_id, day, "hour", hour)
                )[:hours_per_ad]
            )
            for hour in hours:
                for site_set in group.site_sets:
                    base = stable_hash(self.seed, media, ad.ad_id, day, hour, site_set)
                    impression = 50 + base % 3000
                    ctr = 0.005 + ((base >> 16) % 1000) / 1000 * 0.045
                    click = max(1, int(impression * ctr))
                    cost = 0 if free else max(100, click * (30 + (base >> 32) % 270))
                    tl = stable_hash(self.seed, media, ad.ad_id, day, hour, site_set, time_line)
                    conversion = int(click * (0.02 + (tl % 1000) / 1000 * 0.13))
                    download = int(click * (0.05 + ((tl >> 16) % 1000) / 1000 * 0.2))
                    activation = int(download * (0.3 + ((tl >> 32) % 1000) / 1000 * 0.5))
                    atoms.append(
                        Atom(
                            text_day,
                            hour,
                            ad.campaign_id,
                            ad.adgroup_id,
                            ad.ad_id,
                            site_set,
                            group.promoted_object_type,
                            group.promoted_object_id,
                            int(impression * factor),
                            int(click * factor),
                            int(cost * factor),
                            int(conversion * factor),
                            int(download * factor),
                            int(activation * factor),
                        )
                    )
        return atoms


def default_today(config: SimConfig) -> Callable[[], date]:
    """The config's pinned date, or a function giving the real date in the config's time zone."""
    pinned = config.clock.today
    if pinned is not None:
        return lambda: pinned
    zone = ZoneInfo(config.clock.timezone)
    return lambda: datetime.now(zone).date()


def fund_records(world: World, media: str, account_id: int, day: date, time_line: str) -> int:
    """`Records` of a funds endpoint: the media's fund records of the account that day."""
    return len(world.funds(media, account_id, day))


def atom_records(world: World, media: str, account_id: int, day: date, time_line: str) -> int:
    """`Records` of a report endpoint: the metric atoms it groups (every level groups the same
    atoms, so an account has report rows at any level exactly when it has atoms)."""
    return len(world.atoms(media, account_id, day, time_line))
